//! The JSON API for other systems (DESIGN.md "Interfaces"): `POST /api/v1/submissions`
//! (multipart: `file` parts, optional `email`, `subject`, `message`) → `201` with the registration
//! and every document's verification report; `GET /api/v1/submissions/{id}`; the receipt as PDF
//! and sealed XML; the OpenAPI document at `/api/v1/openapi.json`. Every call but the document
//! needs `Authorization: Bearer <token>` (`podawcza token add NAME`), and a token sees only the
//! submissions it made. Errors are RFC 9457 problem details.

use super::error::WebError;
use super::multipart::Multipart;
use super::public::Public;
use super::ratelimit::ClientIp;
use super::submit::{self, SubmitError};
use crate::app::App;
use crate::ingest::upload;
use crate::model::{Channel, SubmissionId};
use crate::storage::public::{self as records, ApiToken};
use crate::storage::queries;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use std::sync::Arc;

/// The OpenAPI 3.1 document describing these routes (tests walk it against the handlers).
pub const OPENAPI: &str = include_str!("../../templates/openapi.json");

/// The API routes.
pub fn router(app: Arc<App>, public: Public) -> Router {
    let api = Router::new()
        .route("/submissions", post(create))
        .route("/submissions/{id}", get(show))
        .route("/submissions/{id}/receipt.pdf", get(receipt_pdf))
        .route("/submissions/{id}/receipt.xml", get(receipt_xml))
        .route("/openapi.json", get(openapi))
        .fallback(|| async {
            problem(StatusCode::NOT_FOUND, "not-found", "Nie ma takiego zasobu.")
        })
        .layer(Extension(public))
        .layer(axum::middleware::map_response(api_headers))
        .with_state(app);
    Router::new().nest("/api/v1", api)
}

async fn api_headers(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

/// An RFC 9457 problem response.
pub fn problem(status: StatusCode, code: &str, detail: &str) -> Response {
    let body = serde_json::json!({
        "type": format!("urn:podawcza:problem:{code}"),
        "title": status.canonical_reason().unwrap_or("Error"),
        "status": status.as_u16(),
        "detail": detail,
    });
    (
        status,
        [(header::CONTENT_TYPE, "application/problem+json")],
        body.to_string(),
    )
        .into_response()
}

fn web_problem(e: WebError) -> Response {
    match e {
        WebError::NotFound => problem(
            StatusCode::NOT_FOUND,
            "not-found",
            "Nie ma takiego zgłoszenia.",
        ),
        WebError::NotReady => problem(
            StatusCode::CONFLICT,
            "not-ready",
            "Poświadczenie nie jest jeszcze gotowe; spróbuj za chwilę.",
        ),
        other => {
            let request_id = uuid::Uuid::now_v7();
            tracing::error!(%request_id, error = %other, "api request failed");
            problem(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                &format!("Błąd serwera; identyfikator zgłoszenia {request_id}."),
            )
        }
    }
}

fn with_retry_after(mut r: Response, secs: u64) -> Response {
    if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

/// The token of the request, or the 401 answer.
async fn authenticate(app: &App, headers: &HeaderMap) -> Result<ApiToken, Response> {
    let unauthorized = || {
        let mut r = problem(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Brak ważnego tokenu API (nagłówek Authorization: Bearer …).",
        );
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"podawcza\""),
        );
        r
    };
    let Some(secret) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return Err(unauthorized());
    };
    match records::find_token(&app.db, secret).await {
        Ok(Some(t)) => Ok(t),
        Ok(None) => Err(unauthorized()),
        Err(e) => Err(web_problem(e.into())),
    }
}

async fn create(
    State(app): State<Arc<App>>,
    Extension(public): Extension<Public>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    if let Some(r) = limited(&public, ip) {
        return r;
    }
    let token = match authenticate(&app, &headers).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let too_large = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|n| n > app.config.upload.max_request_bytes);
    if too_large {
        let e = upload::UploadError::RequestTooLarge {
            limit: app.config.upload.max_request_bytes,
        };
        return problem(StatusCode::PAYLOAD_TOO_LARGE, e.code(), &e.to_string());
    }
    let Some(pass) = public.gate.try_enter() else {
        return with_retry_after(
            problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "Kolejka weryfikacji jest pełna; nic nie zapisano. Ponów żądanie później.",
            ),
            30,
        );
    };
    let multipart = match Multipart::new(&headers, body, super::public::body_limit(&app)) {
        Ok(m) => m,
        Err(e) => return problem(e.status(), "malformed", &e.to_string()),
    };
    let (fields, files) = match submit::read(&app, multipart, None).await {
        Ok(x) => x,
        Err(SubmitError::Upload(e)) => {
            let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
            if e.status() >= 500 {
                tracing::error!(error = ?e, "api upload failed");
            }
            return problem(status, e.code(), &e.to_string());
        }
        Err(SubmitError::Csrf) => {
            return problem(
                StatusCode::FORBIDDEN,
                "csrf",
                &SubmitError::Csrf.to_string(),
            )
        }
    };
    let code = records::new_access_code();
    let taken = match submit::accept(
        &app,
        &pass,
        Channel::Api,
        &fields,
        &files,
        crate::clock::now(),
        Some(&token.id),
        &code,
    )
    .await
    {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(error = ?e, "registering an api submission failed");
            return problem(StatusCode::INTERNAL_SERVER_ERROR, e.code(), &e.to_string());
        }
    };
    drop(pass);
    let body = match &taken.view {
        Some(v) => Ok(submission_json_of(
            &app,
            &v.submission,
            &v.documents,
            v.receipt_issued_at.clone(),
        )),
        None => submission_json(&app, &taken.id).await,
    };
    match body {
        Ok(mut body) => {
            body["access_code"] = code.into();
            let location = format!("/api/v1/submissions/{}", taken.id.0);
            let mut r = (StatusCode::CREATED, Json(body)).into_response();
            if let Ok(v) = HeaderValue::from_str(&location) {
                r.headers_mut().insert(header::LOCATION, v);
            }
            r
        }
        Err(e) => web_problem(e),
    }
}

