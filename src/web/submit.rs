//! What the upload page and the API share: reading a multipart submission within the limits,
//! the bounded verification queue, processing a registered submission while its sender waits,
//! and issuing its receipt.

use super::multipart::{Multipart, MultipartError};
use crate::app::App;
use crate::ingest::upload::{self, Accepted, Fields, Incoming, Staged, UploadError};
use crate::model::{Channel, SubmissionId};
use crate::storage::{public, queries};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How long a sender waits for the verdicts before the page answers with what is known (the
/// workers finish the rest; the result page shows it when reloaded).
const PROCESS_WAIT: Duration = Duration::from_secs(60);

/// The verification queue: `workers` submissions are processed at once, up to `queue` more wait;
/// beyond that a new upload is turned away before it is read (503 with Retry-After), so nothing is
/// registered that the sender will send again.
#[derive(Debug)]
pub struct Gate {
    permits: tokio::sync::Semaphore,
    inside: AtomicUsize,
    capacity: usize,
}

/// A place in the queue, held from before the upload is read until its answer.
#[derive(Debug)]
pub struct Pass {
    gate: Arc<Gate>,
}

impl Gate {
    /// A gate for `workers` at once and `queue` waiting.
    pub fn new(workers: usize, queue: usize) -> Arc<Gate> {
        Arc::new(Gate {
            permits: tokio::sync::Semaphore::new(workers.max(1)),
            inside: AtomicUsize::new(0),
            capacity: workers.max(1) + queue,
        })
    }

    /// A place, or `None` when the queue is full.
    pub fn try_enter(self: &Arc<Gate>) -> Option<Pass> {
        let mut now = self.inside.load(Ordering::Acquire);
        loop {
            if now >= self.capacity {
                return None;
            }
            match self.inside.compare_exchange_weak(
                now,
                now + 1,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return Some(Pass { gate: self.clone() }),
                Err(seen) => now = seen,
            }
        }
    }

    /// Places taken now.
    pub fn inside(&self) -> usize {
        self.inside.load(Ordering::Acquire)
    }
}

impl Pass {
    /// Runs `work` when a processing slot is free.
    pub async fn run<T>(&self, work: impl std::future::Future<Output = T>) -> Option<T> {
        let _permit = self.gate.permits.acquire().await.ok()?;
        Some(work.await)
    }
}

impl Drop for Pass {
    fn drop(&mut self) {
        self.gate.inside.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Reads a multipart submission: `file` parts (any number within `max_files`), the text fields
/// `email`, `subject`, `message`, and (the page's form) `csrf`, which must come first and match
/// `csrf_cookie` when one is required. Files are streamed into the blob store as they arrive.
pub async fn read(
    app: &Arc<App>,
    mut multipart: Multipart,
    csrf_cookie: Option<Option<&str>>,
) -> Result<(Fields, Vec<Staged>), SubmitError> {
    let cfg = &app.config.upload;
    let mut fields = Fields::default();
    let mut files: Vec<Staged> = Vec::new();
    let mut total: u64 = 0;
    let mut first = true;
    while let Some(part) = multipart.next_part().await.map_err(multipart_error(cfg))? {
        let name = part.name;
        if first {
            first = false;
            if let Some(expected) = csrf_cookie {
                if name != "csrf" {
                    return Err(SubmitError::Csrf);
                }
                let got = match multipart.text(CSRF_BYTES).await {
                    Ok(got) => got,
                    Err(MultipartError::TooLarge { .. }) => return Err(SubmitError::Csrf),
                    Err(e) => return Err(multipart_error(cfg)(e)),
                };
                match expected {
                    Some(cookie) if super::auth::same_token(cookie, got.trim()) => continue,
                    _ => return Err(SubmitError::Csrf),
                }
            }
        }
        if name == "file" || part.file_name.is_some() {
            let Some(raw_name) = part.file_name else {
                return Err(UploadError::Malformed("plik bez nazwy".into()).into());
            };
            if raw_name.is_empty() {
                // A browser sends an empty part for a file input left empty (the next part
                // skips it).
                continue;
            }
            if files.len() >= cfg.max_files {
                return Err(UploadError::TooManyFiles {
                    limit: cfg.max_files,
                }
                .into());
            }
            let clean = upload::clean_name(&raw_name, files.len() + 1);
            upload::check_type(cfg, &clean)?;
            let staged = receive(app, &mut multipart, clean, part.content_type, &mut total).await?;
            files.push(staged);
        } else if name == "csrf" {
            // A second token (or one the API does not need): read and set aside.
            multipart
                .text(CSRF_BYTES)
                .await
                .map_err(multipart_error(cfg))?;
        } else {
            // Read no more of a field than its limit allows (4 bytes to a character in UTF-8).
            let (field, limit) = Fields::limit(cfg, &name)?;
            let value = match multipart.text(limit.saturating_mul(4)).await {
                Ok(value) => value,
                Err(MultipartError::TooLarge { .. }) => {
                    return Err(UploadError::TooLong { field, limit }.into())
                }
                Err(e) => return Err(multipart_error(cfg)(e)),
            };
            total += value.len() as u64;
            fields.set(cfg, &name, value)?;
        }
        if total > cfg.max_request_bytes {
            return Err(UploadError::RequestTooLarge {
                limit: cfg.max_request_bytes,
            }
            .into());
        }
    }
    if files.is_empty() {
        return Err(UploadError::NoFiles.into());
    }
    Ok((fields, files))
}

/// Bytes of a form token at most.
const CSRF_BYTES: usize = 256;

async fn receive(
    app: &Arc<App>,
    multipart: &mut Multipart,
    name: String,
    declared: Option<String>,
    total: &mut u64,
) -> Result<Staged, SubmitError> {
    let cfg = &app.config.upload;
    let mut incoming = Incoming::start(app, name, declared)?;
    while let Some(chunk) = multipart.chunk().await.map_err(multipart_error(cfg))? {
        *total += chunk.len() as u64;
        if *total > cfg.max_request_bytes {
            return Err(UploadError::RequestTooLarge {
                limit: cfg.max_request_bytes,
            }
            .into());
        }
        incoming.write(chunk)?;
    }
    Ok(incoming.finish(app).await?)
}

/// The error of a body that could not be read, in the upload's terms.
pub fn multipart_error(
    cfg: &crate::config::UploadConfig,
) -> impl Fn(MultipartError) -> SubmitError + '_ {
    move |e| match e {
        MultipartError::TooLarge { .. } => UploadError::RequestTooLarge {
            limit: cfg.max_request_bytes,
        }
        .into(),
        MultipartError::Malformed(m) => UploadError::Malformed(m).into(),
    }
}

/// Why a submission was not taken.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// The upload itself (limits, types, fields, storage).
    #[error(transparent)]
    Upload(#[from] UploadError),
    /// The form's token is missing or wrong.
    #[error("Formularz wygasł lub nie pochodzi z tej strony. Odśwież stronę i wyślij ponownie.")]
    Csrf,
}

/// A submission taken: its registration and, when its steps were worked out before it was
/// registered, what it looks like now (so the answer needs no reading back).
#[derive(Debug)]
pub struct Taken {
    /// The submission.
    pub id: SubmissionId,
    /// Its registration number.
    pub registration_number: String,
    /// The submission, its documents and when its receipt was issued, as registered.
    pub view: Option<View>,
}

/// A submission as [`accept`] registered it.
#[derive(Debug)]
pub struct View {
    /// The row.
    pub submission: crate::model::Submission,
    /// Its documents with their reports.
    pub documents: Vec<crate::model::Document>,
    /// When its receipt was issued (as stored), if it was.
    pub receipt_issued_at: Option<String>,
}

/// Takes an upload whose files are stored: registers it, takes it through the pipeline and
/// issues its receipt while the sender waits.
///
/// The usual upload (files without archives) has its steps worked out first — the envelope
/// stored, every file verified and validated at the arrival time, the department chosen — in a
/// processing slot, and is then registered with its number, its final state, its documents'
/// reports and the whole audit trail in one transaction; the receipt follows in a second. An
/// archive among the files (its entries become documents), a step that fails or takes longer
/// than the sender waits: registered first and taken through step by step
/// ([`upload::register`], [`process_and_issue`]), as the workers would.
#[allow(clippy::too_many_arguments)]
pub async fn accept(
    app: &Arc<App>,
    pass: &Pass,
    channel: Channel,
    fields: &Fields,
    files: &[Staged],
    received_at: chrono::DateTime<chrono::Utc>,
    api_token: Option<&str>,
    access_code: &str,
) -> Result<Taken, UploadError> {
    if !files.iter().any(|f| f.media_type == "application/zip") {
        let (app2, fields2, files2) = (app.clone(), fields.clone(), files.to_vec());
        // Started once a processing slot is free: the slots bound how many are worked on at once.
        let work = async move {
            let work = tokio::task::spawn_blocking(move || {
                prepare(&app2, channel, &fields2, &files2, received_at)
            });
            tokio::time::timeout(PROCESS_WAIT, work).await
        };
        match pass.run(work).await {
            Some(Ok(Ok(Ok(prepared)))) => {
                return take_prepared(app, prepared, api_token, access_code).await;
            }
            Some(Ok(Ok(Err(e)))) => {
                tracing::warn!(error = %e, "working out an upload's steps; registering it first")
            }
            Some(Ok(Err(e))) => tracing::warn!(error = %e, "upload steps: task failed"),
            Some(Err(_)) => tracing::warn!("upload steps took too long; registering it first"),
            None => tracing::warn!("upload steps: no processing slot"),
        }
    }
    let accepted = upload::register(
        app,
        channel,
        fields,
        files,
        received_at,
        api_token,
        access_code,
    )
    .await?;
    if let Err(e) = process_and_issue(app, pass, &accepted, access_code).await {
        // Registered: the workers finish it and its page issues the receipt.
        tracing::warn!(submission_id = %accepted.id, error = %e, "upload registered, receipt pending");
    }
    Ok(Taken {
        id: accepted.id,
        registration_number: accepted.registration_number,
        view: None,
    })
}

/// An upload's steps worked out, not yet registered.
struct Prepared {
    id: SubmissionId,
    parts: upload::Parts,
    /// The documents as the receipt and the answer show them (with their reports).
    documents: Vec<crate::model::Document>,
    /// The same as registration records them.
    verified: Vec<crate::storage::intake::VerifiedDocument>,
    routing: crate::storage::intake::Routing,
}

/// Stores the envelope, verifies every file and chooses the department (a blocking call).
fn prepare(
    app: &App,
    channel: Channel,
    fields: &Fields,
    files: &[Staged],
    received_at: chrono::DateTime<chrono::Utc>,
) -> Result<Prepared, String> {
    let parts =
        upload::parts(app, channel, fields, files, received_at).map_err(|e| e.to_string())?;
    let id = SubmissionId::new();
    let mut documents: Vec<crate::model::Document> = parts
        .documents
        .iter()
        .enumerate()
        .map(|(i, d)| crate::model::Document {
            id: uuid::Uuid::now_v7().to_string(),
            submission_id: id.clone(),
            seq: i64::try_from(i + 1).unwrap_or(i64::MAX),
            name: d.name.clone(),
            media_type: d.media_type.clone(),
            declared_type: d.declared_type.clone(),
            size: d.size,
            sha256: d.sha256.clone(),
            container: d.container.clone(),
            role: d.role.clone(),
            report: None,
        })
        .collect();
    let prefixes: crate::pipeline::Prefixes = files
        .iter()
        .map(|f| (f.sha256.clone(), f.prefixes.clone()))
        .collect();
    let mut reports = crate::pipeline::verify_upload(app, &documents, &prefixes, received_at)?;
    let mut verified = Vec::with_capacity(documents.len());
    for (d, new) in documents.iter_mut().zip(&parts.documents) {
        let at = reports.iter().position(|(doc_id, ..)| *doc_id == d.id);
        let Some((id, report, signed)) = at.map(|i| reports.swap_remove(i)) else {
            return Err("a document was not verified".into());
        };
        d.report = Some(report.clone());
        verified.push(crate::storage::intake::VerifiedDocument {
            id,
            document: new.clone(),
            report,
            signed,
        });
    }
    let s = &parts.submission;
    let decision = app.router.route(&crate::classify::RoutingInput {
        recipients: &s.recipients,
        sender: s.sender.as_deref(),
        subject: s.subject.as_deref(),
        text: s.text.as_deref(),
        file_names: documents.iter().map(|d| d.name.as_str()).collect(),
    });
    Ok(Prepared {
        id,
        parts,
        documents,
        verified,
        routing: crate::storage::intake::Routing {
            department: decision.department,
            rule: decision.rule,
            matched: decision.matched,
        },
    })
}

/// Registers a prepared upload (one transaction), then makes and records its receipt.
async fn take_prepared(
    app: &Arc<App>,
    p: Prepared,
    api_token: Option<&str>,
    access_code: &str,
) -> Result<Taken, UploadError> {
    use crate::storage::intake;
    let now = crate::clock::now();
    let code_sha256 = public::access_code_sha256(access_code);
    let s = &p.parts.submission;
    let number = intake::register_processed(
        &app.db,
        &app.config.register.number_pattern,
        app.config.timezone(),
        now,
        &intake::Processed {
            id: &p.id,
            submission: s,
            documents: &p.verified,
            routing: &p.routing,
            api_token,
            access_code_sha256: &code_sha256,
        },
    )
    .await?;
    let id = p.id.clone();
    let issued = match issue_prepared(app, &p, &number, access_code).await {
        Ok(issued) => Some(issued),
        Err(e) => {
            tracing::warn!(submission_id = %id, error = %e, "making a receipt; trying again");
            if let Err(e) = issue_receipt(app, &id, access_code).await {
                tracing::warn!(submission_id = %id, error = %e, "upload registered, receipt pending");
            }
            None
        }
    };
    let submission = crate::model::Submission {
        id: id.clone(),
        registration_number: number.clone(),
        channel: s.channel,
        received_at: s.received_at,
        arrival_source: s.arrival_source.to_string(),
        registered_at: now,
        sender: s.sender.clone(),
        sender_name: s.sender_name.clone(),
        recipients: s.recipients.clone(),
        subject: s.subject.clone(),
        text: s.text.clone(),
        message_id: s.message_id.clone(),
        raw_sha256: s.raw_sha256.clone(),
        raw_size: s.raw_size,
        state: crate::model::State::Dispatched,
        department: Some(p.routing.department.clone()),
        routing_rule: Some(p.routing.rule.clone()),
        signed: Some(p.verified.iter().any(|d| d.signed)),
        quarantine_reason: None,
    };
    Ok(Taken {
        id,
        registration_number: number,
        view: issued.map(|issued_at| View {
            submission,
            documents: p.documents,
            receipt_issued_at: Some(crate::model::format_time(&issued_at)),
        }),
    })
}

/// Makes the receipt of a prepared upload just registered and records it (with its e-mail
/// queued when the sender gave an address) in one transaction; returns when it was issued.
async fn issue_prepared(
    app: &Arc<App>,
    p: &Prepared,
    number: &str,
    access_code: &str,
) -> Result<chrono::DateTime<chrono::Utc>, crate::web::error::WebError> {
    let s = &p.parts.submission;
    let issued_at = crate::clock::now();
    let receipt = receipt_of(
        app,
        Head {
            id: &p.id.0,
            number,
            channel: s.channel,
            received_at: s.received_at,
            sender: s.sender.as_deref(),
            subject: s.subject.as_deref(),
            department: Some(&p.routing.department),
        },
        &p.documents,
        &|d| d.report.as_ref(),
        access_code,
        issued_at,
    );
    let made = make_receipt(app, receipt).await?;
    // Registered a moment ago with no receipt: this one is the first (the statements keep an
    // earlier one if there were).
    let mut script = crate::storage::db::Script::new();
    for statement in public::issue_statements(&p.id, issued_at, &made) {
        script.add(statement);
    }
    if s.sender.is_some() {
        script.add(crate::outbox::store::receipt_statement(&p.id, issued_at));
    }
    app.db.run(script).await?;
    Ok(issued_at)
}

/// After registration: the pipeline takes the submission through while its sender waits (in a
/// processing slot, at most a minute), then the receipt is issued and, when an address was
/// given, queued for e-mail. When the steps finish the submission, its receipt is made from
/// their results and committed in the same transaction as they are (one commit for the sender
/// to wait for, not two). Failures here lose nothing: the submission is registered, the workers
/// finish it, and the receipt is issued when its page is next opened.
pub async fn process_and_issue(
    app: &Arc<App>,
    pass: &Pass,
    accepted: &Accepted,
    access_code: &str,
) -> Result<(), crate::web::error::WebError> {
    let id = accepted.id.clone();
    let work = pass.run(async {
        match tokio::time::timeout(
            PROCESS_WAIT,
            process_with_receipt(app, accepted, access_code),
        )
        .await
        {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(submission_id = %id, error = %e, "processing an upload"),
            Err(_) => tracing::warn!(submission_id = %id, "processing an upload took too long"),
        }
    });
    work.await;
    // Issued with the steps already, unless they did not finish it or failed.
    issue_receipt(app, &id, access_code).await?;
    Ok(())
}

async fn process_with_receipt(
    app: &Arc<App>,
    accepted: &Accepted,
    access_code: &str,
) -> Result<(), String> {
    let owner = &accepted.owner;
    let together = crate::pipeline::compute_together(app, owner, accepted.claimed.clone())
        .await
        .map_err(|e| e.to_string())?;
    let extra = if together.finished() {
        match receipt_with_steps(app, accepted, &together, access_code).await {
            Ok(extra) => Some(extra),
            Err(e) => {
                tracing::warn!(submission_id = %accepted.id, error = %e, "making a receipt");
                None
            }
        }
    } else {
        None
    };
    crate::pipeline::commit_together(app, owner, together, extra)
        .await
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// The receipt of a submission the steps in `together` finish, made now; the returned writes
/// record it with its documents (and queue its e-mail) in the steps' transaction.
async fn receipt_with_steps(
    app: &Arc<App>,
    accepted: &Accepted,
    together: &crate::pipeline::Together,
    access_code: &str,
) -> Result<crate::storage::work::TxExtra, crate::web::error::WebError> {
    let docs = queries::documents(&app.db, &accepted.id).await?;
    let reports = together.reports();
    let issued_at = crate::clock::now();
    let receipt = receipt_of(
        app,
        Head {
            id: &accepted.id.0,
            number: &accepted.registration_number,
            channel: accepted.claimed.channel,
            received_at: accepted.received_at,
            sender: accepted.sender.as_deref(),
            subject: accepted.subject.as_deref(),
            department: together.department(),
        },
        &docs,
        &|d| reports.get(d.id.as_str()).copied().or(d.report.as_ref()),
        access_code,
        issued_at,
    );
    let made = make_receipt(app, receipt).await?;
    let id = accepted.id.clone();
    let email = accepted.sender.is_some();
    Ok(Box::new(move |tx| {
        Box::pin(async move {
            let recorded = public::set_receipt_in(tx, &id, issued_at, &made).await?;
            if recorded && email {
                crate::outbox::store::enqueue_receipt_in(tx, &id, issued_at).await?;
            }
            Ok(())
        })
    }))
}

/// The public address of a path (`[upload] public_url` + path, or the path alone).
pub fn public_link(app: &App, path: &str) -> String {
    format!(
        "{}{path}",
        app.config.upload.public_url.trim_end_matches('/')
    )
}

/// What a receipt says of its submission.
struct Head<'a> {
    id: &'a str,
    number: &'a str,
    channel: Channel,
    received_at: chrono::DateTime<chrono::Utc>,
    sender: Option<&'a str>,
    subject: Option<&'a str>,
    /// Department code.
    department: Option<&'a str>,
}

fn receipt_of<'d>(
    app: &App,
    head: Head<'_>,
    docs: &'d [crate::model::Document],
    report_of: &dyn Fn(&'d crate::model::Document) -> Option<&'d serde_json::Value>,
    access_code: &str,
    issued_at: chrono::DateTime<chrono::Utc>,
) -> crate::receipt::Receipt {
    let tz = app.config.timezone();
    crate::receipt::Receipt {
        office: app.config.office.name.clone(),
        registration_number: head.number.to_string(),
        submission_id: head.id.to_string(),
        channel: head.channel.as_str().to_string(),
        received_at: head.received_at,
        issued_at,
        sender_email: head.sender.map(str::to_string),
        subject: head.subject.map(str::to_string),
        access_code: Some(access_code.to_string()),
        status_url: Some(public_link(app, "/status")),
        department: head
            .department
            .map(|code| crate::dispatch::department_name(&app.config.routing, code).to_string()),
        documents: docs
            .iter()
            .map(|d| crate::receipt::ReceiptDocument {
                name: d.name.clone(),
                sha256: d.sha256.clone(),
                size: d.size,
                verdict: super::verdict::text(report_of(d), tz),
            })
            .collect(),
    }
}

/// Renders the receipt as PDF and as sealed XML and stores both (one round of fsyncs); returns
/// their keys and whether the XML is sealed.
async fn make_receipt(
    app: &Arc<App>,
    receipt: crate::receipt::Receipt,
) -> Result<public::Documents, crate::web::error::WebError> {
    let app2 = app.clone();
    let tz = app.config.timezone();
    // Made on a blocking thread (a PDF and an XAdES seal: a fraction of a millisecond of CPU);
    // the documents are kept in the receipt's row when it is recorded.
    tokio::task::spawn_blocking(move || -> Result<public::Documents, String> {
        // The access code is printed on the PDF the resident keeps; the sealed XML, the office's
        // evidence, does not carry it (the database keeps only its hash).
        let pdf = crate::receipt::pdf(&receipt, tz);
        let receipt = crate::receipt::Receipt {
            access_code: None,
            ..receipt
        };
        let (xml, sealed) = match &app2.seal {
            Some(seal) => (
                crate::receipt::sealed_xml(&receipt, tz, seal).map_err(|e| e.to_string())?,
                true,
            ),
            None => (crate::receipt::xml(&receipt, tz), false),
        };
        Ok(public::Documents {
            xml: xml.into_bytes(),
            pdf,
            sealed,
        })
    })
    .await
    .map_err(|e| crate::web::error::WebError::Internal(e.to_string()))?
    .map_err(crate::web::error::WebError::Internal)
}

/// Makes the receipt of `id` (once: an existing receipt is kept as it was issued) and queues it
/// for e-mail when the sender gave an address.
pub async fn issue_receipt(
    app: &Arc<App>,
    id: &SubmissionId,
    access_code: &str,
) -> Result<(), crate::web::error::WebError> {
    if public::receipt(&app.db, &id.0)
        .await?
        .is_some_and(|r| r.issued.is_some())
    {
        return Ok(());
    }
    let sub = queries::find(&app.db, &id.0)
        .await?
        .ok_or(crate::web::error::WebError::NotFound)?;
    let docs = queries::documents(&app.db, id).await?;
    let issued_at = crate::clock::now();
    let receipt = receipt_of(
        app,
        Head {
            id: &sub.id.0,
            number: &sub.registration_number,
            channel: sub.channel,
            received_at: sub.received_at,
            sender: sub.sender.as_deref(),
            subject: sub.subject.as_deref(),
            department: sub.department.as_deref(),
        },
        &docs,
        &|d| d.report.as_ref(),
        access_code,
        issued_at,
    );
    let made = make_receipt(app, receipt).await?;
    let recorded = public::set_receipt(&app.db, id, issued_at, &made).await?;
    if recorded && sub.sender.is_some() && sub.channel != Channel::Email {
        crate::outbox::store::enqueue_receipt(&app.db, id, issued_at).await?;
    }
    Ok(())
}

/// Whether the queue is full (for tests and `/healthz`).
pub fn queue_full(gate: &Gate) -> bool {
    gate.inside() >= gate.capacity
}
