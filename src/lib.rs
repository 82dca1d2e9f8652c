//! The Decision Memory System application: services over the generated
//! `entity` crate (the HTTP API will sit on top of them).
//!
//! Every service reads and writes through the entities only, so the drift
//! test (`tests/entities.rs`) covers everything the app assumes about the
//! schema.

pub mod cases;
pub mod error;
pub mod timestamp;

pub use error::Error;
