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
    /// The parser refused the document (DTD, malformed, node limit).
    #[error("malformed xml: {0}")]
    Malformed(String),
}

/// Turns raw bytes into text: UTF-8 (BOM dropped) or UTF-16 with a BOM.
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
    if let Some((encoding, _)) = encoding_rs::Encoding::for_bom(bytes) {
        let (text, _, bad) = encoding.decode(bytes);
        if !bad {
            return Ok(std::borrow::Cow::Owned(text.into_owned()));
        }
    }
    Err(ParseError::NotUtf8)
}

/// Parses text with the limits of this module.
pub fn parse(text: &str) -> Result<Document<'_>, ParseError> {
    let options = ParsingOptions {
        allow_dtd: false,
        nodes_limit: MAX_NODES,
    };
    let doc = Document::parse_with_options(text, options)
        .map_err(|e| ParseError::Malformed(e.to_string()))?;
    check_depth(&doc)?;
    Ok(doc)
}

fn check_depth(doc: &Document) -> Result<(), ParseError> {
    let mut depth: Vec<u16> = Vec::with_capacity(doc.descendants().count());
    for node in doc.descendants() {
        let d = node
            .parent()
            .and_then(|p| depth.get(p.id().get_usize()).copied())
            .map_or(0, |d| d.saturating_add(1));
        if usize::from(d) > MAX_DEPTH {
            return Err(ParseError::TooDeep { limit: MAX_DEPTH });
        }
        depth.push(d);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_a_document_type_declaration() {
        let xml = r#"<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>"#;
        assert!(matches!(parse(xml), Err(ParseError::Malformed(_))));
    }

    #[test]
    fn refuses_nesting_deeper_than_the_limit() {
        let xml = format!(
            "{}{}",
            "<a>".repeat(MAX_DEPTH + 2),
            "</a>".repeat(MAX_DEPTH + 2)
        );
        assert_eq!(
            parse(&xml).err(),
            Some(ParseError::TooDeep { limit: MAX_DEPTH })
        );
    }

    #[test]
    fn drops_a_utf8_byte_order_mark() {
        assert_eq!(decode(b"\xEF\xBB\xBF<a/>").unwrap(), "<a/>");
    }
}
