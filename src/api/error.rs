//! The one table that turns a service's refusal into the API's answer:
//! each [`Error`] variant gets the status production uses and its
//! `detail`; 503 with `Retry-After` while the database is out of reach;
//! a server fault is logged and answered "internal error".

use axum::http::StatusCode;

use crate::Error;
pub use crate::http::problem::Problem as ApiError;

pub type ApiResult<T> = Result<T, ApiError>;

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        match e {
            Error::NotFound { entity: "case", .. } => ApiError::not_found("Case not found"),
            Error::NotFound { entity, id } => {
                ApiError::not_found(format!("{entity} {id} not found"))
            }
            Error::Invalid(detail) => ApiError::bad_request(detail),
            Error::Validation { field, message } => {
                ApiError::validation(&["body", &field], message)
            }
            Error::Text(refusal) => {
                ApiError::validation(&[refusal.field.loc, refusal.field.name], refusal.message())
            }
            Error::Unprocessable(detail) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, detail),
            Error::Conflict(detail) => ApiError::new(StatusCode::CONFLICT, detail),
            Error::Forbidden(detail) => ApiError::forbidden(detail),
            Error::Unauthorized(detail) => ApiError::unauthorized(detail),
            Error::TooLarge(detail) => ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, detail),
            e @ Error::RateLimited {
                retry_after_secs, ..
            } => ApiError::too_many(e.to_string(), retry_after_secs),
            Error::Unavailable(cause) => ApiError::unavailable(cause),
            e @ (Error::Timestamp { .. }
            | Error::Database(_)
            | Error::Io { .. }
            | Error::Internal(_)) => ApiError::internal(e.to_string()),
        }
    }
}
