//! The migration lock: one migrating process per database at a time.
//!
//! PostgreSQL: a session advisory lock (per database) held on a connection of
//! its own. MariaDB/MySQL: `GET_LOCK` on a name that includes the database
//! (its locks are server-wide). SQLite: an exclusive lock on a file beside the
//! database (`<file>.migrate.lock`), taken before the database is touched, so
//! that waiting processes never hold SQLite's own locks.
//! The lock goes with its session or file handle: a killed process frees it.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use sea_orm_migration::sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement,
};

use crate::runner::{Error, normalize_url, one_line, redact};

/// PostgreSQL advisory lock key: "DMSMIGR" in ASCII, a constant of this tool.
pub const PG_KEY: i64 = 0x0044_4d53_4d49_4752;
const POLL: Duration = Duration::from_millis(100);

/// A held lock; dropping it releases the lock.
pub enum MigrationLock {
    Server(DatabaseConnection),
    File(File),
    /// In-memory SQLite: no other process can see the database.
    None,
}

impl MigrationLock {
    /// Releases the lock now (dropping it does too, less politely).
    pub async fn release(self) {
        if let MigrationLock::Server(conn) = self {
            let sql = match conn.get_database_backend() {
                DbBackend::Postgres => format!("SELECT pg_advisory_unlock({PG_KEY})"),
                _ => "SELECT RELEASE_LOCK(CONCAT('dms_migrate:', DATABASE()))".to_owned(),
            };
            let _ = conn.execute_unprepared(&sql).await;
            let _ = conn.close().await;
        }
    }
}

/// The file path of a SQLite URL, `None` for an in-memory database.
fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() || path == ":memory:" || query.contains("mode=memory") {
        return None;
    }
    Some(PathBuf::from(path))
}

/// Takes the migration lock of the database at `url`, waiting up to
/// `timeout` for another process to release it; `on_wait` runs once, when
/// the lock is found taken.
pub async fn acquire(
    url: &str,
    timeout: Duration,
    mut on_wait: impl FnMut(),
) -> Result<MigrationLock, Error> {
    let url = normalize_url(url)?;
    let started = Instant::now();
    let mut waited = false;
    // Called each time the lock is found taken.
    let mut taken = || -> Result<(), Error> {
        if !waited {
            waited = true;
            on_wait();
        }
        if started.elapsed() >= timeout {
            return Err(Error::LockTimeout(timeout.as_secs()));
        }
        Ok(())
    };

    if url.starts_with("sqlite") {
        let Some(path) = sqlite_path(&url) else {
            return Ok(MigrationLock::None);
        };
        let mut lock_path = path.into_os_string();
        lock_path.push(".migrate.lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| Error::Connect {
                url: redact(&url),
                reason: format!("cannot open the lock file {}: {e}", lock_path.display()),
            })?;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(MigrationLock::File(file)),
                Err(TryLockError::WouldBlock) => {
                    taken()?;
                    tokio::time::sleep(POLL).await;
                }
                Err(TryLockError::Error(e)) => {
                    return Err(Error::Connect {
                        url: redact(&url),
                        reason: format!("cannot lock {}: {e}", lock_path.display()),
                    });
                }
            }
        }
    }

    let mut options = ConnectOptions::new(url.clone());
    options
        .max_connections(1)
        .min_connections(1)
        .sqlx_logging(false)
        .connect_timeout(Duration::from_secs(10));
    let conn = Database::connect(options)
        .await
        .map_err(|e| Error::Connect {
            url: redact(&url),
            reason: one_line(&e.to_string()),
        })?;
    let backend = conn.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => format!("SELECT pg_try_advisory_lock({PG_KEY})"),
        _ => "SELECT GET_LOCK(CONCAT('dms_migrate:', DATABASE()), 0)".to_owned(),
    };
    loop {
        let row = conn
            .query_one_raw(Statement::from_string(backend, sql.clone()))
            .await?;
        let got = match (row, backend) {
            (Some(row), DbBackend::Postgres) => row.try_get_by_index::<bool>(0)?,
            // GET_LOCK answers 1, 0 (taken) or NULL (error).
            (Some(row), _) => row.try_get_by_index::<Option<i64>>(0)? == Some(1),
            (None, _) => false,
        };
        if got {
            return Ok(MigrationLock::Server(conn));
        }
        taken()?;
        tokio::time::sleep(POLL).await;
    }
}
