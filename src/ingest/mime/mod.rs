//! E-mail to documents: MIME parsing (mail-parser), forwarded messages, ZIP archives, media types
//! sniffed from the bytes, Polish charsets. Pure functions over bytes; nothing here touches storage.
//!
//! How a message is taken apart ([`unpack_email`]):
//! 1. `prescan` checks the structure first (size, MIME depth, part count, truncation): mail-parser
//!    is lenient and would build ten thousand nested forwarded messages recursively.
//! 2. mail-parser parses; `parts` walks every part. The message text ([`Unpacked::text`]) is the
//!    first `text/plain` body, else the HTML body reduced to text; that one part is not a
//!    document. Every other part is: attachments, inline images, the HTML alternative of a plain
//!    body (role `Inline`), S/MIME signatures (role `Signature`), `winmail.dat`.
//! 3. A forwarded `message/rfc822` is kept whole as `<subject>.eml` (byte-exact, it may carry its
//!    own signature), its text becomes `<subject>.txt`, and its parts follow, each with the
//!    container `message/rfc822 "<subject>"`.
//! 4. A ZIP is kept and its entries follow (role `Entry`, container = the archive path), see
//!    `archive`; Office files and ASiC containers are not unpacked.
//!
//! Names are decoded (RFC 2047, RFC 2231 via `rfc2231`, CP852 in old ZIPs) and shown as given,
//! with `/`, `\` and control characters replaced by `_` (`names`); a part without a name gets
//! `part-<n>.<ext>`, `<n>` its position among the documents, `<ext>` from the sniffed type.
//! Media types are sniffed from the bytes ([`sniff`]); the declared one is kept beside.

mod archive;
mod cp852;
mod header;
mod names;
mod parts;
mod prescan;
mod rfc2231;
mod sink;
pub mod smime;
pub mod sniff;

use crate::config::LimitsConfig;
use chrono::{DateTime, Utc};
use sink::Sink;

/// The header facts the register needs, read without parsing the body. Never fails: a field that
/// cannot be read is `None`.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct MailHeader {
    /// `Message-ID` without angle brackets.
    pub message_id: Option<String>,
    /// Sender address (From).
    pub from_address: Option<String>,
    /// Sender display name (decoded).
    pub from_name: Option<String>,
    /// `To` addresses.
    pub to: Vec<String>,
    /// `Cc` addresses.
    pub cc: Vec<String>,
    /// Subject (decoded).
    pub subject: Option<String>,
    /// `Date`.
    pub date: Option<DateTime<Utc>>,
    /// Date of the topmost `Received` header (our own server's receipt).
    pub received: Option<DateTime<Utc>>,
    /// `Auto-Submitted` value, for loop protection.
    pub auto_submitted: Option<String>,
}

/// How a document appeared in the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A MIME part with `Content-Disposition: attachment`, or a named part.
    Attachment,
    /// An inline part (image, alternative body kept as a file).
    Inline,
    /// An entry of an archive.
    Entry,
    /// An S/MIME signature part (`smime.p7s`) or signed-data envelope.
    Signature,
    /// A file uploaded through the web or the API.
    Upload,
}

impl Role {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Attachment => "attachment",
            Role::Inline => "inline",
            Role::Entry => "entry",
            Role::Signature => "signature",
            Role::Upload => "upload",
        }
    }
}

/// One document taken out of a message or an upload.
#[derive(Debug, Clone, PartialEq)]
pub struct Extracted {
    /// File name (decoded; display only).
    pub name: String,
    /// Media type sniffed from the bytes.
    pub media_type: String,
    /// Media type the sender declared.
    pub declared_type: Option<String>,
    /// The exact bytes (transfer encoding removed).
    pub bytes: Vec<u8>,
    /// Containers it came from, outermost first.
    pub container: Vec<String>,
    /// How it appeared.
    pub role: Role,
}

/// A message taken apart.
#[derive(Debug, Clone, PartialEq)]
pub struct Unpacked {
    /// Header facts.
    pub header: MailHeader,
    /// The message text (plain text body, or HTML reduced to text), decoded.
    pub text: Option<String>,
    /// Every document, in message order.
    pub documents: Vec<Extracted>,
    /// Non-fatal oddities (a part that could not be decoded, a truncated archive entry kept raw).
    pub warnings: Vec<String>,
}

