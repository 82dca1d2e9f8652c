//! The access log: each request runs within its id ([`super::request`]),
//! which is echoed in the response, and ends with one log line. A panic in
//! a handler is answered as an internal error, not a dropped connection.

use std::time::Instant;

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::FutureExt;

use super::problem::Problem;
use super::request::{CURRENT, REQUEST_ID, sane};

/// Middleware: assigns the id, runs the request within it, logs one line.
pub async fn track(request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| sane(v))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let started = Instant::now();
    // A handler that panics still gets its answer (a logged internal
    // error with the request id) instead of a dropped connection.
    let run = std::panic::AssertUnwindSafe(next.run(request)).catch_unwind();
    let mut response = match CURRENT.scope(id.clone(), run).await {
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
    tracing::info!(
        request_id = %id,
        %method,
        path = %path,
        status = response.status().as_u16(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "request"
    );
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID.clone(), value);
    }
    response
}
