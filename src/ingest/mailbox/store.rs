//! The poller's rows: the lease and health of each mailbox (`mailbox_state`), the high-water UID of
//! each folder (`imap_folders`) and every message taken (`imap_messages`). Plain functions over
//! [`Db`], like the rest of `storage`.

use crate::model::format_time;
use crate::storage::db::{self, Db, DbError};
use chrono::{DateTime, Utc};
use std::collections::HashSet;

/// Where a folder's messages live: mailbox name, folder, UIDVALIDITY.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderKey {
    /// The configured mailbox name.
    pub mailbox: String,
    /// The IMAP folder.
    pub folder: String,
    /// Its UIDVALIDITY.
    pub uidvalidity: i64,
}

/// One message taken from a folder.
#[derive(Debug, Clone)]
pub struct Taken {
    /// Its UID.
    pub uid: i64,
    /// `registered` or `oversized`.
    pub status: &'static str,
    /// Message-ID, if it had one.
    pub message_id: Option<String>,
    /// SHA-256 of the raw bytes (registered messages).
    pub sha256: Option<String>,
    /// `RFC822.SIZE`.
    pub size: i64,
    /// The submission it was registered as (new or the earlier duplicate).
    pub submission_id: Option<String>,
    /// INTERNALDATE.
    pub internal_date: Option<DateTime<Utc>>,
    /// The header of an oversized message.
    pub headers: Option<String>,
}

/// Takes or renews the lease on `mailbox` for `owner` until `now + secs`. False when another live
/// process holds it.
pub async fn acquire_lease(
    db: &Db,
    mailbox: &str,
    owner: &str,
    now: DateTime<Utc>,
    secs: u64,
) -> Result<bool, DbError> {
    sqlx::query("INSERT INTO mailbox_state (mailbox) VALUES ($1) ON CONFLICT (mailbox) DO NOTHING")
        .bind(mailbox)
        .execute(db.pool())
        .await?;
    let until = now + chrono::Duration::seconds(i64::try_from(secs).unwrap_or(i64::MAX / 4));
    let done = sqlx::query(
        "UPDATE mailbox_state SET lease_owner = $2, lease_until = $3
         WHERE mailbox = $1 AND (lease_owner IS NULL OR lease_owner = $2 OR lease_until < $4)",
    )
    .bind(mailbox)
    .bind(owner)
    .bind(format_time(&until))
    .bind(format_time(&now))
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Gives the lease back (only if `owner` still holds it).
pub async fn release_lease(db: &Db, mailbox: &str, owner: &str) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE mailbox_state SET lease_owner = NULL, lease_until = NULL
         WHERE mailbox = $1 AND lease_owner = $2",
    )
    .bind(mailbox)
    .bind(owner)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Records the outcome of a poll: success (with the remaining backlog) or the error.
pub async fn record_poll(
    db: &Db,
    mailbox: &str,
    now: DateTime<Utc>,
    outcome: Result<i64, &str>,
) -> Result<(), DbError> {
    let now = format_time(&now);
    let q = match outcome {
        Ok(backlog) => sqlx::query(
            "UPDATE mailbox_state SET last_poll_at = $2, last_success_at = $2, last_error = NULL,
             backlog = $3 WHERE mailbox = $1",
        )
        .bind(mailbox)
        .bind(now)
        .bind(backlog),
        Err(e) => sqlx::query(
            "UPDATE mailbox_state SET last_poll_at = $2, last_error = $3 WHERE mailbox = $1",
        )
        .bind(mailbox)
        .bind(now)
        .bind(e.to_string()),
    };
    q.execute(db.pool()).await?;
    Ok(())
}

/// Sets the backlog of a mailbox (messages found and not yet taken).
pub async fn set_backlog(db: &Db, mailbox: &str, backlog: i64) -> Result<(), DbError> {
    sqlx::query("UPDATE mailbox_state SET backlog = $2 WHERE mailbox = $1")
        .bind(mailbox)
        .bind(backlog)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// The highest UID taken from this folder under this UIDVALIDITY (0: none).
pub async fn high_uid(db: &Db, key: &FolderKey) -> Result<i64, DbError> {
    let v: Option<i64> = sqlx::query_scalar(
        "SELECT high_uid FROM imap_folders WHERE mailbox = $1 AND folder = $2 AND uidvalidity = $3",
    )
    .bind(&key.mailbox)
    .bind(&key.folder)
    .bind(key.uidvalidity)
    .fetch_optional(db.pool())
    .await?;
    Ok(v.unwrap_or(0))
}

/// UIDs above `above` already recorded for this folder (taken or oversized).
pub async fn known_uids(db: &Db, key: &FolderKey, above: i64) -> Result<HashSet<i64>, DbError> {
    let v: Vec<i64> = sqlx::query_scalar(
        "SELECT uid FROM imap_messages
         WHERE mailbox = $1 AND folder = $2 AND uidvalidity = $3 AND uid > $4",
    )
    .bind(&key.mailbox)
    .bind(&key.folder)
    .bind(key.uidvalidity)
    .bind(above)
    .fetch_all(db.pool())
    .await?;
    Ok(v.into_iter().collect())
}

/// Registered messages of this folder whose mark has not been done yet.
pub async fn unmarked(db: &Db, key: &FolderKey) -> Result<Vec<i64>, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT uid FROM imap_messages WHERE mailbox = $1 AND folder = $2 AND uidvalidity = $3
         AND status = 'registered' AND marked_at IS NULL ORDER BY uid",
    )
    .bind(&key.mailbox)
    .bind(&key.folder)
    .bind(key.uidvalidity)
    .fetch_all(db.pool())
    .await?)
}

