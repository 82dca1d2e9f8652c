//! Revision `008_languages`: the language of the pages an account prefers
//! (`users.language`, none until the account picks one) and the language
//! of a case's generated documents (`cases.language`, French unless the
//! case chose otherwise).

use sea_orm_migration::prelude::*;

use crate::revision::{Drops, Revision, Steps};
use crate::schema_ops::{AddedColumn, add_columns, ddl};

#[derive(Default)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Language,
}

#[derive(DeriveIden, Clone, Copy)]
enum Cases {
    Language,
}

/// A language tag as the application writes it (`fr`, `en`).
const TAG_LENGTH: u32 = 8;

fn user_columns() -> Vec<AddedColumn> {
    vec![AddedColumn::new(
        ColumnDef::new(Users::Language)
            .string_len(TAG_LENGTH)
            .null()
            .take(),
    )]
}

fn case_columns() -> Vec<AddedColumn> {
    vec![AddedColumn::new(
        ColumnDef::new(Cases::Language)
            .string_len(TAG_LENGTH)
            .not_null()
            .default("fr")
            .take(),
    )]
}

/// What the downgrade drops: a case's French is the default, not data.
const DROPS: Drops = Drops {
    tables: &[],
    columns: &[
        ("users", "language", None),
        ("cases", "language", Some("'fr'")),
    ],
};

impl Revision for Migration {
    const ID: &'static str = "008_languages";
    const DESCRIPTION: &'static str =
        "an account's preferred language and a case's document language";
    const DROPS: Drops = DROPS;
}

/// Drops `column` of `table` if it is there. The columns of this revision
/// carry no index, key or check, so every backend (SQLite since 3.35)
/// drops them in place.
async fn drop_plain_column(
    manager: &SchemaManager<'_>,
    table: &str,
    column: &str,
) -> Result<(), DbErr> {
    if !manager.has_table(table).await? || !manager.has_column(table, column).await? {
        return Ok(());
    }
    let mut alter = Table::alter();
    alter
        .table(Alias::new(table))
        .drop_column(Alias::new(column));
    ddl(manager, &alter).await
}

#[async_trait::async_trait]
impl Steps for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_columns(manager, "users", &user_columns()).await?;
        add_columns(manager, "cases", &case_columns()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, column, _) in DROPS.columns {
            drop_plain_column(manager, table, column).await?;
        }
        Ok(())
    }
}
