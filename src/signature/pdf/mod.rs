//! PDF signatures: PAdES (ETSI EN 319 142-1) and the legacy `adbe.pkcs7.detached` /
//! `adbe.pkcs7.sha1` sub-filters (ISO 32000-1 §12.8), and document time-stamps.
//!
//! The pipeline of this module: a bounded reader of PDF objects ([`lexer`]) indexes every
//! object definition per revision by scanning, never following references ([`objects`]);
//! signature dictionaries are found with their `/Contents` spans ([`sigdict`]); each ByteRange
//! is checked against the file ([`coverage`]); the CMS is verified by
//! [`crate::signature::cms`]; later revisions are compared with the signed one
//! ([`changes`]); [`verify`] puts it together into the report.
//!
//! Decision on modifications (VERIFY-NOTES, DSS): a signature whose revision was changed
//! afterwards beyond validation data, signatures and form filling stays `intact: true` (its
//! bytes verify) but gets an error "modified after signing: ..." and `TOTAL_FAILED` /
//! `FORMAT_FAILURE`, as DSS reports the added/removed-page samples. A ByteRange that does not
//! cover its revision exactly is a format failure with `intact: false`.
//!
//! Permissions: a certification signature's DocMDP `P` (1 nothing but validation data and
//! document time-stamps, 2 form filling and signing, 3 also annotations) applies to every
//! signature; a signature's own FieldMDP lock (its `/Reference`, else its field's `/Lock`)
//! makes a later value of a locked field a modification of that signature.
//!
//! Hashing: the file's SHA-256 (the report's `sha256`) and the ByteRange digest of the
//! signature whose first range is the longest prefix share one pass over that prefix, so a PDF
//! signed in its last revision is hashed about once; [`verify_pdf_stored`] takes the file's
//! hash from a caller that has it and hashes only the ranges, starting them from the hash state
//! an upload kept while streaming in ([`crate::digest`]) when there is one, so the prefix before
//! a hole near the end is not hashed again.
//!
//! Limits: object streams (`/Type /ObjStm`) are inflated only for `/FlateDecode` without a
//! predictor, at most 16 MiB each; objects in the others are not compared (noted in the report).

pub mod changes;
pub mod coverage;
pub mod lexer;
pub mod objects;
pub mod objstm;
pub mod sigdict;
pub mod verify;

#[cfg(test)]
mod testkit;
#[cfg(test)]
mod tests;

pub use verify::{verify_pdf, verify_pdf_stored};

/// Whether the bytes start like a PDF.
pub fn is_pdf(bytes: &[u8]) -> bool {
    // ISO 32000-1 §7.5.2 wants the header first; readers accept it within the first 1024
    // bytes. A DER SEQUENCE is CMS (an enveloped PDF inside a .p7m), not a PDF.
    bytes.first() != Some(&0x30)
        && bytes
            .get(..1024)
            .unwrap_or(bytes)
            .windows(5)
            .any(|w| w == b"%PDF-")
}
