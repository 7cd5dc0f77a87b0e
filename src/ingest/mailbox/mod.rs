//! The mailbox channel: polls the office's IMAP mailboxes and registers every message, storing
//! first and marking after ([`poll`]), one process per mailbox at a time (a lease row in the
//! database, [`store`]), with timeouts on every step and backoff while the server or the database
//! is down. `podawcza poll [--once]` and `serve` run it.

pub mod connect;
pub mod poll;
pub mod store;

use crate::app::App;
use crate::config::MailboxConfig;
use poll::{FolderStats, Pass};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Errors of the mailbox channel. Each one ends the current poll; the loop retries with backoff.
#[derive(Debug, thiserror::Error)]
pub enum MailboxError {
    /// The server refused or broke a step.
    #[error("imap {step}: {message}")]
    Server {
        /// The step (connect, tls, login, select, search, fetch, store, move, expunge).
        step: &'static str,
        /// The server's or the library's message.
        message: String,
    },
    /// A step took longer than `timeout_secs`.
    #[error("imap {step}: no answer within {secs} s")]
    Timeout {
        /// The step.
        step: &'static str,
        /// The limit.
        secs: u64,
    },
    /// The server said something the poller cannot work with.
    #[error("imap protocol: {0}")]
    Protocol(&'static str),
    /// The TLS set-up (CA file, connector).
    #[error("tls: {0}")]
    Tls(String),
    /// Another process took the mailbox over (our lease ran out).
    #[error("the lease on the mailbox was lost to another process")]
    LeaseLost,
    /// Another process holds the mailbox and did not let go in time.
    #[error("mailbox {0} is being polled by another process")]
    Busy(String),
    /// The database.
    #[error(transparent)]
    Db(#[from] crate::storage::DbError),
    /// Registering.
    #[error(transparent)]
    Ingest(#[from] crate::ingest::IngestError),
}

/// A name for this process's leases: host, pid and a random part.
pub fn owner_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    format!(
        "{}:{}:{}",
        host.trim(),
        std::process::id(),
        uuid::Uuid::now_v7().simple()
    )
}

/// Polls every enabled mailbox once, waiting for a lease another process holds (up to twice the
/// lease time). Returns the totals.
pub async fn poll_once(app: &Arc<App>) -> Result<FolderStats, MailboxError> {
    let owner = owner_name();
    let mut total = FolderStats::default();
    for cfg in app.config.mailbox.enabled() {
        let wait = Duration::from_secs(cfg.lease_secs.saturating_mul(2).saturating_add(5));
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let outcome = cycle(app, cfg, &owner, None).await;
            if !matches!(outcome, Ok(None)) {
                // One pass only: let the next poller (or `serve`) have the mailbox at once.
                store::release_lease(&app.db, &cfg.name, &owner).await?;
            }
            match outcome? {
                Some(s) => {
                    add(&mut total, s);
                    break;
                }
                None if tokio::time::Instant::now() > deadline => {
                    return Err(MailboxError::Busy(cfg.name.clone()))
                }
                None => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    }
    Ok(total)
}

/// Polls every enabled mailbox until `shutdown` turns true: one task per mailbox.
pub async fn run_forever(app: Arc<App>, shutdown: watch::Receiver<bool>) {
    let owner = owner_name();
    let mut tasks = tokio::task::JoinSet::new();
    for cfg in app.config.mailbox.enabled() {
        let (app, cfg, owner, rx) = (app.clone(), cfg.clone(), owner.clone(), shutdown.clone());
        tasks.spawn(async move { run_mailbox(app, cfg, owner, rx).await });
    }
    while tasks.join_next().await.is_some() {}
}

async fn run_mailbox(
    app: Arc<App>,
    cfg: MailboxConfig,
    owner: String,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut backoff = Backoff::new(cfg.max_backoff_secs);
    let interval = Duration::from_secs(cfg.poll_interval_secs.max(1));
    while !*shutdown.borrow() {
        let wait = match cycle(&app, &cfg, &owner, Some((interval, shutdown.clone()))).await {
            Ok(Some(_)) => {
                backoff.reset();
                // With IDLE the cycle has waited for news already.
                if uses_idle(&cfg) {
                    Duration::from_millis(50)
                } else {
                    interval
                }
            }
            // Another process polls this mailbox: look again after a while, it may die.
            Ok(None) => interval.min(Duration::from_secs(cfg.lease_secs.max(1))),
            Err(e) => {
                let d = backoff.next_wait();
                tracing::warn!(mailbox = %cfg.name, error = %e, retry_in_secs = d.as_secs(), "mailbox poll failed");
                let _ = store::record_poll(
                    &app.db,
                    &cfg.name,
                    crate::clock::now(),
                    Err(&e.to_string()),
                )
                .await;
                d
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.changed() => {}
        }
    }
    let _ = store::release_lease(&app.db, &cfg.name, &owner).await;
}

/// One poll of one mailbox: the lease, a session, every folder; then, with `idle_for`, wait for
/// news (IDLE) on the last folder. `None` when another process holds the lease.
async fn cycle(
    app: &Arc<App>,
    cfg: &MailboxConfig,
    owner: &str,
    idle_for: Option<(Duration, watch::Receiver<bool>)>,
) -> Result<Option<FolderStats>, MailboxError> {
    let now = crate::clock::now;
    if !store::acquire_lease(&app.db, &cfg.name, owner, now(), cfg.lease_secs).await? {
        return Ok(None);
    }
    let mut session = connect::connect(cfg).await?;
    let pass = Pass {
        app,
        cfg,
        owner,
        now,
    };
    let mut total = FolderStats::default();
    for folder in &cfg.folders {
        add(&mut total, pass.folder(&mut session, folder).await?);
    }
    store::record_poll(&app.db, &cfg.name, now(), Ok(0)).await?;
    tracing::info!(mailbox = %cfg.name, registered = total.registered, duplicates = total.duplicates,
        oversized = total.oversized, remarked = total.remarked, "mailbox polled");
    match idle_for {
        Some((d, stop)) if uses_idle(cfg) => idle(app, cfg, owner, session, d, stop).await?,
        _ => {
            let _ = connect::step(cfg.timeout_secs, "logout", session.logout()).await;
        }
    }
    Ok(Some(total))
}

/// Waits with IDLE until the server announces a change in any configured folder, `d` passes
/// (RFC 2177) or `stop` turns true, keeping the lease for that long. Servers without IDLE get the
/// plain wait.
///
/// Several folders: one connection per folder, each in IDLE on its folder (the poll's session
/// watches the folder it has selected, the last one; the others open their own). IMAP's IDLE
/// watches the selected folder only, and NOTIFY (RFC 5465) is rare, so this is the one way a
/// message in any folder is taken at once rather than after `poll_interval_secs`. The first
/// folder with news ends every watch and the caller polls all folders. A folder whose watch cannot
/// start (a connection refused, say, over the server's per-user limit) falls back to the poll
/// interval, with a warning; the others still watch.
async fn idle(
    app: &Arc<App>,
    cfg: &MailboxConfig,
    owner: &str,
    mut session: connect::Imap,
    d: Duration,
    stop: watch::Receiver<bool>,
) -> Result<(), MailboxError> {
    let t = cfg.timeout_secs;
    let caps = connect::step(t, "capability", session.capabilities()).await?;
    if !caps.has_str("IDLE") {
        let _ = connect::step(t, "logout", session.logout()).await;
        let mut stop = stop;
        tokio::select! {
            _ = tokio::time::sleep(d) => {}
            _ = stop.changed() => {}
        }
        return Ok(());
    }
    let hold = cfg
        .lease_secs
        .max(d.as_secs().saturating_add(t.saturating_mul(2)));
    store::acquire_lease(&app.db, &cfg.name, owner, crate::clock::now(), hold).await?;
    let (news_tx, news_rx) = watch::channel(false);
    let watch_ctx = Watch {
        app,
        cfg,
        owner,
        d,
        stop,
        news_tx: &news_tx,
        news_rx,
    };
    let Some((last, others)) = cfg.folders.split_last() else {
        return Ok(());
    };
    let mut watches = Vec::with_capacity(cfg.folders.len());
    watches.push(watch_ctx.folder(Some(session), last));
    for f in others {
        watches.push(watch_ctx.folder(None, f));
    }
    let ended = futures::future::join_all(watches).await;
    // The poll's own session failing is an error of the cycle (backoff); an extra one is not.
    if let Some(Err(e)) = ended.into_iter().next() {
        return Err(e);
    }
    Ok(())
}

/// What the IDLE watches of one cycle share.
struct Watch<'a> {
    app: &'a Arc<App>,
    cfg: &'a MailboxConfig,
    owner: &'a str,
    d: Duration,
    stop: watch::Receiver<bool>,
    news_tx: &'a watch::Sender<bool>,
    news_rx: watch::Receiver<bool>,
}

impl Watch<'_> {
    /// Watches one folder: on `session` (already on the folder) or on a connection of its own.
    /// Ends, and ends the others, at news; ends at the others' news, at `d` or at `stop`.
    async fn folder(
        &self,
        session: Option<connect::Imap>,
        folder: &str,
    ) -> Result<(), MailboxError> {
        let own = session.is_none();
        let r = self.folder_inner(session, folder).await;
        match r {
            Err(e) if own => {
                tracing::warn!(mailbox = %self.cfg.name, folder, error = %e,
                    "IDLE on this folder failed; it is polled every poll_interval_secs");
                Ok(())
            }
            r => r,
        }
    }

    async fn folder_inner(
        &self,
        session: Option<connect::Imap>,
        folder: &str,
    ) -> Result<(), MailboxError> {
        let t = self.cfg.timeout_secs;
        let mut session = match session {
            Some(s) => s,
            None => connect::connect(self.cfg).await?,
        };
        let (mut stop, mut news) = (self.stop.clone(), self.news_rx.clone());
        // Mail that came after the poll looked at this folder and before IDLE starts is not
        // announced in IDLE: look once more first.
        let pass = Pass {
            app: self.app,
            cfg: self.cfg,
            owner: self.owner,
            now: crate::clock::now,
        };
        let mbox = connect::step(t, "select", session.select(folder)).await?;
        let key = store::FolderKey {
            mailbox: self.cfg.name.clone(),
            folder: folder.to_string(),
            uidvalidity: i64::from(mbox.uid_validity.unwrap_or(0)),
        };
        if *news.borrow() || *stop.borrow() {
            let _ = connect::step(t, "logout", session.logout()).await;
            return Ok(());
        }
        if !pass.search(&mut session, &key).await?.is_empty() {
            let _ = self.news_tx.send(true);
            let _ = connect::step(t, "logout", session.logout()).await;
            return Ok(());
        }
        let mut handle = session.idle();
        connect::step(t, "idle", handle.init()).await?;
        {
            let (wait, _interrupt) = handle.wait_with_timeout(self.d);
            tokio::select! {
                r = connect::step(t.saturating_add(self.d.as_secs()), "idle", wait) => {
                    r?;
                    let _ = self.news_tx.send(true);
                }
                _ = stop.changed() => {}
                _ = news.changed() => {}
            }
        }
        let mut session = connect::step(t, "idle", handle.done()).await?;
        let _ = connect::step(t, "logout", session.logout()).await;
        Ok(())
    }
}

/// IDLE is used when configured (on every folder: see [`idle`]).
fn uses_idle(cfg: &MailboxConfig) -> bool {
    cfg.idle
}

fn add(total: &mut FolderStats, s: FolderStats) {
    total.registered += s.registered;
    total.duplicates += s.duplicates;
    total.oversized += s.oversized;
    total.remarked += s.remarked;
}

/// Doubling waits from one second up to a maximum.
#[derive(Debug, Clone)]
pub struct Backoff {
    next_secs: u64,
    max_secs: u64,
}

impl Backoff {
    /// Starts at one second.
    pub fn new(max_secs: u64) -> Backoff {
        Backoff {
            next_secs: 1,
            max_secs: max_secs.max(1),
        }
    }

    /// The next wait.
    pub fn next_wait(&mut self) -> Duration {
        let d = self.next_secs.min(self.max_secs);
        self.next_secs = d.saturating_mul(2);
        Duration::from_secs(d)
    }

    /// Back to one second after a success.
    pub fn reset(&mut self) {
        self.next_secs = 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_maximum_and_resets() {
        let mut b = Backoff::new(5);
        let secs: Vec<u64> = (0..5).map(|_| b.next_wait().as_secs()).collect();
        assert_eq!(secs, vec![1, 2, 4, 5, 5]);
        b.reset();
        assert_eq!(b.next_wait().as_secs(), 1);
    }
}
