//! The database handle: one code path for embedded SQLite and PostgreSQL (sqlx `Any`).
//!
//! Queries use `$1` placeholders, which both drivers accept; values are text and 64-bit integers
//! only, so the `Any` driver maps them the same way on both. The few places where the engines
//! differ (claiming work with `FOR UPDATE SKIP LOCKED`, taking SQLite's write lock up front) ask
//! [`Db::backend`].

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Connection, Executor, Row, Transaction};
use std::fmt::Write as _;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// Errors of the database layer.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The database reported an error.
    #[error("database: {0}")]
    Sql(#[from] sqlx::Error),
    /// A migration failed.
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored value could not be read back.
    #[error("database holds an unreadable {what}: {value:?}")]
    Corrupt {
        /// Which column.
        what: &'static str,
        /// The value.
        value: String,
    },
    /// A URL names neither SQLite nor PostgreSQL.
    #[error("unsupported database url scheme (use sqlite:// or postgres://): {0}")]
    Scheme(String),
}

/// Which engine is behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite (one writer at a time, WAL).
    Sqlite,
    /// PostgreSQL (many writers, row locks).
    Postgres,
}

/// A connection pool with its backend.
#[derive(Debug, Clone)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    /// SQLite only: one connection for write transactions, so writers queue for it in order
    /// instead of sleeping in SQLite's busy handler (whose back-off of up to 100 ms per try made
    /// the slowest of many concurrent uploads wait a second).
    writer: Option<AnyPool>,
    /// SQLite only: the queue of [`Db::run`]'s group commit.
    scripts: Option<Queue>,
    /// SQLite only: callers of [`Db::begin_write`] waiting for the writing connection, which the
    /// group commit keeps between groups until someone else needs it.
    wanted: Arc<Wanted>,
}

/// One caller of [`Db::begin_write`] counted as waiting for the writing connection, until it
/// is dropped.
struct Waiting<'a>(&'a Wanted);

