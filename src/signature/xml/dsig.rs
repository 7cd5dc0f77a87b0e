//! Core XML-DSig (W3C XML Signature 1.1 §3.2 "core validation"): read a `ds:Signature`,
//! check every reference digest (§3.2.1) and the signature value over the canonical
//! `SignedInfo` (§3.2.2) with the key of a certificate from `KeyInfo` (or a bare `KeyValue`).

use super::algorithms::{self, SignatureAlgorithm};
use super::c14n::{canonicalize, Params};
use super::keys;
use super::nodeset::NodeSet;
use super::refs::{self, Dereferenced, IdIndex, RefError, Resolver};
use super::transforms::{self, decode_base64, is_dsig, Data, Env, TransformError};
use openssl::x509::X509;
use roxmltree::{Document, Node};
use thiserror::Error;

/// Why a `ds:Signature` element is not a well-formed signature (FORMAT_FAILURE).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum StructureError {
    /// A required child is missing.
    #[error("signature has no {0}")]
    Missing(&'static str),
    /// More references than [`MAX_REFERENCES`] (each may canonicalize the whole document).
    #[error("signature has more than {0} references")]
    TooManyReferences(usize),
    /// A base64 value could not be decoded.
    #[error("{0} is not valid base64")]
    BadBase64(&'static str),
}

/// Most references accepted in one SignedInfo (DSS's own samples go to 500).
pub const MAX_REFERENCES: usize = 2000;

/// One `ds:Reference`.
pub struct ReferenceXml<'a, 'i> {
    /// The element.
    pub node: Node<'a, 'i>,
    /// `@URI`, absent when the application supplies the data.
    pub uri: Option<&'a str>,
    /// `@Type` (XAdES marks its SignedProperties reference with it).
    pub kind: Option<&'a str>,
    /// `@Id`.
    pub id: Option<&'a str>,
    /// The `ds:Transform` elements in order.
    pub transforms: Vec<Node<'a, 'i>>,
    /// `DigestMethod/@Algorithm`.
    pub digest_method: &'a str,
    /// The decoded `DigestValue`.
    pub digest_value: Vec<u8>,
}

/// One `ds:Signature`, its parts located.
pub struct SignatureXml<'a, 'i> {
    /// The `ds:Signature` element.
    pub node: Node<'a, 'i>,
    /// `@Id`.
    pub id: Option<&'a str>,
    /// `ds:SignedInfo`.
    pub signed_info: Node<'a, 'i>,
    /// `ds:CanonicalizationMethod`.
    pub c14n_method: Node<'a, 'i>,
    /// `ds:SignatureMethod`.
    pub signature_method: Node<'a, 'i>,
    /// The decoded `ds:SignatureValue`.
    pub value: Vec<u8>,
    /// The references in order.
    pub references: Vec<ReferenceXml<'a, 'i>>,
    /// Certificates from `KeyInfo/X509Data`, in order.
    pub certificates: Vec<X509>,
}

fn child<'a, 'i>(n: Node<'a, 'i>, local: &str) -> Option<Node<'a, 'i>> {
    n.children().find(|c| is_dsig(*c, local))
}

fn text_of<'a>(n: Node<'a, '_>) -> &'a str {
    n.text().unwrap_or("")
}

/// Locates the parts of a `ds:Signature` (XML-DSig §4).
pub fn parse_signature<'a, 'i>(node: Node<'a, 'i>) -> Result<SignatureXml<'a, 'i>, StructureError> {
    let signed_info = child(node, "SignedInfo").ok_or(StructureError::Missing("SignedInfo"))?;
    let c14n_method = child(signed_info, "CanonicalizationMethod")
        .ok_or(StructureError::Missing("CanonicalizationMethod"))?;
    let signature_method =
        child(signed_info, "SignatureMethod").ok_or(StructureError::Missing("SignatureMethod"))?;
    let value_node =
        child(node, "SignatureValue").ok_or(StructureError::Missing("SignatureValue"))?;
    let value = decode_base64(text_of(value_node).as_bytes())
        .ok_or(StructureError::BadBase64("SignatureValue"))?;
    let mut references = Vec::new();
    for r in signed_info.children().filter(|c| is_dsig(*c, "Reference")) {
        if references.len() == MAX_REFERENCES {
            return Err(StructureError::TooManyReferences(MAX_REFERENCES));
        }
        references.push(parse_reference(r)?);
    }
    if references.is_empty() {
        return Err(StructureError::Missing("Reference"));
    }
    Ok(SignatureXml {
        node,
        id: node.attribute("Id"),
        signed_info,
        c14n_method,
        signature_method,
        value,
        references,
        certificates: key_info_certificates(node),
    })
}

/// Locates the parts of one `ds:Reference` (§4.4.3).
pub fn parse_reference<'a, 'i>(r: Node<'a, 'i>) -> Result<ReferenceXml<'a, 'i>, StructureError> {
    let method = child(r, "DigestMethod").ok_or(StructureError::Missing("DigestMethod"))?;
    let value = child(r, "DigestValue").ok_or(StructureError::Missing("DigestValue"))?;
    let transforms = child(r, "Transforms")
        .map(|t| t.children().filter(|c| is_dsig(*c, "Transform")).collect())
        .unwrap_or_default();
    Ok(ReferenceXml {
        node: r,
        uri: r.attribute("URI"),
        kind: r.attribute("Type"),
        id: r.attribute("Id"),
        transforms,
        digest_method: method.attribute("Algorithm").unwrap_or(""),
        digest_value: decode_base64(text_of(value).as_bytes())
            .ok_or(StructureError::BadBase64("DigestValue"))?,
    })
}

/// Candidate signing certificates: `KeyInfo/X509Data/X509Certificate`, then the XAdES
/// `CertificateValues` of this signature (EN 319 132-1 §5.5.1), where some signers put it.
fn key_info_certificates(sig: Node) -> Vec<X509> {
    let key_info = keys::key_sources(sig)
        .into_iter()
        .flat_map(|k| k.descendants().filter(|n| is_dsig(*n, "X509Certificate")));
    let values = sig
        .children()
        .filter(|c| is_dsig(*c, "Object"))
        .flat_map(|o| o.descendants())
        .filter(|n| super::xades::is_xades(*n, "EncapsulatedX509Certificate"))
        .filter(|n| {
            n.parent()
                .is_some_and(|p| super::xades::is_xades(p, "CertificateValues"))
        });
    key_info
        .chain(values)
        .filter_map(|n| decode_base64(text_of(n).as_bytes()))
        .filter_map(|der| crate::signature::decoded::certificate(&der))
        .collect()
}

/// The outcome of one reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefOutcome {
    /// The digest matches.
    Valid,
    /// The digest does not match (HASH_FAILURE).
    DigestMismatch,
    /// The referenced data could not be found or is ambiguous.
    NotResolved(RefError),
    /// A transform or the digest algorithm is not supported.
    Unsupported(String),
    /// A transform failed on its input.
    Failed(String),
}

