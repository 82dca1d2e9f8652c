//! Revision `007_ledger`: the tamper-evident ledger. `ledger_entries` holds
//! the chains (one per case, `case:<id>`, and one `global`), each entry
//! hashed over the one before it; `ledger_heads` names each chain's last
//! entry, so that an append finds it by key and a truncated chain shows.
//! No foreign key: deleting a case must leave its chain behind, as
//! evidence. On PostgreSQL a trigger refuses UPDATE and DELETE on the
//! entries (defence in depth: verification does not rely on it).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

use crate::revision::{Drops, Revision, Steps};
use crate::schema_ops::{create_table, drop_table};

#[derive(Default)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum LedgerEntries {
    Table,
    Chain,
    Seq,
    RecordedAt,
    Actor,
    Kind,
    Record,
    Hash,
}

#[derive(DeriveIden, Clone, Copy)]
enum LedgerHeads {
    Table,
    Chain,
    Seq,
    Hash,
}

/// `case:` and a case id (at most 100 characters), or `global`.
const CHAIN_LEN: u32 = 120;

fn new_tables() -> Vec<TableCreateStatement> {
    vec![
        Table::create()
            .table(LedgerEntries::Table)
            .col(
                ColumnDef::new(LedgerEntries::Chain)
                    .string_len(CHAIN_LEN)
                    .not_null(),
            )
            .col(ColumnDef::new(LedgerEntries::Seq).big_integer().not_null())
            .col(ColumnDef::new(LedgerEntries::RecordedAt).text().not_null())
            .col(ColumnDef::new(LedgerEntries::Actor).integer().null())
            .col(
                ColumnDef::new(LedgerEntries::Kind)
                    .string_len(40)
                    .not_null(),
            )
            .col(ColumnDef::new(LedgerEntries::Record).text().not_null())
            .col(
                ColumnDef::new(LedgerEntries::Hash)
                    .string_len(64)
                    .not_null(),
            )
            // One entry per position: two writers can never fork a chain.
            .primary_key(
                Index::create()
                    .col(LedgerEntries::Chain)
                    .col(LedgerEntries::Seq),
            )
            .take(),
        Table::create()
            .table(LedgerHeads::Table)
            .col(
                ColumnDef::new(LedgerHeads::Chain)
                    .string_len(CHAIN_LEN)
                    .not_null()
                    .primary_key(),
            )
            .col(ColumnDef::new(LedgerHeads::Seq).big_integer().not_null())
            .col(ColumnDef::new(LedgerHeads::Hash).string_len(64).not_null())
            .take(),
    ]
}

const DROPS: Drops = Drops {
    tables: &[("ledger_heads", None), ("ledger_entries", None)],
    columns: &[],
};

/// PostgreSQL only: the entries cannot be changed or deleted through SQL
/// without first dropping or disabling this trigger.
const PG_APPEND_ONLY: [&str; 2] = [
    "CREATE OR REPLACE FUNCTION ledger_entries_append_only() RETURNS trigger \
     LANGUAGE plpgsql AS $$ BEGIN \
     RAISE EXCEPTION 'ledger_entries is append-only (% refused)', TG_OP; \
     END $$",
    "CREATE OR REPLACE TRIGGER ledger_entries_append_only \
     BEFORE UPDATE OR DELETE ON ledger_entries \
     FOR EACH ROW EXECUTE FUNCTION ledger_entries_append_only()",
];

impl Revision for Migration {
    const ID: &'static str = "007_ledger";
    const DESCRIPTION: &'static str =
        "the tamper-evident ledger: one hash chain per case and a global chain, append-only";
    const DROPS: Drops = DROPS;
}

#[async_trait::async_trait]
impl Steps for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in new_tables() {
            create_table(manager, table).await?;
        }
        if manager.get_database_backend() == DbBackend::Postgres {
            for sql in PG_APPEND_ONLY {
                manager.get_connection().execute_unprepared(sql).await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, _) in DROPS.tables {
            drop_table(manager, table).await?;
        }
        if manager.get_database_backend() == DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared("DROP FUNCTION IF EXISTS ledger_entries_append_only()")
                .await?;
        }
        Ok(())
    }
}
