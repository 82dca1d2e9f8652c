//! Test support shared by the `dms` and `migration` packages' tests: a
//! fresh, real database per test on every backend ([`TestDb`],
//! [`backend_tests!`]), the schema as the tests compare it ([`schema`]),
//! lock waits ([`lock_waits`]), the reference files and the migration CLI.
//! It depends on `migration`, never on `dms` (which depends on `migration`).
//!
//! SQLite always runs (a file in a temporary directory). PostgreSQL and
//! MariaDB/MySQL run when `DMS_TEST_POSTGRES_URL` / `DMS_TEST_MYSQL_URL` name
//! a server (`postgres://postgres@127.0.0.1:5432`, `mysql://root@127.0.0.1:3306`):
//! each test creates its own database there and drops it when done, so tests
//! run in parallel. With `DMS_TEST_REQUIRE_ALL=1` (CI) a missing URL fails
//! the test instead of skipping it.

pub mod lock_waits;
pub mod schema;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
    MySql,
}

impl Backend {
    fn server_env(self) -> Option<&'static str> {
        match self {
            Backend::Sqlite => None,
            Backend::Postgres => Some("DMS_TEST_POSTGRES_URL"),
            Backend::MySql => Some("DMS_TEST_MYSQL_URL"),
        }
    }

    pub fn db_backend(self) -> DbBackend {
        match self {
            Backend::Sqlite => DbBackend::Sqlite,
            Backend::Postgres => DbBackend::Postgres,
            Backend::MySql => DbBackend::MySql,
        }
    }
}

/// A database created for one test and dropped after it.
pub struct TestDb {
    pub backend: Backend,
    /// URL of the test's own database.
    pub url: String,
    /// Server URL and database name, for the drop (PostgreSQL, MySQL).
    server: Option<(String, String)>,
    dir: Option<tempfile::TempDir>,
}

/// The server URL without a trailing database path, and the admin database to connect to.
fn split_server(url: &str) -> String {
    let url = url.trim().trim_end_matches('/');
    match url.split_once("://") {
        Some((scheme, rest)) => match rest.split_once('/') {
            Some((authority, _)) => format!("{scheme}://{authority}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

fn unique_name() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "dms_test_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        nanos
    )
}

async fn admin_connect(backend: Backend, server: &str) -> DatabaseConnection {
    // PostgreSQL needs some database to connect to; MySQL needs none.
    let url = match backend {
        Backend::Postgres => format!("{server}/postgres"),
        _ => server.to_owned(),
    };
    Database::connect(&url)
        .await
        .unwrap_or_else(|e| panic!("cannot reach the test server {server}: {e}"))
}

impl TestDb {
    /// A fresh database, or `None` (test skipped) when the backend's server URL is not set.
    pub async fn new(backend: Backend) -> Option<TestDb> {
        let Some(var) = backend.server_env() else {
            let dir = tempfile::tempdir().expect("temp dir");
            let path = dir.path().join("dms.db");
            return Some(TestDb {
                backend,
                url: format!("sqlite://{}?mode=rwc", path.display()),
                server: None,
                dir: Some(dir),
            });
        };
        let Ok(server) = std::env::var(var) else {
            if std::env::var("DMS_TEST_REQUIRE_ALL").is_ok_and(|v| v == "1") {
                panic!("{var} is not set but DMS_TEST_REQUIRE_ALL=1");
            }
            eprintln!("skipped: {var} is not set");
            return None;
        };
        let server = split_server(&server);
        let name = unique_name();
        let admin = admin_connect(backend, &server).await;
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
        Some(TestDb {
            backend,
            url: format!("{server}/{name}"),
            server: Some((server, name)),
            dir: None,
        })
    }

    /// A fresh database of `backend` at head, migrated as the application
    /// migrates (`migration::upgrade`), or `None` as [`TestDb::new`].
    pub async fn migrated(backend: Backend) -> Option<TestDb> {
        let db = TestDb::new(backend).await?;
        let conn = db.connect().await;
        migration::upgrade(&conn, migration::Target::Head)
            .await
            .unwrap_or_else(|e| panic!("cannot migrate {}: {e}", db.url));
        let _ = conn.close().await;
        Some(db)
    }

    /// A connection as the application makes it (`migration::connect`).
    pub async fn connect(&self) -> DatabaseConnection {
        migration::connect(&self.url)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to {}: {e}", self.url))
    }

    /// The temporary directory of a SQLite test database.
    pub fn dir(&self) -> Option<PathBuf> {
        self.dir.as_ref().map(|d| d.path().to_owned())
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((server, name)) = self.server.take() else {
            return;
        };
        let backend = self.backend;
        // Drop runs outside async: do the async drop on a thread of its own.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                let admin = admin_connect(backend, &server).await;
                let sql = match backend {
                    Backend::Postgres => format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                    _ => format!("DROP DATABASE IF EXISTS {name}"),
                };
                let _ = admin.execute_unprepared(&sql).await;
            });
        })
        .join();
    }
}

