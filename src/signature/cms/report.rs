//! From [`Evidence`] to the report contract of DESIGN.md ("The verification report"), with the
//! integrity-stage indications of EN 319 102-1 §5.1.3: without trust anchors an intact
//! signature is INDETERMINATE / NO_CERTIFICATE_CHAIN_FOUND, never TOTAL_PASSED (the same rule
//! and mapping as the XML verifier).

use super::certs;
use super::evidence::{Evidence, Failure};
use crate::signature::report::{SignatureReport, SignedData, Signer};

/// EN 319 102-1 §5.1.3 indications, for the integrity stage only. A PDF signature whose
/// revision was modified afterwards is intact but fails (EN 319 142-1 §5.3; DSS reports such
/// files TOTAL_FAILED / FORMAT_FAILURE): see [`Evidence::modified_after_signing`].
pub fn indication(ev: &Evidence) -> (&'static str, &'static str) {
    match ev.failure {
        None if ev.modified_after_signing => ("TOTAL_FAILED", "FORMAT_FAILURE"),
        None => ("INDETERMINATE", "NO_CERTIFICATE_CHAIN_FOUND"),
        Some(Failure::Format) => ("TOTAL_FAILED", "FORMAT_FAILURE"),
        Some(Failure::Hash) => ("TOTAL_FAILED", "HASH_FAILURE"),
        Some(Failure::Crypto) => ("TOTAL_FAILED", "SIG_CRYPTO_FAILURE"),
        Some(Failure::SigningCertificate) => ("INDETERMINATE", "NO_SIGNING_CERTIFICATE_FOUND"),
        Some(Failure::SignedDataNotFound) => ("INDETERMINATE", "SIGNED_DATA_NOT_FOUND"),
        Some(Failure::Unsupported) => ("INDETERMINATE", "FORMAT_FAILURE"),
    }
}

/// The report entry of one signature. `intact` is the evidence's integrity: the content
/// digest, the value and the certificate binding (a PDF modified after signing stays intact
/// but fails, see [`indication`]).
pub fn signature_report(ev: &Evidence) -> SignatureReport {
    let (indication, sub) = indication(ev);
    let cert = ev.signing_certificate.as_deref();
    SignatureReport {
        id: ev.id.clone(),
        format: ev.format.clone(),
        level: ev.level.clone(),
        checked: true,
        intact: Some(ev.intact()),
        indication: Some(indication.to_string()),
        sub_indication: Some(sub.to_string()),
        kind: "unknown".to_string(),
        signer: signer(cert, ev.claimed_signer.as_ref()),
        signing_time: ev.signing_time.clone(),
        timestamp_time: ev.timestamp_time.clone(),
        certificate: cert.and_then(certs::certificate_info),
        signed_data: ev
            .scope
            .iter()
            .map(|s| SignedData {
                name: s.name.clone(),
                sha256: s.sha256.clone(),
                whole_file: s.whole_file,
            })
            .collect(),
        warnings: ev.warnings.clone(),
        errors: ev.errors.clone(),
        ..SignatureReport::default()
    }
}

/// The certificate's subject, overridden by an identity claimed in the signed document
/// (podpis zaufany: the seal is the Minister's, the citizen is named in `/Reason`).
fn signer(cert: Option<&[u8]>, claimed: Option<&Signer>) -> Option<Signer> {
    let mut s = cert.and_then(certs::signer);
    if let Some(c) = claimed {
        let base = s.get_or_insert_with(Signer::default);
        base.name = c.name.clone().or(base.name.take());
        base.given_name = c.given_name.clone().or(base.given_name.take());
        base.surname = c.surname.clone().or(base.surname.take());
        base.pesel = c.pesel.clone().or(base.pesel.take());
    }
    s
}
