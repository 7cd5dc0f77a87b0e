//! The web error: 4xx answers get a helpful Polish page, 5xx an opaque page with a request id;
//! the error chain is logged once, here, at the edge.

use super::html;
use crate::storage::accounts::AccountError;
use crate::storage::inbox::InboxError;
use crate::storage::DbError;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

/// Errors of the web handlers.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// Not logged in (or the session ended): go to the login page.
    #[error("not logged in")]
    LoginRequired,
    /// No such thing, or not visible to this user (deliberately the same answer).
    #[error("not found")]
    NotFound,
    /// The form's CSRF token is missing or wrong.
    #[error("missing or wrong csrf token")]
    Csrf,
    /// The role may not do this.
    #[error("forbidden for this role")]
    Forbidden,
    /// A bad request; the message (Polish) is shown to the user.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// The submission is still in the pipeline.
    #[error("submission not dispatched yet")]
    NotReady,
    /// The database.
    #[error(transparent)]
    Db(#[from] DbError),
    /// The blob store.
    #[error(transparent)]
    Blob(#[from] crate::storage::blobs::BlobError),
    /// Anything else on the server side.
    #[error("internal: {0}")]
    Internal(String),
}

impl From<InboxError> for WebError {
    fn from(e: InboxError) -> Self {
        match e {
            InboxError::Db(e) => WebError::Db(e),
            InboxError::NotFound => WebError::NotFound,
            InboxError::Invalid(m) => WebError::BadRequest(m),
            InboxError::NotReady => WebError::NotReady,
        }
    }
}

impl From<AccountError> for WebError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::Db(e) => WebError::Db(e),
            AccountError::Hash(m) => WebError::Internal(m),
            other => WebError::BadRequest(other.to_string()),
        }
    }
}

impl From<crate::storage::public::ReceiptDocumentError> for WebError {
    fn from(e: crate::storage::public::ReceiptDocumentError) -> Self {
        match e {
            crate::storage::public::ReceiptDocumentError::Db(e) => WebError::Db(e),
            crate::storage::public::ReceiptDocumentError::Blob(e) => WebError::Blob(e),
        }
    }
}

impl From<sqlx::Error> for WebError {
    fn from(e: sqlx::Error) -> Self {
        WebError::Db(DbError::Sql(e))
    }
}

fn error_page(status: StatusCode, heading: &str, message: &str) -> Response {
    let body = html::fill(
        html::ERROR,
        &[
            ("heading", &html::h(heading)),
            ("message", &html::h(message)),
        ],
    );
    let page = html::page(heading, "", &body);
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        page,
    )
        .into_response()
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        match self {
            WebError::LoginRequired => Redirect::to("/login").into_response(),
            WebError::NotFound => error_page(
                StatusCode::NOT_FOUND,
                "Nie znaleziono",
                "Nie ma takiego pisma lub dokumentu albo nie należy ono do Twojego wydziału.",
            ),
            WebError::Csrf => error_page(
                StatusCode::FORBIDDEN,
                "Formularz wygasł",
                "Brak ważnego tokenu formularza (CSRF). Odśwież stronę i spróbuj ponownie.",
            ),
            WebError::Forbidden => error_page(
                StatusCode::FORBIDDEN,
                "Brak uprawnień",
                "Twoja rola nie pozwala na tę czynność.",
            ),
            WebError::BadRequest(m) => {
                error_page(StatusCode::BAD_REQUEST, "Nieprawidłowe żądanie", &m)
            }
            WebError::NotReady => error_page(
                StatusCode::CONFLICT,
                "Pismo w przetwarzaniu",
                "Pismo nie zostało jeszcze przekazane do wydziału. Spróbuj za chwilę.",
            ),
            WebError::Db(_) | WebError::Blob(_) | WebError::Internal(_) => {
                let request_id = uuid::Uuid::now_v7();
                tracing::error!(%request_id, error = %self, "request failed");
                error_page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Błąd serwera",
                    &format!(
                        "Coś poszło nie tak po stronie serwera. Identyfikator zgłoszenia: {request_id}"
                    ),
                )
            }
        }
    }
}
