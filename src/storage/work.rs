//! Work claiming and state transitions of the pipeline.
//!
//! A worker claims a batch of unfinished submissions by setting a lease (owner + expiry); on
//! PostgreSQL the claim skips rows other workers hold (`FOR UPDATE SKIP LOCKED`), on SQLite the
//! write lock serialises claims. Every transition is guarded by the expected state and the lease
//! owner, so a step that runs twice (after a crash, or after a lease was taken over) changes
//! nothing the second time. Each transition and its audit event commit together.

use super::audit;
use super::db::{self, Backend, Db, DbError};
use crate::model::{format_time, Channel, State, SubmissionId};
use chrono::{DateTime, Utc};
use sqlx::Transaction;

/// A claimed submission.
#[derive(Debug, Clone)]
pub struct Claimed {
    /// Identifier.
    pub id: SubmissionId,
    /// Its state when claimed.
    pub state: State,
    /// Its channel.
    pub channel: Channel,
    /// Key of its raw blob.
    pub raw_sha256: String,
    /// How many times processing failed before.
    pub attempts: i64,
    /// Authoritative arrival time (the validation time of its signatures).
    pub received_at: DateTime<Utc>,
}

const PENDING: &str = "('received', 'unpacked', 'verified', 'classified')";

/// Claims up to `limit` unfinished submissions for `owner` until `now + lease`.
pub async fn claim(
    db: &Db,
    owner: &str,
    limit: usize,
    lease: chrono::Duration,
    now: DateTime<Utc>,
) -> Result<Vec<Claimed>, DbError> {
    let lock = match db.backend() {
        Backend::Postgres => "FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let sql = format!(
        "UPDATE submissions SET lease_owner = $1, lease_until = $2
         WHERE id IN (SELECT id FROM submissions
                      WHERE state IN {PENDING} AND (lease_until IS NULL OR lease_until < $3)
                      ORDER BY registered_at LIMIT $4 {lock})
         RETURNING id, state, channel, raw_sha256, attempts, received_at"
    );
    let mut tx = db.begin_write().await?;
    let rows = sqlx::query(&sql)
        .bind(owner)
        .bind(format_time(&(now + lease)))
        .bind(format_time(&now))
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&mut *tx)
        .await?;
    tx.commit().await?;
    let mut out = rows.iter().map(claimed).collect::<Result<Vec<_>, _>>()?;
    out.sort_by(|a, b| a.id.0.cmp(&b.id.0));
    Ok(out)
}

fn claimed(row: &sqlx::any::AnyRow) -> Result<Claimed, DbError> {
    let state = db::text(row, "state")?;
    let channel = db::text(row, "channel")?;
    Ok(Claimed {
        id: SubmissionId(db::text(row, "id")?),
        state: state.parse().map_err(|_| DbError::Corrupt {
            what: "state",
            value: state.clone(),
        })?,
        channel: channel.parse().map_err(|_| DbError::Corrupt {
            what: "channel",
            value: channel.clone(),
        })?,
        raw_sha256: db::text(row, "raw_sha256")?,
        attempts: db::int(row, "attempts")?,
        received_at: {
            let t = db::text(row, "received_at")?;
            crate::model::parse_time(&t).ok_or(DbError::Corrupt {
                what: "received_at",
                value: t,
            })?
        },
    })
}

/// Claims the given submissions (those unfinished and not leased by another worker) for `owner`.
pub async fn claim_ids(
    db: &Db,
    owner: &str,
    ids: &[SubmissionId],
    lease: chrono::Duration,
    now: DateTime<Utc>,
) -> Result<Vec<Claimed>, DbError> {
    let sql = format!(
        "UPDATE submissions SET lease_owner = $1, lease_until = $2
         WHERE id = $3 AND state IN {PENDING} AND (lease_until IS NULL OR lease_until < $4)
         RETURNING id, state, channel, raw_sha256, attempts, received_at"
    );
    let mut tx = db.begin_write().await?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let row = sqlx::query(&sql)
            .bind(owner)
            .bind(format_time(&(now + lease)))
            .bind(&id.0)
            .bind(format_time(&now))
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(row) = row {
            out.push(claimed(&row)?);
        }
    }
    tx.commit().await?;
    Ok(out)
}

/// A document to record for a submission (its blob already stored).
#[derive(Debug, Clone)]
pub struct NewDocument {
    /// File name as given.
    pub name: String,
    /// Sniffed media type.
    pub media_type: String,
    /// Declared media type.
    pub declared_type: Option<String>,
    /// Size.
    pub size: i64,
    /// SHA-256 (blob key).
    pub sha256: String,
    /// Container path, joined.
    pub container: String,
    /// Role.
    pub role: String,
}

