//! The fast path of XML verification: a document whose one `ds:Signature` covers the rest of
//! the document by `URI=""` with the enveloped-signature transform (the shape of forms
//! signed in Poland's public services, XAdES-B included) is verified without a tree of the
//! whole document.
//!
//! One pass of the streaming reader ([`stream::scan`]) checks the document, finds the
//! signature and the elements enclosing it, and counts every ID-typed attribute of the whole
//! document. A small document — the enclosing start tags as written, the signature, their end
//! tags — is then parsed into a tree and verified by the same code as any other
//! (`verify::signature_evidence`), except that the `URI=""` reference is digested by a
//! second streaming pass that canonicalizes the document without the signature straight into
//! the hash ([`stream::canonicalize_without`]).
//!
//! The wrapping defences hold because anything this path cannot vouch for sends the document
//! back to the tree ([`evidence`] returns `None`): more than one signature, an ID of the small
//! tree not carried by exactly as many elements in the whole document, a same-document
//! reference to an element outside the signature, transforms other than canonicalization
//! (plus enveloped-signature on `URI=""`), manifests, or anything the streaming reader does
//! not read exactly as roxmltree would.

use super::algorithms;
use super::c14n::{Method, Params};
use super::dsig::{self, hex, RefOutcome, ReferenceCheck, ReferenceXml};
use super::evidence::Evidence;
use super::parse;
use super::refs::{IdIndex, Resolver};
use super::stream;
use super::transforms::{self, is_dsig, ENVELOPED};
use super::verify::signature_evidence;
use openssl::hash::{Hasher, MessageDigest};
use roxmltree::Node;

/// How one reference of the signature is checked.
enum Plan {
    /// By the tree of the small document (a reference to an element inside the signature).
    Tree,
    /// By the streaming canonicalizer over the whole document without the signature.
    Stream(Method),
}

/// The evidence of the one signature of `text`, or `None` when the document is not of the
/// shape this path handles (the caller then builds the whole tree).
pub fn evidence(name: &str, text: &str, detached: Resolver) -> Option<Vec<Evidence>> {
    // Without an enveloped-signature transform no reference is streamed, and the tree is
    // needed anyway (detached and enveloping signatures, unsigned documents): no pass here.
    let guess = likely_method(text)?;
    let (scan, canonical) = stream::scan_and_canonicalize(text, guess).ok()?;
    if scan.signatures != 1 {
        return None;
    }
    let (start, end) = scan.signature?;
    let mut small = String::with_capacity(end - start + 256);
    for (tag, _) in &scan.ancestors {
        small.push_str(tag);
    }
    small.push_str(text.get(start..end)?);
    for (_, qname) in scan.ancestors.iter().rev() {
        small.push_str("</");
        small.push_str(qname);
        small.push('>');
    }
    let doc = parse::parse(&small).ok()?;
    let ids = IdIndex::new(&doc);
    // Every ID of the small tree is carried by as many elements in the whole document: no
    // element outside it shares one (which the tree path would report as ambiguous).
    let same_ids = ids
        .counts()
        .all(|(id, n)| scan.ids.get(id).copied() == Some(n));
    if !same_ids {
        return None;
    }
    let node = doc.descendants().find(|n| is_dsig(*n, "Signature"))?;
    if node.descendants().any(|n| is_dsig(n, "Manifest")) {
        return None;
    }
    let sig = dsig::parse_signature(node).ok()?;
    let mut checks = Vec::with_capacity(sig.references.len());
    for r in &sig.references {
        checks.push(match plan(r, &ids, node)? {
            Plan::Tree => dsig::check_reference(&doc, &ids, &sig, r, detached),
            Plan::Stream(method) => {
                let done = canonical.as_deref().filter(|_| method == guess);
                streamed_check(text, start, r, method, done)?
            }
        });
    }
    let ev = signature_evidence(0, name, &doc, &ids, &sig, &checks, detached);
    Some(vec![ev])
}

/// The canonicalization the enveloped reference most likely names: the algorithm after the
/// last `enveloped-signature` of the text (inclusive C14N 1.0 when none follows it, as when
/// it is the last transform); `None` without one. Only a guess that saves a pass: [`evidence`]
/// checks it.
fn likely_method(text: &str) -> Option<Method> {
    let b = text.as_bytes();
    let at = memchr::memmem::rfind(b, b"enveloped-signature")?;
    let after = b.get(at..).unwrap_or_default();
    let value = memchr::memmem::find(after, b"Algorithm=")
        .and_then(|p| after.get(p + "Algorithm=".len()..))
        .and_then(|v| {
            let quote = *v.first()?;
            let v = v.get(1..)?;
            v.get(..memchr::memchr(quote, v)?)
        })
        .and_then(|v| std::str::from_utf8(v).ok())
        .unwrap_or("");
    Some(Params::from_uri(value).map_or(Method::Inclusive10, |p| p.method))
}

/// How `r` can be checked here, or `None` when only the whole tree can.
fn plan(r: &ReferenceXml, ids: &IdIndex, signature: Node) -> Option<Plan> {
    let algs: Vec<&str> = r
        .transforms
        .iter()
        .map(|t| t.attribute("Algorithm").unwrap_or(""))
        .collect();
    match r.uri? {
        "" => {
            let c14n = match (algs.as_slice(), r.transforms.get(1)) {
                ([ENVELOPED], _) => Method::Inclusive10,
                ([ENVELOPED, alg], Some(t)) => {
                    if !transforms::inclusive_prefixes(*t).is_empty() {
                        return None;
                    }
                    Params::from_uri(alg)?.method
                }
                _ => return None,
            };
            Some(Plan::Stream(c14n))
        }
        uri => {
            let id = uri.strip_prefix('#')?;
            if id.starts_with("xpointer(") {
                return None;
            }
            let target = ids.unique(id).ok()?;
            let inside = target.ancestors().any(|a| a.id() == signature.id());
            let only_c14n = algs.iter().all(|a| Params::from_uri(a).is_some());
            (inside && only_c14n).then_some(Plan::Tree)
        }
    }
}

/// The check of a `URI=""` enveloped reference, digested by the streaming canonicalizer (or
/// over `canonical`, its output already made by the scanning pass); the same
/// [`ReferenceCheck`] as [`dsig::check_reference`] makes of it over the tree.
fn streamed_check<'a, 'i>(
    text: &str,
    signature_start: usize,
    r: &ReferenceXml<'a, 'i>,
    method: Method,
    canonical: Option<&[u8]>,
) -> Option<ReferenceCheck<'a, 'i>> {
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
        return Some(check);
    };
    let sha256 = MessageDigest::sha256();
    let mut hasher = Hasher::new(md).ok()?;
    let mut scope_hasher = if md == sha256 {
        None
    } else {
        Some(Hasher::new(sha256).ok()?)
    };
    let mut failed = false;
    let mut write = |chunk: &[u8]| {
        failed |= hasher.update(chunk).is_err();
        if let Some(h) = scope_hasher.as_mut() {
            failed |= h.update(chunk).is_err();
        }
    };
    match canonical {
        Some(bytes) => write(bytes),
        None => {
            stream::canonicalize_without(text, Some(signature_start), method, &mut write).ok()?
        }
    }
    if failed {
        return None;
    }
    let computed = hasher.finish().ok()?;
    check.sha256 = Some(match scope_hasher.as_mut() {
        Some(h) => hex(&h.finish().ok()?),
        None => hex(&computed),
    });
    check.whole = true;
    if computed.as_ref() != r.digest_value.as_slice() {
        check.outcome = RefOutcome::DigestMismatch;
    }
    Some(check)
}
