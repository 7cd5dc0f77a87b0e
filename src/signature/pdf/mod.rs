//! PDF signatures (PAdES, ETSI EN 319 142-1; ISO 32000-1 §12.8): placeholder.

use crate::signature::report::Report;

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

/// Verifies every signature of a PDF.
pub fn verify_pdf(name: &str, _bytes: &[u8]) -> Report {
    Report {
        file: name.to_string(),
        container: "pdf".to_string(),
        ..Report::default()
    }
}
