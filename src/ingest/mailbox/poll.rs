//! One pass over one folder: store first, then mark (DESIGN.md, invariant 1).
//!
//! 1. `SELECT` the folder and read its UIDVALIDITY; redo the marks a crash left undone.
//! 2. `UID SEARCH UID <high+1>:* UNKEYWORD <keyword>` (no `CHARSET`), minus the UIDs already
//!    recorded under this UIDVALIDITY.
//! 3. `RFC822.SIZE` of them all first (oversized messages: their header and INTERNALDATE only,
//!    recorded, left on the server); then per batch `BODY.PEEK[]` + `INTERNALDATE`, the blobs made
//!    durable ([`store_mails`]), the submissions registered and the (mailbox, folder, UIDVALIDITY,
//!    UID) rows recorded with the high-water UID in one transaction, and only then the mark. The
//!    three steps run side by side on consecutive batches (`Pass::drain`).
//!
//! A new UIDVALIDITY starts with an empty high-water mark: every unmarked message is fetched again
//! and the register recognises what it already has by SHA-256 and Message-ID, so nothing is
//! imported twice and nothing is skipped.

use super::connect::{step, Imap};
use super::store::{self, FolderKey, Taken};
use super::MailboxError;
use crate::app::App;
use crate::config::{MailboxConfig, MarkMode};
use crate::ingest::email::{store_mails, RawMail};
use crate::model::ArrivalSource;
use crate::storage::register::{self, NewSubmission, Registered};
use async_imap::types::Fetch;
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// What a pass over a folder did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FolderStats {
    /// New submissions registered.
    pub registered: usize,
    /// Messages recognised as already registered (recorded and marked all the same).
    pub duplicates: usize,
    /// Messages left on the server for their size.
    pub oversized: usize,
    /// Messages whose mark was redone after an interruption.
    pub remarked: usize,
}

/// The context of one pass.
pub struct Pass<'a> {
    /// The gateway.
    pub app: &'a Arc<App>,
    /// The mailbox.
    pub cfg: &'a MailboxConfig,
    /// The lease holder's name (renewed before every batch).
    pub owner: &'a str,
    /// The clock.
    pub now: fn() -> DateTime<Utc>,
}

