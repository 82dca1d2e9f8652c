//! Which revisions a database is at: SeaORM's `seaql_migrations`, kept in
//! step with Alembic's `alembic_version` so that production's runbook checks
//! and dashboards keep working, and adoption of databases Alembic managed.

use std::time::{SystemTime, UNIX_EPOCH};

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, EntityTrait, Statement};
use sea_orm_migration::seaql_migrations;

use crate::Migrator;
use crate::runner::Error;

const ALEMBIC: &str = "alembic_version";
const SEAQL: &str = "seaql_migrations";

/// The revision ids of the chain, oldest first.
pub fn chain() -> Vec<String> {
    Migrator::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .collect()
}

/// One revision of the chain and when it was applied (Unix seconds; 0 when
/// recorded without a time, as by adoption of an Alembic database).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevisionState {
    pub name: String,
    pub applied_at: Option<i64>,
}

async fn has_table<C: ConnectionTrait>(conn: &C, table: &str) -> Result<bool, DbErr> {
    let backend = conn.get_database_backend();
    let sql = match backend {
        sea_orm_migration::sea_orm::DbBackend::Postgres => {
            "SELECT COUNT(*) FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_name = $1"
        }
        sea_orm_migration::sea_orm::DbBackend::MySql => {
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

/// The state of every revision of the chain, oldest first, read without
/// writing anything. A database recorded by Alembic only reads as applied up
/// to its `alembic_version`. Refuses a database that records a revision
/// this binary does not know.
pub async fn states<C: ConnectionTrait>(conn: &C) -> Result<Vec<RevisionState>, Error> {
    let chain = chain();
    let recorded = recorded(conn).await?;
    if let Some(unknown) = recorded.iter().find(|m| !chain.contains(&m.version)) {
        return Err(Error::DatabaseAhead(unknown.version.clone()));
    }
    if recorded.is_empty()
        && let Some(alembic) = alembic_revision(conn).await?
    {
        let upto = position(&chain, &alembic).ok_or(Error::UnknownAlembic(alembic))?;
        return Ok(chain
            .into_iter()
            .enumerate()
            .map(|(i, name)| RevisionState {
                name,
                applied_at: (i <= upto).then_some(0),
            })
            .collect());
    }
    Ok(chain
        .into_iter()
        .map(|name| RevisionState {
            applied_at: recorded
                .iter()
                .find(|m| m.version == name)
                .map(|m| m.applied_at),
            name,
        })
        .collect())
}

fn position(chain: &[String], name: &str) -> Option<usize> {
    chain.iter().position(|n| n == name)
}

/// The newest applied revision, `None` at base.
pub fn current(states: &[RevisionState]) -> Option<&str> {
    states
        .iter()
        .rev()
        .find(|s| s.applied_at.is_some())
        .map(|s| s.name.as_str())
}

/// Records the revisions an Alembic-managed database is at, the first time
/// this tool sees it; returns that revision. Nothing else changes.
pub async fn adopt<C: ConnectionTrait>(conn: &C) -> Result<Option<String>, Error> {
    if !recorded(conn).await?.is_empty() {
        return Ok(None);
    }
    let Some(alembic) = alembic_revision(conn).await? else {
        return Ok(None);
    };
    let chain = chain();
    let upto = position(&chain, &alembic).ok_or_else(|| Error::UnknownAlembic(alembic.clone()))?;
    record_exactly(conn, &chain[..=upto]).await?;
    Ok(Some(alembic))
}

/// Makes the bookkeeping say exactly `applied` (a prefix of the chain), then
/// brings `alembic_version` in step. No DDL of any revision runs.
pub async fn record_exactly<C: ConnectionTrait>(conn: &C, applied: &[String]) -> Result<(), DbErr> {
    Migrator::install(conn).await?;
    let existing = recorded(conn).await?;
    for model in &existing {
        if !applied.contains(&model.version) {
            unrecord(conn, &model.version).await?;
        }
    }
    for name in applied {
        if !existing.iter().any(|m| &m.version == name) {
            record(conn, name).await?;
        }
    }
    sync_alembic_version(conn, applied.last().map(String::as_str)).await
}

/// Adds `name` to `seaql_migrations`.
pub async fn record<C: ConnectionTrait>(conn: &C, name: &str) -> Result<(), DbErr> {
    let applied_at = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let insert = Query::insert()
        .into_table(Alias::new(SEAQL))
        .columns([Alias::new("version"), Alias::new("applied_at")])
        .values_panic([name.into(), applied_at.into()])
        .take();
    conn.execute(&insert).await?;
    Ok(())
}

/// Removes `name` from `seaql_migrations`.
pub async fn unrecord<C: ConnectionTrait>(conn: &C, name: &str) -> Result<(), DbErr> {
    let delete = Query::delete()
        .from_table(Alias::new(SEAQL))
        .and_where(Expr::col(Alias::new("version")).eq(name))
        .take();
    conn.execute(&delete).await?;
    Ok(())
}

/// The newest of `applied` in chain order, `None` when empty.
pub fn newest<'a>(applied: impl IntoIterator<Item = &'a String>) -> Option<String> {
    let applied: Vec<&String> = applied.into_iter().collect();
    chain()
        .into_iter()
        .rev()
        .find(|name| applied.contains(&name))
}

/// Writes `current` into `alembic_version` (one row; none at base).
pub async fn sync_alembic_version<C: ConnectionTrait>(
    conn: &C,
    current: Option<&str>,
) -> Result<(), DbErr> {
    let create = Table::create()
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
    conn.execute(&create).await?;
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
