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
/// A concurrent registration of the same message under another year (see
/// [`register_batch_in`]) makes the transaction fail; it is then run again, up to
/// [`RACE_RETRIES`] times, and the second run sees the other copy as a duplicate.
pub async fn register_batch(
    db: &Db,
    pattern: &str,
    tz: chrono_tz::Tz,
    now: DateTime<Utc>,
    batch: &[NewSubmission],
) -> Result<Vec<Registered>, DbError> {
    let mut attempt = 0;
    loop {
        let mut tx = db.begin_write().await?;
        match register_batch_in(&mut tx, pattern, tz, now, batch).await {
            Ok(out) => {
                tx.commit().await?;
                return Ok(out);
            }
            Err(e) if attempt < RACE_RETRIES && is_registration_race(&e) => {
                attempt += 1;
                tracing::info!(attempt, error = %e, "registration raced another one; retrying");
                tx.rollback().await?;
            }
            Err(e) => return Err(e),
        }
    }
}

/// How many times a registration that raced another one (see [`is_registration_race`]) is run
/// again before its error is returned.
pub const RACE_RETRIES: u32 = 3;

/// Whether a registration failed because a concurrent transaction registered the same message:
/// the insert hit a unique key of `submissions` (the other one committed first), or PostgreSQL
/// broke a deadlock between two inserts each waiting for the other's copy (SQLSTATE 40P01). The
/// whole transaction is rolled back, no number was used, and running it again registers the
/// message as a duplicate.
pub fn is_registration_race(e: &DbError) -> bool {
    matches!(e, DbError::Sql(sqlx::Error::Database(d))
        if d.kind() == sqlx::error::ErrorKind::UniqueViolation
            || d.code().as_deref() == Some("40P01"))
}

