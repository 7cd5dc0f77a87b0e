//! `ds:Manifest` (W3C XML-DSig §5.1): a signed list of references. Core validation does not
//! check them; like DSS we do, because the manifest's entries are what the signer meant to sign:
//! an entry that is missing or altered leaves the signed scope unproven (SIGNED_DATA_NOT_FOUND,
//! HASH_FAILURE), and the entries, not the manifest element, are the signed data reported.

use super::dsig::{self, ReferenceCheck, SignatureXml};
use super::refs::{IdIndex, Resolver};
use super::transforms::is_dsig;
use roxmltree::Document;

/// Checks the entries of every manifest that a valid reference of `sig` covers.
pub fn check<'a, 'i>(
    doc: &'a Document<'i>,
    ids: &'a IdIndex<'a, 'i>,
    sig: &SignatureXml<'a, 'i>,
    checks: &[ReferenceCheck<'a, 'i>],
    detached: Resolver,
) -> Vec<ReferenceCheck<'a, 'i>> {
    let mut out = Vec::new();
    for check in checks {
        let Some(manifest) = check.element.filter(|e| is_dsig(*e, "Manifest")) else {
            continue;
        };
        if check.outcome != dsig::RefOutcome::Valid {
            continue;
        }
        for node in manifest.children().filter(|c| is_dsig(*c, "Reference")) {
            if out.len() >= dsig::MAX_REFERENCES {
                return out;
            }
            match dsig::parse_reference(node) {
                Ok(r) => out.push(dsig::check_reference(doc, ids, sig, &r, detached)),
                Err(e) => out.push(dsig::failed_check(node, e.to_string())),
            }
        }
    }
    out
}
