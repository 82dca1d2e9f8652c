//! Applying and rolling back revisions, and the operations built on that.
//!
//! Each revision is one unit: on PostgreSQL and SQLite it runs in one
//! transaction with its bookkeeping row, so a failed revision leaves the
//! database at the previous one. On SQLite the transaction runs with
//! foreign keys off on its (single) connection and ends with
//! `PRAGMA foreign_key_check`, as SQLite's table-rebuild procedure requires.
//! MariaDB/MySQL commit DDL implicitly: there every step of a revision is
//! idempotent, so running it again after a failure completes it.
//!
//! The indexes a revision declares are built by [`apply`]: in the revision's
//! transaction, except on a PostgreSQL database that was already in use,
//! where they are built with `CREATE INDEX CONCURRENTLY` (which cannot run
//! in a transaction) between the revision's transaction and the one that
//! records it, so that the live tables stay writable while they are built.

use std::collections::BTreeSet;

use sea_orm_migration::SchemaManager;
use sea_orm_migration::sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseExecutor, DbBackend, DbErr, Statement,
    TransactionTrait,
};

use super::error::Error;
use super::target::{DownTarget, StampTarget, Target};
use crate::bookkeeping::{self, RevisionState};
use crate::checksum::{self, Code, Edited};
use crate::guard::{self, Loss};
use crate::revision::{Entry, Rev, index_name};
use crate::schema_ops::{self, sqlite_foreign_key_check};

/// How long `CREATE INDEX CONCURRENTLY` may wait for a lock on a live table
/// before it gives up (the run can then be repeated).
pub const INDEX_LOCK_TIMEOUT_SECS: u64 = 30;

/// Switches of the operations that change the database.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// Drop tables and columns that hold rows.
    pub force: bool,
    /// Plan only: change nothing.
    pub dry_run: bool,
    /// Upgrade even when an applied revision was edited after it was applied.
    pub allow_edited: bool,
}

impl Options {
    pub fn force() -> Self {
        Options {
            force: true,
            ..Options::default()
        }
    }
}

/// What an operation did (or, with `dry_run`, would do).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// The revisions applied or rolled back, in order.
    pub revisions: Vec<&'static str>,
    /// Set when this run adopted a database Alembic managed (its revision).
    pub adopted: Option<&'static str>,
    /// The rows the operation drops (allowed by `force`), or would drop.
    pub losses: Vec<Loss>,
    pub dry_run: bool,
    /// Applied revisions whose checksums this run recorded without applying
    /// them (applied before checksums were kept, or adopted from Alembic).
    pub checksums_recorded: Vec<&'static str>,
    /// Applied revisions edited since, upgraded over with `allow_edited`.
    pub edited: Vec<Edited>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Direction {
    Up,
    Down,
}

/// Revision ids and whether each is applied, oldest first.
pub async fn status(db: &DatabaseConnection) -> Result<Vec<(&'static str, bool)>, Error> {
    Ok(bookkeeping::states(db)
        .await?
        .into_iter()
        .map(|s| (s.name(), s.applied_at.is_some()))
        .collect())
}

/// What the checksums `db` records say against `code` (the chain's code,
/// [`crate::REVISIONS`], or in tests an edited chain). Reads only.
pub async fn verify(
    db: &DatabaseConnection,
    code: &[Entry],
) -> Result<checksum::Verification, Error> {
    let book = bookkeeping::read(db).await?;
    let code = Code::render(db.get_database_backend(), code).await?;
    Ok(book.verify(&code))
}

/// Applies pending revisions up to `target`; a database Alembic managed is
/// adopted first. Refuses, naming them, when applied revisions were edited
/// since they were applied, unless `options.allow_edited`. Takes no lock:
/// the caller holds it (see `migration::upgrade`).
pub async fn upgrade(
    db: &DatabaseConnection,
    target: &Target,
    options: &Options,
) -> Result<Outcome, Error> {
    upgrade_against(db, crate::REVISIONS, target, options).await
}

