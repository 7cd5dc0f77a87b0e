//! Parsing untrusted XML with limits (DESIGN.md invariant 8; EN 319 132-1 does not bound
//! sizes, so we do): no DTD (roxmltree refuses one by default, which also stops entity bombs),
//! a size limit, a node limit and a depth limit, checked before any signature work.

use roxmltree::{Document, ParsingOptions};
use thiserror::Error;

/// Largest XML document accepted, in bytes.
pub const MAX_INPUT_BYTES: usize = 64 * 1024 * 1024;
/// Largest number of nodes accepted.
pub const MAX_NODES: u32 = 2_000_000;
/// Deepest element nesting accepted (the canonicalizer recurses once per level).
pub const MAX_DEPTH: usize = 256;

/// Why a document could not be read as XML.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// The input exceeds [`MAX_INPUT_BYTES`].
    #[error("xml document too large: {actual} bytes, limit {limit}")]
    TooLarge {
        /// The limit.
        limit: usize,
        /// The input size.
        actual: usize,
    },
    /// The input is not UTF-8 or UTF-16 text.
    #[error("xml document is not valid utf-8")]
    NotUtf8,
    /// The elements nest deeper than [`MAX_DEPTH`].
    #[error("xml document nests deeper than {limit} elements")]
    TooDeep {
        /// The limit.
        limit: usize,
    },
    /// A document type declaration: refused, so no entity can be expanded (billion laughs,
    /// external entities).
    #[error("xml with a DTD (document type declaration) is refused")]
    Dtd,
    /// More nodes than [`MAX_NODES`].
    #[error("xml document has more than {limit} nodes")]
    TooManyNodes {
        /// The limit.
        limit: u32,
    },
    /// The parser refused the document.
    #[error("malformed xml: {0}")]
    Malformed(String),
}

/// Turns raw bytes into text: UTF-8 (BOM dropped), UTF-16 with a BOM, or the encoding the XML
/// declaration names (XML 1.0 §4.3.3; Polish forms still arrive as ISO-8859-2 or windows-1250).
/// Canonical XML is UTF-8 whatever the input encoding (C14N 1.0 §2.1), so decoding loses nothing.
pub fn decode(bytes: &[u8]) -> Result<std::borrow::Cow<'_, str>, ParseError> {
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(ParseError::TooLarge {
            limit: MAX_INPUT_BYTES,
            actual: bytes.len(),
        });
    }
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(text) = std::str::from_utf8(body) {
        return Ok(std::borrow::Cow::Borrowed(text));
    }
    let encoding = encoding_rs::Encoding::for_bom(bytes)
        .map(|(e, _)| e)
        .or_else(|| declared_encoding(bytes));
    if let Some(encoding) = encoding {
        let (text, _, bad) = encoding.decode(bytes);
        if !bad {
            return Ok(std::borrow::Cow::Owned(text.into_owned()));
        }
    }
    Err(ParseError::NotUtf8)
}

/// The `encoding="..."` of an XML declaration at the start of `bytes`.
fn declared_encoding(bytes: &[u8]) -> Option<&'static encoding_rs::Encoding> {
    let head = bytes.get(..bytes.len().min(200))?;
    let end = head.iter().position(|b| *b == b'>')?;
    let decl = std::str::from_utf8(head.get(..end)?).ok()?;
    let decl = decl.strip_prefix("<?xml")?;
    let rest = decl
        .split_once("encoding")?
        .1
        .trim_start()
        .strip_prefix('=')?
        .trim_start();
    let quote = rest.chars().next()?;
    let label = rest.get(1..)?.split(quote).next()?;
    encoding_rs::Encoding::for_label(label.as_bytes())
}

/// Parses text with the limits of this module.
pub fn parse(text: &str) -> Result<Document<'_>, ParseError> {
    prescan_depth(text.as_bytes())?;
    let options = ParsingOptions {
        allow_dtd: false,
        nodes_limit: MAX_NODES,
    };
    let doc = Document::parse_with_options(text, options).map_err(|e| match e {
        roxmltree::Error::DtdDetected => ParseError::Dtd,
        roxmltree::Error::NodesLimitReached => ParseError::TooManyNodes { limit: MAX_NODES },
        other => ParseError::Malformed(other.to_string()),
    })?;
    Ok(doc)
}

