//! Database URLs and the one connection a run uses.

use sea_orm_migration::sea_orm::sqlx;
use sea_orm_migration::sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DbBackend, DbErr, RuntimeErr, SqlxMySqlConnector,
    SqlxPostgresConnector, SqlxSqliteConnector,
};

use super::error::{Error, describe, one_line};
use super::timeouts::CONNECT_TIMEOUT;

/// The embedded database used when no `DATABASE_URL` is configured.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://dms.db?mode=rwc";

/// The URL with its password replaced by `***`, for messages.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) if userinfo.contains(':') => {
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}")
        }
        _ => url.to_owned(),
    }
}

/// Checks a database URL and maps `mariadb://` to the `mysql://` driver.
pub fn normalize_url(url: &str) -> Result<String, Error> {
    let url = url.trim();
    let Some((scheme, rest)) = url.split_once(':') else {
        return Err(Error::MalformedUrl(redact(url)));
    };
    let server = |driver: &str| {
        let authority = rest.strip_prefix("//").unwrap_or_default();
        let host = authority.rsplit('@').next().unwrap_or_default();
        if host.is_empty() || host.starts_with('/') || host.starts_with(':') {
            return Err(Error::MalformedUrl(redact(url)));
        }
        Ok(format!("{driver}:{rest}"))
    };
    match scheme.to_ascii_lowercase().as_str() {
        "sqlite" if rest.trim_start_matches('/').is_empty() => {
            Err(Error::MalformedUrl(redact(url)))
        }
        "sqlite" => Ok(url.to_owned()),
        "postgres" | "postgresql" => server("postgres"),
        "mysql" | "mariadb" => server("mysql"),
        "" => Err(Error::MalformedUrl(redact(url))),
        other => Err(Error::UnsupportedScheme(other.to_owned())),
    }
}

/// The backend a URL's scheme names.
pub fn backend_of(url: &str) -> Result<DbBackend, Error> {
    let url = normalize_url(url)?;
    Ok(if url.starts_with("postgres") {
        DbBackend::Postgres
    } else if url.starts_with("mysql") {
        DbBackend::MySql
    } else {
        DbBackend::Sqlite
    })
}

fn connect_error(url: &str, source: DbErr) -> Error {
    Error::Connect {
        url: redact(url),
        reason: describe(&source),
        source,
    }
}

/// The server's TCP address of a PostgreSQL or MySQL URL (`None`: SQLite,
/// a Unix socket, or a URL the driver will reject with its own message).
fn server_address(url: &str) -> Option<(String, u16)> {
    let (host, port, socket) = if url.starts_with("postgres") {
        let options: sqlx::postgres::PgConnectOptions = url.parse().ok()?;
        let socket = options.get_socket().is_some();
        (options.get_host().to_owned(), options.get_port(), socket)
    } else if url.starts_with("mysql") {
        let options: sqlx::mysql::MySqlConnectOptions = url.parse().ok()?;
        let socket = options.get_socket().is_some();
        (options.get_host().to_owned(), options.get_port(), socket)
    } else {
        return None;
    };
    (!socket && !host.starts_with('/')).then_some((host, port))
}

/// Whether the server answers on TCP. The driver's pool retries a refused
/// connection until its timeout and then reports no cause; this says at
/// once why the server cannot be reached.
async fn reachable(url: &str) -> Result<(), DbErr> {
    let Some((host, port)) = server_address(url) else {
        return Ok(());
    };
    let io = |e: std::io::Error| DbErr::Conn(RuntimeErr::SqlxError(sqlx::Error::Io(e).into()));
    match tokio::time::timeout(
        CONNECT_TIMEOUT,
        tokio::net::TcpStream::connect((host, port)),
    )
    .await
    {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(io(e)),
        Err(_) => Err(DbErr::Conn(RuntimeErr::SqlxError(
            sqlx::Error::PoolTimedOut.into(),
        ))),
    }
}

/// Connects to `url` with one connection: the migration lock is a session
/// lock on it, and on SQLite the `PRAGMA foreign_keys` a revision sets must
/// hold on the connection that runs it. Fails within [`CONNECT_TIMEOUT`]
/// with the real cause (refused, unknown host, authentication, no such
/// database) in one line.
pub async fn connect(url: &str) -> Result<DatabaseConnection, Error> {
    let url = normalize_url(url)?;
    create_private_sqlite_file(&url);
    let mut options = ConnectOptions::new(url.clone());
    options
        .sqlx_logging(false)
        .max_connections(1)
        .min_connections(1)
        .connect_timeout(CONNECT_TIMEOUT)
        .acquire_timeout(CONNECT_TIMEOUT)
        // The connection must stay the same for the whole run (it holds the lock).
        .idle_timeout(None)
        .max_lifetime(None)
        .test_before_acquire(false);
    reachable(&url).await.map_err(|e| connect_error(&url, e))?;
    let connecting = tokio::time::timeout(CONNECT_TIMEOUT, Database::connect(options));
    match connecting.await {
        Ok(Ok(db)) => Ok(db),
        Ok(Err(e)) => Err(connect_error(&url, e)),
        Err(_) => Err(connect_error(
            &url,
            DbErr::Conn(RuntimeErr::SqlxError(sqlx::Error::PoolTimedOut.into())),
        )),
    }
}

