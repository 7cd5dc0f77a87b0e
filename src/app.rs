//! The gateway's shared context: configuration, database, blob store and compiled routing rules,
//! built once per process and handed to the channels, the workers and the web.

use crate::classify::Router;
use crate::config::Config;
use crate::signature::trust::{KindSettings, Trust};
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
    /// Trust material that is configured but cannot be read.
    #[error("trust material: {0}")]
    Trust(#[from] crate::signature::trust::TrustError),
    /// The receipts' seal is configured but cannot be used.
    #[error("receipt seal: {0}")]
    Seal(#[from] crate::receipt::ReceiptError),
}

/// Everything a process needs, shared behind an `Arc`.
pub struct App {
    /// Configuration.
    pub config: Config,
    /// Database.
    pub db: Db,
    /// Blob store.
    pub blobs: BlobStore,
    /// Routing rules.
    pub router: Router,
    /// Trust material (anchors, cached CRLs and intermediates, trusted lists), loaded once.
    pub trust: Trust,
    /// The office's seal for receipts (`[receipt]`; `None`: receipts unsigned).
    pub seal: Option<crate::receipt::Seal>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("config", &self.config)
            .field("db", &self.db)
            .field("trust_anchors", &self.trust.anchors.len())
            .field("trusted_lists", &self.trust.lists.len())
            .finish_non_exhaustive()
    }
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
        let trust = load_trust(&config)?;
        let seal = crate::receipt::Seal::load(&config.receipt)?;
        Ok(Arc::new(App {
            config,
            db,
            blobs,
            router,
            trust,
            seal,
        }))
    }
}

/// Loads the trust material of `[trust]`. A missing anchors folder means "no anchors yet" (every
/// signature then ends INDETERMINATE, never passed), said once in the log; anything present but
/// unreadable stops the start.
fn load_trust(config: &Config) -> Result<Trust, OpenError> {
    if !std::path::Path::new(&config.trust.anchors_dir).is_dir() {
        tracing::warn!(
            anchors_dir = %config.trust.anchors_dir,
            "no trust anchors folder: signatures are checked for integrity, none can pass"
        );
        return Ok(Trust {
            settings: KindSettings::from_config(&config.trust),
            ..Trust::default()
        });
    }
    let (trust, notes) = Trust::from_config(&config.trust, None)?;
    for note in notes {
        tracing::info!(note = %note, "trusted list");
    }
    Ok(trust)
}
