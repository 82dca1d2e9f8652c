//! Procurement cases: loading a case with everything the decision memory
//! holds about it, in one statement.

use std::collections::HashMap;

use entity::{
    analyses, artifacts, case_declarations, case_members, case_openings, cases, dao_criteria,
    documents, lots, memory_entries, offer_extractions, offers, procurement_references,
    procurement_thresholds, roles, users,
};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde::Serialize;

use super::file_sql::{self, COLUMNS, CaseFileSql, Shape, VIEW_COLUMNS};
use crate::Error;
use crate::auth::User;
use crate::committee::Access;

/// A case and what hangs off it, as the API will serve it.
///
/// Rows are the generated entity models, so every column reaches the client
/// as stored (timestamps included: see [`crate::timestamp`]). Lists are in a
/// stable order: text order of their ISO-8601 timestamps, then id.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseFile {
    pub case: cases::Model,
    /// By `lot_number` (text order), then id.
    pub lots: Vec<lots::Model>,
    /// By `submitted_at`, then id; each with its documents.
    pub offers: Vec<OfferFile>,
    /// By `uploaded_at`, then id.
    pub artifacts: Vec<artifacts::Model>,
    /// By `created_at`, then id.
    pub memory_entries: Vec<memory_entries::Model>,
    /// By `ordre_affichage` (criteria without one last), then id: the order
    /// the DAO presents them in.
    pub dao_criteria: Vec<dao_criteria::Model>,
    /// Its procurement reference (`DAO-2026-0007`), if it has one.
    pub reference: Option<procurement_references::Model>,
}

/// An offer and the documents attached to it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OfferFile {
    pub offer: offers::Model,
    /// By `uploaded_at`, then id.
    pub documents: Vec<documents::Model>,
}

impl CaseFile {
    /// The file as a caller with `access` may read it: without the right
    /// to read the offers (sealed, observer, no declaration yet), offers are
    /// listed by supplier and time of receipt only, with no document, and
    /// the offers' files are not among the artifacts.
    pub fn redact(mut self, access: &Access) -> CaseFile {
        if access.may_read_offers() {
            return self;
        }
        self.artifacts
            .retain(|a| !crate::uploads::is_offer_file(&a.kind));
        for o in &mut self.offers {
            o.documents.clear();
            o.offer.file_hash = None;
            o.offer.offer_type = String::new();
        }
        self
    }
}

/// A case file as one caller reads it.
#[derive(Debug, Clone)]
pub struct CaseFileFor {
    /// The token's user, while its session is open.
    pub user: Option<User>,
    /// The case, if it exists and the caller is of its committee (or an
    /// administrator), already redacted for the caller; with the access.
    pub file: Option<(CaseFile, Access)>,
}

/// How many statements [`load_case_file`] runs, whatever the case holds:
/// the case, its reference and each relation come back as JSON columns of
/// one `SELECT` (see [`super::file_sql`]).
pub const LOAD_CASE_FILE_QUERIES: usize = 1;

/// Loads case `case_id` with its lots, offers (each with its documents),
/// artifacts, memory entries, DAO criteria and reference, in one statement:
/// one round trip, one consistent snapshot even under concurrent writes.
pub async fn load_case_file<C: ConnectionTrait>(db: &C, case_id: &str) -> Result<CaseFile, Error> {
    let fetched = fetch(db, None, case_id, Shape::File).await?;
    fetched
        .file
        .ok_or_else(|| Error::not_found("case", case_id))
}

/// Loads the token's user (with its role, while sign-in session `session`
/// is open) and the file of case `case_id` as that user may read it, in
/// the same statement: one round trip for a request that must check who
/// asks before it answers. The file is `None` for an unknown case and for
/// a case the user is not of the committee of (the same 404).
pub async fn load_case_file_for<C: ConnectionTrait>(
    db: &C,
    user_id: i32,
    session: &str,
    case_id: &str,
) -> Result<CaseFileFor, Error> {
    let fetched = fetch(db, Some((user_id, session)), case_id, Shape::File).await?;
    let file = match (&fetched.user, fetched.file) {
        (Some(user), Some(file)) => Access::of(
            user,
            &file.case,
            fetched.member.as_deref(),
            fetched.opened,
            fetched.declared,
        )
        .map(|access| (file.redact(&access), access)),
        _ => None,
    };
    Ok(CaseFileFor {
        user: fetched.user,
        file,
    })
}

/// The file of case `case_id` as `user` (already authenticated) may read
/// it, with the access: a 404 for an unknown case or one the user is not
/// of the committee of. One statement.
pub async fn load_case_file_as<C: ConnectionTrait>(
    db: &C,
    user: &User,
    case_id: &str,
) -> Result<(CaseFile, Access), Error> {
    // No session: the statement's user columns stay empty; the caller's
    // membership, the opening and the declaration are read for `user.id`.
    let fetched = fetch(db, Some((user.id, "")), case_id, Shape::File).await?;
    fetched
        .file
        .and_then(|file| {
            Access::of(
                user,
                &file.case,
                fetched.member.as_deref(),
                fetched.opened,
                fetched.declared,
            )
            .map(|access| (file.redact(&access), access))
        })
        .ok_or_else(|| Error::not_found("case", case_id))
}

/// The statement [`load_case_file_for`] sends to `backend`, and what each of
/// its placeholders stands for, in order (`"user_id"` or `"case_id"`): the
/// benchmark runs the same statement through pgbench.
pub fn case_file_statement(backend: DbBackend) -> (&'static str, Vec<&'static str>) {
    let sql = CaseFileSql::get(backend, Shape::File);
    let params = sql
        .params
        .iter()
        .map(|p| match p {
            file_sql::Param::Case => "case_id",
            file_sql::Param::User => "user_id",
            file_sql::Param::Session => "session_id",
        })
        .collect();
    (sql.sql.as_str(), params)
}