/// The submission as the API shows it: registration, state, department, every document with its
/// report (DESIGN.md's contract) and a plain-Polish verdict, and the receipt links.
pub async fn submission_json(app: &App, id: &SubmissionId) -> Result<serde_json::Value, WebError> {
    let sub = queries::find(&app.db, &id.0)
        .await?
        .ok_or(WebError::NotFound)?;
    let docs = queries::documents(&app.db, id).await?;
    let receipt = records::receipt(&app.db, &id.0).await?;
    Ok(submission_json_of(
        app,
        &sub,
        &docs,
        receipt.and_then(|r| r.issued).map(|i| i.issued_at),
    ))
}

/// [`submission_json`] of a submission at hand: its row, its documents and when its receipt was
/// issued (as stored).
pub fn submission_json_of(
    app: &App,
    sub: &crate::model::Submission,
    docs: &[crate::model::Document],
    receipt_issued_at: Option<String>,
) -> serde_json::Value {
    let tz = app.config.timezone();
    let department = sub
        .department
        .as_deref()
        .filter(|_| sub.state == crate::model::State::Dispatched)
        .map(|c| serde_json::json!({"code": c, "name": crate::dispatch::department_name(&app.config.routing, c)}));
    let documents: Vec<serde_json::Value> = docs
        .iter()
        .map(|d| {
            serde_json::json!({
                "id": d.id,
                "name": d.name,
                "sha256": d.sha256,
                "size": d.size,
                "media_type": d.media_type,
                "container": d.container,
                "role": d.role,
                "report": d.report,
                "verdict": super::verdict::text(d.report.as_ref(), tz),
            })
        })
        .collect();
    let base = submit::public_link(app, &format!("/api/v1/submissions/{}", sub.id.0));
    serde_json::json!({
        "id": sub.id.0,
        "registration_number": sub.registration_number,
        "channel": sub.channel.as_str(),
        "received_at": crate::model::format_time(&sub.received_at),
        "state": sub.state.as_str(),
        "department": department,
        "signed": sub.signed,
        "documents": documents,
        "receipt_issued_at": receipt_issued_at,
        "receipt_url": format!("{base}/receipt.pdf"),
        "receipt_xml_url": format!("{base}/receipt.xml"),
        "status_url": submit::public_link(app, "/status"),
    })
}

/// The submission `id` if `token` made it.
async fn owned(app: &App, token: &ApiToken, id: &str) -> Result<SubmissionId, WebError> {
    if records::submitted_with(&app.db, id, &token.id).await? {
        Ok(SubmissionId(id.to_string()))
    } else {
        Err(WebError::NotFound)
    }
}

async fn show(
    State(app): State<Arc<App>>,
    Extension(public): Extension<Public>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Some(r) = limited(&public, ip) {
        return r;
    }
    let token = match authenticate(&app, &headers).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let result = async {
        let id = owned(&app, &token, &id).await?;
        submission_json(&app, &id).await
    }
    .await;
    match result {
        Ok(body) => Json(body).into_response(),
        Err(e) => web_problem(e),
    }
}

fn limited(public: &Public, ip: std::net::IpAddr) -> Option<Response> {
    public
        .limiter
        .check(ip, std::time::Instant::now())
        .err()
        .map(|wait| {
            let secs = wait.as_secs().max(1);
            with_retry_after(
                problem(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate-limited",
                    &format!("Za dużo żądań z tego adresu; spróbuj za {secs} s."),
                ),
                secs,
            )
        })
}

async fn receipt(app: &Arc<App>, headers: &HeaderMap, id: &str, pdf: bool) -> Response {
    let token = match authenticate(app, headers).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let result = async {
        let id = owned(app, &token, id).await?;
        let issued = records::receipt(&app.db, &id.0)
            .await?
            .and_then(|r| r.issued)
            .ok_or(WebError::NotReady)?;
        Ok::<_, WebError>(
            records::receipt_document(&app.db, &app.blobs, &id.0, &issued, pdf).await?,
        )
    }
    .await;
    match result {
        Ok(bytes) => {
            let kind = if pdf {
                "application/pdf"
            } else {
                "application/xml"
            };
            ([(header::CONTENT_TYPE, kind)], bytes).into_response()
        }
        Err(e) => web_problem(e),
    }
}

async fn receipt_pdf(
    State(app): State<Arc<App>>,
    Extension(public): Extension<Public>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Some(r) = limited(&public, ip) {
        return r;
    }
    receipt(&app, &headers, &id, true).await
}

async fn receipt_xml(
    State(app): State<Arc<App>>,
    Extension(public): Extension<Public>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Some(r) = limited(&public, ip) {
        return r;
    }
    receipt(&app, &headers, &id, false).await
}

async fn openapi() -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        OPENAPI,
    )
        .into_response()
}
