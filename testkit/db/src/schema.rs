//! The schema as the tests compare it: `migration::inspect`'s model, the
//! PostgreSQL reference files parsed into it and translated into each
//! backend's native types, and the PostgreSQL snapshot in the reference form
//! (what `shared/tools/pg_schema_snapshot.py` prints). Test support only.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use migration::inspect::{Column, GENERATED, normalize_check, postgres};
pub use migration::inspect::{ForeignKey, Schema, Table, introspect};
use regex::Regex;
use sea_orm::{ConnectionTrait, DbBackend, DbErr, QueryResult, Statement, Value};

/// Differences between the live schema of a `backend` database and the
/// PostgreSQL `reference`, one line each; empty when they match.
pub fn diff(backend: DbBackend, reference: &Schema, actual: &Schema) -> Vec<String> {
    migration::inspect::diff(&expected_for(backend, reference), actual)
}

async fn rows<C: ConnectionTrait>(
    conn: &C,
    sql: &str,
    values: Vec<Value>,
) -> Result<Vec<QueryResult>, DbErr> {
    let backend = conn.get_database_backend();
    conn.query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await
}

fn text(row: &QueryResult, i: usize) -> Result<String, DbErr> {
    row.try_get_by_index::<Option<String>>(i)
        .map(Option::unwrap_or_default)
}

/// Parses a reference file (`schema_postgres_*.txt`) into the model.
pub fn parse_reference(reference: &str) -> Schema {
    static FK: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^FOREIGN KEY \(([^)]*)\) REFERENCES (\w+)\(([^)]*)\)(.*)$")
            .expect("valid regex")
    });
    let split = |s: &str| -> Vec<String> { s.split(',').map(|c| c.trim().to_owned()).collect() };
    let mut schema = Schema::default();
    let mut current: Option<String> = None;
    for line in reference.lines() {
        if let Some(name) = line.strip_prefix("table ") {
            current = Some(name.to_owned());
            schema.tables.insert(name.to_owned(), Table::default());
            continue;
        }
        let Some(table) = current.as_ref().and_then(|t| schema.tables.get_mut(t)) else {
            continue;
        };
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("order ") {
            let columns = rest.split_once(": ").map_or("", |(_, c)| c);
            table.order = split(columns);
        } else if let Some(rest) = line.strip_prefix("column ") {
            // column t.c TYPE null|not null [default D]
            let (qualified, rest) = rest.split_once(' ').unwrap_or((rest, ""));
            let column = qualified.split_once('.').map_or(qualified, |(_, c)| c);
            let (before, default) = match rest.split_once(" default ") {
                Some((b, d)) => (b, Some(d.to_owned())),
                None => (rest, None),
            };
            let (ty, nullable) = match before.strip_suffix(" not null") {
                Some(ty) => (ty, false),
                None => (before.strip_suffix(" null").unwrap_or(before), true),
            };
            table.columns.insert(
                column.to_owned(),
                Column {
                    ty: ty.to_owned(),
                    nullable,
                    default,
                },
            );
        } else if let Some(rest) = line.strip_prefix("primary ") {
            if let Some((_, cols)) = rest.split_once("PRIMARY KEY (") {
                table.primary_key = split(cols.trim_end_matches(')'));
            }
        } else if let Some(rest) = line.strip_prefix("unique ") {
            if let Some((_, cols)) = rest.split_once("UNIQUE (") {
                table.uniques.insert(split(cols.trim_end_matches(')')));
            }
        } else if let Some(rest) = line.strip_prefix("foreign ") {
            let def = rest.split_once(": ").map_or(rest, |(_, d)| d);
            if let Some(c) = FK.captures(def) {
                table.foreign_keys.insert(ForeignKey {
                    columns: split(&c[1]),
                    ref_table: c[2].to_owned(),
                    ref_columns: split(&c[3]),
                    on_delete_cascade: c[4].contains("ON DELETE CASCADE"),
                });
            }
        } else if let Some(rest) = line.strip_prefix("check ") {
            let def = rest.split_once(": CHECK").map_or(rest, |(_, d)| d);
            table.checks.insert(normalize_check(def));
        } else if let Some(rest) = line.strip_prefix("index ") {
            // index t(cols)[ unique][ name]: unique ones back the unique constraints.
            let Some((_, rest)) = rest.split_once('(') else {
                continue;
            };
            let Some((cols, tail)) = rest.split_once(')') else {
                continue;
            };
            let name = tail.trim();
            if name.starts_with("idx_") {
                table.indexes.insert(name.to_owned(), split(cols));
            }
        }
    }
    schema
}

/// Whether a reference column is part of a key: MariaDB stores those `text`
/// columns as `varchar(255)`, since it cannot key a `TEXT` column.
fn is_key(table: &Table, column: &str) -> bool {
    let c = column.to_owned();
    table.primary_key.contains(&c)
        || table.uniques.iter().any(|u| u.contains(&c))
        || table.foreign_keys.iter().any(|f| f.columns.contains(&c))
        || table.indexes.values().any(|i| i.contains(&c))
}

