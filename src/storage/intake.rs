//! Registration of an upload whose steps were worked out before it was registered (the upload
//! page and the API, while the sender waits): the row goes in with its number and its final
//! state, the documents with their reports, and the audit trail of every step, in one
//! transaction of a few statements.
//!
//! What the trail and the tables say afterwards is what registration followed by the pipeline's
//! steps says ([`super::register`], [`super::work`]): a `registered` event, one `state_changed`
//! event per step (received → unpacked → verified → classified → dispatched), the assignment to
//! the department, the department's notification queued, the receipt's access code kept.

use super::audit;
use super::db::{Db, DbError};
use super::register::{format_number, NewSubmission};
use super::work::NewDocument;
use crate::model::{format_time, State, SubmissionId};
use chrono::{DateTime, Datelike, Utc};
use sqlx::Row;

/// A document of a processed upload: its record and its verification.
#[derive(Debug, Clone)]
pub struct VerifiedDocument {
    /// Its identifier (chosen before registration, so the reports can name it).
    pub id: String,
    /// Its record.
    pub document: NewDocument,
    /// Its signature report (DESIGN.md contract), as JSON.
    pub report: serde_json::Value,
    /// Whether it carries a signature.
    pub signed: bool,
}

/// The department the rules chose, and why.
#[derive(Debug, Clone)]
pub struct Routing {
    /// Department code.
    pub department: String,
    /// The rule that chose it.
    pub rule: String,
    /// What the rule matched.
    pub matched: Option<String>,
}

/// An upload with its steps worked out, ready to register.
#[derive(Debug, Clone)]
pub struct Processed<'a> {
    /// The identifier chosen for it.
    pub id: &'a SubmissionId,
    /// The submission (its envelope blob stored).
    pub submission: &'a NewSubmission,
    /// Its documents in order (their blobs stored).
    pub documents: &'a [VerifiedDocument],
    /// Where it goes.
    pub routing: &'a Routing,
    /// The API token that submitted it, if any.
    pub api_token: Option<&'a str>,
    /// SHA-256 of the receipt's access code.
    pub access_code_sha256: &'a str,
}

/// The actor of the pipeline's steps in the audit trail (as [`crate::pipeline`] records them).
const PIPELINE: &str = "system:pipeline";

/// Registers a processed upload in one transaction and returns its number. The number
/// comes from the year's counter in the same transaction (gap-free: a rollback gives it back;
/// the counter row stays locked until commit, so concurrent registrations queue there).
pub async fn register_processed(
    db: &Db,
    pattern: &str,
    tz: chrono_tz::Tz,
    now: DateTime<Utc>,
    p: &Processed<'_>,
) -> Result<String, DbError> {
    let s = p.submission;
    let id = p.id;
    let year = s.received_at.with_timezone(&tz).year();
    let now_s = format_time(&now);
    let signed = p.documents.iter().any(|d| d.signed);
    let mut tx = db.begin_write().await?;
    let row = sqlx::query(
        "INSERT INTO reg_counters (year, last) VALUES ($1, 1)
         ON CONFLICT (year) DO UPDATE SET last = reg_counters.last + 1
         RETURNING last",
    )
    .bind(i64::from(year))
    .fetch_one(&mut *tx)
    .await?;
    let seq: i64 = row.try_get("last")?;
    let number = format_number(pattern, seq, year);
    sqlx::query(
        "INSERT INTO submissions (id, registration_number, reg_seq, reg_year, channel, received_at,
            arrival_source, registered_at, sender, sender_name, recipients, subject, body_text,
            message_id, raw_sha256, raw_size, source, state, updated_at, signed, department,
            routing_rule, api_token)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
            $8, $19, $20, $21, $22)",
    )
    .bind(&id.0)
    .bind(&number)
    .bind(seq)
    .bind(i64::from(year))
    .bind(s.channel.as_str())
    .bind(format_time(&s.received_at))
    .bind(s.arrival_source)
    .bind(&now_s)
    .bind(&s.sender)
    .bind(&s.sender_name)
    .bind(serde_json::to_string(&s.recipients).unwrap_or_else(|_| "[]".into()))
    .bind(&s.subject)
    .bind(&s.text)
    .bind(&s.message_id)
    .bind(&s.raw_sha256)
    .bind(s.raw_size)
    .bind(&s.source)
    .bind(State::Dispatched.as_str())
    .bind(i64::from(signed))
    .bind(&p.routing.department)
    .bind(&p.routing.rule)
    .bind(p.api_token)
    .execute(&mut *tx)
    .await?;
    insert_documents(&mut tx, id, p.documents).await?;
    audit::record_many(&mut tx, now, &events(id, &number, p, signed)).await?;
    sqlx::query(
        "INSERT INTO assignments (id, submission_id, department, assigned_at, actor, rule, note)
         VALUES ($1, $2, $3, $4, $5, $6, NULL)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(&id.0)
    .bind(&p.routing.department)
    .bind(&now_s)
    .bind(PIPELINE)
    .bind(&p.routing.rule)
    .execute(&mut *tx)
    .await?;
    // The department's notification (an upload gets its receipt, not a mail acknowledgement).
    crate::outbox::store::enqueue_notify_in(&mut tx, id, &now_s).await?;
    sqlx::query("INSERT INTO receipts (submission_id, access_code_sha256) VALUES ($1, $2)")
        .bind(&id.0)
        .bind(p.access_code_sha256)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(number)
}

