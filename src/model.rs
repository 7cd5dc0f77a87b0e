//! Plain domain types of the register: submissions, documents, departments, audit events.
//!
//! These carry no behaviour beyond conversions to and from the strings stored in the database and
//! printed by the CLI, so every other module can share them without depending on each other.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A submission's identifier: a UUIDv7 in text form (time-ordered, unguessable enough for URLs
/// that are behind a login anyway).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SubmissionId(pub String);

impl SubmissionId {
    /// A fresh identifier.
    pub fn new() -> Self {
        Self(uuid::Uuid::now_v7().to_string())
    }
}

impl Default for SubmissionId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for SubmissionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Error for a string that names no known variant of a stored enumeration.
#[derive(Debug, thiserror::Error)]
#[error("unknown {kind}: {value:?}")]
pub struct UnknownVariant {
    kind: &'static str,
    value: String,
}

macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident, $kind:literal { $($(#[$vm:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vm])* #[serde(rename = $text)] $variant),+
        }
        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The name stored in the database and shown in JSON.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }
        impl FromStr for $name {
            type Err = UnknownVariant;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(UnknownVariant { kind: $kind, value: s.to_string() }),
                }
            }
        }
    };
}

string_enum! {
    /// How a submission reached the office (the first classification axis of DESIGN.md).
    Channel, "channel" {
        /// The general mailbox (IMAP) or an `.eml` file / Maildir handed to `podawcza ingest`.
        Email => "email",
        /// The public upload page.
        Upload => "upload",
        /// The JSON API.
        Api => "api",
    }
}

string_enum! {
    /// The durable pipeline state of a submission. Each step moves a submission one state on,
    /// and is idempotent, so a restart resumes where it stopped.
    State, "state" {
        /// Raw bytes stored and the row committed; the channel may be acknowledged.
        Received => "received",
        /// Documents extracted (MIME parts, ZIP entries, forwarded mail).
        Unpacked => "unpacked",
        /// Every document has a signature report.
        Verified => "verified",
        /// Plain or signed decided, department chosen.
        Classified => "classified",
        /// Assigned to a department's inbox.
        Dispatched => "dispatched",
        /// Could not be understood; stored and shown with its reason, never dropped.
        Quarantined => "quarantined",
    }
}

impl State {
    /// The state the next pipeline step moves a submission to, if any.
    pub fn next(self) -> Option<State> {
        match self {
            State::Received => Some(State::Unpacked),
            State::Unpacked => Some(State::Verified),
            State::Verified => Some(State::Classified),
            State::Classified => Some(State::Dispatched),
            State::Dispatched | State::Quarantined => None,
        }
    }
}

/// Where the arrival time of a submission came from. The channel's own time is authoritative and
/// never overwritten (DESIGN.md, invariant 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArrivalSource {
    /// The IMAP INTERNALDATE of the message.
    ImapInternaldate,
    /// The delivery time encoded in a Maildir file name.
    MaildirName,
    /// The topmost `Received:` header (added by the office's own mail server).
    ReceivedHeader,
    /// The `Date:` header (the sender's claim; used only when nothing better exists).
    DateHeader,
    /// The moment the gateway itself received the bytes (uploads, API, files without headers).
    Gateway,
}

impl ArrivalSource {
    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            ArrivalSource::ImapInternaldate => "imap_internaldate",
            ArrivalSource::MaildirName => "maildir_name",
            ArrivalSource::ReceivedHeader => "received_header",
            ArrivalSource::DateHeader => "date_header",
            ArrivalSource::Gateway => "gateway",
        }
    }
}

/// A department (wydział) that has an inbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Department {
    /// Short code, e.g. `KM`, `SO`, `USC`, `BOI`, `BP`.
    pub code: String,
    /// Full Polish name.
    pub name: String,
}

