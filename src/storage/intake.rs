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
use super::db::{Arg, Script};
use super::db::{Db, DbError};
use super::register::NewSubmission;
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

/// Registers a processed upload in one transaction and returns its number. The number comes
/// from the year's counter in the same transaction (gap-free: a rollback gives it back; the
/// counter row stays locked until commit, so concurrent registrations queue there) and is
/// written with the row. On SQLite the transaction is one trip to the database
/// ([`super::db::Db::run`]).
pub async fn register_processed(
    db: &Db,
    pattern: &str,
    tz: chrono_tz::Tz,
    now: DateTime<Utc>,
    p: &Processed<'_>,
) -> Result<String, DbError> {
    let s = p.submission;
    let id = p.id;
    let year = i64::from(s.received_at.with_timezone(&tz).year());
    let now_s = format_time(&now);
    let signed = p.documents.iter().any(|d| d.signed);
    let reports: Vec<String> = p.documents.iter().map(|d| d.report.to_string()).collect();
    let summary = Summary::of(p.documents, &reports);
    let mut script = Script::new();
    script.push(
        "INSERT INTO reg_counters (year, last) VALUES ($1, 1)
         ON CONFLICT (year) DO UPDATE SET last = reg_counters.last + 1",
        vec![year.into()],
    );
    // The number as [`super::register::format_number`] writes it, from the counter just taken.
    script.push(
        "INSERT INTO submissions (id, registration_number, reg_seq, reg_year, channel,
            received_at, arrival_source, registered_at, sender, sender_name, recipients, subject,
            body_text, message_id, raw_sha256, raw_size, source, state, updated_at, signed,
            department, routing_rule, api_token, sig_failed, sig_indeterminate, sig_kinds,
            doc_names, doc_names_seq)
         SELECT $1, replace(replace($2, '{n}', CAST(c.last AS TEXT)), '{yyyy}', $3), c.last, $4,
            $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $8, $19, $20, $21,
            $22, $23, $24, $25, $26, $27
         FROM reg_counters c WHERE c.year = $4
         RETURNING registration_number",
        vec![
            id.0.as_str().into(),
            pattern.into(),
            year.to_string().into(),
            year.into(),
            s.channel.as_str().into(),
            format_time(&s.received_at).into(),
            s.arrival_source.into(),
            now_s.as_str().into(),
            s.sender.clone().into(),
            s.sender_name.clone().into(),
            serde_json::to_string(&s.recipients)
                .unwrap_or_else(|_| "[]".into())
                .into(),
            s.subject.clone().into(),
            s.text.clone().into(),
            s.message_id.clone().into(),
            s.raw_sha256.as_str().into(),
            s.raw_size.into(),
            s.source.clone().into(),
            State::Dispatched.as_str().into(),
            i64::from(signed).into(),
            p.routing.department.as_str().into(),
            p.routing.rule.as_str().into(),
            p.api_token.into(),
            summary.failed.into(),
            summary.indeterminate.into(),
            summary.kinds.into(),
            summary.names.into(),
            summary.last_seq.into(),
        ],
    );
    if !p.documents.is_empty() {
        script.add(documents_statement(id, p.documents, &reports));
    }
    // Registration first: event ids are ordered by their making.
    script.add(registered_statement(id, s, &now_s));
    script.add(audit::insert_statement(now, &events(id, p, signed)));
    script.push(
        "INSERT INTO assignments (id, submission_id, department, assigned_at, actor, rule, note)
         VALUES ($1, $2, $3, $4, $5, $6, NULL)",
        vec![
            uuid::Uuid::now_v7().to_string().into(),
            id.0.as_str().into(),
            p.routing.department.as_str().into(),
            now_s.as_str().into(),
            PIPELINE.into(),
            p.routing.rule.as_str().into(),
        ],
    );
    // The department's notification (an upload gets its receipt, not a mail acknowledgement).
    script.add(crate::outbox::store::notify_statement(id, &now_s));
    script.push(
        "INSERT INTO receipts (submission_id, access_code_sha256) VALUES ($1, $2)",
        vec![id.0.as_str().into(), p.access_code_sha256.into()],
    );
    let rows = db.run(script).await?;
    let number: Option<String> = rows
        .iter()
        .find_map(|r| r.try_get("registration_number").ok());
    number.ok_or_else(|| DbError::Corrupt {
        what: "registration number of an upload",
        value: id.0.clone(),
    })
}

