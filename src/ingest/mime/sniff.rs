//! Media types sniffed from the bytes: what a part really is, whatever the sender declared
//! (mail clients label half of all attachments `application/octet-stream`). Cheap and bounded:
//! magic numbers, a peek into a ZIP's first entry and central directory, a short DER walk.

/// A ZIP archive (and the fallback for a ZIP of unknown purpose).
pub const ZIP: &str = "application/zip";
/// ASiC-E (EN 319 162-1 §4.4.3: first entry `mimetype`, stored).
pub const ASIC_E: &str = "application/vnd.etsi.asic-e+zip";
/// ASiC-S.
pub const ASIC_S: &str = "application/vnd.etsi.asic-s+zip";
/// CMS signed-data without encapsulated content (a detached signature, `smime.p7s`).
pub const PKCS7_SIGNATURE: &str = "application/pkcs7-signature";
/// CMS signed-data with its content inside (`smime.p7m`, `.p7m`).
pub const PKCS7_MIME: &str = "application/pkcs7-mime";
/// A mail message.
pub const RFC822: &str = "message/rfc822";
/// Anything else.
pub const OCTET_STREAM: &str = "application/octet-stream";

/// ZIP-based media types announced by an ODF or ASiC `mimetype` entry.
const MIMETYPE_ENTRY: &[&str] = &[
    ASIC_E,
    ASIC_S,
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation",
    "application/vnd.oasis.opendocument.graphics",
];

/// Sniffs the media type of `bytes`; `name` only refines a type the bytes leave open
/// (an OLE2 file named `.doc`, a text file named `.csv`).
pub fn sniff(bytes: &[u8], name: &str) -> &'static str {
    if bytes.is_empty() {
        return OCTET_STREAM;
    }
    let ext = extension(name);
    if let Some(found) = magic(bytes, &ext) {
        return found;
    }
    if let Some(found) = zip_family(bytes) {
        return found;
    }
    if let Some(found) = der_cms(bytes).or_else(|| pem_cms(bytes)) {
        return found;
    }
    let head = bytes.get(..bytes.len().min(4096)).unwrap_or(bytes);
    if let Some(found) = textual(head) {
        return found;
    }
    OCTET_STREAM
}

/// The usual file extension of a sniffed media type, for generated names.
pub fn extension_for(media_type: &str) -> &'static str {
    match media_type {
        "application/pdf" => "pdf",
        ZIP => "zip",
        ASIC_E => "asice",
        ASIC_S => "asics",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => "docx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => "xlsx",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation" => "pptx",
        "application/vnd.oasis.opendocument.text" => "odt",
        "application/vnd.oasis.opendocument.spreadsheet" => "ods",
        "application/xml" => "xml",
        PKCS7_SIGNATURE => "p7s",
        PKCS7_MIME => "p7m",
        "image/png" => "png",
        "image/jpeg" => "jpg",
        "image/gif" => "gif",
        "image/tiff" => "tif",
        "application/rtf" => "rtf",
        "application/msword" => "doc",
        "application/vnd.ms-excel" => "xls",
        "application/vnd.ms-outlook" => "msg",
        "application/x-ole-storage" => "ole",
        "application/ms-tnef" => "dat",
        RFC822 => "eml",
        "text/plain" => "txt",
        "text/html" => "html",
        _ => "bin",
    }
}

fn extension(name: &str) -> String {
    name.rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default()
}

/// Fixed magic numbers at offset 0.
fn magic(bytes: &[u8], ext: &str) -> Option<&'static str> {
    let table: &[(&[u8], &'static str)] = &[
        (b"%PDF-", "application/pdf"),
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"\xff\xd8\xff", "image/jpeg"),
        (b"GIF87a", "image/gif"),
        (b"GIF89a", "image/gif"),
        (b"II*\0", "image/tiff"),
        (b"MM\0*", "image/tiff"),
        (b"{\\rtf", "application/rtf"),
        (b"\x78\x9f\x3e\x22", "application/ms-tnef"),
    ];
    for (prefix, media_type) in table {
        if bytes.starts_with(prefix) {
            return Some(media_type);
        }
    }
    if bytes.starts_with(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1") {
        return Some(match ext {
            "doc" => "application/msword",
            "xls" => "application/vnd.ms-excel",
            "msg" => "application/vnd.ms-outlook",
            _ => "application/x-ole-storage",
        });
    }
    None
}

/// ZIP archives and the formats built on them.
fn zip_family(bytes: &[u8]) -> Option<&'static str> {
    if !(bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06")) {
        return None;
    }
    if let Some(found) = mimetype_entry(bytes) {
        return Some(found);
    }
    if contains(bytes, b"[Content_Types].xml") {
        if contains(bytes, b"word/") {
            return Some("application/vnd.openxmlformats-officedocument.wordprocessingml.document");
        }
        if contains(bytes, b"xl/") {
            return Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
        }
        if contains(bytes, b"ppt/") {
            return Some(
                "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            );
        }
    }
    Some(ZIP)
}