impl Pass<'_> {
    /// Polls one folder once.
    pub async fn folder(&self, s: &mut Imap, folder: &str) -> Result<FolderStats, MailboxError> {
        let t = self.cfg.timeout_secs;
        let mbox = step(t, "select", s.select(folder)).await?;
        let uidvalidity = mbox
            .uid_validity
            .ok_or(MailboxError::Protocol("no UIDVALIDITY"))?;
        let key = FolderKey {
            mailbox: self.cfg.name.clone(),
            folder: folder.to_string(),
            uidvalidity: i64::from(uidvalidity),
        };
        let db = &self.app.db;
        let mut stats = FolderStats::default();
        if self.cfg.mark == MarkMode::Move {
            // The target may exist already: the answer to CREATE does not matter, UID MOVE's does.
            let _ = step(t, "create", s.create(&self.cfg.move_to)).await;
        }
        let pending = store::unmarked(db, &key).await?;
        if !pending.is_empty() {
            self.mark(s, &key, &pending).await?;
            stats.remarked = pending.len();
        }
        // Messages left as oversized that fit now (the limit was raised): fetched again, once.
        let retry = store::oversized_within(db, &key, self.cfg.max_message_bytes).await?;
        let mut uids = self.search(s, &key).await?;
        tracing::info!(mailbox = %key.mailbox, folder = %key.folder, backlog = uids.len(),
            oversized_retried = retry.len(), "mailbox searched");
        store::set_backlog(db, &key.mailbox, to_i64(uids.len())).await?;
        uids.extend(retry.iter().filter_map(|u| u32::try_from(*u).ok()));
        uids.sort_unstable();
        uids.dedup();
        let sizes = self.sizes(s, &uids).await?;
        let batches = plan_batches(
            &uids,
            &sizes,
            self.cfg.batch_size,
            self.cfg.max_message_bytes,
        );
        let drained = self.drain(s, &key, &batches, &sizes, uids.len()).await?;
        stats.registered = drained.registered;
        stats.duplicates = drained.duplicates;
        stats.oversized = drained.oversized;
        Ok(stats)
    }

    async fn renew_lease(&self) -> Result<(), MailboxError> {
        let held = store::acquire_lease(
            &self.app.db,
            &self.cfg.name,
            self.owner,
            (self.now)(),
            self.cfg.lease_secs,
        )
        .await?;
        if held {
            Ok(())
        } else {
            Err(MailboxError::LeaseLost)
        }
    }

    /// UIDs not yet taken, ascending (the folder selected).
    pub async fn search(&self, s: &mut Imap, key: &FolderKey) -> Result<Vec<u32>, MailboxError> {
        let high = store::high_uid(&self.app.db, key).await?;
        let from = u32::try_from(high.saturating_add(1)).unwrap_or(u32::MAX);
        let query = format!("UID {from}:* UNKEYWORD {}", self.cfg.keyword);
        let found = step(self.cfg.timeout_secs, "search", s.uid_search(&query)).await?;
        let known = store::known_uids(&self.app.db, key, high).await?;
        // `UID n:*` always matches the last message, even below n (RFC 3501 §6.4.8).
        let mut uids: Vec<u32> = found
            .into_iter()
            .filter(|u| i64::from(*u) > high && !known.contains(&i64::from(*u)))
            .collect();
        uids.sort_unstable();
        Ok(uids)
    }

    /// `RFC822.SIZE` of these messages (gone ones are missing), 1,000 UIDs a command so the
    /// command line stays short however sparse the set.
    async fn sizes(&self, s: &mut Imap, uids: &[u32]) -> Result<HashMap<u32, u32>, MailboxError> {
        let mut out = HashMap::with_capacity(uids.len());
        for chunk in uids.chunks(1000) {
            let got = fetch(
                self.cfg.timeout_secs,
                s,
                &uid_set(chunk),
                "(UID RFC822.SIZE)",
            )
            .await?;
            out.extend(got.iter().filter_map(|f| Some((f.uid?, f.size?))));
        }
        Ok(out)
    }

    /// The oversized messages' headers and the others' bodies.
    async fn fetch_batch(
        &self,
        s: &mut Imap,
        uids: &[u32],
        sizes: &HashMap<u32, u32>,
    ) -> Result<Fetched, MailboxError> {
        let t = self.cfg.timeout_secs;
        let (big, small): (Vec<u32>, Vec<u32>) = uids
            .iter()
            .filter(|u| sizes.contains_key(u))
            .partition(|u| {
                u64::from(sizes.get(u).copied().unwrap_or(0)) > self.cfg.max_message_bytes
            });
        let oversized = self.oversized(s, &big).await?;
        let mut bodies = Vec::with_capacity(small.len());
        if !small.is_empty() {
            let query = "(UID INTERNALDATE BODY.PEEK[])";
            for f in fetch(t, s, &uid_set(&small), query).await? {
                let (Some(uid), Some(body)) = (f.uid, f.body()) else {
                    continue;
                };
                let internal = f.internal_date().map(|d| d.with_timezone(&Utc));
                bodies.push((uid, internal, body.to_vec()));
            }
        }
        Ok(Fetched { oversized, bodies })
    }

    /// Oversized messages: header and arrival time only.
    async fn oversized(&self, s: &mut Imap, uids: &[u32]) -> Result<Vec<Taken>, MailboxError> {
        if uids.is_empty() {
            return Ok(Vec::new());
        }
        let query = "(UID RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER])";
        let got = fetch(self.cfg.timeout_secs, s, &uid_set(uids), query).await?;
        let out: Vec<Taken> = got
            .iter()
            .filter_map(|f| {
                let header = f.header().unwrap_or_default();
                let parsed = crate::ingest::mime::read_header(header);
                Some(Taken {
                    uid: i64::from(f.uid?),
                    status: "oversized",
                    message_id: parsed.message_id,
                    sha256: None,
                    size: i64::from(f.size.unwrap_or(0)),
                    submission_id: None,
                    internal_date: f.internal_date().map(|d| d.with_timezone(&Utc)),
                    headers: Some(String::from_utf8_lossy(header).into_owned()),
                })
            })
            .collect();
        for t in &out {
            tracing::warn!(mailbox = %self.cfg.name, uid = t.uid, size = t.size, "message over max_message_bytes left on the server");
        }
        Ok(out)
    }

    /// Takes the planned batches in three lanes that run side by side, linked by channels that
    /// hold one batch each:
    ///
    /// - IMAP (the session): downloads batch i+2, and between downloads marks on the server the
    ///   batches the database lane has committed;
    /// - blobs (a blocking thread): hashes and reads the header of batch i+1 and makes its blobs
    ///   durable;
    /// - database: registers batch i and records its IMAP rows in one transaction, noting the marks
    ///   done since the previous batch, then hands the batch's UIDs to the IMAP lane for marking.
    ///
    /// Store first, then mark (DESIGN.md, invariant 1): a UID reaches the IMAP lane only after its
    /// blob is durable (blob lane) and its rows are committed (database lane). A crash after a mark
    /// and before it is noted redoes only the mark, which is idempotent. Bodies of at most three
    /// batches are in memory (being downloaded, waiting, being stored).
    async fn drain(
        &self,
        s: &mut Imap,
        key: &FolderKey,
        batches: &[Vec<u32>],
        sizes: &HashMap<u32, u32>,
        backlog: usize,
    ) -> Result<FolderStats, MailboxError> {
        if batches.is_empty() {
            return Ok(FolderStats::default());
        }
        let t0 = tokio::time::Instant::now();
        let (fetched_tx, mut fetched_rx) = mpsc::channel::<(usize, Fetched)>(1);
        let (stored_tx, stored_rx) = mpsc::channel::<(usize, Stored)>(1);
        // Committed UIDs to mark, and marked UIDs to note: never more than the batches in flight.
        let (commit_tx, mut commit_rx) = mpsc::unbounded_channel::<Vec<i64>>();
        let (marked_tx, mut marked_rx) = mpsc::unbounded_channel::<Vec<i64>>();

        let imap_lane = async move {
            let (mut fetching, mut marking) = (Duration::ZERO, Duration::ZERO);
            for (i, batch) in batches.iter().enumerate() {
                let mut due = Vec::new();
                while let Ok(mut v) = commit_rx.try_recv() {
                    due.append(&mut v);
                }
                marking += self.mark_and_pass(s, due, &marked_tx).await?;
                let t = tokio::time::Instant::now();
                let fetched = self.fetch_batch(s, batch, sizes).await?;
                fetching += t.elapsed();
                // Wait for room in the blob lane, marking what the database commits meanwhile.
                let permit = loop {
                    tokio::select! {
                        biased;
                        p = fetched_tx.reserve() => break p,
                        Some(v) = commit_rx.recv() => {
                            marking += self.mark_and_pass(s, v, &marked_tx).await?;
                        }
                    }
                };
                let Ok(permit) = permit else {
                    // The blob lane stopped: its error ends the drain.
                    return Ok((fetching, marking));
                };
                permit.send((i, fetched));
            }
            drop(fetched_tx);
            while let Some(mut v) = commit_rx.recv().await {
                while let Ok(mut w) = commit_rx.try_recv() {
                    v.append(&mut w);
                }
                marking += self.mark_and_pass(s, v, &marked_tx).await?;
            }
            Ok::<_, MailboxError>((fetching, marking))
        };

        let blob_lane = async move {
            let mut storing = Duration::ZERO;
            while let Some((i, fetched)) = fetched_rx.recv().await {
                let t = tokio::time::Instant::now();
                let stored = self.store_blobs(key, fetched).await?;
                storing += t.elapsed();
                if stored_tx.send((i, stored)).await.is_err() {
                    break;
                }
            }
            Ok::<_, MailboxError>(storing)
        };

        // The database lane is a task of its own: on PostgreSQL its statements take CPU in this
        // process (encoding, decoding) that would otherwise queue behind the IMAP lane's parsing.
        let (app, cfg, owner, now) = (
            self.app.clone(),
            self.cfg.clone(),
            self.owner.to_string(),
            self.now,
        );
        let (db_key, db_batches) = (key.clone(), batches.to_vec());
        let mut db_task = AbortOnDrop(tokio::spawn(async move {
            let pass = Pass {
                app: &app,
                cfg: &cfg,
                owner: &owner,
                now,
            };
            let r = pass
                .db_lane(
                    &db_key,
                    &db_batches,
                    stored_rx,
                    commit_tx,
                    &mut marked_rx,
                    backlog,
                )
                .await;
            (r, marked_rx)
        }));
        let db_lane = async {
            let (r, rx) = (&mut db_task.0)
                .await
                .map_err(|e| crate::ingest::IngestError::Task(e.to_string()))?;
            r.map(|(stats, t)| (stats, t, rx))
        };

        let ((fetching, marking), storing, (stats, registering, mut marked_rx)) =
            tokio::try_join!(imap_lane, blob_lane, db_lane)?;
        let mut marked = Vec::new();
        while let Ok(mut v) = marked_rx.try_recv() {
            marked.append(&mut v);
        }
        store::set_marked(&self.app.db, key, &marked, (self.now)()).await?;
        tracing::debug!(
            mailbox = %key.mailbox,
            folder = %key.folder,
            batches = batches.len(),
            total_ms = t0.elapsed().as_millis(),
            fetch_ms = fetching.as_millis(),
            mark_ms = marking.as_millis(),
            blobs_ms = storing.as_millis(),
            db_ms = registering.as_millis(),
            "folder drained (busy time of each lane)"
        );
        Ok(stats)
    }

    /// The database lane of [`Pass::drain`]: registers each stored batch and records it (with the
    /// marks noted since), then hands its UIDs to the IMAP lane for marking. Returns the totals
    /// and the time it was busy.
    async fn db_lane(
        &self,
        key: &FolderKey,
        batches: &[Vec<u32>],
        mut stored_rx: mpsc::Receiver<(usize, Stored)>,
        commit_tx: mpsc::UnboundedSender<Vec<i64>>,
        marked_rx: &mut mpsc::UnboundedReceiver<Vec<i64>>,
        backlog: usize,
    ) -> Result<(FolderStats, Duration), MailboxError> {
        let mut stats = FolderStats::default();
        let (mut registering, mut left) = (Duration::ZERO, backlog);
        let mut renewed = tokio::time::Instant::now();
        while let Some((i, stored)) = stored_rx.recv().await {
            let t = tokio::time::Instant::now();
            if renewed.elapsed().as_secs().saturating_mul(3) >= self.cfg.lease_secs {
                self.renew_lease().await?;
                renewed = tokio::time::Instant::now();
            }
            let batch = batches.get(i).map(Vec::as_slice).unwrap_or_default();
            left = left.saturating_sub(batch.len());
            let mut noting = Vec::new();
            while let Ok(mut v) = marked_rx.try_recv() {
                noting.append(&mut v);
            }
            let (taken, b) = self.register(key, stored, batch, left, &noting).await?;
            registering += t.elapsed();
            stats.registered += b.registered;
            stats.duplicates += b.duplicates;
            stats.oversized += b.oversized;
            let to_mark: Vec<i64> = taken
                .iter()
                .filter(|t| t.status == "registered")
                .map(|t| t.uid)
                .collect();
            if commit_tx.send(to_mark).is_err() {
                // The IMAP lane stopped: its error ends the drain.
                break;
            }
        }
        Ok((stats, registering))
    }

    /// Marks committed UIDs on the server and passes them on to be noted; returns the time taken.
    async fn mark_and_pass(
        &self,
        s: &mut Imap,
        uids: Vec<i64>,
        marked: &tokio::sync::mpsc::UnboundedSender<Vec<i64>>,
    ) -> Result<Duration, MailboxError> {
        let t = tokio::time::Instant::now();
        if uids.is_empty() {
            return Ok(Duration::ZERO);
        }
        self.mark_on_server(s, &uids).await?;
        // The receiver lives as long as the drain; a message not noted is marked again later.
        let _ = marked.send(uids);
        Ok(t.elapsed())
    }

    /// The blob lane's step: the records of a downloaded batch and its blobs made durable.
    async fn store_blobs(&self, key: &FolderKey, fetched: Fetched) -> Result<Stored, MailboxError> {
        let source = format!(
            "imap:{}/{};UIDVALIDITY={}",
            key.mailbox, key.folder, key.uidvalidity
        );
        let (mut records, mails) = describe(&source, fetched.bodies);
        let news = store_mails(self.app, mails, "system:imap", (self.now)()).await?;
        // Message-ID and SHA-256 as the register computed them (a duplicate has the same ones).
        for (t, n) in records.iter_mut().zip(&news) {
            t.message_id.clone_from(&n.message_id);
            t.sha256 = Some(n.raw_sha256.clone());
        }
        Ok(Stored {
            oversized: fetched.oversized,
            records,
            news,
        })
    }

    /// The database lane's step: registers a stored batch and records its IMAP rows (and the marks
    /// to note) in one transaction; returns the records of the whole batch. A transaction that
    /// raced another registration of the same message ([`register::is_registration_race`]) was
    /// rolled back whole and is run again.
    async fn register(
        &self,
        key: &FolderKey,
        stored: Stored,
        batch: &[u32],
        left: usize,
        noting: &[i64],
    ) -> Result<(Vec<Taken>, FolderStats), MailboxError> {
        let mut attempt = 0;
        loop {
            match self.register_once(key, &stored, batch, left, noting).await {
                Err(MailboxError::Db(e))
                    if attempt < register::RACE_RETRIES && register::is_registration_race(&e) =>
                {
                    attempt += 1;
                    tracing::info!(mailbox = %key.mailbox, attempt, error = %e,
                        "registration raced another one; retrying the batch");
                }
                r => return r,
            }
        }
    }

    async fn register_once(
        &self,
        key: &FolderKey,
        stored: &Stored,
        batch: &[u32],
        left: usize,
        noting: &[i64],
    ) -> Result<(Vec<Taken>, FolderStats), MailboxError> {
        let mut stats = FolderStats {
            oversized: stored.oversized.len(),
            ..FolderStats::default()
        };
        let mut taken = stored.oversized.clone();
        let mut records = stored.records.clone();
        let now = (self.now)();
        let mut tx = self.app.db.begin_write().await?;
        if !stored.news.is_empty() {
            let outcome = register::register_batch_in(
                &mut tx,
                &self.app.config.register.number_pattern,
                self.app.config.timezone(),
                now,
                &stored.news,
            )
            .await?;
            for (t, r) in records.iter_mut().zip(outcome) {
                let id = match r {
                    Registered::New { id, .. } => {
                        stats.registered += 1;
                        id
                    }
                    Registered::Duplicate { id } => {
                        stats.duplicates += 1;
                        id
                    }
                };
                t.submission_id = Some(id.0);
            }
        }
        taken.append(&mut records);
        let high = contiguous_high(batch, &taken);
        store::record_taken(&mut tx, key, &taken, high, to_i64(left), noting, now).await?;
        tx.commit().await.map_err(crate::storage::DbError::from)?;
        Ok((taken, stats))
    }

    /// Marks registered messages on the server (keyword + `\Seen`, then move or delete when
    /// configured) and notes it in the database.
    async fn mark(&self, s: &mut Imap, key: &FolderKey, uids: &[i64]) -> Result<(), MailboxError> {
        self.mark_on_server(s, uids).await?;
        store::set_marked(&self.app.db, key, uids, (self.now)()).await?;
        Ok(())
    }

    /// The server side of [`Pass::mark`]: one `UID STORE` (and `UID MOVE` or expunge) per set of
    /// UIDs, ranges collapsed.
    async fn mark_on_server(&self, s: &mut Imap, uids: &[i64]) -> Result<(), MailboxError> {
        if uids.is_empty() {
            return Ok(());
        }
        let t = self.cfg.timeout_secs;
        let set = uid_set_i64(uids);
        let flags = format!("+FLAGS.SILENT ({} \\Seen)", self.cfg.keyword);
        step(t, "store", async {
            s.uid_store(&set, &flags)
                .await?
                .try_collect::<Vec<_>>()
                .await
        })
        .await?;
        if self.cfg.mark == MarkMode::Move {
            step(t, "move", s.uid_mv(&set, &self.cfg.move_to)).await?;
        } else if self.cfg.delete {
            step(t, "store", async {
                s.uid_store(&set, "+FLAGS.SILENT (\\Deleted)")
                    .await?
                    .try_collect::<Vec<_>>()
                    .await
            })
            .await?;
            step(t, "expunge", async {
                s.uid_expunge(&set).await?.try_collect::<Vec<_>>().await
            })
            .await?;
        }
        Ok(())
    }
}