/// Runs a query and returns the first column of every row, as text.
pub async fn column_strings(db: &DatabaseConnection, sql: &str) -> Vec<String> {
    db.query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .iter()
        .map(|row| row.try_get_by_index::<String>(0).expect("text column"))
        .collect()
}

/// `SELECT COUNT(*) FROM table`.
pub async fn count(db: &DatabaseConnection, table: &str) -> i64 {
    let sql = format!("SELECT COUNT(*) FROM {table}");
    db.query_one_raw(Statement::from_string(
        db.get_database_backend(),
        sql.clone(),
    ))
    .await
    .unwrap_or_else(|e| panic!("{sql}: {e}"))
    .expect("one row")
    .try_get_by_index::<i64>(0)
    .expect("a count")
}

/// Executes SQL that must succeed.
pub async fn exec(db: &DatabaseConnection, sql: &str) {
    db.execute_unprepared(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// The path of a file of the reference directory (`tests/reference/`, a
/// copy of `shared/reference/`).
pub fn reference_path(name: &str) -> PathBuf {
    // This crate's directory is testkit/db: look upwards.
    let mut dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    while !dir.join("tests/reference").is_dir() {
        assert!(dir.pop(), "tests/reference not found");
    }
    dir.join("tests/reference").join(name)
}

/// A file of the reference directory, as text.
pub fn reference(name: &str) -> String {
    let path = reference_path(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The path of the binary `name` of the package under test. Cargo sets
/// `CARGO_BIN_EXE_<name>` when it runs an integration test; a test binary
/// run by hand finds it beside its own directory (`target/debug/deps/..`).
/// Only the package of the binary builds it for its tests.
pub fn binary(name: &str) -> PathBuf {
    if let Some(path) = std::env::var_os(format!("CARGO_BIN_EXE_{name}")) {
        return path.into();
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| {
            Some(
                exe.parent()?
                    .parent()?
                    .join(format!("{name}{}", std::env::consts::EXE_SUFFIX)),
            )
        })
        .filter(|path| path.is_file())
        .unwrap_or_else(|| panic!("the {name} binary is only built for its own package's tests"))
}

/// Runs the migration CLI in `dir`, with a clean environment for the
/// variables it reads. Only the `migration` package's tests have the binary.
pub fn cli(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    command(dir, args, env)
        .output()
        .expect("run the migration binary")
}

/// The CLI command, not started (for tests that run processes concurrently).
pub fn command(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> std::process::Command {
    let mut cmd = std::process::Command::new(binary("migration"));
    cmd.current_dir(dir)
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove(migration::ADMIN_PASSWORD_ENV)
        .env_remove("RUST_BACKTRACE");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

pub fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn assert_ok(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        stdout(out),
        stderr(out)
    );
}

/// A failure reported as one `error: ...` line with exit code `code`.
pub fn assert_one_line_error(out: &std::process::Output, code: i32, needle: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(code), "stderr: {err}");
    assert_eq!(err.lines().count(), 1, "not one line: {err}");
    assert!(err.starts_with("error: "), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.contains(needle), "{err} does not mention {needle}");
}

/// Defines `sqlite::NAME`, `postgres::NAME` and `mysql::NAME` tests that call
/// `async fn NAME(db: TestDb)` with a fresh database of each backend.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test]
            async fn $name() {
                if let Some(db) = $crate::TestDb::new($crate::Backend::Sqlite).await {
                    super::$name(db).await
                }
            })*
        }
        mod postgres {
            $(#[tokio::test]
            async fn $name() {
                if let Some(db) = $crate::TestDb::new($crate::Backend::Postgres).await {
                    super::$name(db).await
                }
            })*
        }
        mod mysql {
            $(#[tokio::test]
            async fn $name() {
                if let Some(db) = $crate::TestDb::new($crate::Backend::MySql).await {
                    super::$name(db).await
                }
            })*
        }
    };
}
