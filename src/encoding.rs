//! Byte-level encodings shared by the parsers: percent-decoding (RFC 3986 §2.1), used by RFC 2231
//! mail parameters and by XML-DSig reference URIs.

/// Decodes `%XX` sequences; an invalid sequence is kept as written.
pub fn percent_decode(s: &str) -> Vec<u8> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b, hex) {
            (b'%', Some(decoded)) => {
                out.push(decoded);
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_valid_sequences_and_keeps_invalid_ones() {
        assert_eq!(
            percent_decode("wniosek%20o%20dow%C3%B3d.pdf"),
            "wniosek o dowód.pdf".as_bytes()
        );
        assert_eq!(percent_decode("100%zl%2"), b"100%zl%2");
    }
}
