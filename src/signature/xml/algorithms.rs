//! Digest and signature algorithms by URI (W3C XML-DSig 1.1 §6.2, §6.4; RFC 6931 for SHA-224,
//! SHA-3 and RSA-PSS), computed through openssl.
//!
//! XML-DSig ECDSA and DSA signature values are the raw `r || s` concatenation (XML-DSig 1.1
//! §6.4.3, RFC 4050 §3.3); openssl wants DER, so they are converted here.

use openssl::bn::BigNum;
use openssl::ecdsa::EcdsaSig;
use openssl::hash::MessageDigest;
use openssl::pkey::{Id, PKey, Public};
use openssl::rsa::Padding;
use openssl::sign::{RsaPssSaltlen, Verifier};

/// The digest named by a `DigestMethod` URI, or `None` when unsupported.
pub fn digest_by_uri(uri: &str) -> Option<MessageDigest> {
    let md = match uri {
        "http://www.w3.org/2000/09/xmldsig#sha1" => MessageDigest::sha1(),
        "http://www.w3.org/2001/04/xmldsig-more#sha224" => MessageDigest::sha224(),
        "http://www.w3.org/2001/04/xmlenc#sha256" => MessageDigest::sha256(),
        "http://www.w3.org/2001/04/xmldsig-more#sha384" => MessageDigest::sha384(),
        "http://www.w3.org/2001/04/xmlenc#sha512" => MessageDigest::sha512(),
        "http://www.w3.org/2007/05/xmldsig-more#sha3-224" => MessageDigest::sha3_224(),
        "http://www.w3.org/2007/05/xmldsig-more#sha3-256" => MessageDigest::sha3_256(),
        "http://www.w3.org/2007/05/xmldsig-more#sha3-384" => MessageDigest::sha3_384(),
        "http://www.w3.org/2007/05/xmldsig-more#sha3-512" => MessageDigest::sha3_512(),
        _ => return None,
    };
    Some(md)
}

/// Computes a digest; `None` only if openssl fails.
pub fn digest(md: MessageDigest, data: &[u8]) -> Option<Vec<u8>> {
    openssl::hash::hash(md, data).ok().map(|d| d.to_vec())
}

/// The key family a signature algorithm needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// RSA, PKCS#1 v1.5 padding.
    Rsa,
    /// RSA-PSS with MGF1 over the same digest.
    RsaPss,
    /// ECDSA (raw r||s value).
    Ecdsa,
    /// DSA (raw r||s value).
    Dsa,
}

/// A signature algorithm: key family, digest, and for PSS the salt length.
#[derive(Clone, Copy)]
pub struct SignatureAlgorithm {
    /// The key family.
    pub kind: KeyKind,
    /// The message digest.
    pub digest: MessageDigest,
    /// PSS salt length in bytes (defaults to the digest length).
    pub salt_len: Option<i32>,
}

/// The algorithm named by a `SignatureMethod` URI, or `None` when unsupported (HMAC included:
/// a shared-secret MAC proves nothing about a signer).
pub fn signature_by_uri(uri: &str) -> Option<SignatureAlgorithm> {
    let (kind, digest) = match uri.rsplit_once('#')? {
        ("http://www.w3.org/2000/09/xmldsig", "rsa-sha1") => (KeyKind::Rsa, "sha1"),
        ("http://www.w3.org/2001/04/xmldsig-more", name) if name.starts_with("rsa-") => {
            (KeyKind::Rsa, name.trim_start_matches("rsa-"))
        }
        ("http://www.w3.org/2001/04/xmldsig-more", name) if name.starts_with("ecdsa-") => {
            (KeyKind::Ecdsa, name.trim_start_matches("ecdsa-"))
        }
        ("http://www.w3.org/2000/09/xmldsig", "dsa-sha1") => (KeyKind::Dsa, "sha1"),
        ("http://www.w3.org/2009/xmldsig11", "dsa-sha256") => (KeyKind::Dsa, "sha256"),
        ("http://www.w3.org/2007/05/xmldsig-more", name) if name.ends_with("-rsa-MGF1") => {
            (KeyKind::RsaPss, name.trim_end_matches("-rsa-MGF1"))
        }
        ("http://www.w3.org/2021/04/xmldsig-more", name) if name.starts_with("ecdsa-") => {
            (KeyKind::Ecdsa, name.trim_start_matches("ecdsa-"))
        }
        _ => return None,
    };
    let digest = digest_by_short_name(digest)?;
    Some(SignatureAlgorithm {
        kind,
        digest,
        salt_len: None,
    })
}

/// A digest by its short name in algorithm URIs (`sha256`, `sha3-256`).
pub fn digest_by_short_name(name: &str) -> Option<MessageDigest> {
    let md = match name {
        "sha1" => MessageDigest::sha1(),
        "sha224" => MessageDigest::sha224(),
        "sha256" => MessageDigest::sha256(),
        "sha384" => MessageDigest::sha384(),
        "sha512" => MessageDigest::sha512(),
        "sha3-224" => MessageDigest::sha3_224(),
        "sha3-256" => MessageDigest::sha3_256(),
        "sha3-384" => MessageDigest::sha3_384(),
        "sha3-512" => MessageDigest::sha3_512(),
        _ => return None,
    };
    Some(md)
}

