//! Mail: an `.eml` (message/rfc822) signed with S/MIME (RFC 8551): a `multipart/signed` part
//! whose protocol is `application/pkcs7-signature`, or an opaque `application/pkcs7-mime` with
//! `smime-type=signed-data`. One S/MIME signature per SignerInfo of the signature part (one when
//! it cannot be counted). Attached messages are left to the mail unpacker.

use super::{cms, unverified, Found};
use mail_parser::{MessageParser, MessagePart, MimeHeaders};

/// Whether the bytes start like an Internet message: a header field on the first line and one
/// of the usual headers near the top.
pub fn looks_like_mail(bytes: &[u8]) -> bool {
    let head = String::from_utf8_lossy(bytes.get(..4096).unwrap_or(bytes)).to_ascii_lowercase();
    let first = head.lines().next().unwrap_or_default();
    let is_field = first.split_once(':').is_some_and(|(n, _)| {
        !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    });
    let usual = [
        "from:",
        "received:",
        "mime-version:",
        "message-id:",
        "return-path:",
    ];
    is_field && head.lines().any(|l| usual.iter().any(|u| l.starts_with(u)))
}

/// Finds the S/MIME signatures of a mail (container `eml`).
pub fn find(bytes: &[u8]) -> Found {
    let Some(message) = MessageParser::default().parse(bytes) else {
        return Found::failed("eml", "not a mail message");
    };
    let mut found = Found::new("eml");
    for part in &message.parts {
        let Some(ct) = part.content_type() else {
            continue;
        };
        let ctype = ct.ctype().to_ascii_lowercase();
        let subtype = ct.subtype().unwrap_or_default().to_ascii_lowercase();
        let protocol = ct
            .attribute("protocol")
            .unwrap_or_default()
            .to_ascii_lowercase();
        if ctype == "multipart" && subtype == "signed" {
            if protocol.contains("pkcs7-signature") {
                let signers = signature_part(&message.parts, part).unwrap_or(1);
                add(&mut found, signers, "multipart/signed");
            } else {
                found.warnings.push(format!(
                    "multipart/signed with protocol {protocol:?}: not S/MIME"
                ));
            }
        } else if ctype == "application" && subtype.ends_with("pkcs7-mime") {
            let smime_type = ct
                .attribute("smime-type")
                .unwrap_or_default()
                .to_ascii_lowercase();
            if smime_type == "signed-data" {
                let signers = signers_in(part.contents()).unwrap_or(1);
                add(
                    &mut found,
                    signers,
                    "opaque signed (application/pkcs7-mime)",
                );
            }
        }
    }
    found
}

fn add(found: &mut Found, signers: usize, how: &str) {
    for _ in 0..signers {
        let mut signature = unverified("S/MIME");
        signature.warnings.push(how.to_string());
        found.signatures.push(signature);
    }
}

/// The SignerInfo count of the `pkcs7-signature` child of a multipart/signed part.
fn signature_part(parts: &[MessagePart<'_>], signed: &MessagePart<'_>) -> Option<usize> {
    signed.sub_parts()?.iter().find_map(|&id| {
        let child = parts.get(id as usize)?;
        let ct = child.content_type()?;
        let subtype = ct.subtype().unwrap_or_default().to_ascii_lowercase();
        subtype
            .ends_with("pkcs7-signature")
            .then(|| signers_in(child.contents()))?
    })
}

fn signers_in(der: &[u8]) -> Option<usize> {
    let summary = cms::content_info(der).ok()??;
    (summary.signers > 0).then_some(summary.signers)
}
