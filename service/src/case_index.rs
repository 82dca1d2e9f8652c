//! The case list as people browse it: text search over titles and
//! reference numbers, the API's filters, pages, each case with its
//! reference; and the choices the case form offers (categories and the
//! procedure thresholds).

use entity::{
    cases, procurement_categories, procurement_references, procurement_thresholds,
    purchase_categories,
};
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::Error;

/// The most cases one page shows.
pub const MAX_PER_PAGE: u64 = 100;

/// Which cases to show.
#[derive(Clone, Debug, Default)]
pub struct CaseQuery {
    /// Text contained in the title or the reference number, ignoring case.
    pub text: Option<String>,
    pub status: Option<String>,
    pub case_type: Option<String>,
    /// Only the cases this user owns.
    pub owner_id: Option<i32>,
    /// Zero-based page number.
    pub page: u64,
    pub per_page: u64,
}

/// A case of the list with its reference number.
#[derive(Clone, Debug)]
pub struct CaseRow {
    pub case: cases::Model,
    pub ref_number: Option<String>,
}

/// One page of the list and how many cases match in all.
#[derive(Clone, Debug)]
pub struct CaseIndex {
    pub rows: Vec<CaseRow>,
    pub total: u64,
}

/// A `LIKE` pattern matching `text` anywhere, its wildcards taken literally.
fn contains_pattern(text: &str) -> LikeExpr {
    let mut escaped = String::with_capacity(text.len() + 2);
    escaped.push('%');
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped.push('%');
    LikeExpr::new(escaped).escape('\\')
}

/// Lists the cases matching `query`, newest first, in two statements
/// (plus the count): the page of cases, then their references.
pub async fn search_cases(
    db: &impl ConnectionTrait,
    user: &crate::auth::User,
    query: CaseQuery,
) -> Result<CaseIndex, Error> {
    let per_page = query.per_page.clamp(1, MAX_PER_PAGE);
    crate::text::check_opt(&crate::text::SEARCH, query.text.as_deref())?;
    crate::text::check_opt(&crate::text::STATUS, query.status.as_deref())?;
    crate::text::check_opt(&crate::text::CASE_TYPE, query.case_type.as_deref())?;
    let offset = crate::paging::check_offset("page", Some(query.page.saturating_mul(per_page)))?;
    let mut select = cases::Entity::find();
    if let Some(visible) = crate::committee::visible_cases(user) {
        select = select.filter(visible);
    }
    if let Some(status) = query.status.filter(|s| !s.trim().is_empty()) {
        select = select.filter(cases::Column::Status.eq(status.trim()));
    }
    if let Some(case_type) = query.case_type.filter(|s| !s.trim().is_empty()) {
        select = select.filter(cases::Column::CaseType.eq(case_type.trim().to_uppercase()));
    }
    if let Some(owner) = query.owner_id {
        select = select.filter(cases::Column::OwnerId.eq(owner));
    }
    if let Some(text) = query
        .text
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
    {
        let in_title = Func::lower(Expr::col((cases::Entity, cases::Column::Title)))
            .like(contains_pattern(&text));
        let in_reference = cases::Column::Id.in_subquery(
            Query::select()
                .column(procurement_references::Column::CaseId)
                .from(procurement_references::Entity)
                .and_where(
                    Func::lower(Expr::col(procurement_references::Column::RefNumber))
                        .like(contains_pattern(&text)),
                )
                .to_owned(),
        );
        select = select.filter(Condition::any().add(in_title).add(in_reference));
    }
    let total = select.clone().count(db).await?;
    let page = select
        .order_by_desc(cases::Column::CreatedAt)
        .order_by_desc(cases::Column::Id)
        .limit(per_page)
        .offset(offset)
        .all(db)
        .await?;
    let ids: Vec<String> = page.iter().map(|c| c.id.clone()).collect();
    let references = if ids.is_empty() {
        Vec::new()
    } else {
        procurement_references::Entity::find()
            .filter(procurement_references::Column::CaseId.is_in(ids))
            .all(db)
            .await?
    };
    let rows = page
        .into_iter()
        .map(|case| {
            let ref_number = references
                .iter()
                .find(|r| r.case_id == case.id)
                .map(|r| r.ref_number.clone());
            CaseRow { case, ref_number }
        })
        .collect();
    Ok(CaseIndex { rows, total })
}

/// What the case form lets one choose from.
#[derive(Clone, Debug)]
pub struct FormOptions {
    pub categories: Vec<procurement_categories::Model>,
    pub purchase_categories: Vec<purchase_categories::Model>,
    /// By minimum amount: which procedure each range of value calls for.
    pub thresholds: Vec<procurement_thresholds::Model>,
}

pub async fn form_options(db: &impl ConnectionTrait) -> Result<FormOptions, Error> {
    Ok(FormOptions {
        categories: procurement_categories::Entity::find()
            .order_by_asc(procurement_categories::Column::NameFr)
            .all(db)
            .await?,
        purchase_categories: purchase_categories::Entity::find()
            .order_by_asc(purchase_categories::Column::Label)
            .all(db)
            .await?,
        thresholds: procurement_thresholds::Entity::find()
            .order_by_asc(procurement_thresholds::Column::MinAmountUsd)
            .all(db)
            .await?,
    })
}