/// [`upgrade`] with `code` as the chain's code: the revisions run are
/// `code`'s, and the recorded checksums are compared with what `code`
/// renders. `code` has the chain's ids in its order; tests give a chain
/// whose code was edited.
pub async fn upgrade_against(
    db: &DatabaseConnection,
    code: &[Entry],
    target: &Target,
    options: &Options,
) -> Result<Outcome, Error> {
    let book = bookkeeping::read(db).await?;
    let code = Code::render(db.get_database_backend(), code).await?;
    let verification = book.verify(&code);
    if !verification.edited.is_empty() && !options.allow_edited {
        return Err(Error::Edited(verification.edited));
    }
    let revisions = to_apply(&book.states, target);
    let mut outcome = Outcome {
        revisions: revisions.iter().map(|r| r.id()).collect(),
        dry_run: options.dry_run,
        edited: verification.edited,
        ..Outcome::default()
    };
    let unrecorded: Vec<Rev> = verification
        .unrecorded
        .iter()
        .filter_map(|id| Rev::find(id))
        .collect();
    if options.dry_run
        || (revisions.is_empty() && book.alembic_only.is_none() && unrecorded.is_empty())
    {
        return Ok(outcome);
    }
    bookkeeping::install(db).await?;
    outcome.adopted = adopt(db, &book, &code).await?;
    if outcome.adopted.is_none() {
        backfill(db, &unrecorded, &code).await?;
    }
    outcome.checksums_recorded = unrecorded.iter().map(|r| r.id()).collect();
    // Indexes are built concurrently only where the tables may be live.
    let in_use = book.states.iter().any(|s| s.applied_at.is_some());
    run_all(
        db,
        &revisions,
        Direction::Up,
        applied_set(&book.states),
        in_use,
        &code,
    )
    .await?;
    Ok(outcome)
}

/// Records the checksums of applied revisions that have none, in one
/// transaction.
async fn backfill(
    db: &DatabaseConnection,
    revisions: &[Rev],
    code: &Code<'_>,
) -> Result<(), Error> {
    if revisions.is_empty() {
        return Ok(());
    }
    let txn = db.begin().await?;
    bookkeeping::record_checksums(&txn, revisions, code).await?;
    txn.commit().await?;
    Ok(())
}

/// Rolls back applied revisions down to `target`. Refuses, listing them,
/// when the downgrade would drop rows, unless `options.force`.
pub async fn downgrade(
    db: &DatabaseConnection,
    target: &DownTarget,
    options: &Options,
) -> Result<Outcome, Error> {
    let book = bookkeeping::read(db).await?;
    let revisions = to_roll_back(&book.states, target);
    let code = Code::render(db.get_database_backend(), crate::REVISIONS).await?;
    let mut losses = Vec::new();
    for rev in &revisions {
        losses.extend(guard::losses(db, &rev.entry().drops).await?);
    }
    if !losses.is_empty() && !options.force && !options.dry_run {
        return Err(Error::WouldLoseData(join(&losses)));
    }
    let mut outcome = Outcome {
        revisions: revisions.iter().map(|r| r.id()).collect(),
        losses,
        dry_run: options.dry_run,
        ..Outcome::default()
    };
    // The revisions that stay applied and have no checksum get theirs.
    let unrecorded: Vec<Rev> = book
        .verify(&code)
        .unrecorded
        .iter()
        .filter_map(|id| Rev::find(id))
        .filter(|rev| !revisions.contains(rev))
        .collect();
    if options.dry_run || (revisions.is_empty() && unrecorded.is_empty()) {
        return Ok(outcome);
    }
    bookkeeping::install(db).await?;
    if let Some(rev) = book.alembic_only {
        in_transaction(db, async |conn| {
            bookkeeping::record_exactly(&conn, Some(rev), &code).await
        })
        .await?;
        outcome.adopted = Some(rev.id());
    } else {
        backfill(db, &unrecorded, &code).await?;
    }
    outcome.checksums_recorded = unrecorded.iter().map(|r| r.id()).collect();
    run_all(
        db,
        &revisions,
        Direction::Down,
        applied_set(&book.states),
        true,
        &code,
    )
    .await?;
    Ok(outcome)
}

/// Records the revisions of a database that only Alembic recorded, the
/// first time this tool changes it; returns that revision.
async fn adopt(
    db: &DatabaseConnection,
    book: &bookkeeping::Book,
    code: &Code<'_>,
) -> Result<Option<&'static str>, Error> {
    let Some(rev) = book.alembic_only else {
        return Ok(None);
    };
    let txn = db.begin().await?;
    bookkeeping::record_exactly(&txn, Some(rev), code).await?;
    txn.commit().await?;
    Ok(Some(rev.id()))
}

/// The pending revisions an upgrade to `target` applies, oldest first.
pub(crate) fn to_apply(states: &[RevisionState], target: &Target) -> Vec<Rev> {
    let upto = match target {
        Target::Revision(rev) => *rev,
        Target::Head | Target::Steps(_) => Rev::head(),
    };
    let pending = states
        .iter()
        .filter(|s| s.rev <= upto && s.applied_at.is_none())
        .map(|s| s.rev);
    match target {
        Target::Steps(n) => pending.take(*n as usize).collect(),
        Target::Head | Target::Revision(_) => pending.collect(),
    }
}

