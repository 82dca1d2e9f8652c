//! The Decision Memory System application: services over the generated
//! `entity` crate, and the HTTP API on top of them (`http`).
//!
//! Services are plain async functions over a connection, with no HTTP
//! types, so the CLI, the tests and the handlers share them. Every service
//! reads and writes through the entities only, so the drift test
//! (`tests/entities.rs`) covers everything the app assumes about the schema.

pub mod analysis;
pub mod audit;
pub mod auth;
pub mod case_index;
pub mod cases;
pub mod committee;
pub mod db;
pub mod error;
pub mod http;
pub mod memory;
pub mod names;
pub mod password;
pub mod server;
pub mod storage;
pub mod text;
pub mod timestamp;
pub mod token;
pub mod uploads;
pub mod users_admin;
pub mod web;
pub mod withdrawals;

pub use error::Error;