impl<'a> Waiting<'a> {
    fn new(wanted: &'a Wanted) -> Waiting<'a> {
        wanted.waiting.fetch_add(1, Ordering::AcqRel);
        wanted.notify.notify_one();
        Waiting(wanted)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.waiting.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Who else waits for SQLite's writing connection.
#[derive(Debug, Default)]
struct Wanted {
    waiting: std::sync::atomic::AtomicUsize,
    notify: tokio::sync::Notify,
}

/// The sending end of the group commit's queue.
#[derive(Clone)]
struct Queue(tokio::sync::mpsc::UnboundedSender<Job>);

impl std::fmt::Debug for Queue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Queue")
    }
}

/// A pooled PostgreSQL connection idle at least this long is pinged before it is used.
const PING_WHEN_IDLE: Duration = Duration::from_secs(10);

static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

impl Db {
    /// Connects to the database named by `url`.
    pub async fn connect(
        url: &str,
        max_connections: u32,
        timeout_secs: u64,
    ) -> Result<Db, DbError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(DbError::Scheme(crate::config::redact_url(url)));
        };
        if backend == Backend::Sqlite {
            ensure_sqlite_dir(url);
        }
        let busy_ms = timeout_secs.saturating_mul(1000);
        let options = move |max: u32| {
            AnyPoolOptions::new()
                .max_connections(max.max(1))
                .acquire_timeout(Duration::from_secs(timeout_secs))
                // No test of every connection before use: it costs a round trip per query (a
                // SQLite connection is a local file and a thread, and a PostgreSQL ping was one
                // of two round trips of each query of an inbox page). A PostgreSQL connection idle
                // for a while is pinged first (a restarted server or a dropped link is noticed
                // there, and the pool opens another); within a busy stretch none is.
                .test_before_acquire(false)
                .before_acquire(move |conn, meta| {
                    Box::pin(async move {
                        if backend == Backend::Postgres && meta.idle_for >= PING_WHEN_IDLE {
                            conn.ping().await?;
                        }
                        Ok(true)
                    })
                })
                .after_connect(move |conn, _meta| {
                    Box::pin(async move {
                        if conn.backend_name() == "SQLite" {
                            // WAL lets readers run beside the writer; FULL makes each commit
                            // durable before the channel is acknowledged (invariant 1).
                            conn.execute("PRAGMA journal_mode = WAL").await?;
                            conn.execute("PRAGMA synchronous = FULL").await?;
                            conn.execute("PRAGMA foreign_keys = ON").await?;
                            // The WAL is copied back into the database by a task beside the
                            // writer (`checkpoints`), not by the commit that crosses the
                            // threshold while everyone queued behind it waits; this high mark
                            // only bounds the WAL should that task fall behind.
                            conn.execute("PRAGMA wal_autocheckpoint = 16000").await?;
                            conn.execute(format!("PRAGMA busy_timeout = {busy_ms}").as_str())
                                .await?;
                        } else {
                            // `Script::inline_sql` writes text as standard SQL literals (a
                            // backslash is a backslash): this is PostgreSQL's default, made sure.
                            conn.execute("SET standard_conforming_strings = on").await?;
                        }
                        Ok(())
                    })
                })
        };
        let pool = options(max_connections).connect(url).await?;
        let writer = match backend {
            // The pool hands its one connection out in the order it was asked for.
            Backend::Sqlite => Some(options(1).connect(url).await?),
            Backend::Postgres => None,
        };
        let wanted = Arc::new(Wanted::default());
        let scripts = writer.as_ref().and_then(|w| {
            let runtime = tokio::runtime::Handle::try_current().ok()?;
            let (queue, jobs) = tokio::sync::mpsc::unbounded_channel();
            runtime.spawn(group_commit(w.clone(), jobs, wanted.clone()));
            runtime.spawn(checkpoints(pool.clone()));
            Some(Queue(queue))
        });
        Ok(Db {
            pool,
            backend,
            writer,
            scripts,
            wanted,
        })
    }

    /// Applies the migrations of this backend.
    pub async fn migrate(&self) -> Result<(), DbError> {
        match self.backend {
            Backend::Sqlite => SQLITE_MIGRATOR.run(&self.pool).await?,
            Backend::Postgres => POSTGRES_MIGRATOR.run(&self.pool).await?,
        }
        Ok(())
    }

    /// The engine.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The pool, for plain queries.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Begins a transaction that will write. On SQLite it runs on the one writing connection,
    /// taken in turn, and takes the write lock at once (`BEGIN IMMEDIATE`), so two writers wait
    /// for each other instead of failing half-way.
    pub async fn begin_write(&self) -> Result<Transaction<'static, sqlx::Any>, DbError> {
        let tx = match &self.writer {
            Some(writer) => {
                // Counted while waiting, also when the wait is given up (a dropped future):
                // a count left behind would keep the group commit from holding the connection.
                let _waiting = Waiting::new(&self.wanted);
                writer.begin_with("BEGIN IMMEDIATE").await?
            }
            None => self.pool.begin().await?,
        };
        Ok(tx)
    }

    /// Runs `script` as one write transaction and returns the rows its statements return (in
    /// order).
    ///
    /// On SQLite the scripts of concurrent callers are committed together (group commit): a
    /// task takes every script waiting when the writing connection comes free and runs them in
    /// one transaction, each script as one multi-statement query: one trip to the driver's
    /// connection thread per script and one durable commit for all of them. A batch that
    /// fails is rolled back whole and its scripts run again one by one, so one bad script fails
    /// alone. On PostgreSQL (which prepares one statement at a time) the script goes as one
    /// simple query with its values written in as literals ([`Script::inline_sql`]): PostgreSQL
    /// runs the statements of one such query as one transaction, in one round trip (a script
    /// of ten statements took ten, and the year's counter row, locked by a registration's first
    /// statement, stayed locked across all of them). A value that cannot be written as a
    /// literal (text with a NUL) sends the statements one by one with bound parameters.
    pub async fn run(&self, script: Script) -> Result<Vec<AnyRow>, DbError> {
        let Some(writer) = &self.writer else {
            if let Some(sql) = script.inline_sql() {
                let mut conn = self.pool.acquire().await?;
                // A query without arguments goes by the simple protocol.
                return Ok(conn.fetch_all(sql.as_str()).await?);
            }
            let mut tx = self.pool.begin().await?;
            let mut rows = Vec::new();
            for (sql, args) in &script.statements {
                let q = args.iter().fold(sqlx::query(sql), |q, a| a.bind_to(q));
                rows.extend(q.fetch_all(&mut *tx).await?);
            }
            tx.commit().await?;
            return Ok(rows);
        };
        let script = match &self.scripts {
            Some(queue) => {
                let (done, answer) = tokio::sync::oneshot::channel();
                match queue.0.send(Job { script, done }) {
                    Ok(()) => {
                        return answer
                            .await
                            .unwrap_or(Err(DbError::Sql(sqlx::Error::PoolClosed)))
                    }
                    // The committing task is gone (its runtime ended): commit here.
                    Err(tokio::sync::mpsc::error::SendError(job)) => job.script,
                }
            }
            None => script,
        };
        let mut rows = commit_scripts(writer, &mut None, &[&script]).await?;
        Ok(rows.pop().unwrap_or_default())
    }

    /// Closes the pool.
    pub async fn close(&self) {
        if let Some(writer) = &self.writer {
            // The group commit gives the writing connection back and keeps it no more (closing
            // waits for every connection to come back).
            self.wanted.waiting.fetch_add(1, Ordering::AcqRel);
            self.wanted.notify.notify_one();
            writer.close().await;
        }
        self.pool.close().await;
    }
}

