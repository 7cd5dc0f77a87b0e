//! The residents' side: the upload page `/`, the result page with the verdicts and the receipt,
//! and the status lookup by registration number and access code. Server-rendered, Polish, works
//! without JavaScript (a small script from this origin adds drag and drop).
//!
//! Forms carry a token that must equal the `podawcza_form` cookie (SameSite=Strict, set with the
//! form): a page of another site cannot post here in the resident's name. Posts are rate-limited
//! per client address, and uploads wait in the bounded verification queue ([`super::submit::Gate`]).

use super::error::WebError;
use super::html::{self, h};
use super::multipart::Multipart;
use super::ratelimit::{ClientIp, RateLimiter};
use super::submit::{self, Gate, SubmitError};
use super::verdict;
use crate::app::App;
use crate::ingest::upload;
use crate::model::{Channel, State as Pipeline};
use crate::storage::{accounts, public, queries};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Router};
use std::sync::Arc;

const LAYOUT: &str = include_str!("../../templates/public/layout.html");
const UPLOAD: &str = include_str!("../../templates/public/upload.html");
const RESULT: &str = include_str!("../../templates/public/result.html");
const STATUS: &str = include_str!("../../templates/public/status.html");
/// The public pages' stylesheet.
pub const CSS: &str = include_str!("../../templates/public/public.css");
/// Drag and drop for the upload form.
pub const SCRIPT: &str = include_str!("../../templates/public/upload.js");

/// The policy of the public pages: as the inbox's, plus this origin's script (the upload form's
/// drag and drop; no inline script anywhere).
pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; script-src 'self'; \
                       form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const FORM_COOKIE: &str = "podawcza_form";

/// What the public handlers share: the verification queue and the per-client limiter.
#[derive(Debug, Clone)]
pub struct Public {
    /// The verification queue.
    pub gate: Arc<Gate>,
    /// Requests per client.
    pub limiter: Arc<RateLimiter>,
}

impl Public {
    /// From the configuration.
    pub fn new(app: &App) -> Public {
        Public {
            gate: Gate::new(
                app.config.upload.verify_workers,
                app.config.upload.verify_queue,
            ),
            limiter: Arc::new(RateLimiter::new(
                app.config.web.public_rate_per_minute,
                app.config.web.public_rate_burst,
            )),
        }
    }

    /// 429 when `ip` is over its rate.
    pub fn limit(&self, ip: std::net::IpAddr) -> Option<Response> {
        self.limiter
            .check(ip, std::time::Instant::now())
            .err()
            .map(|wait| too_many(wait.as_secs().max(1)))
    }
}

/// The public routes (with their security headers).
pub fn router(app: Arc<App>, public: Public) -> Router {
    Router::new()
        .route("/", get(upload_form))
        .route("/wyslij", post(upload_post))
        .route("/p/{id}/{code}", get(result_page))
        .route("/p/{id}/{code}/potwierdzenie.pdf", get(receipt_pdf))
        .route("/p/{id}/{code}/potwierdzenie.xml", get(receipt_xml))
        .route("/status", get(status_form).post(status_post))
        .route(
            "/static/public.css",
            get(|| async { asset("text/css; charset=utf-8", CSS) }),
        )
        .route(
            "/static/upload.js",
            get(|| async { asset("text/javascript; charset=utf-8", SCRIPT) }),
        )
        .layer(Extension(public))
        .layer(axum::middleware::map_response(public_headers))
        .with_state(app)
}

/// The most a submission's request body may hold: `[upload] max_request_bytes` and room for the
/// multipart framing (the exact limit is counted while reading).
pub fn body_limit(app: &App) -> usize {
    usize::try_from(app.config.upload.max_request_bytes)
        .unwrap_or(usize::MAX)
        .saturating_add(64 * 1024)
}