/// The content of a first entry named `mimetype` (ODF 1.2 part 3 §3.3, EN 319 162-1 A.1), read
/// from the local header: name length at 26, extra length at 28, name at 30, stored data after.
fn mimetype_entry(bytes: &[u8]) -> Option<&'static str> {
    let u16_at = |at: usize| -> Option<usize> {
        let b = bytes.get(at..at + 2)?;
        Some(usize::from(u16::from_le_bytes([*b.first()?, *b.get(1)?])))
    };
    let name_len = u16_at(26)?;
    let extra_len = u16_at(28)?;
    if bytes.get(30..30 + name_len)? != b"mimetype" {
        return None;
    }
    let start = 30 + name_len + extra_len;
    let data = bytes.get(start..bytes.len().min(start + 80))?;
    MIMETYPE_ENTRY
        .iter()
        .find(|t| data.starts_with(t.as_bytes()))
        .copied()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// CMS in PEM (RFC 7468 §8: `PKCS7`, or `CMS` as OpenSSL writes it): the DER inside decides
/// between detached and attached, and a PEM that does not decode is still CMS-with-content.
fn pem_cms(bytes: &[u8]) -> Option<&'static str> {
    use base64::Engine as _;
    let rest = bytes
        .strip_prefix(b"-----BEGIN PKCS7-----")
        .or_else(|| bytes.strip_prefix(b"-----BEGIN CMS-----"))?;
    // The first 4 KB of base64 hold the envelope up to the content type.
    let body: Vec<u8> = rest
        .iter()
        .take_while(|&&b| b != b'-')
        .filter(|b| !b.is_ascii_whitespace())
        .take(4096)
        .copied()
        .collect();
    let whole_groups = body.get(..body.len() - body.len() % 4).unwrap_or_default();
    let der = base64::engine::general_purpose::STANDARD
        .decode(whole_groups)
        .unwrap_or_default();
    Some(der_cms(&der).unwrap_or(PKCS7_MIME))
}

/// CMS `ContentInfo` (RFC 5652 §3) holding `SignedData` (OID 1.2.840.113549.1.7.2), DER or BER.
fn der_cms(bytes: &[u8]) -> Option<&'static str> {
    let signed_data_oid: &[u8] = &[
        0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02,
    ];
    let (tag, outer) = der::element(bytes)?;
    if tag != 0x30 || !outer.starts_with(signed_data_oid) {
        return None;
    }
    let rest = outer.get(signed_data_oid.len()..)?;
    // content [0] EXPLICIT SignedData ::= SEQUENCE { version, digestAlgorithms SET,
    // encapContentInfo SEQUENCE { eContentType, eContent [0] OPTIONAL }, ... }
    let (tag, explicit) = der::element(rest)?;
    let (tag2, signed_data) = der::element(explicit)?;
    if tag != 0xa0 || tag2 != 0x30 {
        return Some(PKCS7_MIME);
    }
    let (_, after_version) = der::skip(signed_data)?;
    let (_, after_digests) = der::skip(after_version)?;
    let (tag, encap) = der::element(after_digests)?;
    if tag != 0x30 {
        return Some(PKCS7_MIME);
    }
    let (_, after_type) = der::skip(encap)?;
    // Nothing after eContentType, or the end-of-contents octets of a BER indefinite length.
    Some(
        if after_type.is_empty() || after_type.starts_with(&[0, 0]) {
            PKCS7_SIGNATURE
        } else {
            PKCS7_MIME
        },
    )
}

/// Just enough DER to peek into a CMS envelope; BER indefinite lengths (0x80) run to the end.
mod der {
    /// The tag and the content of the element at the start of `bytes`; the content is cut to
    /// what is present, so a truncated file still sniffs.
    pub fn element(bytes: &[u8]) -> Option<(u8, &[u8])> {
        let (tag, start, len) = header(bytes)?;
        let end = len.map_or(bytes.len(), |l| start.saturating_add(l).min(bytes.len()));
        Some((tag, bytes.get(start..end)?))
    }

    /// The tag of the element at the start of `bytes` and what follows it.
    pub fn skip(bytes: &[u8]) -> Option<(u8, &[u8])> {
        let (tag, start, len) = header(bytes)?;
        let end = start.checked_add(len?)?;
        Some((tag, bytes.get(end..)?))
    }