/// A value for a [`Script`] statement: text, a 64-bit integer or bytes, each maybe NULL (the
/// types the register stores).
#[derive(Debug, Clone)]
pub enum Arg {
    /// Text.
    Text(Option<String>),
    /// Integer.
    Int(Option<i64>),
    /// Bytes (BLOB, BYTEA).
    Bytes(Option<Vec<u8>>),
}

impl Arg {
    fn bind_to<'q>(
        &'q self,
        q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
        match self {
            Arg::Text(v) => q.bind(v.as_deref()),
            Arg::Int(v) => q.bind(*v),
            Arg::Bytes(v) => q.bind(v.as_deref()),
        }
    }
}

impl Arg {
    /// Writes the value as a PostgreSQL literal of its type ([`Script::inline_sql`]); `None` for
    /// text with a NUL.
    fn write_literal(&self, out: &mut String) -> Option<()> {
        match self {
            Arg::Text(None) => out.push_str("CAST(NULL AS TEXT)"),
            Arg::Int(None) => out.push_str("CAST(NULL AS BIGINT)"),
            Arg::Bytes(None) => out.push_str("CAST(NULL AS BYTEA)"),
            Arg::Text(Some(t)) => {
                if t.contains('\0') {
                    return None;
                }
                out.push_str("CAST('");
                out.push_str(&t.replace('\'', "''"));
                out.push_str("' AS TEXT)");
            }
            Arg::Int(Some(n)) => {
                let _ = write!(out, "CAST({n} AS BIGINT)");
            }
            Arg::Bytes(Some(b)) => {
                out.push_str("CAST('\\x");
                for byte in b {
                    let _ = write!(out, "{byte:02x}");
                }
                out.push_str("' AS BYTEA)");
            }
        }
        Some(())
    }
}

impl From<&str> for Arg {
    fn from(v: &str) -> Arg {
        Arg::Text(Some(v.to_string()))
    }
}

impl From<String> for Arg {
    fn from(v: String) -> Arg {
        Arg::Text(Some(v))
    }
}

impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Arg {
        Arg::Text(v)
    }
}

impl From<Option<&str>> for Arg {
    fn from(v: Option<&str>) -> Arg {
        Arg::Text(v.map(str::to_string))
    }
}

impl From<Vec<u8>> for Arg {
    fn from(v: Vec<u8>) -> Arg {
        Arg::Bytes(Some(v))
    }
}

impl From<i64> for Arg {
    fn from(v: i64) -> Arg {
        Arg::Int(Some(v))
    }
}

/// Statements that write together, in one transaction ([`Db::run`]). Each statement numbers its
/// own parameters from `$1`; it must hold no `$` other than its parameters.
#[derive(Debug, Default)]
pub struct Script {
    statements: Vec<(String, Vec<Arg>)>,
}

impl Script {
    /// An empty script.
    pub fn new() -> Script {
        Script::default()
    }

