//! The database handle: one code path for embedded SQLite and PostgreSQL (sqlx `Any`).
//!
//! Queries use `$1` placeholders, which both drivers accept; values are text and 64-bit integers
//! only, so the `Any` driver maps them the same way on both. The few places where the engines
//! differ (claiming work with `FOR UPDATE SKIP LOCKED`, taking SQLite's write lock up front) ask
//! [`Db::backend`].

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Connection, Executor, Row, Transaction};
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
                            conn.execute(format!("PRAGMA busy_timeout = {busy_ms}").as_str())
                                .await?;
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
        Ok(Db {
            pool,
            backend,
            writer,
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
            Some(writer) => writer.begin_with("BEGIN IMMEDIATE").await?,
            None => self.pool.begin().await?,
        };
        Ok(tx)
    }

    /// Closes the pool.
    pub async fn close(&self) {
        if let Some(writer) = &self.writer {
            writer.close().await;
        }
        self.pool.close().await;
    }
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
