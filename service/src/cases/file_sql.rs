//! The statement behind [`super::load_case_file`]: the case, its reference
//! and each of its relations as one JSON column, built by the database
//! itself (`json_build_object` / `json_agg` on PostgreSQL, `JSON_OBJECT` /
//! `JSON_ARRAYAGG` on MariaDB and MySQL, `json_object` /
//! `json_group_array` on SQLite), so that the whole case file costs one
//! round trip and reads one snapshot.
//!
//! The case view's statement ([`super::load_case_view`]) is the same one
//! with a few more columns: the latest analysis run and the extractions it
//! aggregates, the committee (members, declarations, accounts) and the
//! procurement thresholds, so that the case page also costs one statement.
//!
//! The column lists come from the generated entities, so a column added to
//! an entity is read without touching this file; each JSON row is decoded
//! into the entity's own model.

use std::sync::OnceLock;

use sea_orm::{ColumnTrait, ColumnType, DbBackend, EntityTrait, IdenStatic, Iterable, Value};
use serde_json::Value as Json;

use crate::Error;

/// What a placeholder of the statement stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Param {
    Case,
    User,
    /// The token's sign-in session.
    Session,
}

/// Which statement: the case file, or the case file and what its view adds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Shape {
    File,
    View,
}

/// One backend's statement and the order of its placeholders.
pub(super) struct CaseFileSql {
    pub sql: String,
    pub params: Vec<Param>,
}

impl CaseFileSql {
    /// The statement of `shape` for `backend`, built once per process.
    pub fn get(backend: DbBackend, shape: Shape) -> &'static CaseFileSql {
        static SQL: [OnceLock<CaseFileSql>; 6] = [const { OnceLock::new() }; 6];
        let slot = match backend {
            DbBackend::Postgres => 0,
            DbBackend::MySql => 1,
            _ => 2,
        } + if shape == Shape::View { 3 } else { 0 };
        SQL[slot].get_or_init(|| build(backend, shape))
    }

    /// The values to bind, in placeholder order.
    pub fn values(&self, case_id: &str, caller: Option<(i32, &str)>) -> Vec<Value> {
        self.params
            .iter()
            .map(|p| match p {
                Param::Case => Value::from(case_id),
                Param::User => Value::from(caller.map(|(id, _)| id)),
                Param::Session => Value::from(caller.map(|(_, s)| s.to_owned())),
            })
            .collect()
    }
}

/// The result columns, in order.
pub(super) const COLUMNS: [&str; 13] = [
    "user",
    "user_role",
    "membership",
    "opening",
    "declaration",
    "case",
    "reference",
    "lots",
    "offers",
    "documents",
    "artifacts",
    "memory_entries",
    "dao_criteria",
];

/// The columns the view adds after [`COLUMNS`], in order.
pub(super) const VIEW_COLUMNS: [&str; 6] = [
    "analysis",
    "extractions",
    "members",
    "declarations",
    "people",
    "thresholds",
];

struct Builder {
    backend: DbBackend,
    params: Vec<Param>,
}

impl Builder {
    fn quote(&self, ident: &str) -> String {
        match self.backend {
            DbBackend::MySql => format!("`{ident}`"),
            _ => format!("\"{ident}\""),
        }
    }

    fn param(&mut self, p: Param) -> String {
        self.params.push(p);
        match self.backend {
            DbBackend::Postgres => format!("${}", self.params.len()),
            _ => "?".to_owned(),
        }
    }

    /// A JSON object of every column of `E`'s row aliased `t`. Decimals
    /// travel as text, so that no digit goes through a float.
    fn object<E: EntityTrait>(&self, t: &str) -> String {
        let function = match self.backend {
            DbBackend::Postgres => "json_build_object",
            DbBackend::MySql => "JSON_OBJECT",
            _ => "json_object",
        };
        let pairs: Vec<String> = E::Column::iter()
            .map(|c| {
                let name = c.as_str();
                let column = format!("{t}.{}", self.quote(name));
                let value = match c.def().get_column_type() {
                    ColumnType::Decimal(_) | ColumnType::Money(_) => match self.backend {
                        DbBackend::MySql => format!("CAST({column} AS CHAR)"),
                        _ => format!("CAST({column} AS TEXT)"),
                    },
                    _ => column,
                };
                format!("'{name}', {value}")
            })
            .collect();
        format!("{function}({})", pairs.join(", "))
    }

    fn table<E: EntityTrait + Default>(&self) -> String {
        self.quote(E::default().table_name())
    }