    /// Appends a statement with its arguments.
    pub fn push(&mut self, sql: impl Into<String>, args: Vec<Arg>) {
        self.statements.push((sql.into(), args));
    }

    /// Its statements as one query, parameters numbered across them.
    fn sql(&self) -> String {
        let mut sql = String::new();
        let mut offset = 0;
        for (statement, args) in &self.statements {
            sql.push_str(&renumber(statement, offset));
            sql.push_str(";\n");
            offset += args.len();
        }
        sql
    }

    /// The script as one text for PostgreSQL's simple query protocol: its statements separated
    /// by `;`, each `$n` replaced by its value as a typed literal (`CAST('…' AS TEXT)` with
    /// quotes doubled, `CAST(n AS BIGINT)`, `CAST('\x…' AS BYTEA)`, `CAST(NULL AS …)`), so each
    /// value keeps the type a bound parameter has. Needs `standard_conforming_strings` (set on
    /// every PostgreSQL connection). `None` when a text holds a NUL (no literal can).
    pub fn inline_sql(&self) -> Option<String> {
        let mut sql = String::new();
        for (statement, args) in &self.statements {
            placeholders(statement, &mut sql, |n, out| {
                match n.checked_sub(1).and_then(|i| args.get(i)) {
                    Some(arg) => arg.write_literal(out),
                    None => {
                        let _ = write!(out, "${n}");
                        Some(())
                    }
                }
            })?;
            sql.push_str(";\n");
        }
        Some(sql)
    }

    /// Parameters of all its statements.
    fn args(&self) -> usize {
        self.statements.iter().map(|(_, a)| a.len()).sum()
    }

    /// Appends a statement made elsewhere (`(sql, args)`).
    pub fn add(&mut self, (sql, args): (impl Into<String>, Vec<Arg>)) {
        self.push(sql, args);
    }
}

/// Runs one statement (as a [`Script`] holds them) inside a caller's transaction; returns the
/// rows it changed.
pub async fn execute_in(
    tx: &mut Transaction<'static, sqlx::Any>,
    sql: &str,
    args: &[Arg],
) -> Result<u64, DbError> {
    let q = args.iter().fold(sqlx::query(sql), |q, a| a.bind_to(q));
    Ok(q.execute(&mut **tx).await?.rows_affected())
}

/// Copies SQLite's WAL back into the database every half second from a reading connection
/// (`PASSIVE`: it takes what no reader still needs and never blocks the writer), so commits do
/// not stop to do it. Ends when the pool is closed.
async fn checkpoints(pool: AnyPool) {
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if pool.is_closed() {
            return;
        }
        if let Err(e) = pool.execute("PRAGMA wal_checkpoint(PASSIVE)").await {
            if pool.is_closed() {
                return;
            }
            tracing::debug!(error = %e, "WAL checkpoint");
        }
    }
}

/// A script waiting for the group commit, and where its rows go.
struct Job {
    script: Script,
    done: tokio::sync::oneshot::Sender<Result<Vec<AnyRow>, DbError>>,
}

/// Scripts in one group commit at most, and their parameters at most (a bound on how much one
/// commit carries, so a burst is split into commits of a reasonable size).
const GROUP_SCRIPTS: usize = 32;
const GROUP_ARGS: usize = 16_000;

