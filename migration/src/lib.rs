//! The DMS migration chain: the production Alembic revisions
//! `002_add_couche_a -> 003_add_procurement_extensions -> 004_users_rbac`
//! and `005_add_fk_indexes`, rewritten on sea-orm-migration, and the
//! guarded runner that applies them (lock, bookkeeping, data-loss guard).
//!
//! Applications migrate through [`upgrade`] and ask [`pending`]; the CLI
//! (`src/main.rs`) uses [`runner`]. Adding a revision is one file and one
//! line in [`REVISIONS`].

pub use sea_orm_migration::prelude::*;

mod app;
pub mod bookkeeping;
pub mod checksum;
pub mod cli;
pub mod guard;
pub mod inspect;
pub mod lock;
mod m002_add_couche_a;
mod m003_add_procurement_extensions;
mod m004_users_rbac;
mod m005_add_fk_indexes;
mod m006_case_committees;
mod m007_ledger;
mod m008_languages;
mod m009_shared_state;
pub mod password;
pub mod revision;
pub mod runner;
mod schema_ops;
mod script;
mod seed;

pub use app::{LOCK_TIMEOUT, pending, upgrade};
pub use m004_users_rbac::ADMIN_PASSWORD_ENV;
pub use revision::{Rev, Revision};
pub use runner::{DEFAULT_DATABASE_URL, DownTarget, Error, Outcome, Target, UpTarget, connect};

use revision::Entry;

/// The chain, oldest first: the only place revisions are listed.
pub const REVISIONS: &[Entry] = &[
    Entry::of::<m002_add_couche_a::Migration>(),
    Entry::of::<m003_add_procurement_extensions::Migration>(),
    Entry::of::<m004_users_rbac::Migration>(),
    Entry::of::<m005_add_fk_indexes::Migration>(),
    Entry::of::<m006_case_committees::Migration>(),
    Entry::of::<m007_ledger::Migration>(),
    Entry::of::<m008_languages::Migration>(),
    Entry::of::<m009_shared_state::Migration>(),
];

/// The id of the newest revision.
pub const HEAD: &str = REVISIONS[REVISIONS.len() - 1].id;

/// A Unix time as `2026-11-25 07:00:00 UTC`.
pub fn format_unix_time(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| secs.to_string())
}