/// The applied revisions a downgrade to `target` rolls back, newest first.
pub(crate) fn to_roll_back(states: &[RevisionState], target: &DownTarget) -> Vec<Rev> {
    let applied = states
        .iter()
        .rev()
        .filter(|s| s.applied_at.is_some())
        .map(|s| s.rev);
    match target {
        DownTarget::Steps(n) => applied.take(*n as usize).collect(),
        DownTarget::Revision(keep) => applied.filter(|r| r > keep).collect(),
        DownTarget::Base => applied.collect(),
    }
}

fn applied_set(states: &[RevisionState]) -> BTreeSet<Rev> {
    states
        .iter()
        .filter(|s| s.applied_at.is_some())
        .map(|s| s.rev)
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
/// returns the ids applied. No lock: for tests and tools that own the database.
pub async fn up(db: &DatabaseConnection, steps: Option<u32>) -> Result<Vec<&'static str>, Error> {
    let target = steps.map_or(Target::Head, Target::Steps);
    Ok(upgrade(db, &target, &Options::default()).await?.revisions)
}

/// Rolls back up to `steps` applied revisions (all when `None`), newest
/// first; returns the ids rolled back. No lock, as [`up`].
pub async fn down(
    db: &DatabaseConnection,
    steps: Option<u32>,
    options: &Options,
) -> Result<Vec<&'static str>, Error> {
    let target = steps.map_or(DownTarget::Base, DownTarget::Steps);
    Ok(downgrade(db, &target, options).await?.revisions)
}

/// Rolls back every revision, then applies them all again.
pub async fn refresh(db: &DatabaseConnection, options: &Options) -> Result<Outcome, Error> {
    let mut outcome = downgrade(db, &DownTarget::Base, options).await?;
    if !options.dry_run {
        let again = upgrade(db, &Target::Head, options).await?;
        outcome.revisions.extend(again.revisions);
    }
    Ok(outcome)
}

/// Rolls back every revision and removes SeaORM's bookkeeping table
/// (`alembic_version` stays, empty: the database is at base).
pub async fn reset(db: &DatabaseConnection, options: &Options) -> Result<Outcome, Error> {
    let outcome = downgrade(db, &DownTarget::Base, options).await?;
    if !options.dry_run {
        db.execute_unprepared("DROP TABLE IF EXISTS seaql_migrations")
            .await?;
        db.execute_unprepared(&format!("DROP TABLE IF EXISTS {}", checksum::TABLE))
            .await?;
    }
    Ok(outcome)
}

/// Drops every table of the database, then applies every revision. Refuses,
/// listing them, when tables hold rows (other than seed rows), unless
/// `options.force`.
pub async fn fresh(db: &DatabaseConnection, options: &Options) -> Result<Outcome, Error> {
    // Reading the bookkeeping refuses a database ahead of this binary.
    bookkeeping::read(db).await?;
    let tables: Vec<String> = table_names(db)
        .await?
        .into_iter()
        .filter(|t| !crate::inspect::BOOKKEEPING.contains(&t.as_str()))
        .collect();
    let keyed: Vec<(&str, Option<&str>)> = tables
        .iter()
        .map(|t| (t.as_str(), guard::seed_key(t)))
        .collect();
    let losses = guard::table_losses(db, &keyed).await?;
    if !losses.is_empty() && !options.force && !options.dry_run {
        return Err(Error::WouldLoseData(join(&losses)));
    }
    if options.dry_run {
        return Ok(Outcome {
            revisions: Rev::all().map(Rev::id).collect(),
            losses,
            dry_run: true,
            ..Outcome::default()
        });
    }
    drop_all_tables(db).await?;
    let mut outcome = upgrade(db, &Target::Head, options).await?;
    outcome.losses = losses;
    Ok(outcome)
}

/// Records `target` as the current revision without running any DDL.
pub async fn stamp(db: &DatabaseConnection, target: StampTarget) -> Result<(), Error> {
    // Refuse a database ahead of this binary before touching its bookkeeping.
    bookkeeping::read(db).await?;
    let upto = match target {
        StampTarget::Base => None,
        StampTarget::Revision(rev) => Some(rev),
    };
    let code = Code::render(db.get_database_backend(), crate::REVISIONS).await?;
    bookkeeping::install(db).await?;
    let txn = db.begin().await?;
    bookkeeping::record_exactly(&txn, upto, &code).await?;
    txn.commit().await?;
    Ok(())
}

