//! The kind of a valid signature (DESIGN.md "Classification"): `qes` and `qualified_seal`
//! from the qualification (TS 119 615 §4.4: qualified, for eSig / eSeal, with a QSCD), and the
//! Polish kinds: `trusted_profile` (podpis zaufany: the Minister's seal, recognised by
//! configured subject attributes, with the citizen named in the signed data) and `personal`
//! (podpis osobisty: a path to the pinned `pl.ID Root CA`); otherwise `advanced`.

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
    // Compared as bytes: no hex text is written per certificate and validation.
    let pinned = |c: &X509| {
        let Ok(h) = c.digest(openssl::hash::MessageDigest::sha256()) else {
            return false;
        };
        settings
            .personal_root_sha256
            .iter()
            .any(|p| hex_equals(p, &h))
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

/// Whether the hex text `hex` (either case) spells `bytes`.
fn hex_equals(hex: &str, bytes: &[u8]) -> bool {
    hex.len() == 2 * bytes.len()
        && hex.as_bytes().chunks(2).zip(bytes).all(|(pair, b)| {
            let digit = |c: u8| char::from(c).to_digit(16);
            match pair {
                [hi, lo] => digit(*hi)
                    .zip(digit(*lo))
                    .is_some_and(|(h, l)| h * 16 + l == u32::from(*b)),
                _ => false,
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compares_a_pinned_hash_in_either_case() {
        assert!(hex_equals("0aFf", &[0x0a, 0xff]));
        assert!(!hex_equals("0aff00", &[0x0a, 0xff]));
        assert!(!hex_equals("0afe", &[0x0a, 0xff]));
        assert!(!hex_equals("+aff", &[0x0a, 0xff]));
    }
}
