//! The routes of the logged-in side (inbox, login, administration), with the security headers
//! every page gets: a Content-Security-Policy without inline script or style, no framing, no
//! sniffing, no referrer, no caching of pages that show personal data.

use super::{admin, auth, html, inbox, stats};
use crate::app::App;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use std::sync::Arc;

/// The policy: only this origin's stylesheet; no script at all; forms post only here.
pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
                       frame-ancestors 'none'; base-uri 'none'";

/// The inbox, login and administration routes.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/login", get(auth::login_form).post(auth::login))
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
