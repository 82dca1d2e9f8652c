//! The MariaDB/MySQL reader: `information_schema`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use regex::Regex;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbErr, Value};

use super::{
    Column, Fks, GENERATED, Schema, Table, add_fk_column, boolean_default, normalize_check,
    normalize_default, opt_text, rows, table_names, text,
};

pub(crate) async fn read<C: ConnectionTrait>(conn: &C) -> Result<Schema, DbErr> {
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