/// [`register_batch`] inside the caller's write transaction (begun with [`Db::begin_write`]), so
/// a channel commits its own records with the submissions (the IMAP poller: one commit per
/// batch). Nothing is registered until the caller commits.
///
/// Each row is inserted once, with its number: the counter row of every year in the batch is
/// locked first (ascending years, so two batches never wait for each other's counters in a cycle), then the
/// dedup keys already registered are looked up (one `SELECT … IN` per chunk of 100 rows),
/// copies inside the batch are dropped, the rest numbered from the counter and inserted, and each
/// counter advanced by exactly as many numbers as were given, before the caller commits.
///
/// Why no number can be lost: the insert has no `ON CONFLICT` clause, so a row can never be
/// skipped silently. A copy of the same message registered by a concurrent transaction in the
/// same year is always seen by the lookup (that transaction held the year's counter row from
/// before its insert until its commit, and on PostgreSQL each statement of a read-committed
/// transaction sees what was committed before it began). One registered concurrently under
/// another year (same bytes and Message-ID, another arrival time) makes the insert fail with a
/// unique violation ([`is_registration_race`]): the transaction rolls back with its numbers and
/// the caller runs it again. On SQLite writers are serialized by [`Db::begin_write`].
pub async fn register_batch_in(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    pattern: &str,
    tz: chrono_tz::Tz,
    now: DateTime<Utc>,
    batch: &[NewSubmission],
) -> Result<Vec<Registered>, DbError> {
    let years = years_of(batch, tz);
    let mut counters = Counters::lock(tx, &years).await?;
    let mut out = Vec::with_capacity(batch.len());
    for (chunk, chunk_years) in batch.chunks(CHUNK).zip(years.chunks(CHUNK)) {
        out.extend(number_and_insert(tx, pattern, now, chunk, chunk_years, &mut counters).await?);
    }
    counters.advance(tx).await?;
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
    let out =
        register_batch_in(&mut tx, pattern, tz, now, std::slice::from_ref(submission)).await?;
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

/// Rows per multi-row statement (17 values a row stays far below both engines' parameter limits).
const CHUNK: usize = 100;

/// The registration year of each submission: the year of its arrival in the office's time zone.
fn years_of(batch: &[NewSubmission], tz: chrono_tz::Tz) -> Vec<i64> {
    batch
        .iter()
        .map(|s| i64::from(s.received_at.with_timezone(&tz).year()))
        .collect()
}

/// The counter rows of the years being registered, locked by this transaction until it ends,
/// with the last number each had and the last one given since.
struct Counters {
    /// Year → (last number when locked, last number given).
    by_year: std::collections::BTreeMap<i64, (i64, i64)>,
}

impl Counters {
    /// Locks the counter row of each year (created at 0 when missing), ascending.
    async fn lock(
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        years: &[i64],
    ) -> Result<Counters, DbError> {
        // SQLite has no row locks: its writers are serialized by `Db::begin_write`. Any other
        // engine locks the row (or refuses the statement: never a silent lack of a lock).
        let select = if tx.backend_name() == "SQLite" {
            "SELECT last FROM reg_counters WHERE year = $1"
        } else {
            "SELECT last FROM reg_counters WHERE year = $1 FOR UPDATE"
        };
        let wanted: std::collections::BTreeSet<i64> = years.iter().copied().collect();
        let mut by_year = std::collections::BTreeMap::new();
        for year in wanted {
            let mut last: Option<i64> = sqlx::query_scalar(select)
                .bind(year)
                .fetch_optional(&mut **tx)
                .await?;
            if last.is_none() {
                sqlx::query(
                    "INSERT INTO reg_counters (year, last) VALUES ($1, 0)
                     ON CONFLICT (year) DO NOTHING",
                )
                .bind(year)
                .execute(&mut **tx)
                .await?;
                last = Some(
                    sqlx::query_scalar(select)
                        .bind(year)
                        .fetch_one(&mut **tx)
                        .await?,
                );
            }
            let last = last.unwrap_or_default();
            by_year.insert(year, (last, last));
        }
        Ok(Counters { by_year })
    }

    /// The next number of a locked year.
    fn take(&mut self, year: i64) -> Result<i64, DbError> {
        let (_, given) = self.by_year.get_mut(&year).ok_or(DbError::Corrupt {
            what: "registration year not locked",
            value: year.to_string(),
        })?;
        *given += 1;
        Ok(*given)
    }

    /// Advances each counter by the numbers given (the rows are still locked).
    async fn advance(self, tx: &mut sqlx::Transaction<'static, sqlx::Any>) -> Result<(), DbError> {
        for (year, (locked, given)) in self.by_year {
            if given == locked {
                continue;
            }
            let done =
                sqlx::query("UPDATE reg_counters SET last = $2 WHERE year = $1 AND last = $3")
                    .bind(year)
                    .bind(given)
                    .bind(locked)
                    .execute(&mut **tx)
                    .await?;
            if done.rows_affected() != 1 {
                return Err(DbError::Corrupt {
                    what: "registration counter moved while locked",
                    value: year.to_string(),
                });
            }
        }
        Ok(())
    }
}

/// Numbers and inserts one chunk (at most [`CHUNK`] rows) with the year counters locked: the
/// dedup keys already registered are looked up in one statement, copies inside the chunk keep
/// the first one, the new rows go in with their numbers in one statement, and the audit events
/// in one more.
async fn number_and_insert(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    pattern: &str,
    now: DateTime<Utc>,
    batch: &[NewSubmission],
    years: &[i64],
    counters: &mut Counters,
) -> Result<Vec<Registered>, DbError> {
    let keys: Vec<Option<String>> = batch.iter().map(NewSubmission::dedup_key).collect();
    let mut known = registered_keys(tx, &keys).await?;
    let mut rows: Vec<NewRow<'_>> = Vec::with_capacity(batch.len());
    let mut out = Vec::with_capacity(batch.len());
    let mut events = Vec::with_capacity(batch.len());
    for ((s, key), year) in batch.iter().zip(&keys).zip(years) {
        if let Some(existing) = key.as_ref().and_then(|k| known.get(k)) {
            let detail = serde_json::json!({ "source": s.source, "received_at": format_time(&s.received_at) });
            events.push(audit::NewEvent {
                submission: existing.clone(),
                actor: s.actor.clone(),
                action: "duplicate_ignored",
                detail,
                reason: Some("same Message-ID and SHA-256 already registered".into()),
            });
            out.push(Registered::Duplicate {
                id: existing.clone(),
            });
            continue;
        }
        let id = SubmissionId::new();
        let seq = counters.take(*year)?;
        let number = format_number(pattern, seq, i32::try_from(*year).unwrap_or_default());
        if let Some(k) = key {
            // A later copy in this batch is a duplicate of this one.
            known.insert(k.clone(), id.clone());
        }
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
        rows.push(NewRow {
            s,
            id,
            year: *year,
            seq,
            number,
            key: key.clone(),
        });
    }
    insert_rows(tx, now, &rows).await?;
    audit::record_many(tx, now, &events).await?;
    Ok(out)
}

/// A submission to insert, with its identity and number.
struct NewRow<'a> {
    s: &'a NewSubmission,
    id: SubmissionId,
    year: i64,
    seq: i64,
    number: String,
    key: Option<String>,
}

