//! Connecting to a database and applying or rolling back revisions.
//!
//! Each revision is one unit: on PostgreSQL and SQLite it runs in one
//! transaction with its bookkeeping row, so a failed revision leaves the
//! database at the previous one. On SQLite the transaction runs with
//! foreign keys off on its (single) connection and ends with
//! `PRAGMA foreign_key_check`, as SQLite's table-rebuild procedure requires.
//! MariaDB/MySQL commit DDL implicitly: there every step of a revision is
//! idempotent, so running it again after a failure completes it.

use std::collections::BTreeSet;
use std::time::Duration;

use sea_orm_migration::sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseExecutor, DbBackend,
    TransactionTrait,
};
use sea_orm_migration::sea_query::{Alias, Table};
use sea_orm_migration::{DbErr, MigrationTrait, MigratorTrait, SchemaManager};

use crate::guard::Loss;
use crate::schema_ops::sqlite_foreign_key_check;
use crate::{Migrator, bookkeeping, guard, inspect};

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
    #[error("unknown revision '{given}' (known: {known}, or head / base)")]
    UnknownRevision { given: String, known: String },
    #[error(
        "the database is at revision '{0}', which this binary does not know: it was migrated by a newer version (use that version; nothing was changed)"
    )]
    DatabaseAhead(String),
    #[error(
        "alembic_version names revision '{0}', which this chain does not know (expected one of 002_add_couche_a, 003_add_procurement_extensions, 004_users_rbac); nothing was changed"
    )]
    UnknownAlembic(String),
    #[error(
        "another migration still holds the lock after {0} s (wait for it to finish, or raise --lock-timeout)"
    )]
    LockTimeout(u64),
    #[error(
        "refusing to drop data: {0} would be lost (back it up, then re-run with --force; --dry-run shows the plan)"
    )]
    WouldLoseData(String),
    #[error("database error: {0} (check the database and run again)")]
    Db(String),
}

impl Error {
    /// The process exit code: 2 for a usage error, else 1.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::UnknownRevision { .. } => 2,
            _ => 1,
        }
    }
}

impl From<DbErr> for Error {
    fn from(e: DbErr) -> Self {
        Error::Db(one_line(&e.to_string()))
    }
}

pub(crate) fn one_line(text: &str) -> String {
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
    Ok(bookkeeping::states(db)
        .await?
        .into_iter()
        .map(|s| (s.name, s.applied_at.is_some()))
        .collect())
}

/// How far `upgrade` goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UpTarget {
    Head,
    /// The next N pending revisions.
    Steps(u32),
    /// Up to and including this revision.
    Revision(String),
}

/// How far `downgrade` goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DownTarget {
    /// The last N applied revisions.
    Steps(u32),
    /// Down to this revision, which stays applied.
    Revision(String),
    Base,
}

/// A revision given by its full id or by an unambiguous prefix (`003`).
pub fn resolve(given: &str) -> Result<String, Error> {
    let chain = bookkeeping::chain();
    if chain.iter().any(|n| n == given) {
        return Ok(given.to_owned());
    }
    let matches: Vec<&String> = chain.iter().filter(|n| n.starts_with(given)).collect();
    match (given.is_empty(), matches.as_slice()) {
        (false, [one]) => Ok((*one).clone()),
        _ => Err(Error::UnknownRevision {
            given: given.to_owned(),
            known: chain.join(", "),
        }),
    }
}

impl std::str::FromStr for UpTarget {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        if s == "head" || s == "heads" {
            return Ok(UpTarget::Head);
        }
        if let Some(n) = s.strip_prefix('+') {
            return n
                .parse()
                .map(UpTarget::Steps)
                .map_err(|_| Error::UnknownRevision {
                    given: s.to_owned(),
                    known: bookkeeping::chain().join(", "),
                });
        }
        resolve(s).map(UpTarget::Revision)
    }
}

