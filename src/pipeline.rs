//! The pipeline workers: claim a batch of unfinished submissions and move each through
//! `unpack` → `verify` → `classify` → `dispatch`, committing the batch after every step.
//!
//! Each step reads only what is stored (raw blob, document rows), so it can run again after a
//! crash; its results commit in one transaction guarded by state and lease ([`crate::storage::work`]).
//! CPU-bound work (MIME parsing, signature inspection, hashing) runs on blocking threads.

use crate::app::App;
use crate::classify::RoutingInput;
use crate::ingest::mime::{self, Extracted};
use crate::model::{Channel, State, SubmissionId};
use crate::storage::work::{self, Claimed, NewDocument, StepResult};
use crate::storage::{queries, DbError};
use std::sync::Arc;

/// After this many failed attempts (I/O, database) a submission is quarantined with the last error.
pub const MAX_ATTEMPTS: i64 = 5;

/// Errors that stop a worker (per-submission failures are recorded on the row instead).
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The database.
    #[error(transparent)]
    Db(#[from] DbError),
    /// A blocking task died.
    #[error("worker task failed: {0}")]
    Task(String),
}

/// What a run of the workers did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunStats {
    /// Submissions that reached `dispatched`.
    pub dispatched: usize,
    /// Submissions quarantined.
    pub quarantined: usize,
}

/// Runs `workers` workers until no unfinished submission is left (waiting out leases held by
/// other workers, live or crashed).
pub async fn run_until_idle(app: &Arc<App>, workers: usize) -> Result<RunStats, PipelineError> {
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..workers.max(1) {
        let app = app.clone();
        let owner = worker_name(i);
        tasks.spawn(async move {
            let mut total = RunStats::default();
            loop {
                let s = run_batch(&app, &owner).await?;
                match s {
                    None if work::pending(&app.db).await? == 0 => {
                        return Ok::<RunStats, PipelineError>(total)
                    }
                    None => {
                        // Work is leased by another worker (or by a crashed one whose lease has
                        // to run out, or waits for a retry): wait for it rather than leave it.
                        tokio::time::sleep(std::time::Duration::from_millis(
                            app.config.pipeline.idle_poll_ms,
                        ))
                        .await;
                    }
                    Some(s) => {
                        total.dispatched += s.dispatched;
                        total.quarantined += s.quarantined;
                    }
                }
            }
        });
    }
    let mut total = RunStats::default();
    while let Some(res) = tasks.join_next().await {
        let s = res.map_err(|e| PipelineError::Task(e.to_string()))??;
        total.dispatched += s.dispatched;
        total.quarantined += s.quarantined;
    }
    Ok(total)
}

/// Runs workers until `shutdown` resolves; idle workers look for work every `idle_poll_ms`.
pub async fn run_forever(app: Arc<App>, shutdown: tokio::sync::watch::Receiver<bool>) {
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..app.config.pipeline.workers {
        let app = app.clone();
        let mut shutdown = shutdown.clone();
        let owner = worker_name(i);
        tasks.spawn(async move {
            let idle = std::time::Duration::from_millis(app.config.pipeline.idle_poll_ms);
            while !*shutdown.borrow() {
                match run_batch(&app, &owner).await {
                    Ok(Some(_)) => continue,
                    Ok(None) => {}
                    Err(e) => tracing::error!(worker = %owner, error = %e, "pipeline batch failed"),
                }
                tokio::select! {
                    _ = tokio::time::sleep(idle) => {}
                    _ = shutdown.changed() => {}
                }
            }
        });
    }
    while tasks.join_next().await.is_some() {}
}

fn worker_name(i: usize) -> String {
    format!("{}:{}:{}", hostname(), std::process::id(), i)
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "localhost".into())
}

/// Claims one batch and takes it as far as it goes. `None` when there was nothing to claim.
pub async fn run_batch(app: &Arc<App>, owner: &str) -> Result<Option<RunStats>, PipelineError> {
    let now = crate::clock::now();
    let lease =
        chrono::Duration::seconds(i64::try_from(app.config.pipeline.lease_secs).unwrap_or(300));
    let claimed = work::claim(&app.db, owner, app.config.pipeline.batch_size, lease, now).await?;
    if claimed.is_empty() {
        return Ok(None);
    }
    let mut items: Vec<Claimed> = claimed;
    let mut stats = RunStats::default();
    for state in [
        State::Received,
        State::Unpacked,
        State::Verified,
        State::Classified,
    ] {
        let (here, rest): (Vec<Claimed>, Vec<Claimed>) =
            items.into_iter().partition(|c| c.state == state);
        items = rest;
        if here.is_empty() {
            continue;
        }
        let results = step(app, owner, state, here.clone()).await?;
        let now = crate::clock::now();
        work::commit_step(&app.db, owner, "system:pipeline", now, &results).await?;
        for (id, _, result) in results {
            let Some(mut c) = here.iter().find(|c| c.id == id).cloned() else {
                continue;
            };
            match result {
                StepResult::Quarantined { .. } => stats.quarantined += 1,
                StepResult::Dispatched => stats.dispatched += 1,
                _ => {
                    c.state = state.next().unwrap_or(State::Dispatched);
                    items.push(c);
                }
            }
        }
    }
    Ok(Some(stats))
}

