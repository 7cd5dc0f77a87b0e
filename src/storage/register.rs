//! Registration: a stored raw blob becomes a submission row with its registration number.
//!
//! The number is taken from the year's counter in the same transaction as the row, so a rollback
//! gives it back: numbers are gap-free per year and unique, with any number of concurrent
//! registering processes (the counter row is locked until commit). A message already registered
//! (same raw SHA-256 and Message-ID) is recognised and not registered twice: the duplicate is
//! recorded as an audit event on the original.

use super::audit;
use super::db::{Db, DbError};
use crate::model::{format_time, Channel, State, SubmissionId};
use chrono::{DateTime, Datelike, Utc};
use sqlx::Row;

/// A submission about to be registered. Its raw bytes are already in the blob store.
#[derive(Debug, Clone)]
pub struct NewSubmission {
    /// How it came.
    pub channel: Channel,
    /// Authoritative arrival time from the channel.
    pub received_at: DateTime<Utc>,
    /// Where the arrival time came from (`ArrivalSource::as_str`).
    pub arrival_source: &'static str,
    /// Sender address.
    pub sender: Option<String>,
    /// Sender display name.
    pub sender_name: Option<String>,
    /// Recipient addresses.
    pub recipients: Vec<String>,
    /// Subject.
    pub subject: Option<String>,
    /// Text (uploads: the resident's message; mail: filled when unpacked).
    pub text: Option<String>,
    /// Message-ID.
    pub message_id: Option<String>,
    /// SHA-256 of the raw bytes (the blob key).
    pub raw_sha256: String,
    /// Size of the raw bytes.
    pub raw_size: i64,
    /// Whether a second copy of the same message is a duplicate (mail) or a new act (uploads).
    pub deduplicate: bool,
    /// Where it was taken from (file path, IMAP coordinates).
    pub source: Option<String>,
    /// Who registers it (`system:ingest`, `system:imap`, `system:web`).
    pub actor: String,
}

/// What registration did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Registered {
    /// A new submission with its number.
    New {
        /// Identifier.
        id: SubmissionId,
        /// Registration number.
        number: String,
    },
    /// The same message was already registered under this id.
    Duplicate {
        /// The existing submission.
        id: SubmissionId,
    },
}

impl NewSubmission {
    fn dedup_key(&self) -> Option<String> {
        self.deduplicate.then(|| {
            format!(
                "{}|{}",
                self.raw_sha256,
                self.message_id.as_deref().unwrap_or("")
            )
        })
    }
}

/// Formats a registration number by the configured pattern.
pub fn format_number(pattern: &str, n: i64, year: i32) -> String {
    pattern
        .replace("{n}", &n.to_string())
        .replace("{yyyy}", &year.to_string())
}

/// Registers a batch of submissions in one transaction (group commit: one durable commit for many
/// messages). Returns one outcome per input, in order.
pub async fn register_batch(
    db: &Db,
    pattern: &str,
    tz: chrono_tz::Tz,
    now: DateTime<Utc>,
    batch: &[NewSubmission],
) -> Result<Vec<Registered>, DbError> {
    let mut tx = db.begin_write().await?;
    let mut out = Vec::with_capacity(batch.len());
    for s in batch {
        out.push(register_one(&mut tx, pattern, tz, now, s).await?);
    }
    tx.commit().await?;
    Ok(out)
}

