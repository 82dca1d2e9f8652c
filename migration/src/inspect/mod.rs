//! Reading a live schema back, on every backend, into one model: tables,
//! columns (type, nullability, default, and on PostgreSQL how a key is
//! generated and the column order), primary keys, unique constraints,
//! foreign keys, CHECKs and the named `idx_*` indexes. `check` compares two
//! of these with [`diff`].
//!
//! Types and defaults are kept as each backend reports them (normalised only
//! in spelling), so that two schemas of the same backend compare exactly.
//! One reader per backend: `postgres`, `mysql`, `sqlite`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use regex::Regex;
use sea_orm_migration::sea_orm::{
    ConnectionTrait, DbBackend, DbErr, QueryResult, Statement, Value,
};

mod mysql;
pub mod postgres;
mod sqlite;

/// The default of a generated key on MySQL and SQLite.
pub const GENERATED: &str = "<generated>";

/// Tables of the migration tools themselves, left out of every comparison.
pub const BOOKKEEPING: [&str; 3] = [
    "alembic_version",
    "seaql_migrations",
    crate::checksum::TABLE,
];

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Schema {
    pub tables: BTreeMap<String, Table>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Table {
    pub columns: BTreeMap<String, Column>,
    /// Column names, in key order.
    pub primary_key: Vec<String>,
    /// Unique constraints and unique indexes other than the primary key.
    pub uniques: BTreeSet<Vec<String>>,
    pub foreign_keys: BTreeSet<ForeignKey>,
    /// Normalised: `procedure_type IN ('a', 'b')`.
    pub checks: BTreeSet<String>,
    /// Only indexes named `idx_*` (operators refer to them): name -> columns.
    pub indexes: BTreeMap<String, Vec<String>>,
    /// Column names in their physical order (PostgreSQL only; empty elsewhere,
    /// where it is not compared).
    pub order: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub ty: String,
    pub nullable: bool,
    /// Normalised: `draft`, `0`, `true`, `CURRENT_TIMESTAMP`; a generated
    /// key is `<identity always>`, `<identity by default>` or `<serial>` on
    /// PostgreSQL, `<generated>` elsewhere.
    pub default: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ForeignKey {
    pub columns: Vec<String>,
    pub ref_table: String,
    pub ref_columns: Vec<String>,
    pub on_delete_cascade: bool,
}

impl std::fmt::Display for ForeignKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "({}) -> {}({}){}",
            self.columns.join(", "),
            self.ref_table,
            self.ref_columns.join(", "),
            if self.on_delete_cascade {
                " ON DELETE CASCADE"
            } else {
                ""
            }
        )
    }
}

pub(crate) async fn rows<C: ConnectionTrait>(
    conn: &C,
    sql: &str,
    values: Vec<Value>,
) -> Result<Vec<QueryResult>, DbErr> {
    let backend = conn.get_database_backend();
    conn.query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await
}

pub(crate) fn text(row: &QueryResult, i: usize) -> Result<String, DbErr> {
    row.try_get_by_index::<Option<String>>(i)
        .map(Option::unwrap_or_default)
}

pub(crate) fn opt_text(row: &QueryResult, i: usize) -> Result<Option<String>, DbErr> {
    row.try_get_by_index::<Option<String>>(i)
}

static IN_LIST: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)^\W*(\w+)\W*(?:IN|=\s*ANY)\b").expect("valid regex"));
static LITERAL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"'((?:[^']|'')*)'").expect("valid regex"));
pub(crate) static CAST: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"::[a-z ]+(\([0-9, ]+\))?").expect("valid regex"));

