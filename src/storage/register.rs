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
///
/// A handful of statements serve the whole batch: one multi-row insert (duplicates skipped by the
/// unique dedup key, so they never take a number), one counter update per year reserving as many
/// numbers as rows went in (the counter row stays locked until commit, so concurrent batches
/// queue there and numbers stay gap-free), one update writing the numbers, one insert of the
/// audit events.
pub async fn register_batch(
    db: &Db,
    pattern: &str,
    tz: chrono_tz::Tz,
    now: DateTime<Utc>,
    batch: &[NewSubmission],
) -> Result<Vec<Registered>, DbError> {
    let mut tx = db.begin_write().await?;
    let out = register_batch_in(&mut tx, pattern, tz, now, batch).await?;
    tx.commit().await?;
    Ok(out)
}

/// [`register_batch`] inside the caller's write transaction (begun with [`Db::begin_write`]), so
/// a channel commits its own records with the submissions (the IMAP poller: one commit per
/// batch). Nothing is registered until the caller commits.
pub async fn register_batch_in(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    pattern: &str,
    tz: chrono_tz::Tz,
    now: DateTime<Utc>,
    batch: &[NewSubmission],
) -> Result<Vec<Registered>, DbError> {
    let mut out = Vec::with_capacity(batch.len());
    for chunk in batch.chunks(CHUNK) {
        out.extend(register_chunk(tx, pattern, tz, now, chunk).await?);
    }
    Ok(out)
}

/// What an upload registers besides the submission and its documents.
#[derive(Debug, Clone)]
pub struct UploadExtras<'a> {
    /// The API token that submitted it, if any.
    pub api_token: Option<&'a str>,
    /// SHA-256 of the receipt's access code.
    pub access_code_sha256: &'a str,
    /// The worker that will take it through the pipeline at once, and until when it holds it
    /// (a crash leaves it to the other workers when the lease ends).
    pub lease: Option<(&'a str, DateTime<Utc>)>,
}

/// Registers one submission together with its documents (uploads and the API: the files are the
/// documents, stored before this call) in one transaction, so the row, its number, its
/// documents, its receipt's access code and the claim of the worker that processes it commit at
/// once, before the client gets its answer.
pub async fn register_with_documents(
    db: &Db,
    pattern: &str,
    tz: chrono_tz::Tz,
    now: DateTime<Utc>,
    submission: &NewSubmission,
    documents: &[super::work::NewDocument],
    extras: &UploadExtras<'_>,
) -> Result<(SubmissionId, String), DbError> {
    let mut tx = db.begin_write().await?;
    let out = register_chunk(&mut tx, pattern, tz, now, std::slice::from_ref(submission)).await?;
    let Some(Registered::New { id, number }) = out.into_iter().next() else {
        return Err(DbError::Corrupt {
            what: "registration of an upload",
            value: submission.raw_sha256.clone(),
        });
    };
    super::work::save_documents(&mut tx, &id, documents).await?;
    sqlx::query(
        "UPDATE submissions SET api_token = $1, lease_owner = $2, lease_until = $3 WHERE id = $4",
    )
    .bind(extras.api_token)
    .bind(extras.lease.map(|(owner, _)| owner))
    .bind(extras.lease.map(|(_, until)| format_time(&until)))
    .bind(&id.0)
    .execute(&mut *tx)
    .await?;
    sqlx::query("INSERT INTO receipts (submission_id, access_code_sha256) VALUES ($1, $2)")
        .bind(&id.0)
        .bind(extras.access_code_sha256)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok((id, number))
}

/// Rows per multi-row statement (18 values a row stays far below both engines' parameter limits).
const CHUNK: usize = 100;

async fn register_chunk(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    pattern: &str,
    tz: chrono_tz::Tz,
    now: DateTime<Utc>,
    batch: &[NewSubmission],
) -> Result<Vec<Registered>, DbError> {
    let ids: Vec<SubmissionId> = batch.iter().map(|_| SubmissionId::new()).collect();
    let years: Vec<i64> = batch
        .iter()
        .map(|s| i64::from(s.received_at.with_timezone(&tz).year()))
        .collect();
    let inserted = insert_rows(tx, now, batch, &ids, &years).await?;
    // Numbers per year, in batch order.
    let mut numbers: std::collections::HashMap<usize, (i64, String)> =
        std::collections::HashMap::new();
    let mut by_year: std::collections::BTreeMap<i64, Vec<usize>> =
        std::collections::BTreeMap::new();
    for (i, id) in ids.iter().enumerate() {
        if inserted.contains(&id.0) {
            by_year
                .entry(years.get(i).copied().unwrap_or_default())
                .or_default()
                .push(i);
        }
    }
    for (year, rows) in &by_year {
        let k = i64::try_from(rows.len()).unwrap_or(i64::MAX);
        let row = sqlx::query(
            "INSERT INTO reg_counters (year, last) VALUES ($1, $2)
             ON CONFLICT (year) DO UPDATE SET last = reg_counters.last + $2
             RETURNING last",
        )
        .bind(year)
        .bind(k)
        .fetch_one(&mut **tx)
        .await?;
        let last: i64 = row.try_get("last")?;
        for (j, i) in rows.iter().enumerate() {
            let n = last - k + 1 + j as i64;
            numbers.insert(*i, (n, format_number(pattern, n, *year as i32)));
        }
    }
    write_numbers(tx, &ids, &numbers).await?;
    let mut events = Vec::with_capacity(batch.len());
    let mut out = Vec::with_capacity(batch.len());
    for (i, s) in batch.iter().enumerate() {
        let (Some(id), Some((_, number))) = (ids.get(i), numbers.get(&i)) else {
            let existing = existing_id(tx, s).await?;
            let detail = serde_json::json!({ "source": s.source, "received_at": format_time(&s.received_at) });
            events.push(audit::NewEvent {
                submission: existing.clone(),
                actor: s.actor.clone(),
                action: "duplicate_ignored",
                detail,
                reason: Some("same Message-ID and SHA-256 already registered".into()),
            });
            out.push(Registered::Duplicate { id: existing });
            continue;
        };
        let detail = serde_json::json!({
            "registration_number": number, "channel": s.channel.as_str(),
            "received_at": format_time(&s.received_at), "arrival_source": s.arrival_source,
            "raw_sha256": s.raw_sha256, "source": s.source,
        });
        events.push(audit::NewEvent {
            submission: id.clone(),
            actor: s.actor.clone(),
            action: "registered",
            detail,
            reason: None,
        });
        out.push(Registered::New {
            id: id.clone(),
            number: number.clone(),
        });
    }
    audit::record_many(tx, now, &events).await?;
    Ok(out)
}

