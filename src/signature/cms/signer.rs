//! The integrity check of one SignerInfo (RFC 5652 §5.4, §5.6): content digest against
//! messageDigest, contentType, the signature value over the signed attributes exactly as
//! received, and the ESS binding of the certificate whose key verified it (RFC 5035 §3). Used
//! for signatures, counter-signatures (§11.4) and time-stamp tokens (RFC 3161 §2.4.2) alike.

use super::algorithms::{self, Scheme};
use super::attributes::{self, Binding};
use super::certs;
use super::evidence::Failure;
use super::oids;
use super::parse::{SignedData, SignerInfo};

/// What the SignerInfo signs over besides its attributes.
#[derive(Debug, Clone, Copy)]
pub enum Role<'a> {
    /// A signature over eContent of the given type: contentType must name it (§11.1).
    Content(&'a [u8]),
    /// A counter-signature: contentType must be absent (§11.4).
    CounterSignature,
}

/// The outcome of checking one SignerInfo.
#[derive(Debug, Clone, Default)]
pub struct SignerCheck {
    /// Most serious failure.
    pub failure: Option<Failure>,
    /// Reasons for failure.
    pub errors: Vec<String>,
    /// Remarks.
    pub warnings: Vec<String>,
    /// The value verified.
    pub value_intact: bool,
    /// The content digest matched (`None`: no content to compare).
    pub content_intact: Option<bool>,
    /// The ESS reference matched the certificate (`None`: no reference).
    pub bound: Option<bool>,
    /// The certificate that verified (else the first one the sid names).
    pub signing_certificate: Option<Vec<u8>>,
    /// signingTime.
    pub signing_time: Option<String>,
}

impl SignerCheck {
    fn fail(&mut self, failure: Failure, message: impl Into<String>) {
        self.failure = Some(self.failure.map_or(failure, |f| f.min(failure)));
        self.errors.push(message.into());
    }
}

/// Checks one SignerInfo of `sd` over `content` (the parts of the signed bytes, or `None` when
/// they are not available).
pub fn check(
    sd: &SignedData<'_>,
    si: &SignerInfo<'_>,
    content: Option<&[&[u8]]>,
    role: Role<'_>,
) -> SignerCheck {
    check_with(sd, si, content, None, role)
}

/// [`check`] with the content's digest already computed by the caller (`(digest algorithm
/// OID, digest)`, as a PDF verifier does while hashing the file): used instead of hashing
/// `content` again when the OID is the SignerInfo's digestAlgorithm.
pub fn check_with(
    sd: &SignedData<'_>,
    si: &SignerInfo<'_>,
    content: Option<&[&[u8]]>,
    prehashed: Option<(&[u8], &[u8])>,
    role: Role<'_>,
) -> SignerCheck {
    let mut out = SignerCheck::default();
    let Some(md) = algorithms::digest(si.digest_algorithm.oid) else {
        let oid = crate::signature::der::oid_string(si.digest_algorithm.oid);
        out.fail(
            Failure::Unsupported,
            format!("unsupported digest algorithm {oid}"),
        );
        return out;
    };
    let digest = match prehashed {
        Some((oid, digest)) if content.is_some() && oid == si.digest_algorithm.oid => {
            Some(digest.to_vec())
        }
        _ => content.and_then(|parts| algorithms::hash(md, parts)),
    };
    let to_verify = match si.signed_attrs_to_verify() {
        Some(attrs) => {
            check_signed_attributes(&mut out, si, digest.as_deref(), role);
            Some(attrs)
        }
        // Without signed attributes the value covers the content itself (§5.4).
        None => content.map(|parts| parts.concat()),
    };
    if content.is_none() {
        out.fail(
            Failure::SignedDataNotFound,
            "the signed content was not supplied",
        );
    }
    let scheme = match algorithms::scheme(&si.signature_algorithm, si.digest_algorithm.oid) {
        Ok(s) => s,
        Err(e) => {
            out.fail(Failure::Unsupported, e.to_string());
            return out;
        }
    };
    if let Some(e) = eddsa_digest_constraint(si) {
        out.fail(Failure::Format, e);
    }
    if let Some(data) = to_verify {
        let sorted = si.signed_attrs_der_sorted();
        verify_value(&mut out, sd, si, &scheme, &data, sorted.as_deref());
    }
    out
}

