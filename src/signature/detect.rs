//! Finds signature structures in a document without checking them (placeholder until the
//! verifiers of issues 3, 4 and 5).
//!
//! [`inspect`] recognises the container by content (magic bytes first, then the name and media
//! type as hints) and hands it to one of the format finders: `xml` (XML-DSig / XAdES),
//! `pdf` (signature dictionaries), `cms` (CAdES, S/MIME), `zip` (ASiC-E, ASiC-S, plain
//! ZIP) and `eml` (multipart/signed mail). Every signature found is reported with
//! `checked: false`, `kind: "unknown"` and [`NOT_VERIFIED`] among its warnings: nothing here
//! pretends a signature was checked. Every finder is bounded in size, entries and depth, so hostile
//! input ends quickly: DTDs and entity bombs with an error, looping PDFs by a scan that never
//! follows references, zip bombs without their data entries ever being expanded (the signatures
//! in their `META-INF` are real and reported; the bomb is noted).

mod cms;
mod eml;
mod pdf;
mod xml;
mod zip;

use super::report::{Report, SignatureReport};

/// The warning every unverified signature carries.
pub const NOT_VERIFIED: &str =
    "signature structure found; not verified: signature verification is not part of this build yet";

/// Largest document inspected, in bytes (larger ones get an `error`).
pub const MAX_INPUT_BYTES: usize = 200 * 1024 * 1024;

/// What a format finder found in one file (or one container entry).
#[derive(Debug, Clone, Default)]
struct Found {
    container: &'static str,
    signatures: Vec<SignatureReport>,
    warnings: Vec<String>,
    error: Option<String>,
}

impl Found {
    fn new(container: &'static str) -> Found {
        Found {
            container,
            ..Found::default()
        }
    }

    fn failed(container: &'static str, error: impl Into<String>) -> Found {
        Found {
            container,
            error: Some(error.into()),
            ..Found::default()
        }
    }
}

/// A signature structure of `format`, reported as found but not checked.
fn unverified(format: &str) -> SignatureReport {
    SignatureReport {
        format: format.to_string(),
        checked: false,
        kind: "unknown".to_string(),
        warnings: vec![NOT_VERIFIED.to_string()],
        ..SignatureReport::default()
    }
}

/// The container a file looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sniffed {
    Pdf,
    Zip,
    Xml,
    /// Starts with `<` but neither declared nor named XML (HTML, text).
    Markup,
    Cms,
    Eml,
    Other,
}

/// Inspects one file: which signature structures it carries (XML-DSig/XAdES, PDF signature
/// dictionaries, CMS SignedData, ASiC, S/MIME). Never fails: unreadable input is a report with
/// `error` set.
pub fn inspect(name: &str, media_type: &str, bytes: &[u8]) -> Report {
    let found = if bytes.len() > MAX_INPUT_BYTES {
        Found::failed(
            "other",
            format!(
                "file too large to inspect: {} bytes, limit {MAX_INPUT_BYTES}",
                bytes.len()
            ),
        )
    } else {
        find(name, media_type, bytes)
    };
    let mut signatures = found.signatures;
    for (i, signature) in signatures.iter_mut().enumerate() {
        signature.id = format!("S{}", i + 1);
    }
    Report {
        file: name.to_string(),
        sha256: crate::storage::blobs::sha256_hex(bytes),
        container: found.container.to_string(),
        signatures,
        warnings: found.warnings,
        error: found.error,
    }
}

fn find(name: &str, media_type: &str, bytes: &[u8]) -> Found {
    match sniff(name, media_type, bytes) {
        Sniffed::Pdf => pdf::find(bytes),
        Sniffed::Zip => zip::find(name, bytes),
        Sniffed::Xml => xml::find(bytes),
        Sniffed::Markup => xml::find_lenient(bytes),
        Sniffed::Cms => cms::find(name, bytes),
        Sniffed::Eml => eml::find(bytes),
        Sniffed::Other => Found::new("other"),
    }
}

