//! The DMS migration chain: the production Alembic revisions
//! `002_add_couche_a -> 003_add_procurement_extensions -> 004_users_rbac`,
//! rewritten on sea-orm-migration, and the runner that applies them.

pub use sea_orm_migration::prelude::*;

pub mod bookkeeping;
pub mod guard;
pub mod inspect;
pub mod lock;
mod m002_add_couche_a;
mod m003_add_procurement_extensions;
mod m004_users_rbac;
pub mod password;
pub mod runner;
mod schema_ops;
mod script;
mod seed;

pub use m004_users_rbac::ADMIN_PASSWORD_ENV;
pub use runner::{DEFAULT_DATABASE_URL, Error, connect};

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m002_add_couche_a::Migration),
            Box::new(m003_add_procurement_extensions::Migration),
            Box::new(m004_users_rbac::Migration),
        ]
    }
}

/// What the downgrade of revision `name` drops.
pub(crate) fn drops(name: &str) -> schema_ops::Drops {
    match name {
        "002_add_couche_a" => m002_add_couche_a::DROPS,
        "003_add_procurement_extensions" => m003_add_procurement_extensions::DROPS,
        "004_users_rbac" => m004_users_rbac::DROPS,
        _ => schema_ops::Drops {
            tables: &[],
            columns: &[],
        },
    }
}

/// The seed key column of a table the chain seeds, if it does.
pub(crate) fn seed_key(table: &str) -> Option<&'static str> {
    [
        m002_add_couche_a::DROPS,
        m003_add_procurement_extensions::DROPS,
        m004_users_rbac::DROPS,
    ]
    .iter()
    .flat_map(|d| d.tables.iter())
    .find(|(t, _)| *t == table)
    .and_then(|(_, key)| *key)
}

/// One line on what revision `name` does.
pub fn description(name: &str) -> &'static str {
    match name {
        "002_add_couche_a" => {
            "Couche B (cases, artifacts, memory entries, DAO criteria, CBA templates, offer extractions) and Couche A (lots, offers, documents, extractions, analyses, audits)"
        }
        "003_add_procurement_extensions" => {
            "procurement and purchase categories, thresholds, references; their columns on cases and lots; seed rows"
        }
        "004_users_rbac" => {
            "users, roles, permissions; case owner and upload size, artifact author; seeded roles and admin"
        }
        _ => "unknown revision",
    }
}

/// What the downgrade of revision `name` drops, in words.
pub fn downgrade_summary(name: &str) -> String {
    let drops = drops(name);
    let tables: Vec<&str> = drops.tables.iter().map(|(t, _)| *t).collect();
    let columns: Vec<String> = drops
        .columns
        .iter()
        .map(|(t, c, _)| format!("{t}.{c}"))
        .collect();
    match (tables.is_empty(), columns.is_empty()) {
        (true, true) => "nothing".to_owned(),
        (false, true) => format!("tables {}", tables.join(", ")),
        (true, false) => format!("columns {}", columns.join(", ")),
        (false, false) => format!(
            "tables {}; columns {}",
            tables.join(", "),
            columns.join(", ")
        ),
    }
}

/// A Unix time as `2026-11-25 07:00:00 UTC`.
pub fn format_unix_time(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| secs.to_string())
}
