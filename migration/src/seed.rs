//! Seed rows: read from the production seed file, inserted only where absent.
//!
//! Seeding never overwrites: a row whose key (or any unique column) is
//! already present is left as it is, so re-running a revision keeps what
//! operators changed since (a new admin password, a retuned threshold).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, Value};
use serde_json::Value as Json;

/// The production seed file (`shared/reference/seed_data.json`), verbatim.
const SEED_DATA: &str = include_str!("seed_data.json");

/// The rows of one table of the seed file.
pub fn rows(table: &str) -> Result<Vec<serde_json::Map<String, Json>>, DbErr> {
    let data: Json = serde_json::from_str(SEED_DATA)
        .map_err(|e| DbErr::Migration(format!("seed_data.json is malformed: {e}")))?;
    data.get(table)
        .and_then(Json::as_array)
        .ok_or_else(|| DbErr::Migration(format!("seed_data.json has no table {table}")))?
        .iter()
        .map(|row| {
            row.as_object().cloned().ok_or_else(|| {
                DbErr::Migration(format!("seed_data.json: a {table} row is not an object"))
            })
        })
        .collect()
}

/// A seed field as a bound value, `None` for a JSON null (the column is left
/// to its default: a typed NULL would not bind to every column type).
/// JSON objects stay JSON (for `jsonb`/`json` columns); numbers with a
/// fraction are bound as floats, which every backend converts to its
/// `numeric`/`decimal` column exactly for these amounts.
pub fn value(field: &Json) -> Option<Value> {
    Some(match field {
        Json::Null => return None,
        Json::Bool(b) => (*b).into(),
        Json::Number(n) => match n.as_i64() {
            Some(i) => i.into(),
            None => n.as_f64().into(),
        },
        Json::String(s) => s.as_str().into(),
        Json::Array(_) | Json::Object(_) => Value::Json(Some(Box::new(field.clone()))),
    })
}

/// The fields of a seed row named in `columns`, as bound values, nulls left out.
pub fn fields<'a>(
    row: &serde_json::Map<String, Json>,
    columns: &[&'a str],
) -> Vec<(&'a str, Value)> {
    columns
        .iter()
        .filter_map(|c| row.get(*c).and_then(value).map(|v| (*c, v)))
        .collect()
}

/// Current time as production writes its TEXT timestamps (ISO-8601, UTC,
/// microseconds); a fixed one when rendering for a checksum.
pub fn now() -> String {
    if crate::script::is_canonical() {
        return crate::script::CANONICAL_TIME.to_owned();
    }
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.6f")
        .to_string()
}

/// Inserts `values` into `table` unless a row already has the same value in
/// one of the `unique` columns. Returns whether it inserted.
pub async fn insert_if_absent(
    manager: &SchemaManager<'_>,
    table: &str,
    unique: &[&str],
    values: Vec<(&str, Value)>,
) -> Result<bool, DbErr> {
    if exists(manager, table, unique, &values).await? {
        return Ok(false);
    }
    insert(manager, table, values).await?;
    Ok(true)
}

/// Whether a row of `table` has the value `values` gives one of the `unique` columns.
pub async fn exists(
    manager: &SchemaManager<'_>,
    table: &str,
    unique: &[&str],
    values: &[(&str, Value)],
) -> Result<bool, DbErr> {
    let mut any = Condition::any();
    for key in unique {
        let value = values
            .iter()
            .find(|(c, _)| c == key)
            .map(|(_, v)| v.clone())
            .ok_or_else(|| DbErr::Migration(format!("seed row of {table} lacks {key}")))?;
        any = any.add(Expr::col(Alias::new(*key)).eq(value));
    }
    let query = Query::select()
        .expr(Expr::val(1))
        .from(Alias::new(table))
        .cond_where(any)
        .limit(1)
        .take();
    Ok(manager.get_connection().query_one(&query).await?.is_some())
}

/// `INSERT INTO table (columns) VALUES (values)`.
pub async fn insert(
    manager: &SchemaManager<'_>,
    table: &str,
    values: Vec<(&str, Value)>,
) -> Result<(), DbErr> {
    let (columns, values): (Vec<_>, Vec<_>) = values
        .into_iter()
        .map(|(c, v)| (Alias::new(c), Expr::val(v)))
        .unzip();
    let insert = Query::insert()
        .into_table(Alias::new(table))
        .columns(columns)
        .values(values)
        .map_err(|e| DbErr::Migration(e.to_string()))?
        .take();
    manager.get_connection().execute(&insert).await?;
    Ok(())
}