/// Oversized messages of this folder that now fit under `max_bytes` (the limit was raised): their
/// UIDs, ascending, to be fetched and registered.
pub async fn oversized_within(
    db: &Db,
    key: &FolderKey,
    max_bytes: u64,
) -> Result<Vec<i64>, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT uid FROM imap_messages WHERE mailbox = $1 AND folder = $2 AND uidvalidity = $3
         AND status = 'oversized' AND size <= $4 ORDER BY uid",
    )
    .bind(&key.mailbox)
    .bind(&key.folder)
    .bind(key.uidvalidity)
    .bind(i64::try_from(max_bytes).unwrap_or(i64::MAX))
    .fetch_all(db.pool())
    .await?)
}

/// Records messages taken, raises the folder's high-water UID, sets the mailbox's backlog and notes
/// the marks done on the server since the last call (`marked`), in the caller's write transaction:
/// the one that registers the batch's submissions, so a batch costs one commit. A message recorded
/// as oversized and now registered (the limit was raised) has its row turned into a registered
/// one; nothing else is ever overwritten.
pub async fn record_taken(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    key: &FolderKey,
    taken: &[Taken],
    high: i64,
    backlog: i64,
    marked: &[i64],
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    let now = format_time(&now);
    for sql_and_uids in marked_updates(marked) {
        let (sql, uids) = sql_and_uids;
        let mut q = sqlx::query(&sql)
            .bind(&key.mailbox)
            .bind(&key.folder)
            .bind(key.uidvalidity)
            .bind(&now);
        for bound in uids {
            q = q.bind(bound);
        }
        q.execute(&mut **tx).await?;
    }
    // One statement per 50 rows: a round trip per message would dominate on PostgreSQL.
    for chunk in taken.chunks(50) {
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| {
                let p = |k: usize| format!("${}", 5 + i * 8 + k);
                format!(
                    "($1, $2, $3, {uid}, COALESCE({mid}, (SELECT message_id FROM submissions WHERE id = {sub})),
                     COALESCE({sha}, (SELECT raw_sha256 FROM submissions WHERE id = {sub})),
                     {size}, {status}, {sub}, {date}, {headers}, $4)",
                    uid = p(0),
                    mid = p(1),
                    sha = p(2),
                    size = p(3),
                    status = p(4),
                    sub = p(5),
                    date = p(6),
                    headers = p(7),
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO imap_messages (mailbox, folder, uidvalidity, uid, message_id, sha256, size,
                status, submission_id, internal_date, headers, taken_at)
             VALUES {} ON CONFLICT (mailbox, folder, uidvalidity, uid) DO UPDATE
             SET status = excluded.status, message_id = excluded.message_id,
                 sha256 = excluded.sha256, size = excluded.size,
                 submission_id = excluded.submission_id, taken_at = excluded.taken_at,
                 marked_at = NULL
             WHERE imap_messages.status = 'oversized' AND excluded.status = 'registered'",
            rows.join(",\n")
        );
        let mut q = sqlx::query(&sql)
            .bind(&key.mailbox)
            .bind(&key.folder)
            .bind(key.uidvalidity)
            .bind(&now);
        for t in chunk {
            q = q
                .bind(t.uid)
                .bind(t.message_id.as_deref())
                .bind(t.sha256.as_deref())
                .bind(t.size)
                .bind(t.status)
                .bind(t.submission_id.as_deref())
                .bind(t.internal_date.as_ref().map(format_time))
                .bind(t.headers.as_deref());
        }
        q.execute(&mut **tx).await?;
    }
    sqlx::query(
        "INSERT INTO imap_folders (mailbox, folder, uidvalidity, high_uid, updated_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (mailbox, folder, uidvalidity) DO UPDATE
         SET high_uid = CASE WHEN imap_folders.high_uid > $4 THEN imap_folders.high_uid ELSE $4 END,
             updated_at = $5",
    )
    .bind(&key.mailbox)
    .bind(&key.folder)
    .bind(key.uidvalidity)
    .bind(high)
    .bind(&now)
    .execute(&mut **tx)
    .await?;
    sqlx::query("UPDATE mailbox_state SET backlog = $2 WHERE mailbox = $1")
        .bind(&key.mailbox)
        .bind(backlog)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Notes that these messages are marked on the server (one statement: one round trip).
pub async fn set_marked(
    db: &Db,
    key: &FolderKey,
    uids: &[i64],
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    for (sql, chunk) in marked_updates(uids) {
        let mut q = sqlx::query(&sql)
            .bind(&key.mailbox)
            .bind(&key.folder)
            .bind(key.uidvalidity)
            .bind(format_time(&now));
        for bound in chunk {
            q = q.bind(bound);
        }
        q.execute(db.pool()).await?;
    }
    Ok(())
}

/// `UPDATE … SET marked_at = $4` statements for these UIDs (`$1..$3`: the folder key), their runs
/// collapsed into ranges (`uid BETWEEN $5 AND $6 OR …`), 200 ranges a statement: a drain marks
/// whole runs of UIDs, so one short statement notes a batch, where a list of every UID made a new
/// statement of hundreds of parameters each time (tens of milliseconds on PostgreSQL). Each
/// statement comes with the bounds of its ranges, `[low, high, low, high, …]`.
fn marked_updates(uids: &[i64]) -> Vec<(String, Vec<i64>)> {
    let mut sorted = uids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut ranges: Vec<(i64, i64)> = Vec::new();
    for u in sorted {
        match ranges.last_mut() {
            Some((_, high)) if *high + 1 == u => *high = u,
            _ => ranges.push((u, u)),
        }
    }
    ranges
        .chunks(200)
        .map(|chunk| {
            let list: Vec<String> = (0..chunk.len())
                .map(|i| format!("uid BETWEEN ${} AND ${}", 5 + 2 * i, 6 + 2 * i))
                .collect();
            let sql = format!(
                "UPDATE imap_messages SET marked_at = $4
                 WHERE mailbox = $1 AND folder = $2 AND uidvalidity = $3 AND ({})",
                list.join(" OR ")
            );
            let bounds = chunk.iter().flat_map(|(a, b)| [*a, *b]).collect();
            (sql, bounds)
        })
        .collect()
}

/// Health of one mailbox, for `/healthz` and `podawcza status`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MailboxHealth {
    /// The mailbox name.
    pub mailbox: String,
    /// When a poll last finished without error.
    pub last_success_at: Option<String>,
    /// The last poll's error, if it failed.
    pub last_error: Option<String>,
    /// Messages found on the server and not yet taken, at the last look.
    pub backlog: i64,
    /// Messages left on the server for their size.
    pub oversized: i64,
    /// Messages registered but not yet marked on the server.
    pub unmarked: i64,
    /// Submissions from this mailbox in quarantine.
    pub quarantined: i64,
}

