//! The one table that turns a service's refusal into the API's answer:
//! each [`Error`] variant gets its status from [`Error::status_code`] (the
//! pages use the same function) and production's English `detail` (the
//! refusal's own words, the API's contract); 503 with `Retry-After` while the database is out of reach;
//! a server fault is logged and answered "internal error".

use axum::http::StatusCode;

use crate::Error;
use crate::error::Refusal;
pub use crate::http::problem::Problem as ApiError;

pub type ApiResult<T> = Result<T, ApiError>;

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        match e {
            Error::NotFound { entity: "case", .. } => ApiError::not_found("Case not found"),
            Error::NotFound { entity, id } => {
                ApiError::not_found(format!("{entity} {id} not found"))
            }
            Error::Refused(refusal) => refused(&refusal),
            Error::Validation { field, rule } => {
                ApiError::validation(&["body", &field], rule.message(&field))
            }
            Error::Text(refusal) => {
                ApiError::validation(&[refusal.field.loc, refusal.field.name], refusal.message())
            }
            e @ Error::RateLimited {
                retry_after_secs, ..
            } => ApiError::too_many(e.to_string(), retry_after_secs),
            Error::Unavailable(cause) => ApiError::unavailable(cause),
            e @ Error::Io { .. } => ApiError::storage_fault(e.to_string()),
            e @ (Error::Timestamp { .. } | Error::Database(_) | Error::Internal(_)) => {
                ApiError::internal(e.to_string())
            }
        }
    }
}

/// A refusal in production's words, with its status.
fn refused(refusal: &Refusal) -> ApiError {
    let status =
        StatusCode::from_u16(refusal.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if status == StatusCode::UNAUTHORIZED {
        ApiError::unauthorized(refusal.to_string())
    } else {
        ApiError::new(status, refusal.to_string())
    }
}
