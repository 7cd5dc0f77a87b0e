//! The web side: `/healthz`, and the department inbox (issue 8: [`pages`]); the upload page and
//! the API come with issue 7.

use crate::app::App;
use crate::storage::work;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use std::sync::Arc;

pub mod admin;
pub mod auth;
pub mod error;
pub mod html;
pub mod inbox;
pub mod pages;
pub mod signature;
pub mod stats;

/// The router of the whole web side.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .with_state(app.clone())
        .merge(pages::router(app))
}

/// Health: the database answers, and how many submissions are in each state.
async fn healthz(State(app): State<Arc<App>>) -> impl IntoResponse {
    match work::counts_by_state(&app.db).await {
        Ok(counts) => {
            let states: serde_json::Map<String, serde_json::Value> =
                counts.into_iter().map(|(s, n)| (s, n.into())).collect();
            (
                StatusCode::OK,
                Json(serde_json::json!({ "status": "ok", "submissions": states })),
            )
        }
        Err(e) => {
            tracing::error!(error = %e, "health check: database unavailable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({ "status": "error", "error": "database unavailable" })),
            )
        }
    }
}
