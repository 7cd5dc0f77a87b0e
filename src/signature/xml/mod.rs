//! XML signatures: W3C XML Signature 1.1 and XAdES (ETSI EN 319 132-1) on a read-only tree.
//!
//! The pipeline of this module: parse with limits ([`parse`]), find every `ds:Signature`,
//! resolve its references ourselves ([`refs`], [`transforms`]) over our own canonicalization
//! ([`c14n`]), check digests and the signature value ([`algorithms`], [`dsig`]), read the XAdES
//! properties ([`xades`]) and turn the result into format-neutral [`evidence`], then a report.

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
pub mod keys;
pub mod manifest;
pub mod nodeset;
pub mod parse;
pub mod refs;
pub mod transforms;
pub mod verify;
pub mod xades;
pub mod xpath;

pub use verify::verify_xml;
#[cfg(test)]
mod testkit;
#[cfg(test)]
mod verify_tests;
