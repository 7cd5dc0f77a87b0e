//! Reading the register: lists of submissions, one submission with its documents.

use super::db::{self, Db, DbError};
use crate::model::{parse_time, Document, State, Submission, SubmissionId};
use sqlx::any::AnyRow;

/// Filters of a list.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// Only this state.
    pub state: Option<State>,
    /// Only this department.
    pub department: Option<String>,
    /// At most this many (newest first).
    pub limit: i64,
}

const COLUMNS: &str =
    "id, registration_number, channel, received_at, arrival_source, registered_at,
    sender, sender_name, recipients, subject, body_text, message_id, raw_sha256, raw_size, state,
    department, routing_rule, signed, quarantine_reason";

/// Submissions, newest arrival first.
pub async fn list(db: &Db, filter: &ListFilter) -> Result<Vec<Submission>, DbError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM submissions
         WHERE ($1 IS NULL OR state = $1) AND ($2 IS NULL OR department = $2)
         ORDER BY received_at DESC, registered_at DESC LIMIT $3"
    );
    let rows = sqlx::query(&sql)
        .bind(filter.state.map(State::as_str))
        .bind(filter.department.as_deref())
        .bind(if filter.limit > 0 {
            filter.limit
        } else {
            i64::MAX
        })
        .fetch_all(db.pool())
        .await?;
    rows.iter().map(submission_from_row).collect()
}

/// One submission by id or by registration number.
pub async fn find(db: &Db, id_or_number: &str) -> Result<Option<Submission>, DbError> {
    let sql =
        format!("SELECT {COLUMNS} FROM submissions WHERE id = $1 OR registration_number = $1");
    let row = sqlx::query(&sql)
        .bind(id_or_number)
        .fetch_optional(db.pool())
        .await?;
    row.as_ref().map(submission_from_row).transpose()
}

/// The documents of a submission, in order.
pub async fn documents(db: &Db, id: &SubmissionId) -> Result<Vec<Document>, DbError> {
    let mut all = documents_of(db, std::slice::from_ref(id)).await?;
    Ok(all.remove(&id.0).unwrap_or_default())
}

/// The documents of several submissions in one query, by submission id.
pub async fn documents_of(
    db: &Db,
    ids: &[SubmissionId],
) -> Result<std::collections::HashMap<String, Vec<Document>>, DbError> {
    let mut out: std::collections::HashMap<String, Vec<Document>> =
        std::collections::HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let sql = format!(
        "SELECT id, submission_id, seq, name, media_type, declared_type, size, sha256, container, role, report
         FROM documents WHERE submission_id IN ({}) ORDER BY submission_id, seq",
        placeholders(1, ids.len())
    );
    let mut q = sqlx::query(&sql);
    for id in ids {
        q = q.bind(&id.0);
    }
    for r in q.fetch_all(db.pool()).await? {
        let sid = db::text(&r, "submission_id")?;
        let doc = document_from_row(&r, SubmissionId(sid.clone()))?;
        out.entry(sid).or_default().push(doc);
    }
    Ok(out)
}

/// Several submissions by id, in one query.
pub async fn find_many(db: &Db, ids: &[SubmissionId]) -> Result<Vec<Submission>, DbError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {COLUMNS} FROM submissions WHERE id IN ({})",
        placeholders(1, ids.len())
    );
    let mut q = sqlx::query(&sql);
    for id in ids {
        q = q.bind(&id.0);
    }
    q.fetch_all(db.pool())
        .await?
        .iter()
        .map(submission_from_row)
        .collect()
}

/// `$from, $from+1, ...` for `n` values.
fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn document_from_row(r: &AnyRow, submission_id: SubmissionId) -> Result<Document, DbError> {
    Ok(Document {
        id: db::text(r, "id")?,
        submission_id,
        seq: db::int(r, "seq")?,
        name: db::text(r, "name")?,
        media_type: db::text(r, "media_type")?,
        declared_type: db::opt_text(r, "declared_type")?,
        size: db::int(r, "size")?,
        sha256: db::text(r, "sha256")?,
        container: db::text(r, "container")?,
        role: db::text(r, "role")?,
        report: db::opt_text(r, "report")?.and_then(|t| serde_json::from_str(&t).ok()),
    })
}

/// Reads a submission from a row with the register's columns.
pub(crate) fn submission_from_row(r: &AnyRow) -> Result<Submission, DbError> {
    let time = |col: &'static str| -> Result<chrono::DateTime<chrono::Utc>, DbError> {
        let v = db::text(r, col)?;
        parse_time(&v).ok_or(DbError::Corrupt {
            what: col,
            value: v,
        })
    };
    let state = db::text(r, "state")?;
    let channel = db::text(r, "channel")?;
    Ok(Submission {
        id: SubmissionId(db::text(r, "id")?),
        registration_number: db::opt_text(r, "registration_number")?.unwrap_or_default(),
        channel: channel.parse().map_err(|_| DbError::Corrupt {
            what: "channel",
            value: channel.clone(),
        })?,
        received_at: time("received_at")?,
        arrival_source: db::text(r, "arrival_source")?,
        registered_at: time("registered_at")?,
        sender: db::opt_text(r, "sender")?,
        sender_name: db::opt_text(r, "sender_name")?,
        recipients: serde_json::from_str(&db::text(r, "recipients")?).unwrap_or_default(),
        subject: db::opt_text(r, "subject")?,
        text: db::opt_text(r, "body_text")?,
        message_id: db::opt_text(r, "message_id")?,
        raw_sha256: db::text(r, "raw_sha256")?,
        raw_size: db::int(r, "raw_size")?,
        state: state.parse().map_err(|_| DbError::Corrupt {
            what: "state",
            value: state.clone(),
        })?,
        department: db::opt_text(r, "department")?,
        routing_rule: db::opt_text(r, "routing_rule")?,
        signed: db::opt_int(r, "signed")?.map(|v| v != 0),
        quarantine_reason: db::opt_text(r, "quarantine_reason")?,
    })
}
