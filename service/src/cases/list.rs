//! The case list: newest first, paginated, filtered.

use entity::cases;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

use crate::Error;

/// At most this many cases per page.
pub const MAX_LIMIT: u64 = 500;
/// Cases per page when the client does not say.
pub const DEFAULT_LIMIT: u64 = 50;

/// Which cases to list.
#[derive(Clone, Debug, Default)]
pub struct CaseFilter {
    pub status: Option<String>,
    pub case_type: Option<String>,
    /// Only the cases this user owns.
    pub owner_id: Option<i32>,
    pub limit: Option<u64>,
    pub offset: Option<u64>,
}

/// One page of cases and how many match in all.
#[derive(Clone, Debug)]
pub struct CasePage {
    pub cases: Vec<cases::Model>,
    pub total: u64,
}

/// Lists the cases matching `filter` that `user` may see (see
/// [`crate::committee`]), newest first (ties by id, so pages never
/// overlap); the total counts only those.
pub async fn list_cases(
    db: &impl ConnectionTrait,
    user: &crate::auth::User,
    filter: CaseFilter,
) -> Result<CasePage, Error> {
    crate::text::check_opt(&crate::text::STATUS, filter.status.as_deref())?;
    crate::text::check_opt(&crate::text::CASE_TYPE, filter.case_type.as_deref())?;
    let offset = crate::paging::check_offset("offset", filter.offset)?;
    let limit = filter.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(crate::error::invalid_field(
            "limit",
            crate::error::FieldRule::Between {
                min: 1,
                max: MAX_LIMIT,
            },
        ));
    }
    let mut query = cases::Entity::find();
    if let Some(visible) = crate::committee::visible_cases(user) {
        query = query.filter(visible);
    }
    if let Some(status) = filter.status.filter(|s| !s.is_empty()) {
        query = query.filter(cases::Column::Status.eq(status));
    }
    if let Some(case_type) = filter.case_type.filter(|s| !s.is_empty()) {
        query = query.filter(cases::Column::CaseType.eq(case_type.trim().to_uppercase()));
    }
    if let Some(owner) = filter.owner_id {
        query = query.filter(cases::Column::OwnerId.eq(owner));
    }
    let total = query.clone().count(db).await?;
    let cases = query
        .order_by_desc(cases::Column::CreatedAt)
        .order_by_desc(cases::Column::Id)
        .limit(limit)
        .offset(offset)
        .all(db)
        .await?;
    Ok(CasePage { cases, total })
}
