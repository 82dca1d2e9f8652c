//! The access log and the request metrics: each request runs within its
//! id ([`super::request`]), which is echoed in the response, and ends with
//! one log line (route template, status, duration, user if known, client
//! address; one JSON object with `DMS_LOG_FORMAT=json`) and its count in
//! [`super::metrics`]. A panic in a handler is answered as an internal
//! error, not a dropped connection.

use std::cell::Cell;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::FutureExt;

use super::problem::{Problem, StorageFault};
use super::request::{CURRENT, REQUEST_ID, USER, sane};
use std::sync::Arc;

use super::metrics::Metrics;

/// What the middleware needs: where to count, and whom to believe about
/// the client's address.
#[derive(Clone)]
pub struct Tracked {
    pub metrics: Arc<Metrics>,
    pub trusted_proxies: Arc<[ipnet::IpNet]>,
}

/// The route label of a request no route matched (a 404), so that probes
/// of random paths cannot grow the metrics without bound.
const UNMATCHED: &str = "unmatched";

/// A route template as a label: `/api/cases/{case_id}` becomes
/// `/api/cases/:case_id`, since text-format readers that split a sample's
/// labels at the first `}` (prometheus-parse among them) would drop it.
fn label(template: &str) -> String {
    template
        .split('/')
        .map(
            |segment| match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) => format!(":{name}"),
                None => segment.to_owned(),
            },
        )
        .collect::<Vec<_>>()
        .join("/")
}

/// Middleware: assigns the id, runs the request within it, logs one line
/// and counts it.
pub async fn track(State(state): State<Tracked>, request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| sane(v))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| UNMATCHED.to_owned(), |p| label(p.as_str()));
    let (parts, body) = request.into_parts();
    let client = super::client::client_ip(&parts, &state.trusted_proxies);
    let multipart = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("multipart/form-data"));
    let body = if multipart {
        state.metrics.count_upload(body)
    } else {
        body
    };
    let request = Request::from_parts(parts, body);
    let started = Instant::now();
    // A handler that panics still gets its answer (a logged internal
    // error with the request id) instead of a dropped connection.
    let run = std::panic::AssertUnwindSafe(next.run(request)).catch_unwind();
    let run = USER.scope(Cell::new(None), async move {
        let response = run.await;
        (response, USER.with(Cell::get))
    });
    let (response, user_id) = CURRENT.scope(id.clone(), run).await;
    let mut response = match response {
        Ok(response) => response,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic".to_owned());
            CURRENT.sync_scope(id.clone(), || {
                Problem::internal(format!("handler panicked: {what}")).into_response()
            })
        }
    };
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    if response.extensions().get::<StorageFault>().is_some() {
        state.metrics.storage_error();
    }
    state
        .metrics
        .request(method.as_str(), &route, status, elapsed);
    tracing::info!(
        request_id = %id,
        %method,
        route = %route,
        path = %path,
        status,
        duration_ms = elapsed.as_secs_f64() * 1000.0,
        user_id,
        client = %client,
        "request"
    );
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID.clone(), value);
    }
    response
}