/// One multi-row insert; returns the ids that went in (the others were duplicates).
async fn insert_rows(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    now: DateTime<Utc>,
    batch: &[NewSubmission],
    ids: &[SubmissionId],
    years: &[i64],
) -> Result<std::collections::HashSet<String>, DbError> {
    const COLS: usize = 18;
    let values: Vec<String> = (0..batch.len())
        .map(|r| {
            let p: Vec<String> = (1..=COLS).map(|c| format!("${}", r * COLS + c)).collect();
            format!("({})", p.join(", "))
        })
        .collect();
    let sql = format!(
        "INSERT INTO submissions (id, reg_year, channel, received_at, arrival_source, registered_at,
            sender, sender_name, recipients, subject, body_text, message_id, raw_sha256, raw_size,
            dedup_key, source, state, updated_at)
         VALUES {}
         ON CONFLICT (dedup_key) DO NOTHING
         RETURNING id",
        values.join(", ")
    );
    let now_s = format_time(&now);
    let mut q = sqlx::query(&sql);
    for ((s, id), year) in batch.iter().zip(ids).zip(years) {
        let recipients = serde_json::to_string(&s.recipients).unwrap_or_else(|_| "[]".into());
        q = q
            .bind(id.0.clone())
            .bind(*year)
            .bind(s.channel.as_str())
            .bind(format_time(&s.received_at))
            .bind(s.arrival_source)
            .bind(now_s.clone())
            .bind(s.sender.clone())
            .bind(s.sender_name.clone())
            .bind(recipients)
            .bind(s.subject.clone())
            .bind(s.text.clone())
            .bind(s.message_id.clone())
            .bind(s.raw_sha256.clone())
            .bind(s.raw_size)
            .bind(s.dedup_key())
            .bind(s.source.clone())
            .bind(State::Received.as_str())
            .bind(now_s.clone());
    }
    let rows = q.fetch_all(&mut **tx).await?;
    rows.iter()
        .map(|r| Ok(r.try_get::<String, _>("id")?))
        .collect()
}

/// Writes the numbers of a chunk in one statement.
async fn write_numbers(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    ids: &[SubmissionId],
    numbers: &std::collections::HashMap<usize, (i64, String)>,
) -> Result<(), DbError> {
    if numbers.is_empty() {
        return Ok(());
    }
    let mut keys: Vec<&usize> = numbers.keys().collect();
    keys.sort();
    let (mut num_case, mut seq_case, mut list) = (String::new(), String::new(), Vec::new());
    for (j, _) in keys.iter().enumerate() {
        let (pid, pnum, pseq) = (3 * j + 1, 3 * j + 2, 3 * j + 3);
        num_case.push_str(&format!(" WHEN ${pid} THEN ${pnum}"));
        seq_case.push_str(&format!(" WHEN ${pid} THEN ${pseq}"));
        list.push(format!("${pid}"));
    }
    let sql = format!(
        "UPDATE submissions SET registration_number = CASE id{num_case} END,
            reg_seq = CASE id{seq_case} END
         WHERE id IN ({})",
        list.join(", ")
    );
    let mut q = sqlx::query(&sql);
    for i in keys {
        let (Some(id), Some((n, number))) = (ids.get(*i), numbers.get(i)) else {
            continue;
        };
        q = q.bind(id.0.clone()).bind(number.clone()).bind(*n);
    }
    q.execute(&mut **tx).await?;
    Ok(())
}

async fn existing_id(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    s: &NewSubmission,
) -> Result<SubmissionId, DbError> {
    let row = sqlx::query("SELECT id FROM submissions WHERE dedup_key = $1")
        .bind(s.dedup_key())
        .fetch_one(&mut **tx)
        .await?;
    Ok(SubmissionId(row.try_get("id")?))
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
