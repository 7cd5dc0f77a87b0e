//! The upload channel: files handed in on the public page or through the JSON API.
//!
//! Each file is streamed into the blob store while it arrives (hashed on the way, never whole in
//! memory), checked against `[upload]` (count, size, accepted types), and the submission is
//! registered with its files as documents in one transaction before the client is answered
//! (DESIGN.md invariant 1). Its raw blob is an envelope: a JSON record of what came (the
//! fields and each file's name, size and SHA-256), so the register has one raw blob per
//! submission whatever the channel. Names are for display only: a blob is found by its hash, so
//! nothing in a file name reaches the file system.

use crate::app::App;
use crate::config::UploadConfig;
use crate::ingest::mime::sniff;
use crate::model::{ArrivalSource, Channel, SubmissionId};
use crate::storage::blobs::{BlobError, BlobWriter};
use crate::storage::register::{self, NewSubmission};
use crate::storage::work::NewDocument;
use crate::storage::DbError;
use chrono::{DateTime, Utc};

/// Bytes of a file's beginning kept for sniffing its type.
const HEAD: usize = 64 * 1024;

/// Why an upload is refused. Nothing is registered when one of these is returned; the `Display`
/// text is in Polish, for the resident (the API puts it in the problem's `detail`).
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// No file at all.
    #[error("Nie dołączono żadnego pliku.")]
    NoFiles,
    /// More files than allowed.
    #[error("Za dużo plików: można dołączyć najwyżej {limit}.")]
    TooManyFiles {
        /// `max_files`.
        limit: usize,
    },
    /// One file larger than allowed.
    #[error("Plik „{name}” jest za duży: najwyżej {} na plik.", crate::ingest::upload::megabytes(*limit))]
    FileTooLarge {
        /// The file's name.
        name: String,
        /// `max_file_bytes`.
        limit: u64,
    },
    /// The whole request larger than allowed.
    #[error("Przesyłka jest za duża: najwyżej {} łącznie.", crate::ingest::upload::megabytes(*limit))]
    RequestTooLarge {
        /// `max_request_bytes`.
        limit: u64,
    },
    /// A file type not accepted.
    #[error("Plik „{name}” ma nieobsługiwany format. Przyjmujemy: {accepted}.")]
    Unsupported {
        /// The file's name.
        name: String,
        /// The accepted extensions, listed.
        accepted: String,
    },
    /// An e-mail address that is not one.
    #[error("Adres e-mail „{0}” jest niepoprawny.")]
    BadEmail(String),
    /// A text field too long.
    #[error("Pole „{field}” jest za długie: najwyżej {limit} znaków.")]
    TooLong {
        /// Which field.
        field: &'static str,
        /// The limit.
        limit: usize,
    },
    /// The request is not what the form or the API sends.
    #[error("Niepoprawne żądanie: {0}")]
    Malformed(String),
    /// Storing failed (the office's fault; the resident may try again).
    #[error("Nie udało się zapisać przesyłki; spróbuj ponownie za chwilę.")]
    Blob(#[from] BlobError),
    /// Registering failed.
    #[error("Nie udało się zarejestrować przesyłki; spróbuj ponownie za chwilę.")]
    Db(#[from] DbError),
}

impl UploadError {
    /// The HTTP status that fits.
    pub fn status(&self) -> u16 {
        match self {
            UploadError::FileTooLarge { .. } | UploadError::RequestTooLarge { .. } => 413,
            UploadError::Unsupported { .. } => 415,
            UploadError::Blob(_) | UploadError::Db(_) => 500,
            _ => 400,
        }
    }

    /// A short machine-readable name (the API's problem `type` ends with it).
    pub fn code(&self) -> &'static str {
        match self {
            UploadError::NoFiles => "no-files",
            UploadError::TooManyFiles { .. } => "too-many-files",
            UploadError::FileTooLarge { .. } => "file-too-large",
            UploadError::RequestTooLarge { .. } => "request-too-large",
            UploadError::Unsupported { .. } => "unsupported-type",
            UploadError::BadEmail(_) => "bad-email",
            UploadError::TooLong { .. } => "too-long",
            UploadError::Malformed(_) => "malformed",
            UploadError::Blob(_) | UploadError::Db(_) => "storage",
        }
    }
}

