//! Certificates decoded once per process. With OpenSSL 3.0, decoding a certificate (its public
//! key above all) costs as much as two RSA-4096 signature checks, and a signature's certificates
//! are decoded by several steps (finding the key that verifies it, the report's summary of the
//! signer, path building, revocation): in the upload benchmark, decoding was a twelfth of the
//! server's CPU. The certificates a city hall meets come from a few CAs and recur, so each is
//! kept by its exact DER (the same bytes are the same certificate whatever its use); nothing
//! about a verdict changes, only work already done is not done again.

use openssl::x509::X509;
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

/// How many decoded certificates are kept (a few MB at most); when full, they are dropped.
const KEPT: usize = 1024;

static DECODED: LazyLock<Mutex<HashMap<Vec<u8>, X509>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// The certificate of `der` (`None` when it does not decode).
pub fn certificate(der: &[u8]) -> Option<X509> {
    if let Some(c) = DECODED.lock().ok()?.get(der) {
        return Some(c.clone());
    }
    let c = X509::from_der(der).ok()?;
    if let Ok(mut kept) = DECODED.lock() {
        if kept.len() >= KEPT {
            kept.clear();
        }
        kept.insert(der.to_vec(), c.clone());
    }
    Some(c)
}

/// Forgets the decoded certificate of `der` (a benchmark measuring a new signing certificate
/// under a known CA forgets only that one).
pub fn forget(der: &[u8]) {
    if let Ok(mut kept) = DECODED.lock() {
        kept.remove(der);
    }
}

/// Forgets every decoded certificate (a benchmark measuring certificates never seen before).
pub fn forget_all() {
    if let Ok(mut kept) = DECODED.lock() {
        kept.clear();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_same_bytes_give_the_same_certificate_and_bad_bytes_none() {
        let pem = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/pki/qseal.crt.pem"
        ))
        .unwrap();
        let der = X509::from_pem(&pem).unwrap().to_der().unwrap();
        let a = certificate(&der).unwrap();
        let b = certificate(&der).unwrap();
        assert_eq!(a.to_der().unwrap(), der);
        assert_eq!(b.to_der().unwrap(), der);
        assert!(certificate(&der[..der.len() - 1]).is_none());
        assert!(certificate(b"").is_none());
        forget(&der);
        assert_eq!(certificate(&der).unwrap().to_der().unwrap(), der);
    }
}
