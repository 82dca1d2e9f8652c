//! The data-loss guard: before a downgrade (or `fresh`) drops tables or
//! columns, count the rows they hold, so that nothing is lost silently.
//!
//! A seed row of the chain's own tables is not data while it is the seed,
//! column for column; one that an operator changed (a retuned threshold, the
//! admin's new password) is data.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::Value as Json;

use crate::revision::Drops;
use crate::{ADMIN_PASSWORD_ENV, password, seed};

/// Fields of the seed file that are not columns: the clear password (the
/// column holds its hash) and the role's name (the column holds its id).
const NOT_COLUMNS: [&str; 2] = ["password", "role"];

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

/// "The row equals one of the seed rows of `table`", on every seeded column
/// but JSON ones (whose spelling differs between backends).
fn seed_match(table: &str) -> Option<Condition> {
    let rows = seed::rows(table).ok()?;
    let mut any = Condition::any();
    for row in rows {
        let mut all = Condition::all();
        for (column, field) in &row {
            let col = Expr::col(Alias::new(column.as_str()));
            match field {
                _ if NOT_COLUMNS.contains(&column.as_str()) => {}
                Json::Array(_) | Json::Object(_) => {}
                Json::Null => all = all.add(col.is_null()),
                _ => {
                    if let Some(value) = seed::value(field) {
                        all = all.add(col.eq(value));
                    }
                }
            }
        }
        any = any.add(all);
    }
    Some(any)
}

/// Rows of `table` that match a seed row but whose password is not the
/// seeded one (the seed's, or the one `DMS_ADMIN_PASSWORD` gave).
async fn changed_passwords(
    conn: &DatabaseConnection,
    table: &str,
    matching: Condition,
) -> Result<i64, DbErr> {
    let seeded: Vec<String> = seed::rows(table)?
        .iter()
        .filter_map(|row| {
            row.get("password")
                .and_then(Json::as_str)
                .map(str::to_owned)
        })
        .chain(std::env::var(ADMIN_PASSWORD_ENV).ok())
        .collect();
    if seeded.is_empty() {
        return Ok(0);
    }
    let query = Query::select()
        .column(Alias::new("hashed_password"))
        .from(Alias::new(table))
        .cond_where(matching)
        .take();
    let mut changed = 0;
    for row in conn.query_all(&query).await? {
        let hash: String = row.try_get_by_index(0)?;
        if !seeded.iter().any(|clear| password::verify(clear, &hash)) {
            changed += 1;
        }
    }
    Ok(changed)
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

/// Rows of `tables` (each with its seed key column when the chain seeds it:
/// rows equal to a seed row do not count).
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
        let matching = seed_key.and_then(|_| seed_match(table));
        if let Some(matching) = &matching {
            query.cond_where(matching.clone().not());
        }
        let mut rows = count(conn, query).await?;
        if let Some(matching) = matching {
            rows += changed_passwords(conn, table, matching).await?;
        }
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
