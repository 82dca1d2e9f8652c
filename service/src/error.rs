//! The error type of the service layer.
//!
//! Services say what went wrong in domain terms; the HTTP layer
//! (`src/api/error.rs` of the app) is the one place that turns a variant into a status.

use sea_orm::{DbErr, RuntimeErr, SqlErr};

pub use crate::refusal::{FieldRule, NameProblem, Refusal};

/// What a service can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No row of `entity` has this id.
    #[error("{entity} {id} not found")]
    NotFound { entity: &'static str, id: String },

    /// The request breaks a rule of the domain: the refusal says which,
    /// with its values; [`Error::status_code`] gives its status.
    #[error(transparent)]
    Refused(#[from] Refusal),

    /// A field of the request breaks its schema rule (client's 422).
    #[error("{}", rule.message(field))]
    Validation { field: String, rule: FieldRule },

    /// A text field holds a character XML cannot carry or is longer than
    /// its limit (client's 422; see [`crate::text`]).
    #[error(transparent)]
    Text(#[from] crate::text::Refusal),

    /// A limited action done too often: `per_minute` of `what` at most;
    /// the next is allowed after `retry_after_secs`.
    #[error("Rate limit exceeded: {per_minute} {what} per 1 minute")]
    RateLimited {
        what: &'static str,
        per_minute: u32,
        retry_after_secs: u64,
    },

    /// A stored timestamp is not ISO-8601 in a form [`crate::timestamp::parse`] reads.
    #[error("malformed timestamp {value:?}: {reason}")]
    Timestamp { value: String, reason: String },

    /// The database cannot be reached right now (client's 503: retry later).
    #[error("database unavailable: {0}")]
    Unavailable(String),

    /// The database failed or refused a statement.
    #[error("database error: {0}")]
    Database(DbErr),

    /// A file of the data directory could not be read or written.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },

    /// A server fault with no better category (hashing, a worker task...).
    #[error("{0}")]
    Internal(String),
}

impl Error {
    /// The HTTP status of this error: the one table both front-ends use.
    pub fn status_code(&self) -> u16 {
        match self {
            Error::NotFound { .. } => 404,
            Error::Refused(r) => r.status_code(),
            Error::Validation { .. } | Error::Text(_) => 422,
            Error::RateLimited { .. } => 429,
            Error::Unavailable(_) => 503,
            Error::Timestamp { .. }
            | Error::Database(_)
            | Error::Io { .. }
            | Error::Internal(_) => 500,
        }
    }

    pub fn not_found(entity: &'static str, id: impl Into<String>) -> Self {
        Error::NotFound {
            entity,
            id: id.into(),
        }
    }

    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    /// Whether this is a unique-constraint violation (a lost race on a
    /// uniqueness rule, which the caller may retry or report as 409).
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, Error::Database(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))))
    }

    /// Whether the database aborted the transaction to break a deadlock or a
    /// serialization conflict: running it again is the documented remedy.
    pub fn is_retryable(&self) -> bool {
        let Error::Database(e) = self else {
            return false;
        };
        let text = e.to_string().to_ascii_lowercase();
        text.contains("deadlock")
            || text.contains("could not serialize")
            || text.contains("database is locked")
            || text.contains("lock wait timeout")
    }
}

/// A field of a request that breaks its rule (422, like a schema error).
pub fn invalid_field(field: &str, rule: FieldRule) -> Error {
    Error::Validation {
        field: field.to_owned(),
        rule,
    }
}

impl From<DbErr> for Error {
    fn from(e: DbErr) -> Self {
        if is_unavailable(&e) {
            Error::Unavailable(e.to_string())
        } else {
            Error::Database(e)
        }
    }
}

/// Whether `e` says the server is out of reach (refused, reset, pool timed
/// out), as opposed to a statement the database rejected.
fn is_unavailable(e: &DbErr) -> bool {
    match e {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(s)) | DbErr::Query(RuntimeErr::SqlxError(s)) => matches!(
            s.as_ref(),
            sea_orm::SqlxError::Io(_)
                | sea_orm::SqlxError::PoolTimedOut
                | sea_orm::SqlxError::PoolClosed
                | sea_orm::SqlxError::WorkerCrashed
                | sea_orm::SqlxError::Tls(_)
        ),
        _ => false,
    }
}
