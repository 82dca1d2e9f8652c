//! Revision `009_shared_state`: what several servers on one database share
//! besides the rows they serve. `rate_limits` holds the rate limits' state
//! (sign-in attempts, case creations, uploads, analyses, decisions,
//! registrations), so that a limit holds whichever instance receives the
//! requests: one row per limit and key, the key's theoretical arrival time
//! of the generic cell rate algorithm, updated by one statement per hit.

use sea_orm_migration::prelude::*;

use crate::revision::{Drops, Revision, Steps};
use crate::schema_ops::{create_index, create_table, drop_table};

#[derive(Default)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum RateLimits {
    Table,
    LimitName,
    LimitKey,
    Tat,
    Refusals,
}

fn rate_limits() -> TableCreateStatement {
    Table::create()
        .table(RateLimits::Table)
        // Which limit (`login_client`, `upload`...).
        .col(
            ColumnDef::new(RateLimits::LimitName)
                .string_len(32)
                .not_null(),
        )
        // SHA-256 of the key (a user id, a client address, an account):
        // bounded whatever a client sends, and no address kept in clear.
        .col(
            ColumnDef::new(RateLimits::LimitKey)
                .string_len(64)
                .not_null(),
        )
        // Theoretical arrival time, milliseconds since the Unix epoch.
        .col(ColumnDef::new(RateLimits::Tat).big_integer().not_null())
        // Attempts refused since the last one admitted.
        .col(
            ColumnDef::new(RateLimits::Refusals)
                .big_integer()
                .not_null()
                .default(0),
        )
        .primary_key(
            Index::create()
                .col(RateLimits::LimitName)
                .col(RateLimits::LimitKey),
        )
        .take()
}

/// What the downgrade drops (no seed rows: the state is transient).
const DROPS: Drops = Drops {
    tables: &[("rate_limits", None)],
    columns: &[],
};

impl Revision for Migration {
    const ID: &'static str = "009_shared_state";
    const DESCRIPTION: &'static str =
        "rate limits counted in the database, shared by every server on it";
    const DROPS: Drops = DROPS;
}

#[async_trait::async_trait]
impl Steps for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_table(manager, rate_limits()).await?;
        // The housekeeping deletes the rows whose time has passed.
        create_index(manager, "idx_rate_limits_tat", "rate_limits", &["tat"]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, _) in DROPS.tables {
            drop_table(manager, table).await?;
        }
        Ok(())
    }
}