/// A connection of its own to the database `db` connects to, with `db`'s
/// options: the session that holds the lock and runs the revisions, whatever
/// pool the application gave.
pub(crate) async fn dedicated(db: &DatabaseConnection) -> Result<DatabaseConnection, Error> {
    fn pool_options<DB: sqlx::Database>() -> sqlx::pool::PoolOptions<DB> {
        sqlx::pool::PoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .acquire_timeout(CONNECT_TIMEOUT)
            .idle_timeout(None)
            .max_lifetime(None)
            .test_before_acquire(false)
    }
    let failed = |e: sqlx::Error| Error::Connect {
        url: "the application's database".to_owned(),
        reason: one_line(&e.to_string()),
        source: DbErr::Conn(RuntimeErr::SqlxError(e.into())),
    };
    Ok(match db.get_database_backend() {
        DbBackend::Postgres => {
            let options = db.get_postgres_connection_pool().connect_options();
            let pool = pool_options()
                .connect_with((*options).clone())
                .await
                .map_err(failed)?;
            SqlxPostgresConnector::from_sqlx_postgres_pool(pool)
        }
        DbBackend::MySql => {
            let options = db.get_mysql_connection_pool().connect_options();
            let pool = pool_options()
                .connect_with((*options).clone())
                .await
                .map_err(failed)?;
            SqlxMySqlConnector::from_sqlx_mysql_pool(pool)
        }
        _ => {
            let options = db.get_sqlite_connection_pool().connect_options();
            let pool = pool_options()
                .connect_with((*options).clone())
                .await
                .map_err(failed)?;
            SqlxSqliteConnector::from_sqlx_sqlite_pool(pool)
        }
    })
}

/// Creates the SQLite file a `mode=rwc` URL names, readable and writable by
/// its owner only (0600), when it does not exist yet: SQLite would create
/// it with the process's umask (usually readable by every local account),
/// and its journal files take the database file's mode. Anything in the way
/// is left for the connection to report.
pub fn create_private_sqlite_file(url: &str) {
    let rest = url
        .strip_prefix("sqlite:")
        .map(|r| r.strip_prefix("//").unwrap_or(r))
        .unwrap_or_default();
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let path = std::path::PathBuf::from(path);
    let creates = query.split('&').any(|p| p == "mode=rwc");
    if path.as_os_str().is_empty() || path.as_os_str() == ":memory:" || !creates {
        return;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    // An existing file (AlreadyExists) keeps the mode its owner gave it.
    let _ = options.open(&path);
}

/// The database file of a SQLite connection, `None` when in memory.
pub(crate) fn sqlite_file(db: &DatabaseConnection) -> Option<std::path::PathBuf> {
    let options = db.get_sqlite_connection_pool().connect_options();
    let path = options.get_filename();
    let text = path.to_string_lossy();
    if text.is_empty() || text == ":memory:" || text.contains("sqlx-in-memory") {
        return None;
    }
    Some(path.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_and_mariadb_maps_to_mysql() {
        assert_eq!(
            normalize_url("sqlite://dms.db?mode=rwc").unwrap(),
            "sqlite://dms.db?mode=rwc"
        );
        assert_eq!(
            normalize_url("mariadb://root@db:3306/dms").unwrap(),
            "mysql://root@db:3306/dms"
        );
        assert_eq!(
            normalize_url("postgresql://u@h/db").unwrap(),
            "postgres://u@h/db"
        );
        for bad in ["postgres://", "postgres:///db", "sqlite://", "dms.db", ""] {
            assert!(
                matches!(normalize_url(bad), Err(Error::MalformedUrl(_))),
                "{bad}"
            );
        }
        assert!(
            matches!(normalize_url("oracle://h/db"), Err(Error::UnsupportedScheme(s)) if s == "oracle")
        );
    }

    #[test]
    fn passwords_are_masked() {
        assert_eq!(
            redact("postgres://dms:s3cret@db:5432/dms"),
            "postgres://dms:***@db:5432/dms"
        );
        assert_eq!(redact("postgres://dms@db/dms"), "postgres://dms@db/dms");
        assert_eq!(redact("sqlite://dms.db"), "sqlite://dms.db");
    }
}
