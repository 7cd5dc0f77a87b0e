//! Signed attributes of a SignerInfo: contentType and messageDigest (RFC 5652 §11.1, §11.2),
//! signingTime (§11.3), and the ESS signing-certificate binding, v1 with SHA-1 (RFC 2634 §5.4)
//! and v2 (RFC 5035 §3; EN 319 122-1 §5.2.2).

use super::algorithms;
use super::certs;
use super::oids;
use super::parse::{Attribute, SignerInfo};
use super::time;
use crate::signature::der::{self, Tag};

/// The single value of an attribute that RFC 5652 §11 allows only once.
pub fn single<'a>(si: &SignerInfo<'a>, oid: &[u8], name: &str) -> Result<Option<&'a [u8]>, String> {
    let attrs = si.signed(oid);
    match attrs.as_slice() {
        [] => Ok(None),
        [Attribute { values, .. }] if values.len() == 1 => Ok(values.first().copied()),
        _ => Err(format!(
            "signed attributes hold {name} more than once (RFC 5652 §11)"
        )),
    }
}

/// The content of the first element of `raw` when it has the expected tag number.
pub fn primitive(raw: &[u8], tag_number: u32) -> Option<&[u8]> {
    let (tlv, _) = der::read(raw).ok()?;
    (tlv.tag.number == tag_number && !tlv.tag.constructed).then_some(tlv.content)
}

/// The claimed signingTime (at most one: RFC 5652 §11.3).
pub fn signing_time(si: &SignerInfo<'_>) -> Result<Option<String>, String> {
    Ok(single(si, oids::SIGNING_TIME, "signing-time")?.and_then(time::from_raw))
}

/// One ESSCertID(v2) entry: the digest algorithm, the certificate hash and the optional
/// issuer/serial.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertId<'a> {
    /// Digest algorithm OID (SHA-1 for v1, SHA-256 by default for v2).
    pub digest: &'a [u8],
    /// The certificate's hash.
    pub hash: &'a [u8],
    /// The serialNumber of issuerSerial, when present.
    pub serial: Option<&'a [u8]>,
}

/// The first certificate identified by signingCertificateV2, else signingCertificate: the one
/// that "MUST be the certificate used to verify the signature" (RFC 5035 §3).
pub fn signing_certificate_id<'a>(si: &SignerInfo<'a>) -> Result<Option<CertId<'a>>, String> {
    if let Some(v2) = single(si, oids::SIGNING_CERTIFICATE_V2, "signing-certificate-v2")? {
        return first_cert_id(v2, true).map(Some);
    }
    match single(si, oids::SIGNING_CERTIFICATE, "signing-certificate")? {
        Some(v1) => first_cert_id(v1, false).map(Some),
        None => Ok(None),
    }
}

/// SigningCertificate(V2) ::= SEQUENCE { certs SEQUENCE OF ESSCertID(v2), policies OPTIONAL }.
fn first_cert_id(raw: &[u8], v2: bool) -> Result<CertId<'_>, String> {
    let bad = || "unreadable signing-certificate attribute".to_string();
    let (outer, _) = der::read(raw).map_err(|_| bad())?;
    let certs = der::children(outer.content)
        .next()
        .ok_or_else(bad)?
        .map_err(|_| bad())?;
    let first = der::children(certs.content)
        .next()
        .ok_or_else(bad)?
        .map_err(|_| bad())?;
    let mut parts = der::children(first.content)
        .filter_map(Result::ok)
        .peekable();
    let mut digest = if v2 { oids::SHA256 } else { oids::SHA1 };
    if v2 && parts.peek().map(|t| t.tag) == Some(Tag::SEQUENCE) {
        let alg = parts.next().ok_or_else(bad)?;
        digest = super::parse::algorithm(&alg).map_err(|_| bad())?.oid;
    }
    let hash = parts.next().filter(|t| t.tag.number == 4).ok_or_else(bad)?;
    // IssuerSerial ::= SEQUENCE { issuer GeneralNames, serialNumber CertificateSerialNumber }.
    let serial = parts.next().and_then(|issuer_serial| {
        der::children(issuer_serial.content)
            .filter_map(Result::ok)
            .find(|t| t.tag == Tag::INTEGER)
            .map(|t| t.content)
    });
    Ok(CertId {
        digest,
        hash: hash.content,
        serial,
    })
}

/// How the certificate that verified the signature compares with the signed reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Binding {
    /// The hash matches (and the serial, when given).
    Bound,
    /// The hash matches but the issuerSerial names another serial.
    SerialMismatch,
    /// The hash does not match: another certificate was signed for (key substitution).
    HashMismatch,
    /// The digest algorithm of the reference is unknown.
    Unsupported,
}

/// Compares a signed certificate reference with a certificate (DER as received).
pub fn bind(id: &CertId<'_>, cert_der: &[u8]) -> Binding {
    let Some(md) = algorithms::digest(id.digest) else {
        return Binding::Unsupported;
    };
    if algorithms::hash(md, &[cert_der]).as_deref() != Some(id.hash) {
        return Binding::HashMismatch;
    }
    let serial_ok = match (id.serial, certs::fields(cert_der)) {
        (Some(serial), Some(fields)) => certs::same_integer(serial, fields.serial),
        _ => true,
    };
    if serial_ok {
        Binding::Bound
    } else {
        Binding::SerialMismatch
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_first_ess_cert_id_v2_with_its_default_algorithm() {
        // SigningCertificateV2 { certs { ESSCertIDv2 { certHash 01 02 } } }
        let raw = [0x30, 0x08, 0x30, 0x06, 0x30, 0x04, 0x04, 0x02, 0x01, 0x02];
        let id = first_cert_id(&raw, true).unwrap();
        assert_eq!(id.digest, oids::SHA256);
        assert_eq!(id.hash, &[1, 2]);
        assert_eq!(id.serial, None);
        assert_eq!(bind(&id, b"not a certificate"), Binding::HashMismatch);
        assert!(first_cert_id(&[0x30, 0x00], true).is_err());
    }
}
