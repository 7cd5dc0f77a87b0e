//! What validation reads from a certificate beyond openssl's accessors: extensions by OID
//! (RFC 5280 §4.1.2.9), qcStatements (ETSI EN 319 412-5 §4), certificate policies
//! (RFC 5280 §4.2.1.4), extended key usage (§4.2.1.12), and validity times as UTC.

use crate::signature::der::{self, Tag};
use chrono::{DateTime, Utc};
use openssl::asn1::{Asn1Time, Asn1TimeRef};
use openssl::x509::X509Ref;

/// `id-pe-qcStatements`.
const QC_STATEMENTS: &str = "1.3.6.1.5.5.7.1.3";
/// `certificatePolicies`.
const CERTIFICATE_POLICIES: &str = "2.5.29.32";
/// `extKeyUsage`.
const EXT_KEY_USAGE: &str = "2.5.29.37";
/// `id-kp-timeStamping`.
pub const KP_TIME_STAMPING: &str = "1.3.6.1.5.5.7.3.8";
/// `id-kp-OCSPSigning`.
pub const KP_OCSP_SIGNING: &str = "1.3.6.1.5.5.7.3.9";

/// The qcStatements of a certificate (EN 319 412-5 §4.2).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QcStatements {
    /// The extension is present at all.
    pub present: bool,
    /// QcCompliance (0.4.0.1862.1.1): issued as a qualified certificate.
    pub compliance: bool,
    /// QcSSCD (0.4.0.1862.1.4): the key is in a QSCD.
    pub sscd: bool,
    /// QcType values in dotted form (`0.4.0.1862.1.6.1` esign, `.2` eseal, `.3` web).
    pub types: Vec<String>,
}

/// An ASN.1 time as UTC.
pub fn to_utc(t: &Asn1TimeRef) -> Option<DateTime<Utc>> {
    let epoch = Asn1Time::from_unix(0).ok()?;
    let d = epoch.diff(t).ok()?;
    DateTime::from_timestamp(i64::from(d.days) * 86_400 + i64::from(d.secs), 0)
}

/// `notBefore` and `notAfter` (RFC 5280 §4.1.2.5).
pub fn validity(c: &X509Ref) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    Some((to_utc(c.not_before())?, to_utc(c.not_after())?))
}

/// SHA-256 of the DER certificate, lowercase hex.
pub fn sha256_hex(c: &X509Ref) -> String {
    c.to_der()
        .map(|d| {
            openssl::sha::sha256(&d)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect()
        })
        .unwrap_or_default()
}

/// The issuer and subject names (their DER content, as encoded) of a DER certificate, read
/// without decoding the certificate.
pub fn names(cert_der: &[u8]) -> Option<(&[u8], &[u8])> {
    let (cert, _) = der::read(cert_der).ok()?;
    let tbs = der::children(cert.content).next()?.ok()?;
    let mut fields = der::children(tbs.content)
        .filter_map(Result::ok)
        .skip_while(|t| t.tag == Tag::context(0, true));
    // serialNumber, signature, issuer, validity, subject (RFC 5280 §4.1).
    let issuer = fields.nth(2)?;
    let subject = fields.nth(1)?;
    Some((issuer.content, subject.content))
}

/// The value (inner OCTET STRING content) of the extension `oid`, from a DER certificate.
pub fn extension(cert_der: &[u8], oid: &str) -> Option<Vec<u8>> {
    let want = der::oid_bytes(oid)?;
    let (cert, _) = der::read(cert_der).ok()?;
    let tbs = der::children(cert.content).next()?.ok()?;
    let exts = der::children(tbs.content)
        .filter_map(Result::ok)
        .find(|t| t.tag == Tag::context(3, true))?;
    let (list, _) = der::read(exts.content).ok()?;
    for ext in der::children(list.content).filter_map(Result::ok) {
        let mut parts = der::children(ext.content).filter_map(Result::ok);
        let id = parts.next()?;
        if id.tag == Tag::OID && id.content == want.as_slice() {
            return parts
                .find(|p| p.tag.number == 4 && !p.tag.constructed)
                .map(|v| v.content.to_vec());
        }
    }
    None
}

