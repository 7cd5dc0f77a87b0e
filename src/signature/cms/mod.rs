//! CMS signatures (RFC 5652 SignedData): CAdES files (ETSI EN 319 122-1), ASiC containers with
//! CAdES (EN 319 162-1, [`asic`]), the CMS inside PAdES (EN 319 142-1, see
//! [`crate::signature::pdf`]) and RFC 3161 time-stamp tokens.
//!
//! The pipeline of this module: read the structure with the bounded DER reader, keeping the
//! bytes as received ([`parse`]); check each SignerInfo — content digest, signed attributes
//! hashed exactly as received, signature value, ESS certificate binding ([`signer`]); read the
//! unsigned attributes — time-stamps, counter-signatures, validation data ([`verify`],
//! [`timestamp`]); turn the result into format-neutral [`evidence`] and then a report
//! ([`report`]). No trust decision is taken here.

pub mod algorithms;
pub mod asic;
pub mod asic_manifest;
pub mod attributes;
pub mod cades;
pub mod certs;
pub mod evidence;
pub mod oids;
pub mod parse;
pub mod report;
pub mod revocation;
pub mod signer;
pub mod smime;
pub mod time;
pub mod timestamp;
pub mod verify;

#[cfg(test)]
pub(crate) mod testkit;
#[cfg(test)]
mod tests;

use crate::signature::report::Report;
pub use cades::{verify_cades, Resolver};
pub use smime::verify_smime;

/// Verifies a file of the CMS family — a PDF (PAdES, `adbe.pkcs7.*`), a CAdES/CMS file or an
/// ASiC container with CAdES signatures — and reports every signature in it. `None` when the
/// file is none of these (an ASiC with XAdES included: that is the XML verifier's). `detached` supplies
/// a detached signature's data by name (`x.pdf` for `x.pdf.p7s`; the empty name is asked
/// last, for a file given with `--detached`).
pub fn verify_cms_family(name: &str, bytes: &[u8], detached: Resolver<'_>) -> Option<Report> {
    verify_cms_family_stored(name, bytes, detached, None)
}

/// [`verify_cms_family`] for bytes whose SHA-256 the caller already knows (lowercase hex, the
/// blob store's key): a PDF is not hashed whole a second time for the report (and with the
/// hash states kept while it streamed in, its signed prefix is not hashed again either).
pub fn verify_cms_family_stored(
    name: &str,
    bytes: &[u8],
    detached: Resolver<'_>,
    known: Option<crate::digest::Known<'_>>,
) -> Option<Report> {
    use crate::signature::pdf;
    if bytes.starts_with(b"PK\x03\x04") {
        return asic::verify_asic(name, bytes);
    }
    if pdf::is_pdf(bytes) {
        return Some(match known {
            Some(known) => pdf::verify_pdf_stored(name, bytes, known),
            None => pdf::verify_pdf(name, bytes),
        });
    }
    if name.to_ascii_lowercase().ends_with(".pdf") && bytes.first() != Some(&0x30) {
        return Some(Report {
            file: name.to_string(),
            sha256: certs::sha256_hex(bytes),
            container: "pdf".to_string(),
            error: Some("not a pdf: no %PDF- header in the first 1024 bytes".to_string()),
            ..Report::default()
        });
    }
    verify_cades(name, bytes, detached)
}
