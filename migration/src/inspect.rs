//! Reading a live schema back, on every backend, into one model: tables,
//! columns (type, nullability, default), primary keys, unique constraints,
//! foreign keys, CHECKs and the named `idx_*` indexes. `check` compares two
//! of these; the tests compare them with the PostgreSQL reference files.
//!
//! Types and defaults are kept as each backend reports them (normalised only
//! in spelling), so that two schemas of the same backend compare exactly;
//! [`expected_for`] translates the PostgreSQL reference into a backend's
//! native types.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use regex::Regex;
use sea_orm_migration::sea_orm::{
    ConnectionTrait, DbBackend, DbErr, QueryResult, Statement, Value,
};

/// The default of a generated key on MySQL and SQLite.
pub const GENERATED: &str = "<generated>";

/// Tables of the migration tools themselves, left out of every comparison.
pub const BOOKKEEPING: [&str; 2] = ["alembic_version", "seaql_migrations"];

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

fn opt_text(row: &QueryResult, i: usize) -> Result<Option<String>, DbErr> {
    row.try_get_by_index::<Option<String>>(i)
}

static IN_LIST: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)^\W*(\w+)\W*(?:IN|=\s*ANY)\b").expect("valid regex"));
static LITERAL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"'((?:[^']|'')*)'").expect("valid regex"));
static CAST: LazyLock<Regex> =
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
fn normalize_default(default: &str) -> String {
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
fn boolean_default(d: String) -> String {
    match d.as_str() {
        "1" => "true".to_owned(),
        "0" => "false".to_owned(),
        _ => d,
    }
}

/// Reads the live schema of `conn` (bookkeeping tables left out).
pub async fn introspect<C: ConnectionTrait>(conn: &C) -> Result<Schema, DbErr> {
    match conn.get_database_backend() {
        DbBackend::Postgres => postgres(conn).await,
        DbBackend::MySql => mysql(conn).await,
        _ => sqlite(conn).await,
    }
}

async fn table_names<C: ConnectionTrait>(conn: &C, sql: &str) -> Result<Vec<String>, DbErr> {
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
fn index_columns(def: &str) -> Vec<String> {
    def.split_once(" USING ")
        .and_then(|(_, rest)| rest.split_once('('))
        .map(|(_, cols)| cols.trim_end_matches(')'))
        .unwrap_or_default()
        .split(',')
        .map(|c| c.trim().trim_matches('"').to_owned())
        .collect()
}

/// The columns of a PostgreSQL table of `schema` (an SQL expression), in
/// name order, as the snapshot spells their types and defaults, each with
/// its position in the table.
async fn pg_columns<C: ConnectionTrait>(
    conn: &C,
    schema: &str,
    table: &str,
) -> Result<Vec<(String, Column, i32)>, DbErr> {
    let sql = format!(
        "SELECT column_name::text, data_type::text, character_maximum_length::int, \
                numeric_precision::int, numeric_scale::int, is_nullable::text, \
                column_default::text, is_identity::text, identity_generation::text, \
                ordinal_position::int \
         FROM information_schema.columns \
         WHERE table_schema = {schema} AND table_name = $1 ORDER BY column_name"
    );
    let mut columns = Vec::new();
    for row in rows(conn, &sql, vec![Value::from(table)]).await? {
        let mut ty = text(&row, 1)?;
        let len: Option<i32> = row.try_get_by_index(2)?;
        let (precision, scale): (Option<i32>, Option<i32>) =
            (row.try_get_by_index(3)?, row.try_get_by_index(4)?);
        if let ("character varying", Some(len)) = (ty.as_str(), len) {
            ty = format!("varchar({len})");
        }
        if let ("numeric", Some(p)) = (ty.as_str(), precision) {
            ty = format!("numeric({p},{})", scale.unwrap_or(0));
        }
        let mut default = opt_text(&row, 6)?.map(|d| normalize_default(&d));
        if text(&row, 7)? == "YES" {
            default = Some(format!("<identity {}>", text(&row, 8)?.to_lowercase()));
        } else if default.as_deref() == Some(GENERATED) {
            default = Some("<serial>".to_owned());
        }
        let nullable = text(&row, 5)? == "YES";
        let position: i32 = row.try_get_by_index(9)?;
        columns.push((
            text(&row, 0)?,
            Column {
                ty,
                nullable,
                default,
            },
            position,
        ));
    }
    Ok(columns)
}

/// The indexes of a PostgreSQL table of `schema`: name, unique, primary, definition.
async fn pg_indexes<C: ConnectionTrait>(
    conn: &C,
    schema: &str,
    table: &str,
) -> Result<Vec<(String, bool, bool, String)>, DbErr> {
    let sql = format!(
        "SELECT i.relname::text, ix.indisunique, ix.indisprimary, pg_get_indexdef(ix.indexrelid) \
         FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid \
         JOIN pg_class t ON t.oid = ix.indrelid JOIN pg_namespace ns ON ns.oid = t.relnamespace \
         WHERE ns.nspname = {schema} AND t.relname = $1"
    );
    rows(conn, &sql, vec![Value::from(table)])
        .await?
        .iter()
        .map(|row| {
            Ok((
                text(row, 0)?,
                row.try_get_by_index(1)?,
                row.try_get_by_index(2)?,
                text(row, 3)?,
            ))
        })
        .collect()
}

async fn postgres<C: ConnectionTrait>(conn: &C) -> Result<Schema, DbErr> {
    let mut schema = Schema::default();
    let tables = table_names(
        conn,
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1",
    )
    .await?;
    for name in tables {
        let mut table = Table::default();
        let mut fks = Fks::new();
        let t = vec![Value::from(name.as_str())];
        let mut columns = pg_columns(conn, "current_schema()", &name).await?;
        columns.sort_by_key(|(_, _, position)| *position);
        table.order = columns.iter().map(|(c, _, _)| c.clone()).collect();
        table.columns = columns.into_iter().map(|(c, col, _)| (c, col)).collect();
        for (index, unique, primary, def) in pg_indexes(conn, "current_schema()", &name).await? {
            let columns = index_columns(&def);
            if primary {
                table.primary_key = columns;
            } else if unique {
                table.uniques.insert(columns);
            } else if index.starts_with("idx_") {
                table.indexes.insert(index, columns);
            }
        }
        for row in rows(
            conn,
            "SELECT pg_get_constraintdef(con.oid) FROM pg_constraint con \
             JOIN pg_class cl ON cl.oid = con.conrelid JOIN pg_namespace ns ON ns.oid = cl.relnamespace \
             WHERE ns.nspname = current_schema() AND cl.relname = $1 AND con.contype = 'c'",
            t.clone(),
        )
        .await?
        {
            let def = text(&row, 0)?;
            let clause = def.trim_start_matches("CHECK").trim();
            table.checks.insert(normalize_check(clause));
        }
        for row in rows(
            conn,
            "SELECT con.conname::text, a.attname::text, cl2.relname::text, a2.attname::text, \
                    con.confdeltype::text \
             FROM pg_constraint con \
             JOIN pg_class cl ON cl.oid = con.conrelid \
             JOIN pg_namespace ns ON ns.oid = cl.relnamespace \
             JOIN pg_class cl2 ON cl2.oid = con.confrelid \
             CROSS JOIN LATERAL unnest(con.conkey, con.confkey) WITH ORDINALITY AS k(attnum, fattnum, ord) \
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum \
             JOIN pg_attribute a2 ON a2.attrelid = con.confrelid AND a2.attnum = k.fattnum \
             WHERE con.contype = 'f' AND ns.nspname = current_schema() AND cl.relname = $1 \
             ORDER BY con.conname, k.ord",
            t.clone(),
        )
        .await?
        {
            let fk = (text(&row, 0)?, text(&row, 1)?, text(&row, 2)?, text(&row, 3)?);
            add_fk_column(&mut fks, fk, text(&row, 4)? == "c");
        }
        table.foreign_keys = fks.into_values().collect();
        schema.tables.insert(name, table);
    }
    Ok(schema)
}

/// Foreign keys arrive a column per row: gathered by constraint name.
type Fks = BTreeMap<String, ForeignKey>;

fn add_fk_column(
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

async fn mysql<C: ConnectionTrait>(conn: &C) -> Result<Schema, DbErr> {
    static WIDTH: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^(int|bigint|smallint)\(\d+\)").expect("valid regex"));
    let mut schema = Schema::default();
    let tables = table_names(
        conn,
        "SELECT table_name FROM information_schema.tables \
         WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE' ORDER BY 1",
    )
    .await?;
    for name in tables {
        let mut table = Table::default();
        let mut fks = Fks::new();
        let t = vec![Value::from(name.as_str())];
        let mut json_columns = BTreeSet::new();
        for row in rows(
            conn,
            "SELECT check_clause FROM information_schema.check_constraints \
             WHERE constraint_schema = DATABASE() AND table_name = ?",
            t.clone(),
        )
        .await?
        {
            let clause = text(&row, 0)?;
            // MariaDB's JSON is LONGTEXT with a json_valid() check: the type, not a rule.
            if let Some(col) = clause.strip_prefix("json_valid(") {
                json_columns.insert(col.trim_end_matches(')').trim_matches('`').to_owned());
            } else {
                table
                    .checks
                    .insert(normalize_check(&clause.replace('`', "")));
            }
        }
        for row in rows(
            conn,
            "SELECT column_name, column_type, is_nullable, column_default, extra \
             FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ?",
            t.clone(),
        )
        .await?
        {
            let column = text(&row, 0)?;
            let mut ty = WIDTH
                .replace(&text(&row, 1)?.to_lowercase(), "$1")
                .to_string();
            if json_columns.contains(&column) {
                ty = "json".to_owned();
            }
            let mut default = opt_text(&row, 3)?
                .filter(|d| d != "NULL")
                .map(|d| normalize_default(&d));
            if ty == "tinyint(1)" {
                default = default.map(boolean_default);
            }
            if text(&row, 4)?.contains("auto_increment") {
                default = Some(GENERATED.to_owned());
            }
            let nullable = text(&row, 2)? == "YES";
            table.columns.insert(
                column,
                Column {
                    ty,
                    nullable,
                    default,
                },
            );
        }
        let mut indexes: BTreeMap<String, (bool, Vec<String>)> = BTreeMap::new();
        for row in rows(
            conn,
            "SELECT index_name, CAST(non_unique AS CHAR), column_name FROM information_schema.statistics \
             WHERE table_schema = DATABASE() AND table_name = ? ORDER BY index_name, seq_in_index",
            t.clone(),
        )
        .await?
        {
            let entry = indexes
                .entry(text(&row, 0)?)
                .or_insert((text(&row, 1)? == "0", Vec::new()));
            entry.1.push(text(&row, 2)?);
        }
        for (index, (unique, columns)) in indexes {
            if index == "PRIMARY" {
                table.primary_key = columns;
            } else if unique {
                table.uniques.insert(columns);
            } else if index.starts_with("idx_") {
                table.indexes.insert(index, columns);
            }
        }
        for row in rows(
            conn,
            "SELECT k.constraint_name, k.column_name, k.referenced_table_name, \
                    k.referenced_column_name, r.delete_rule \
             FROM information_schema.key_column_usage k \
             JOIN information_schema.referential_constraints r \
               ON r.constraint_schema = k.constraint_schema AND r.constraint_name = k.constraint_name \
              AND r.table_name = k.table_name \
             WHERE k.table_schema = DATABASE() AND k.table_name = ? \
               AND k.referenced_table_name IS NOT NULL \
             ORDER BY k.constraint_name, k.ordinal_position",
            t.clone(),
        )
        .await?
        {
            let fk = (text(&row, 0)?, text(&row, 1)?, text(&row, 2)?, text(&row, 3)?);
            add_fk_column(&mut fks, fk, text(&row, 4)? == "CASCADE");
        }
        table.foreign_keys = fks.into_values().collect();
        schema.tables.insert(name, table);
    }
    Ok(schema)
}

/// Every `CHECK (...)` clause of a CREATE TABLE statement.
fn sqlite_checks(sql: &str) -> Vec<String> {
    static CHECK: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?i)\bCHECK\s*\(").expect("valid regex"));
    let mut checks = Vec::new();
    for m in CHECK.find_iter(sql) {
        let open = m.end() - 1;
        let mut depth = 0;
        for (i, c) in sql[open..].char_indices() {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                _ => {}
            }
            if depth == 0 {
                checks.push(normalize_check(&sql[open + 1..open + i].replace('"', "")));
                break;
            }
        }
    }
    checks
}

async fn sqlite<C: ConnectionTrait>(conn: &C) -> Result<Schema, DbErr> {
    let mut schema = Schema::default();
    let tables = rows(
        conn,
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY 1",
        vec![],
    )
    .await?;
    for row in tables {
        let name = text(&row, 0)?;
        if BOOKKEEPING.contains(&name.as_str()) {
            continue;
        }
        let sql = text(&row, 1)?;
        let mut table = Table::default();
        let mut fks = Fks::new();
        let t = vec![Value::from(name.as_str())];
        table.checks = sqlite_checks(&sql).into_iter().collect();
        let mut pk: Vec<(i32, String)> = Vec::new();
        for col in rows(
            conn,
            "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_xinfo(?)",
            t.clone(),
        )
        .await?
        {
            let column = text(&col, 0)?;
            let order: i32 = col.try_get_by_index(4)?;
            let ty = text(&col, 1)?.to_lowercase();
            let mut default = opt_text(&col, 3)?.map(|d| normalize_default(&d));
            if ty == "boolean" {
                default = default.map(boolean_default);
            }
            // An integer primary key declared AUTOINCREMENT is generated.
            if order > 0 && ty == "integer" && sql.to_uppercase().contains("AUTOINCREMENT") {
                default = Some(GENERATED.to_owned());
            }
            if order > 0 {
                pk.push((order, column.clone()));
            }
            let notnull: i32 = col.try_get_by_index(2)?;
            table.columns.insert(
                column,
                Column {
                    ty,
                    nullable: notnull == 0,
                    default,
                },
            );
        }
        pk.sort();
        table.primary_key = pk.into_iter().map(|(_, c)| c).collect();
        for index in rows(
            conn,
            "SELECT name, \"unique\", origin FROM pragma_index_list(?)",
            t.clone(),
        )
        .await?
        {
            let (index_name, unique, origin): (String, i32, String) = (
                text(&index, 0)?,
                index.try_get_by_index(1)?,
                text(&index, 2)?,
            );
            let columns: Vec<String> = rows(
                conn,
                "SELECT name FROM pragma_index_info(?) ORDER BY seqno",
                vec![Value::from(index_name.as_str())],
            )
            .await?
            .iter()
            .map(|r| text(r, 0))
            .collect::<Result<_, _>>()?;
            if origin == "pk" {
                continue;
            } else if unique != 0 {
                table.uniques.insert(columns);
            } else if index_name.starts_with("idx_") {
                table.indexes.insert(index_name, columns);
            }
        }
        for fk in rows(
            conn,
            "SELECT id, \"from\", \"table\", \"to\", on_delete FROM pragma_foreign_key_list(?) ORDER BY id, seq",
            t.clone(),
        )
        .await?
        {
            let id: i32 = fk.try_get_by_index(0)?;
            let key = (id.to_string(), text(&fk, 1)?, text(&fk, 2)?, text(&fk, 3)?);
            add_fk_column(&mut fks, key, text(&fk, 4)? == "CASCADE");
        }
        table.foreign_keys = fks.into_values().collect();
        schema.tables.insert(name, table);
    }
    Ok(schema)
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
    let tables = table_names(
        conn,
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1",
    )
    .await?;
    for t in tables {
        out.push(format!("table {t}"));
        let v = vec![Value::from(t.as_str())];
        let columns = pg_columns(conn, "'public'", &t).await?;
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
        for (name, unique, primary, def) in pg_indexes(conn, "'public'", &t).await? {
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

    #[test]
    fn reference_lines_parse_into_the_model() {
        let schema = parse_reference(
            "table users\n  column users.id integer not null default <generated>\n  \
             column users.email varchar(320) not null\n  column users.role_id integer not null\n  \
             foreign users: FOREIGN KEY (role_id) REFERENCES roles(id) ON DELETE CASCADE\n  \
             primary users: PRIMARY KEY (id)\n  unique users: UNIQUE (email)\n  \
             index users(email) unique\n  index users(role_id) idx_users_role\n",
        );
        let users = &schema.tables["users"];
        assert_eq!(users.columns["id"].default.as_deref(), Some("<generated>"));
        assert_eq!(users.columns["email"].ty, "varchar(320)");
        assert!(!users.columns["email"].nullable);
        assert_eq!(users.primary_key, ["id"]);
        assert!(users.uniques.contains(&vec!["email".to_owned()]));
        assert_eq!(users.indexes["idx_users_role"], ["role_id"]);
        let fk = users.foreign_keys.iter().next().unwrap();
        assert!(fk.on_delete_cascade && fk.ref_table == "roles");

        let mysql = expected_for(DbBackend::MySql, &schema);
        assert_eq!(mysql.tables["users"].columns["role_id"].ty, "int");
        let mut changed = mysql.clone();
        changed.tables.get_mut("users").unwrap().indexes.clear();
        assert_eq!(
            diff(&mysql, &changed),
            ["index users.idx_users_role: missing"]
        );
    }
}
