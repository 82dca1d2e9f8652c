//! Backups that can be proven: `dms backup` writes a consistent copy of the
//! database and of every stored file, with a manifest of their SHA-256 and
//! the ledger heads ([`take`]); `dms restore` checks every hash before it
//! writes anything, then puts the copy back ([`restore`]).
//!
//! A backup directory holds `manifest.json` ([`manifest`]), `dms.db` (the
//! SQLite snapshot; absent from a `--files-only` backup) and `data/`, which
//! mirrors the data directory for the files the database names. Everything
//! in it is owner-only (0600 files, 0700 directories): offers are
//! confidential.

mod error;
mod files;
pub mod manifest;
mod restore;
mod take;

use sea_orm::ConnectionTrait;

pub use error::Error;
pub use manifest::Manifest;
pub use restore::{RestoreOptions, Restored, restore};
pub use take::{Backup, BackupOptions, backup};

/// The ledger's chain heads in `db` (the snapshot itself on SQLite), as
/// the manifest records them: the one place a backup asks the ledger.
pub async fn ledger_heads<C: ConnectionTrait>(db: &C) -> Result<Option<serde_json::Value>, Error> {
    let heads = crate::ledger::heads(db)
        .await
        .map_err(|e| Error::Database(format!("reading the ledger's heads: {e}")))?;
    serde_json::to_value(heads)
        .map(Some)
        .map_err(|e| Error::Database(format!("writing the ledger's heads: {e}")))
}