/// The PostgreSQL reference schema in `backend`'s native types, as this
/// crate's revisions create them.
pub fn expected_for(backend: DbBackend, reference: &Schema) -> Schema {
    let mut schema = reference.clone();
    for table in schema.tables.values_mut() {
        if backend != DbBackend::Postgres {
            table.order.clear();
            for column in table.columns.values_mut() {
                if column
                    .default
                    .as_deref()
                    .is_some_and(|d| d.starts_with('<'))
                {
                    column.default = Some(GENERATED.to_owned());
                }
            }
        }
        let keys: BTreeSet<String> = table
            .columns
            .keys()
            .filter(|c| is_key(table, c))
            .cloned()
            .collect();
        for (name, column) in table.columns.iter_mut() {
            let ty = column.ty.as_str();
            column.ty = match (backend, ty) {
                (DbBackend::Postgres, _) => ty.to_owned(),
                (DbBackend::MySql, "text") if keys.contains(name) => "varchar(255)".to_owned(),
                (DbBackend::MySql, "integer") => "int".to_owned(),
                (DbBackend::MySql, "real") => "float".to_owned(),
                (DbBackend::MySql, "boolean") => "tinyint(1)".to_owned(),
                (DbBackend::MySql, "jsonb") => "json".to_owned(),
                (DbBackend::MySql, t) if t.starts_with("numeric") => {
                    t.replace("numeric", "decimal")
                }
                (DbBackend::Sqlite, "bigint") => "integer".to_owned(),
                (DbBackend::Sqlite, "real") => "float".to_owned(),
                (DbBackend::Sqlite, "jsonb") => "jsonb_text".to_owned(),
                (DbBackend::Sqlite, t) if t.starts_with("numeric") => {
                    t.replace("numeric", "real").replace(',', ", ")
                }
                _ => ty.to_owned(),
            };
        }
    }
    schema
}

/// Exactly the lines `shared/tools/pg_schema_snapshot.py` prints for a
/// PostgreSQL database (its queries and normalisation, ported).
pub async fn postgres_snapshot<C: ConnectionTrait>(conn: &C) -> Result<Vec<String>, DbErr> {
    static ARRAY: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"ARRAY\[(.*?)\]").expect("valid regex"));
    let mut out = Vec::new();
    let mut tables = Vec::new();
    for row in rows(
        conn,
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1",
        vec![],
    )
    .await?
    {
        let table = text(&row, 0)?;
        if !migration::inspect::BOOKKEEPING.contains(&table.as_str()) {
            tables.push(table);
        }
    }
    for t in tables {
        out.push(format!("table {t}"));
        let v = vec![Value::from(t.as_str())];
        let columns = postgres::columns(conn, "'public'", &t).await?;
        let mut order: Vec<&(String, Column, i32)> = columns.iter().collect();
        order.sort_by_key(|(_, _, position)| *position);
        let order: Vec<&str> = order.iter().map(|(c, _, _)| c.as_str()).collect();
        out.push(format!("  order {t}: {}", order.join(", ")));
        for (name, c, _) in columns {
            out.push(format!(
                "  column {t}.{name} {} {}{}",
                c.ty,
                if c.nullable { "null" } else { "not null" },
                c.default
                    .map(|d| format!(" default {d}"))
                    .unwrap_or_default()
            ));
        }
        let mut cons = Vec::new();
        for row in rows(
            conn,
            "SELECT con.contype::text, pg_get_constraintdef(con.oid) \
             FROM pg_constraint con JOIN pg_class cl ON cl.oid = con.conrelid \
             JOIN pg_namespace ns ON ns.oid = cl.relnamespace \
             WHERE ns.nspname = 'public' AND cl.relname = $1",
            v.clone(),
        )
        .await?
        {
            let kind = match text(&row, 0)?.as_str() {
                "p" => "primary".to_owned(),
                "u" => "unique".to_owned(),
                "f" => "foreign".to_owned(),
                "c" => "check".to_owned(),
                other => other.to_owned(),
            };
            let def = text(&row, 1)?
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            let def = def
                .replace("ON DELETE NO ACTION", "")
                .replace("ON UPDATE NO ACTION", "")
                .trim()
                .replace("::text", "");
            let def = ARRAY.replace_all(&def, "($1)").replace("= ANY ", "IN ");
            cons.push(format!("  {kind} {t}: {def}"));
        }
        cons.sort();
        out.extend(cons);
        let mut idx = Vec::new();
        for (name, unique, primary, def) in postgres::indexes(conn, "'public'", &t).await? {
            if primary {
                continue;
            }

            let cols = def
                .split_once(" USING ")
                .and_then(|(_, r)| r.split_once(" ("))
                .map(|(_, c)| c.strip_suffix(')').unwrap_or(c).to_owned())
                .unwrap_or_default();
            let label = if name.starts_with("idx_") {
                name.as_str()
            } else {
                ""
            };
            let line = format!(
                "  index {t}({cols}){} {label}",
                if unique { " unique" } else { "" }
            );
            idx.push(line.trim_end().to_owned());
        }
        idx.sort();
        out.extend(idx);
    }
    Ok(out)
}