/// What the statement read.
pub(super) struct Fetched {
    pub user: Option<User>,
    pub file: Option<CaseFile>,
    /// The caller's role in the case's committee, if a member.
    pub member: Option<String>,
    pub opening: Option<case_openings::Model>,
    pub opened: bool,
    pub declared: bool,
    /// What the view's statement adds (`None` for the file's).
    pub view: Option<ViewRows>,
}

/// The rows the view's statement adds to the case file.
pub(super) struct ViewRows {
    pub analysis: Option<analyses::Model>,
    pub extractions: Vec<offer_extractions::Model>,
    pub members: Vec<case_members::Model>,
    pub declarations: Vec<case_declarations::Model>,
    pub people: Vec<users::Model>,
    pub thresholds: Vec<procurement_thresholds::Model>,
}

pub(super) async fn fetch<C: ConnectionTrait>(
    db: &C,
    caller: Option<(i32, &str)>,
    case_id: &str,
    shape: Shape,
) -> Result<Fetched, Error> {
    super::check_id(case_id)?;
    let backend = db.get_database_backend();
    let sql = CaseFileSql::get(backend, shape);
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            sql.sql.as_str(),
            sql.values(case_id, caller),
        ))
        .await?
        .ok_or_else(|| Error::Internal("the case file statement returned no row".into()))?;
    let view_columns: &[&str] = if shape == Shape::View {
        &VIEW_COLUMNS
    } else {
        &[]
    };
    let mut columns = Vec::with_capacity(COLUMNS.len() + view_columns.len());
    for (i, name) in COLUMNS.iter().chain(view_columns).enumerate() {
        let text: Option<String> = row
            .try_get_by_index(i)
            .map_err(|e| Error::Internal(format!("reading the case file column {name}: {e}")))?;
        columns.push(text);
    }
    let mut columns = columns.into_iter();
    let mut next = || columns.next().flatten();

    let user = file_sql::one::<users::Entity>(next())?;
    let role = file_sql::one::<roles::Entity>(next())?;
    let user = user.map(|u| User::from_row(u, role));
    let member = file_sql::one::<case_members::Entity>(next())?.map(|m| m.role);
    let opening = file_sql::one::<case_openings::Entity>(next())?;
    let opened = opening.is_some();
    let declared = file_sql::one::<case_declarations::Entity>(next())?.is_some();
    let Some(case) = file_sql::one::<cases::Entity>(next())? else {
        return Ok(Fetched {
            user,
            file: None,
            member,
            opening,
            opened,
            declared,
            view: None,
        });
    };
    let reference = file_sql::one::<procurement_references::Entity>(next())?;
    let mut lots = file_sql::many::<lots::Entity>(next())?;
    let mut offers = file_sql::many::<offers::Entity>(next())?;
    let mut documents = file_sql::many::<documents::Entity>(next())?;
    let mut artifacts = file_sql::many::<artifacts::Entity>(next())?;
    let mut memory_entries = file_sql::many::<memory_entries::Entity>(next())?;
    let mut dao_criteria = file_sql::many::<dao_criteria::Entity>(next())?;
    let view = match shape {
        Shape::File => None,
        Shape::View => Some(ViewRows {
            analysis: file_sql::one::<analyses::Entity>(next())?,
            extractions: file_sql::many::<offer_extractions::Entity>(next())?,
            members: file_sql::many::<case_members::Entity>(next())?,
            declarations: file_sql::many::<case_declarations::Entity>(next())?,
            people: file_sql::many::<users::Entity>(next())?,
            thresholds: file_sql::many::<procurement_thresholds::Entity>(next())?,
        }),
    };

    // The database aggregates in no particular order: every list is put in
    // its documented order here, the same on every backend (byte order of
    // text, which for ISO-8601 timestamps is time order).
    lots.sort_by(|a, b| (&a.lot_number, &a.id).cmp(&(&b.lot_number, &b.id)));
    offers.sort_by(|a, b| (&a.submitted_at, &a.id).cmp(&(&b.submitted_at, &b.id)));
    documents.sort_by(|a, b| (&a.uploaded_at, &a.id).cmp(&(&b.uploaded_at, &b.id)));
    artifacts.sort_by(|a, b| (&a.uploaded_at, &a.id).cmp(&(&b.uploaded_at, &b.id)));
    memory_entries.sort_by(|a, b| (&a.created_at, &a.id).cmp(&(&b.created_at, &b.id)));
    // Criteria without a display order come after the ordered ones.
    dao_criteria.sort_by(|a, b| {
        let key = |c: &dao_criteria::Model| (c.ordre_affichage.is_none(), c.ordre_affichage);
        (key(a), &a.id).cmp(&(key(b), &b.id))
    });

    let mut by_offer: HashMap<String, Vec<documents::Model>> = HashMap::new();
    for d in documents {
        if let Some(offer) = d.offer_id.clone() {
            by_offer.entry(offer).or_default().push(d);
        }
    }
    let offers = offers
        .into_iter()
        .map(|offer| OfferFile {
            documents: by_offer.remove(&offer.id).unwrap_or_default(),
            offer,
        })
        .collect();
    Ok(Fetched {
        user,
        file: Some(CaseFile {
            case,
            lots,
            offers,
            artifacts,
            memory_entries,
            dao_criteria,
            reference,
        }),
        member,
        opening,
        opened,
        declared,
        view,
    })
}