    /// `(SELECT <object> FROM <table> t WHERE <filter>)`: at most one row.
    fn one<E: EntityTrait + Default>(&self, filter: &str, tail: &str) -> String {
        format!(
            "(SELECT {} FROM {} t WHERE {filter}{tail})",
            self.object::<E>("t"),
            self.table::<E>()
        )
    }

    /// `(SELECT <array of objects> FROM <table> t WHERE <filter>)`.
    fn many<E: EntityTrait + Default>(&self, filter: &str) -> String {
        let object = self.object::<E>("t");
        let array = match self.backend {
            DbBackend::Postgres => format!("json_agg({object})"),
            DbBackend::MySql => format!("JSON_ARRAYAGG({object})"),
            _ => format!("json_group_array({object})"),
        };
        format!(
            "(SELECT {array} FROM {} t WHERE {filter})",
            self.table::<E>()
        )
    }

    /// Every row of `E` that belongs to the case.
    fn rows_of_case<E: EntityTrait + Default>(&mut self) -> String {
        let p = self.param(Param::Case);
        let filter = format!("t.{} = {p}", self.quote("case_id"));
        self.many::<E>(&filter)
    }

    /// `expr` as a text column named `alias`.
    fn text(&self, expr: &str, alias: &str) -> String {
        let alias = self.quote(alias);
        match self.backend {
            DbBackend::Postgres => format!("{expr}::text AS {alias}"),
            _ => format!("{expr} AS {alias}"),
        }
    }
}

fn build(backend: DbBackend, shape: Shape) -> CaseFileSql {
    use entity::{
        analyses, artifacts, auth_sessions, case_declarations, case_members, case_openings, cases,
        dao_criteria, documents, lots, memory_entries, offer_extractions, offers,
        procurement_references, procurement_thresholds, roles, users,
    };
    let mut b = Builder {
        backend,
        params: Vec::new(),
    };
    let id = b.quote("id");
    let case_id = b.quote("case_id");
    let role_id = b.quote("role_id");
    let created_at = b.quote("created_at");
    let offer_id = b.quote("offer_id");

    let user_id = b.quote("user_id");
    let mut columns = Vec::with_capacity(COLUMNS.len());
    // The token's user, while its sign-in session is open.
    let p = b.param(Param::User);
    let s = b.param(Param::Session);
    let sessions = b.table::<auth_sessions::Entity>();
    columns.push(b.one::<users::Entity>(
        &format!(
            "t.{id} = {p} AND t.{id} IN (SELECT s.{user_id} FROM {sessions} s WHERE s.{id} = {s})"
        ),
        "",
    ));
    let p = b.param(Param::User);
    let users_table = b.table::<users::Entity>();
    let filter = format!("t.{id} = (SELECT u.{role_id} FROM {users_table} u WHERE u.{id} = {p})");
    columns.push(b.one::<roles::Entity>(&filter, ""));
    // What the caller is to the case: membership, the opening, their declaration.
    let c = b.param(Param::Case);
    let p = b.param(Param::User);
    columns.push(
        b.one::<case_members::Entity>(&format!("t.{case_id} = {c} AND t.{user_id} = {p}"), ""),
    );
    let c = b.param(Param::Case);
    columns.push(b.one::<case_openings::Entity>(&format!("t.{case_id} = {c}"), ""));
    let c = b.param(Param::Case);
    let p = b.param(Param::User);
    columns.push(
        b.one::<case_declarations::Entity>(&format!("t.{case_id} = {c} AND t.{user_id} = {p}"), ""),
    );
    let p = b.param(Param::Case);
    columns.push(b.one::<cases::Entity>(&format!("t.{id} = {p}"), ""));
    // The first reference, should a case ever have two.
    let p = b.param(Param::Case);
    let first = format!(" ORDER BY t.{created_at}, t.{id} LIMIT 1");
    columns.push(b.one::<procurement_references::Entity>(&format!("t.{case_id} = {p}"), &first));
    columns.push(b.rows_of_case::<lots::Entity>());
    columns.push(b.rows_of_case::<offers::Entity>());
    // The documents of the case's offers (by the offer, as the relation
    // goes; a document attached to no offer belongs to no offer's list).
    let p = b.param(Param::Case);
    let offers_table = b.table::<offers::Entity>();
    let filter =
        format!("t.{offer_id} IN (SELECT o.{id} FROM {offers_table} o WHERE o.{case_id} = {p})");
    columns.push(b.many::<documents::Entity>(&filter));
    columns.push(b.rows_of_case::<artifacts::Entity>());
    columns.push(b.rows_of_case::<memory_entries::Entity>());
    columns.push(b.rows_of_case::<dao_criteria::Entity>());
    let mut names = COLUMNS.to_vec();
    if shape == Shape::View {
        // The latest run, and the extractions it aggregated.
        let p = b.param(Param::Case);
        let latest = format!(" ORDER BY t.{created_at} DESC, t.{id} DESC LIMIT 1");
        columns.push(b.one::<analyses::Entity>(&format!("t.{case_id} = {p}"), &latest));
        columns.push(b.rows_of_case::<offer_extractions::Entity>());
        // The committee: members, declarations, and the accounts of the
        // members and of the owner.
        columns.push(b.rows_of_case::<case_members::Entity>());
        columns.push(b.rows_of_case::<case_declarations::Entity>());
        let m = b.param(Param::Case);
        let c = b.param(Param::Case);
        let members = b.table::<case_members::Entity>();
        let cases_table = b.table::<cases::Entity>();
        let owner_id = b.quote("owner_id");
        columns.push(b.many::<users::Entity>(&format!(
            "t.{id} IN (SELECT m.{user_id} FROM {members} m WHERE m.{case_id} = {m}) \
             OR t.{id} = (SELECT c.{owner_id} FROM {cases_table} c WHERE c.{id} = {c})"
        )));
        // Every threshold (a handful of rows): the rule picks in Rust.
        columns.push(b.many::<procurement_thresholds::Entity>("1 = 1"));
        names.extend(VIEW_COLUMNS);
    }
    // Named in the order the reader decodes them in.
    debug_assert_eq!(columns.len(), names.len(), "one expression per column");
    let named: Vec<String> = columns
        .iter()
        .zip(names)
        .map(|(expr, alias)| b.text(expr, alias))
        .collect();
    CaseFileSql {
        sql: format!("SELECT {}", named.join(", ")),
        params: b.params,
    }
}

