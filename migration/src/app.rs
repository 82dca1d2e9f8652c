//! The entry points for applications (the `dms` server): migrate through the
//! same guarded path as the CLI, and ask whether a database is at head.

use std::time::Duration;

use sea_orm_migration::sea_orm::{DatabaseConnection, DbBackend};

use crate::bookkeeping;
use crate::lock::{self, MigrationLock};
use crate::runner::{self, Error, Options, Outcome, Target};

/// How long [`upgrade`] waits for another migration of the same database.
pub const LOCK_TIMEOUT: Duration = Duration::from_secs(60);

/// Applies pending revisions up to `target`, as `migration upgrade` does:
/// on a connection of its own to `db`'s database, under the migration lock
/// (waiting up to [`LOCK_TIMEOUT`]), keeping `alembic_version`, adopting an
/// Alembic database, each revision as one unit.
pub async fn upgrade(db: &DatabaseConnection, target: Target) -> Result<Outcome, Error> {
    let session = runner::dedicated(db).await?;
    let lock = match session.get_database_backend() {
        DbBackend::Sqlite => match runner::sqlite_file(&session) {
            Some(path) => lock::file(&path, LOCK_TIMEOUT, || {}).await?,
            None => MigrationLock::None,
        },
        _ => lock::session(&session, LOCK_TIMEOUT, || {}).await?,
    };
    let outcome = runner::upgrade(&session, &target, &Options::default()).await;
    lock.release(&session).await;
    let _ = session.close().await;
    outcome
}

/// The revisions not applied to `db`, oldest first (empty: the database is
/// at head). Reads the bookkeeping only; takes no lock.
pub async fn pending(db: &DatabaseConnection) -> Result<Vec<&'static str>, Error> {
    Ok(bookkeeping::states(db)
        .await?
        .into_iter()
        .filter(|s| s.applied_at.is_none())
        .map(|s| s.name())
        .collect())
}