/// Health of every mailbox the database knows.
pub async fn health(db: &Db) -> Result<Vec<MailboxHealth>, DbError> {
    let rows = sqlx::query(
        "SELECT m.mailbox, m.last_success_at, m.last_error, m.backlog,
           (SELECT COUNT(*) FROM imap_messages i WHERE i.mailbox = m.mailbox
              AND i.status = 'oversized') AS oversized,
           (SELECT COUNT(*) FROM imap_messages i WHERE i.mailbox = m.mailbox
              AND i.status = 'registered' AND i.marked_at IS NULL) AS unmarked,
           (SELECT COUNT(*) FROM imap_messages i JOIN submissions s ON s.id = i.submission_id
              WHERE i.mailbox = m.mailbox AND s.state = 'quarantined') AS quarantined
         FROM mailbox_state m ORDER BY m.mailbox",
    )
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(MailboxHealth {
                mailbox: db::text(r, "mailbox")?,
                last_success_at: db::opt_text(r, "last_success_at")?,
                last_error: db::opt_text(r, "last_error")?,
                backlog: db::int(r, "backlog")?,
                oversized: db::int(r, "oversized")?,
                unmarked: db::int(r, "unmarked")?,
                quarantined: db::int(r, "quarantined")?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_are_noted_by_ranges_of_exactly_the_uids_given() {
        let updates = marked_updates(&[7, 3, 4, 5, 9, 10, 4]);
        assert_eq!(updates.len(), 1);
        let (sql, bounds) = &updates[0];
        assert_eq!(bounds, &vec![3, 5, 7, 7, 9, 10]);
        assert!(sql
            .contains("uid BETWEEN $5 AND $6 OR uid BETWEEN $7 AND $8 OR uid BETWEEN $9 AND $10)"));
        assert!(marked_updates(&[]).is_empty());
        // Every other UID: one range each, 200 ranges a statement.
        let sparse: Vec<i64> = (0..401).map(|i| 2 * i).collect();
        let updates = marked_updates(&sparse);
        let sizes: Vec<usize> = updates.iter().map(|(_, b)| b.len()).collect();
        assert_eq!(sizes, vec![400, 400, 2]);
    }
}
