//! The Decision Memory System application: the JSON API ([`api`]) and the
//! web pages ([`web`]), two front doors over one state ([`state`]) composed
//! into one router ([`app`]), on the HTTP plumbing they share ([`http`]),
//! started by [`server`]. The services live in their own crate
//! (`dms-service`, re-exported here), which knows nothing of HTTP.

pub use dms_service::{
    Error, analysis, artifact_meta, audit, auth, backup, case_index, cases, committee, db, error,
    ledger, memory, names, paging, password, rate_limits, readiness, storage, text, timestamp,
    token, uploads, users_admin,
};

pub mod api;
pub mod app;
pub mod http;
pub mod server;
pub mod state;
pub mod web;
