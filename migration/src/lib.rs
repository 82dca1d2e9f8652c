//! The DMS migration chain: the production Alembic revisions
//! `002_add_couche_a -> 003_add_procurement_extensions -> 004_users_rbac`,
//! rewritten on sea-orm-migration, and the runner that applies them.

pub use sea_orm_migration::prelude::*;

mod m002_add_couche_a;
mod m003_add_procurement_extensions;
mod m004_users_rbac;
pub mod password;
pub mod runner;
mod schema_ops;
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
