//! Digest and signature algorithms of CMS (RFC 3370, RFC 4055 RSA-PSS, RFC 5754 SHA-2,
//! RFC 8419 EdDSA, NIST SHA-3 OIDs), mapped onto openssl, which does all the cryptography.

use super::oids;
use super::parse::AlgorithmId;
use crate::signature::der::{self, Tag};
use openssl::bn::BigNum;
use openssl::ecdsa::EcdsaSig;
use openssl::hash::{Hasher, MessageDigest};
use openssl::pkey::{Id, PKey, Public};
use openssl::rsa::Padding;
use openssl::sign::{RsaPssSaltlen, Verifier};

/// A digest algorithm by OID; `None` when unknown or not allowed.
pub fn digest(oid: &[u8]) -> Option<MessageDigest> {
    Some(match oid {
        o if o == oids::SHA1 => MessageDigest::sha1(),
        o if o == oids::SHA224 => MessageDigest::sha224(),
        o if o == oids::SHA256 => MessageDigest::sha256(),
        o if o == oids::SHA384 => MessageDigest::sha384(),
        o if o == oids::SHA512 => MessageDigest::sha512(),
        o if o == oids::SHA3_224 => MessageDigest::sha3_224(),
        o if o == oids::SHA3_256 => MessageDigest::sha3_256(),
        o if o == oids::SHA3_384 => MessageDigest::sha3_384(),
        o if o == oids::SHA3_512 => MessageDigest::sha3_512(),
        _ => return None,
    })
}

/// The digest of the concatenation of `parts` (a PDF byte range is two slices; no copy).
pub fn hash(md: MessageDigest, parts: &[&[u8]]) -> Option<Vec<u8>> {
    let mut h = Hasher::new(md).ok()?;
    for p in parts {
        h.update(p).ok()?;
    }
    h.finish().ok().map(|d| d.to_vec())
}

/// A signature scheme with all its parameters resolved.
#[derive(Clone, Copy)]
pub enum Scheme {
    /// RSASSA-PKCS1-v1_5 with a digest.
    RsaPkcs1(MessageDigest),
    /// RSASSA-PSS (RFC 4055 §3.1): digest, MGF1 digest, salt length.
    RsaPss(MessageDigest, MessageDigest, i32),
    /// ECDSA (or DSA) with a digest; the value is a DER `Ecdsa-Sig-Value`.
    Ecdsa(MessageDigest),
    /// ECDSA with a digest; the value is plain `r || s` (BSI TR-03111 §5.2.1).
    EcdsaPlain(MessageDigest),
    /// Ed25519 / Ed448 (RFC 8419): pure, no digest.
    EdDsa,
}

/// Why a signature algorithm cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AlgorithmError {
    /// Not implemented.
    #[error("unsupported signature algorithm {0}")]
    Unsupported(String),
    /// RSA-PSS parameters unreadable.
    #[error("bad rsa-pss parameters")]
    BadPssParameters,
}

