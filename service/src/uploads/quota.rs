//! A case's space: what its uploads and generated documents may take,
//! reserved with one conditional statement that cannot be raced past.

use entity::cases;
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::Error;
use crate::error::Refusal;

/// The most a case may hold in uploads and generated documents: 500 MiB.
pub const MAX_CASE_BYTES: i64 = 524_288_000;

/// Adds `size` to the case's stored total (uploads and generated
/// documents) if the total stays within the quota, in one conditional
/// statement that also locks the case row for the rest of the transaction;
/// a negative `size` gives space back. Returns the case as it was.
pub async fn reserve_quota(
    tx: &impl ConnectionTrait,
    case_id: &str,
    size: i64,
) -> Result<cases::Model, Error> {
    let used = || {
        Expr::expr(Func::coalesce([
            Expr::col(cases::Column::TotalUploadSize),
            Expr::val(0i64),
        ]))
    };
    let updated = cases::Entity::update_many()
        .col_expr(cases::Column::TotalUploadSize, used().add(size))
        .filter(cases::Column::Id.eq(case_id))
        .filter(used().add(size).lte(MAX_CASE_BYTES))
        .exec(tx)
        .await?;
    let case = crate::cases::find(tx, case_id).await?;
    if updated.rows_affected == 0 {
        let used = case.total_upload_size.unwrap_or(0);
        return Err(Refusal::Quota { used_bytes: used }.into());
    }
    Ok(case)
}
