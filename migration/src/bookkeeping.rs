//! Which revisions a database is at: SeaORM's `seaql_migrations`, kept in
//! step with Alembic's `alembic_version` so that production's runbook checks
//! and dashboards keep working, adoption of databases Alembic managed, and
//! the checksum of each applied revision in a table of this tool's own
//! (`crate::checksum`), so that both production's tables keep their shapes.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, EntityTrait, Schema, Statement};
use sea_orm_migration::seaql_migrations;

use crate::checksum::{Code, Edited, TABLE as CHECKSUMS, Verification};
use crate::revision::{Rev, known};
use crate::runner::Error;

const ALEMBIC: &str = "alembic_version";
const SEAQL: &str = "seaql_migrations";

/// One revision of the chain and when it was applied (Unix seconds; 0 when
/// recorded without a time, as by adoption of an Alembic database).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevisionState {
    pub rev: Rev,
    pub applied_at: Option<i64>,
}

impl RevisionState {
    pub fn name(&self) -> &'static str {
        self.rev.id()
    }
}

/// What the bookkeeping of a database says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Book {
    /// Every revision of the chain, oldest first.
    pub states: Vec<RevisionState>,
    /// Set when only Alembic recorded the database (at this revision): the
    /// first change adopts it.
    pub alembic_only: Option<Rev>,
    /// The recorded checksum of each revision that has one, by id.
    pub checksums: BTreeMap<String, String>,
}

/// Creates `seaql_migrations`, `alembic_version` and the checksums' table
/// unless they exist. DDL:
/// done before the transactions that write the bookkeeping rows, since
/// MySQL would commit them half-way.
pub async fn install<C: ConnectionTrait>(conn: &C) -> Result<(), DbErr> {
    let backend = conn.get_database_backend();
    let mut seaql = Schema::new(backend).create_table_from_entity(seaql_migrations::Entity);
    seaql.if_not_exists();
    let alembic = Table::create()
        .table(Alias::new(ALEMBIC))
        .if_not_exists()
        .col(
            ColumnDef::new(Alias::new("version_num"))
                .string_len(32)
                .not_null(),
        )
        .primary_key(
            Index::create()
                .name("alembic_version_pkc")
                .col(Alias::new("version_num")),
        )
        .take();
    let checksums = Table::create()
        .table(Alias::new(CHECKSUMS))
        .if_not_exists()
        .col(
            ColumnDef::new(Alias::new("version"))
                .string_len(255)
                .not_null()
                .primary_key(),
        )
        .col(
            ColumnDef::new(Alias::new("checksum"))
                .string_len(64)
                .not_null(),
        )
        .take();
    for create in [seaql, alembic, checksums] {
        let sql = match backend {
            DbBackend::Postgres => create.to_string(PostgresQueryBuilder),
            DbBackend::MySql => create.to_string(MysqlQueryBuilder),
            _ => create.to_string(SqliteQueryBuilder),
        };
        conn.execute_unprepared(&sql).await?;
    }
    Ok(())
}

async fn has_table<C: ConnectionTrait>(conn: &C, table: &str) -> Result<bool, DbErr> {
    let backend = conn.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "SELECT COUNT(*) FROM pg_catalog.pg_tables \
             WHERE schemaname = current_schema() AND tablename = $1"
        }
        DbBackend::MySql => {
            "SELECT COUNT(*) FROM information_schema.tables \
             WHERE table_schema = DATABASE() AND table_name = ?"
        }
        _ => "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?",
    };
    let row = conn
        .query_one_raw(Statement::from_sql_and_values(backend, sql, [table.into()]))
        .await?;
    Ok(row
        .map(|r| r.try_get_by_index::<i64>(0))
        .transpose()?
        .unwrap_or(0)
        > 0)
}

/// The revision `alembic_version` names, if the table exists and has a row.
pub async fn alembic_revision<C: ConnectionTrait>(conn: &C) -> Result<Option<String>, DbErr> {
    if !has_table(conn, ALEMBIC).await? {
        return Ok(None);
    }
    let query = Query::select()
        .column(Alias::new("version_num"))
        .from(Alias::new(ALEMBIC))
        .take();
    conn.query_one(&query)
        .await?
        .map(|row| row.try_get_by_index::<String>(0))
        .transpose()
}

