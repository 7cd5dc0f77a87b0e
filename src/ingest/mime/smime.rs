//! S/MIME `multipart/signed` (RFC 1847 §2.1, RFC 8551 §3.5): the exact bytes of the signed body
//! part (MIME headers included, up to but not including the CRLF that belongs to the next
//! boundary delimiter) paired with the bytes of the signature part, for the CMS verifier.

use mail_parser::{MessageParser, MimeHeaders, PartType};

/// One signed entity of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedEntity {
    /// The signed body part, exactly as it stands in the raw message.
    pub content: Vec<u8>,
    /// The signature part's decoded bytes (DER CMS).
    pub signature: Vec<u8>,
}

/// Finds every `multipart/signed` entity of a raw message that was already unpacked (so its
/// structure is known to be within the limits).
pub fn signed_entities(raw: &[u8]) -> Vec<SignedEntity> {
    let Some(message) = MessageParser::default().parse(raw) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for part in &message.parts {
        let signed = part.content_type().is_some_and(|ct| {
            ct.ctype().eq_ignore_ascii_case("multipart")
                && ct
                    .subtype()
                    .is_some_and(|s| s.eq_ignore_ascii_case("signed"))
        });
        let PartType::Multipart(children) = &part.body else {
            continue;
        };
        if !signed {
            continue;
        }
        let (Some(first), Some(second)) = (children.first(), children.get(1)) else {
            continue;
        };
        let (Some(content_part), Some(signature_part)) = (
            message.parts.get(*first as usize),
            message.parts.get(*second as usize),
        ) else {
            continue;
        };
        let start = content_part.offset_header as usize;
        let mut end = content_part.offset_end as usize;
        let Some(mut content) = raw.get(start..end) else {
            continue;
        };
        // The line break before a boundary delimiter belongs to the delimiter (RFC 2046 §5.1.1).
        if content.ends_with(b"\r\n") {
            end -= 2;
        } else if content.ends_with(b"\n") {
            end -= 1;
        }
        content = raw.get(start..end).unwrap_or(content);
        out.push(SignedEntity {
            content: content.to_vec(),
            signature: signature_part.contents().to_vec(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signed_part_of_the_fixture_verifies_with_its_signature() {
        let raw = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/eml/smime-signed.eml"
        ))
        .unwrap();
        let found = signed_entities(&raw);
        assert_eq!(found.len(), 1);
        let report =
            crate::signature::cms::verify_smime(&found[0].content, &found[0].signature).unwrap();
        assert_eq!(report.signatures.len(), 1);
        assert_eq!(report.signatures[0].intact, Some(true), "{report:?}");
        assert!(
            report.signatures[0]
                .warnings
                .iter()
                .all(|w| !w.contains("CRLF")),
            "{report:?}"
        );
    }

    #[test]
    fn a_message_without_signed_parts_has_none() {
        let raw = b"From: a@b\r\nSubject: x\r\n\r\nhello\r\n";
        assert!(signed_entities(raw).is_empty());
    }
}
