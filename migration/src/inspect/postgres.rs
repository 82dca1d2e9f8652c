//! The PostgreSQL reader: `information_schema` and `pg_catalog`.

use sea_orm_migration::sea_orm::{ConnectionTrait, DbErr, Value};

use super::{
    Column, Fks, GENERATED, Schema, Table, add_fk_column, index_columns, normalize_check,
    normalize_default, opt_text, rows, table_names, text,
};

/// The columns of a PostgreSQL table of `schema` (an SQL expression), in
/// name order, as the snapshot spells their types and defaults, each with
/// its position in the table.
pub async fn columns<C: ConnectionTrait>(
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
pub async fn indexes<C: ConnectionTrait>(
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

pub(crate) async fn read<C: ConnectionTrait>(conn: &C) -> Result<Schema, DbErr> {
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
        let mut columns = columns(conn, "current_schema()", &name).await?;
        columns.sort_by_key(|(_, _, position)| *position);
        table.order = columns.iter().map(|(c, _, _)| c.clone()).collect();
        table.columns = columns.into_iter().map(|(c, col, _)| (c, col)).collect();
        for (index, unique, primary, def) in indexes(conn, "current_schema()", &name).await? {
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
