//! The migration lock: one migrating process per database at a time.
//!
//! PostgreSQL: a session advisory lock (per database) on the run's one
//! connection. MariaDB/MySQL: `GET_LOCK` on a name that includes the database
//! (its locks are server-wide). SQLite: an exclusive lock on a file beside the
//! database (`<file>.migrate.lock`), taken before the database is touched, so
//! that waiting processes never hold SQLite's own locks.
//! The lock goes with its session or file handle: a killed process frees it.
//!
//! A waiter polls with `pg_try_advisory_lock` and sleeps between polls, so it
//! never sits in a statement (or a snapshot) while it waits: a blocking
//! `pg_advisory_lock` would hold one, and the holder's
//! `CREATE INDEX CONCURRENTLY`, which waits for every older snapshot to end,
//! would then wait for the waiter that waits for it.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};

use crate::runner::Error;

/// PostgreSQL advisory lock key: "DMSMIGR" in ASCII, a constant of this tool.
pub const PG_KEY: i64 = 0x0044_4d53_4d49_4752;
const MYSQL_NAME: &str = "CONCAT('dms_migrate:', DATABASE())";
const POLL: Duration = Duration::from_millis(100);

/// A held lock.
#[must_use = "a lock is released by `release` (or when the process ends)"]
pub enum MigrationLock {
    /// Held by the session of the run's connection.
    Session,
    File(File),
    /// In-memory SQLite: no other process can see the database.
    None,
}

impl MigrationLock {
    /// Releases the lock now (the end of the session or process does too).
    pub async fn release(self, db: &DatabaseConnection) {
        if let MigrationLock::Session = self {
            let sql = match db.get_database_backend() {
                DbBackend::Postgres => format!("SELECT pg_advisory_unlock({PG_KEY})"),
                _ => format!("SELECT RELEASE_LOCK({MYSQL_NAME})"),
            };
            let _ = db.execute_unprepared(&sql).await;
        }
    }
}

/// The file path of a SQLite URL, `None` for an in-memory database.
pub fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() || path == ":memory:" || query.contains("mode=memory") {
        return None;
    }
    Some(PathBuf::from(path))
}

/// Waits for a lock: `try_take` answers whether it got it; `on_wait` runs
/// once, when the lock is first found taken.
async fn wait_for<F, Fut>(
    timeout: Duration,
    mut on_wait: impl FnMut(),
    mut try_take: F,
) -> Result<(), Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<bool, Error>>,
{
    let started = Instant::now();
    let mut waited = false;
    loop {
        if try_take().await? {
            return Ok(());
        }
        if !waited {
            waited = true;
            on_wait();
        }
        if started.elapsed() >= timeout {
            return Err(Error::LockTimeout(timeout.as_secs()));
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Takes the lock file beside the SQLite database `path`.
pub async fn file(
    path: &Path,
    timeout: Duration,
    on_wait: impl FnMut(),
) -> Result<MigrationLock, Error> {
    let mut lock_path = path.as_os_str().to_owned();
    lock_path.push(".migrate.lock");
    let lock_path = PathBuf::from(lock_path);
    let failed = |source| Error::LockFile {
        path: lock_path.display().to_string(),
        source,
    };
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(failed)?;
    wait_for(timeout, on_wait, || async {
        match file.try_lock() {
            Ok(()) => Ok(true),
            Err(TryLockError::WouldBlock) => Ok(false),
            Err(TryLockError::Error(e)) => Err(failed(e)),
        }
    })
    .await?;
    Ok(MigrationLock::File(file))
}

/// Takes the lock of a SQLite URL's file (nothing for an in-memory database).
pub async fn for_sqlite_url(
    url: &str,
    timeout: Duration,
    on_wait: impl FnMut(),
) -> Result<MigrationLock, Error> {
    match sqlite_path(url) {
        Some(path) => file(&path, timeout, on_wait).await,
        None => Ok(MigrationLock::None),
    }
}

/// Takes the session lock on `db`'s connection (PostgreSQL, MySQL). `db`
/// must hold one connection (see `runner::connect`): the lock belongs to
/// the session that took it.
pub async fn session(
    db: &DatabaseConnection,
    timeout: Duration,
    on_wait: impl FnMut(),
) -> Result<MigrationLock, Error> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => format!("SELECT pg_try_advisory_lock({PG_KEY})"),
        DbBackend::MySql => format!("SELECT GET_LOCK({MYSQL_NAME}, 0)"),
        _ => return Ok(MigrationLock::None),
    };
    wait_for(timeout, on_wait, || async {
        let row = db
            .query_one_raw(Statement::from_string(backend, sql.clone()))
            .await?;
        Ok(match (row, backend) {
            (Some(row), DbBackend::Postgres) => row.try_get_by_index::<bool>(0)?,
            // GET_LOCK answers 1, 0 (taken) or NULL (error).
            (Some(row), _) => row.try_get_by_index::<Option<i64>>(0)? == Some(1),
            (None, _) => false,
        })
    })
    .await?;
    Ok(MigrationLock::Session)
}