/// What the triggers on `documents` keep in a submission's row (migrations `accounts`,
/// `inbox_search`, `summary_with_the_row`), worked out from the documents at hand so the row is
/// written with it and the triggers find nothing to change: the same tests on the same report
/// JSON (`LIKE '%"kind":"qes"%'`: the compact JSON has no spaces, and a quote inside a JSON
/// string is escaped, so a name cannot fake a key), the names in document order.
struct Summary {
    failed: i64,
    indeterminate: i64,
    kinds: String,
    names: String,
    last_seq: i64,
}

impl Summary {
    fn of(documents: &[VerifiedDocument], reports: &[String]) -> Summary {
        let any = |needle: &str| reports.iter().any(|r| r.contains(needle));
        let mut kinds = String::from(",");
        for kind in [
            "qes",
            "qualified_seal",
            "trusted_profile",
            "personal",
            "advanced",
            "unknown",
        ] {
            if any(&format!("\"kind\":\"{kind}\"")) {
                kinds.push_str(kind);
                kinds.push(',');
            }
        }
        Summary {
            failed: i64::from(any("\"indication\":\"TOTAL_FAILED\"")),
            indeterminate: i64::from(any("\"indication\":\"INDETERMINATE\"")),
            kinds,
            names: documents
                .iter()
                .map(|d| format!("{} ", d.document.name))
                .collect(),
            last_seq: i64::try_from(documents.len()).unwrap_or(i64::MAX),
        }
    }
}

/// The documents in one statement, numbered from 1 in their order (`reports`: their reports'
/// JSON, in the same order).
fn documents_statement(
    id: &SubmissionId,
    documents: &[VerifiedDocument],
    reports: &[String],
) -> (String, Vec<Arg>) {
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
    let mut args: Vec<Arg> = vec![id.0.as_str().into()];
    for (i, (d, report)) in documents.iter().zip(reports).enumerate() {
        let doc = &d.document;
        args.extend([
            d.id.as_str().into(),
            i64::try_from(i + 1).unwrap_or(i64::MAX).into(),
            doc.name.as_str().into(),
            doc.media_type.as_str().into(),
            doc.declared_type.clone().into(),
            doc.size.into(),
            doc.sha256.as_str().into(),
            doc.container.as_str().into(),
            doc.role.as_str().into(),
            report.as_str().into(),
            i64::from(d.signed).into(),
        ]);
    }
    (sql, args)
}

/// The `registered` event, whose detail names the number the same transaction takes: its JSON
/// is made here around a marker, and the statement puts the number (JSON-escaped) in its place.
fn registered_statement(
    id: &SubmissionId,
    s: &NewSubmission,
    now: &str,
) -> (&'static str, Vec<Arg>) {
    const MARK: &str = "\u{1}number\u{1}";
    let detail = serde_json::json!({
        "registration_number": MARK, "channel": s.channel.as_str(),
        "received_at": format_time(&s.received_at), "arrival_source": s.arrival_source,
        "raw_sha256": s.raw_sha256, "source": s.source,
    })
    .to_string();
    let marked = serde_json::Value::from(MARK).to_string();
    let (before, after) = detail
        .split_once(marked.trim_matches('"'))
        .unwrap_or((detail.as_str(), ""));
    (
        "INSERT INTO audit_events (id, submission_id, at, actor, action, detail, reason)
         SELECT $1, s.id, $2, $3, 'registered',
            $4 || replace(replace(s.registration_number, '\\', '\\\\'), '\"', '\\\"') || $5, NULL
         FROM submissions s WHERE s.id = $6",
        vec![
            uuid::Uuid::now_v7().to_string().into(),
            now.into(),
            s.actor.as_str().into(),
            before.into(),
            after.into(),
            id.0.as_str().into(),
        ],
    )
}

/// The trail of the four steps after registration, in order.
fn events(id: &SubmissionId, p: &Processed<'_>, signed: bool) -> Vec<audit::NewEvent> {
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