/// Dotted text of an OID's content bytes (X.690 §8.19).
pub fn oid_text(content: &[u8]) -> String {
    let mut arcs: Vec<u64> = Vec::new();
    let mut acc: u64 = 0;
    for b in content {
        acc = (acc << 7) | u64::from(b & 0x7F);
        if b & 0x80 == 0 {
            if arcs.is_empty() {
                let first = (acc / 40).min(2);
                arcs.push(first);
                arcs.push(acc - first * 40);
            } else {
                arcs.push(acc);
            }
            acc = 0;
        }
    }
    arcs.iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

/// The first OID inside each element of a SEQUENCE OF SEQUENCE { OID, ... }.
fn leading_oids(value: &[u8]) -> Vec<(String, Vec<u8>)> {
    let Ok((outer, _)) = der::read(value) else {
        return Vec::new();
    };
    der::children(outer.content)
        .filter_map(Result::ok)
        .filter_map(|item| {
            let mut parts = der::children(item.content).filter_map(Result::ok);
            let id = parts.next().filter(|t| t.tag == Tag::OID)?;
            let rest = parts.next().map(|t| t.content.to_vec()).unwrap_or_default();
            Some((oid_text(id.content), rest))
        })
        .collect()
}

/// Reads the qcStatements extension (EN 319 412-5 §4.2.1–§4.2.3).
pub fn qc_statements(cert_der: &[u8]) -> QcStatements {
    let Some(value) = extension(cert_der, QC_STATEMENTS) else {
        return QcStatements::default();
    };
    let mut qc = QcStatements {
        present: true,
        ..QcStatements::default()
    };
    for (id, info) in leading_oids(&value) {
        match id.as_str() {
            "0.4.0.1862.1.1" => qc.compliance = true,
            "0.4.0.1862.1.4" => qc.sscd = true,
            "0.4.0.1862.1.6" => qc.types.extend(
                der::children(&info)
                    .filter_map(Result::ok)
                    .filter(|t| t.tag == Tag::OID)
                    .map(|t| oid_text(t.content)),
            ),
            _ => {}
        }
    }
    qc
}

/// The certificate policy identifiers (RFC 5280 §4.2.1.4).
pub fn policies(cert_der: &[u8]) -> Vec<String> {
    extension(cert_der, CERTIFICATE_POLICIES)
        .map(|v| leading_oids(&v).into_iter().map(|(id, _)| id).collect())
        .unwrap_or_default()
}

/// The extended key usages (RFC 5280 §4.2.1.12).
pub fn extended_key_usages(cert_der: &[u8]) -> Vec<String> {
    let Some(value) = extension(cert_der, EXT_KEY_USAGE) else {
        return Vec::new();
    };
    let Ok((outer, _)) = der::read(&value) else {
        return Vec::new();
    };
    der::children(outer.content)
        .filter_map(Result::ok)
        .filter(|t| t.tag == Tag::OID)
        .map(|t| oid_text(t.content))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::pki;

    #[test]
    fn reads_the_qc_statements_of_a_qualified_signer() {
        let p = pki::committed().unwrap();
        let qc = qc_statements(&p.der("qes-signer").unwrap());
        assert!(qc.present && qc.compliance && qc.sscd);
        assert_eq!(qc.types, vec![pki::QCT_ESIGN.to_string()]);
        assert_eq!(
            policies(&p.der("qes-signer").unwrap()),
            vec!["0.4.0.194112.1.2"]
        );
        assert!(!qc_statements(&p.der("advanced-signer").unwrap()).present);
    }

    #[test]
    fn reads_extended_key_usages() {
        let p = pki::committed().unwrap();
        assert_eq!(
            extended_key_usages(&p.der("tsa").unwrap()),
            vec![KP_TIME_STAMPING]
        );
    }

    #[test]
    fn writes_object_identifiers_in_dotted_form() {
        assert_eq!(
            oid_text(&[0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x03]),
            "1.3.6.1.5.5.7.1.3"
        );
        assert_eq!(
            oid_text(&[0x04, 0x00, 0x8E, 0x46, 0x01, 0x01]),
            "0.4.0.1862.1.1"
        );
    }
}
