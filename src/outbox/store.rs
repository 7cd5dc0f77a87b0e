//! The `outbox` table: queued, sent, failed and suppressed mail.

use crate::storage::db::{Db, DbError};

/// Rows per state.
pub async fn counts(db: &Db) -> Result<Vec<(String, i64)>, DbError> {
    Ok(
        sqlx::query_as("SELECT state, COUNT(*) FROM outbox GROUP BY state ORDER BY state")
            .fetch_all(db.pool())
            .await?,
    )
}
