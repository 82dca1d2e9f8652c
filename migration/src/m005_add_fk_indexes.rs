//! Revision `005_add_fk_indexes`: an index on every foreign-key column that
//! no index starts with, so that loading a case's file reads its rows by
//! index instead of scanning whole tables; and the identity kind of the
//! four generated keys normalised to production's `ALWAYS` on PostgreSQL
//! (a database that the earlier 004 built has them `BY DEFAULT`).
//!
//! The runner builds the indexes: on a PostgreSQL database in use with
//! `CREATE INDEX CONCURRENTLY`, outside the revision's transaction.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::revision::{Drops, Revision, Steps};

#[derive(Default)]
pub struct Migration;

impl Revision for Migration {
    const ID: &'static str = "005_add_fk_indexes";
    const DESCRIPTION: &'static str = "an index on each of the sixteen foreign-key columns no index started with; identity ALWAYS for the generated keys";
    // Indexes hold no data: the guard has nothing to count.
    const DROPS: Drops = Drops::NOTHING;
    const INDEXES: &'static [(&'static str, &'static str)] = &[
        ("analyses", "case_id"),
        ("artifacts", "case_id"),
        ("artifacts", "created_by"),
        ("audits", "case_id"),
        ("cba_template_schemas", "case_id"),
        ("dao_criteria", "case_id"),
        ("documents", "case_id"),
        ("documents", "offer_id"),
        ("extractions", "artifact_id"),
        ("extractions", "case_id"),
        ("lots", "case_id"),
        ("memory_entries", "case_id"),
        ("offer_extractions", "artifact_id"),
        ("offer_extractions", "case_id"),
        ("offers", "case_id"),
        ("role_permissions", "permission_id"),
    ];
}

/// The keys production generates `ALWAYS`.
const IDENTITY_ALWAYS: [&str; 4] = ["permissions", "procurement_thresholds", "roles", "users"];

#[async_trait::async_trait]
impl Steps for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        // PostgreSQL has no `IF` form for this: ask which keys still are `BY DEFAULT`.
        let conn = manager.get_connection();
        let tables = IDENTITY_ALWAYS
            .iter()
            .map(|t| format!("'{t}'"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT table_name::text FROM information_schema.columns \
             WHERE table_schema = current_schema() AND column_name = 'id' \
             AND identity_generation = 'BY DEFAULT' AND table_name IN ({tables})"
        );
        let rows = conn
            .query_all_raw(Statement::from_string(DbBackend::Postgres, sql))
            .await?;
        for row in rows {
            let table: String = row.try_get_by_index(0)?;
            conn.execute_unprepared(&format!(
                "ALTER TABLE \"{table}\" ALTER COLUMN id SET GENERATED ALWAYS"
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        // 004 itself makes the keys `ALWAYS`: the kind stays. The runner drops the indexes.
        Ok(())
    }
}
