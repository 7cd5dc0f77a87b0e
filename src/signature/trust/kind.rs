//! The kind of a valid signature (DESIGN.md "Classification"): `qes` and `qualified_seal`
//! from the qualification (TS 119 615 §4.4: qualified, for eSig / eSeal, with a QSCD), and the
//! Polish kinds: `trusted_profile` (podpis zaufany: the Minister's seal, recognised by
//! configured subject attributes, with the citizen named in the signed data) and `personal`
//! (podpis osobisty: a path to the pinned `pl.ID Root CA`); otherwise `advanced`.

use super::cert::sha256_hex;
use super::input::ValidationInput;
use super::qualify::{QcType, Qualification};
use super::store::KindSettings;
use openssl::x509::{X509NameRef, X509};

/// The kind of a signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Qualified electronic signature.
    Qes,
    /// Qualified electronic seal.
    QualifiedSeal,
    /// Podpis zaufany.
    TrustedProfile,
    /// Podpis osobisty.
    Personal,
    /// Valid, not qualified.
    Advanced,
    /// Not valid (or not established).
    Unknown,
}

impl Kind {
    /// The report's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Qes => "qes",
            Kind::QualifiedSeal => "qualified_seal",
            Kind::TrustedProfile => "trusted_profile",
            Kind::Personal => "personal",
            Kind::Advanced => "advanced",
            Kind::Unknown => "unknown",
        }
    }
}

/// Whether every configured attribute is in the subject (names as openssl spells them,
/// short or long: `organizationIdentifier`, `O`, `CN`).
pub fn subject_matches(subject: &X509NameRef, wanted: &[(String, String)]) -> bool {
    !wanted.is_empty()
        && wanted.iter().all(|(k, v)| {
            subject.entries().any(|e| {
                let nid = e.object().nid();
                let named = nid.short_name().ok() == Some(k.as_str())
                    || nid.long_name().ok() == Some(k.as_str());
                named && e.data().to_string().ok().as_deref() == Some(v.as_str())
            })
        })
}

/// Decides the kind of a valid signature whose path is `chain` (leaf first).
pub fn decide(
    chain: &[X509],
    q: Option<&Qualification>,
    input: &ValidationInput,
    settings: &KindSettings,
    warnings: &mut Vec<String>,
) -> Kind {
    let Some(leaf) = chain.first() else {
        return Kind::Unknown;
    };
    if subject_matches(leaf.subject_name(), &settings.trusted_profile_subject) {
        if input.claimed_signer.is_some() {
            return Kind::TrustedProfile;
        }
        warnings.push(
            "signed with the podpis zaufany seal, but no citizen is named in the signature".into(),
        );
    }
    let pinned = |c: &X509| {
        let h = sha256_hex(c);
        settings
            .personal_root_sha256
            .iter()
            .any(|p| p.eq_ignore_ascii_case(&h))
    };
    if chain.iter().any(pinned) {
        return Kind::Personal;
    }
    match q {
        Some(q) if q.qualified && q.qscd && q.qc_type == Some(QcType::ESig) => Kind::Qes,
        Some(q) if q.qualified && q.qscd && q.qc_type == Some(QcType::ESeal) => Kind::QualifiedSeal,
        Some(q) if q.qualified => {
            warnings
                .push("qualified certificate without a qualified signature creation device".into());
            Kind::Advanced
        }
        _ => Kind::Advanced,
    }
}
