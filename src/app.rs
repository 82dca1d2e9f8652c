//! The application as one router: the API ([`crate::api`]) and the pages
//! ([`crate::web`]), two front doors over one state, with the plumbing
//! both share around them (request ids, the log and the metrics, HSTS
//! behind HTTPS, JSON 404/405), `GET /metrics`, and the housekeeping the
//! state needs while it lives.

use std::time::Duration;

use axum::Router;
use axum::routing::get;

use crate::http::{client, metrics, track};
use crate::state::AppState;

/// The application: every route, the body caps, request ids and the log.
pub fn router(state: AppState) -> Router {
    let app = crate::api::routes()
        .into_router()
        // The web pages set their own body limits.
        .merge(crate::web::routes())
        // Not an API route: 404 unless configured (see http::metrics).
        .route("/metrics", get(metrics::scrape));
    // Set last: it applies to the routes registered before it.
    let proxies = state.trusted_proxies.clone();
    app.fallback(crate::api::not_found)
        .method_not_allowed_fallback(crate::api::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            proxies,
            client::strict_transport,
        ))
        .layer(axum::middleware::from_fn_with_state(
            track::Tracked {
                metrics: state.metrics.clone(),
                trusted_proxies: state.trusted_proxies.clone(),
            },
            track::track,
        ))
        .with_state(state)
}

/// Forgets past rate-limit keys and long-finished analysis jobs every
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
            if let Err(e) = limits.forget_idle().await {
                tracing::warn!(error = %e, "could not forget past rate-limit keys");
            }
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
