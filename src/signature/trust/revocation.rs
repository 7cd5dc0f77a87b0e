//! Revocation status from CRLs (RFC 5280 §5, §6.3) embedded in the signature or cached in the
//! trust material: a CRL counts only when its issuer is the certificate's issuer and its
//! signature verifies with the issuer's key (§6.3.3 (f), (g)). Online fetching is not done here.

use super::cert::to_utc;
use chrono::{DateTime, Utc};
use openssl::x509::{CrlStatus, X509Crl, X509Ref};
use std::cmp::Ordering;

/// What the revocation data says about one certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Revoked at this time.
    Revoked(DateTime<Utc>),
    /// Not on a CRL issued at this time (the freshest one found).
    Good(DateTime<Utc>),
    /// No usable revocation data.
    Unknown,
}

/// The status of `cert` (issued by `issuer`) among `crls`: a revocation on any valid CRL wins,
/// else the freshest CRL that does not list it.
pub fn status<'a>(
    cert: &X509Ref,
    issuer: &X509Ref,
    crls: impl IntoIterator<Item = &'a X509Crl>,
) -> Status {
    let Ok(key) = issuer.public_key() else {
        return Status::Unknown;
    };
    let mut best = Status::Unknown;
    for crl in crls {
        let same_issuer =
            crl.issuer_name().try_cmp(cert.issuer_name()).ok() == Some(Ordering::Equal);
        if !same_issuer || !crl.verify(&key).unwrap_or(false) {
            continue;
        }
        match crl.get_by_serial(cert.serial_number()) {
            CrlStatus::Revoked(r) | CrlStatus::RemoveFromCrl(r) => {
                if let Some(t) = to_utc(r.revocation_date()) {
                    return Status::Revoked(t);
                }
            }
            CrlStatus::NotRevoked => {
                if let Some(t) = to_utc(crl.last_update()) {
                    if !matches!(best, Status::Good(b) if b >= t) {
                        best = Status::Good(t);
                    }
                }
            }
        }
    }
    best
}

/// Parses DER or PEM CRLs, skipping what does not parse (embedded data is untrusted).
pub fn parse_all(ders: &[Vec<u8>]) -> Vec<X509Crl> {
    ders.iter()
        .filter_map(|d| X509Crl::from_der(d).or_else(|_| X509Crl::from_pem(d)).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::pki;

    #[test]
    fn finds_the_revoked_signer_on_its_issuers_crl() {
        let p = pki::committed().unwrap();
        let crls = parse_all(&p.crls.values().cloned().collect::<Vec<_>>());
        let ca = &p.get("qualified-ca").unwrap().cert;
        let s = status(&p.get("revoked-signer").unwrap().cert, ca, &crls);
        assert!(matches!(s, Status::Revoked(t) if t.to_rfc3339() == "2024-06-01T00:00:00+00:00"));
        let s = status(&p.get("qes-signer").unwrap().cert, ca, &crls);
        assert!(matches!(s, Status::Good(_)));
    }

    #[test]
    fn ignores_a_crl_from_another_issuer() {
        let p = pki::committed().unwrap();
        let crls = parse_all(&[p.crls["commercial-ca"].clone()]);
        let ca = &p.get("qualified-ca").unwrap().cert;
        assert_eq!(
            status(&p.get("revoked-signer").unwrap().cert, ca, &crls),
            Status::Unknown
        );
    }
}
