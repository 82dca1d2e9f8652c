//! Whether this server can serve now (`GET /api/ready`): its database
//! answers a cheap query, and its file storage takes a write. Each check
//! is bounded by [`CHECK_TIMEOUT`]; a check that fails says what is down.

use std::time::Duration;

use sea_orm::DatabaseConnection;

use crate::storage::Storage;

/// How long each check may take before it counts as down.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// The database answers `SELECT 1` in time.
pub async fn database_ready(db: &DatabaseConnection) -> Result<(), String> {
    match tokio::time::timeout(CHECK_TIMEOUT, crate::db::ping(db)).await {
        Ok(true) => Ok(()),
        Ok(false) => Err("the database does not answer".to_owned()),
        Err(_) => Err(format!(
            "the database did not answer within {} s",
            CHECK_TIMEOUT.as_secs()
        )),
    }
}

/// The file storage takes a write (a probe written and removed, in the
/// data directory or the bucket). The one place readiness asks the storage.
pub async fn storage_ready(storage: &Storage) -> Result<(), String> {
    match tokio::time::timeout(CHECK_TIMEOUT, storage.probe()).await {
        Ok(result) => result,
        Err(_) => Err(format!(
            "the file storage did not take a write within {} s",
            CHECK_TIMEOUT.as_secs()
        )),
    }
}