/// Content first (magic bytes), then the name's extension and the media type as hints.
fn sniff(name: &str, media_type: &str, bytes: &[u8]) -> Sniffed {
    let head = bytes.get(..1024).unwrap_or(bytes);
    let ext = extension(name);
    let media = media_type.to_ascii_lowercase();
    // CMS before the PDF marker: an enveloping .p7m of a PDF shows `%PDF-` in its first bytes.
    if cms::looks_like_cms(bytes) {
        return Sniffed::Cms;
    }
    if contains(head, b"%PDF-") {
        return Sniffed::Pdf;
    }
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        return Sniffed::Zip;
    }
    let xml_named = matches!(ext.as_str(), "xml" | "xades" | "sig") || media.contains("xml");
    match xml::looks_like_xml(bytes) {
        xml::Looks::Declared => return Sniffed::Xml,
        xml::Looks::Markup if xml_named => return Sniffed::Xml,
        // HTML and other markup without a declaration: parsed, but not an error if it fails.
        xml::Looks::Markup => return Sniffed::Markup,
        xml::Looks::No => {}
    }
    if head.starts_with(b"-----BEGIN") {
        return Sniffed::Cms;
    }
    let by_name = match ext.as_str() {
        "pdf" => Some(Sniffed::Pdf),
        "p7s" | "p7m" | "p7b" | "p7c" | "sig" | "tst" | "tsr" => Some(Sniffed::Cms),
        "eml" => Some(Sniffed::Eml),
        "xml" | "xades" => Some(Sniffed::Xml),
        "zip" | "asice" | "asics" | "sce" | "scs" | "bdoc" => Some(Sniffed::Zip),
        _ => None,
    };
    if let Some(kind) = by_name {
        return kind;
    }
    if media.contains("pkcs7") {
        return Sniffed::Cms;
    }
    if media.starts_with("message/rfc822") || eml::looks_like_mail(bytes) {
        return Sniffed::Eml;
    }
    if media == "application/pdf" {
        return Sniffed::Pdf;
    }
    Sniffed::Other
}

/// The lowercased extension of a file name (`""` when none).
fn extension(name: &str) -> String {
    name.rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default()
}

/// Whether `needle` occurs in `haystack`.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    find_bytes(haystack, needle, 0).is_some()
}

/// The first position of `needle` in `haystack` at or after `from`.
fn find_bytes(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let first = *needle.first()?;
    let mut pos = from;
    while let Some(rest) = haystack.get(pos..) {
        let offset = rest.iter().position(|&b| b == first)?;
        let at = pos + offset;
        if haystack.get(at..at + needle.len()) == Some(needle) {
            return Some(at);
        }
        pos = at + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_bytes_are_other_without_signatures_or_error() {
        let report = inspect("notatka.txt", "text/plain", b"Dzien dobry");
        assert_eq!(report.container, "other");
        assert!(report.signatures.is_empty());
        assert_eq!(report.error, None);
    }

    #[test]
    fn a_file_that_claims_to_be_pdf_but_is_not_gets_an_error() {
        let report = inspect("skan.pdf", "application/pdf", b"GIF89a....");
        assert_eq!(report.container, "pdf");
        assert!(report.error.is_some());
    }

    #[test]
    fn html_and_markup_that_is_not_xml_are_other_without_error() {
        let html = b"<!DOCTYPE html><html><body><p>Wniosek<br></body></html>";
        let report = inspect("strona.html", "text/html", html);
        assert_eq!((report.container.as_str(), report.error), ("other", None));
        let broken = inspect("faktura.xml", "", b"<a><b></a>");
        assert_eq!(broken.container, "xml");
        assert!(broken.error.is_some());
    }

    /// DER of `tag` around `content` (short lengths only).
    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut out = vec![tag, u8::try_from(content.len()).unwrap()];
        out.extend(content);
        out
    }

    #[test]
    fn an_enveloping_cms_of_a_pdf_is_cms_not_pdf() {
        let pdf = tlv(0x04, b"%PDF-1.4 ...");
        let data_oid = tlv(
            0x06,
            &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01],
        );
        let encap = tlv(0x30, &[data_oid, tlv(0xa0, &pdf)].concat());
        let signed_data = [tlv(0x02, &[1]), tlv(0x31, &[]), encap, tlv(0x31, &[])].concat();
        let oid = tlv(
            0x06,
            &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02],
        );
        let der = tlv(0x30, &[oid, tlv(0xa0, &tlv(0x30, &signed_data))].concat());
        let report = inspect("wniosek.pdf.p7m", "", &der);
        assert_eq!(report.container, "cms", "{report:?}");
    }

    #[test]
    fn find_bytes_finds_each_occurrence() {
        assert_eq!(find_bytes(b"abcabc", b"bc", 0), Some(1));
        assert_eq!(find_bytes(b"abcabc", b"bc", 2), Some(4));
        assert_eq!(find_bytes(b"abcabc", b"bd", 0), None);
        assert_eq!(find_bytes(b"ab", b"abc", 0), None);
    }
}