/// The documents in one statement, numbered from 1 in their order.
async fn insert_documents(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    id: &SubmissionId,
    documents: &[VerifiedDocument],
) -> Result<(), DbError> {
    if documents.is_empty() {
        return Ok(());
    }
    const COLS: usize = 11;
    let values: Vec<String> = (0..documents.len())
        .map(|r| {
            let p: Vec<String> = (2..=COLS + 1)
                .map(|c| format!("${}", r * COLS + c))
                .collect();
            // Column 2 of every row is its submission: `$1`, bound once.
            format!("({}, $1, {})", p[0], p[1..].join(", "))
        })
        .collect();
    let sql = format!(
        "INSERT INTO documents (id, submission_id, seq, name, media_type, declared_type, size,
            sha256, container, role, report, signed)
         VALUES {}",
        values.join(", ")
    );
    let mut q = sqlx::query(&sql).bind(&id.0);
    for (i, d) in documents.iter().enumerate() {
        let doc = &d.document;
        q = q
            .bind(&d.id)
            .bind(i64::try_from(i + 1).unwrap_or(i64::MAX))
            .bind(&doc.name)
            .bind(&doc.media_type)
            .bind(&doc.declared_type)
            .bind(doc.size)
            .bind(&doc.sha256)
            .bind(&doc.container)
            .bind(&doc.role)
            .bind(d.report.to_string())
            .bind(i64::from(d.signed));
    }
    q.execute(&mut **tx).await?;
    Ok(())
}

/// The trail registration and the four steps leave, in order.
fn events(
    id: &SubmissionId,
    number: &str,
    p: &Processed<'_>,
    signed: bool,
) -> Vec<audit::NewEvent> {
    let s = p.submission;
    let r = p.routing;
    let step = |from: State, to: State, more: serde_json::Value, reason: Option<String>| {
        let mut detail = serde_json::json!({ "from": from.as_str(), "to": to.as_str() });
        if let (Some(d), serde_json::Value::Object(more)) = (detail.as_object_mut(), more) {
            d.extend(more);
        }
        audit::NewEvent {
            submission: id.clone(),
            actor: PIPELINE.into(),
            action: "state_changed",
            detail,
            reason,
        }
    };
    vec![
        audit::NewEvent {
            submission: id.clone(),
            actor: s.actor.clone(),
            action: "registered",
            detail: serde_json::json!({
                "registration_number": number, "channel": s.channel.as_str(),
                "received_at": format_time(&s.received_at), "arrival_source": s.arrival_source,
                "raw_sha256": s.raw_sha256, "source": s.source,
            }),
            reason: None,
        },
        step(
            State::Received,
            State::Unpacked,
            serde_json::json!({ "documents": 0 }),
            None,
        ),
        step(
            State::Unpacked,
            State::Verified,
            serde_json::json!({ "signed": signed }),
            None,
        ),
        step(
            State::Verified,
            State::Classified,
            serde_json::json!({ "department": r.department, "rule": r.rule, "matched": r.matched }),
            Some(format!("rule {}", r.rule)),
        ),
        step(
            State::Classified,
            State::Dispatched,
            serde_json::json!({ "department": r.department }),
            None,
        ),
    ]
}