async fn register_one(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    pattern: &str,
    tz: chrono_tz::Tz,
    now: DateTime<Utc>,
    s: &NewSubmission,
) -> Result<Registered, DbError> {
    let id = SubmissionId::new();
    let year = i64::from(s.received_at.with_timezone(&tz).year());
    let dedup = s.dedup_key();
    let now_s = format_time(&now);
    let recipients = serde_json::to_string(&s.recipients).unwrap_or_else(|_| "[]".into());
    let inserted = sqlx::query(
        "INSERT INTO submissions (id, reg_year, channel, received_at, arrival_source, registered_at,
            sender, sender_name, recipients, subject, body_text, message_id, raw_sha256, raw_size,
            dedup_key, source, state, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $6)
         ON CONFLICT (dedup_key) DO NOTHING",
    )
    .bind(&id.0)
    .bind(year)
    .bind(s.channel.as_str())
    .bind(format_time(&s.received_at))
    .bind(s.arrival_source)
    .bind(&now_s)
    .bind(&s.sender)
    .bind(&s.sender_name)
    .bind(recipients)
    .bind(&s.subject)
    .bind(&s.text)
    .bind(&s.message_id)
    .bind(&s.raw_sha256)
    .bind(s.raw_size)
    .bind(&dedup)
    .bind(&s.source)
    .bind(State::Received.as_str())
    .execute(&mut **tx)
    .await?;
    if inserted.rows_affected() == 0 {
        return duplicate(tx, s, dedup.as_deref(), now).await;
    }
    let row = sqlx::query(
        "INSERT INTO reg_counters (year, last) VALUES ($1, 1)
         ON CONFLICT (year) DO UPDATE SET last = reg_counters.last + 1
         RETURNING last",
    )
    .bind(year)
    .fetch_one(&mut **tx)
    .await?;
    let n: i64 = row.try_get("last")?;
    let number = format_number(pattern, n, year as i32);
    sqlx::query("UPDATE submissions SET registration_number = $1, reg_seq = $2 WHERE id = $3")
        .bind(&number)
        .bind(n)
        .bind(&id.0)
        .execute(&mut **tx)
        .await?;
    let detail = serde_json::json!({
        "registration_number": number, "channel": s.channel.as_str(),
        "received_at": format_time(&s.received_at), "arrival_source": s.arrival_source,
        "raw_sha256": s.raw_sha256, "source": s.source,
    });
    audit::record(tx, &id, now, &s.actor, "registered", detail, None).await?;
    Ok(Registered::New { id, number })
}

async fn duplicate(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    s: &NewSubmission,
    dedup: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Registered, DbError> {
    let row = sqlx::query("SELECT id FROM submissions WHERE dedup_key = $1")
        .bind(dedup)
        .fetch_one(&mut **tx)
        .await?;
    let id = SubmissionId(row.try_get("id")?);
    let detail =
        serde_json::json!({ "source": s.source, "received_at": format_time(&s.received_at) });
    audit::record(
        tx,
        &id,
        now,
        &s.actor,
        "duplicate_ignored",
        detail,
        Some("same Message-ID and SHA-256 already registered"),
    )
    .await?;
    Ok(Registered::Duplicate { id })
}

/// Whether a message with this dedup identity is already registered (a cheap check before
/// storing its blob; the unique key decides in the end).
pub async fn is_registered(
    db: &Db,
    raw_sha256: &str,
    message_id: Option<&str>,
) -> Result<Option<SubmissionId>, DbError> {
    let key = format!("{raw_sha256}|{}", message_id.unwrap_or(""));
    let row = sqlx::query("SELECT id FROM submissions WHERE dedup_key = $1")
        .bind(key)
        .fetch_optional(db.pool())
        .await?;
    Ok(match row {
        Some(r) => Some(SubmissionId(r.try_get("id")?)),
        None => None,
    })
}

/// Makes the departments table match the configuration (insert or update; never delete, since
/// old submissions may name a department that was later removed from the config).
pub async fn sync_departments(
    db: &Db,
    departments: &[crate::config::DepartmentConfig],
) -> Result<(), DbError> {
    let mut tx = db.begin_write().await?;
    for d in departments {
        sqlx::query(
            "INSERT INTO departments (code, name, email) VALUES ($1, $2, $3)
             ON CONFLICT (code) DO UPDATE SET name = excluded.name, email = excluded.email",
        )
        .bind(&d.code)
        .bind(&d.name)
        .bind(&d.email)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_follow_the_configured_pattern() {
        assert_eq!(format_number("RPW/{n}/{yyyy}", 17, 2020), "RPW/17/2020");
        assert_eq!(format_number("BP.{yyyy}.{n}", 3, 2026), "BP.2026.3");
    }
}
