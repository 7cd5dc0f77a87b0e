//! Counter-signatures (EN 319 132-1 §5.2.7): a `ds:Signature` inside
//! `UnsignedSignatureProperties/CounterSignature` signs the `ds:SignatureValue` of the signature
//! it sits in, through a reference (Type `http://uri.etsi.org/01903#CountersignedSignature`).
//! One that does not cover that value is not a counter-signature of it (DSS's injected and fake
//! counter-signature samples), whatever else it signs.

use super::dsig::{RefOutcome, ReferenceCheck, SignatureXml};
use super::transforms::is_dsig;
use super::xades::is_xades;

/// What a counter-signature is attached to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Counter {
    /// Not a counter-signature.
    No,
    /// Counter-signs the signature with this `Id` (empty when it has none), and covers its value.
    Of(String),
    /// Sits in a CounterSignature but does not cover the enclosing signature's value.
    Detached(String),
}

/// Classifies `sig` against the signature it is nested in.
pub fn classify(sig: &SignatureXml, checks: &[ReferenceCheck]) -> Counter {
    let in_counter = sig
        .node
        .parent()
        .is_some_and(|p| is_xades(p, "CounterSignature"));
    if !in_counter {
        return Counter::No;
    }
    let Some(parent) = sig
        .node
        .ancestors()
        .skip(1)
        .find(|a| is_dsig(*a, "Signature"))
    else {
        return Counter::No;
    };
    let parent_id = parent.attribute("Id").unwrap_or("").to_string();
    let Some(value) = parent.children().find(|c| is_dsig(*c, "SignatureValue")) else {
        return Counter::Detached(parent_id);
    };
    let covered = checks
        .iter()
        .any(|c| c.outcome == RefOutcome::Valid && c.element.is_some_and(|e| e.id() == value.id()));
    if covered {
        Counter::Of(parent_id)
    } else {
        Counter::Detached(parent_id)
    }
}