/// `n` bytes in MB, the way the page states the limits.
pub fn megabytes(n: u64) -> String {
    let mb = n as f64 / (1024.0 * 1024.0);
    if (mb - mb.round()).abs() < 0.05 {
        format!("{} MB", mb.round())
    } else {
        format!("{mb:.1} MB")
    }
}

/// A file name as the resident's browser or system gave it, made safe for display and records:
/// the last path component only, no control characters, at most 255 characters. Empty: `plik-N`.
pub fn clean_name(raw: &str, n: usize) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
    let cleaned: String = last.chars().filter(|c| !c.is_control()).take(255).collect();
    let cleaned = cleaned.trim().trim_start_matches('.').trim().to_string();
    if cleaned.is_empty() {
        format!("plik-{n}")
    } else {
        cleaned
    }
}

/// The accepted extensions, listed for people.
pub fn accepted_list(cfg: &UploadConfig) -> String {
    cfg.accepted_extensions
        .iter()
        .map(|e| format!(".{e}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Checks a file's name against the accepted extensions.
pub fn check_type(cfg: &UploadConfig, name: &str) -> Result<(), UploadError> {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    if cfg.accepted_extensions.iter().any(|a| a == &ext) {
        Ok(())
    } else {
        Err(UploadError::Unsupported {
            name: name.to_string(),
            accepted: accepted_list(cfg),
        })
    }
}

/// A plausible e-mail address (one `@`, a dot in the domain, no spaces or angle brackets);
/// empty means none. Returns the trimmed address.
pub fn check_email(raw: &str) -> Result<Option<String>, UploadError> {
    let s = raw.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let ok = s.len() <= 254
        && s.split('@').count() == 2
        && s.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        })
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>,;\"()[]\\".contains(c));
    if ok {
        Ok(Some(s.to_string()))
    } else {
        Err(UploadError::BadEmail(s.chars().take(100).collect()))
    }
}

/// The text fields of a submission.
#[derive(Debug, Clone, Default)]
pub struct Fields {
    /// E-mail address for the receipt.
    pub email: Option<String>,
    /// Subject.
    pub subject: Option<String>,
    /// Message.
    pub message: Option<String>,
}

impl Fields {
    /// A field's name for people and its length limit in characters; unknown names are an error.
    pub fn limit(cfg: &UploadConfig, name: &str) -> Result<(&'static str, usize), UploadError> {
        match name {
            "email" => Ok(("e-mail", 254)),
            "subject" => Ok(("temat", 300)),
            "message" => Ok(("treść", cfg.max_message_chars)),
            other => Err(UploadError::Malformed(format!(
                "nieznane pole formularza „{}”",
                other.chars().take(40).collect::<String>()
            ))),
        }
    }

    /// Sets a field from the form, within the limits; unknown names are an error.
    pub fn set(
        &mut self,
        cfg: &UploadConfig,
        name: &str,
        value: String,
    ) -> Result<(), UploadError> {
        let (field, limit) = Fields::limit(cfg, name)?;
        if name == "email" {
            self.email = check_email(&value)?;
            return Ok(());
        }
        if value.chars().count() > limit {
            return Err(UploadError::TooLong { field, limit });
        }
        let t = value.trim().to_string();
        let t = (!t.is_empty()).then_some(t);
        if name == "subject" {
            self.subject = t;
        } else {
            self.message = t;
        }
        Ok(())
    }
}

/// A file being received: written to the blob store as it arrives, within the per-file limit.
#[derive(Debug)]
pub struct Incoming {
    name: String,
    declared_type: Option<String>,
    writer: BlobWriter,
    head: Vec<u8>,
    limit: u64,
}

impl Incoming {
    /// Starts receiving a file (its name already cleaned and checked).
    pub fn start(
        app: &App,
        name: String,
        declared_type: Option<String>,
    ) -> Result<Incoming, UploadError> {
        Ok(Incoming {
            name,
            declared_type,
            writer: app.blobs.writer()?,
            head: Vec::new(),
            limit: app.config.upload.max_file_bytes,
        })
    }