/// Whether `E` has a boolean column: MariaDB and SQLite have no boolean
/// type, so their JSON says 0 or 1 for it.
fn has_boolean<E: EntityTrait>() -> bool {
    E::Column::iter().any(|c| matches!(c.def().get_column_type(), ColumnType::Boolean))
}

/// Decodes one JSON row (an object) into `E`'s model, 0/1 read as booleans.
fn model<E>(mut row: Json) -> Result<E::Model, Error>
where
    E: EntityTrait,
    E::Model: serde::de::DeserializeOwned,
{
    if let Json::Object(fields) = &mut row {
        for c in E::Column::iter() {
            if matches!(c.def().get_column_type(), ColumnType::Boolean)
                && let Some(v) = fields.get_mut(c.as_str())
                && let Some(n) = v.as_i64()
            {
                *v = Json::Bool(n != 0);
            }
        }
    }
    serde_json::from_value(row)
        .map_err(|e| Error::Internal(format!("reading a case file row: {e}")))
}

/// A truncated aggregate never parses (its closing bracket is cut off): on
/// MariaDB that is a connection without `dms::db::connect`'s
/// `group_concat_max_len`.
fn unreadable(e: serde_json::Error) -> Error {
    Error::Internal(format!(
        "reading a case file: {e} (on MariaDB, is group_concat_max_len large enough?)"
    ))
}

fn parse(text: &str) -> Result<Json, Error> {
    serde_json::from_str(text).map_err(unreadable)
}

/// `text` as `T`; through a [`Json`] tree only when `E` has booleans to
/// mend, straight from the text otherwise (the hot path: no tree).
fn decode<E, T>(text: &str, mend: impl FnOnce(Json) -> Result<T, Error>) -> Result<T, Error>
where
    E: EntityTrait,
    T: serde::de::DeserializeOwned,
{
    if has_boolean::<E>() {
        mend(parse(text)?)
    } else {
        serde_json::from_str(text).map_err(unreadable)
    }
}

/// At most one row, from a JSON object or SQL NULL.
pub(super) fn one<E>(text: Option<String>) -> Result<Option<E::Model>, Error>
where
    E: EntityTrait,
    E::Model: serde::de::DeserializeOwned,
{
    text.map(|t| decode::<E, _>(&t, model::<E>)).transpose()
}

/// Rows from a JSON array, or from SQL NULL (no row: PostgreSQL's and
/// MariaDB's aggregates of nothing).
pub(super) fn many<E>(text: Option<String>) -> Result<Vec<E::Model>, Error>
where
    E: EntityTrait,
    E::Model: serde::de::DeserializeOwned,
{
    let Some(text) = text else {
        return Ok(Vec::new());
    };
    decode::<E, _>(&text, |json| {
        let rows: Vec<Json> = serde_json::from_value(json).map_err(unreadable)?;
        rows.into_iter().map(model::<E>).collect()
    })
}
