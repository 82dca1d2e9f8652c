//! The application's state: what every handler of the API and of the
//! pages may need, built once at start (see [`crate::server`]).

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::analysis::queue::AnalysisQueue;
use crate::http::limits::Limiters;
use crate::http::metrics::Metrics;
use crate::storage::Storage;
use crate::token::Keys;

/// Everything a handler may need.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub data: Arc<Storage>,
    pub keys: Keys,
    pub limits: Limiters,
    /// The analyses running and waiting (see [`crate::analysis::queue`]).
    pub analyses: AnalysisQueue,
    pub open_registration: bool,
    /// Reverse proxies whose `X-Forwarded-*` headers are believed.
    pub trusted_proxies: Arc<[ipnet::IpNet]>,
    /// What `GET /metrics` shows (see [`crate::http::metrics`]).
    pub metrics: Arc<Metrics>,
}