    /// Appends a piece of the file.
    pub fn write(&mut self, chunk: bytes::Bytes) -> Result<(), UploadError> {
        if self.writer.size() + chunk.len() as u64 > self.limit {
            return Err(UploadError::FileTooLarge {
                name: self.name.clone(),
                limit: self.limit,
            });
        }
        if self.head.len() < HEAD {
            let take = (HEAD - self.head.len()).min(chunk.len());
            self.head
                .extend_from_slice(chunk.get(..take).unwrap_or_default());
        }
        self.writer.write_bytes(chunk)?;
        Ok(())
    }

    /// Bytes received so far.
    pub fn size(&self) -> u64 {
        self.writer.size()
    }

    /// Makes the file durable (on a blocking thread) and tells its type from its bytes.
    pub async fn finish(self, app: &std::sync::Arc<App>) -> Result<Staged, UploadError> {
        let app = app.clone();
        tokio::task::spawn_blocking(move || {
            let Incoming {
                name,
                declared_type,
                writer,
                head,
                ..
            } = self;
            let (sha256, size, prefixes) = writer.finish_with_prefixes()?;
            let mut media_type = sniff::sniff(&head, &name);
            if media_type == "application/octet-stream" && size > head.len() as u64 {
                // The beginning was not enough (a long DER structure): look at all of it.
                media_type = sniff::sniff(&app.blobs.get(&sha256)?, &name);
            }
            Ok(Staged {
                name,
                declared_type,
                sha256,
                size,
                media_type: media_type.to_string(),
                prefixes: std::sync::Arc::new(prefixes),
            })
        })
        .await
        .map_err(|e| UploadError::Malformed(format!("zadanie przerwane: {e}")))?
    }
}

/// A file stored durably, not yet registered.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Staged {
    /// Name (display only).
    pub name: String,
    /// Media type the client declared.
    pub declared_type: Option<String>,
    /// SHA-256 (its blob key).
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// Media type sniffed from the bytes.
    pub media_type: String,
    /// The hash states taken while it streamed in (the verifier finishes a signed prefix's
    /// digest from them instead of hashing the file again).
    #[serde(skip)]
    pub prefixes: std::sync::Arc<crate::digest::Prefixes>,
}

/// What registration gave.
#[derive(Debug, Clone)]
pub struct Accepted {
    /// The submission.
    pub id: SubmissionId,
    /// Its registration number.
    pub registration_number: String,
    /// Its arrival time.
    pub received_at: DateTime<Utc>,
    /// The claim registration took for this process, to take it through the pipeline at once.
    pub claimed: crate::storage::work::Claimed,
    /// The owner of that claim.
    pub owner: String,
    /// The sender's address for the receipt, when given.
    pub sender: Option<String>,
    /// The subject the sender gave.
    pub subject: Option<String>,
}

/// What an upload registers: the submission (its envelope blob stored) and its files as
/// documents.
#[derive(Debug, Clone)]
pub struct Parts {
    /// The submission.
    pub submission: NewSubmission,
    /// Its files, in order.
    pub documents: Vec<NewDocument>,
}