/// Runs `revisions` in order; `applied` is what is applied before, kept up
/// to date so that `alembic_version` always names the newest applied
/// revision. `in_use`: the database may be serving (see [`apply`]).
pub(crate) async fn run_all(
    db: &DatabaseConnection,
    revisions: &[Rev],
    direction: Direction,
    mut applied: BTreeSet<Rev>,
    in_use: bool,
    code: &Code<'_>,
) -> Result<(), Error> {
    for &rev in revisions {
        match direction {
            Direction::Up => applied.insert(rev),
            Direction::Down => applied.remove(&rev),
        };
        let current = applied.iter().next_back().copied();
        apply(db, rev, direction, current, in_use, code)
            .await
            .map_err(|source| revision_error(db, rev, direction, source))?;
    }
    Ok(())
}

fn revision_error(db: &DatabaseConnection, rev: Rev, direction: Direction, source: DbErr) -> Error {
    Error::Revision {
        direction: match direction {
            Direction::Up => "upgrade",
            Direction::Down => "downgrade",
        },
        revision: rev.id(),
        hint: match db.get_database_backend() {
            DbBackend::MySql => {
                "MySQL commits DDL as it goes: fix the cause and run again, every step is idempotent"
            }
            DbBackend::Postgres if !rev.entry().indexes.is_empty() => {
                "it stays unrecorded; indexes already built are kept and an invalid one is rebuilt: run again"
            }
            _ => "nothing of it was kept; fix the cause and run again",
        },
        source,
    }
}

/// Runs `work` as one unit: a transaction on PostgreSQL; on SQLite a
/// transaction with foreign keys off on the pool's single connection (a
/// no-op inside a transaction, so set before), checked before commit;
/// MySQL commits DDL implicitly, so there it runs as it is.
pub(crate) async fn in_transaction<F>(db: &DatabaseConnection, work: F) -> Result<(), DbErr>
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

/// Runs one revision with its indexes and records it, in `seaql_migrations`
/// and `alembic_version` (`current`: the newest applied revision after it).
async fn apply(
    db: &DatabaseConnection,
    rev: Rev,
    direction: Direction,
    current: Option<Rev>,
    in_use: bool,
    code: &Code<'_>,
) -> Result<(), DbErr> {
    let entry = code.entry(rev);
    let steps = entry.steps();
    let backend = db.get_database_backend();
    let concurrently = in_use && backend == DbBackend::Postgres && !entry.indexes.is_empty();
    // The bookkeeping rows go in the revision's transaction where DDL is
    // transactional; else (MySQL, or indexes built concurrently) in a
    // transaction of their own after the work, so that `seaql_migrations`
    // and `alembic_version` never disagree.
    let record_apart = concurrently || backend == DbBackend::MySql;
    match direction {
        Direction::Up => {
            in_transaction(db, async |conn| {
                let manager = SchemaManager::new(conn);
                steps.up(&manager).await?;
                if !concurrently {
                    for (table, column) in entry.indexes {
                        let name = index_name(table, column);
                        schema_ops::create_index(&manager, &name, table, &[column]).await?;
                    }
                }
                if !record_apart {
                    record(manager.get_connection(), rev, direction, current, code).await?;
                }
                Ok(())
            })
            .await?;
            if concurrently {
                build_indexes_concurrently(db, entry.indexes).await?;
            }
        }
        Direction::Down => {
            if concurrently {
                for (table, column) in entry.indexes {
                    let sql = format!(
                        "DROP INDEX CONCURRENTLY IF EXISTS \"{}\"",
                        index_name(table, column)
                    );
                    db.execute_unprepared(&sql).await?;
                }
            }
            in_transaction(db, async |conn| {
                let manager = SchemaManager::new(conn);
                if !concurrently {
                    for (table, column) in entry.indexes {
                        let name = index_name(table, column);
                        schema_ops::drop_index(&manager, &name, table, column).await?;
                    }
                }
                steps.down(&manager).await?;
                if !record_apart {
                    record(manager.get_connection(), rev, direction, current, code).await?;
                }
                Ok(())
            })
            .await?;
        }
    }
    if record_apart {
        let txn = db.begin().await?;
        record(&txn, rev, direction, current, code).await?;
        txn.commit().await?;
    }
    Ok(())
}

