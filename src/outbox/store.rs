//! The `outbox` table: one row per (kind, submission, recipient), so deciding to write twice
//! records once. Rows are queued in the transaction that dispatches the submission; the message
//! itself is composed by the sender worker on its first attempt and then kept, so a resend after
//! a crash sends the same bytes with the same Message-ID (at least once, recorded once).

use crate::model::{format_time, SubmissionId};
use crate::storage::db::Arg;
use crate::storage::db::{self, Db, DbError};
use chrono::{DateTime, Utc};
use sqlx::Transaction;

/// A queued message claimed for sending.
#[derive(Debug, Clone)]
pub struct Queued {
    /// Row id (also the local part of the Message-ID).
    pub id: String,
    /// `ack` (to the sender) or `notify` (to a department).
    pub kind: String,
    /// The submission it is about.
    pub submission_id: String,
    /// The address it goes to.
    pub recipient: String,
    /// The composed message (empty until the first attempt composes it).
    pub message: String,
    /// Attempts so far.
    pub attempts: i64,
}

/// Queues the acknowledgement to an e-mail's sender and the notification to the department's
/// address, inside the transaction that marks `id` dispatched. Whether each is sent (switched on,
/// not a loop, within the rate limit) is decided when it is composed.
pub async fn enqueue_for_dispatch(
    tx: &mut Transaction<'static, sqlx::Any>,
    id: &SubmissionId,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    let now = format_time(&now);
    sqlx::query(
        "INSERT INTO outbox (id, kind, submission_id, recipient, message, state, next_attempt_at,
            created_at)
         SELECT $1, 'ack', s.id, s.sender, '', 'pending', $3, $3 FROM submissions s
         WHERE s.id = $2 AND s.channel = 'email' AND s.sender IS NOT NULL AND s.sender <> ''
         ON CONFLICT (kind, submission_id, recipient) DO NOTHING",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(&id.0)
    .bind(&now)
    .execute(&mut **tx)
    .await?;
    enqueue_notify_in(tx, id, &now).await
}

/// Queues the notification to the department's address of a submission dispatched in the
/// caller's transaction (nothing when the department has no address).
pub async fn enqueue_notify_in(
    tx: &mut Transaction<'static, sqlx::Any>,
    id: &SubmissionId,
    now: &str,
) -> Result<(), DbError> {
    let (sql, args) = notify_statement(id, now);
    crate::storage::db::execute_in(tx, sql, &args).await?;
    Ok(())
}

/// The statement of [`enqueue_notify_in`], for a [`crate::storage::db::Script`].
pub fn notify_statement(id: &SubmissionId, now: &str) -> (&'static str, Vec<Arg>) {
    (
        "INSERT INTO outbox (id, kind, submission_id, recipient, message, state, next_attempt_at,
            created_at)
         SELECT $1, 'notify', s.id, d.email, '', 'pending', $3, $3
         FROM submissions s JOIN departments d ON d.code = s.department
         WHERE s.id = $2 AND d.email <> ''
         ON CONFLICT (kind, submission_id, recipient) DO NOTHING",
        vec![
            uuid::Uuid::now_v7().to_string().into(),
            id.0.as_str().into(),
            now.into(),
        ],
    )
}

/// Queues the receipt of an upload or API submission to the address its sender gave (once per
/// submission). Whether it is sent (switched on, within the rate limit) is decided when composed.
pub async fn enqueue_receipt(
    db: &Db,
    id: &SubmissionId,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    let mut tx = db.begin_write().await?;
    enqueue_receipt_in(&mut tx, id, now).await?;
    tx.commit().await?;
    Ok(())
}

/// [`enqueue_receipt`] inside a caller's transaction.
pub async fn enqueue_receipt_in(
    tx: &mut Transaction<'static, sqlx::Any>,
    id: &SubmissionId,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    let (sql, args) = receipt_statement(id, now);
    crate::storage::db::execute_in(tx, sql, &args).await?;
    Ok(())
}

