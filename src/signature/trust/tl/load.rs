//! Loading trusted lists with their signatures checked (ETSI TS 119 612 §5.7, §6): a list is an
//! enveloped XAdES document; its signature must be intact (the project's XML verifier) and its
//! signer one of the certificates the parent list (the EU list of lists, §5.3.13
//! `ServiceDigitalIdentities` of the `OtherTSLPointer`) announces for that territory.

use super::parse::{self, ListError};
use super::{SignatureCheck, TrustedList};
use openssl::x509::X509;

/// Reads one list and checks its signature against `announced` (the parent's certificates
/// for this list; `None` when no parent is known, e.g. the list of lists itself).
pub fn load(
    name: &str,
    bytes: &[u8],
    announced: Option<&[X509]>,
) -> Result<TrustedList, ListError> {
    let text = std::str::from_utf8(bytes).map_err(|_| ListError::Encoding)?;
    let mut list = parse::parse(text)?;
    list.signature = check_signature(name, bytes, announced);
    Ok(list)
}

fn check_signature(name: &str, bytes: &[u8], announced: Option<&[X509]>) -> SignatureCheck {
    let evidence = match crate::signature::xml::verify::evidence(name, bytes, &|_| None) {
        Ok(e) => e,
        Err(e) => return SignatureCheck::Broken(e.to_string()),
    };
    let [ev] = evidence.as_slice() else {
        return SignatureCheck::Broken(format!("{} signatures, expected one", evidence.len()));
    };
    if !ev.intact() {
        return SignatureCheck::Broken(ev.errors.join("; "));
    }
    // §5.7.1: the signature covers the whole list (enveloped, URI "" or the root's Id).
    if !ev.scope.iter().any(|s| s.whole_file) {
        return SignatureCheck::Broken("the signature does not cover the whole list".into());
    }
    let signer = ev.signing_certificate.as_deref();
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

/// Loads a set of files: the list of lists first, then every other
/// list checked against the certificates the list of lists announces for its territory.
/// `pinned` signers (configured: the list of lists' signers from the Official Journal, a test
/// list's signer) are accepted for any list.
pub fn load_set(
    files: &[(String, Vec<u8>)],
    pinned: &[X509],
) -> Vec<(String, Result<TrustedList, ListError>)> {
    let mut out: Vec<(String, Result<TrustedList, ListError>)> = Vec::new();
    let mut lotl: Option<TrustedList> = None;
    for (name, bytes) in files {
        if let Ok(l) = load(name, bytes, None) {
            if is_list_of_lists(&l) && lotl.is_none() {
                lotl = Some(l);
            }
        }
    }
    for (name, bytes) in files {
        let probe = std::str::from_utf8(bytes)
            .ok()
            .and_then(|t| parse::parse(t).ok());
        let territory = probe.as_ref().map(|l| l.territory.clone());
        let is_lotl = probe.as_ref().is_some_and(is_list_of_lists);
        let mut announced: Vec<X509> = pinned.to_vec();
        if let Some(parent) = lotl.as_ref().filter(|_| !is_lotl) {
            let pointers = parent.pointers.iter().filter(|p| p.territory == territory);
            announced.extend(pointers.flat_map(|p| p.certificates.iter().cloned()));
        }
        out.push((name.clone(), load(name, bytes, Some(&announced))));
    }
    out
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
