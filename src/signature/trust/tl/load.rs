//! Loading trusted lists with their signatures checked (ETSI TS 119 612 §5.7, §6): a list is an
//! enveloped XAdES document; its signature must be intact (the project's XML verifier) and its
//! signer one of the certificates the parent list (the EU list of lists, §5.3.13
//! `ServiceDigitalIdentities` of the `OtherTSLPointer`) announces for that territory.

use super::parse::{self, ListError};
use super::{Pointer, SignatureCheck, TrustedList};
use openssl::x509::X509;

/// One list read once: its content and what its signature shows before any trust decision
/// (the signer's DER certificate when the signature is intact and covers the whole list).
struct Read {
    list: TrustedList,
    signer: Result<Option<Vec<u8>>, String>,
}

/// Parses `bytes` once (the XML verifier's parser, with its limits) for both the list's
/// content and its signature.
fn read(name: &str, bytes: &[u8]) -> Result<Read, ListError> {
    let text = std::str::from_utf8(bytes).map_err(|_| ListError::Encoding)?;
    let doc = crate::signature::xml::parse::parse(text)?;
    let list = parse::from_document(&doc)?;
    let signer = integrity(name, &doc);
    Ok(Read { list, signer })
}

/// Reads one list and checks its signature against `announced` (the parent's certificates
/// for this list; `None` when no parent is known, e.g. the list of lists itself).
pub fn load(
    name: &str,
    bytes: &[u8],
    announced: Option<&[X509]>,
) -> Result<TrustedList, ListError> {
    let r = read(name, bytes)?;
    let mut list = r.list;
    list.signature = judge(&r.signer, announced);
    Ok(list)
}

fn integrity(name: &str, doc: &roxmltree::Document<'_>) -> Result<Option<Vec<u8>>, String> {
    let evidence = crate::signature::xml::verify::evidence_in(name, doc, &|_| None);
    let [ev] = evidence.as_slice() else {
        return Err(format!("{} signatures, expected one", evidence.len()));
    };
    if !ev.intact() {
        return Err(ev.errors.join("; "));
    }
    // §5.7.1: the signature covers the whole list (enveloped, URI "" or the root's Id).
    if !ev.scope.iter().any(|s| s.whole_file) {
        return Err("the signature does not cover the whole list".into());
    }
    Ok(ev.signing_certificate.clone())
}

fn judge(signer: &Result<Option<Vec<u8>>, String>, announced: Option<&[X509]>) -> SignatureCheck {
    let signer = match signer {
        Err(e) => return SignatureCheck::Broken(e.clone()),
        Ok(s) => s.as_deref(),
    };
    let known =
        announced.is_some_and(|certs| certs.iter().any(|c| c.to_der().ok().as_deref() == signer));
    if known {
        SignatureCheck::Verified
    } else {
        SignatureCheck::SignerNotAnnounced
    }
}

/// The EU list of lists (§5.3.10 `EUlistofthelists`; national lists point back to it, so
/// having pointers is not enough).
fn is_list_of_lists(l: &TrustedList) -> bool {
    l.territory == "EU" && !l.pointers.is_empty()
}

/// Loads a set of files, each parsed and its signature checked once: the list of lists
/// first, then every other list checked against the certificates the list of lists announces
/// for its territory. The list of lists announces anything only when it is itself trusted:
/// signed by a `pinned` signer, or, while nothing is pinned, intact (as
/// [`super::super::Trust::add_lists`] takes it). `pinned` signers (configured: the list of
/// lists' signers from the Official Journal, a test list's signer) are accepted for any list.
pub fn load_set(
    files: &[(String, Vec<u8>)],
    pinned: &[X509],
) -> Vec<(String, Result<TrustedList, ListError>)> {
    let read: Vec<(String, Result<Read, ListError>)> = files
        .iter()
        .map(|(name, bytes)| (name.clone(), read(name, bytes)))
        .collect();
    let pointers: Vec<Pointer> = read
        .iter()
        .filter_map(|(_, r)| r.as_ref().ok())
        .find(|r| is_list_of_lists(&r.list))
        .filter(|r| match judge(&r.signer, Some(pinned)) {
            SignatureCheck::Verified => true,
            SignatureCheck::SignerNotAnnounced => pinned.is_empty(),
            _ => false,
        })
        .map(|r| r.list.pointers.clone())
        .unwrap_or_default();
    read.into_iter()
        .map(|(name, r)| {
            let loaded = r.map(|r| {
                let mut announced: Vec<X509> = pinned.to_vec();
                if !is_list_of_lists(&r.list) {
                    let own = pointers
                        .iter()
                        .filter(|p| p.territory.as_deref() == Some(r.list.territory.as_str()));
                    announced.extend(own.flat_map(|p| p.certificates.iter().cloned()));
                }
                let mut list = r.list;
                list.signature = judge(&r.signer, Some(&announced));
                list
            });
            (name, loaded)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corpus(rel: &str) -> Vec<u8> {
        let base = std::env::var("PODAWCZA_CORPUS")
            .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus").into());
        std::fs::read(format!("{base}/{rel}")).unwrap()
    }

    #[test]
    fn the_polish_list_verifies_against_the_signers_the_eu_list_announces() {
        let set = load_set(
            &[
                ("EU.xml".into(), corpus("dss/trusted-lists/EU.xml")),
                ("PL.xml".into(), corpus("dss/trusted-lists/PL.xml")),
            ],
            &[],
        );
        let pl = set
            .iter()
            .find(|(n, _)| n == "PL.xml")
            .unwrap()
            .1
            .as_ref()
            .unwrap();
        assert_eq!(pl.signature, SignatureCheck::Verified);
        let eu = set
            .iter()
            .find(|(n, _)| n == "EU.xml")
            .unwrap()
            .1
            .as_ref()
            .unwrap();
        assert_eq!(eu.signature, SignatureCheck::SignerNotAnnounced);
    }

    #[test]
    fn a_list_with_a_broken_signature_is_reported_broken() {
        let l = load("CZ", &corpus("dss/trusted-lists/CZ_broken-sig.xml"), None).unwrap();
        assert!(
            matches!(l.signature, SignatureCheck::Broken(_)),
            "{:?}",
            l.signature
        );
    }
}
