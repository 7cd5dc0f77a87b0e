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

impl RunStats {
    /// Adds another run's counts.
    pub fn add(&mut self, other: RunStats) {
        self.dispatched += other.dispatched;
        self.quarantined += other.quarantined;
    }
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
/// Returns what they did.
pub async fn run_forever(app: Arc<App>, shutdown: tokio::sync::watch::Receiver<bool>) -> RunStats {
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..app.config.pipeline.workers {
        let app = app.clone();
        let mut shutdown = shutdown.clone();
        let owner = worker_name(i);
        tasks.spawn(async move {
            let idle = std::time::Duration::from_millis(app.config.pipeline.idle_poll_ms);
            let mut total = RunStats::default();
            while !*shutdown.borrow() {
                match run_batch(&app, &owner).await {
                    Ok(Some(s)) => {
                        total.add(s);
                        continue;
                    }
                    Ok(None) => {}
                    Err(e) => tracing::error!(worker = %owner, error = %e, "pipeline batch failed"),
                }
                tokio::select! {
                    _ = tokio::time::sleep(idle) => {}
                    _ = shutdown.changed() => {}
                }
            }
            total
        });
    }
    let mut total = RunStats::default();
    while let Some(r) = tasks.join_next().await {
        if let Ok(s) = r {
            total.add(s);
        }
    }
    total
}

/// Runs the workers beside `work` (a registration run, say), so that unpacking and verifying
/// overlap with storing, then until nothing is pending.
pub async fn alongside<T>(
    app: &Arc<App>,
    work: impl std::future::Future<Output = T>,
) -> Result<(T, RunStats), PipelineError> {
    let (stop, rx) = tokio::sync::watch::channel(false);
    let background = tokio::spawn(run_forever(app.clone(), rx));
    let out = work.await;
    let _ = stop.send(true);
    let mut stats = background
        .await
        .map_err(|e| PipelineError::Task(e.to_string()))?;
    stats.add(run_until_idle(app, app.config.pipeline.workers).await?);
    Ok((out, stats))
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
    let claimed = work::claim(
        &app.db,
        owner,
        app.config.pipeline.batch_size,
        lease(app),
        now,
    )
    .await?;
    if claimed.is_empty() {
        return Ok(None);
    }
    advance(app, owner, claimed).await.map(Some)
}

/// Takes the given submissions through the pipeline now, in the caller's task (an upload whose
/// sender waits for the verdicts). Submissions another worker holds are left to it; whatever
/// fails here is retried by the workers as usual.
pub async fn process_now(app: &Arc<App>, ids: &[SubmissionId]) -> Result<RunStats, PipelineError> {
    let owner = sync_owner();
    let claimed = work::claim_ids(&app.db, &owner, ids, lease(app), crate::clock::now()).await?;
    if claimed.is_empty() {
        return Ok(RunStats::default());
    }
    advance(app, &owner, claimed).await
}

/// The owner name under which a process takes submissions through the pipeline at once
/// ([`process_claimed`]).
pub fn sync_owner() -> String {
    format!("{}:now", worker_name(0))
}

/// Takes submissions that `owner` already holds (registered with its lease) through the
/// pipeline now.
///
/// One submission whose documents are all registered already (an upload without archives) has
/// its steps computed one after the other and committed in one transaction — each transition
/// still guarded by its state and the lease, each with its audit event — so a sender waits for
/// one commit instead of four. Anything else goes step by step.
pub async fn process_claimed(
    app: &Arc<App>,
    owner: &str,
    claimed: Vec<Claimed>,
) -> Result<RunStats, PipelineError> {
    match <[Claimed; 1]>::try_from(claimed) {
        Ok([one]) => advance_together(app, owner, one).await,
        Err(many) => advance(app, owner, many).await,
    }
}

/// [`process_claimed`] for one submission: the steps' results go into one commit, unless a step
/// adds documents (an archive unpacked: the next step must read them from the database), fails,
/// or quarantines; then what was computed so far is committed and the rest goes step by step.
async fn advance_together(
    app: &Arc<App>,
    owner: &str,
    c: Claimed,
) -> Result<RunStats, PipelineError> {
    let together = compute_together(app, owner, c).await?;
    commit_together(app, owner, together, None).await
}

/// The steps of one claimed submission worked out one after the other and not yet committed
/// ([`compute_together`]).
#[derive(Debug)]
pub struct Together {
    results: Results,
    rest: Option<Claimed>,
    stats: RunStats,
}

impl Together {
    /// Whether committing these results finishes the submission (dispatched, or quarantined),
    /// so what it looks like afterwards is known now.
    pub fn finished(&self) -> bool {
        self.rest.is_none()
            && matches!(
                self.results.last(),
                Some((
                    _,
                    _,
                    StepResult::Dispatched | StepResult::Quarantined { .. }
                ))
            )
    }

