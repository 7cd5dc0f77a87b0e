//! The audit trail: append-only events (who, what, when, why) for every change of state or
//! assignment (DESIGN.md, invariant 7). The database refuses updates and deletes of these rows.

use super::db::{self, Db, DbError};
use crate::model::{format_time, parse_time, AuditEvent, SubmissionId};
use chrono::{DateTime, Utc};

/// Appends an event inside the caller's transaction, so the event and the change it records are
/// committed together or not at all.
pub async fn record(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    submission: &SubmissionId,
    at: DateTime<Utc>,
    actor: &str,
    action: &str,
    detail: serde_json::Value,
    reason: Option<&str>,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO audit_events (id, submission_id, at, actor, action, detail, reason)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(&submission.0)
    .bind(format_time(&at))
    .bind(actor)
    .bind(action)
    .bind(detail.to_string())
    .bind(reason)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// An event to append with [`record_many`].
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// The submission concerned.
    pub submission: SubmissionId,
    /// Who.
    pub actor: String,
    /// What (a stable code).
    pub action: &'static str,
    /// Details.
    pub detail: serde_json::Value,
    /// Why.
    pub reason: Option<String>,
}

/// Appends many events, inside the caller's transaction (one statement per 200).
pub async fn record_many(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    at: DateTime<Utc>,
    events: &[NewEvent],
) -> Result<(), DbError> {
    for chunk in events.chunks(200) {
        let (sql, args) = insert_statement(at, chunk);
        db::execute_in(tx, &sql, &args).await?;
    }
    Ok(())
}

/// One statement appending `events` (keep them to a few hundred), for a
/// [`super::db::Script`] or [`record_many`].
pub fn insert_statement(at: DateTime<Utc>, events: &[NewEvent]) -> (String, Vec<db::Arg>) {
    let values: Vec<String> = (0..events.len())
        .map(|r| {
            let b = r * 6;
            format!(
                "(${}, ${}, $1, ${}, ${}, ${}, ${})",
                b + 2,
                b + 3,
                b + 4,
                b + 5,
                b + 6,
                b + 7
            )
        })
        .collect();
    let sql = format!(
        "INSERT INTO audit_events (id, submission_id, at, actor, action, detail, reason) VALUES {}",
        values.join(", ")
    );
    let mut args = Vec::with_capacity(1 + 6 * events.len());
    args.push(format_time(&at).into());
    for e in events {
        args.push(uuid::Uuid::now_v7().to_string().into());
        args.push(e.submission.0.as_str().into());
        args.push(e.actor.as_str().into());
        args.push(e.action.into());
        args.push(e.detail.to_string().into());
        args.push(e.reason.clone().into());
    }
    (sql, args)
}

/// The events of one submission, oldest first.
pub async fn events(db: &Db, submission: &SubmissionId) -> Result<Vec<AuditEvent>, DbError> {
    let rows = sqlx::query(
        "SELECT id, at, actor, action, detail, reason FROM audit_events
         WHERE submission_id = $1 ORDER BY at, id",
    )
    .bind(&submission.0)
    .fetch_all(db.pool())
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let at = db::text(row, "at")?;
        out.push(AuditEvent {
            id: i as i64 + 1,
            submission_id: submission.clone(),
            at: parse_time(&at).ok_or(DbError::Corrupt {
                what: "audit time",
                value: at,
            })?,
            actor: db::text(row, "actor")?,
            action: db::text(row, "action")?,
            detail: serde_json::from_str(&db::text(row, "detail")?)
                .unwrap_or(serde_json::Value::Null),
            reason: db::opt_text(row, "reason")?,
        });
    }
    Ok(out)
}