    fn header(bytes: &[u8]) -> Option<(u8, usize, Option<usize>)> {
        let tag = *bytes.first()?;
        let first = *bytes.get(1)?;
        if first < 0x80 {
            return Some((tag, 2, Some(usize::from(first))));
        }
        let count = usize::from(first & 0x7f);
        if count == 0 {
            return Some((tag, 2, None));
        }
        if count > 4 {
            return None;
        }
        let mut len = 0usize;
        for b in bytes.get(2..2 + count)? {
            len = (len << 8) | usize::from(*b);
        }
        Some((tag, 2 + count, Some(len)))
    }
}

/// XML, mail messages and plain text.
fn textual(head: &[u8]) -> Option<&'static str> {
    let utf8_bom = head.strip_prefix(b"\xef\xbb\xbf");
    if head.starts_with(b"\xff\xfe<\0") || head.starts_with(b"\xfe\xff\0<") {
        return Some("application/xml");
    }
    let text = utf8_bom.unwrap_or(head);
    let trimmed = skip_xml_prolog(text);
    if trimmed.starts_with(b"<?xml") || (trimmed != text && trimmed.starts_with(b"<")) {
        return Some("application/xml");
    }
    if looks_like_header_block(text) {
        return Some(RFC822);
    }
    let valid_utf8 = match std::str::from_utf8(text) {
        Ok(_) => true,
        // A cut in the middle of a character at the end of the sniffed window is still UTF-8.
        Err(e) => e.error_len().is_none(),
    };
    let printable = text
        .iter()
        .filter(|&&b| b >= 0x20 || b == b'\n' || b == b'\r' || b == b'\t' || b == 0x0c)
        .count();
    let has_nul = text.contains(&0);
    if !has_nul && (valid_utf8 || printable * 100 >= text.len() * 95) {
        return Some("text/plain");
    }
    None
}

/// Skips whitespace and `<!-- comments -->` before an XML root.
fn skip_xml_prolog(mut text: &[u8]) -> &[u8] {
    loop {
        let start = text
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .unwrap_or(text.len());
        text = text.get(start..).unwrap_or_default();
        if !text.starts_with(b"<!--") {
            return text;
        }
        match text.windows(3).position(|w| w == b"-->") {
            Some(end) => text = text.get(end + 3..).unwrap_or_default(),
            None => return text,
        }
    }
}

