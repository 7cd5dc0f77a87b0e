//! Format-neutral evidence for one CMS signature (DESIGN.md "two stages": what the format
//! module establishes before any trust decision). It mirrors the XML verifier's `Evidence`
//! (same [`Failure`] ranks, same report mapping) so both halves report alike.

use crate::signature::report::Signer;

/// Why a signature is not intact, most serious first (EN 319 102-1 §5.2 sub-indications).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Failure {
    /// Structure broken or ambiguous (FORMAT_FAILURE).
    Format,
    /// The content digest does not match (HASH_FAILURE).
    Hash,
    /// The signature value does not verify (SIG_CRYPTO_FAILURE).
    Crypto,
    /// No certificate verifies the signature, or the one that does is not the one the signed
    /// attributes name (NO_SIGNING_CERTIFICATE_FOUND).
    SigningCertificate,
    /// Signed data missing (SIGNED_DATA_NOT_FOUND).
    SignedDataNotFound,
    /// An algorithm we do not implement (INDETERMINATE / FORMAT_FAILURE).
    Unsupported,
}

/// One covered object (EN 319 102-1 "signed scope").
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scope {
    /// File name.
    pub name: String,
    /// SHA-256 of the covered bytes.
    pub sha256: Option<String>,
    /// Whether the whole file (or the whole revision, for a PDF) is covered.
    pub whole_file: bool,
}

/// A time-stamp token found on a signature (RFC 3161; EN 319 122-1 §5.3, §5.5.3).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TimeStamp {
    /// `SignatureTimeStamp`, `ContentTimeStamp`, `ArchiveTimeStamp`, `DocumentTimeStamp`.
    pub kind: String,
    /// TSTInfo genTime (RFC 3339).
    pub time: Option<String>,
    /// The token's own signature, content digest and TSA certificate binding verify.
    pub intact: bool,
    /// The message imprint matches the time-stamped data (`None`: not checked).
    pub imprint_matches: Option<bool>,
    /// The TSA certificate (DER).
    pub tsa_certificate: Option<Vec<u8>>,
    /// What is wrong with it.
    pub errors: Vec<String>,
}

/// Everything the CMS module establishes about one signature.
#[derive(Debug, Clone, Default)]
pub struct Evidence {
    /// `S1`, `S2`... in document order.
    pub id: String,
    /// `CAdES`, `PAdES`, `S/MIME`.
    pub format: String,
    /// The signature value verified with the signing certificate's key.
    pub value_intact: bool,
    /// The content digest matched (`None`: the content was not available).
    pub content_intact: Option<bool>,
    /// The certificate that verified matches signingCertificate(V2); `None` if none is named.
    pub signing_certificate_bound: Option<bool>,
    /// The most serious failure, if any.
    pub failure: Option<Failure>,
    /// A PDF revision signed by this signature was changed afterwards beyond what
    /// EN 319 142-1 §5.4 allows (DSS/VRI, document time-stamps, form filling): the signature
    /// stays intact but cannot pass.
    pub modified_after_signing: bool,
    /// DER of the certificate whose key verified the signature (or the one the sid names).
    pub signing_certificate: Option<Vec<u8>>,
    /// DER of every other certificate in the SignedData.
    pub certificates: Vec<Vec<u8>>,
    /// Revocation data embedded (SignedData crls, revocationValues, a PDF DSS).
    pub revocation_data: bool,
    /// DER CRLs embedded (SignedData crls, revocationValues crlVals,
    /// adbe-revocationInfoArchival).
    pub crls: Vec<Vec<u8>>,
    /// DER OCSPResponses embedded (SignedData crls as id-ri-ocsp-response, revocationValues
    /// ocspVals wrapped as OCSPResponse, adbe-revocationInfoArchival).
    pub ocsp_responses: Vec<Vec<u8>>,
    /// Claimed signing time (RFC 3339).
    pub signing_time: Option<String>,
    /// Earliest intact signature time-stamp over this signature value (RFC 3339).
    pub timestamp_time: Option<String>,
    /// Every time-stamp token found.
    pub timestamps: Vec<TimeStamp>,
    /// Signer identity claimed inside the signed document (podpis zaufany `/Reason`).
    pub claimed_signer: Option<Signer>,
    /// Covered objects.
    pub scope: Vec<Scope>,
    /// `B-B`, `B-T`, `B-LT`, `B-LTA`.
    pub level: Option<String>,
    /// Non-fatal observations.
    pub warnings: Vec<String>,
    /// Reasons for failure.
    pub errors: Vec<String>,
}

impl Evidence {
    /// The content digest, the value and the signing-certificate binding verify.
    pub fn intact(&self) -> bool {
        self.failure.is_none()
    }

    /// Records a failure, keeping the most serious one.
    pub fn fail(&mut self, failure: Failure, message: impl Into<String>) {
        self.failure = Some(self.failure.map_or(failure, |f| f.min(failure)));
        self.errors.push(message.into());
    }

    /// EN 319 122-1 §6 / EN 319 142-1 §6: B-T adds a signature time-stamp, B-LT the
    /// validation data (certificates and revocation values), B-LTA an archive (or document)
    /// time-stamp over them.
    pub fn decide_level(&mut self) {
        let t = self
            .timestamps
            .iter()
            .any(|t| t.kind == "SignatureTimeStamp" && t.imprint_matches == Some(true));
        let lt = t && self.revocation_data;
        // An archive or document time-stamp whose token verifies and whose imprint, where it
        // is checked (archive-time-stamp-v3, document time-stamps), matches.
        let lta = self.timestamps.iter().any(|t| {
            (t.kind == "ArchiveTimeStamp" || t.kind == "DocumentTimeStamp")
                && t.intact
                && t.imprint_matches != Some(false)
        });
        self.level = Some(
            match (t, lt, lta) {
                (true, true, true) => "B-LTA",
                (true, true, false) => "B-LT",
                (true, false, _) => "B-T",
                _ => "B-B",
            }
            .to_string(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_most_serious_failure() {
        let mut ev = Evidence::default();
        assert!(ev.intact());
        ev.fail(Failure::Crypto, "value");
        ev.fail(Failure::Hash, "digest");
        ev.fail(Failure::Unsupported, "alg");
        assert_eq!(ev.failure, Some(Failure::Hash));
        assert_eq!(ev.errors.len(), 3);
    }

    #[test]
    fn a_time_stamp_and_revocation_data_make_b_lt() {
        let mut ev = Evidence {
            revocation_data: true,
            timestamps: vec![TimeStamp {
                kind: "SignatureTimeStamp".into(),
                imprint_matches: Some(true),
                ..TimeStamp::default()
            }],
            ..Evidence::default()
        };
        ev.decide_level();
        assert_eq!(ev.level.as_deref(), Some("B-LT"));
    }
}