impl std::str::FromStr for DownTarget {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        if s == "base" {
            return Ok(DownTarget::Base);
        }
        if let Some(n) = s.strip_prefix('-') {
            return n
                .parse()
                .map(DownTarget::Steps)
                .map_err(|_| Error::UnknownRevision {
                    given: s.to_owned(),
                    known: bookkeeping::chain().join(", "),
                });
        }
        resolve(s).map(DownTarget::Revision)
    }
}

/// Switches of the operations that change the database.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// Drop tables and columns that hold rows.
    pub force: bool,
    /// Plan only: change nothing.
    pub dry_run: bool,
}

impl Options {
    pub fn force() -> Self {
        Options {
            force: true,
            dry_run: false,
        }
    }
}

/// What an operation did (or, with `dry_run`, would do).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// The revisions applied or rolled back, in order.
    pub revisions: Vec<String>,
    /// Set when this run adopted a database Alembic managed (its revision).
    pub adopted: Option<String>,
    /// The rows the operation drops (allowed by `force`), or would drop.
    pub losses: Vec<Loss>,
    pub dry_run: bool,
}

/// Applies pending revisions up to `target`; a database Alembic managed is
/// adopted first.
pub async fn upgrade(
    db: &DatabaseConnection,
    target: &UpTarget,
    options: &Options,
) -> Result<Outcome, Error> {
    let adopted = prepare(db, options).await?;
    let states = bookkeeping::states(db).await?;
    let revisions = to_apply(&states, target);
    if !options.dry_run {
        run_all(db, &revisions, Direction::Up, applied_set(&states)).await?;
    }
    Ok(Outcome {
        revisions,
        adopted,
        losses: Vec::new(),
        dry_run: options.dry_run,
    })
}

/// Rolls back applied revisions down to `target`. Refuses, listing them,
/// when the downgrade would drop rows, unless `options.force`.
pub async fn downgrade(
    db: &DatabaseConnection,
    target: &DownTarget,
    options: &Options,
) -> Result<Outcome, Error> {
    let adopted = prepare(db, options).await?;
    let states = bookkeeping::states(db).await?;
    let revisions = to_roll_back(&states, target);
    let mut losses = Vec::new();
    for name in &revisions {
        losses.extend(guard::losses(db, &crate::drops(name)).await?);
    }
    if !losses.is_empty() && !options.force && !options.dry_run {
        return Err(Error::WouldLoseData(join(&losses)));
    }
    if !options.dry_run {
        run_all(db, &revisions, Direction::Down, applied_set(&states)).await?;
    }
    Ok(Outcome {
        revisions,
        adopted,
        losses,
        dry_run: options.dry_run,
    })
}

/// Before a change: install the bookkeeping table and adopt an Alembic
/// database. A dry run writes nothing.
async fn prepare(db: &DatabaseConnection, options: &Options) -> Result<Option<String>, Error> {
    if options.dry_run {
        return Ok(None);
    }
    // Refuse a database ahead of this binary before writing anything.
    bookkeeping::states(db).await?;
    Migrator::install(db).await?;
    bookkeeping::adopt(db).await
}

/// The pending revisions `upgrade` to `target` applies, oldest first.
fn to_apply(states: &[bookkeeping::RevisionState], target: &UpTarget) -> Vec<String> {
    let upto = match target {
        UpTarget::Revision(rev) => states.iter().position(|s| &s.name == rev).unwrap_or(0),
        _ => states.len().saturating_sub(1),
    };
    let pending = states
        .iter()
        .take(upto + 1)
        .filter(|s| s.applied_at.is_none())
        .map(|s| s.name.clone());
    match target {
        UpTarget::Steps(n) => pending.take(*n as usize).collect(),
        _ => pending.collect(),
    }
}

/// The applied revisions `downgrade` to `target` rolls back, newest first.
fn to_roll_back(states: &[bookkeeping::RevisionState], target: &DownTarget) -> Vec<String> {
    let keep = match target {
        DownTarget::Revision(rev) => states
            .iter()
            .position(|s| &s.name == rev)
            .map_or(1, |i| i + 1),
        _ => 0,
    };
    let applied = states[keep..]
        .iter()
        .rev()
        .filter(|s| s.applied_at.is_some())
        .map(|s| s.name.clone());
    match target {
        DownTarget::Steps(n) => applied.take(*n as usize).collect(),
        _ => applied.collect(),
    }
}

