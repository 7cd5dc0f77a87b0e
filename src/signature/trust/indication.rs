//! The verdict vocabulary of ETSI EN 319 102-1 §5.1.3: main indications and the
//! sub-indications this module produces (names as in the standard and in DESIGN.md).

/// EN 319 102-1 §5.1.3 main indication.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Indication {
    /// Every check passed.
    TotalPassed,
    /// A check failed for good.
    TotalFailed,
    /// Not enough to conclude.
    Indeterminate,
}

impl Indication {
    /// The standard's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Indication::TotalPassed => "TOTAL_PASSED",
            Indication::TotalFailed => "TOTAL_FAILED",
            Indication::Indeterminate => "INDETERMINATE",
        }
    }
}

/// EN 319 102-1 §5.1.3 sub-indications produced by the validation stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubIndication {
    /// No path from the signing certificate to a trust anchor.
    NoCertificateChainFound,
    /// The path is broken (a signature or a structure in it does not verify).
    CertificateChainGeneralFailure,
    /// Basic constraints, path length or key usage of the path violated.
    ChainConstraintsFailure,
    /// An algorithm or key size no longer reliable at the time it had to be.
    CryptoConstraintsFailure,
    /// The signing certificate expired before the proof of existence of the signature.
    Expired,
    /// The signing certificate is not valid yet.
    NotYetValid,
    /// Expired at validation time, no proof of existence before expiry.
    OutOfBoundsNoPoe,
    /// Expired at validation time, known not revoked, no proof of existence.
    OutOfBoundsNotRevoked,
    /// Revoked before the proof of existence of the signature.
    Revoked,
    /// Revoked, and no proof that the signature existed before.
    RevokedNoPoe,
    /// A CA of the path is revoked, and no proof that the signature existed before.
    RevokedCaNoPoe,
    /// No revocation information for the signing certificate.
    TryLater,
}

impl SubIndication {
    /// The standard's name.
    pub fn as_str(self) -> &'static str {
        use SubIndication::*;
        match self {
            NoCertificateChainFound => "NO_CERTIFICATE_CHAIN_FOUND",
            CertificateChainGeneralFailure => "CERTIFICATE_CHAIN_GENERAL_FAILURE",
            ChainConstraintsFailure => "CHAIN_CONSTRAINTS_FAILURE",
            CryptoConstraintsFailure => "CRYPTO_CONSTRAINTS_FAILURE",
            Expired => "EXPIRED",
            NotYetValid => "NOT_YET_VALID",
            OutOfBoundsNoPoe => "OUT_OF_BOUNDS_NO_POE",
            OutOfBoundsNotRevoked => "OUT_OF_BOUNDS_NOT_REVOKED",
            Revoked => "REVOKED",
            RevokedNoPoe => "REVOKED_NO_POE",
            RevokedCaNoPoe => "REVOKED_CA_NO_POE",
            TryLater => "TRY_LATER",
        }
    }

    /// The main indication that goes with it (EN 319 102-1 Table 5 and Table 6).
    pub fn indication(self) -> Indication {
        use SubIndication::*;
        match self {
            Expired | NotYetValid | Revoked => Indication::TotalFailed,
            _ => Indication::Indeterminate,
        }
    }
}

/// A verdict: the main indication and, unless passed, why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// Main indication.
    pub indication: Indication,
    /// Sub-indication (`None` only when passed).
    pub sub: Option<SubIndication>,
}

impl Verdict {
    /// TOTAL_PASSED.
    pub const PASSED: Verdict = Verdict {
        indication: Indication::TotalPassed,
        sub: None,
    };

    /// The verdict a sub-indication implies.
    pub fn of(sub: SubIndication) -> Verdict {
        Verdict {
            indication: sub.indication(),
            sub: Some(sub),
        }
    }
}
