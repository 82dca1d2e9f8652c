//! A refusal as JSON answers it, for the API and the plumbing both front
//! doors share (a stalled body, a panicking handler): `{"detail": ...}`
//! with its status and headers, 503 with `Retry-After` while the database
//! is out of reach, and for a server fault a logged error and a body that
//! only says "internal error" with the request id to quote. Which status a
//! service's refusal gets is the API's table (`crate::api::error`).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// Seconds a client is told to wait while the database is unavailable.
const UNAVAILABLE_RETRY_SECS: u64 = 5;

/// An error as the HTTP API answers it (boxed: handlers return it often
/// and it should not make every `Result` large).
#[derive(Debug)]
pub struct Problem(Box<Inner>);

#[derive(Debug)]
struct Inner {
    status: StatusCode,
    detail: Value,
    headers: Vec<(header::HeaderName, HeaderValue)>,
    /// Fields of the body beside `detail`.
    fields: Vec<(&'static str, Value)>,
    /// What is logged for a server fault (never sent).
    internal: Option<String>,
    /// The fault was the file storage's (counted by the metrics).
    storage: bool,
}

/// Marks a response that failed on the file storage, for the metrics
/// ([`super::track`] counts it).
#[derive(Clone, Copy, Debug)]
pub struct StorageFault;

impl Problem {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Problem(Box::new(Inner {
            status,
            detail: Value::String(detail.into()),
            headers: Vec::new(),
            fields: Vec::new(),
            internal: None,
            storage: false,
        }))
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Problem::new(StatusCode::BAD_REQUEST, detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Problem::new(StatusCode::NOT_FOUND, detail)
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Problem::new(StatusCode::FORBIDDEN, detail)
    }

    /// 401 with `WWW-Authenticate: Bearer`.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Problem::new(StatusCode::UNAUTHORIZED, detail)
            .with_header(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))
    }

    /// 422 in pydantic's shape: `{"detail": [{"type", "loc", "msg", "input"}]}`.
    pub fn validation(loc: &[&str], msg: impl Into<String>) -> Self {
        let mut e = Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "");
        e.0.detail = json!([{
            "type": "value_error",
            "loc": loc,
            "msg": msg.into(),
            "input": Value::Null,
        }]);
        e
    }

    /// 429 with `Retry-After`.
    pub fn too_many(detail: impl Into<String>, retry_after_secs: u64) -> Self {
        Problem::new(StatusCode::TOO_MANY_REQUESTS, detail).with_header(
            header::RETRY_AFTER,
            HeaderValue::from(retry_after_secs.max(1)),
        )
    }

    pub fn unavailable(cause: impl Into<String>) -> Self {
        let mut e = Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "The database is unavailable; retry later",
        )
        .with_header(
            header::RETRY_AFTER,
            HeaderValue::from(UNAVAILABLE_RETRY_SECS),
        );
        e.0.internal = Some(cause.into());
        e
    }

    pub fn internal(cause: impl Into<String>) -> Self {
        let mut e = Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error");
        e.0.internal = Some(cause.into());
        e
    }

    /// A server fault of the file storage (a file not read or written).
    pub fn storage_fault(cause: impl Into<String>) -> Self {
        let mut e = Problem::internal(cause);
        e.0.storage = true;
        e
    }

    pub fn with_header(mut self, name: header::HeaderName, value: HeaderValue) -> Self {
        self.0.headers.push((name, value));
        self
    }

    /// The same refusal with one more field in its body.
    pub fn with_field(mut self, name: &'static str, value: Value) -> Self {
        self.0.fields.push((name, value));
        self
    }

    pub fn status(&self) -> StatusCode {
        self.0.status
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let this = *self.0;
        let request_id = super::request::current_id();
        let mut body = if this.status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(
                request_id = request_id.as_deref().unwrap_or("-"),
                cause = this.internal.as_deref().unwrap_or("-"),
                "internal error"
            );
            json!({"detail": this.detail, "request_id": request_id})
        } else {
            if let Some(cause) = &this.internal {
                tracing::warn!(
                    request_id = request_id.as_deref().unwrap_or("-"),
                    cause,
                    "{}",
                    this.status
                );
            }
            json!({"detail": this.detail})
        };
        for (name, value) in this.fields {
            body[name] = value;
        }
        let mut response = (this.status, axum::Json(body)).into_response();
        for (name, value) in this.headers {
            response.headers_mut().insert(name, value);
        }
        if this.storage {
            response.extensions_mut().insert(StorageFault);
        }
        if this.status == StatusCode::PAYLOAD_TOO_LARGE {
            // The rest of the body is never read: the connection cannot
            // carry another request, and the client must not reuse it.
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }
}