/// The rows of `seaql_migrations`, without creating it.
async fn recorded<C: ConnectionTrait>(conn: &C) -> Result<Vec<seaql_migrations::Model>, DbErr> {
    if !has_table(conn, SEAQL).await? {
        return Ok(Vec::new());
    }
    seaql_migrations::Entity::find().all(conn).await
}

/// The recorded checksums, by revision id, without creating their table.
async fn recorded_checksums<C: ConnectionTrait>(
    conn: &C,
) -> Result<BTreeMap<String, String>, DbErr> {
    if !has_table(conn, CHECKSUMS).await? {
        return Ok(BTreeMap::new());
    }
    let query = Query::select()
        .columns([Alias::new("version"), Alias::new("checksum")])
        .from(Alias::new(CHECKSUMS))
        .take();
    conn.query_all(&query)
        .await?
        .iter()
        .map(|row| Ok((row.try_get_by_index(0)?, row.try_get_by_index(1)?)))
        .collect()
}

/// The bookkeeping of the database, read without writing anything. A
/// database recorded by Alembic only reads as applied up to its
/// `alembic_version`. Refuses a database that records a revision this
/// binary does not know.
pub async fn read<C: ConnectionTrait>(conn: &C) -> Result<Book, Error> {
    let recorded = recorded(conn).await?;
    if let Some(unknown) = recorded.iter().find(|m| Rev::find(&m.version).is_none()) {
        return Err(Error::DatabaseAhead(unknown.version.clone()));
    }
    if recorded.is_empty()
        && let Some(alembic) = alembic_revision(conn).await?
    {
        let upto = Rev::find(&alembic).ok_or_else(|| Error::UnknownAlembic {
            given: alembic,
            known: known(),
        })?;
        return Ok(Book {
            states: Rev::all()
                .map(|rev| RevisionState {
                    rev,
                    applied_at: (rev <= upto).then_some(0),
                })
                .collect(),
            alembic_only: Some(upto),
            checksums: BTreeMap::new(),
        });
    }
    Ok(Book {
        states: Rev::all()
            .map(|rev| RevisionState {
                rev,
                applied_at: recorded
                    .iter()
                    .find(|m| m.version == rev.id())
                    .map(|m| m.applied_at),
            })
            .collect(),
        alembic_only: None,
        checksums: recorded_checksums(conn).await?,
    })
}

/// The state of every revision of the chain, oldest first (see [`read`]).
pub async fn states<C: ConnectionTrait>(conn: &C) -> Result<Vec<RevisionState>, Error> {
    Ok(read(conn).await?.states)
}

/// The newest applied revision, `None` at base.
pub fn current(states: &[RevisionState]) -> Option<Rev> {
    states
        .iter()
        .rev()
        .find(|s| s.applied_at.is_some())
        .map(|s| s.rev)
}

/// Makes the bookkeeping say exactly that the revisions up to `upto` (none
/// at `None`) are applied, then brings `alembic_version` in step. No DDL of
/// any revision runs: this is how an Alembic database is adopted and how
/// `stamp` works. A revision it records gets the checksum `code` renders.
/// The tables must exist ([`install`]).
pub async fn record_exactly<C: ConnectionTrait>(
    conn: &C,
    upto: Option<Rev>,
    code: &Code<'_>,
) -> Result<(), DbErr> {
    let existing = recorded(conn).await?;
    let applied = |id: &str| Rev::find(id).is_some_and(|r| Some(r) <= upto);
    for model in &existing {
        if !applied(&model.version) {
            unrecord(conn, &model.version).await?;
        }
    }
    for rev in Rev::all().filter(|r| Some(*r) <= upto) {
        if !existing.iter().any(|m| m.version == rev.id()) {
            record(conn, rev.id(), code.checksum(rev)).await?;
        }
    }
    sync_alembic_version(conn, upto.map(Rev::id)).await
}