/// Stores the envelope of an upload (a blocking call: it writes and syncs a blob) and returns
/// what registration records of it.
pub fn parts(
    app: &App,
    channel: Channel,
    fields: &Fields,
    files: &[Staged],
    received_at: DateTime<Utc>,
) -> Result<Parts, UploadError> {
    if files.is_empty() {
        return Err(UploadError::NoFiles);
    }
    let envelope = serde_json::json!({
        "channel": channel.as_str(),
        "received_at": crate::model::format_time(&received_at),
        "email": fields.email,
        "subject": fields.subject,
        "message": fields.message,
        "files": files,
    });
    let bytes =
        serde_json::to_vec_pretty(&envelope).map_err(|e| UploadError::Malformed(e.to_string()))?;
    let raw_size = i64::try_from(bytes.len()).unwrap_or(i64::MAX);
    let raw_sha256 = app.blobs.put(&bytes)?;
    let submission = NewSubmission {
        channel,
        received_at,
        arrival_source: ArrivalSource::Gateway.as_str(),
        sender: fields.email.clone(),
        sender_name: None,
        recipients: Vec::new(),
        subject: fields.subject.clone(),
        text: fields.message.clone(),
        message_id: None,
        raw_sha256,
        raw_size,
        deduplicate: false,
        source: None,
        actor: match channel {
            Channel::Api => "system:api".into(),
            _ => "system:web".into(),
        },
    };
    let documents: Vec<NewDocument> = files
        .iter()
        .map(|f| NewDocument {
            name: f.name.clone(),
            media_type: f.media_type.clone(),
            declared_type: f.declared_type.clone(),
            size: i64::try_from(f.size).unwrap_or(i64::MAX),
            sha256: f.sha256.clone(),
            container: String::new(),
            role: "upload".into(),
        })
        .collect();
    Ok(Parts {
        submission,
        documents,
    })
}

/// Registers a submission from its stored files: the envelope blob, the row with its number and
/// the documents and the receipt's access code (kept as its SHA-256), committed together, with
/// a claim for this process to take it through the pipeline. `api_token` is the id of the token
/// that submitted it.
pub async fn register(
    app: &std::sync::Arc<App>,
    channel: Channel,
    fields: &Fields,
    files: &[Staged],
    received_at: DateTime<Utc>,
    api_token: Option<&str>,
    access_code: &str,
) -> Result<Accepted, UploadError> {
    let (app2, fields, files) = (app.clone(), fields.clone(), files.to_vec());
    let Parts {
        submission,
        documents,
    } = tokio::task::spawn_blocking(move || parts(&app2, channel, &fields, &files, received_at))
        .await
        .map_err(|e| UploadError::Malformed(format!("zadanie przerwane: {e}")))??;
    let tz = app.config.timezone();
    let now = crate::clock::now();
    let owner = crate::pipeline::sync_owner();
    let code_sha256 = crate::storage::public::access_code_sha256(access_code);
    let extras = register::UploadExtras {
        api_token,
        access_code_sha256: &code_sha256,
        lease: Some((&owner, now + crate::pipeline::lease(app))),
    };
    let (id, number) = register::register_with_documents(
        &app.db,
        &app.config.register.number_pattern,
        tz,
        now,
        &submission,
        &documents,
        &extras,
    )
    .await?;
    Ok(Accepted {
        claimed: crate::storage::work::Claimed {
            id: id.clone(),
            state: crate::model::State::Received,
            channel,
            raw_sha256: submission.raw_sha256.clone(),
            attempts: 0,
            received_at,
        },
        owner,
        id,
        registration_number: number,
        received_at,
        sender: submission.sender,
        subject: submission.subject,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn names_lose_their_paths_and_control_characters() {
        assert_eq!(clean_name("C:\\Users\\jan\\wniosek.pdf", 1), "wniosek.pdf");
        assert_eq!(clean_name("../../etc/passwd", 1), "passwd");
        assert_eq!(clean_name("..", 2), "plik-2");
        assert_eq!(clean_name("a\u{0}b\r\n.pdf", 1), "ab.pdf");
        assert_eq!(clean_name("", 3), "plik-3");
        assert_eq!(clean_name("Wniosek żółć.pdf", 1), "Wniosek żółć.pdf");
        assert_eq!(clean_name(&"x".repeat(400), 1).chars().count(), 255);
    }

    #[test]
    fn e_mail_addresses() {
        assert_eq!(
            check_email(" jan@example.pl ").unwrap().as_deref(),
            Some("jan@example.pl")
        );
        assert_eq!(check_email("").unwrap(), None);
        for bad in [
            "jan", "jan@", "@x.pl", "a@b", "a b@x.pl", "a@x.pl>", "a@@x.pl", "a@x.",
        ] {
            assert!(check_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn sizes_read_as_megabytes() {
        assert_eq!(megabytes(20 * 1024 * 1024), "20 MB");
        assert_eq!(megabytes(1536 * 1024), "1.5 MB");
    }
}