/// Records that `rev` was applied (with the checksum `code` renders) or
/// rolled back, and the newest applied revision, `current`, in
/// `alembic_version`.
async fn record<C: ConnectionTrait>(
    conn: &C,
    rev: Rev,
    direction: Direction,
    current: Option<Rev>,
    code: &Code<'_>,
) -> Result<(), DbErr> {
    match direction {
        Direction::Up => bookkeeping::record(conn, rev.id(), code.checksum(rev)).await?,
        Direction::Down => bookkeeping::unrecord(conn, rev.id()).await?,
    }
    bookkeeping::sync_alembic_version(conn, current.map(Rev::id)).await
}

/// Builds `indexes` on PostgreSQL with `CREATE INDEX CONCURRENTLY`, outside
/// any transaction, each waiting at most [`INDEX_LOCK_TIMEOUT_SECS`] for a
/// lock. An index that a killed or failed build left invalid is dropped and
/// built again; a valid one is kept.
async fn build_indexes_concurrently(
    db: &DatabaseConnection,
    indexes: &[(&str, &str)],
) -> Result<(), DbErr> {
    db.execute_unprepared(&format!("SET lock_timeout = '{INDEX_LOCK_TIMEOUT_SECS}s'"))
        .await?;
    let built = async {
        let names: Vec<String> = indexes
            .iter()
            .map(|(t, c)| format!("'{}'", index_name(t, c)))
            .collect();
        let invalid = db
            .query_all_raw(Statement::from_string(
                DbBackend::Postgres,
                format!(
                    "SELECT c.relname::text FROM pg_index i \
                     JOIN pg_class c ON c.oid = i.indexrelid \
                     JOIN pg_namespace n ON n.oid = c.relnamespace \
                     WHERE n.nspname = current_schema() AND NOT i.indisvalid \
                     AND c.relname IN ({})",
                    names.join(", ")
                ),
            ))
            .await?;
        for row in invalid {
            let name: String = row.try_get_by_index(0)?;
            db.execute_unprepared(&format!("DROP INDEX CONCURRENTLY IF EXISTS \"{name}\""))
                .await?;
        }
        for (table, column) in indexes {
            let sql = format!(
                "CREATE INDEX CONCURRENTLY IF NOT EXISTS \"{}\" ON \"{table}\" (\"{column}\")",
                index_name(table, column)
            );
            db.execute_unprepared(&sql).await?;
        }
        Ok(())
    }
    .await;
    let reset = db.execute_unprepared("RESET lock_timeout").await;
    built.and(reset.map(|_| ()))
}

/// Every base table of the database, bookkeeping included.
async fn table_names(db: &DatabaseConnection) -> Result<Vec<String>, DbErr> {
    let sql = match db.get_database_backend() {
        DbBackend::Postgres => {
            "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema()"
        }
        DbBackend::MySql => {
            "SELECT table_name FROM information_schema.tables \
             WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'"
        }
        _ => "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
    };
    db.query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?
        .iter()
        .map(|row| row.try_get_by_index::<String>(0))
        .collect()
}

/// Drops every table, whatever references what (the chain has a cycle:
/// `cases.ref_id` and `procurement_references.case_id`): on PostgreSQL in
/// one `DROP TABLE ... CASCADE`, elsewhere with foreign key checks off for
/// the run's one connection.
async fn drop_all_tables(db: &DatabaseConnection) -> Result<(), DbErr> {
    let tables = table_names(db).await?;
    if tables.is_empty() {
        return Ok(());
    }
    match db.get_database_backend() {
        DbBackend::Postgres => {
            let names: Vec<String> = tables.iter().map(|t| format!("\"{t}\"")).collect();
            let sql = format!("DROP TABLE IF EXISTS {} CASCADE", names.join(", "));
            db.execute_unprepared(&sql).await?;
        }
        DbBackend::MySql => {
            let names: Vec<String> = tables.iter().map(|t| format!("`{t}`")).collect();
            db.execute_unprepared("SET FOREIGN_KEY_CHECKS = 0").await?;
            let dropped = db
                .execute_unprepared(&format!("DROP TABLE IF EXISTS {}", names.join(", ")))
                .await;
            db.execute_unprepared("SET FOREIGN_KEY_CHECKS = 1").await?;
            dropped?;
        }
        _ => {
            db.execute_unprepared("PRAGMA foreign_keys = OFF").await?;
            let mut dropped = Ok(());
            for table in &tables {
                let sql = format!("DROP TABLE IF EXISTS \"{table}\"");
                if let Err(e) = db.execute_unprepared(&sql).await {
                    dropped = Err(e);
                    break;
                }
            }
            db.execute_unprepared("PRAGMA foreign_keys = ON").await?;
            dropped?;
        }
    }
    Ok(())
}