/// roxmltree's tokenizer recurses once per element level, so nesting is bounded *before*
/// parsing: a cheap scan of tags (comments, CDATA, PIs and quoted attribute values skipped).
fn prescan_depth(b: &[u8]) -> Result<(), ParseError> {
    let skip_past = |from: usize, pat: &[u8]| {
        b.get(from..)
            .and_then(|rest| rest.windows(pat.len()).position(|w| w == pat))
            .map_or(b.len(), |p| from + p + pat.len())
    };
    let (mut i, mut depth) = (0usize, 0usize);
    while let Some(rel) = b.get(i..).and_then(|r| r.iter().position(|c| *c == b'<')) {
        i += rel;
        let rest = b.get(i..).unwrap_or_default();
        if rest.starts_with(b"<!--") {
            i = skip_past(i, b"-->");
        } else if rest.starts_with(b"<![CDATA[") {
            i = skip_past(i, b"]]>");
        } else if rest.starts_with(b"<?") {
            i = skip_past(i, b"?>");
        } else if rest.starts_with(b"</") {
            depth = depth.saturating_sub(1);
            i = skip_past(i, b">");
        } else if rest.starts_with(b"<!") {
            i = skip_past(i, b">");
        } else {
            let (end, self_closing) = tag_end(b, i);
            if !self_closing {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(ParseError::TooDeep { limit: MAX_DEPTH });
                }
            }
            i = end;
        }
    }
    Ok(())
}

/// The index after the `>` closing the start tag at `start`, and whether it is `/>`.
fn tag_end(b: &[u8], start: usize) -> (usize, bool) {
    let mut quote: Option<u8> = None;
    let mut prev = 0u8;
    for (k, &c) in b.iter().enumerate().skip(start) {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(c),
            (None, b'>') => return (k + 1, prev == b'/'),
            _ => {}
        }
        prev = c;
    }
    (b.len(), false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_a_document_type_declaration() {
        let xml = r#"<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>"#;
        assert_eq!(parse(xml).err(), Some(ParseError::Dtd));
    }

    #[test]
    fn refuses_nesting_deeper_than_the_limit() {
        let xml = format!("{}{}", "<a>".repeat(100_000), "</a>".repeat(100_000));
        assert_eq!(
            parse(&xml).err(),
            Some(ParseError::TooDeep { limit: MAX_DEPTH })
        );
    }

    #[test]
    fn decodes_the_encoding_the_declaration_names() {
        let bytes = b"<?xml version=\"1.0\" encoding=\"ISO-8859-2\"?><a>\xB3\xF3d\xBC</a>";
        let text = decode(bytes).unwrap();
        assert!(text.ends_with("<a>\u{142}\u{f3}d\u{17a}</a>"), "{text}");
        assert!(parse(&text).is_ok());
    }

    #[test]
    fn counts_depth_past_comments_cdata_and_quoted_brackets() {
        let xml = r#"<a x="b>" y='/>'><!--<c>--><![CDATA[<d>]]><?p <e>?><f/></a>"#;
        assert!(parse(xml).is_ok());
        let deep = format!(
            "{}{}",
            "<a>".repeat(MAX_DEPTH + 1),
            "</a>".repeat(MAX_DEPTH + 1)
        );
        assert_eq!(
            parse(&deep).err(),
            Some(ParseError::TooDeep { limit: MAX_DEPTH })
        );
        let ok = format!("{}{}", "<a>".repeat(MAX_DEPTH), "</a>".repeat(MAX_DEPTH));
        assert!(parse(&ok).is_ok());
    }

    #[test]
    fn drops_a_utf8_byte_order_mark() {
        assert_eq!(decode(b"\xEF\xBB\xBF<a/>").unwrap(), "<a/>");
    }
}