/// Bytes of message bodies one batch holds at most (a single larger message makes a batch alone),
/// so a batch of big letters does not hold hundreds of megabytes twice (one being stored, the
/// next being downloaded).
const BATCH_BYTES: u64 = 32 * 1024 * 1024;

/// Cuts the UIDs (ascending) into batches of at most `count` messages and [`BATCH_BYTES`] of
/// bodies; messages over `max_bytes` (only their header is fetched) and gone ones weigh nothing.
fn plan_batches(
    uids: &[u32],
    sizes: &HashMap<u32, u32>,
    count: usize,
    max_bytes: u64,
) -> Vec<Vec<u32>> {
    let mut out: Vec<Vec<u32>> = Vec::new();
    let mut cur: Vec<u32> = Vec::new();
    let mut bytes = 0u64;
    for u in uids {
        let size = sizes.get(u).map_or(0, |s| u64::from(*s));
        let weight = if size > max_bytes { 0 } else { size };
        if !cur.is_empty()
            && (cur.len() >= count.max(1) || (weight > 0 && bytes + weight > BATCH_BYTES))
        {
            out.push(std::mem::take(&mut cur));
            bytes = 0;
        }
        cur.push(*u);
        bytes += weight;
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// A task aborted when its handle is dropped (a drain that fails stops its database lane).
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// One batch as downloaded: oversized messages' records, and the others' bytes.
struct Fetched {
    oversized: Vec<Taken>,
    bodies: Vec<(u32, Option<DateTime<Utc>>, Vec<u8>)>,
}

/// One batch with its blobs durable: oversized messages' records, the others' records and the rows
/// to register (in the same order).
struct Stored {
    oversized: Vec<Taken>,
    records: Vec<Taken>,
    news: Vec<NewSubmission>,
}

/// Records and raw mails for downloaded messages.
fn describe(
    source: &str,
    bodies: Vec<(u32, Option<DateTime<Utc>>, Vec<u8>)>,
) -> (Vec<Taken>, Vec<RawMail>) {
    let mut records = Vec::with_capacity(bodies.len());
    let mut mails = Vec::with_capacity(bodies.len());
    for (uid, internal, body) in bodies {
        // Message-ID and SHA-256 are copied from the submission row when recorded: the register
        // has computed them already.
        records.push(Taken {
            uid: i64::from(uid),
            status: "registered",
            message_id: None,
            sha256: None,
            size: to_i64(body.len()),
            submission_id: None,
            internal_date: internal,
            headers: None,
        });
        mails.push(RawMail {
            bytes: body,
            channel_time: internal.map(|t| (t, ArrivalSource::ImapInternaldate)),
            source: Some(format!("{source}/;UID={uid}")),
        });
    }
    (records, mails)
}

async fn fetch(t: u64, s: &mut Imap, set: &str, query: &str) -> Result<Vec<Fetch>, MailboxError> {
    step(t, "fetch", async {
        s.uid_fetch(set, query).await?.try_collect::<Vec<_>>().await
    })
    .await
}

/// The highest UID of the batch below which every UID was recorded.
fn contiguous_high(uids: &[u32], taken: &[Taken]) -> i64 {
    let done: std::collections::HashSet<i64> = taken.iter().map(|t| t.uid).collect();
    let mut high = 0;
    for u in uids {
        if !done.contains(&i64::from(*u)) {
            break;
        }
        high = i64::from(*u);
    }
    high
}

/// A compact UID set: `1:5,7,9:10`.
pub fn uid_set_i64(uids: &[i64]) -> String {
    let mut sorted = uids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut out = Vec::new();
    let mut iter = sorted.into_iter();
    let Some(mut start) = iter.next() else {
        return String::new();
    };
    let mut end = start;
    for u in iter {
        if u == end + 1 {
            end = u;
            continue;
        }
        out.push(range(start, end));
        start = u;
        end = u;
    }
    out.push(range(start, end));
    out.join(",")
}

fn uid_set(uids: &[u32]) -> String {
    let v: Vec<i64> = uids.iter().map(|u| i64::from(*u)).collect();
    uid_set_i64(&v)
}

fn range(a: i64, b: i64) -> String {
    if a == b {
        a.to_string()
    } else {
        format!("{a}:{b}")
    }
}

fn to_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_sets_collapse_runs_and_keep_singletons() {
        assert_eq!(uid_set_i64(&[5, 1, 2, 3, 7, 9, 10, 3]), "1:3,5,7,9:10");
        assert_eq!(uid_set_i64(&[]), "");
        assert_eq!(uid_set_i64(&[42]), "42");
    }

    #[test]
    fn batches_are_cut_by_count_and_by_bytes() {
        let sizes: HashMap<u32, u32> = [
            (1, 10),
            (2, 10),
            (3, 10),
            (4, 20_000_000),
            (5, 20_000_000),
            (6, 40_000_000),
            (7, 60_000_000),
            (8, 10),
        ]
        .into_iter()
        .collect();
        let uids = [1, 2, 3, 4, 5, 6, 7, 8, 9];
        // 7 is over the limit (header only), 9 is gone: neither weighs anything.
        assert_eq!(
            plan_batches(&uids, &sizes, 2, 50_000_000),
            vec![vec![1, 2], vec![3, 4], vec![5], vec![6, 7], vec![8, 9]]
        );
        assert_eq!(
            plan_batches(&[1, 2, 3], &sizes, 50, 50_000_000),
            vec![vec![1, 2, 3]]
        );
        assert!(plan_batches(&[], &sizes, 50, 1).is_empty());
    }

    #[test]
    fn the_high_water_mark_stops_below_a_message_not_taken() {
        let taken = |uid| Taken {
            uid,
            status: "registered",
            message_id: None,
            sha256: None,
            size: 0,
            submission_id: None,
            internal_date: None,
            headers: None,
        };
        assert_eq!(
            contiguous_high(&[3, 4, 5, 6], &[taken(3), taken(4), taken(6)]),
            4
        );
        assert_eq!(contiguous_high(&[3, 4], &[taken(3), taken(4)]), 4);
        assert_eq!(contiguous_high(&[3], &[]), 0);
    }
}