/// `procedure_type IN ('a', 'b')` from any backend's spelling of an
/// IN-list check; other checks with their white space collapsed.
pub fn normalize_check(clause: &str) -> String {
    let clause = CAST.replace_all(clause, "");
    if let Some(caps) = IN_LIST.captures(&clause) {
        let literals: Vec<String> = LITERAL
            .captures_iter(&clause)
            .map(|c| format!("'{}'", &c[1]))
            .collect();
        if !literals.is_empty() {
            return format!("{} IN ({})", caps[1].to_lowercase(), literals.join(", "));
        }
    }
    clause.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A default as PostgreSQL's snapshot spells it: no casts, no quotes,
/// booleans lowercase, sequences `<generated>`.
pub(crate) fn normalize_default(default: &str) -> String {
    let d = CAST.replace_all(default, "").to_string();
    let d = if d.starts_with('\'') {
        d.trim_matches('\'').to_owned()
    } else {
        d
    };
    match d.to_lowercase().as_str() {
        "true" | "false" => d.to_lowercase(),
        "current_timestamp" | "current_timestamp()" => "CURRENT_TIMESTAMP".to_owned(),
        _ if d.contains("nextval(") => GENERATED.to_owned(),
        _ => d,
    }
}

/// A boolean default stored as a number.
pub(crate) fn boolean_default(d: String) -> String {
    match d.as_str() {
        "1" => "true".to_owned(),
        "0" => "false".to_owned(),
        _ => d,
    }
}

/// Reads the live schema of `conn` (bookkeeping tables left out).
pub async fn introspect<C: ConnectionTrait>(conn: &C) -> Result<Schema, DbErr> {
    match conn.get_database_backend() {
        DbBackend::Postgres => postgres::read(conn).await,
        DbBackend::MySql => mysql::read(conn).await,
        _ => sqlite::read(conn).await,
    }
}

pub(crate) async fn table_names<C: ConnectionTrait>(
    conn: &C,
    sql: &str,
) -> Result<Vec<String>, DbErr> {
    Ok(rows(conn, sql, vec![])
        .await?
        .iter()
        .map(|r| text(r, 0))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .filter(|t| !BOOKKEEPING.contains(&t.as_str()))
        .collect())
}

/// `(a, b)` of an index definition `... USING btree (a, b)`.
pub(crate) fn index_columns(def: &str) -> Vec<String> {
    def.split_once(" USING ")
        .and_then(|(_, rest)| rest.split_once('('))
        .map(|(_, cols)| cols.trim_end_matches(')'))
        .unwrap_or_default()
        .split(',')
        .map(|c| c.trim().trim_matches('"').to_owned())
        .collect()
}

/// Foreign keys arrive a column per row: gathered by constraint name.
pub(crate) type Fks = BTreeMap<String, ForeignKey>;

pub(crate) fn add_fk_column(
    fks: &mut Fks,
    (name, column, ref_table, ref_column): (String, String, String, String),
    cascade: bool,
) {
    let fk = fks.entry(name).or_insert_with(|| ForeignKey {
        columns: Vec::new(),
        ref_table,
        ref_columns: Vec::new(),
        on_delete_cascade: cascade,
    });
    fk.columns.push(column);
    fk.ref_columns.push(ref_column);
}

/// The differences between two schemas, one line each (empty when equal).
pub fn diff(expected: &Schema, actual: &Schema) -> Vec<String> {
    let mut out = Vec::new();
    for (name, want) in &expected.tables {
        let Some(have) = actual.tables.get(name) else {
            out.push(format!("table {name}: missing"));
            continue;
        };
        for (col, c) in &want.columns {
            match have.columns.get(col) {
                None => out.push(format!("column {name}.{col}: missing")),
                Some(h) if h != c => out.push(format!(
                    "column {name}.{col}: expected {} {}{}, found {} {}{}",
                    c.ty,
                    if c.nullable { "null" } else { "not null" },
                    c.default
                        .as_ref()
                        .map(|d| format!(" default {d}"))
                        .unwrap_or_default(),
                    h.ty,
                    if h.nullable { "null" } else { "not null" },
                    h.default
                        .as_ref()
                        .map(|d| format!(" default {d}"))
                        .unwrap_or_default(),
                )),
                _ => {}
            }
        }
        for col in have
            .columns
            .keys()
            .filter(|c| !want.columns.contains_key(*c))
        {
            out.push(format!("column {name}.{col}: unexpected"));
        }
        if !want.order.is_empty() && !have.order.is_empty() && want.order != have.order {
            out.push(format!(
                "column order {name}: expected ({}), found ({})",
                want.order.join(", "),
                have.order.join(", ")
            ));
        }
        if want.primary_key != have.primary_key {
            out.push(format!(
                "primary key {name}: expected ({}), found ({})",
                want.primary_key.join(", "),
                have.primary_key.join(", ")
            ));
        }
        set_diff(
            &mut out,
            name,
            "unique",
            &want.uniques,
            &have.uniques,
            |u| format!("({})", u.join(", ")),
        );
        set_diff(
            &mut out,
            name,
            "foreign key",
            &want.foreign_keys,
            &have.foreign_keys,
            ToString::to_string,
        );
        set_diff(
            &mut out,
            name,
            "check",
            &want.checks,
            &have.checks,
            Clone::clone,
        );
        for (index, cols) in &want.indexes {
            match have.indexes.get(index) {
                None => out.push(format!("index {name}.{index}: missing")),
                Some(h) if h != cols => out.push(format!(
                    "index {name}.{index}: expected ({}), found ({})",
                    cols.join(", "),
                    h.join(", ")
                )),
                _ => {}
            }
        }
        for index in have
            .indexes
            .keys()
            .filter(|i| !want.indexes.contains_key(*i))
        {
            out.push(format!("index {name}.{index}: unexpected"));
        }
    }
    for name in actual
        .tables
        .keys()
        .filter(|t| !expected.tables.contains_key(*t))
    {
        out.push(format!("table {name}: unexpected"));
    }
    out
}

fn set_diff<T: Ord>(
    out: &mut Vec<String>,
    table: &str,
    what: &str,
    want: &BTreeSet<T>,
    have: &BTreeSet<T>,
    show: impl Fn(&T) -> String,
) {
    for w in want.difference(have) {
        out.push(format!("{what} {table} {}: missing", show(w)));
    }
    for h in have.difference(want) {
        out.push(format!("{what} {table} {}: unexpected", show(h)));
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_normalise_across_backends() {
        let want = "procedure_type IN ('devis_unique', 'devis_simple')";
        for spelled in [
            "((procedure_type = ANY (ARRAY['devis_unique'::text, 'devis_simple'::text])))",
            "`procedure_type` in ('devis_unique','devis_simple')"
                .replace('`', "")
                .as_str(),
            "\"procedure_type\" IN ('devis_unique', 'devis_simple')"
                .replace('"', "")
                .as_str(),
            " ((procedure_type IN (('devis_unique', 'devis_simple'))))",
        ] {
            assert_eq!(normalize_check(spelled), want, "{spelled}");
        }
    }
}
