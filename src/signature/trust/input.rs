//! Format-neutral validation input (DESIGN.md "two stages"; EN 319 102-1 §5.1.2 "signature
//! validation input"): what the validation needs from any format, whatever the format module
//! (XAdES, CAdES, PAdES, ASiC) that established it. Each format has one `From` adapter here
//! (XML evidence, CMS evidence); its report builder stores the input in
//! `SignatureReport::validation_input` for [`super::validate_report`].

use crate::signature::cms::evidence::Evidence as CmsEvidence;
use crate::signature::report::Signer;
use crate::signature::xml::evidence::{Evidence as XmlEvidence, Failure as XmlFailure};
use chrono::{DateTime, Utc};

/// Why the format module already ruled out a pass: the validation keeps its verdict (EN 319
/// 102-1 §5.2.2–§5.2.7 come before certificate validation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntegrityVerdict {
    /// `TOTAL_FAILED` or `INDETERMINATE`.
    pub indication: String,
    /// The format's sub-indication (`HASH_FAILURE`, `SIG_CRYPTO_FAILURE`, ...).
    pub sub_indication: String,
}

/// A time at which the signature provably existed (EN 319 102-1 §5.6.2.3 proof of existence),
/// typically the genTime of a verified signature time-stamp (RFC 3161).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofOfExistence {
    /// The time.
    pub time: DateTime<Utc>,
    /// The TSA certificate (DER), when the format module has it.
    pub tsa_certificate: Option<Vec<u8>>,
}

/// What validation needs about one signature.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ValidationInput {
    /// `None` when the signature is intact (every digest, the value and the signing-certificate
    /// binding verify); else the format's verdict, which stands.
    pub integrity: Option<IntegrityVerdict>,
    /// DER of the signing certificate.
    pub signing_certificate: Option<Vec<u8>>,
    /// DER of every other certificate the signature carries.
    pub certificates: Vec<Vec<u8>>,
    /// The claimed signing time (not a proof: EN 319 102-1 §5.6.2.4).
    pub signing_time: Option<DateTime<Utc>>,
    /// Verified time-stamp times over the signature value.
    pub proofs_of_existence: Vec<ProofOfExistence>,
    /// DER CRLs embedded in the signature (RFC 5280 §5).
    pub crls: Vec<Vec<u8>>,
    /// DER OCSP responses embedded in the signature (RFC 6960 §4.2).
    pub ocsp_responses: Vec<Vec<u8>>,
    /// The citizen named inside the signed data (podpis zaufany `PodpisZP`, `EPSignature`, PDF
    /// `/Reason`); `None` when the signature names no one beyond its certificate.
    pub claimed_signer: Option<Signer>,
}

impl ValidationInput {
    /// The earliest proof of existence (the best-signature-time of EN 319 102-1 §5.6.2.4).
    pub fn best_signature_time(&self) -> Option<DateTime<Utc>> {
        self.proofs_of_existence.iter().map(|p| p.time).min()
    }
}