/// Why a message or an archive could not be taken apart. The `Display` text is the quarantine
/// reason shown to clerks: it names the limit or the archive at fault.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum UnpackError {
    /// The message is larger than the limit.
    #[error("message too large: {actual} bytes, limit {limit}")]
    TooLarge {
        /// The limit.
        limit: u64,
        /// The size.
        actual: u64,
    },
    /// Not a MIME message at all.
    #[error("unparseable message: {reason}")]
    Unparseable {
        /// Why.
        reason: String,
    },
    /// MIME parts (multiparts and forwarded messages) nested deeper than the limit.
    #[error("message nested too deep: more than {limit} MIME levels")]
    TooDeep {
        /// The limit (`max_mime_depth`).
        limit: usize,
    },
    /// More MIME parts than the limit.
    #[error("message has too many parts: more than {limit}")]
    TooManyParts {
        /// The limit (`max_parts`).
        limit: usize,
    },
    /// More documents (parts, archive entries, forwarded mail) than the limit.
    #[error("submission has too many documents: more than {limit}")]
    TooManyDocuments {
        /// The limit (`max_documents`).
        limit: usize,
    },
    /// The message was cut off (a multipart never closed, base64 data cut in a group).
    #[error("truncated message: {reason}")]
    Truncated {
        /// What is missing.
        reason: String,
    },
    /// An archive exceeds a limit: a ZIP bomb (ratio, total size, entries, nesting).
    #[error("archive {name} rejected: {reason}")]
    Archive {
        /// The archive's name, with its containers (`a.zip/b.zip`).
        name: String,
        /// Which limit, and by how much.
        reason: String,
    },
}

/// Reads the header facts of a raw message. Never fails: it looks at the header block only
/// (at most 256 KB), so it works on messages whose body is garbage or cut off.
pub fn read_header(raw: &[u8]) -> MailHeader {
    header::read(raw)
}

/// Takes a raw message apart within `limits`: the body text, every part as a document (forwarded
/// messages and ZIP archives unpacked), warnings. `Err` sends the submission to quarantine with
/// the error's text as the reason; the raw message is kept either way.
pub fn unpack_email(raw: &[u8], limits: &LimitsConfig) -> Result<Unpacked, UnpackError> {
    let actual = u64::try_from(raw.len()).unwrap_or(u64::MAX);
    if actual > limits.max_message_bytes {
        return Err(UnpackError::TooLarge {
            limit: limits.max_message_bytes,
            actual,
        });
    }
    check_header_block(raw)?;
    let scan = prescan::scan(raw, 0, limits)?;
    let repaired;
    let base = if scan.repairs.is_empty() {
        raw
    } else {
        repaired = prescan::repaired(raw, &scan.repairs);
        repaired.as_slice()
    };
    let message = mail_parser::MessageParser::new()
        .parse(base)
        .ok_or_else(|| UnpackError::Unparseable {
            reason: "no header block".into(),
        })?;
    let mut sink = Sink::new(limits);
    sink.warnings = scan.warnings;
    let text = parts::walk(&message, base, &mut sink, &[], 0)?;
    Ok(Unpacked {
        header: header::read(raw),
        text,
        documents: sink.documents,
        warnings: sink.warnings,
    })
}

/// Takes an uploaded file apart: the file itself (role `Upload`), and the entries of a ZIP
/// archive within `limits`. Warnings (a corrupt or encrypted archive kept whole) are dropped:
/// use [`unpack_file_with_warnings`] to show them.
pub fn unpack_file(
    name: &str,
    bytes: &[u8],
    limits: &LimitsConfig,
) -> Result<Vec<Extracted>, UnpackError> {
    unpack_file_with_warnings(name, bytes, limits).map(|(documents, _)| documents)
}

/// [`unpack_file`], with the warnings.
pub fn unpack_file_with_warnings(
    name: &str,
    bytes: &[u8],
    limits: &LimitsConfig,
) -> Result<(Vec<Extracted>, Vec<String>), UnpackError> {
    let actual = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    if actual > limits.max_message_bytes {
        return Err(UnpackError::TooLarge {
            limit: limits.max_message_bytes,
            actual,
        });
    }
    let mut sink = Sink::new(limits);
    sink.add(Some(name), bytes.to_vec(), None, &[], Role::Upload, 0)?;
    Ok((sink.documents, sink.warnings))
}

/// A message must start with a header field (`Name: value`, RFC 5322 §2.2); anything else
/// (binary garbage, a bare PDF) is not a message. An mbox `From ` line is tolerated.
fn check_header_block(raw: &[u8]) -> Result<(), UnpackError> {
    let mut lines = raw.split(|&b| b == b'\n');
    let mut first = lines.next().unwrap_or_default();
    if first.starts_with(b"From ") {
        first = lines.next().unwrap_or_default();
    }
    let colon = first.iter().position(|&b| b == b':');
    let name = colon.and_then(|c| first.get(..c)).unwrap_or_default();
    let valid = !name.is_empty() && name.iter().all(|&b| b.is_ascii_graphic());
    if valid {
        Ok(())
    } else {
        Err(UnpackError::Unparseable {
            reason: "the message does not start with a header field".into(),
        })
    }
}
