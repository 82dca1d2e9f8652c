//! The Decision Memory System's services: plain async functions over a
//! database connection and the data directory, with no HTTP type, so that
//! the API, the pages, the CLI and the tests share them. A crate of its
//! own: the compiler, not a convention, keeps HTTP out of them (the app,
//! package `dms`, holds the API, the pages and the server on top).
//!
//! Every service reads and writes through the generated `entity` crate
//! only, so the drift test (`tests/entities.rs`) covers everything the
//! services assume about the schema.

pub mod analysis;
pub mod artifact_meta;
pub mod audit;
pub mod auth;
pub mod backup;
pub mod case_index;
pub mod cases;
pub mod committee;
pub mod db;
pub mod error;
pub mod ledger;
pub mod memory;
pub mod names;
pub mod paging;
pub mod password;
pub mod rate_limits;
pub mod readiness;
pub mod refusal;
pub mod storage;
pub mod text;
pub mod timestamp;
pub mod token;
pub mod uploads;
pub mod users_admin;

pub use error::Error;