/// Resolves the signatureAlgorithm of a SignerInfo; `digest_alg` is its digestAlgorithm, used
/// by the bare key OIDs (rsaEncryption, id-ecPublicKey) that name no digest (RFC 3370 §3.2).
pub fn scheme(alg: &AlgorithmId<'_>, digest_alg: &[u8]) -> Result<Scheme, AlgorithmError> {
    let unsupported = || AlgorithmError::Unsupported(der::oid_string(alg.oid));
    let with = |oid: &[u8]| digest(oid).ok_or_else(unsupported);
    let o = alg.oid;
    Ok(match o {
        _ if o == oids::RSA => Scheme::RsaPkcs1(with(digest_alg)?),
        _ if o == oids::RSA_SHA1 => Scheme::RsaPkcs1(with(oids::SHA1)?),
        _ if o == oids::RSA_SHA224 => Scheme::RsaPkcs1(with(oids::SHA224)?),
        _ if o == oids::RSA_SHA256 => Scheme::RsaPkcs1(with(oids::SHA256)?),
        _ if o == oids::RSA_SHA384 => Scheme::RsaPkcs1(with(oids::SHA384)?),
        _ if o == oids::RSA_SHA512 => Scheme::RsaPkcs1(with(oids::SHA512)?),
        _ if o == oids::RSA_SHA3_224 => Scheme::RsaPkcs1(with(oids::SHA3_224)?),
        _ if o == oids::RSA_SHA3_256 => Scheme::RsaPkcs1(with(oids::SHA3_256)?),
        _ if o == oids::RSA_SHA3_384 => Scheme::RsaPkcs1(with(oids::SHA3_384)?),
        _ if o == oids::RSA_SHA3_512 => Scheme::RsaPkcs1(with(oids::SHA3_512)?),
        _ if o == oids::RSA_PSS => pss(alg)?,
        _ if o == oids::EC_PUBLIC_KEY => Scheme::Ecdsa(with(digest_alg)?),
        _ if o == oids::ECDSA_SHA1 || o == oids::DSA_SHA1 => Scheme::Ecdsa(with(oids::SHA1)?),
        _ if o == oids::ECDSA_SHA224 => Scheme::Ecdsa(with(oids::SHA224)?),
        _ if o == oids::ECDSA_SHA256 || o == oids::DSA_SHA256 => Scheme::Ecdsa(with(oids::SHA256)?),
        _ if o == oids::ECDSA_SHA384 => Scheme::Ecdsa(with(oids::SHA384)?),
        _ if o == oids::ECDSA_SHA512 => Scheme::Ecdsa(with(oids::SHA512)?),
        _ if o == oids::ECDSA_SHA3_224 => Scheme::Ecdsa(with(oids::SHA3_224)?),
        _ if o == oids::ECDSA_SHA3_256 => Scheme::Ecdsa(with(oids::SHA3_256)?),
        _ if o == oids::ECDSA_SHA3_384 => Scheme::Ecdsa(with(oids::SHA3_384)?),
        _ if o == oids::ECDSA_SHA3_512 => Scheme::Ecdsa(with(oids::SHA3_512)?),
        _ if o == oids::ECDSA_PLAIN_SHA1 => Scheme::EcdsaPlain(with(oids::SHA1)?),
        _ if o == oids::ECDSA_PLAIN_SHA224 => Scheme::EcdsaPlain(with(oids::SHA224)?),
        _ if o == oids::ECDSA_PLAIN_SHA256 => Scheme::EcdsaPlain(with(oids::SHA256)?),
        _ if o == oids::ECDSA_PLAIN_SHA384 => Scheme::EcdsaPlain(with(oids::SHA384)?),
        _ if o == oids::ECDSA_PLAIN_SHA512 => Scheme::EcdsaPlain(with(oids::SHA512)?),
        _ if o == oids::ED25519 || o == oids::ED448 => Scheme::EdDsa,
        _ => return Err(unsupported()),
    })
}

/// The digest a scheme hashes with (`None` for EdDSA).
pub fn scheme_digest(s: &Scheme) -> Option<MessageDigest> {
    match s {
        Scheme::RsaPkcs1(md)
        | Scheme::RsaPss(md, _, _)
        | Scheme::Ecdsa(md)
        | Scheme::EcdsaPlain(md) => Some(*md),
        Scheme::EdDsa => None,
    }
}

/// RSASSA-PSS-params ::= SEQUENCE { [0] hashAlgorithm DEFAULT sha1, [1] maskGenAlgorithm
/// DEFAULT mgf1SHA1, [2] saltLength DEFAULT 20, [3] trailerField DEFAULT 1 } (RFC 4055 §3.1).
fn pss(alg: &AlgorithmId<'_>) -> Result<Scheme, AlgorithmError> {
    let bad = || AlgorithmError::BadPssParameters;
    let (mut md, mut mgf, mut salt) = (MessageDigest::sha1(), MessageDigest::sha1(), 20i32);
    let Some(params) = alg.params.filter(|p| p.tag == Tag::SEQUENCE) else {
        return Ok(Scheme::RsaPss(md, mgf, salt));
    };
    for field in der::children(params.content) {
        let field = field.map_err(|_| bad())?;
        let (inner, _) = der::read(field.content).map_err(|_| bad())?;
        match field.tag.number {
            0 => md = digest(inner_oid(&inner).ok_or_else(bad)?).ok_or_else(bad)?,
            1 => {
                let mgf_alg = super::parse::algorithm(&inner).map_err(|_| bad())?;
                if mgf_alg.oid != oids::MGF1 {
                    return Err(bad());
                }
                let hash_alg = mgf_alg.params.ok_or_else(bad)?;
                mgf = digest(inner_oid(&hash_alg).ok_or_else(bad)?).ok_or_else(bad)?;
            }
            2 => salt = small_int(inner.content).ok_or_else(bad)?,
            3 if small_int(inner.content) == Some(1) => {}
            _ => return Err(bad()),
        }
    }
    Ok(Scheme::RsaPss(md, mgf, salt))
}

fn inner_oid<'a>(alg: &der::Tlv<'a>) -> Option<&'a [u8]> {
    super::parse::algorithm(alg).ok().map(|a| a.oid)
}

fn small_int(content: &[u8]) -> Option<i32> {
    if content.is_empty() || content.len() > 3 {
        return None;
    }
    Some(
        content
            .iter()
            .fold(0i32, |acc, &b| (acc << 8) | i32::from(b)),
    )
}