/// Commits the scripts that queue for SQLite's writing connection, as many together as are
/// waiting when it comes free ([`Db::run`]).
async fn group_commit(
    writer: AnyPool,
    mut jobs: tokio::sync::mpsc::UnboundedReceiver<Job>,
    wanted: Arc<Wanted>,
) {
    let mut next: Option<Job> = None;
    // The writing connection is kept between groups (handing it back to its pool costs a round
    // trip to its thread each time: the pool pings every connection it takes back) until a
    // caller of `begin_write` wants it.
    let mut held: Option<sqlx::pool::PoolConnection<sqlx::Any>> = None;
    loop {
        if wanted.waiting.load(Ordering::Acquire) > 0 {
            held = None;
        }
        let first = match next.take() {
            Some(job) => job,
            None if held.is_some() => tokio::select! {
                job = jobs.recv() => match job {
                    Some(job) => job,
                    None => return,
                },
                () = wanted.notify.notified() => {
                    held = None;
                    continue;
                }
            },
            None => match jobs.recv().await {
                Some(job) => job,
                None => return,
            },
        };
        let mut args = first.script.args();
        let mut group = vec![first];
        while group.len() < GROUP_SCRIPTS {
            let Ok(job) = jobs.try_recv() else { break };
            if args + job.script.args() > GROUP_ARGS {
                next = Some(job);
                break;
            }
            args += job.script.args();
            group.push(job);
        }
        let scripts: Vec<&Script> = group.iter().map(|j| &j.script).collect();
        match commit_scripts(&writer, &mut held, &scripts).await {
            Ok(rows) => {
                for (job, rows) in group.into_iter().zip(rows) {
                    let _ = job.done.send(Ok(rows));
                }
            }
            Err(e) if group.len() == 1 => {
                if let Some(job) = group.pop() {
                    let _ = job.done.send(Err(e));
                }
            }
            Err(_) => {
                // One of them failed: each on its own, so only that one fails.
                for job in group {
                    let one = commit_scripts(&writer, &mut held, &[&job.script]).await;
                    let _ = job
                        .done
                        .send(one.map(|mut rows| rows.pop().unwrap_or_default()));
                }
            }
        }
    }
}

/// Commits `scripts` in one SQLite transaction on the held connection (taken from `writer`
/// when none is held); returns each script's rows. Each script goes as one multi-statement
/// query whose text depends only on its shape, so the driver's statement cache keeps it
/// prepared (a query made of the whole group would be new text, parsed anew, every time).
async fn commit_scripts(
    writer: &AnyPool,
    held: &mut Option<sqlx::pool::PoolConnection<sqlx::Any>>,
    scripts: &[&Script],
) -> Result<Vec<Vec<AnyRow>>, DbError> {
    let conn = match held {
        Some(conn) => conn,
        None => held.insert(writer.acquire().await?),
    };
    if let Err(e) = conn.execute("BEGIN IMMEDIATE").await {
        // A connection that cannot begin is given up (the pool opens another next time).
        held.take().map(|c| c.detach());
        return Err(e.into());
    }
    let mut out = Vec::with_capacity(scripts.len());
    let mut failed = None;
    for script in scripts {
        let sql = script.sql();
        let q = script
            .statements
            .iter()
            .flat_map(|(_, args)| args)
            .fold(sqlx::query(&sql), |q, a| a.bind_to(q));
        match q.fetch_all(&mut **conn).await {
            Ok(rows) => out.push(rows),
            Err(e) => {
                failed = Some(e);
                break;
            }
        }
    }
    let failed = match failed {
        None => conn.execute("COMMIT").await.err(),
        Some(e) => Some(e),
    };
    match failed {
        None => Ok(out),
        Some(e) => {
            // Nothing of the scripts may stay, and the connection must not be used again
            // inside an open transaction.
            if conn.execute("ROLLBACK").await.is_err() {
                held.take().map(|c| c.detach());
            }
            Err(e.into())
        }
    }
}

/// `sql` with each parameter `$n` written `$(n + offset)`.
fn renumber(sql: &str, offset: usize) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let _ = placeholders(sql, &mut out, |n, out| {
        let _ = write!(out, "${}", n + offset);
        Some(())
    });
    out
}

/// Appends `sql` to `out` with each placeholder `$n` written as `value` writes it (a `$` not
/// followed by a number is kept as it is); `None` when `value` gives up.
fn placeholders(
    sql: &str,
    out: &mut String,
    mut value: impl FnMut(usize, &mut String) -> Option<()>,
) -> Option<()> {
    let mut rest = sql;
    while let Some(at) = rest.find('$') {
        out.push_str(rest.get(..at).unwrap_or_default());
        let after = rest.get(at + 1..).unwrap_or_default();
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        let number = after.get(..digits).unwrap_or_default();
        match number.parse::<usize>() {
            Ok(n) => value(n, out)?,
            Err(_) => {
                out.push('$');
                out.push_str(number);
            }
        }
        rest = after.get(digits..).unwrap_or_default();
    }
    out.push_str(rest);
    Some(())
}

