//! Cryptographic constraints by date (EN 319 102-1 §5.2.8, after ETSI TS 119 312 and the DSS
//! default policy): SHA-1 and MD5 certificate signatures and RSA/DSA keys under 2048 bits or EC
//! keys under 256 bits stop being acceptable at fixed dates; a proof of existence before that
//! date keeps an old signature acceptable (§5.6.2.5).

use chrono::{DateTime, TimeZone, Utc};
use openssl::nid::Nid;
use openssl::pkey::Id;
use openssl::x509::X509Ref;

/// The first time at which `cert`'s signature algorithm or key is no longer acceptable, with
/// the reason; `None` when both are acceptable today.
pub fn expiry(cert: &X509Ref) -> Option<(DateTime<Utc>, String)> {
    let mut worst: Option<(DateTime<Utc>, String)> = None;
    let mut note = |at: DateTime<Utc>, why: String| {
        if worst.as_ref().is_none_or(|(w, _)| at < *w) {
            worst = Some((at, why));
        }
    };
    let alg = cert.signature_algorithm().object().nid();
    let digest = alg.signature_algorithms().map(|a| a.digest);
    match digest {
        Some(Nid::MD5) | Some(Nid::MD2) => note(date(2005), "MD5 certificate signature".into()),
        Some(Nid::SHA1) => note(date(2016), "SHA-1 certificate signature".into()),
        _ => {}
    }
    if let Ok(key) = cert.public_key() {
        let bits = key.bits();
        match key.id() {
            Id::RSA | Id::DSA if bits < 1024 => note(date(2010), format!("{bits}-bit key")),
            Id::RSA | Id::DSA if bits < 2048 => note(date(2019), format!("{bits}-bit key")),
            Id::EC if bits < 256 => note(date(2019), format!("{bits}-bit EC key")),
            _ => {}
        }
    }
    worst
}

fn date(year: i32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(year, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::pki;

    #[test]
    fn a_sha1_rsa_1024_certificate_expired_for_signatures_in_2016() {
        let p = pki::committed().unwrap();
        let (at, why) = expiry(&p.get("weak-signer").unwrap().cert).unwrap();
        assert_eq!(at, date(2016));
        assert!(why.contains("SHA-1"));
        assert!(expiry(&p.get("qes-signer").unwrap().cert).is_none());
    }
}
