//! Checksums of applied revisions: the SHA-256 of the SQL a revision's
//! upgrade renders for the database's backend, recorded when it is applied,
//! so that a revision edited after it was applied is noticed (`check`,
//! `status`) and `up` refuses to build on it.
//!
//! The SQL is the offline rendering (`upgrade --sql`, see `crate::script`)
//! of the revision alone: its steps and the indexes it declares, as on an
//! empty database, without the transaction framing and the bookkeeping rows
//! around it, with the seed rows' time stamps and the seeded password hash
//! fixed (see `script::canonical`). It depends on the revision's code and the
//! backend only, never on the database: 005's indexes, built with
//! `CREATE INDEX CONCURRENTLY` outside the transaction on a database in use,
//! render as the plain `CREATE INDEX` an empty database gets, so every
//! database at 005 records the same checksum whichever way its indexes were
//! built.
//!
//! Checksums live in a table of this tool's own, [`TABLE`], written in the
//! same transaction and the same statement as the revision's
//! `seaql_migrations` row (see `bookkeeping::record`).

use std::fmt::Write as _;

use sea_orm_migration::SchemaManager;
use sea_orm_migration::sea_orm::{DbBackend, DbErr};
use sha2::{Digest, Sha256};

use crate::revision::{Entry, Rev, index_name};
use crate::runner::Error;
use crate::{schema_ops, script};

/// The table that holds the checksums (`version`, `checksum`).
pub const TABLE: &str = "dms_revision_checksums";

/// The code a database is compared with: a chain of revisions (the same ids
/// as [`crate::REVISIONS`], in the same order) and the checksum each renders
/// for one backend.
pub struct Code<'a> {
    entries: &'a [Entry],
    checksums: Vec<String>,
}

impl<'a> Code<'a> {
    /// Renders every revision of `entries` for `backend`. `entries` is
    /// [`crate::REVISIONS`], or in tests a chain with the same ids whose
    /// code differs.
    pub async fn render(backend: DbBackend, entries: &'a [Entry]) -> Result<Code<'a>, Error> {
        let same_ids = entries.len() == crate::REVISIONS.len()
            && entries
                .iter()
                .zip(crate::REVISIONS)
                .all(|(a, b)| a.id == b.id);
        if !same_ids {
            return Err(Error::Db(DbErr::Custom(
                "the revisions compared are not the chain's (same ids, same order)".to_owned(),
            )));
        }
        let mut checksums = Vec::with_capacity(entries.len());
        for entry in entries {
            checksums.push(of(backend, entry).await?);
        }
        Ok(Code { entries, checksums })
    }

    /// The entry of `rev` in this code.
    pub fn entry(&self, rev: Rev) -> &'a Entry {
        &self.entries[rev.index()]
    }

    /// The checksum `rev` renders.
    pub fn checksum(&self, rev: Rev) -> &str {
        &self.checksums[rev.index()]
    }

    /// Whether `recorded` is `rev`'s checksum, now or declared as accepted.
    pub fn accepts(&self, rev: Rev, recorded: &str) -> bool {
        self.checksum(rev) == recorded || self.entry(rev).accepted_checksums.contains(&recorded)
    }
}

/// The SHA-256 (lower-case hex) of the SQL `entry`'s upgrade renders for
/// `backend` (see the module's documentation).
pub async fn of(backend: DbBackend, entry: &Entry) -> Result<String, Error> {
    let (conn, statements) = script::recorder(backend, false);
    let steps = entry.steps();
    let rendered = script::canonical(async {
        let manager = SchemaManager::new(&conn);
        steps.up(&manager).await?;
        for (table, column) in entry.indexes {
            let name = index_name(table, column);
            schema_ops::create_index(&manager, &name, table, &[column]).await?;
        }
        Ok::<_, DbErr>(())
    })
    .await;
    rendered.map_err(|source| Error::Render {
        revision: entry.id,
        source,
    })?;
    let sql = script::render(&statements)?;
    Ok(Sha256::digest(sql.as_bytes())
        .iter()
        .fold(String::with_capacity(64), |mut hex, byte| {
            let _ = write!(hex, "{byte:02x}");
            hex
        }))
}

/// An applied revision whose code now renders other SQL than when it was applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edited {
    pub revision: &'static str,
    /// The checksum recorded when it was applied.
    pub recorded: String,
    /// The checksum its code renders now.
    pub renders: String,
}

impl std::fmt::Display for Edited {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} was applied with checksum {}; the revision now renders {} (edited after it was applied?)",
            self.revision, self.recorded, self.renders
        )
    }
}

/// What the recorded checksums of a database say against `code`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Verification {
    /// Applied revisions whose code renders other SQL now.
    pub edited: Vec<Edited>,
    /// Applied revisions without a recorded checksum (applied before
    /// checksums were kept, or adopted from Alembic and not changed since):
    /// the next `up` or `down` records them.
    pub unrecorded: Vec<&'static str>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A checksum is the code's and the backend's: the same twice, whatever
    /// the clock and the salt; another backend renders other SQL.
    #[tokio::test]
    async fn checksums_are_stable_and_per_backend() {
        for entry in crate::REVISIONS {
            let a = of(DbBackend::Postgres, entry).await.unwrap();
            let b = of(DbBackend::Postgres, entry).await.unwrap();
            assert_eq!(a, b, "{}", entry.id);
            assert_eq!(a.len(), 64);
            assert_ne!(
                a,
                of(DbBackend::MySql, entry).await.unwrap(),
                "{}",
                entry.id
            );
        }
    }
}
