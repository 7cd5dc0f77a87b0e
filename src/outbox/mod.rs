//! The outbox: acknowledgements to senders and notifications to departments. Rows are queued in
//! the transaction that dispatches a submission ([`store::enqueue_for_dispatch`]); a worker claims
//! due rows, composes each once ([`compose`]: or suppresses it, for loops, the per-sender rate
//! limit, or a switched-off kind), sends it through SMTP ([`smtp`]) and records the outcome,
//! retrying with doubling waits while the server is down. Sent at least once, recorded once.

pub mod compose;
pub mod smtp;
pub mod store;

use crate::app::App;
use crate::storage::{queries, DbError};
use chrono::{DateTime, Utc};
use compose::Compose;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Errors that stop a pass of the outbox worker (per-message failures are recorded on the row).
#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    /// The database.
    #[error(transparent)]
    Db(#[from] DbError),
    /// The SMTP set-up (CA file).
    #[error(transparent)]
    Smtp(#[from] smtp::SmtpError),
}

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SendStats {
    /// Delivered to the SMTP server.
    pub sent: usize,
    /// Not sent on purpose (loops, rate limit, switched off).
    pub suppressed: usize,
    /// Failed this time (retried later) or given up.
    pub failed: usize,
}

/// Sends every due message once. Needs `[smtp] enabled = true`.
pub async fn send_due(app: &Arc<App>, owner: &str) -> Result<SendStats, OutboxError> {
    let transport = smtp::transport(&app.config.smtp)?;
    let now = crate::clock::now();
    let hold = chrono::Duration::seconds(to_i64(app.config.smtp.timeout_secs.saturating_mul(4)));
    let mut stats = SendStats::default();
    for q in store::claim(&app.db, owner, now, now + hold, 50).await? {
        let message = if q.message.is_empty() {
            match compose_row(app, &q, now).await? {
                Compose::Send(m) => {
                    store::save_message(&app.db, &q.id, &m).await?;
                    m
                }
                Compose::Suppress(why) => {
                    tracing::info!(outbox_id = %q.id, kind = %q.kind, reason = %why, "outgoing mail suppressed");
                    store::finish(&app.db, &q.id, "suppressed", Some(&why), now).await?;
                    stats.suppressed += 1;
                    continue;
                }
            }
        } else {
            q.message.clone()
        };
        let cfg = &app.config.smtp;
        match smtp::send(
            &transport,
            &cfg.from,
            &q.recipient,
            message.as_bytes(),
            cfg.timeout_secs,
        )
        .await
        {
            Ok(()) => {
                store::finish(&app.db, &q.id, "sent", None, crate::clock::now()).await?;
                tracing::info!(outbox_id = %q.id, kind = %q.kind, submission_id = %q.submission_id, "mail sent");
                stats.sent += 1;
            }
            Err(e) => {
                stats.failed += 1;
                failed(app, &q, &e.to_string()).await?;
            }
        }
    }
    Ok(stats)
}

async fn failed(app: &App, q: &store::Queued, error: &str) -> Result<(), DbError> {
    let cfg = &app.config.outbox;
    let now = crate::clock::now();
    if q.attempts + 1 >= cfg.max_attempts {
        tracing::error!(outbox_id = %q.id, error = %error, "outgoing mail given up");
        return store::finish(&app.db, &q.id, "failed", Some(error), now).await;
    }
    let wait = retry_wait(cfg.retry_base_secs, cfg.retry_max_secs, q.attempts);
    tracing::warn!(outbox_id = %q.id, error = %error, retry_in_secs = wait, "outgoing mail failed");
    let next = now + chrono::Duration::seconds(to_i64(wait));
    store::retry_later(&app.db, &q.id, error, next).await
}

/// The wait before retry number `attempts + 1`: base × 2^attempts, at most `max`.
pub fn retry_wait(base: u64, max: u64, attempts: i64) -> u64 {
    let shift = u32::try_from(attempts.clamp(0, 30)).unwrap_or(30);
    base.max(1).saturating_mul(1u64 << shift).min(max.max(1))
}

async fn compose_row(
    app: &App,
    q: &store::Queued,
    now: DateTime<Utc>,
) -> Result<Compose, OutboxError> {
    let cfg = &app.config.outbox;
    let Some(s) = queries::find(&app.db, &q.submission_id).await? else {
        return Ok(Compose::Suppress("submission not found".into()));
    };
    let docs = queries::documents(&app.db, &s.id).await?;
    let built = if q.kind == "receipt" {
        if !cfg.acknowledge_email {
            return Ok(Compose::Suppress(
                "acknowledgements are switched off".into(),
            ));
        }
        let since = now - chrono::Duration::hours(1);
        if store::acks_to_since(&app.db, &q.recipient, since).await? >= cfg.max_per_sender_per_hour
        {
            return Ok(Compose::Suppress("rate limit for this address".into()));
        }
        let Some(issued) = crate::storage::public::receipt(&app.db, &s.id.0)
            .await?
            .and_then(|r| r.issued)
        else {
            return Ok(Compose::Suppress("no receipt issued".into()));
        };
        let document = |pdf| {
            crate::storage::public::receipt_document(&app.db, &app.blobs, &s.id.0, &issued, pdf)
        };
        match (document(true).await, document(false).await) {
            (Ok(pdf), Ok(xml)) => compose::receipt(app, &q.id, &s, &docs, pdf, xml),
            (Err(e), _) | (_, Err(e)) => {
                return Ok(Compose::Suppress(format!("receipt unreadable: {e}")))
            }
        }
    } else if q.kind == "ack" {
        if !cfg.acknowledge_email {
            return Ok(Compose::Suppress(
                "acknowledgements are switched off".into(),
            ));
        }
        let raw = app.blobs.get_verified(&s.raw_sha256).unwrap_or_default();
        if let Some(why) = compose::loop_reason(&q.recipient, &raw) {
            return Ok(Compose::Suppress(why));
        }
        let since = now - chrono::Duration::hours(1);
        if store::acks_to_since(&app.db, &q.recipient, since).await? >= cfg.max_per_sender_per_hour
        {
            return Ok(Compose::Suppress("rate limit for this sender".into()));
        }
        compose::acknowledgement(app, &q.id, &s, &docs)
    } else {
        if !cfg.notify_departments {
            return Ok(Compose::Suppress("notifications are switched off".into()));
        }
        compose::notification(app, &q.id, &q.recipient, &s, &docs)
    };
    Ok(match built {
        Ok(m) => Compose::Send(m),
        Err(e) => Compose::Suppress(e.to_string()),
    })
}

/// Sends due mail until `shutdown` turns true (only with `[smtp] enabled = true`).
pub async fn run_forever(app: Arc<App>, mut shutdown: watch::Receiver<bool>) {
    if !app.config.smtp.enabled {
        return;
    }
    let owner = crate::ingest::mailbox::owner_name();
    let idle = Duration::from_millis(app.config.outbox.idle_poll_ms.max(10));
    while !*shutdown.borrow() {
        match send_due(&app, &owner).await {
            Ok(s) if s.sent + s.suppressed + s.failed > 0 => continue,
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "outbox pass failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(idle) => {}
            _ = shutdown.changed() => {}
        }
    }
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX / 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_wait_twice_as_long_each_time_up_to_the_maximum() {
        let waits: Vec<u64> = (0..6).map(|a| retry_wait(30, 300, a)).collect();
        assert_eq!(waits, vec![30, 60, 120, 240, 300, 300]);
        assert_eq!(retry_wait(30, 300, 1_000), 300);
    }
}
