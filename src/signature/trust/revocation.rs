//! Revocation status from CRLs (RFC 5280 §5, §6.3) embedded in the signature or cached in the
//! trust material: a CRL counts only when its issuer is the certificate's issuer and its
//! signature verifies with the issuer's key (§6.3.3 (f), (g)). Fetching is done in
//! [`super::online`]; here, only what is at hand is read.

use super::cert::to_utc;
use chrono::{DateTime, Utc};
use openssl::pkey::{PKeyRef, Public};
use openssl::x509::{CrlStatus, X509Crl, X509Ref};
use std::cmp::Ordering;

/// When revocation data was issued and until when its issuer promises nothing newer
/// (CRL thisUpdate / nextUpdate, RFC 5280 §5.1.2.4–5; OCSP thisUpdate / nextUpdate, RFC 6960
/// §4.2.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Issued {
    /// thisUpdate.
    pub this_update: DateTime<Utc>,
    /// nextUpdate, when given.
    pub next_update: Option<DateTime<Utc>>,
}

impl Issued {
    /// EN 319 102-1 §5.2.5 (revocation freshness checker): data issued at or after `t` is
    /// fresh for `t`; older data is fresh until its nextUpdate, or, without one, for
    /// `max_age` after its thisUpdate.
    pub fn fresh_at(&self, t: DateTime<Utc>, max_age: chrono::Duration) -> bool {
        if self.this_update >= t {
            return true;
        }
        match self.next_update {
            Some(n) => t <= n,
            None => t - self.this_update <= max_age,
        }
    }

    /// Whether `self` was issued later than `other`.
    fn newer_than(&self, other: &Issued) -> bool {
        self.this_update > other.this_update
    }
}

/// What the revocation data says about one certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Revoked at this time.
    Revoked(DateTime<Utc>),
    /// Not revoked according to data issued then (the freshest found).
    Good(Issued),
    /// No usable revocation data.
    Unknown,
}

impl Status {
    /// Keeps a revocation, else the more recent of two good answers.
    pub fn merge(self, other: Status) -> Status {
        match (self, other) {
            (Status::Revoked(a), Status::Revoked(b)) => Status::Revoked(a.min(b)),
            (r @ Status::Revoked(_), _) | (_, r @ Status::Revoked(_)) => r,
            (Status::Good(a), Status::Good(b)) => {
                Status::Good(if b.newer_than(&a) { b } else { a })
            }
            (g @ Status::Good(_), Status::Unknown) | (Status::Unknown, g @ Status::Good(_)) => g,
            (Status::Unknown, Status::Unknown) => Status::Unknown,
        }
    }
}

/// The status of `cert` (issued by `issuer`) among `crls`: a revocation on any valid CRL wins,
/// else the freshest CRL that does not list it.
pub fn status<'a>(
    cert: &X509Ref,
    issuer: &X509Ref,
    crls: impl IntoIterator<Item = &'a X509Crl>,
) -> Status {
    status_checked(cert, issuer, crls, |crl, key| {
        crl.verify(key).unwrap_or(false)
    })
}

/// [`status`], with the check of a CRL's signature by the issuer's key left to `verified`
/// (which may remember it for CRLs of the trust material).
pub fn status_checked<'a>(
    cert: &X509Ref,
    issuer: &X509Ref,
    crls: impl IntoIterator<Item = &'a X509Crl>,
    verified: impl Fn(&X509Crl, &PKeyRef<Public>) -> bool,
) -> Status {
    let Ok(key) = issuer.public_key() else {
        return Status::Unknown;
    };
    let mut best = Status::Unknown;
    for crl in crls {
        let same_issuer =
            crl.issuer_name().try_cmp(cert.issuer_name()).ok() == Some(Ordering::Equal);
        if !same_issuer || !verified(crl, &key) {
            continue;
        }
        match crl.get_by_serial(cert.serial_number()) {
            CrlStatus::Revoked(r) | CrlStatus::RemoveFromCrl(r) => {
                if let Some(t) = to_utc(r.revocation_date()) {
                    return Status::Revoked(t);
                }
            }
            CrlStatus::NotRevoked => {
                if let Some(this_update) = to_utc(crl.last_update()) {
                    let next_update = crl.next_update().and_then(to_utc);
                    best = best.merge(Status::Good(Issued {
                        this_update,
                        next_update,
                    }));
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
