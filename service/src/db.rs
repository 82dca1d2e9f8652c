//! The application's database: its connection pool, the schema check at
//! start (migrate the embedded file, refuse a server database that is
//! behind), and the write transactions every rule that must hold under
//! concurrency runs in.

use std::time::Duration;

use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

use crate::Error;

/// How the server treats a database whose schema is not at head.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MigratePolicy {
    /// Migrate (through the migration crate's guarded path) before serving.
    Migrate,
    /// Refuse to start, naming the command to run.
    Refuse,
}

/// Why the server cannot open its database.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Migration(#[from] migration::Error),
    #[error(
        "the database at {url} is not at the current schema (pending: {pending}); run `cargo run -p migration -- up` (or `dms serve --migrate`) first"
    )]
    Behind { url: String, pending: String },
    #[error("cannot open the database at {url}: {reason} (check DATABASE_URL)")]
    Open { url: String, reason: String },
}

/// Brings the database at `url` to head when `policy` (or the embedded
/// SQLite default) allows it, else refuses if revisions are pending.
pub async fn ensure_schema(url: &str, policy: MigratePolicy) -> Result<(), StartError> {
    let url = migration::runner::normalize_url(url)?;
    migration::runner::create_private_sqlite_file(&url);
    // The embedded file is the zero-set-up default: it is always migrated.
    let policy = if url.starts_with("sqlite") {
        MigratePolicy::Migrate
    } else {
        policy
    };
    let pending = pending_revisions(&url).await?;
    if pending.is_empty() {
        return Ok(());
    }
    match policy {
        MigratePolicy::Refuse => Err(StartError::Behind {
            url: migration::runner::redact(&url),
            pending: pending.join(", "),
        }),
        MigratePolicy::Migrate => {
            migrate_to_head(&url).await?;
            Ok(())
        }
    }
}

/// Revisions of the chain not yet applied to the database at `url`.
async fn pending_revisions(url: &str) -> Result<Vec<&'static str>, StartError> {
    let db = migration::connect(url).await?;
    let pending = migration::pending(&db).await;
    db.close().await.ok();
    Ok(pending?)
}

/// Applies every pending revision through the migration crate's guarded
/// path (the same lock as `migration up`, `alembic_version` kept).
async fn migrate_to_head(url: &str) -> Result<(), StartError> {
    let db = migration::connect(url).await?;
    let outcome = migration::upgrade(&db, migration::Target::Head).await;
    db.close().await.ok();
    let outcome = outcome?;
    if !outcome.revisions.is_empty() {
        tracing::info!(revisions = %outcome.revisions.join(", "), "database migrated");
    }
    Ok(())
}

/// Opens the server's pool. Acquiring a connection gives up after
/// `acquire_timeout`, so that a database that went away turns into 503s
/// quickly instead of requests that hang.
pub async fn connect(
    url: &str,
    acquire_timeout: Duration,
) -> Result<DatabaseConnection, StartError> {
    let url = migration::runner::normalize_url(url)?;
    let sqlite = url.starts_with("sqlite");
    let mut options = ConnectOptions::new(url.clone());
    options
        .sqlx_logging(false)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(acquire_timeout)
        .max_connections(if sqlite { 8 } else { 16 })
        .min_connections(0)
        // A connection idle for a second or more is pinged before use (one
        // that died while idle, in a database restart, is replaced without
        // failing a request); a hot one is not, which saves a round trip
        // on every request under load.
        .test_before_acquire_if_idle_for(Duration::from_secs(1));
    // MariaDB cuts JSON aggregates at `group_concat_max_len` (1 MiB by
    // default): the case file is one such aggregate per relation.
    options.map_sqlx_mysql_pool_opts(|pool| {
        pool.after_connect(|conn, _| {
            Box::pin(async move {
                use sea_orm::sqlx::Executor;
                conn.execute("SET SESSION group_concat_max_len = 4294967295")
                    .await
                    .map(|_| ())
            })
        })
    });
    if sqlite {
        // WAL lets readers go on while one writer commits; the busy timeout
        // makes a second writer wait for the first instead of failing.
        options.map_sqlx_sqlite_opts(|o| {
            o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .busy_timeout(Duration::from_secs(15))
                .foreign_keys(true)
        });
    }
    let db = Database::connect(options)
        .await
        .map_err(|e| StartError::Open {
            url: migration::runner::redact(&url),
            reason: one_line(&e.to_string()),
        })?;
    Ok(db)
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Begins a transaction that will write. On SQLite it takes the write lock
/// at once (`BEGIN IMMEDIATE`), so two writers queue on the busy timeout
/// instead of one failing when it upgrades a read snapshot.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, Error> {
    Ok(db
        .begin_with_options(TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..Default::default()
        })
        .await?)
}

/// Whether the database answers a trivial query.
pub async fn ping(db: &DatabaseConnection) -> bool {
    db.execute_unprepared("SELECT 1").await.is_ok()
}
