//! The data-loss guard: before a downgrade (or `fresh`) drops tables or
//! columns, count the rows they hold, so that nothing is lost silently.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseConnection, Value};

use crate::revision::Drops;
use crate::seed;

/// Rows that an operation would destroy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Loss {
    pub table: String,
    /// `None` when the whole table goes.
    pub column: Option<String>,
    pub rows: i64,
}

impl std::fmt::Display for Loss {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.column {
            Some(column) => write!(f, "{}.{} ({} rows)", self.table, column, self.rows),
            None => write!(f, "{} ({} rows)", self.table, self.rows),
        }
    }
}

/// The seed key column of a table the chain seeds, if it does.
pub fn seed_key(table: &str) -> Option<&'static str> {
    crate::REVISIONS
        .iter()
        .flat_map(|e| e.drops.tables.iter())
        .find(|(t, _)| *t == table)
        .and_then(|(_, key)| *key)
}

/// The revisions' own seed keys of `table`, by `key` column: those rows are
/// not user data.
fn seed_keys(table: &str, key: &str) -> Vec<Value> {
    seed::rows(table)
        .unwrap_or_default()
        .iter()
        .filter_map(|row| row.get(key).and_then(|v| v.as_str()).map(Value::from))
        .collect()
}

async fn count<C: ConnectionTrait>(conn: &C, query: SelectStatement) -> Result<i64, DbErr> {
    Ok(conn
        .query_one(&query)
        .await?
        .map(|row| row.try_get_by_index::<i64>(0))
        .transpose()?
        .unwrap_or(0))
}

/// What dropping `drops` would destroy, table by table and column by column.
/// Objects already gone count as empty.
pub async fn losses(conn: &DatabaseConnection, drops: &Drops) -> Result<Vec<Loss>, DbErr> {
    let mut losses = table_losses(conn, drops.tables).await?;
    losses.extend(column_losses(conn, drops.columns).await?);
    Ok(losses)
}

/// Rows of `tables` (each with its seed key column, whose seed rows do not count).
pub async fn table_losses(
    conn: &DatabaseConnection,
    tables: &[(&str, Option<&str>)],
) -> Result<Vec<Loss>, DbErr> {
    let manager = SchemaManager::new(conn);
    let mut losses = Vec::new();
    for (table, seed_key) in tables {
        if !manager.has_table(table).await? {
            continue;
        }
        let mut query = Query::select();
        query
            .expr(Expr::col(Asterisk).count())
            .from(Alias::new(*table));
        if let Some(key) = *seed_key {
            let keys = seed_keys(table, key);
            if !keys.is_empty() {
                query.and_where(Expr::col(Alias::new(key)).is_not_in(keys));
            }
        }
        let rows = count(conn, query).await?;
        if rows > 0 {
            losses.push(Loss {
                table: (*table).to_owned(),
                column: None,
                rows,
            });
        }
    }
    Ok(losses)
}

/// Non-empty values of `columns` (each with the value that counts as empty besides NULL).
async fn column_losses(
    conn: &DatabaseConnection,
    columns: &[(&str, &str, Option<&str>)],
) -> Result<Vec<Loss>, DbErr> {
    let manager = SchemaManager::new(conn);
    let mut losses = Vec::new();
    for (table, column, empty) in columns {
        if !manager.has_table(table).await? || !manager.has_column(table, column).await? {
            continue;
        }
        let mut query = Query::select();
        query
            .expr(Expr::col(Asterisk).count())
            .from(Alias::new(*table))
            .and_where(Expr::col(Alias::new(*column)).is_not_null());
        if let Some(empty) = empty {
            query.and_where(Expr::col(Alias::new(*column)).ne(Expr::cust(String::from(*empty))));
        }
        let rows = count(conn, query).await?;
        if rows > 0 {
            losses.push(Loss {
                table: (*table).to_owned(),
                column: Some((*column).to_owned()),
                rows,
            });
        }
    }
    Ok(losses)
}