type Results = Vec<(SubmissionId, State, StepResult)>;

async fn step(
    app: &Arc<App>,
    owner: &str,
    state: State,
    batch: Vec<Claimed>,
) -> Result<Results, PipelineError> {
    let mut out = Vec::with_capacity(batch.len());
    for c in batch {
        let res = match state {
            State::Received => unpack(app, &c).await,
            State::Unpacked => verify(app, &c).await,
            State::Verified => classify(app, &c).await,
            _ => Ok(StepResult::Dispatched),
        };
        match res {
            Ok(r) => out.push((c.id, state, r)),
            Err(e) => {
                let reason = e.to_string();
                tracing::warn!(submission_id = %c.id, error = %reason, "pipeline step failed");
                if c.attempts + 1 >= MAX_ATTEMPTS {
                    let reason = format!("processing failed {MAX_ATTEMPTS} times: {reason}");
                    out.push((c.id, state, StepResult::Quarantined { reason }));
                } else {
                    let retry = crate::clock::now() + backoff(c.attempts);
                    work::record_failure(&app.db, owner, &c.id, &reason, retry).await?;
                }
            }
        }
    }
    Ok(out)
}

fn backoff(attempts: i64) -> chrono::Duration {
    chrono::Duration::seconds(5i64.saturating_mul(1i64 << attempts.clamp(0, 10)))
}

/// A per-submission failure that is not the submission's fault.
#[derive(Debug, thiserror::Error)]
enum StepError {
    #[error(transparent)]
    Blob(#[from] crate::storage::blobs::BlobError),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("task failed: {0}")]
    Task(String),
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StepError> + Send + 'static,
) -> Result<T, StepError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StepError::Task(e.to_string()))?
}

async fn unpack(app: &Arc<App>, c: &Claimed) -> Result<StepResult, StepError> {
    let app = app.clone();
    let key = c.raw_sha256.clone();
    let channel = c.channel;
    blocking(move || {
        if channel != Channel::Email {
            // Uploads registered their documents already; archives among them are expanded by
            // the upload channel (issue 7).
            return Ok(StepResult::Unpacked {
                text: None,
                documents: Vec::new(),
                warnings: Vec::new(),
            });
        }
        let raw = app.blobs.get_verified(&key)?;
        match mime::unpack_email(&raw, &app.config.limits) {
            Err(e) => Ok(StepResult::Quarantined {
                reason: e.to_string(),
            }),
            Ok(u) => {
                let mut documents = Vec::with_capacity(u.documents.len());
                for d in &u.documents {
                    documents.push(store_document(&app, d)?);
                }
                Ok(StepResult::Unpacked {
                    text: u.text,
                    documents,
                    warnings: u.warnings,
                })
            }
        }
    })
    .await
}

fn store_document(app: &App, d: &Extracted) -> Result<NewDocument, StepError> {
    let sha256 = app.blobs.put(&d.bytes)?;
    Ok(NewDocument {
        name: d.name.clone(),
        media_type: d.media_type.clone(),
        declared_type: d.declared_type.clone(),
        size: i64::try_from(d.bytes.len()).unwrap_or(i64::MAX),
        sha256,
        container: d.container.join(" › "),
        role: d.role.as_str().to_string(),
    })
}

async fn verify(app: &Arc<App>, c: &Claimed) -> Result<StepResult, StepError> {
    let docs = queries::documents(&app.db, &c.id).await?;
    let app = app.clone();
    blocking(move || {
        let mut reports = Vec::with_capacity(docs.len());
        let mut any = false;
        for d in &docs {
            let bytes = app.blobs.get(&d.sha256)?;
            let report = crate::signature::inspect(&d.name, &d.media_type, &bytes);
            let signed = report.is_signed();
            any |= signed;
            let json = serde_json::to_value(&report).unwrap_or(serde_json::Value::Null);
            reports.push((d.id.clone(), json, signed));
        }
        Ok(StepResult::Verified {
            reports,
            signed: any,
        })
    })
    .await
}

async fn classify(app: &Arc<App>, c: &Claimed) -> Result<StepResult, StepError> {
    let sub = queries::find(&app.db, &c.id.0)
        .await?
        .ok_or(DbError::Corrupt {
            what: "claimed submission",
            value: c.id.0.clone(),
        })?;
    let docs = queries::documents(&app.db, &c.id).await?;
    let input = RoutingInput {
        recipients: &sub.recipients,
        sender: sub.sender.as_deref(),
        subject: sub.subject.as_deref(),
        text: sub.text.as_deref(),
        file_names: docs.iter().map(|d| d.name.as_str()).collect(),
    };
    let d = app.router.route(&input);
    Ok(StepResult::Classified {
        department: d.department,
        rule: d.rule,
        matched: d.matched,
    })
}