/// What one reference covers and whether its digest matched.
pub struct ReferenceCheck<'a, 'i> {
    /// `@URI`.
    pub uri: Option<String>,
    /// `@Type`.
    pub kind: Option<String>,
    /// The element a same-document reference points at (`None` for the whole document).
    pub element: Option<Node<'a, 'i>>,
    /// The name of a detached object.
    pub detached: Option<String>,
    /// SHA-256 of the dereferenced bytes (detached) or of the digested octets.
    pub sha256: Option<String>,
    /// Whether the transforms leave the whole referenced object (nothing filtered out but the
    /// signature itself).
    pub whole: bool,
    /// The result.
    pub outcome: RefOutcome,
}

/// The check of a reference that could not even be read.
pub fn failed_check<'a, 'i>(r: Node<'a, 'i>, reason: String) -> ReferenceCheck<'a, 'i> {
    ReferenceCheck {
        uri: r.attribute("URI").map(str::to_string),
        kind: r.attribute("Type").map(str::to_string),
        element: None,
        detached: None,
        sha256: None,
        whole: false,
        outcome: RefOutcome::Failed(reason),
    }
}

/// Checks one reference: dereference, transforms, digest (§3.2.1).
pub fn check_reference<'a, 'i>(
    doc: &'a Document<'i>,
    ids: &'a IdIndex<'a, 'i>,
    sig: &SignatureXml<'a, 'i>,
    r: &ReferenceXml<'a, 'i>,
    detached: Resolver,
) -> ReferenceCheck<'a, 'i> {
    let mut check = ReferenceCheck {
        uri: r.uri.map(str::to_string),
        kind: r.kind.map(str::to_string),
        element: None,
        detached: None,
        sha256: None,
        whole: false,
        outcome: RefOutcome::Valid,
    };
    let Some(md) = algorithms::digest_by_uri(r.digest_method) else {
        check.outcome = RefOutcome::Unsupported(format!("digest {}", r.digest_method));
        return check;
    };
    let data = match refs::dereference(doc, ids, r.uri, detached) {
        Ok(Dereferenced::Nodes(set, element)) => {
            check.element = element;
            Data::Nodes(set)
        }
        Ok(Dereferenced::Octets(bytes, name)) => {
            check.sha256 = sha256_hex(&bytes);
            check.detached = Some(name);
            Data::Octets(bytes)
        }
        Err(e) => {
            check.outcome = RefOutcome::NotResolved(e);
            return check;
        }
    };
    let env = Env {
        doc,
        signature: Some(sig.node),
        ids,
    };
    let octets = match transforms::apply(&env, &r.transforms, data) {
        Ok(applied) => {
            check.whole = applied.whole;
            applied.octets
        }
        Err(TransformError::Unsupported(s)) => {
            check.outcome = RefOutcome::Unsupported(s);
            return check;
        }
        Err(TransformError::Failed(s)) => {
            check.outcome = RefOutcome::Failed(s);
            return check;
        }
    };
    let computed = algorithms::digest(md, &octets);
    if check.sha256.is_none() {
        // The scope's SHA-256 is the digest itself when the reference uses SHA-256: one pass
        // over the (often whole-document) octets instead of two.
        let sha256 = openssl::hash::MessageDigest::sha256();
        check.sha256 = match &computed {
            Some(d) if md == sha256 => Some(hex(d)),
            _ => sha256_hex(&octets),
        };
    }
    if computed.as_deref() != Some(r.digest_value.as_slice()) {
        check.outcome = RefOutcome::DigestMismatch;
    }
    check
}