/// Parses an RFC 3339 time (as the evidence writes them) into UTC.
pub fn parse_time(t: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(t.trim())
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

fn xml_verdict(ev: &XmlEvidence) -> Option<IntegrityVerdict> {
    let (indication, sub) = match ev.failure {
        None if ev.manifest_data_missing => ("INDETERMINATE", "SIGNED_DATA_NOT_FOUND"),
        None => return None,
        Some(XmlFailure::Format) => ("TOTAL_FAILED", "FORMAT_FAILURE"),
        Some(XmlFailure::Hash) => ("TOTAL_FAILED", "HASH_FAILURE"),
        Some(XmlFailure::Crypto) => ("TOTAL_FAILED", "SIG_CRYPTO_FAILURE"),
        Some(XmlFailure::SigningCertificate) => ("INDETERMINATE", "NO_SIGNING_CERTIFICATE_FOUND"),
        Some(XmlFailure::SignedDataNotFound) => ("INDETERMINATE", "SIGNED_DATA_NOT_FOUND"),
        Some(XmlFailure::Unsupported) => ("INDETERMINATE", "FORMAT_FAILURE"),
    };
    Some(IntegrityVerdict {
        indication: indication.into(),
        sub_indication: sub.into(),
    })
}

/// The XAdES / XML-DSig adapter.
impl From<&XmlEvidence> for ValidationInput {
    fn from(ev: &XmlEvidence) -> Self {
        let claimed_signer = ev
            .trusted_profile
            .as_ref()
            .and_then(|pz| crate::signature::xml::certinfo::signer(None, Some(pz)));
        ValidationInput {
            integrity: xml_verdict(ev),
            signing_certificate: ev.signing_certificate.clone(),
            certificates: ev.certificates.clone(),
            signing_time: ev.signing_time.as_deref().and_then(parse_time),
            // Only a token whose own signature verifies proves existence (EN 319 102-1
            // §5.6.2.3); the TSA certificate comes along for the supporting-service check.
            proofs_of_existence: ev
                .verified_timestamps
                .iter()
                .filter_map(|(t, tsa)| {
                    Some(ProofOfExistence {
                        time: parse_time(t)?,
                        tsa_certificate: tsa.clone(),
                    })
                })
                .collect(),
            crls: ev.crls.clone(),
            ocsp_responses: ev.ocsp_responses.clone(),
            claimed_signer,
        }
    }
}

/// The CAdES / PAdES / S/MIME adapter: a verified time-stamp token whose imprint matches is a
/// proof of existence (signature, document and archive time-stamps alike: each covers the
/// signature value or the revision holding it).
impl From<&CmsEvidence> for ValidationInput {
    fn from(ev: &CmsEvidence) -> Self {
        let (indication, sub) = crate::signature::cms::report::indication(ev);
        let intact = ev.failure.is_none() && !ev.modified_after_signing;
        ValidationInput {
            integrity: (!intact).then(|| IntegrityVerdict {
                indication: indication.into(),
                sub_indication: sub.into(),
            }),
            signing_certificate: ev.signing_certificate.clone(),
            certificates: ev.certificates.clone(),
            signing_time: ev.signing_time.as_deref().and_then(parse_time),
            proofs_of_existence: ev
                .timestamps
                .iter()
                .filter(|t| t.intact && t.imprint_matches == Some(true))
                .filter_map(|t| {
                    Some(ProofOfExistence {
                        time: parse_time(t.time.as_deref()?)?,
                        tsa_certificate: t.tsa_certificate.clone(),
                    })
                })
                .collect(),
            crls: ev.crls.clone(),
            ocsp_responses: ev.ocsp_responses.clone(),
            claimed_signer: ev.claimed_signer.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_intact_xml_signature_carries_no_integrity_verdict() {
        let ev = XmlEvidence {
            signing_time: Some("2020-04-20T10:11:12Z".into()),
            timestamp_time: Some("2020-04-20T10:11:14Z".into()),
            verified_timestamps: vec![("2020-04-20T10:11:14Z".into(), None)],
            ..XmlEvidence::default()
        };
        let input = ValidationInput::from(&ev);
        assert_eq!(input.integrity, None);
        assert_eq!(
            input.best_signature_time(),
            parse_time("2020-04-20T10:11:14Z")
        );
        // A token whose own signature was not verified is no proof of existence.
        let unverified = XmlEvidence {
            verified_timestamps: Vec::new(),
            ..ev
        };
        assert_eq!(
            ValidationInput::from(&unverified).best_signature_time(),
            None
        );
    }

    #[test]
    fn a_broken_xml_signature_keeps_the_format_verdict() {
        let ev = XmlEvidence {
            failure: Some(XmlFailure::Hash),
            ..XmlEvidence::default()
        };
        let v = ValidationInput::from(&ev).integrity.unwrap();
        assert_eq!(
            (v.indication.as_str(), v.sub_indication.as_str()),
            ("TOTAL_FAILED", "HASH_FAILURE")
        );
    }
}