/// A registered submission, as stored.
#[derive(Debug, Clone, Serialize)]
pub struct Submission {
    /// Identifier.
    pub id: SubmissionId,
    /// `RPW/{n}/{yyyy}`: immutable, unique, gap-free per year.
    pub registration_number: String,
    /// How it came.
    pub channel: Channel,
    /// Authoritative arrival time from the channel.
    #[serde(serialize_with = "ser_time")]
    pub received_at: DateTime<Utc>,
    /// What `received_at` was taken from.
    pub arrival_source: String,
    /// When the gateway registered it (processing time, kept apart from the arrival time).
    #[serde(serialize_with = "ser_time")]
    pub registered_at: DateTime<Utc>,
    /// Sender address (e-mail), if known.
    pub sender: Option<String>,
    /// Sender display name, if known.
    pub sender_name: Option<String>,
    /// Addresses the message was sent to (To and Cc).
    pub recipients: Vec<String>,
    /// Subject.
    pub subject: Option<String>,
    /// The text of the message (decoded).
    pub text: Option<String>,
    /// `Message-ID` of a mail.
    pub message_id: Option<String>,
    /// SHA-256 of the raw bytes as received (hex).
    pub raw_sha256: String,
    /// Size of the raw bytes.
    pub raw_size: i64,
    /// Pipeline state.
    pub state: State,
    /// The department whose inbox holds it, once dispatched (or chosen, once classified).
    pub department: Option<String>,
    /// The routing rule that chose the department.
    pub routing_rule: Option<String>,
    /// Whether any document carries a signature (known once verified).
    pub signed: Option<bool>,
    /// Why it is quarantined.
    pub quarantine_reason: Option<String>,
}

/// A document of a submission: an attachment, an inline part, a ZIP entry, a part of a forwarded
/// message, a file inside an ASiC container, or an uploaded file.
#[derive(Debug, Clone, Serialize)]
pub struct Document {
    /// Identifier (UUIDv7 text).
    pub id: String,
    /// The submission it belongs to.
    pub submission_id: SubmissionId,
    /// Order within the submission, from 1.
    pub seq: i64,
    /// File name as the sender gave it (decoded); display only, never a file-system path.
    pub name: String,
    /// Media type sniffed from the bytes.
    pub media_type: String,
    /// Media type the sender declared, if any.
    pub declared_type: Option<String>,
    /// Size in bytes.
    pub size: i64,
    /// SHA-256 of the bytes (hex); also the blob key.
    pub sha256: String,
    /// Where it came from inside the submission, outermost first, joined by ` › `
    /// (e.g. `message/rfc822 "Fwd: wniosek" › wnioski.zip`); empty for a top-level part.
    pub container: String,
    /// How the part appeared: `attachment`, `inline`, `entry` (of an archive), `signature`, `upload`.
    pub role: String,
    /// The signature report of this document (DESIGN.md contract), once verified.
    pub report: Option<serde_json::Value>,
}

/// An append-only audit event: who did what, when, and why (DESIGN.md, invariant 7).
#[derive(Debug, Clone, Serialize)]
pub struct AuditEvent {
    /// Sequence number (database order).
    pub id: i64,
    /// The submission concerned.
    pub submission_id: SubmissionId,
    /// When it happened.
    #[serde(serialize_with = "ser_time")]
    pub at: DateTime<Utc>,
    /// Who: `system:<process>` for the gateway, a user login otherwise.
    pub actor: String,
    /// What, as a stable code: `registered`, `state_changed`, `assigned`, `quarantined`, ...
    pub action: String,
    /// Details as JSON (from/to states, department, rule).
    pub detail: serde_json::Value,
    /// Why (a note or the rule that decided).
    pub reason: Option<String>,
}

/// Formats a time the way the database and the JSON outputs keep it: RFC 3339, UTC, microseconds.
pub fn format_time(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Parses a time written by [`format_time`] (or any RFC 3339 time).
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn ser_time<S: serde::Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_time(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip_through_their_names() {
        for s in State::ALL {
            assert_eq!(s.as_str().parse::<State>().unwrap(), *s);
        }
        assert!("deleted".parse::<State>().is_err());
    }

    #[test]
    fn stored_times_sort_lexically_in_time_order() {
        let a = parse_time("2020-04-20T10:11:12Z").unwrap();
        let b = parse_time("2020-04-20T10:11:12.5Z").unwrap();
        assert!(format_time(&a) < format_time(&b));
        assert_eq!(format_time(&a), "2020-04-20T10:11:12.000000Z");
    }
}
