//! `check`: the live schema against the schema the chain produces at the
//! revision the database records.

use sea_orm_migration::sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend,
};

use super::connection::{connect, normalize_url};
use super::error::Error;
use super::ops::{Options, downgrade, upgrade};
use super::target::{DownTarget, Target};
use crate::revision::Rev;
use crate::{bookkeeping, inspect};

/// Compares the live schema with the schema the chain produces at the
/// revision the database records; returns that revision and the differences
/// (none: it matches). At base, both an empty database and one that kept
/// the decision memory (Couche B) match.
pub async fn check(
    db: &DatabaseConnection,
    url: &str,
) -> Result<(Option<Rev>, Vec<String>), Error> {
    let states = bookkeeping::states(db).await?;
    let current = bookkeeping::current(&states);
    let actual = inspect::introspect(db).await?;
    if current.is_none() && actual.tables.is_empty() {
        return Ok((None, Vec::new()));
    }
    let expected = scratch_schema(db, url, current).await?;
    Ok((current, inspect::diff(&expected, &actual)))
}

/// The schema the chain produces at `revision`, built in a scratch database
/// of the same backend (in memory for SQLite, a temporary schema on
/// PostgreSQL, a temporary database on MySQL), then removed.
async fn scratch_schema(
    db: &DatabaseConnection,
    url: &str,
    revision: Option<Rev>,
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
            Some(rev) => Target::Revision(rev),
            // Base after a downgrade: what 002's downgrade leaves.
            None => Target::Steps(1),
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
