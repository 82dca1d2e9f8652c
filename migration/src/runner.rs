//! Connecting to a database and applying or rolling back revisions.
//!
//! Each revision is one unit: on PostgreSQL and SQLite it runs in one
//! transaction with its bookkeeping row, so a failed revision leaves the
//! database at the previous one. On SQLite the transaction runs with
//! foreign keys off on its (single) connection and ends with
//! `PRAGMA foreign_key_check`, as SQLite's table-rebuild procedure requires.
//! MariaDB/MySQL commit DDL implicitly: there every step of a revision is
//! idempotent, so running it again after a failure completes it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sea_orm_migration::sea_orm::{
    ActiveValue, ColumnTrait, ConnectOptions, ConnectionTrait, Database, DatabaseConnection,
    DatabaseExecutor, DbBackend, EntityTrait, QueryFilter, TransactionTrait,
};
use sea_orm_migration::sea_query::{Alias, Table};
use sea_orm_migration::{
    DbErr, MigrationStatus, MigrationTrait, MigratorTrait, SchemaManager, seaql_migrations,
};

use crate::Migrator;
use crate::schema_ops::sqlite_foreign_key_check;

/// The embedded database used when no `DATABASE_URL` is configured.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://dms.db?mode=rwc";

/// What can go wrong; every message is one line that says what to do.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "malformed database URL '{0}' (expected sqlite://FILE?mode=rwc, postgres://USER@HOST:5432/DB or mysql://USER@HOST:3306/DB)"
    )]
    MalformedUrl(String),
    #[error(
        "unsupported database URL scheme '{0}' (use sqlite://, postgres:// or mysql:// / mariadb://)"
    )]
    UnsupportedScheme(String),
    #[error(
        "cannot connect to {url}: {reason} (check DATABASE_URL and that the server is running)"
    )]
    Connect { url: String, reason: String },
    #[error("{direction} of revision {revision} failed: {reason} ({hint})")]
    Revision {
        direction: &'static str,
        revision: String,
        reason: String,
        hint: &'static str,
    },
    #[error("database error: {0} (check the database and run again)")]
    Db(String),
}