    /// The department the classification chose, if it ran.
    pub fn department(&self) -> Option<&str> {
        self.results.iter().find_map(|(_, _, r)| match r {
            StepResult::Classified { department, .. } => Some(department.as_str()),
            _ => None,
        })
    }

    /// The verification report of each document (by document id), if verification ran.
    pub fn reports(&self) -> std::collections::HashMap<&str, &serde_json::Value> {
        self.results
            .iter()
            .filter_map(|(_, _, r)| match r {
                StepResult::Verified { reports, .. } => Some(reports),
                _ => None,
            })
            .flatten()
            .map(|(doc, report, _)| (doc.as_str(), report))
            .collect()
    }
}

/// Works out the steps of one claimed submission (see [`process_claimed`]) without committing
/// them: [`commit_together`] does, with anything the caller adds to the same transaction.
pub async fn compute_together(
    app: &Arc<App>,
    owner: &str,
    mut c: Claimed,
) -> Result<Together, PipelineError> {
    let mut results: Results = Vec::new();
    let mut stats = RunStats::default();
    let mut rest = None;
    for state in [
        State::Received,
        State::Unpacked,
        State::Verified,
        State::Classified,
    ] {
        if c.state != state {
            continue;
        }
        let mut out = step(app, owner, state, vec![c.clone()]).await?;
        let Some(result) = out.pop() else {
            break; // failed: recorded for a retry by the workers
        };
        let next = state.next().unwrap_or(State::Dispatched);
        let adds_documents =
            matches!(&result.2, StepResult::Unpacked { documents, .. } if !documents.is_empty());
        match &result.2 {
            StepResult::Quarantined { .. } => stats.quarantined += 1,
            StepResult::Dispatched => stats.dispatched += 1,
            _ => {}
        }
        let go_on = !matches!(
            result.2,
            StepResult::Quarantined { .. } | StepResult::Dispatched
        );
        results.push(result);
        if !go_on {
            break;
        }
        c.state = next;
        if adds_documents {
            rest = Some(c.clone());
            break;
        }
    }
    Ok(Together {
        results,
        rest,
        stats,
    })
}

/// Commits what [`compute_together`] worked out, with `extra` writes in the same transaction,
/// then takes anything left step by step.
pub async fn commit_together(
    app: &Arc<App>,
    owner: &str,
    together: Together,
    extra: Option<work::TxExtra>,
) -> Result<RunStats, PipelineError> {
    let Together {
        results,
        rest,
        mut stats,
    } = together;
    if !results.is_empty() || extra.is_some() {
        work::commit_step_with(
            &app.db,
            owner,
            "system:pipeline",
            crate::clock::now(),
            &results,
            extra,
        )
        .await?;
    }
    if let Some(c) = rest {
        stats.add(advance(app, owner, vec![c]).await?);
    }
    Ok(stats)
}

/// How long a claim holds (`[pipeline] lease_secs`).
pub fn lease(app: &App) -> chrono::Duration {
    chrono::Duration::seconds(i64::try_from(app.config.pipeline.lease_secs).unwrap_or(300))
}

/// Moves claimed submissions step by step until each is dispatched, quarantined or failed.
async fn advance(
    app: &Arc<App>,
    owner: &str,
    claimed: Vec<Claimed>,
) -> Result<RunStats, PipelineError> {
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
    Ok(stats)
}

type Results = Vec<(SubmissionId, State, StepResult)>;

async fn step(
    app: &Arc<App>,
    owner: &str,
    state: State,
    batch: Vec<Claimed>,
) -> Result<Results, PipelineError> {
    let outcomes: Vec<(Claimed, Result<StepResult, StepError>)> = match state {
        State::Received => unpack_batch(app, batch).await?,
        State::Unpacked => verify_batch(app, batch).await?,
        State::Verified => classify_batch(app, batch).await?,
        _ => batch
            .into_iter()
            .map(|c| (c, Ok(StepResult::Dispatched)))
            .collect(),
    };
    let mut out = Vec::with_capacity(outcomes.len());
    for (c, res) in outcomes {
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

/// Unpacks a batch on one blocking thread; the documents of the whole batch are stored with one
/// round of parallel fsyncs before the results are committed.
async fn unpack_batch(
    app: &Arc<App>,
    batch: Vec<Claimed>,
) -> Result<Vec<(Claimed, Result<StepResult, StepError>)>, PipelineError> {
    let uploads: Vec<SubmissionId> = batch
        .iter()
        .filter(|c| c.channel != Channel::Email)
        .map(|c| c.id.clone())
        .collect();
    let mut registered = if uploads.is_empty() {
        std::collections::HashMap::new()
    } else {
        queries::documents_of(&app.db, &uploads).await?
    };
    let app = app.clone();
    tokio::task::spawn_blocking(move || {
        let mut outcomes = Vec::with_capacity(batch.len());
        let mut extracted: Vec<Vec<Extracted>> = Vec::with_capacity(batch.len());
        for c in batch {
            let (result, docs) = if c.channel == Channel::Email {
                unpack_one(&app, &c)
            } else {
                let mine = registered.remove(&c.id.0).unwrap_or_default();
                unpack_upload(&app, &mine)
            };
            outcomes.push((c, result));
            extracted.push(docs);
        }
        let keys: Vec<Vec<String>> = extracted
            .iter()
            .map(|docs| {
                docs.iter()
                    .map(|d| crate::storage::blobs::sha256_hex(&d.bytes))
                    .collect()
            })
            .collect();
        let items: Vec<(&str, &[u8])> = keys
            .iter()
            .zip(&extracted)
            .flat_map(|(ks, ds)| {
                ks.iter()
                    .zip(ds)
                    .map(|(k, d)| (k.as_str(), d.bytes.as_slice()))
            })
            .collect();
        if let Err(e) = app.blobs.put_many(&items) {
            let reason = e.to_string();
            for (_, r) in &mut outcomes {
                if r.is_ok() {
                    *r = Err(StepError::Task(format!("storing documents: {reason}")));
                }
            }
            return outcomes;
        }
        for ((_, r), (ks, ds)) in outcomes.iter_mut().zip(keys.iter().zip(&extracted)) {
            if let Ok(StepResult::Unpacked { documents, .. }) = r {
                *documents = ks.iter().zip(ds).map(|(k, d)| new_document(k, d)).collect();
            }
        }
        outcomes
    })
    .await
    .map_err(|e| PipelineError::Task(e.to_string()))
}

/// Takes one submission apart (documents are filled in by the caller once their blobs are stored).
fn unpack_one(app: &App, c: &Claimed) -> (Result<StepResult, StepError>, Vec<Extracted>) {
    let empty = || StepResult::Unpacked {
        text: None,
        documents: Vec::new(),
        warnings: Vec::new(),
    };
    if c.channel != Channel::Email {
        return (Ok(empty()), Vec::new());
    }
    let raw = match app.blobs.get_verified(&c.raw_sha256) {
        Ok(raw) => raw,
        Err(e) => return (Err(e.into()), Vec::new()),
    };
    match mime::unpack_email(&raw, &app.config.limits) {
        Err(e) => (
            Ok(StepResult::Quarantined {
                reason: e.to_string(),
            }),
            Vec::new(),
        ),
        Ok(u) => (
            Ok(StepResult::Unpacked {
                text: u.text,
                documents: Vec::new(),
                warnings: u.warnings,
            }),
            u.documents,
        ),
    }
}

/// Uploads and API submissions registered their files as documents already: unpacking adds the
/// entries of the archives among them (within the same limits as mail; a ZIP bomb quarantines
/// the submission with the reason, the files stay as they came).
fn unpack_upload(
    app: &App,
    docs: &[crate::model::Document],
) -> (Result<StepResult, StepError>, Vec<Extracted>) {
    let mut entries = Vec::new();
    let mut warnings = Vec::new();
    for d in docs.iter().filter(|d| d.role == "upload") {
        if d.media_type != "application/zip" {
            continue;
        }
        let bytes = match app.blobs.get(&d.sha256) {
            Ok(b) => b,
            Err(e) => return (Err(e.into()), Vec::new()),
        };
        match mime::unpack_file_with_warnings(&d.name, &bytes, &app.config.limits) {
            Ok((found, w)) => {
                warnings.extend(w);
                entries.extend(
                    found
                        .into_iter()
                        .filter(|e| !(e.role == mime::Role::Upload && e.container.is_empty())),
                );
            }
            Err(e) => {
                return (
                    Ok(StepResult::Quarantined {
                        reason: e.to_string(),
                    }),
                    Vec::new(),
                )
            }
        }
    }
    (
        Ok(StepResult::Unpacked {
            text: None,
            documents: Vec::new(),
            warnings,
        }),
        entries,
    )
}

fn new_document(sha256: &str, d: &Extracted) -> NewDocument {
    NewDocument {
        name: d.name.clone(),
        media_type: d.media_type.clone(),
        declared_type: d.declared_type.clone(),
        size: i64::try_from(d.bytes.len()).unwrap_or(i64::MAX),
        sha256: sha256.to_string(),
        container: d.container.join(" › "),
        role: d.role.as_str().to_string(),
    }
}

type Outcomes = Vec<(Claimed, Result<StepResult, StepError>)>;

/// Inspects every document of a batch for signatures, on one blocking thread.
async fn verify_batch(app: &Arc<App>, batch: Vec<Claimed>) -> Result<Outcomes, PipelineError> {
    let ids: Vec<SubmissionId> = batch.iter().map(|c| c.id.clone()).collect();
    let mut docs = queries::documents_of(&app.db, &ids).await?;
    let app = app.clone();
    tokio::task::spawn_blocking(move || {
        batch
            .into_iter()
            .map(|c| {
                let mine = docs.remove(&c.id.0).unwrap_or_default();
                let r = smime_parts(&app, &c, &mine).and_then(|smime| {
                    verify_documents(&app, &mine, &smime, &Prefixes::new(), c.received_at)
                });
                (c, r)
            })
            .collect()
    })
    .await
    .map_err(|e| PipelineError::Task(e.to_string()))
}

/// The signed body parts of the message's own S/MIME signatures, by the SHA-256 of their
/// signature part (read from the raw message only when it has one).
fn smime_parts(
    app: &App,
    c: &Claimed,
    docs: &[crate::model::Document],
) -> Result<std::collections::HashMap<String, Vec<u8>>, StepError> {
    let has_smime = docs
        .iter()
        .any(|d| d.role == "signature" && d.media_type == "application/pkcs7-signature");
    if c.channel != Channel::Email || !has_smime {
        return Ok(std::collections::HashMap::new());
    }
    let raw = app.blobs.get(&c.raw_sha256)?;
    Ok(mime::smime::signed_entities(&raw)
        .into_iter()
        .map(|e| (crate::storage::blobs::sha256_hex(&e.signature), e.content))
        .collect())
}

/// Hash states kept while documents streamed in, by their SHA-256.
pub(crate) type Prefixes =
    std::collections::HashMap<String, std::sync::Arc<crate::digest::Prefixes>>;

fn verify_documents(
    app: &App,
    docs: &[crate::model::Document],
    smime: &std::collections::HashMap<String, Vec<u8>>,
    prefixes: &Prefixes,
    received_at: chrono::DateTime<chrono::Utc>,
) -> Result<StepResult, StepError> {
    let mut reports = Vec::with_capacity(docs.len());
    let mut any = false;
    // Detached signatures (`wniosek.pdf` + `wniosek.pdf.XAdES`) name the file they sign: resolve
    // it among the documents of the same submission, by exact name.
    let resolve = |wanted: &str| -> Option<Vec<u8>> {
        let base = wanted.rsplit('/').next().unwrap_or(wanted);
        let doc = docs.iter().find(|d| d.name == wanted || d.name == base)?;
        app.blobs.get(&doc.sha256).ok()
    };
    for d in docs {
        let bytes = app.blobs.get(&d.sha256)?;
        let smime_report = smime
            .get(&d.sha256)
            .and_then(|content| crate::signature::cms::verify_smime(content, &bytes))
            .map(|mut r| {
                r.file = d.name.clone();
                r
            });
        let mut report = smime_report.unwrap_or_else(|| {
            // The blob's key is the SHA-256 of its bytes, computed as they were written.
            crate::signature::inspect_stored(
                &d.name,
                &d.media_type,
                &bytes,
                &resolve,
                Some(crate::digest::Known {
                    sha256: &d.sha256,
                    prefixes: prefixes.get(&d.sha256).map(|p| p.as_ref()),
                }),
            )
        });
        // Validated at the arrival time: was the signature valid when the letter came in
        // (EN 319 102-1 validation at a given time; later revocation does not undo that).
        crate::signature::trust::validate_report(&mut report, &app.trust, received_at);
        let signed = report.is_signed();
        any |= signed;
        let json = serde_json::to_value(&report).unwrap_or(serde_json::Value::Null);
        reports.push((d.id.clone(), json, signed));
    }
    Ok(StepResult::Verified {
        reports,
        signed: any,
    })
}

/// The verification step for the files of an upload not yet registered (the upload page and the
/// API work out the steps while the sender waits, then register the result in one transaction):
/// per document, by its id, the report and whether it is signed; the same reports
/// [`verify_batch`] makes for a registered submission (`prefixes`: the hash states the upload
/// kept while its files streamed in).
pub(crate) fn verify_upload(
    app: &App,
    docs: &[crate::model::Document],
    prefixes: &Prefixes,
    received_at: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<(String, serde_json::Value, bool)>, String> {
    match verify_documents(
        app,
        docs,
        &std::collections::HashMap::new(),
        prefixes,
        received_at,
    ) {
        Ok(StepResult::Verified { reports, .. }) => Ok(reports),
        Ok(_) => Err("verification gave no reports".into()),
        Err(e) => Err(e.to_string()),
    }
}

/// Routes a batch: two queries for the whole batch, then the rules.
async fn classify_batch(app: &Arc<App>, batch: Vec<Claimed>) -> Result<Outcomes, PipelineError> {
    let ids: Vec<SubmissionId> = batch.iter().map(|c| c.id.clone()).collect();
    let subs = queries::find_many(&app.db, &ids).await?;
    let docs = queries::documents_of(&app.db, &ids).await?;
    Ok(batch
        .into_iter()
        .map(|c| {
            let Some(sub) = subs.iter().find(|s| s.id == c.id) else {
                let missing = DbError::Corrupt {
                    what: "claimed submission",
                    value: c.id.0.clone(),
                };
                return (c, Err(missing.into()));
            };
            let names: Vec<&str> = docs
                .get(&c.id.0)
                .map(|d| d.iter().map(|d| d.name.as_str()).collect())
                .unwrap_or_default();
            let input = RoutingInput {
                recipients: &sub.recipients,
                sender: sub.sender.as_deref(),
                subject: sub.subject.as_deref(),
                text: sub.text.as_deref(),
                file_names: names,
            };
            let d = app.router.route(&input);
            (
                c,
                Ok(StepResult::Classified {
                    department: d.department,
                    rule: d.rule,
                    matched: d.matched,
                }),
            )
        })
        .collect())
}