fn asset(kind: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

async fn public_headers(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

/// A whole public page.
pub fn page(app: &App, title: &str, head: &str, body: &str) -> String {
    html::fill(
        LAYOUT,
        &[
            ("title", &h(title)),
            ("office", &h(&app.config.office.name)),
            ("head", head),
            ("body", body),
        ],
    )
}

fn html_response(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}

fn too_many(secs: u64) -> Response {
    let mut r = html_response(
        StatusCode::TOO_MANY_REQUESTS,
        simple_page(
            "Za dużo prób",
            &format!("Z tego adresu wysłano zbyt wiele żądań. Spróbuj ponownie za {secs} s."),
        ),
    );
    if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

/// A handler's error as the public side shows it: 404 and 409 in residents' words, the rest as
/// everywhere.
fn public_error(e: WebError) -> Response {
    match e {
        WebError::NotFound => html_response(
            StatusCode::NOT_FOUND,
            simple_page(
                "Nie znaleziono",
                "Nie ma pisma o takim identyfikatorze i kodzie dostępu.",
            ),
        ),
        other => other.into_response(),
    }
}

fn simple_page(heading: &str, message: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"pl\"><head><meta charset=\"utf-8\"><title>{0}</title>\
         <link rel=\"stylesheet\" href=\"/static/style.css\"></head><body><main>\
         <section class=\"error\"><h1>{0}</h1><p>{1}</p><p><a href=\"/\">Wróć</a></p></section>\
         </main></body></html>",
        h(heading),
        h(message)
    )
}

/// The form token of this browser (from its cookie), or a new one to set.
fn form_token(headers: &HeaderMap) -> (String, bool) {
    match super::auth::cookie(headers, FORM_COOKIE) {
        Some(t)
            if t.len() >= 32
                && t.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
        {
            (t.to_string(), false)
        }
        _ => (accounts::random_token(), true),
    }
}

fn with_form_cookie(app: &App, mut resp: Response, token: &str, new: bool) -> Response {
    if new {
        if let Some(v) = super::auth::set_cookie(app, FORM_COOKIE, token, 86_400) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    resp
}

fn upload_page(app: &App, csrf: &str, error: Option<&str>) -> String {
    let cfg = &app.config.upload;
    let accept: Vec<String> = cfg
        .accepted_extensions
        .iter()
        .map(|e| format!(".{e}"))
        .collect();
    let error = error
        .map(|m| format!(r#"<p class="message error" role="alert">{}</p>"#, h(m)))
        .unwrap_or_default();
    let body = html::fill(
        UPLOAD,
        &[
            ("csrf", &h(csrf)),
            ("error", &error),
            ("max_files", &cfg.max_files.to_string()),
            ("max_file", &h(&upload::megabytes(cfg.max_file_bytes))),
            ("max_request", &h(&upload::megabytes(cfg.max_request_bytes))),
            ("accept", &h(&accept.join(","))),
            ("formats", &h(&upload::accepted_list(cfg))),
            ("max_chars", &cfg.max_message_chars.to_string()),
        ],
    );
    page(
        app,
        "Złóż pismo",
        r#"<script src="/static/upload.js" defer></script>"#,
        &body,
    )
}

async fn upload_form(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let (token, new) = form_token(&headers);
    let resp = html_response(StatusCode::OK, upload_page(&app, &token, None));
    with_form_cookie(&app, resp, &token, new)
}

/// The upload: limits checked before and while reading, files stored, the submission registered,
/// processed while the resident waits, the receipt issued; then to the result page.
async fn upload_post(
    State(app): State<Arc<App>>,
    Extension(public): Extension<Public>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    if let Some(r) = public.limit(ip) {
        return r;
    }
    let (token, new) = form_token(&headers);
    let refuse = |status: StatusCode, message: &str| {
        let resp = html_response(status, upload_page(&app, &token, Some(message)));
        with_form_cookie(&app, resp, &token, new)
    };
    if let Some(len) = content_length(&headers) {
        if len > app.config.upload.max_request_bytes {
            let e = upload::UploadError::RequestTooLarge {
                limit: app.config.upload.max_request_bytes,
            };
            return refuse(StatusCode::PAYLOAD_TOO_LARGE, &e.to_string());
        }
    }
    let Some(pass) = public.gate.try_enter() else {
        let mut r = refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "Serwer sprawdza teraz wiele pism. Spróbuj ponownie za minutę — nic nie zostało zapisane.",
        );
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("30"));
        return r;
    };
    let cookie = super::auth::cookie(&headers, FORM_COOKIE);
    let multipart = match Multipart::new(&headers, body, body_limit(&app)) {
        Ok(m) => m,
        Err(e) => return refuse(e.status(), &e.to_string()),
    };
    let (fields, files) = match submit::read(&app, multipart, Some(cookie)).await {
        Ok(x) => x,
        Err(SubmitError::Csrf) => {
            return refuse(StatusCode::FORBIDDEN, &SubmitError::Csrf.to_string());
        }
        Err(SubmitError::Upload(e)) => {
            if e.status() >= 500 {
                tracing::error!(error = ?e, "upload failed");
            }
            let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
            return refuse(status, &e.to_string());
        }
    };
    let code = public::new_access_code();
    let taken = match submit::accept(
        &app,
        &pass,
        Channel::Upload,
        &fields,
        &files,
        crate::clock::now(),
        None,
        &code,
    )
    .await
    {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(error = ?e, "registering an upload failed");
            return refuse(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string());
        }
    };
    drop(pass);
    Redirect::to(&format!("/p/{}/{}", taken.id.0, code)).into_response()
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// The pipeline state in words for the resident.
pub fn state_text(state: Pipeline, clerk_state: Option<&str>) -> &'static str {
    match (state, clerk_state) {
        (Pipeline::Quarantined, _) => "Przekazane do Biura Podawczego do sprawdzenia",
        (Pipeline::Dispatched, Some("in_progress")) => "W trakcie załatwiania",
        (Pipeline::Dispatched, Some("waiting")) => "Oczekuje na odpowiedź lub uzupełnienie",
        (Pipeline::Dispatched, Some("done")) => "Załatwione",
        (Pipeline::Dispatched, _) => "Przekazane do wydziału",
        _ => "Przyjęte — trwa weryfikacja podpisów",
    }
}

async fn result_page(
    state: State<Arc<App>>,
    public: Extension<Public>,
    ip: ClientIp,
    path: Path<(String, String)>,
) -> Response {
    result_page_inner(state, public, ip, path)
        .await
        .unwrap_or_else(public_error)
}

async fn result_page_inner(
    State(app): State<Arc<App>>,
    Extension(public): Extension<Public>,
    ClientIp(ip): ClientIp,
    Path((id, code)): Path<(String, String)>,
) -> Result<Response, WebError> {
    if let Some(r) = public.limit(ip) {
        return Ok(r);
    }
    let Some(receipt) = public::receipt_with_code(&app.db, &id, &code).await? else {
        return Err(WebError::NotFound);
    };
    let sub_id = crate::model::SubmissionId(id.clone());
    if receipt.issued.is_none() {
        submit::issue_receipt(&app, &sub_id, &code).await?;
    }
    let sub = queries::find(&app.db, &id)
        .await?
        .ok_or(WebError::NotFound)?;
    let docs = queries::documents(&app.db, &sub_id).await?;
    let tz = app.config.timezone();
    let clerk_state = clerk_state(&app, &id).await?;
    let mut documents = String::new();
    for d in &docs {
        let lines = verdict::lines(d.report.as_ref(), tz);
        let worst = worst_class(&lines);
        let items: String = lines
            .iter()
            .map(|l| format!(r#"<li class="{}">{}</li>"#, l.class, h(&l.text)))
            .collect();
        let inside = if d.container.is_empty() {
            String::new()
        } else {
            format!(
                " <span class=\"opt\">(z archiwum {})</span>",
                h(&d.container)
            )
        };
        documents.push_str(&format!(
            r#"<div class="doc {worst}"><div class="name">{}{inside}</div><div>{} · SHA-256: <span class="hash">{}</span></div><ul class="verdicts">{items}</ul></div>"#,
            h(&d.name),
            h(&html::size(d.size)),
            h(&d.sha256),
        ));
    }
    let department = department_row(&app, &sub, "department");
    let pending = if matches!(sub.state, Pipeline::Dispatched | Pipeline::Quarantined) {
        String::new()
    } else {
        r#"<p class="message">Weryfikacja jeszcze trwa. Odśwież stronę za chwilę, by zobaczyć wynik.</p>"#.into()
    };
    let (limit, _) = super::inbox::time_limit(
        &app.config,
        sub.routing_rule.as_deref(),
        sub.department.as_deref(),
    );
    let deadline = super::inbox::deadline(sub.received_at, limit, tz);
    let next = match (&sub.state, sub.department.as_deref()) {
        (Pipeline::Dispatched, Some(c)) => format!(
            "<p>Pismo trafiło do: <strong>{}</strong>. Urząd załatwia sprawę bez zbędnej zwłoki \
             (art. 35 KPA); termin dla tej sprawy to {} od wpływu, czyli do <strong>{}</strong>. \
             W sprawie szczególnie skomplikowanej urząd może go przedłużyć i zawiadomi o tym.</p>",
            h(crate::dispatch::department_name(&app.config.routing, c)),
            h(&limit_words(limit)),
            deadline.format("%d.%m.%Y")
        ),
        (Pipeline::Quarantined, _) => "<p>Pisma nie udało się automatycznie odczytać. Pracownik \
             Biura Podawczego sprawdzi je i przekaże do właściwego wydziału. Pismo zostało \
             zarejestrowane i nic nie zginęło.</p>"
            .into(),
        _ => "<p>Po sprawdzeniu podpisów pismo trafi do właściwego wydziału.</p>".into(),
    };
    let base = format!("/p/{}/{}", html::url_encode(&id), html::url_encode(&code));
    let receipt_links = format!(
        r#"<p>Urzędowe poświadczenie przedłożenia z datą i godziną wpływu oraz skrótami SHA-256 dokumentów:</p><p class="downloads"><a id="receipt-pdf" href="{base}/potwierdzenie.pdf">Pobierz PDF do wydruku</a> <a id="receipt-xml" href="{base}/potwierdzenie.xml">Pobierz XML z pieczęcią urzędu</a></p>"#
    );
    let body = html::fill(
        RESULT,
        &[
            ("number", &h(&sub.registration_number)),
            (
                "received",
                &h(&crate::receipt::local_time(sub.received_at, tz)),
            ),
            ("code", &h(&code)),
            ("state", &h(state_text(sub.state, clerk_state.as_deref()))),
            ("department", &department),
            ("pending", &pending),
            ("documents", &documents),
            ("next", &next),
            ("receipt", &receipt_links),
        ],
    );
    let head = if pending.is_empty() {
        ""
    } else {
        r#"<meta http-equiv="refresh" content="5">"#
    };
    Ok(html_response(
        StatusCode::OK,
        page(&app, "Pismo przyjęte", head, &body),
    ))
}

/// A time limit in words for residents: „miesiąc”, „2 miesiące”, „14 dni”.
/// The department's name as a `<dt>`/`<dd>` pair (the `<dd>` with the element id `id`), once the
/// submission is dispatched; empty before.
fn department_row(app: &App, sub: &crate::model::Submission, id: &str) -> String {
    sub.department
        .as_deref()
        .filter(|_| sub.state == Pipeline::Dispatched)
        .map(|c| {
            format!(
                "<dt>Wydział</dt><dd id=\"{id}\">{}</dd>",
                h(crate::dispatch::department_name(&app.config.routing, c))
            )
        })
        .unwrap_or_default()
}

fn limit_words(limit: super::inbox::TimeLimit) -> String {
    use super::inbox::TimeLimit;
    match limit {
        TimeLimit::Months(1) => "miesiąc".into(),
        TimeLimit::Months(n) if (2..=4).contains(&(n % 10)) && !(12..=14).contains(&(n % 100)) => {
            format!("{n} miesiące")
        }
        TimeLimit::Months(n) => format!("{n} miesięcy"),
        TimeLimit::Days(1) => "1 dzień".into(),
        TimeLimit::Days(n) => format!("{n} dni"),
    }
}

fn worst_class(lines: &[verdict::Line]) -> &'static str {
    let rank = |c: &str| match c {
        "failed" => 4,
        "indeterminate" => 3,
        "unchecked" => 2,
        "plain" => 1,
        _ => 0,
    };
    lines
        .iter()
        .map(|l| l.class)
        .max_by_key(|c| rank(c))
        .unwrap_or("plain")
}

async fn clerk_state(app: &App, id: &str) -> Result<Option<String>, WebError> {
    let row = sqlx::query("SELECT clerk_state FROM submissions WHERE id = $1")
        .bind(id)
        .fetch_optional(app.db.pool())
        .await?;
    Ok(row
        .as_ref()
        .map(|r| crate::storage::db::text(r, "clerk_state"))
        .transpose()?)
}

async fn receipt_file(
    app: &Arc<App>,
    public: &Public,
    ip: std::net::IpAddr,
    id: &str,
    code: &str,
    pdf: bool,
) -> Result<Response, WebError> {
    if let Some(r) = public.limit(ip) {
        return Ok(r);
    }
    let Some(mut receipt) = public::receipt_with_code(&app.db, id, code).await? else {
        return Err(WebError::NotFound);
    };
    if receipt.issued.is_none() {
        submit::issue_receipt(app, &crate::model::SubmissionId(id.to_string()), code).await?;
        receipt = public::receipt_with_code(&app.db, id, code)
            .await?
            .ok_or(WebError::NotFound)?;
    }
    let issued = receipt.issued.ok_or(WebError::NotReady)?;
    let bytes = public::receipt_document(&app.db, &app.blobs, id, &issued, pdf).await?;
    let number = queries::find(&app.db, id)
        .await?
        .map(|s| s.registration_number.replace('/', "-"))
        .unwrap_or_else(|| "poswiadczenie".into());
    let (kind, ext) = if pdf {
        ("application/pdf", "pdf")
    } else {
        ("application/xml", "xml")
    };
    let name = format!("UPP-{number}.{ext}");
    Ok((
        [
            (header::CONTENT_TYPE, kind.to_string()),
            (
                header::CONTENT_DISPOSITION,
                super::inbox::content_disposition(&name),
            ),
        ],
        bytes,
    )
        .into_response())
}

async fn receipt_pdf(
    State(app): State<Arc<App>>,
    Extension(public): Extension<Public>,
    ClientIp(ip): ClientIp,
    Path((id, code)): Path<(String, String)>,
) -> Response {
    receipt_file(&app, &public, ip, &id, &code, true)
        .await
        .unwrap_or_else(public_error)
}

async fn receipt_xml(
    State(app): State<Arc<App>>,
    Extension(public): Extension<Public>,
    ClientIp(ip): ClientIp,
    Path((id, code)): Path<(String, String)>,
) -> Response {
    receipt_file(&app, &public, ip, &id, &code, false)
        .await
        .unwrap_or_else(public_error)
}

fn status_page(app: &App, csrf: &str, number: &str, error: Option<&str>, answer: &str) -> String {
    let error = error
        .map(|m| format!(r#"<p class="message error" role="alert">{}</p>"#, h(m)))
        .unwrap_or_default();
    let body = html::fill(
        STATUS,
        &[
            ("csrf", &h(csrf)),
            ("number", &h(number)),
            ("error", &error),
            ("answer", answer),
        ],
    );
    page(app, "Status pisma", "", &body)
}

async fn status_form(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let (token, new) = form_token(&headers);
    let resp = html_response(StatusCode::OK, status_page(&app, &token, "", None, ""));
    with_form_cookie(&app, resp, &token, new)
}

/// The status lookup form.
#[derive(Debug, serde::Deserialize)]
pub struct StatusForm {
    csrf: String,
    number: String,
    code: String,
}

/// Answers with the state and the department only, and only for the right number and code
/// (a wrong pair and an unknown number get the same answer).
async fn status_post(
    state: State<Arc<App>>,
    public: Extension<Public>,
    ip: ClientIp,
    headers: HeaderMap,
    form: Form<StatusForm>,
) -> Response {
    status_post_inner(state, public, ip, headers, form)
        .await
        .unwrap_or_else(public_error)
}

async fn status_post_inner(
    State(app): State<Arc<App>>,
    Extension(public): Extension<Public>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(form): Form<StatusForm>,
) -> Result<Response, WebError> {
    if let Some(r) = public.limit(ip) {
        return Ok(r);
    }
    let (token, new) = form_token(&headers);
    let cookie_ok = super::auth::cookie(&headers, FORM_COOKIE)
        .is_some_and(|c| super::auth::same_token(c, form.csrf.trim()));
    if !cookie_ok {
        let resp = html_response(
            StatusCode::FORBIDDEN,
            status_page(
                &app,
                &token,
                &form.number,
                Some(&SubmitError::Csrf.to_string()),
                "",
            ),
        );
        return Ok(with_form_cookie(&app, resp, &token, new));
    }
    let found = public::lookup(&app.db, &form.number, &form.code).await?;
    let Some(id) = found else {
        let resp = html_response(
            StatusCode::NOT_FOUND,
            status_page(
                &app,
                &token,
                &form.number,
                Some("Nie znaleziono pisma o tym numerze i kodzie dostępu. Sprawdź oba na poświadczeniu."),
                "",
            ),
        );
        return Ok(with_form_cookie(&app, resp, &token, new));
    };
    let sub = queries::find(&app.db, &id)
        .await?
        .ok_or(WebError::NotFound)?;
    let clerk = clerk_state(&app, &id).await?;
    let department = department_row(&app, &sub, "status-department");
    let answer = format!(
        r#"<dl class="facts answer"><dt>Numer</dt><dd>{}</dd><dt>Stan</dt><dd id="status-state">{}</dd>{department}</dl>"#,
        h(&sub.registration_number),
        h(state_text(sub.state, clerk.as_deref()))
    );
    let resp = html_response(
        StatusCode::OK,
        status_page(&app, &token, &form.number, None, &answer),
    );
    Ok(with_form_cookie(&app, resp, &token, new))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::inbox::TimeLimit;

    #[test]
    fn time_limits_read_as_polish_words() {
        assert_eq!(limit_words(TimeLimit::Months(1)), "miesiąc");
        assert_eq!(limit_words(TimeLimit::Months(2)), "2 miesiące");
        assert_eq!(limit_words(TimeLimit::Months(5)), "5 miesięcy");
        assert_eq!(limit_words(TimeLimit::Months(12)), "12 miesięcy");
        assert_eq!(limit_words(TimeLimit::Days(14)), "14 dni");
    }
}