/// At least two `Name: value` lines in a row at the start, one of them a typical mail field.
fn looks_like_header_block(text: &[u8]) -> bool {
    const FIELDS: &[&str] = &[
        "from",
        "to",
        "subject",
        "date",
        "message-id",
        "received",
        "return-path",
        "mime-version",
        "content-type",
    ];
    let mut fields = 0;
    let mut known = false;
    for line in text.split(|&b| b == b'\n').take(64) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break;
        }
        if line.starts_with(b" ") || line.starts_with(b"\t") {
            continue;
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            return false;
        };
        let name = line.get(..colon).unwrap_or_default();
        if name.is_empty() || !name.iter().all(|&b| b.is_ascii_graphic()) {
            return false;
        }
        let name = String::from_utf8_lossy(name).to_ascii_lowercase();
        known |= FIELDS.contains(&name.as_str());
        fields += 1;
    }
    fields >= 2 && known
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored_zip(first_name: &str, first_data: &[u8]) -> Vec<u8> {
        let mut z = b"PK\x03\x04".to_vec();
        z.extend_from_slice(&[0; 22]);
        z.extend_from_slice(&(first_name.len() as u16).to_le_bytes());
        z.extend_from_slice(&0u16.to_le_bytes());
        z.extend_from_slice(first_name.as_bytes());
        z.extend_from_slice(first_data);
        z
    }

    #[test]
    fn recognises_pdf() {
        assert_eq!(sniff(b"%PDF-1.7\n...", "x.bin"), "application/pdf");
    }

    #[test]
    fn recognises_images() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n....", ""), "image/png");
        assert_eq!(sniff(b"\xff\xd8\xff\xe0..JFIF", ""), "image/jpeg");
        assert_eq!(sniff(b"GIF89a....", ""), "image/gif");
        assert_eq!(sniff(b"II*\0....", ""), "image/tiff");
        assert_eq!(sniff(b"MM\0*....", ""), "image/tiff");
    }

    #[test]
    fn recognises_rtf_ole2_and_tnef() {
        assert_eq!(sniff(b"{\\rtf1\\ansi", ""), "application/rtf");
        let ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\0\0";
        assert_eq!(sniff(ole, "a.bin"), "application/x-ole-storage");
        assert_eq!(sniff(ole, "Wniosek.DOC"), "application/msword");
        assert_eq!(sniff(ole, "a.msg"), "application/vnd.ms-outlook");
        assert_eq!(
            sniff(b"\x78\x9f\x3e\x22\x01\x00", "winmail.dat"),
            "application/ms-tnef"
        );
    }

    #[test]
    fn recognises_plain_zip_and_empty_zip() {
        assert_eq!(sniff(&stored_zip("a.txt", b"hello"), ""), ZIP);
        assert_eq!(sniff(b"PK\x05\x06\0\0\0\0", ""), ZIP);
    }

    #[test]
    fn recognises_asic_and_odf_by_their_mimetype_entry() {
        let asic = stored_zip("mimetype", ASIC_E.as_bytes());
        assert_eq!(sniff(&asic, "a.zip"), ASIC_E);
        assert_eq!(
            sniff(&stored_zip("mimetype", ASIC_S.as_bytes()), ""),
            ASIC_S
        );
        let odt = stored_zip("mimetype", b"application/vnd.oasis.opendocument.text");
        assert_eq!(sniff(&odt, ""), "application/vnd.oasis.opendocument.text");
    }

    #[test]
    fn recognises_office_open_xml() {
        let mut docx = stored_zip("[Content_Types].xml", b"<Types/>");
        docx.extend_from_slice(b"PK\x01\x02....word/document.xml");
        assert_eq!(
            sniff(&docx, ""),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        );
        let mut xlsx = stored_zip("[Content_Types].xml", b"<Types/>");
        xlsx.extend_from_slice(b"xl/workbook.xml");
        assert_eq!(
            sniff(&xlsx, ""),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        );
    }

    #[test]
    fn recognises_xml_with_bom_whitespace_and_comments() {
        assert_eq!(sniff(b"<?xml version=\"1.0\"?><a/>", ""), "application/xml");
        assert_eq!(
            sniff(b"\xef\xbb\xbf<?xml version=\"1.0\"?>", ""),
            "application/xml"
        );
        assert_eq!(
            sniff(b"\n  <!-- c --> <ds:Signature/>", ""),
            "application/xml"
        );
        assert_eq!(sniff(b"\xff\xfe<\0?\0x\0", ""), "application/xml");
    }

    /// ContentInfo { signedData, [0] { SignedData { version, digests, encap { data } } } }
    const DETACHED: [u8; 35] = [
        0x30, 0x21, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02, 0xa0, 0x14,
        0x30, 0x12, 0x02, 0x01, 0x01, 0x31, 0x00, 0x30, 0x0b, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
        0xf7, 0x0d, 0x01, 0x07, 0x01,
    ];

    #[test]
    fn tells_detached_cms_from_cms_with_content() {
        assert_eq!(sniff(&DETACHED, ""), PKCS7_SIGNATURE);
        let mut attached = DETACHED.to_vec();
        attached.extend_from_slice(&[0xa0, 0x03, 0x04, 0x01, 0x41]);
        // Fix the lengths for the five added bytes.
        attached[1] += 5;
        attached[14] += 5;
        attached[16] += 5;
        attached[23] += 5;
        assert_eq!(sniff(&attached, ""), PKCS7_MIME);
    }

    #[test]
    fn tells_detached_pem_cms_from_pem_with_content() {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD.encode(DETACHED);
        let pem = format!("-----BEGIN PKCS7-----\n{b64}\n-----END PKCS7-----\n");
        assert_eq!(sniff(pem.as_bytes(), ""), PKCS7_SIGNATURE);
    }

    #[test]
    fn recognises_pem_pkcs7() {
        assert_eq!(sniff(b"-----BEGIN PKCS7-----\nMIIB\n", ""), PKCS7_MIME);
        assert_eq!(sniff(b"-----BEGIN CMS-----\nMIIB\n", ""), PKCS7_MIME);
    }

    #[test]
    fn recognises_a_mail_message() {
        let mail = b"From: a@b.pl\r\nSubject: x\r\n\r\nbody";
        assert_eq!(sniff(mail, "x"), RFC822);
    }

    #[test]
    fn recognises_text_in_utf8_and_in_single_byte_charsets() {
        assert_eq!(sniff("Zażółć gęślą jaźń\n".as_bytes(), ""), "text/plain");
        assert_eq!(
            sniff(b"Za\xbf\xf3\xb3\xe6 g\xea\x9cl\xb9 ja\x9f\xf1\n", ""),
            "text/plain"
        );
    }

    #[test]
    fn falls_back_to_octet_stream_for_binary() {
        assert_eq!(sniff(&[0u8, 1, 2, 3, 200, 201, 0, 7], ""), OCTET_STREAM);
        assert_eq!(sniff(&[], ""), OCTET_STREAM);
    }

    #[test]
    fn never_panics_on_short_or_odd_zip_and_der() {
        for bytes in [
            &b"PK\x03\x04"[..],
            b"\x30",
            b"\x30\x84\xff\xff\xff\xff",
            b"\x30\x80",
        ] {
            let _ = sniff(bytes, "");
        }
    }

    #[test]
    fn gives_extensions_for_generated_names() {
        assert_eq!(extension_for("application/pdf"), "pdf");
        assert_eq!(extension_for("application/x-unknown"), "bin");
    }
}
