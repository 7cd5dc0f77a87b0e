//! The web side: `/healthz`; the residents' upload page, result and status lookup ([`public`]);
//! the JSON API ([`api`]); the department inbox ([`pages`]).

use crate::app::App;
use crate::storage::work;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use std::sync::Arc;

pub mod admin;
pub mod api;
pub mod auth;
pub mod error;
pub mod html;
pub mod inbox;
pub mod multipart;
pub mod pages;
pub mod public;
pub mod ratelimit;
pub mod signature;
pub mod stats;
pub mod submit;
pub mod verdict;

/// The router of the whole web side.
pub fn router(app: Arc<App>) -> Router {
    let public = public::Public::new(&app);
    router_with(app, public)
}

/// [`router`] with a given verification queue and rate limiter (tests hold places in the queue).
pub fn router_with(app: Arc<App>, public: public::Public) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .with_state(app.clone())
        .merge(public::router(app.clone(), public.clone()))
        .merge(api::router(app.clone(), public))
        .merge(pages::router(app))
}

/// Health: the database answers, how many submissions are in each state, and per mailbox the
/// last successful poll, the backlog, oversized, unmarked and quarantined messages, and the outbox
/// queue. `status` is `degraded` when a mailbox's last poll failed or outgoing mail was given up.
async fn healthz(State(app): State<Arc<App>>) -> impl IntoResponse {
    match health(&app).await {
        Ok(body) => (StatusCode::OK, Json(body)),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unavailable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({ "status": "error", "error": "database unavailable" })),
            )
        }
    }
}

async fn health(app: &App) -> Result<serde_json::Value, crate::storage::DbError> {
    let counts = work::counts_by_state(&app.db).await?;
    let states: serde_json::Map<String, serde_json::Value> =
        counts.into_iter().map(|(s, n)| (s, n.into())).collect();
    let mailboxes = crate::ingest::mailbox::store::health(&app.db).await?;
    let outbox: serde_json::Map<String, serde_json::Value> = crate::outbox::store::counts(&app.db)
        .await?
        .into_iter()
        .map(|(s, n)| (s, n.into()))
        .collect();
    let degraded = mailboxes.iter().any(|m| m.last_error.is_some())
        || outbox
            .get("failed")
            .and_then(serde_json::Value::as_i64)
            .unwrap_or(0)
            > 0;
    Ok(serde_json::json!({
        "status": if degraded { "degraded" } else { "ok" },
        "submissions": states,
        "mailboxes": mailboxes,
        "outbox": outbox,
    }))
}
