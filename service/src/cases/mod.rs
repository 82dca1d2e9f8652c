//! Procurement cases: creating them (with their procurement reference),
//! listing them, their lots, and loading a case with everything the
//! decision memory holds about it.

mod create;
mod file;
mod file_sql;
mod list;
mod lots;
mod view;

pub use create::{
    CASE_TYPES, Created, DOCUMENT_LANGUAGES, NewCase, ProcedureAdvice, create_case, procedure_for,
};
pub use file::{
    CaseFile, CaseFileFor, LOAD_CASE_FILE_QUERIES, OfferFile, case_file_statement, load_case_file,
    load_case_file_as, load_case_file_for,
};
pub use list::{CaseFilter, CasePage, list_cases};
pub use lots::{NewLot, create_lot};
pub use view::{CaseView, load_case_view};

use entity::cases;
use sea_orm::{ConnectionTrait, EntityTrait, QuerySelect};

use crate::Error;

/// The status of a new case.
pub const OPEN: &str = "open";

/// The statuses the code writes, the ones the case list's filter offers
/// (nothing changes a case's status after its creation yet; the schema's
/// default, `draft`, is for rows written elsewhere).
pub const STATUSES: [&str; 1] = [OPEN];

/// A 404 for a case id no case can have (a character XML cannot carry,
/// or too long): such an id never reaches the database, which may refuse
/// it (PostgreSQL and NUL) instead of finding nothing.
pub(crate) fn check_id(case_id: &str) -> Result<(), Error> {
    match crate::text::problem(&crate::text::CASE_ID, case_id) {
        Some(_) => Err(Error::not_found("case", case_id.escape_debug().to_string())),
        None => Ok(()),
    }
}

/// Loads case `case_id`, or a 404.
pub async fn find(db: &impl ConnectionTrait, case_id: &str) -> Result<cases::Model, Error> {
    check_id(case_id)?;
    cases::Entity::find_by_id(case_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("case", case_id))
}

/// Loads case `case_id` and locks its row until the transaction `tx` ends:
/// every write to a case starts here, so the rules checked after it (one
/// DAO, one offer per supplier and type, lot numbers) hold under
/// concurrency. (SQLite has no row locks: its write transactions are
/// serialised whole by `BEGIN IMMEDIATE`, see [`crate::db::begin_write`].)
pub async fn lock(tx: &impl ConnectionTrait, case_id: &str) -> Result<cases::Model, Error> {
    check_id(case_id)?;
    cases::Entity::find_by_id(case_id)
        .lock_exclusive()
        .one(tx)
        .await?
        .ok_or_else(|| Error::not_found("case", case_id))
}
