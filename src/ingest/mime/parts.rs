//! The MIME walk: every part of a parsed message becomes a document, except the one part chosen
//! as the message text. Forwarded messages are walked in turn, their parts marked with the
//! container they came from.

use super::sink::Sink;
use super::{rfc2231, sniff, Role, UnpackError};
use mail_parser::{Encoding, HeaderName, Message, MessagePart, MimeHeaders, PartType};

/// Walks `message` (inside the forwarded messages `container`, `depth` MIME levels down) into
/// `sink`; returns its text: the first plain text body, else its HTML body reduced to text.
/// `base` is the buffer the part offsets of `message` point into: the raw message, or for a
/// forwarded message sent base64 or quoted-printable, its decoded bytes (mail-parser keeps the
/// offsets of an unencoded forwarded message in the outer buffer).
pub fn walk(
    message: &Message<'_>,
    base: &[u8],
    sink: &mut Sink<'_>,
    container: &[String],
    depth: usize,
) -> Result<Option<String>, UnpackError> {
    if depth > sink.limits.max_mime_depth {
        return Err(UnpackError::TooDeep {
            limit: sink.limits.max_mime_depth,
        });
    }
    let (body_id, text) = body_text(message);
    let signatures = signature_parts(message);
    for (id, part) in message.parts.iter().enumerate() {
        if Some(id) == body_id {
            continue;
        }
        match &part.body {
            PartType::Multipart(_) => {}
            PartType::Message(inner) => forwarded(base, part, inner, sink, container, depth)?,
            _ => leaf(base, part, signatures.contains(&id), sink, container)?,
        }
    }
    Ok(text)
}

/// The parts after the first in each `multipart/signed` (RFC 1847 §2.1: the signature).
fn signature_parts(message: &Message<'_>) -> Vec<usize> {
    message
        .parts
        .iter()
        .filter(|p| p.is_content_type("multipart", "signed"))
        .filter_map(|p| p.sub_parts())
        .flat_map(|children| children.iter().skip(1))
        .filter_map(|&id| usize::try_from(id).ok())
        .collect()
}

/// The part that carries the message text and that text. mail-parser lists the body parts in
/// reading order (`text_body`, `html_body`); a plain part wins over HTML.
fn body_text(message: &Message<'_>) -> (Option<usize>, Option<String>) {
    let part = |id: &u32| {
        let id = usize::try_from(*id).ok()?;
        Some((id, message.parts.get(id)?))
    };
    let plain = message
        .text_body
        .iter()
        .filter_map(part)
        .find_map(|(id, p)| match &p.body {
            PartType::Text(text) => Some((id, text.to_string())),
            _ => None,
        });
    if let Some((id, text)) = plain {
        return (Some(id), Some(text));
    }
    let html = message
        .html_body
        .iter()
        .chain(message.text_body.iter())
        .filter_map(part)
        .find_map(|(id, p)| match &p.body {
            PartType::Html(html) => Some((id, mail_parser::decoders::html::html_to_text(html))),
            _ => None,
        });
    match html {
        Some((id, text)) => (Some(id), Some(text)),
        None => (None, None),
    }
}

/// A leaf part: a document with its transfer encoding removed and its bytes as sent (a text
/// attachment keeps its own charset: originals are byte-exact).
fn leaf(
    base: &[u8],
    part: &MessagePart<'_>,
    in_signed: bool,
    sink: &mut Sink<'_>,
    container: &[String],
) -> Result<(), UnpackError> {
    let bytes = match &part.body {
        PartType::Binary(b) | PartType::InlineBinary(b) => b.to_vec(),
        _ => raw_content(base, part, sink),
    };
    let name = file_name(base, part);
    if part.is_encoding_problem {
        sink.warnings.push(format!(
            "part {} could not be decoded; kept as sent",
            name.as_deref().unwrap_or("without a name")
        ));
    }
    let declared = declared_type(part);
    let media_type = sniff::sniff(&bytes, name.as_deref().unwrap_or_default());
    let role = role(
        part,
        name.as_deref(),
        declared.as_deref(),
        media_type,
        in_signed,
    );
    sink.add(name.as_deref(), bytes, declared, container, role, 0)
}

/// The body bytes of a text part, transfer encoding removed but charset untouched
/// (mail-parser has already converted its own copy to UTF-8).
fn raw_content(base: &[u8], part: &MessagePart<'_>, sink: &mut Sink<'_>) -> Vec<u8> {
    let start = usize::try_from(part.raw_body_offset()).unwrap_or(usize::MAX);
    let end = usize::try_from(part.raw_end_offset()).unwrap_or(usize::MAX);
    let raw = base.get(start..end).unwrap_or_default();
    let decoded = match part.encoding {
        Encoding::Base64 => mail_parser::decoders::base64::base64_decode(raw),
        Encoding::QuotedPrintable => {
            mail_parser::decoders::quoted_printable::quoted_printable_decode(raw)
        }
        Encoding::None => Some(raw.to_vec()),
    };
    decoded.unwrap_or_else(|| {
        sink.warnings
            .push("a text part could not be decoded; kept as sent".to_string());
        raw.to_vec()
    })
}

