//! A case as its page shows it: the case file, with the current analysis,
//! the committee, the opening and the procedure its value calls for, all
//! read by one statement (the case file's, with a few more columns).

use sea_orm::ConnectionTrait;

use super::ProcedureAdvice;
use super::file::{CaseFile, fetch};
use super::file_sql::Shape;
use crate::Error;
use crate::analysis::CurrentAnalysis;
use crate::auth::User;
use crate::committee::{Access, Member, Opening};

/// The case file as `user` may read it, and what its page adds to it.
#[derive(Debug, Clone)]
pub struct CaseView {
    /// Redacted for the caller, as [`super::load_case_file_as`] returns it.
    pub file: CaseFile,
    pub access: Access,
    /// The latest analysis run, if any.
    pub current: Option<CurrentAnalysis>,
    /// The owner first, then the members in the order they were added.
    pub committee: Vec<Member>,
    pub opening: Option<Opening>,
    /// The procedure the case's estimated value calls for, if it has one.
    pub procedure: Option<ProcedureAdvice>,
}

/// Case `case_id` as `user` (already authenticated) may read it, with its
/// current analysis, committee, opening and procedure: a 404 for an
/// unknown case or one the user is not of the committee of. One statement.
pub async fn load_case_view<C: ConnectionTrait>(
    db: &C,
    user: &User,
    case_id: &str,
) -> Result<CaseView, Error> {
    let fetched = fetch(db, Some((user.id, "")), case_id, Shape::View).await?;
    let not_found = || Error::not_found("case", case_id);
    let (Some(file), Some(rows)) = (fetched.file, fetched.view) else {
        return Err(not_found());
    };
    let access = Access::of(
        user,
        &file.case,
        fetched.member.as_deref(),
        fetched.opened,
        fetched.declared,
    )
    .ok_or_else(not_found)?;
    let current = rows
        .analysis
        .map(|run| crate::analysis::current_from_rows(run, rows.extractions, &file.dao_criteria));
    let committee = crate::committee::committee_from_rows(
        &file.case,
        rows.members,
        &rows.declarations,
        &rows.people,
    );
    let procedure = file
        .case
        .estimated_value
        .and_then(|value| super::create::procedure_in(rows.thresholds, value));
    Ok(CaseView {
        file: file.redact(&access),
        access,
        current,
        committee,
        opening: fetched.opening.as_ref().map(Opening::from_row),
        procedure,
    })
}