/// SHA-256 as lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> Option<String> {
    algorithms::digest(openssl::hash::MessageDigest::sha256(), bytes).map(|d| hex(&d))
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// The outcome of the signature-value check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueOutcome {
    /// The value verifies with the key of the certificate at this index (or `None`: KeyValue).
    Valid(Option<usize>),
    /// No available key verifies the value (SIG_CRYPTO_FAILURE).
    Invalid,
    /// The algorithm or canonicalization is not supported.
    Unsupported(String),
    /// No key to check with (NO_SIGNING_CERTIFICATE_FOUND).
    NoKey,
}

/// Canonicalizes `SignedInfo` (§4.4.1) and verifies the value with each candidate key.
pub fn check_value(doc: &Document, sig: &SignatureXml) -> ValueOutcome {
    let c14n_uri = sig.c14n_method.attribute("Algorithm").unwrap_or("");
    let Some(mut params) = Params::from_uri(c14n_uri) else {
        return ValueOutcome::Unsupported(format!("canonicalization {c14n_uri}"));
    };
    params.inclusive_prefixes = transforms::inclusive_prefixes(sig.c14n_method);
    let Some(alg) = signature_algorithm(sig.signature_method) else {
        let uri = sig.signature_method.attribute("Algorithm").unwrap_or("");
        return ValueOutcome::Unsupported(format!("signature method {uri}"));
    };
    let mut set = NodeSet::subtree(doc, sig.signed_info);
    if !params.with_comments {
        set.remove_comments_under(sig.signed_info);
    }
    let canonical = canonicalize(doc, &set, &params);
    for (i, cert) in sig.certificates.iter().enumerate() {
        if let Ok(key) = cert.public_key() {
            if algorithms::verify(&alg, &key, &canonical, &sig.value) {
                return ValueOutcome::Valid(Some(i));
            }
        }
    }
    if let Some(key) = keys::key_value(sig.node) {
        return if algorithms::verify(&alg, &key, &canonical, &sig.value) {
            ValueOutcome::Valid(None)
        } else {
            ValueOutcome::Invalid
        };
    }
    if sig.certificates.is_empty() {
        ValueOutcome::NoKey
    } else {
        ValueOutcome::Invalid
    }
}

/// The signature algorithm, with RFC 6931 §2.3.10 `RSAPSSParams` when present.
fn signature_algorithm(method: Node) -> Option<SignatureAlgorithm> {
    let uri = method.attribute("Algorithm").unwrap_or("");
    if uri != algorithms::RSA_PSS_PARAMS_URI {
        return algorithms::signature_by_uri(uri);
    }
    let params = method
        .children()
        .find(|c| c.tag_name().name() == "RSAPSSParams");
    let digest_uri = params
        .and_then(|p| p.children().find(|c| c.tag_name().name() == "DigestMethod"))
        .and_then(|d| d.attribute("Algorithm"))
        .unwrap_or("http://www.w3.org/2001/04/xmlenc#sha256");
    let digest = algorithms::digest_by_uri(digest_uri)?;
    let salt_len = params
        .and_then(|p| p.children().find(|c| c.tag_name().name() == "SaltLength"))
        .and_then(|s| s.text())
        .and_then(|t| t.trim().parse().ok());
    Some(SignatureAlgorithm {
        kind: algorithms::KeyKind::RsaPss,
        digest,
        salt_len,
    })
}