/// The submissions already registered under these dedup keys (one statement).
async fn registered_keys(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    keys: &[Option<String>],
) -> Result<std::collections::HashMap<String, SubmissionId>, DbError> {
    let wanted: std::collections::BTreeSet<&str> =
        keys.iter().flatten().map(String::as_str).collect();
    let mut out = std::collections::HashMap::new();
    if wanted.is_empty() {
        return Ok(out);
    }
    let list: Vec<String> = (1..=wanted.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT id, dedup_key FROM submissions WHERE dedup_key IN ({})",
        list.join(", ")
    );
    // Planned afresh with its values each time (an unnamed statement): a plan cached while the
    // table was small scans the whole table for every key once it has grown (PostgreSQL kept the
    // first drain's generic plan, a sequential scan: 30 ms per 100 keys at 10,000 rows).
    let mut q = sqlx::query(&sql).persistent(false);
    for k in wanted {
        q = q.bind(k);
    }
    for r in q.fetch_all(&mut **tx).await? {
        out.insert(r.try_get("dedup_key")?, SubmissionId(r.try_get("id")?));
    }
    Ok(out)
}

/// One multi-row insert of numbered rows. No `ON CONFLICT`: a row that collides with one
/// registered concurrently fails the statement and so the transaction (never a silent gap).
async fn insert_rows(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    now: DateTime<Utc>,
    rows: &[NewRow<'_>],
) -> Result<(), DbError> {
    if rows.is_empty() {
        return Ok(());
    }
    // $1: now (registered_at, updated_at); $2: the state; then 17 values a row.
    const COLS: usize = 17;
    let values: Vec<String> = (0..rows.len())
        .map(|r| {
            let p: Vec<String> = (1..=COLS)
                .map(|c| format!("${}", 2 + r * COLS + c))
                .collect();
            format!("({}, $1, $1, $2)", p.join(", "))
        })
        .collect();
    let sql = format!(
        "INSERT INTO submissions (id, registration_number, reg_year, reg_seq, channel, received_at,
            arrival_source, sender, sender_name, recipients, subject, body_text, message_id,
            raw_sha256, raw_size, dedup_key, source, registered_at, updated_at, state)
         VALUES {}",
        values.join(", ")
    );
    let mut q = sqlx::query(&sql)
        .bind(format_time(&now))
        .bind(State::Received.as_str());
    for r in rows {
        let s = r.s;
        let recipients = serde_json::to_string(&s.recipients).unwrap_or_else(|_| "[]".into());
        q = q
            .bind(r.id.0.clone())
            .bind(r.number.clone())
            .bind(r.year)
            .bind(r.seq)
            .bind(s.channel.as_str())
            .bind(format_time(&s.received_at))
            .bind(s.arrival_source)
            .bind(s.sender.clone())
            .bind(s.sender_name.clone())
            .bind(recipients)
            .bind(s.subject.clone())
            .bind(s.text.clone())
            .bind(s.message_id.clone())
            .bind(s.raw_sha256.clone())
            .bind(s.raw_size)
            .bind(r.key.clone())
            .bind(s.source.clone());
    }
    q.execute(&mut **tx).await?;
    Ok(())
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