/// Whether `signature` over `data` verifies with `key` under `scheme`. A key of the wrong type
/// or a malformed value is simply "does not verify".
pub fn verify(scheme: &Scheme, key: &PKey<Public>, data: &[u8], signature: &[u8]) -> bool {
    if !key_fits(scheme, key.id()) {
        return false;
    }
    let result = match scheme {
        Scheme::EcdsaPlain(md) => {
            let Some(der) = plain_to_der(signature) else {
                return false;
            };
            Verifier::new(*md, key).and_then(|mut v| {
                v.update(data)?;
                v.verify(&der)
            })
        }
        Scheme::EdDsa => {
            Verifier::new_without_digest(key).and_then(|mut v| v.verify_oneshot(signature, data))
        }
        Scheme::RsaPkcs1(md) | Scheme::Ecdsa(md) => Verifier::new(*md, key).and_then(|mut v| {
            v.update(data)?;
            v.verify(signature)
        }),
        Scheme::RsaPss(md, mgf, salt) => Verifier::new(*md, key).and_then(|mut v| {
            v.set_rsa_padding(Padding::PKCS1_PSS)?;
            v.set_rsa_mgf1_md(*mgf)?;
            v.set_rsa_pss_saltlen(RsaPssSaltlen::custom(*salt))?;
            v.update(data)?;
            v.verify(signature)
        }),
    };
    result.unwrap_or(false)
}

/// `r || s` (two equal halves) as a DER `Ecdsa-Sig-Value` (RFC 5480 §2.2).
fn plain_to_der(signature: &[u8]) -> Option<Vec<u8>> {
    if signature.is_empty() || !signature.len().is_multiple_of(2) {
        return None;
    }
    let (r, s) = signature.split_at(signature.len() / 2);
    let r = BigNum::from_slice(r).ok()?;
    let s = BigNum::from_slice(s).ok()?;
    EcdsaSig::from_private_components(r, s).ok()?.to_der().ok()
}

/// The key type a scheme needs (openssl would otherwise pick the key's own algorithm).
fn key_fits(scheme: &Scheme, id: Id) -> bool {
    match scheme {
        Scheme::RsaPkcs1(_) => id == Id::RSA,
        Scheme::RsaPss(..) => id == Id::RSA || id == Id::RSA_PSS,
        Scheme::Ecdsa(_) => id == Id::EC || id == Id::DSA,
        Scheme::EcdsaPlain(_) => id == Id::EC,
        Scheme::EdDsa => id == Id::ED25519 || id == Id::ED448,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::ec::{EcGroup, EcKey};
    use openssl::nid::Nid;
    use openssl::sign::Signer;

    #[test]
    fn hashes_a_split_range_like_the_whole() {
        let md = MessageDigest::sha256();
        assert_eq!(hash(md, &[b"ab", b"c"]), hash(md, &[b"abc"]));
        assert!(digest(oids::SHA3_256).is_some());
        assert!(digest(oids::RSA).is_none());
    }

    #[test]
    fn verifies_ecdsa_and_refuses_a_wrong_key_type() {
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
        let key = PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap();
        let mut s = Signer::new(MessageDigest::sha256(), &key).unwrap();
        s.update(b"data").unwrap();
        let sig = s.sign_to_vec().unwrap();
        let public = PKey::public_key_from_der(&key.public_key_to_der().unwrap()).unwrap();
        let scheme = Scheme::Ecdsa(MessageDigest::sha256());
        assert!(verify(&scheme, &public, b"data", &sig));
        assert!(!verify(&scheme, &public, b"date", &sig));
        let rsa = Scheme::RsaPkcs1(MessageDigest::sha256());
        assert!(!verify(&rsa, &public, b"data", &sig));
        let parsed = EcdsaSig::from_der(&sig).unwrap();
        let mut plain = parsed.r().to_vec_padded(32).unwrap();
        plain.extend(parsed.s().to_vec_padded(32).unwrap());
        let bsi = Scheme::EcdsaPlain(MessageDigest::sha256());
        assert!(verify(&bsi, &public, b"data", &plain));
        assert!(!verify(&bsi, &public, b"data", &sig));
    }

    #[test]
    fn reads_pss_parameters_and_defaults() {
        let alg = AlgorithmId {
            oid: oids::RSA_PSS,
            params: None,
        };
        assert!(matches!(
            scheme(&alg, oids::SHA256),
            Ok(Scheme::RsaPss(_, _, 20))
        ));
        let unknown = AlgorithmId {
            oid: &[0x2a, 0x03],
            params: None,
        };
        assert!(scheme(&unknown, oids::SHA256).is_err());
    }
}
