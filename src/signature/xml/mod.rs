//! XML signatures: W3C XML Signature 1.1 and XAdES (ETSI EN 319 132-1) on a read-only tree.
//!
//! The pipeline of this module: parse with limits ([`parse`]), find every `ds:Signature`,
//! resolve its references ourselves ([`refs`], [`transforms`], [`xpath`], [`manifest`]) over our
//! own canonicalization ([`c14n`], [`nodeset`]), check digests and the signature value
//! ([`algorithms`], [`keys`], [`dsig`]), read the XAdES properties ([`xades`], [`der`],
//! [`counter`]) and turn the result into format-neutral [`evidence`], then the report of
//! DESIGN.md ([`mod@verify`], [`certinfo`]). ASiC containers with XAdES are in [`asic`]. The one
//! signer (XAdES-B-B, for the office's receipt seal and the test fixtures) is [`sign`].
//!
//! Entry points: [`verify()`] (any file: `None` when it is neither signed XML nor ASiC),
//! [`verify_xml`], [`asic::verify_asic`], and [`verify::evidence`] for the validation stage.
//! No trust decision is taken here: an intact signature is INDETERMINATE /
//! NO_CERTIFICATE_CHAIN_FOUND until the trust module (a later issue) consumes the evidence.

pub mod algorithms;
pub mod asic;
pub mod c14n;
#[cfg(test)]
mod c14n_conformance;
pub mod certinfo;
pub mod counter;
pub mod der;
pub mod dsig;
pub mod evidence;
pub mod fast;
#[cfg(test)]
mod fast_tests;
pub mod keys;
pub mod manifest;
pub mod nodeset;
pub mod parse;
pub mod refs;
pub mod sign;
pub mod stream;
pub mod transforms;
pub mod verify;
pub mod xades;
pub mod xpath;

pub use verify::{verify_xml, verify_xml_tree};

use crate::signature::report::Report;

/// Verifies `bytes` when they are an ASiC container or an XML document carrying an XML
/// signature; `None` for anything else (PDF, CMS, plain files), which other verifiers handle.
/// `detached` supplies, by name, the other documents of the submission (or `--detached FILE`)
/// for detached XML signatures such as `wniosek.pdf` + `wniosek.pdf.XAdES`.
pub fn verify(
    name: &str,
    bytes: &[u8],
    detached: &dyn Fn(&str) -> Option<Vec<u8>>,
) -> Option<Report> {
    if asic::is_asic(bytes) {
        return Some(asic::verify_asic(name, bytes));
    }
    looks_like_signed_xml(bytes).then(|| verify_xml(name, bytes, detached))
}

/// Cheap sniffing: markup first (after a BOM and whitespace), and the XML-DSig namespace
/// somewhere in the document.
fn looks_like_signed_xml(bytes: &[u8]) -> bool {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    let needle: &[u8] = transforms::DSIG_NS.as_bytes();
    first == Some(&b'<') && body.windows(needle.len()).any(|w| w == needle)
}
#[cfg(test)]
pub(crate) mod testkit;
#[cfg(test)]
mod verify_tests;