/// RFC 8419 §3.1: with signed attributes, Ed25519 signers MUST use SHA-512 and Ed448 signers
/// SHAKE256 (512-bit output) as the digest algorithm.
fn eddsa_digest_constraint(si: &SignerInfo<'_>) -> Option<&'static str> {
    si.signed_attrs_raw?;
    let sig = si.signature_algorithm.oid;
    let digest = si.digest_algorithm.oid;
    if sig == oids::ED25519 && digest != oids::SHA512 {
        return Some("Ed25519 with a digest algorithm other than SHA-512 (RFC 8419 §3.1)");
    }
    if sig == oids::ED448 && digest != oids::SHAKE256_LEN {
        return Some("Ed448 with a digest algorithm other than SHAKE256 (RFC 8419 §3.1)");
    }
    None
}

/// RFC 5652 §5.3, §11: contentType, messageDigest, signingTime, each at most once.
fn check_signed_attributes(
    out: &mut SignerCheck,
    si: &SignerInfo<'_>,
    digest: Option<&[u8]>,
    role: Role<'_>,
) {
    match (
        attributes::single(si, oids::CONTENT_TYPE, "content-type"),
        role,
    ) {
        (Err(e), _) => out.fail(Failure::Format, e),
        (Ok(None), Role::Content(_)) => {
            out.fail(Failure::Format, "signed attributes without content-type")
        }
        (Ok(Some(v)), Role::Content(expected)) => {
            if attributes::primitive(v, 6) != Some(expected) {
                out.fail(
                    Failure::Format,
                    "content-type attribute differs from the content",
                );
            }
        }
        (Ok(Some(_)), Role::CounterSignature) => out.fail(
            Failure::Format,
            "counter-signature with a content-type attribute",
        ),
        (Ok(None), Role::CounterSignature) => {}
    }
    match attributes::single(si, oids::MESSAGE_DIGEST, "message-digest") {
        Err(e) => out.fail(Failure::Format, e),
        Ok(None) => out.fail(Failure::Format, "signed attributes without message-digest"),
        Ok(Some(v)) => {
            let claimed = attributes::primitive(v, 4);
            if let Some(d) = digest {
                let ok = claimed == Some(d);
                out.content_intact = Some(ok);
                if !ok {
                    out.fail(Failure::Hash, "message-digest does not match the content");
                }
            }
        }
    }
    match attributes::signing_time(si) {
        Ok(t) => out.signing_time = t,
        Err(e) => out.fail(Failure::Format, e),
    }
    if algorithms::scheme(&si.signature_algorithm, si.digest_algorithm.oid)
        .ok()
        .and_then(|s| algorithms::scheme_digest(&s))
        .is_some_and(|m| Some(m) != algorithms::digest(si.digest_algorithm.oid))
    {
        out.warnings
            .push("the signature algorithm hashes with another digest than digestAlgorithm".into());
    }
}

/// Finds the certificate the sid names whose key verifies the value, then checks the ESS
/// binding against that very certificate (key substitution fails here). RFC 5652 §5.4 signs
/// the DER encoding of the attributes: the bytes as received are tried first, then, for a
/// signer that sent them in another order than it signed (DSS `DER_reordered`), `der_sorted`.
fn verify_value(
    out: &mut SignerCheck,
    sd: &SignedData<'_>,
    si: &SignerInfo<'_>,
    scheme: &Scheme,
    data: &[u8],
    der_sorted: Option<&[u8]>,
) {
    let candidates: Vec<&[u8]> = sd
        .certificates
        .iter()
        .copied()
        .filter(|der| certs::fields(der).is_some_and(|f| certs::matches(&si.sid, &f)))
        .collect();
    let verifying = |data: &[u8]| {
        candidates.iter().copied().find(|der| {
            crate::signature::decoded::certificate(der)
                .and_then(|c| c.public_key().ok())
                .is_some_and(|key| algorithms::verify(scheme, &key, data, si.signature))
        })
    };
    let mut verified = verifying(data);
    if let (None, Some(sorted)) = (verified, der_sorted) {
        verified = verifying(sorted);
        if verified.is_some() {
            out.warnings.push(
                "signed attributes verify only in DER order, not in the order received (X.690 §11.6)"
                    .into(),
            );
        }
    }
    match (verified, candidates.first()) {
        (Some(cert), _) => {
            out.value_intact = true;
            out.signing_certificate = Some(cert.to_vec());
            check_binding(out, si, cert);
        }
        (None, Some(first)) => {
            out.signing_certificate = Some(first.to_vec());
            out.fail(Failure::Crypto, "signature value does not verify");
        }
        (None, None) => out.fail(
            Failure::SigningCertificate,
            "the signing certificate named by the signer identifier is not in the signature",
        ),
    }
}

fn check_binding(out: &mut SignerCheck, si: &SignerInfo<'_>, cert: &[u8]) {
    let id = match attributes::signing_certificate_id(si) {
        Ok(Some(id)) => id,
        Ok(None) => {
            if si.signed_attrs_raw.is_some() {
                out.warnings
                    .push("no signing-certificate attribute binds the certificate".into());
            }
            return;
        }
        Err(e) => return out.fail(Failure::SigningCertificate, e),
    };
    match attributes::bind(&id, cert) {
        Binding::Bound => out.bound = Some(true),
        Binding::SerialMismatch => {
            out.bound = Some(true);
            out.warnings
                .push("signing-certificate issuer-serial names another serial number".into());
        }
        Binding::HashMismatch => {
            out.bound = Some(false);
            out.fail(
                Failure::SigningCertificate,
                "the certificate that verified the signature is not the signing-certificate",
            );
        }
        Binding::Unsupported => out.fail(
            Failure::Unsupported,
            "unsupported digest algorithm in signing-certificate",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signature::cms::parse::{AlgorithmId, SignerId};

    fn signer_info<'a>(sig: &'a [u8], digest: &'a [u8]) -> SignerInfo<'a> {
        SignerInfo {
            sid: SignerId::KeyId(&[1]),
            digest_algorithm: AlgorithmId {
                oid: digest,
                params: None,
            },
            signed_attrs_raw: Some(&[0xa0, 0x00]),
            signed_attrs: Vec::new(),
            signature_algorithm: AlgorithmId {
                oid: sig,
                params: None,
            },
            signature: &[],
            unsigned_attrs: Vec::new(),
            archived: &[],
        }
    }

    #[test]
    fn eddsa_signers_must_use_the_digest_rfc_8419_names() {
        assert!(eddsa_digest_constraint(&signer_info(oids::ED25519, oids::SHA512)).is_none());
        assert!(eddsa_digest_constraint(&signer_info(oids::ED25519, oids::SHA256)).is_some());
        assert!(eddsa_digest_constraint(&signer_info(oids::ED448, oids::SHAKE256_LEN)).is_none());
        assert!(eddsa_digest_constraint(&signer_info(oids::ED448, oids::SHA512)).is_some());
        assert!(eddsa_digest_constraint(&signer_info(oids::RSA, oids::SHA256)).is_none());
    }
}
