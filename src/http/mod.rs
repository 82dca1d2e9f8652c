//! The HTTP API (axum): production's routes on port 5000, secure by
//! default. `router` builds the application from its state; `serve` runs it
//! (within the connection limits of [`conn`]) until SIGTERM or Ctrl-C,
//! letting in-flight requests finish.

mod analysis;
mod auth;
mod cases;
pub mod client;
mod committee;
pub mod conn;
pub mod error;
mod extract;
pub mod files;
pub mod limits;
mod memory;
mod meta;
pub mod multipart;
pub mod request;
pub mod routes;
mod uploads;
mod users;
mod views;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use sea_orm::DatabaseConnection;
use tokio::net::TcpListener;

use crate::storage::DataDir;
use crate::token::Keys;

/// Bodies of the routes that are not uploads are capped at this size.
pub const MAX_JSON_BODY: usize = 1024 * 1024;

/// Everything a handler may need.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub data: Arc<DataDir>,
    pub keys: Keys,
    pub limits: limits::Limiters,
    /// The analyses running and waiting (see [`crate::analysis::queue`]).
    pub analyses: crate::analysis::queue::AnalysisQueue,
    pub open_registration: bool,
    /// Reverse proxies whose `X-Forwarded-*` headers are believed.
    pub trusted_proxies: Arc<[ipnet::IpNet]>,
}

/// The API's routes, each recorded as it is mounted (see
/// [`routes::Mount`]), with their body limits.
pub fn api() -> routes::Mount {
    routes::Mount::new()
        .merge(analysis::routes())
        .merge(auth::routes())
        .merge(cases::routes())
        .merge(committee::routes())
        .merge(memory::routes())
        .merge(meta::routes())
        .merge(users::routes())
        .merge(uploads::withdrawals())
        .wrap(|r| r.layer(DefaultBodyLimit::max(MAX_JSON_BODY)))
        // Uploads stream their body and count it themselves (413 at 50 MiB).
        .merge(uploads::routes().wrap(|r| r.layer(DefaultBodyLimit::disable())))
}

/// The application: every route, the body cap, request ids and the log.
pub fn router(state: AppState) -> Router {
    let api = api()
        .into_router()
        // The web pages set their own body limits.
        .merge(crate::web::routes());
    // Set last: it applies to the routes registered before it.
    let proxies = state.trusted_proxies.clone();
    api.fallback(meta::not_found)
        .method_not_allowed_fallback(meta::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            proxies,
            client::strict_transport,
        ))
        .layer(axum::middleware::from_fn(request::track))
        .with_state(state)
}

/// Serves `app` on `listener`, within `limits`, until `shutdown` resolves;
/// requests in flight then finish before this returns.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: conn::ConnLimits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    conn::serve(listener, app, limits, shutdown).await
}

/// Forgets idle rate-limit keys and long-finished analysis jobs every
/// minute, and expired sign-in sessions every hour, for as long as the
/// state lives.
pub fn spawn_housekeeping(state: &AppState) {
    let limits = state.limits.clone();
    let analyses = state.analyses.clone();
    let db = state.db.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        let mut minutes = 0u32;
        loop {
            tick.tick().await;
            limits.forget_idle();
            analyses.forget_finished();
            if minutes.is_multiple_of(60)
                && let Err(e) = crate::auth::purge_expired_sessions(&db).await
            {
                tracing::warn!(error = %e, "could not forget expired sign-in sessions");
            }
            minutes = minutes.wrapping_add(1);
        }
    });
}