impl From<DbErr> for Error {
    fn from(e: DbErr) -> Self {
        Error::Db(one_line(&e.to_string()))
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

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

/// Connects to `url`. SQLite gets a single-connection pool: the
/// `PRAGMA foreign_keys` a revision sets must hold on the connection that
/// runs it.
pub async fn connect(url: &str) -> Result<DatabaseConnection, Error> {
    let url = normalize_url(url)?;
    let mut options = ConnectOptions::new(url.clone());
    options
        .sqlx_logging(false)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(30));
    if url.starts_with("sqlite") {
        options.max_connections(1).min_connections(1);
    }
    Database::connect(options)
        .await
        .map_err(|e| Error::Connect {
            url: redact(&url),
            reason: one_line(&e.to_string()),
        })
}

/// Revision names, oldest first, each with whether it is applied.
pub async fn status(db: &DatabaseConnection) -> Result<Vec<(String, bool)>, Error> {
    Ok(Migrator::get_migration_with_status(db)
        .await?
        .iter()
        .map(|m| (m.name().to_owned(), m.status() == MigrationStatus::Applied))
        .collect())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Up,
    Down,
}

/// Applies up to `steps` pending revisions (all when `None`), oldest first;
/// returns the names applied.
pub async fn up(db: &DatabaseConnection, steps: Option<u32>) -> Result<Vec<String>, Error> {
    let pending: Vec<String> = status(db)
        .await?
        .into_iter()
        .filter(|(_, applied)| !applied)
        .map(|(name, _)| name)
        .collect();
    run_all(db, pending, steps, Direction::Up).await
}

/// Rolls back up to `steps` applied revisions (all when `None`), newest
/// first; returns the names rolled back.
pub async fn down(db: &DatabaseConnection, steps: Option<u32>) -> Result<Vec<String>, Error> {
    let applied: Vec<String> = status(db)
        .await?
        .into_iter()
        .rev()
        .filter(|(_, applied)| *applied)
        .map(|(name, _)| name)
        .collect();
    run_all(db, applied, steps, Direction::Down).await
}

/// Rolls back every revision, then applies them all again.
pub async fn refresh(db: &DatabaseConnection) -> Result<(), Error> {
    down(db, None).await?;
    up(db, None).await?;
    Ok(())
}

/// Rolls back every revision and removes the bookkeeping table.
pub async fn reset(db: &DatabaseConnection) -> Result<(), Error> {
    down(db, None).await?;
    let drop = Table::drop()
        .table(Migrator::migration_table_name())
        .if_exists()
        .take();
    db.execute(&drop).await?;
    Ok(())
}

/// Drops every table of the database, then applies every revision.
pub async fn fresh(db: &DatabaseConnection) -> Result<(), Error> {
    drop_all_tables(db).await?;
    up(db, None).await?;
    Ok(())
}

async fn run_all(
    db: &DatabaseConnection,
    names: Vec<String>,
    steps: Option<u32>,
    direction: Direction,
) -> Result<Vec<String>, Error> {
    let limit = steps.map_or(usize::MAX, |s| s as usize);
    let migrations = Migrator::migrations();
    let mut done = Vec::new();
    for name in names.into_iter().take(limit) {
        let Some(migration) = migrations.iter().find(|m| m.name() == name) else {
            continue;
        };
        apply(db, migration.as_ref(), direction)
            .await
            .map_err(|e| revision_error(db, &name, direction, e))?;
        done.push(name);
    }
    Ok(done)
}

fn revision_error(db: &DatabaseConnection, name: &str, direction: Direction, e: DbErr) -> Error {
    Error::Revision {
        direction: match direction {
            Direction::Up => "upgrade",
            Direction::Down => "downgrade",
        },
        revision: name.to_owned(),
        reason: one_line(&e.to_string()),
        hint: match db.get_database_backend() {
            DbBackend::MySql => {
                "MySQL commits DDL as it goes: fix the cause and run again, every step is idempotent"
            }
            _ => "nothing of it was kept; fix the cause and run again",
        },
    }
}

async fn apply(
    db: &DatabaseConnection,
    migration: &dyn MigrationTrait,
    direction: Direction,
) -> Result<(), DbErr> {
    match db.get_database_backend() {
        DbBackend::Postgres => {
            let txn = db.begin().await?;
            run(DatabaseExecutor::from(&txn), migration, direction).await?;
            txn.commit().await
        }
        DbBackend::Sqlite => {
            // PRAGMA foreign_keys is a no-op inside a transaction: set it before.
            db.execute_unprepared("PRAGMA foreign_keys = OFF").await?;
            let result = async {
                let txn = db.begin().await?;
                run(DatabaseExecutor::from(&txn), migration, direction).await?;
                sqlite_foreign_key_check(&txn).await?;
                txn.commit().await
            }
            .await;
            let restored = db.execute_unprepared("PRAGMA foreign_keys = ON").await;
            result.and(restored.map(|_| ()))
        }
        _ => run(DatabaseExecutor::from(db), migration, direction).await,
    }
}

/// Runs one revision and records it in `seaql_migrations`.
async fn run(
    conn: DatabaseExecutor<'_>,
    migration: &dyn MigrationTrait,
    direction: Direction,
) -> Result<(), DbErr> {
    let name = migration.name().to_owned();
    let manager = SchemaManager::new(conn);
    let conn = manager.get_connection();
    match direction {
        Direction::Up => {
            migration.up(&manager).await?;
            let applied_at = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64);
            seaql_migrations::Entity::insert(seaql_migrations::ActiveModel {
                version: ActiveValue::Set(name),
                applied_at: ActiveValue::Set(applied_at),
            })
            .exec(conn)
            .await?;
        }
        Direction::Down => {
            migration.down(&manager).await?;
            seaql_migrations::Entity::delete_many()
                .filter(seaql_migrations::Column::Version.eq(name))
                .exec(conn)
                .await?;
        }
    }
    Ok(())
}

/// Every base table of the database, bookkeeping included.
async fn table_names(db: &DatabaseConnection) -> Result<Vec<String>, DbErr> {
    let sql = match db.get_database_backend() {
        DbBackend::Postgres => {
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        }
        DbBackend::MySql => {
            "SELECT table_name FROM information_schema.tables \
             WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'"
        }
        _ => "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
    };
    db.query_all_raw(sea_orm_migration::sea_orm::Statement::from_string(
        db.get_database_backend(),
        sql,
    ))
    .await?
    .iter()
    .map(|row| row.try_get_by_index::<String>(0))
    .collect()
}

/// Drops every table. Tables still referenced by another are retried after
/// it, so no backend needs its foreign key checks switched off.
async fn drop_all_tables(db: &DatabaseConnection) -> Result<(), DbErr> {
    let mut remaining = table_names(db).await?;
    while !remaining.is_empty() {
        let mut failed = Vec::new();
        let mut last_error = None;
        for name in remaining.iter() {
            let mut drop = Table::drop();
            drop.table(Alias::new(name.as_str())).if_exists();
            if let Err(e) = db.execute(&drop).await {
                failed.push(name.clone());
                last_error = Some(e);
            }
        }
        if failed.len() == remaining.len() {
            return Err(last_error.unwrap_or_else(|| DbErr::Custom("cannot drop tables".into())));
        }
        remaining = failed;
    }
    Ok(())
}
