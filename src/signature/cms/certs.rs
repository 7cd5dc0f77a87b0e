//! The few parts of an X.509 certificate (RFC 5280 §4.1) that CMS needs to find the signer
//! (RFC 5652 §5.3 SignerIdentifier) and to bind it (RFC 5035 ESSCertIDv2), read from the DER as
//! received, and the report's summaries of a certificate (mirroring the XML verifier's
//! `certinfo`: the same subject format, serial in hex, times in RFC 3339).

use super::oids;
use super::parse::SignerId;
use crate::signature::der::{self, Tag};
use crate::signature::report::{CertificateInfo, Signer};
use openssl::asn1::{Asn1Time, Asn1TimeRef};
use openssl::hash::{hash, MessageDigest};
use openssl::nid::Nid;
use openssl::x509::{X509NameRef, X509};

/// The raw identifying fields of one certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertFields<'a> {
    /// The whole certificate as received.
    pub der: &'a [u8],
    /// The serial number INTEGER content.
    pub serial: &'a [u8],
    /// The issuer Name TLV.
    pub issuer: &'a [u8],
    /// The subjectKeyIdentifier extension value, if any.
    pub key_id: Option<&'a [u8]>,
}

/// Reads the TBSCertificate fields: `[0] version`, serialNumber, signature, issuer, validity,
/// subject, subjectPublicKeyInfo, ..., `[3] extensions` (RFC 5280 §4.1).
pub fn fields(der_bytes: &[u8]) -> Option<CertFields<'_>> {
    let (cert, _) = der::read(der_bytes).ok()?;
    let (tbs, _) = der::read(cert.content).ok()?;
    let mut parts = der::children_raw(tbs.content)
        .filter_map(Result::ok)
        .peekable();
    if parts.peek().map(|(t, _)| t.tag) == Some(Tag::context(0, true)) {
        parts.next();
    }
    let (serial, _) = parts.next()?;
    let _signature = parts.next()?;
    let (_, issuer) = parts.next()?;
    let key_id = parts
        .find(|(t, _)| t.tag == Tag::context(3, true))
        .and_then(|(t, _)| subject_key_id(t.content));
    Some(CertFields {
        der: der_bytes,
        serial: serial.content,
        issuer,
        key_id,
    })
}

/// Extensions ::= SEQUENCE OF Extension { extnID, critical DEFAULT FALSE, extnValue OCTET
/// STRING } — the subjectKeyIdentifier's KeyIdentifier (RFC 5280 §4.2.1.2).
fn subject_key_id(explicit: &[u8]) -> Option<&[u8]> {
    let (seq, _) = der::read(explicit).ok()?;
    der::children(seq.content)
        .filter_map(Result::ok)
        .find_map(|ext| {
            let mut parts = der::children(ext.content).filter_map(Result::ok);
            let oid = parts.next()?;
            if oid.content != oids::SUBJECT_KEY_ID {
                return None;
            }
            let value = parts.find(|t| t.tag.number == 4 && !t.tag.constructed)?;
            let (key_id, _) = der::read(value.content).ok()?;
            Some(key_id.content)
        })
}

/// Whether the certificate is the one a SignerIdentifier names. Serial numbers compare as
/// integers (a leading zero octet is not significant).
pub fn matches(sid: &SignerId<'_>, cert: &CertFields<'_>) -> bool {
    match sid {
        SignerId::IssuerSerial { issuer, serial } => {
            same_integer(serial, cert.serial) && same_name(issuer, cert.issuer)
        }
        SignerId::KeyId(id) => cert.key_id == Some(*id),
    }
}

/// INTEGER contents equal as numbers.
pub fn same_integer(a: &[u8], b: &[u8]) -> bool {
    let strip = |s: &[u8]| -> Vec<u8> {
        let start = s.iter().position(|&x| x != 0).unwrap_or(s.len());
        s.get(start..).unwrap_or_default().to_vec()
    };
    strip(a) == strip(b)
}

/// Names equal: byte for byte, else after openssl's canonical comparison (X509_NAME_cmp),
/// because some signers re-encode the issuer (PrintableString vs UTF8String).
pub fn same_name(a: &[u8], b: &[u8]) -> bool {
    if a == b {
        return true;
    }
    let parse = |n: &[u8]| openssl::x509::X509Name::from_der(n).ok();
    match (parse(a), parse(b)) {
        (Some(x), Some(y)) => x.try_cmp(&y).map(|o| o.is_eq()).unwrap_or(false),
        _ => false,
    }
}

/// SHA-256 in lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hash(MessageDigest::sha256(), bytes)
        .map(|d| hex(&d))
        .unwrap_or_default()
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

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
    let diff = Asn1Time::from_unix(0).ok().and_then(|e| e.diff(t).ok());
    diff.and_then(|d| {
        let secs = i64::from(d.days) * 86_400 + i64::from(d.secs);
        chrono::DateTime::from_timestamp(secs, 0)
    })
    .map(|dt| dt.format("%Y-%m-%dT%H:%M:%SZ").to_string())
    .unwrap_or_default()
}

/// The report's summary of a DER certificate.
pub fn certificate_info(der_bytes: &[u8]) -> Option<CertificateInfo> {
    let cert = X509::from_der(der_bytes).ok()?;
    let serial = cert
        .serial_number()
        .to_bn()
        .ok()
        .map(|b| hex(&b.to_vec()))
        .unwrap_or_default();
    Some(CertificateInfo {
        subject: name_to_string(cert.subject_name()),
        issuer: name_to_string(cert.issuer_name()),
        serial,
        sha256: sha256_hex(der_bytes),
        not_before: rfc3339(cert.not_before()),
        not_after: rfc3339(cert.not_after()),
        qualified: None,
    })
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

/// The signer named by the certificate subject.
pub fn signer(der_bytes: &[u8]) -> Option<Signer> {
    let cert = X509::from_der(der_bytes).ok()?;
    let subject = cert.subject_name();
    let serial_number = entry(subject, Nid::SERIALNUMBER);
    Some(Signer {
        name: entry(subject, Nid::COMMONNAME),
        given_name: entry(subject, Nid::GIVENNAME),
        surname: entry(subject, Nid::SURNAME),
        pesel: serial_number.as_deref().and_then(pesel_from_serial),
        serial_number,
        organization: entry(subject, Nid::ORGANIZATIONNAME),
        email: entry(subject, Nid::PKCS9_EMAILADDRESS),
        ..Signer::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compares_serial_numbers_as_integers() {
        assert!(same_integer(&[0x00, 0x80], &[0x80]));
        assert!(!same_integer(&[0x01], &[0x02]));
    }

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
}
