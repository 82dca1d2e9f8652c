//! The SQLite reader: `sqlite_master` and the table pragmas.

use std::sync::LazyLock;

use regex::Regex;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbErr, Value};

use super::{
    BOOKKEEPING, Column, Fks, GENERATED, Schema, Table, add_fk_column, boolean_default,
    normalize_check, normalize_default, opt_text, rows, text,
};

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

pub(crate) async fn read<C: ConnectionTrait>(conn: &C) -> Result<Schema, DbErr> {
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
