//! The schema as the tests compare it: `migration::inspect`, with the
//! PostgreSQL reference translated into each backend's native types.

// Not every test file uses every re-export.
#[allow(unused_imports)]
pub use migration::inspect::{Schema, introspect, parse_reference, postgres_snapshot};
use sea_orm::DbBackend;

/// Differences between the live schema of a `backend` database and the
/// PostgreSQL `reference`, one line each; empty when they match.
pub fn diff(backend: DbBackend, reference: &Schema, actual: &Schema) -> Vec<String> {
    migration::inspect::diff(
        &migration::inspect::expected_for(backend, reference),
        actual,
    )
}