/// The result of one step for one submission.
#[derive(Debug, Clone)]
pub enum StepResult {
    /// Unpacked: the text and the documents.
    Unpacked {
        /// Message text.
        text: Option<String>,
        /// Documents in order.
        documents: Vec<NewDocument>,
        /// Non-fatal warnings.
        warnings: Vec<String>,
    },
    /// Verified: a report per document (by document id) and whether any is signed.
    Verified {
        /// `(document id, report JSON, signed)`.
        reports: Vec<(String, serde_json::Value, bool)>,
        /// Any document signed.
        signed: bool,
    },
    /// Classified: the department and the rule that chose it.
    Classified {
        /// Department code.
        department: String,
        /// Rule name.
        rule: String,
        /// What matched.
        matched: Option<String>,
    },
    /// Dispatched to the department chosen.
    Dispatched,
    /// Could not be understood: stored and shown with its reason.
    Quarantined {
        /// Why.
        reason: String,
    },
}

/// Commits the results of one step for a batch, in one transaction. Returns how many rows moved
/// (rows whose state or lease changed meanwhile are left alone).
pub async fn commit_step(
    db: &Db,
    owner: &str,
    actor: &str,
    now: DateTime<Utc>,
    results: &[(SubmissionId, State, StepResult)],
) -> Result<usize, DbError> {
    commit_step_with(db, owner, actor, now, results, None).await
}

/// More writes for the transaction of [`commit_step_with`] (what a caller records about the same
/// submission, such as its receipt), run after the transitions.
pub type TxExtra = Box<
    dyn for<'t> FnOnce(
            &'t mut Transaction<'static, sqlx::Any>,
        ) -> futures::future::BoxFuture<'t, Result<(), DbError>>
        + Send,
>;

/// [`commit_step`] with `extra` writes in the same transaction: they commit with the transitions
/// or not at all.
pub async fn commit_step_with(
    db: &Db,
    owner: &str,
    actor: &str,
    now: DateTime<Utc>,
    results: &[(SubmissionId, State, StepResult)],
    extra: Option<TxExtra>,
) -> Result<usize, DbError> {
    let mut tx = db.begin_write().await?;
    let mut moved = 0;
    for (id, from, result) in results {
        if apply(&mut tx, owner, actor, now, id, *from, result).await? {
            moved += 1;
        }
    }
    if let Some(extra) = extra {
        extra(&mut tx).await?;
    }
    tx.commit().await?;
    Ok(moved)
}

async fn apply(
    tx: &mut Transaction<'static, sqlx::Any>,
    owner: &str,
    actor: &str,
    now: DateTime<Utc>,
    id: &SubmissionId,
    from: State,
    result: &StepResult,
) -> Result<bool, DbError> {
    let to = match result {
        StepResult::Quarantined { .. } => State::Quarantined,
        StepResult::Unpacked { .. } => State::Unpacked,
        StepResult::Verified { .. } => State::Verified,
        StepResult::Classified { .. } => State::Classified,
        StepResult::Dispatched => State::Dispatched,
    };
    let terminal = matches!(to, State::Dispatched | State::Quarantined);
    let lease_clause = if terminal {
        ", lease_owner = NULL, lease_until = NULL"
    } else {
        ""
    };
    // One statement moves the state and sets what the step decided (NULL keeps a column as it is).
    let (mut text, mut signed, mut dept, mut rule, mut why) = (None, None, None, None, None);
    match result {
        StepResult::Unpacked { text: t, .. } => text = t.as_deref(),
        StepResult::Verified { signed: s, .. } => signed = Some(i64::from(*s)),
        StepResult::Classified {
            department,
            rule: r,
            ..
        } => (dept, rule) = (Some(department.as_str()), Some(r.as_str())),
        StepResult::Quarantined { reason } => why = Some(reason.as_str()),
        StepResult::Dispatched => {}
    }
    let sql = format!(
        "UPDATE submissions SET state = $1, updated_at = $2, body_text = COALESCE($6, body_text),
            signed = COALESCE($7, signed), department = COALESCE($8, department),
            routing_rule = COALESCE($9, routing_rule), quarantine_reason = COALESCE($10, quarantine_reason)
            {lease_clause}
         WHERE id = $3 AND state = $4 AND lease_owner = $5
         RETURNING department, routing_rule"
    );
    let row = sqlx::query(&sql)
        .bind(to.as_str())
        .bind(format_time(&now))
        .bind(&id.0)
        .bind(from.as_str())
        .bind(owner)
        .bind(text)
        .bind(signed)
        .bind(dept)
        .bind(rule)
        .bind(why)
        .fetch_optional(&mut **tx)
        .await?;
    let Some(row) = row else {
        return Ok(false);
    };
    let mut detail = serde_json::json!({ "from": from.as_str(), "to": to.as_str() });
    let mut reason = None;
    match result {
        StepResult::Unpacked {
            documents,
            warnings,
            ..
        } => {
            save_documents(tx, id, documents).await?;
            detail["documents"] = documents.len().into();
            if !warnings.is_empty() {
                detail["warnings"] = serde_json::json!(warnings);
            }
        }
        StepResult::Verified { reports, signed } => {
            save_reports(tx, id, reports).await?;
            detail["signed"] = (*signed).into();
        }
        StepResult::Classified {
            department,
            rule,
            matched,
        } => {
            detail["department"] = department.as_str().into();
            detail["rule"] = rule.as_str().into();
            detail["matched"] = serde_json::json!(matched);
            reason = Some(format!("rule {rule}"));
        }
        StepResult::Dispatched => {
            let dept = db::opt_text(&row, "department")?.ok_or(DbError::Corrupt {
                what: "department of a classified submission",
                value: id.0.clone(),
            })?;
            assign(
                tx,
                id,
                &dept,
                db::opt_text(&row, "routing_rule")?.as_deref(),
                actor,
                now,
            )
            .await?;
            // Acknowledgement and department notification, queued with the dispatch (issue 6).
            crate::outbox::store::enqueue_for_dispatch(tx, id, now).await?;
            detail["department"] = dept.into();
        }
        StepResult::Quarantined { reason: why } => reason = Some(why.clone()),
    }
    let action = if to == State::Quarantined {
        "quarantined"
    } else {
        "state_changed"
    };
    audit::record(tx, id, now, actor, action, detail, reason.as_deref()).await?;
    Ok(true)
}

