//! Certificate summaries for the report (DESIGN.md "The verification report"): subject, issuer,
//! serial, SHA-256, validity in RFC 3339, and the signer's name attributes (RFC 5280 §4.1.2.6,
//! ETSI EN 319 412-1 §5.1.3 `PNOPL-` semantics identifiers).

use super::dsig::{hex, sha256_hex};
use super::xades::TrustedProfileIdentity;
use crate::signature::report::{CertificateInfo, Signer};
use openssl::asn1::{Asn1Time, Asn1TimeRef};
use openssl::nid::Nid;
use openssl::x509::{X509NameRef, X509};

/// A distinguished name as `CN=..., O=..., C=...` in certificate order.
pub fn name_to_string(name: &X509NameRef) -> String {
    name.entries()
        .map(|e| {
            let key = e.object().nid().short_name().unwrap_or("?").to_string();
            let value = e.data().to_string().unwrap_or_default();
            format!("{key}={value}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// An ASN.1 time in RFC 3339 (UTC).
pub fn rfc3339(t: &Asn1TimeRef) -> String {
    let epoch = Asn1Time::from_unix(0).ok();
    let diff = epoch.and_then(|e| e.diff(t).ok());
    diff.and_then(|d| {
        let secs = i64::from(d.days) * 86_400 + i64::from(d.secs);
        chrono::DateTime::from_timestamp(secs, 0)
    })
    .map(|dt| dt.format("%Y-%m-%dT%H:%M:%SZ").to_string())
    .unwrap_or_default()
}

/// The report's summary of a DER certificate.
pub fn certificate_info(der: &[u8]) -> Option<CertificateInfo> {
    let cert = crate::signature::decoded::certificate(der)?;
    Some(certificate_info_of(&cert, der))
}

/// The report's summary of a certificate already parsed from `der`.
pub fn certificate_info_of(cert: &X509, der: &[u8]) -> CertificateInfo {
    let serial = cert
        .serial_number()
        .to_bn()
        .ok()
        .map(|b| hex(&b.to_vec()))
        .unwrap_or_default();
    CertificateInfo {
        subject: name_to_string(cert.subject_name()),
        issuer: name_to_string(cert.issuer_name()),
        serial,
        sha256: sha256_hex(der).unwrap_or_default(),
        not_before: rfc3339(cert.not_before()),
        not_after: rfc3339(cert.not_after()),
        qualified: None,
    }
}

fn entry(name: &X509NameRef, nid: Nid) -> Option<String> {
    name.entries_by_nid(nid)
        .next()
        .and_then(|e| e.data().to_string().ok())
}

/// The PESEL in a subject serialNumber: `PNOPL-<PESEL>` or the older `PESEL:<PESEL>`.
pub fn pesel_from_serial(serial: &str) -> Option<String> {
    let digits = serial
        .strip_prefix("PNOPL-")
        .or_else(|| serial.strip_prefix("PESEL:"))?
        .trim();
    (digits.len() == 11 && digits.bytes().all(|b| b.is_ascii_digit())).then(|| digits.to_string())
}

/// The signer: from the certificate subject, overridden by a podpis zaufany identity (where
/// the certificate is the Minister's seal and the citizen is named in the signed properties).
pub fn signer(der: Option<&[u8]>, pz: Option<&TrustedProfileIdentity>) -> Option<Signer> {
    let cert = der.and_then(crate::signature::decoded::certificate);
    signer_of(cert.as_ref(), pz)
}

/// [`signer`] for a certificate already parsed.
pub fn signer_of(cert: Option<&X509>, pz: Option<&TrustedProfileIdentity>) -> Option<Signer> {
    let mut s = Signer::default();
    if let Some(cert) = cert {
        let subject = cert.subject_name();
        s.name = entry(subject, Nid::COMMONNAME);
        s.given_name = entry(subject, Nid::GIVENNAME);
        s.surname = entry(subject, Nid::SURNAME);
        s.serial_number = entry(subject, Nid::SERIALNUMBER);
        s.pesel = s.serial_number.as_deref().and_then(pesel_from_serial);
        s.organization = entry(subject, Nid::ORGANIZATIONNAME);
        s.email = entry(subject, Nid::PKCS9_EMAILADDRESS);
    }
    if let Some(pz) = pz {
        s.given_name = pz.given_name.clone();
        s.surname = pz.surname.clone();
        s.pesel = pz.pesel.clone();
        s.epuap_account = pz.epuap_account.clone();
        let full = [pz.given_name.as_deref(), pz.surname.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        s.name = (!full.is_empty()).then_some(full);
    }
    (cert.is_some() || pz.is_some()).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_pesel_from_both_serial_number_forms() {
        assert_eq!(
            pesel_from_serial("PNOPL-44051401458").as_deref(),
            Some("44051401458")
        );
        assert_eq!(
            pesel_from_serial("PESEL:44051401458").as_deref(),
            Some("44051401458")
        );
        assert_eq!(pesel_from_serial("PASPL-AB123"), None);
    }

    #[test]
    fn prefers_the_trusted_profile_identity_over_the_seal() {
        let pz = TrustedProfileIdentity {
            given_name: Some("Jan".into()),
            surname: Some("Testowy".into()),
            pesel: Some("00000000000".into()),
            ..TrustedProfileIdentity::default()
        };
        let s = signer(None, Some(&pz)).unwrap();
        assert_eq!(s.name.as_deref(), Some("Jan Testowy"));
        assert_eq!(s.pesel.as_deref(), Some("00000000000"));
    }
}
