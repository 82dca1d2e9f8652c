//! Whether this server can serve now (`GET /api/ready`): its database
//! answers a cheap query, and its file storage takes a write. Each check
//! is bounded by [`CHECK_TIMEOUT`]; a check that fails says what is down.

use std::time::Duration;

use sea_orm::DatabaseConnection;

use crate::storage::DataDir;

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

/// The file storage takes a write: a small probe file is written to the
/// data directory and removed. The one place readiness asks the storage
/// (another backend answers here too).
pub async fn storage_ready(data: &DataDir) -> Result<(), String> {
    let probe = data.root().join(format!(".ready-{}", uuid::Uuid::new_v4()));
    let write = async {
        tokio::fs::write(&probe, b"ready").await?;
        tokio::fs::remove_file(&probe).await
    };
    match tokio::time::timeout(CHECK_TIMEOUT, write).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => {
            let _ = tokio::fs::remove_file(&probe).await;
            Err(format!("the data directory is not writable: {e}"))
        }
        Err(_) => Err(format!(
            "the data directory did not take a write within {} s",
            CHECK_TIMEOUT.as_secs()
        )),
    }
}