/// Records documents of a submission after the ones it has (uploads register theirs with the
/// submission; unpacking adds the entries of their archives), in the caller's transaction.
pub(crate) async fn save_documents(
    tx: &mut Transaction<'static, sqlx::Any>,
    id: &SubmissionId,
    documents: &[NewDocument],
) -> Result<(), DbError> {
    // No clean-up of earlier rows is needed: the state guard and the transaction make the insert
    // happen exactly once. Numbering continues after the documents already there.
    for d in documents {
        sqlx::query(
            "INSERT INTO documents (id, submission_id, seq, name, media_type, declared_type, size,
                sha256, container, role)
             SELECT $1, $2, COALESCE(MAX(seq), 0) + 1, $3, $4, $5, $6, $7, $8, $9
             FROM documents WHERE submission_id = $2",
        )
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(&id.0)
        .bind(&d.name)
        .bind(&d.media_type)
        .bind(&d.declared_type)
        .bind(d.size)
        .bind(&d.sha256)
        .bind(&d.container)
        .bind(&d.role)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

async fn save_reports(
    tx: &mut Transaction<'static, sqlx::Any>,
    id: &SubmissionId,
    reports: &[(String, serde_json::Value, bool)],
) -> Result<(), DbError> {
    for (doc, report, doc_signed) in reports {
        sqlx::query(
            "UPDATE documents SET report = $1, signed = $2 WHERE id = $3 AND submission_id = $4",
        )
        .bind(report.to_string())
        .bind(i64::from(*doc_signed))
        .bind(doc)
        .bind(&id.0)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

async fn assign(
    tx: &mut Transaction<'static, sqlx::Any>,
    id: &SubmissionId,
    department: &str,
    rule: Option<&str>,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO assignments (id, submission_id, department, assigned_at, actor, rule, note)
         VALUES ($1, $2, $3, $4, $5, $6, NULL)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(&id.0)
    .bind(department)
    .bind(format_time(&now))
    .bind(actor)
    .bind(rule)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Records a failed attempt (I/O, database): the lease is released after a back-off, and the
/// error kept on the row for the health page. The caller quarantines after too many attempts.
pub async fn record_failure(
    db: &Db,
    owner: &str,
    id: &SubmissionId,
    error: &str,
    retry_at: DateTime<Utc>,
) -> Result<(), DbError> {
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "UPDATE submissions SET attempts = attempts + 1, last_error = $1, lease_until = $2
         WHERE id = $3 AND lease_owner = $4",
    )
    .bind(error)
    .bind(format_time(&retry_at))
    .bind(&id.0)
    .bind(owner)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Counts of submissions per state (for `/healthz` and `podawcza status`).
pub async fn counts_by_state(db: &Db) -> Result<Vec<(String, i64)>, DbError> {
    let rows =
        sqlx::query("SELECT state, COUNT(*) AS n FROM submissions GROUP BY state ORDER BY state")
            .fetch_all(db.pool())
            .await?;
    rows.iter()
        .map(|r| Ok((db::text(r, "state")?, db::int(r, "n")?)))
        .collect()
}

/// How many submissions are not yet dispatched or quarantined.
pub async fn pending(db: &Db) -> Result<i64, DbError> {
    let sql = format!("SELECT COUNT(*) FROM submissions WHERE state IN {PENDING}");
    Ok(sqlx::query_scalar(&sql).fetch_one(db.pool()).await?)
}
