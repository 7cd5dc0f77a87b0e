//! The routes of the logged-in side (inbox, login, administration), with the security headers
//! every page gets: a Content-Security-Policy without inline script or style, no framing (but
//! for the sandboxed PDF preview, framed by the detail page), no sniffing, no referrer, no
//! caching of pages that show personal data; and the per-client limit of login attempts.

use super::ratelimit::{client_ip, RateLimiter};
use super::{admin, auth, html, inbox, stats};
use crate::app::App;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use std::sync::Arc;
use std::time::Instant;

/// The policy: only this origin's stylesheet; no script at all; forms post only here.
pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
                       frame-ancestors 'none'; base-uri 'none'";

/// The per-client limit of login attempts (`[web] login_rate_*`), on top of the per-account
/// lockout: one limiter per router, shared by the login route only.
#[derive(Clone)]
struct LoginLimit {
    limiter: Arc<RateLimiter>,
    trust_forwarded_for: bool,
}

/// The inbox, login and administration routes.
pub fn router(app: Arc<App>) -> Router {
    let web = &app.config.web;
    let login_limit = LoginLimit {
        limiter: Arc::new(RateLimiter::new(
            web.login_rate_per_minute,
            web.login_rate_burst,
        )),
        trust_forwarded_for: web.trust_forwarded_for,
    };
    Router::new()
        .route(
            "/login",
            get(auth::login_form).post(auth::login).route_layer(
                axum::middleware::from_fn_with_state(login_limit, limit_logins),
            ),
        )
        .route("/logout", post(auth::logout))
        .route("/inbox", get(inbox::list))
        .route("/inbox/{id}", get(inbox::detail))
        .route("/inbox/{id}/original", get(inbox::original))
        .route("/inbox/{id}/documents/{doc}", get(inbox::document))
        .route("/inbox/{id}/{action}", post(inbox::act))
        .route("/admin/users", get(admin::users).post(admin::add_user))
        .route("/admin/users/{login}/unlock", post(admin::unlock))
        .route("/stats", get(stats::page))
        .route("/stats.csv", get(stats::csv))
        .route("/static/style.css", get(style))
        .fallback(|| async { super::error::WebError::NotFound })
        .layer(axum::middleware::map_response(security_headers))
        .with_state(app)
}

/// Counts each login attempt (a POST; showing the form is free) against the client's bucket;
/// over the limit the attempt is refused before the password is looked at: 429 with
/// `Retry-After` and a Polish page.
async fn limit_logins(State(limit): State<LoginLimit>, req: Request, next: Next) -> Response {
    if req.method() != Method::POST {
        return next.run(req).await;
    }
    let ip = client_ip(&req, limit.trust_forwarded_for);
    match limit.limiter.check(ip, Instant::now()) {
        Ok(()) => next.run(req).await,
        Err(wait) => {
            let secs = wait.as_secs().max(1);
            tracing::warn!(client = %ip, retry_after = secs, "login attempts over the rate limit");
            let body = html::fill(
                html::ERROR,
                &[
                    ("heading", "Zbyt wiele prób logowania"),
                    (
                        "message",
                        &html::h(&format!(
                            "Z tego adresu było zbyt wiele prób logowania w krótkim czasie. \
                             Spróbuj ponownie za {secs} s."
                        )),
                    ),
                ],
            );
            (
                StatusCode::TOO_MANY_REQUESTS,
                [
                    (header::RETRY_AFTER, secs.to_string()),
                    (header::CONTENT_TYPE, "text/html; charset=utf-8".to_string()),
                ],
                html::page("Zbyt wiele prób logowania", "", &body),
            )
                .into_response()
        }
    }
}

async fn style() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        html::STYLE,
    )
}

async fn security_headers(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    // A handler may narrow or widen the policy for its own response (the detail page framing its
    // PDF previews, the sandboxed preview itself); everything else gets the common one.
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if !h.contains_key(header::X_FRAME_OPTIONS) {
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}
