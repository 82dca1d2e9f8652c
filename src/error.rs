//! The error type of the service layer.

use sea_orm::DbErr;

/// What a service can fail with. For the HTTP layer: `NotFound` is the
/// client's 404; the others are server faults (a malformed timestamp is bad
/// data already in the database, not a bad request).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No row of `entity` has this id.
    #[error("{entity} {id} not found")]
    NotFound { entity: &'static str, id: String },

    /// A stored timestamp is not ISO-8601 in a form [`crate::timestamp::parse`] reads.
    #[error("malformed timestamp {value:?}: {reason}")]
    Timestamp { value: String, reason: String },

    /// The database failed or refused a statement.
    #[error("database error: {0}")]
    Database(#[from] DbErr),
}