/// `statement` as SQL text for the backend of `conn`, its values inlined
/// (escaped by sea-query), so that several go in one round trip.
fn text<C: ConnectionTrait, S: QueryStatementWriter>(conn: &C, statement: &S) -> String {
    match conn.get_database_backend() {
        DbBackend::Postgres => statement.to_string(PostgresQueryBuilder),
        DbBackend::MySql => statement.to_string(MysqlQueryBuilder),
        _ => statement.to_string(SqliteQueryBuilder),
    }
}

/// Adds `name` to `seaql_migrations` and its checksum to the checksums'
/// table, in one statement batch: one round trip, as before checksums.
pub async fn record<C: ConnectionTrait>(conn: &C, name: &str, checksum: &str) -> Result<(), DbErr> {
    let applied_at = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let insert = Query::insert()
        .into_table(Alias::new(SEAQL))
        .columns([Alias::new("version"), Alias::new("applied_at")])
        .values_panic([name.into(), applied_at.into()])
        .take();
    let forget = Query::delete()
        .from_table(Alias::new(CHECKSUMS))
        .and_where(Expr::col(Alias::new("version")).eq(name))
        .take();
    let checksum = Query::insert()
        .into_table(Alias::new(CHECKSUMS))
        .columns([Alias::new("version"), Alias::new("checksum")])
        .values_panic([name.into(), checksum.into()])
        .take();
    let batch = format!(
        "{}; {}; {}",
        text(conn, &insert),
        text(conn, &forget),
        text(conn, &checksum)
    );
    conn.execute_unprepared(&batch).await?;
    Ok(())
}

/// Removes `name` from `seaql_migrations` and its checksum, in one batch.
pub async fn unrecord<C: ConnectionTrait>(conn: &C, name: &str) -> Result<(), DbErr> {
    let delete = |table: &str| {
        Query::delete()
            .from_table(Alias::new(table))
            .and_where(Expr::col(Alias::new("version")).eq(name))
            .take()
    };
    let batch = format!(
        "{}; {}",
        text(conn, &delete(SEAQL)),
        text(conn, &delete(CHECKSUMS))
    );
    conn.execute_unprepared(&batch).await?;
    Ok(())
}

/// Records the checksum `code` renders for each of `revisions` (applied,
/// without one yet), in one statement. The table must exist ([`install`]).
pub async fn record_checksums<C: ConnectionTrait>(
    conn: &C,
    revisions: &[Rev],
    code: &Code<'_>,
) -> Result<(), DbErr> {
    if revisions.is_empty() {
        return Ok(());
    }
    let mut insert = Query::insert();
    insert
        .into_table(Alias::new(CHECKSUMS))
        .columns([Alias::new("version"), Alias::new("checksum")]);
    for rev in revisions {
        insert.values_panic([rev.id().into(), code.checksum(*rev).into()]);
    }
    conn.execute(&insert).await?;
    Ok(())
}

/// Writes `current` into `alembic_version` (one row; none at base). The
/// table must exist ([`install`]).
pub async fn sync_alembic_version<C: ConnectionTrait>(
    conn: &C,
    current: Option<&str>,
) -> Result<(), DbErr> {
    conn.execute(&Query::delete().from_table(Alias::new(ALEMBIC)).take())
        .await?;
    if let Some(current) = current {
        let insert = Query::insert()
            .into_table(Alias::new(ALEMBIC))
            .columns([Alias::new("version_num")])
            .values_panic([current.into()])
            .take();
        conn.execute(&insert).await?;
    }
    Ok(())
}

impl Book {
    /// Compares the checksums this book records with `code`.
    pub fn verify(&self, code: &Code<'_>) -> Verification {
        let mut verification = Verification::default();
        for state in self.states.iter().filter(|s| s.applied_at.is_some()) {
            match self.checksums.get(state.name()) {
                None => verification.unrecorded.push(state.name()),
                Some(recorded) if !code.accepts(state.rev, recorded) => {
                    verification.edited.push(Edited {
                        revision: state.name(),
                        recorded: recorded.clone(),
                        renders: code.checksum(state.rev).to_owned(),
                    });
                }
                Some(_) => {}
            }
        }
        verification
    }
}