/// The generic RSA-PSS URI of RFC 6931 §2.3.10, whose parameters are in `RSAPSSParams`.
pub const RSA_PSS_PARAMS_URI: &str = "http://www.w3.org/2007/05/xmldsig-more#rsa-pss";

/// Whether the key family of `key` suits the algorithm.
pub fn key_fits(alg: &SignatureAlgorithm, key: &PKey<Public>) -> bool {
    match alg.kind {
        KeyKind::Rsa | KeyKind::RsaPss => matches!(key.id(), Id::RSA | Id::RSA_PSS),
        KeyKind::Ecdsa => key.id() == Id::EC,
        KeyKind::Dsa => key.id() == Id::DSA,
    }
}

/// Verifies `value` over `data` with `key`; `false` on any failure.
pub fn verify(alg: &SignatureAlgorithm, key: &PKey<Public>, data: &[u8], value: &[u8]) -> bool {
    if !key_fits(alg, key) {
        return false;
    }
    let der;
    let value = match alg.kind {
        KeyKind::Ecdsa | KeyKind::Dsa => match raw_to_der(value) {
            Some(d) => {
                der = d;
                der.as_slice()
            }
            None => return false,
        },
        KeyKind::Rsa | KeyKind::RsaPss => value,
    };
    run_verifier(alg, key, data, value).unwrap_or(false)
}

fn run_verifier(
    alg: &SignatureAlgorithm,
    key: &PKey<Public>,
    data: &[u8],
    value: &[u8],
) -> Result<bool, openssl::error::ErrorStack> {
    let mut verifier = Verifier::new(alg.digest, key)?;
    if alg.kind == KeyKind::RsaPss {
        verifier.set_rsa_padding(Padding::PKCS1_PSS)?;
        verifier.set_rsa_mgf1_md(alg.digest)?;
        let salt = alg
            .salt_len
            .unwrap_or_else(|| i32::try_from(alg.digest.size()).unwrap_or(32));
        verifier.set_rsa_pss_saltlen(RsaPssSaltlen::custom(salt))?;
    }
    verifier.update(data)?;
    verifier.verify(value)
}

/// Converts a raw `r || s` value (two halves of equal length) to a DER `ECDSA-Sig-Value`.
pub fn raw_to_der(raw: &[u8]) -> Option<Vec<u8>> {
    if raw.is_empty() || !raw.len().is_multiple_of(2) {
        return None;
    }
    let (r, s) = raw.split_at(raw.len() / 2);
    let r = BigNum::from_slice(r).ok()?;
    let s = BigNum::from_slice(s).ok()?;
    EcdsaSig::from_private_components(r, s).ok()?.to_der().ok()
}

/// Crypto-policy remarks (ETSI TS 119 312 §§6-7): SHA-1 and RSA/DSA keys under 2048 bits or EC
/// keys under 256 bits are no longer fit for new signatures. They are warnings here; the
/// validation stage decides by the signature's date whether they fail it.
pub fn policy_warnings(
    signature_method: &str,
    digest_methods: &[&str],
    key: Option<&PKey<Public>>,
) -> Vec<String> {
    let mut out = Vec::new();
    if short_name(signature_method).contains("sha1") {
        out.push(format!(
            "signature method {} uses SHA-1",
            short_name(signature_method)
        ));
    }
    if digest_methods.iter().any(|d| short_name(d) == "sha1") {
        out.push("a reference digest uses SHA-1".to_string());
    }
    if let Some(key) = key {
        let bits = key.bits();
        let weak = match key.id() {
            Id::RSA | Id::RSA_PSS | Id::DSA => bits < 2048,
            Id::EC => bits < 256,
            _ => false,
        };
        if weak {
            out.push(format!("the signing key has only {bits} bits"));
        }
    }
    out
}

/// A short name for reports (`sha256`, `rsa-sha256`...), from the URI's fragment.
pub fn short_name(uri: &str) -> &str {
    uri.rsplit_once('#').map_or(uri, |(_, f)| f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::ec::{EcGroup, EcKey};
    use openssl::nid::Nid;
    use openssl::sign::Signer;

    #[test]
    fn verifies_an_ecdsa_value_given_as_raw_r_and_s() {
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
        let key = EcKey::generate(&group).unwrap();
        let private = PKey::from_ec_key(key.clone()).unwrap();
        let public_key = EcKey::from_public_key(&group, key.public_key()).unwrap();
        let public = PKey::from_ec_key(public_key).unwrap();
        let mut signer = Signer::new(MessageDigest::sha256(), &private).unwrap();
        signer.update(b"data").unwrap();
        let der = signer.sign_to_vec().unwrap();
        let sig = EcdsaSig::from_der(&der).unwrap();
        let mut raw = sig.r().to_vec_padded(32).unwrap();
        raw.extend(sig.s().to_vec_padded(32).unwrap());
        let alg = signature_by_uri("http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256").unwrap();
        assert!(verify(&alg, &public, b"data", &raw));
        assert!(!verify(&alg, &public, b"other", &raw));
    }

    #[test]
    fn knows_the_rfc_6931_pss_and_sha3_uris_and_refuses_hmac() {
        let pss = signature_by_uri("http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1");
        assert_eq!(pss.map(|a| a.kind), Some(KeyKind::RsaPss));
        assert!(digest_by_uri("http://www.w3.org/2007/05/xmldsig-more#sha3-256").is_some());
        assert!(signature_by_uri("http://www.w3.org/2000/09/xmldsig#hmac-sha1").is_none());
    }
}