fn ensure_sqlite_dir(url: &str) {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .split('?')
        .next()
        .unwrap_or("");
    if let Some(parent) = std::path::Path::new(path).parent() {
        if !parent.as_os_str().is_empty() {
            // A failure here shows up as a clear connect error just after.
            let _ = std::fs::create_dir_all(parent);
        }
    }
}

/// Reads an optional text column.
pub fn opt_text(row: &AnyRow, col: &str) -> Result<Option<String>, DbError> {
    Ok(row.try_get::<Option<String>, _>(col)?)
}

/// Reads a text column.
pub fn text(row: &AnyRow, col: &str) -> Result<String, DbError> {
    Ok(row.try_get::<String, _>(col)?)
}

/// Reads an integer column.
pub fn int(row: &AnyRow, col: &str) -> Result<i64, DbError> {
    Ok(row.try_get::<i64, _>(col)?)
}

/// Reads an optional integer column.
pub fn opt_int(row: &AnyRow, col: &str) -> Result<Option<i64>, DbError> {
    Ok(row.try_get::<Option<i64>, _>(col)?)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn parameters_are_renumbered_after_the_statements_before() {
        assert_eq!(
            renumber("INSERT INTO t VALUES ($1, $2, $10) RETURNING $1", 3),
            "INSERT INTO t VALUES ($4, $5, $13) RETURNING $4"
        );
        assert_eq!(renumber("SELECT 1", 7), "SELECT 1");
        assert_eq!(renumber("SELECT '$' || $1", 1), "SELECT '$' || $2");
    }

    #[test]
    fn a_script_is_written_out_with_typed_literals_for_postgresql() {
        let mut s = Script::new();
        s.push(
            "INSERT INTO t (a, b, c, d) VALUES ($1, $2, $3, $4)",
            vec![
                "O'Brien \\ $2 --".into(),
                (-7i64).into(),
                Arg::Text(None),
                vec![0u8, 0xff, 0x10].into(),
            ],
        );
        let ten: Vec<Arg> = (1..=11i64).map(Arg::from).collect();
        s.push("SELECT $11, $1, $10, '$' || $2, $12", ten);
        assert_eq!(
            s.inline_sql().unwrap(),
            "INSERT INTO t (a, b, c, d) VALUES (CAST('O''Brien \\ $2 --' AS TEXT), \
             CAST(-7 AS BIGINT), CAST(NULL AS TEXT), CAST('\\x00ff10' AS BYTEA));\n\
             SELECT CAST(11 AS BIGINT), CAST(1 AS BIGINT), CAST(10 AS BIGINT), '$' || \
             CAST(2 AS BIGINT), $12;\n"
        );
        // A value's own text is never read for placeholders, and a NUL cannot be written.
        let mut s = Script::new();
        s.push("SELECT $1", vec!["a\0b".into()]);
        assert!(s.inline_sql().is_none());
    }

    async fn sqlite() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
        let db = Db::connect(&url, 2, 5).await.unwrap();
        sqlx::query("CREATE TABLE t (k TEXT PRIMARY KEY, n BIGINT)")
            .execute(db.pool())
            .await
            .unwrap();
        (dir, db)
    }

    fn insert(script: &mut Script, k: &str, n: i64) {
        script.push(
            "INSERT INTO t (k, n) VALUES ($1, $2) RETURNING n + 1 AS next",
            vec![k.into(), n.into()],
        );
    }

    #[tokio::test]
    async fn a_script_commits_every_statement_and_returns_their_rows() {
        let (_dir, db) = sqlite().await;
        let mut s = Script::new();
        insert(&mut s, "a", 1);
        s.push(
            "UPDATE t SET n = n * $2 WHERE k = $1",
            vec!["a".into(), 10.into()],
        );
        insert(&mut s, "b", 5);
        let rows = db.run(s).await.unwrap();
        let next: Vec<i64> = rows.iter().map(|r| r.get("next")).collect();
        assert_eq!(next, [2, 6]);
        let n: i64 = sqlx::query_scalar("SELECT n FROM t WHERE k = 'a'")
            .fetch_one(db.pool())
            .await
            .unwrap();
        assert_eq!(n, 10);
    }

    #[tokio::test]
    async fn a_failing_statement_leaves_nothing_and_the_writer_goes_on() {
        let (_dir, db) = sqlite().await;
        let mut s = Script::new();
        insert(&mut s, "a", 1);
        insert(&mut s, "a", 2); // the same key: fails
        assert!(db.run(s).await.is_err());
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM t")
            .fetch_one(db.pool())
            .await
            .unwrap();
        assert_eq!(count, 0);
        // The writing connection is not left inside the failed transaction.
        let mut s = Script::new();
        insert(&mut s, "a", 3);
        db.run(s).await.unwrap();
        let mut tx = db.begin_write().await.unwrap();
        let n: i64 = sqlx::query_scalar("SELECT n FROM t WHERE k = 'a'")
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(n, 3);
    }

    #[tokio::test]
    async fn a_transaction_given_up_while_waiting_is_not_counted_as_waiting() {
        let (_dir, db) = sqlite().await;
        let tx = db.begin_write().await.unwrap();
        assert_eq!(db.wanted.waiting.load(Ordering::Acquire), 0);
        // The second waits for the first's connection, and is given up.
        let second = tokio::time::timeout(Duration::from_millis(50), db.begin_write()).await;
        assert!(second.is_err(), "it should have waited");
        assert_eq!(db.wanted.waiting.load(Ordering::Acquire), 0);
        tx.commit().await.unwrap();
        let mut s = Script::new();
        insert(&mut s, "after", 1);
        db.run(s).await.unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_group_commit_keeps_the_writer_only_until_a_transaction_wants_it() {
        let (_dir, db) = sqlite().await;
        let mut tasks = Vec::new();
        for i in 0..40i64 {
            let db = db.clone();
            tasks.push(tokio::spawn(async move {
                if i % 4 == 0 {
                    // A transaction between scripts: it gets the connection the group commit
                    // keeps, and the scripts go on after it.
                    let mut tx = db.begin_write().await.unwrap();
                    sqlx::query("INSERT INTO t (k, n) VALUES ($1, $2)")
                        .bind(format!("tx{i}"))
                        .bind(i)
                        .execute(&mut *tx)
                        .await
                        .unwrap();
                    tokio::time::sleep(Duration::from_millis(2)).await;
                    tx.commit().await.unwrap();
                } else {
                    let mut s = Script::new();
                    insert(&mut s, &format!("s{i}"), i);
                    db.run(s).await.unwrap();
                }
            }));
        }
        let all = futures::future::join_all(tasks);
        let done = tokio::time::timeout(Duration::from_secs(20), all).await;
        assert!(done.is_ok(), "a writer waited for ever");
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM t")
            .fetch_one(db.pool())
            .await
            .unwrap();
        assert_eq!(count, 40);
        // Closing takes the kept connection back.
        let closed = tokio::time::timeout(Duration::from_secs(10), db.close()).await;
        assert!(closed.is_ok(), "closing waited for the kept connection");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_scripts_commit_together_and_each_gets_its_own_rows() {
        let (_dir, db) = sqlite().await;
        // The writing connection held meanwhile: the scripts queue and go in groups.
        let held = db.begin_write().await.unwrap();
        let mut tasks = Vec::new();
        for i in 0..60i64 {
            let db = db.clone();
            tasks.push(tokio::spawn(async move {
                let mut s = Script::new();
                // Script 17 repeats script 16's key: it alone must fail.
                let key = if i == 17 { 16 } else { i };
                insert(&mut s, &format!("k{key}"), i);
                insert(&mut s, &format!("second{i}"), 100 + i);
                (i, db.run(s).await)
            }));
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        held.commit().await.unwrap();
        let mut failed = Vec::new();
        for t in tasks {
            let (i, result) = t.await.unwrap();
            match result {
                Ok(rows) => {
                    let next: Vec<i64> = rows.iter().map(|r| r.get("next")).collect();
                    assert_eq!(next, [i + 1, 101 + i], "script {i}");
                }
                Err(_) => failed.push(i),
            }
        }
        // Whichever of 16 and 17 came second failed, alone and whole.
        assert_eq!(failed.len(), 1, "{failed:?}");
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM t")
            .fetch_one(db.pool())
            .await
            .unwrap();
        assert_eq!(count, 2 * 59);
    }
}
