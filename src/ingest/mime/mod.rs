//! E-mail to documents: MIME parsing (mail-parser), forwarded messages, ZIP archives, media types
//! sniffed from the bytes, Polish charsets. Pure functions over bytes; nothing here touches storage.

use crate::config::LimitsConfig;
use chrono::{DateTime, Utc};

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

/// Why a message or an archive could not be taken apart.
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
}

/// Reads the header facts of a raw message. Never fails.
pub fn read_header(raw: &[u8]) -> MailHeader {
    let _ = raw;
    MailHeader::default()
}

/// Takes a raw message apart within `limits`.
pub fn unpack_email(raw: &[u8], limits: &LimitsConfig) -> Result<Unpacked, UnpackError> {
    let _ = (raw, limits);
    Err(UnpackError::Unparseable {
        reason: "not implemented".into(),
    })
}

/// Takes an uploaded file apart: the file itself, and the entries of a ZIP archive within `limits`.
pub fn unpack_file(
    name: &str,
    bytes: &[u8],
    limits: &LimitsConfig,
) -> Result<Vec<Extracted>, UnpackError> {
    let _ = (name, bytes, limits);
    Ok(Vec::new())
}