/// The chain with every revision applied (`true`) or pending, for offline scripts.
fn assumed_states(applied: bool) -> Vec<bookkeeping::RevisionState> {
    bookkeeping::chain()
        .into_iter()
        .map(|name| bookkeeping::RevisionState {
            name,
            applied_at: applied.then_some(0),
        })
        .collect()
}

fn join(losses: &[Loss]) -> String {
    losses
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Applies up to `steps` pending revisions (all when `None`), oldest first;
/// returns the names applied.
pub async fn up(db: &DatabaseConnection, steps: Option<u32>) -> Result<Vec<String>, Error> {
    let target = steps.map_or(UpTarget::Head, UpTarget::Steps);
    Ok(upgrade(db, &target, &Options::default()).await?.revisions)
}

/// Rolls back up to `steps` applied revisions (all when `None`), newest
/// first; returns the names rolled back.
pub async fn down(
    db: &DatabaseConnection,
    steps: Option<u32>,
    options: &Options,
) -> Result<Vec<String>, Error> {
    let target = steps.map_or(DownTarget::Base, DownTarget::Steps);
    Ok(downgrade(db, &target, options).await?.revisions)
}

/// Rolls back every revision, then applies them all again.
pub async fn refresh(db: &DatabaseConnection, options: &Options) -> Result<Outcome, Error> {
    let mut outcome = downgrade(db, &DownTarget::Base, options).await?;
    if !options.dry_run {
        outcome
            .revisions
            .extend(upgrade(db, &UpTarget::Head, options).await?.revisions);
    }
    Ok(outcome)
}

/// Rolls back every revision and removes SeaORM's bookkeeping table
/// (`alembic_version` stays, empty: the database is at base).
pub async fn reset(db: &DatabaseConnection, options: &Options) -> Result<Outcome, Error> {
    let outcome = downgrade(db, &DownTarget::Base, options).await?;
    if !options.dry_run {
        let drop = Table::drop()
            .table(Migrator::migration_table_name())
            .if_exists()
            .take();
        db.execute(&drop).await?;
    }
    Ok(outcome)
}

/// Drops every table of the database, then applies every revision. Refuses,
/// listing them, when tables hold rows (other than seed rows), unless
/// `options.force`.
pub async fn fresh(db: &DatabaseConnection, options: &Options) -> Result<Outcome, Error> {
    let tables: Vec<String> = table_names(db)
        .await?
        .into_iter()
        .filter(|t| t != "seaql_migrations" && t != "alembic_version")
        .collect();
    let keyed: Vec<(&str, Option<&str>)> = tables
        .iter()
        .map(|t| (t.as_str(), crate::seed_key(t)))
        .collect();
    let losses = guard::table_losses(db, &keyed).await?;
    if !losses.is_empty() && !options.force && !options.dry_run {
        return Err(Error::WouldLoseData(join(&losses)));
    }
    if options.dry_run {
        return Ok(Outcome {
            revisions: bookkeeping::chain(),
            losses,
            dry_run: true,
            ..Outcome::default()
        });
    }
    drop_all_tables(db).await?;
    let mut outcome = upgrade(db, &UpTarget::Head, options).await?;
    outcome.losses = losses;
    Ok(outcome)
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

/// The SQL `upgrade` to `target` runs on an empty database of `backend`,
/// bookkeeping included, without connecting to any database.
pub async fn upgrade_sql(backend: DbBackend, target: &UpTarget) -> Result<String, Error> {
    // An empty database: every revision pending.
    let states = assumed_states(false);
    let revisions = to_apply(&states, target);
    let (conn, statements) = crate::script::recorder(backend, false);
    Migrator::install(&conn).await?;
    run_all(&conn, &revisions, Direction::Up, BTreeSet::new()).await?;
    Ok(crate::script::render(&statements))
}

/// The SQL `downgrade` to `target` runs on a database of `backend` at head,
/// without connecting to any database.
pub async fn downgrade_sql(backend: DbBackend, target: &DownTarget) -> Result<String, Error> {
    // A database at head: every revision applied.
    let states = assumed_states(true);
    let revisions = to_roll_back(&states, target);
    let (conn, statements) = crate::script::recorder(backend, true);
    run_all(&conn, &revisions, Direction::Down, applied_set(&states)).await?;
    Ok(crate::script::render(&statements))
}

/// Compares the live schema with the schema the chain produces at the
/// revision the database records; returns the differences (none: it matches)
/// and that revision. At base, both an empty database and one that kept the
/// decision memory (Couche B) match.
pub async fn check(
    db: &DatabaseConnection,
    url: &str,
) -> Result<(Option<String>, Vec<String>), Error> {
    let states = bookkeeping::states(db).await?;
    let current = bookkeeping::current(&states).map(str::to_owned);
    let actual = inspect::introspect(db).await?;
    if current.is_none() && actual.tables.is_empty() {
        return Ok((None, Vec::new()));
    }
    let expected = scratch_schema(db, url, current.as_deref()).await?;
    Ok((current, inspect::diff(&expected, &actual)))
}

/// The schema the chain produces at `revision`, built in a scratch database
/// of the same backend (in memory for SQLite, a temporary schema on
/// PostgreSQL, a temporary database on MySQL), then removed.
async fn scratch_schema(
    db: &DatabaseConnection,
    url: &str,
    revision: Option<&str>,
) -> Result<inspect::Schema, Error> {
    let backend = db.get_database_backend();
    let name = format!(
        "dms_check_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos())
    );
    let url = normalize_url(url)?;
    let scratch = match backend {
        DbBackend::Postgres => {
            db.execute_unprepared(&format!("CREATE SCHEMA {name}"))
                .await?;
            let mut options = ConnectOptions::new(url.clone());
            options
                .max_connections(1)
                .sqlx_logging(false)
                .set_schema_search_path(name.clone());
            Database::connect(options).await?
        }
        DbBackend::MySql => {
            db.execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await?;
            let (server, query) = match url.split_once('?') {
                Some((u, q)) => (u, format!("?{q}")),
                None => (url.as_str(), String::new()),
            };
            let server = server.rsplit_once('/').map_or(server, |(s, _)| s);
            connect(&format!("{server}/{name}{query}")).await?
        }
        _ => connect("sqlite::memory:").await?,
    };
    let built = async {
        let target = match revision {
            Some(rev) => UpTarget::Revision(rev.to_owned()),
            // Base after a downgrade: what 002's downgrade leaves.
            None => UpTarget::Steps(1),
        };
        upgrade(&scratch, &target, &Options::default()).await?;
        if revision.is_none() {
            downgrade(&scratch, &DownTarget::Base, &Options::force()).await?;
        }
        Ok::<_, Error>(inspect::introspect(&scratch).await?)
    }
    .await;
    let _ = scratch.close().await;
    let cleanup = match backend {
        DbBackend::Postgres => format!("DROP SCHEMA IF EXISTS {name} CASCADE"),
        DbBackend::MySql => format!("DROP DATABASE IF EXISTS {name}"),
        _ => String::new(),
    };
    if !cleanup.is_empty() {
        db.execute_unprepared(&cleanup).await?;
    }
    built
}

/// Records `target` as the current revision without running any DDL
/// (`None` = base).
pub async fn stamp(db: &DatabaseConnection, target: Option<&str>) -> Result<(), Error> {
    let chain = bookkeeping::chain();
    // Refuse a database ahead of this binary before touching its bookkeeping.
    bookkeeping::states(db).await?;
    let applied = match target {
        None => &chain[..0],
        Some(rev) => {
            let rev = resolve(rev)?;
            let upto = chain.iter().position(|n| *n == rev).unwrap_or(0);
            &chain[..=upto]
        }
    };
    in_transaction(db, async |conn| {
        bookkeeping::record_exactly(&conn, applied).await
    })
    .await?;
    Ok(())
}

/// Runs `names` in order; `applied` is what is applied before, kept up to
/// date so that `alembic_version` always names the newest applied revision.
async fn run_all(
    db: &DatabaseConnection,
    names: &[String],
    direction: Direction,
    mut applied: BTreeSet<String>,
) -> Result<(), Error> {
    let migrations = Migrator::migrations();
    for name in names {
        let Some(migration) = migrations.iter().find(|m| m.name() == name) else {
            continue;
        };
        match direction {
            Direction::Up => applied.insert(name.clone()),
            Direction::Down => applied.remove(name),
        };
        let current = bookkeeping::newest(&applied);
        apply(db, migration.as_ref(), direction, current.as_deref())
            .await
            .map_err(|e| revision_error(db, name, direction, e))?;
    }
    Ok(())
}

fn applied_set(states: &[bookkeeping::RevisionState]) -> BTreeSet<String> {
    states
        .iter()
        .filter(|s| s.applied_at.is_some())
        .map(|s| s.name.clone())
        .collect()
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

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Up,
    Down,
}

/// Runs `work` as one unit: a transaction on PostgreSQL; on SQLite a
/// transaction with foreign keys off on the pool's single connection (a
/// no-op inside a transaction, so set before), checked before commit;
/// MySQL commits DDL implicitly, so there it runs as it is.
async fn in_transaction<F>(db: &DatabaseConnection, work: F) -> Result<(), DbErr>
where
    F: AsyncFnOnce(DatabaseExecutor<'_>) -> Result<(), DbErr>,
{
    match db.get_database_backend() {
        DbBackend::Postgres => {
            let txn = db.begin().await?;
            work(DatabaseExecutor::from(&txn)).await?;
            txn.commit().await
        }
        DbBackend::Sqlite => {
            db.execute_unprepared("PRAGMA foreign_keys = OFF").await?;
            let result = async {
                let txn = db.begin().await?;
                work(DatabaseExecutor::from(&txn)).await?;
                sqlite_foreign_key_check(&txn).await?;
                txn.commit().await
            }
            .await;
            let restored = db.execute_unprepared("PRAGMA foreign_keys = ON").await;
            result.and(restored.map(|_| ()))
        }
        _ => work(DatabaseExecutor::from(db)).await,
    }
}

/// Runs one revision and records it, in `seaql_migrations` and `alembic_version`.
async fn apply(
    db: &DatabaseConnection,
    migration: &dyn MigrationTrait,
    direction: Direction,
    current: Option<&str>,
) -> Result<(), DbErr> {
    in_transaction(db, async |conn| {
        let name = migration.name();
        let manager = SchemaManager::new(conn);
        let conn = manager.get_connection();
        match direction {
            Direction::Up => {
                migration.up(&manager).await?;
                bookkeeping::record(conn, name).await?;
            }
            Direction::Down => {
                migration.down(&manager).await?;
                bookkeeping::unrecord(conn, name).await?;
            }
        }
        bookkeeping::sync_alembic_version(conn, current).await
    })
    .await
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

    #[test]
    fn revisions_resolve_by_id_or_unique_prefix() {
        assert_eq!(resolve("003").unwrap(), "003_add_procurement_extensions");
        assert_eq!(resolve("004_users_rbac").unwrap(), "004_users_rbac");
        assert!(
            matches!(resolve("00"), Err(Error::UnknownRevision { .. })),
            "ambiguous"
        );
        assert!(matches!(resolve("005"), Err(Error::UnknownRevision { .. })));
        assert_eq!("+2".parse::<UpTarget>().unwrap(), UpTarget::Steps(2));
        assert_eq!("head".parse::<UpTarget>().unwrap(), UpTarget::Head);
        assert_eq!("-1".parse::<DownTarget>().unwrap(), DownTarget::Steps(1));
        assert_eq!("base".parse::<DownTarget>().unwrap(), DownTarget::Base);
        assert!("-x".parse::<DownTarget>().is_err());
    }
}
