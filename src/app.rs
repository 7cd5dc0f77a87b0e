//! The gateway's shared context: configuration, database, blob store and compiled routing rules,
//! built once per process and handed to the channels, the workers and the web.

use crate::classify::Router;
use crate::config::Config;
use crate::storage::{register, BlobStore, Db};
use std::sync::Arc;

/// Errors while opening the gateway.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The database.
    #[error(transparent)]
    Db(#[from] crate::storage::DbError),
    /// The blob store.
    #[error(transparent)]
    Blob(#[from] crate::storage::blobs::BlobError),
}

/// Everything a process needs, shared behind an `Arc`.
#[derive(Debug)]
pub struct App {
    /// Configuration.
    pub config: Config,
    /// Database.
    pub db: Db,
    /// Blob store.
    pub blobs: BlobStore,
    /// Routing rules.
    pub router: Router,
}

impl App {
    /// Connects, migrates, and syncs departments from the configuration.
    pub async fn open(config: Config) -> Result<Arc<App>, OpenError> {
        let blobs = BlobStore::open(&config.storage.dir, config.storage.fsync)?;
        let db = Db::connect(
            &config.database_url(),
            config.database.max_connections,
            config.database.acquire_timeout_secs,
        )
        .await?;
        db.migrate().await?;
        register::sync_departments(&db, &config.routing.departments).await?;
        let router = Router::new(&config.routing);
        Ok(Arc::new(App {
            config,
            db,
            blobs,
            router,
        }))
    }
}