/// The statement of [`enqueue_receipt_in`], for a [`crate::storage::db::Script`] (at most one
/// receipt e-mail per submission, whoever queues it).
pub fn receipt_statement(id: &SubmissionId, now: DateTime<Utc>) -> (&'static str, Vec<Arg>) {
    (
        "INSERT INTO outbox (id, kind, submission_id, recipient, message, state, next_attempt_at,
            created_at)
         SELECT $1, 'receipt', s.id, s.sender, '', 'pending', $3, $3 FROM submissions s
         WHERE s.id = $2 AND s.channel <> 'email' AND s.sender IS NOT NULL AND s.sender <> ''
         ON CONFLICT (kind, submission_id, recipient) DO NOTHING",
        vec![
            uuid::Uuid::now_v7().to_string().into(),
            id.0.as_str().into(),
            format_time(&now).into(),
        ],
    )
}

/// Claims up to `limit` due rows for `owner` until `until`.
pub async fn claim(
    db: &Db,
    owner: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<Queued>, DbError> {
    let now_s = format_time(&now);
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM outbox WHERE state = 'pending' AND next_attempt_at <= $1
         AND (lease_until IS NULL OR lease_until < $1) ORDER BY next_attempt_at LIMIT $2",
    )
    .bind(&now_s)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    let mut out = Vec::new();
    for id in ids {
        let taken = sqlx::query(
            "UPDATE outbox SET lease_owner = $2, lease_until = $3
             WHERE id = $1 AND state = 'pending' AND (lease_until IS NULL OR lease_until < $4)",
        )
        .bind(&id)
        .bind(owner)
        .bind(format_time(&until))
        .bind(&now_s)
        .execute(db.pool())
        .await?
        .rows_affected();
        if taken == 1 {
            if let Some(q) = load(db, &id).await? {
                out.push(q);
            }
        }
    }
    Ok(out)
}

async fn load(db: &Db, id: &str) -> Result<Option<Queued>, DbError> {
    let row = sqlx::query(
        "SELECT id, kind, submission_id, recipient, message, attempts FROM outbox WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(db.pool())
    .await?;
    row.map(|r| {
        Ok(Queued {
            id: db::text(&r, "id")?,
            kind: db::text(&r, "kind")?,
            submission_id: db::text(&r, "submission_id")?,
            recipient: db::text(&r, "recipient")?,
            message: db::text(&r, "message")?,
            attempts: db::int(&r, "attempts")?,
        })
    })
    .transpose()
}

/// Keeps the composed message, so every attempt sends the same bytes.
pub async fn save_message(db: &Db, id: &str, message: &str) -> Result<(), DbError> {
    sqlx::query("UPDATE outbox SET message = $2 WHERE id = $1")
        .bind(id)
        .bind(message)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Ends a row: `sent`, `suppressed` (with why) or `failed` (with the last error).
pub async fn finish(
    db: &Db,
    id: &str,
    state: &str,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    let now = format_time(&now);
    let sent_at = (state == "sent").then_some(now.clone());
    sqlx::query(
        "UPDATE outbox SET state = $2, reason = $3, sent_at = $4, lease_owner = NULL,
         lease_until = NULL, attempts = attempts + (CASE WHEN $2 = 'suppressed' THEN 0 ELSE 1 END)
         WHERE id = $1",
    )
    .bind(id)
    .bind(state)
    .bind(reason)
    .bind(sent_at)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Records a failed attempt and when to try again.
pub async fn retry_later(
    db: &Db,
    id: &str,
    error: &str,
    next: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE outbox SET attempts = attempts + 1, last_error = $2, next_attempt_at = $3,
         lease_owner = NULL, lease_until = NULL WHERE id = $1",
    )
    .bind(id)
    .bind(error)
    .bind(format_time(&next))
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Acknowledgements and receipts sent (or being sent) to `recipient` since `since`, for the rate
/// limit (an address typed into the upload form is limited like a mail sender).
pub async fn acks_to_since(db: &Db, recipient: &str, since: DateTime<Utc>) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM outbox WHERE kind IN ('ack', 'receipt') AND lower(recipient) = lower($1)
         AND state IN ('sent', 'pending') AND message <> '' AND created_at >= $2",
    )
    .bind(recipient)
    .bind(format_time(&since))
    .fetch_one(db.pool())
    .await?)
}

/// Rows per state.
pub async fn counts(db: &Db) -> Result<Vec<(String, i64)>, DbError> {
    Ok(
        sqlx::query_as("SELECT state, COUNT(*) FROM outbox GROUP BY state ORDER BY state")
            .fetch_all(db.pool())
            .await?,
    )
}
