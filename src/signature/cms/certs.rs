//! The few parts of an X.509 certificate (RFC 5280 §4.1) that CMS needs to find the signer
//! (RFC 5652 §5.3 SignerIdentifier) and to bind it (RFC 5035 ESSCertIDv2), read from the DER as
//! received; the report's summaries of a certificate are the XML verifier's `certinfo`, shared.

use super::oids;
use super::parse::SignerId;
use crate::signature::der::{self, Tag};
use crate::signature::report::Signer;
use openssl::hash::{hash, MessageDigest};

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

// Certificate summaries are the same for every format: one implementation, in the XML half.
pub use crate::signature::xml::certinfo::{
    certificate_info, name_to_string, pesel_from_serial, rfc3339,
};

/// The signer named by the certificate subject.
pub fn signer(der_bytes: &[u8]) -> Option<Signer> {
    crate::signature::xml::certinfo::signer(Some(der_bytes), None)
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