/// A forwarded message: the message itself (`.eml`, byte-exact: it may carry its own S/MIME
/// signature), then its text as a `.txt` document and its parts, inside a new container.
///
/// The forwarded text is a document rather than appended to the outer text because it is
/// another letter, often from another sender (a resident's application forwarded by a clerk or a
/// relative): mixing the two would hide who wrote what, and the receipt lists documents.
fn forwarded(
    base: &[u8],
    part: &MessagePart<'_>,
    inner: &Message<'_>,
    sink: &mut Sink<'_>,
    container: &[String],
    depth: usize,
) -> Result<(), UnpackError> {
    let subject = inner.subject().unwrap_or_default().trim().to_string();
    let (bytes, inner_base) = match part.encoding {
        Encoding::None => {
            let start = usize::try_from(part.raw_body_offset()).unwrap_or(usize::MAX);
            let end = usize::try_from(part.raw_end_offset()).unwrap_or(usize::MAX);
            (base.get(start..end).unwrap_or_default().to_vec(), base)
        }
        _ => (inner.raw_message().to_vec(), inner.raw_message()),
    };
    let eml_name =
        file_name(base, part).or_else(|| (!subject.is_empty()).then(|| format!("{subject}.eml")));
    sink.add(
        eml_name.as_deref(),
        bytes,
        declared_type(part),
        container,
        Role::Attachment,
        0,
    )?;
    let mut inside = container.to_vec();
    inside.push(format!("message/rfc822 \"{subject}\""));
    let text_at = sink.documents.len();
    let text = walk(inner, inner_base, sink, &inside, depth + 1)?;
    if let Some(text) = text {
        let name = (!subject.is_empty()).then(|| format!("{subject}.txt"));
        sink.add(
            name.as_deref(),
            text.into_bytes(),
            Some("text/plain".to_string()),
            &inside,
            Role::Inline,
            0,
        )?;
        // The forwarded text reads before the forwarded attachments, as in the message.
        if let Some(doc) = sink.documents.pop() {
            sink.documents
                .insert(text_at.min(sink.documents.len()), doc);
        }
    }
    Ok(())
}

/// The file name: `Content-Disposition` `filename`, else `Content-Type` `name`, decoded; the RFC
/// 2231 extended form is read from the raw field (see [`rfc2231`]).
fn file_name(base: &[u8], part: &MessagePart<'_>) -> Option<String> {
    for (field, param) in [
        (HeaderName::ContentDisposition, "filename"),
        (HeaderName::ContentType, "name"),
    ] {
        let raw = part.headers.iter().find(|h| h.name == field).and_then(|h| {
            let start = usize::try_from(h.offset_start).ok()?;
            let end = usize::try_from(h.offset_end).ok()?;
            base.get(start..end)
        });
        if let Some(name) = raw.and_then(|r| rfc2231::extended_parameter(r, param)) {
            return Some(name);
        }
    }
    part.attachment_name().map(str::to_string)
}

/// The declared `type/subtype`, lower case.
fn declared_type(part: &MessagePart<'_>) -> Option<String> {
    part.content_type().map(|ct| {
        let subtype = ct.subtype().unwrap_or_default();
        format!("{}/{}", ct.ctype(), subtype).to_ascii_lowercase()
    })
}

/// How the part appeared: S/MIME signatures first, then `Content-Disposition`, then whether it
/// is named. Only the S/MIME signature of the message itself is a `Signature`: the signature part
/// of a `multipart/signed` (RFC 8551 §3.5.3) or an `smime.p7m` envelope (§3.5.2). A CAdES file a
/// resident attaches (`wniosek.pdf.p7s`) is an attachment like any document; its media type
/// still tells the verifier what it is.
fn role(
    part: &MessagePart<'_>,
    name: Option<&str>,
    declared: Option<&str>,
    sniffed: &str,
    in_signed: bool,
) -> Role {
    let detached = matches!(
        declared,
        Some("application/pkcs7-signature" | "application/x-pkcs7-signature")
    ) || sniffed == sniff::PKCS7_SIGNATURE;
    let envelope = matches!(
        declared,
        Some("application/pkcs7-mime" | "application/x-pkcs7-mime")
    ) && (name.is_some_and(|n| n.eq_ignore_ascii_case("smime.p7m"))
        || part
            .content_type()
            .is_some_and(|ct| ct.has_attribute("smime-type")));
    if (in_signed && detached) || envelope {
        return Role::Signature;
    }
    match part
        .content_disposition()
        .map(|d| d.ctype().to_ascii_lowercase())
    {
        Some(d) if d == "attachment" => Role::Attachment,
        Some(d) if d == "inline" => Role::Inline,
        _ if part.attachment_name().is_some() => Role::Attachment,
        _ if declared.is_some_and(|d| d.starts_with("text/") || d.starts_with("image/")) => {
            Role::Inline
        }
        _ => Role::Attachment,
    }
}
