//! Sending a stored file as a download, for the API and the pages alike:
//! its content type and name from the type its content earned at upload
//! (never the client's extension), always as an attachment that the
//! browser may neither sniff nor run (`nosniff`, a sandboxing CSP), a
//! `Content-Disposition` that keeps non-ASCII names (RFC 6266
//! `filename*`), and an `ETag` answered with 304.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::Error;
use crate::storage::StoredFile;
use crate::uploads::{served_extension, served_filename, served_mime};

/// Streams `file`, the file of `artifact`. An artifact's file never
/// changes, so its id is a strong validator.
pub async fn send_file(
    artifact: &entity::artifacts::Model,
    file: StoredFile,
    headers: &HeaderMap,
) -> Result<Response, Error> {
    let etag = format!("\"{}\"", artifact.id);
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
    {
        return Ok(StatusCode::NOT_MODIFIED.into_response());
    }
    let len = file.size;
    let extension = served_extension(&artifact.path);
    let filename = served_filename(&artifact.filename, &artifact.path);
    let mut response = Body::from_stream(file.content).into_response();
    let out = response.headers_mut();
    out.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(served_mime(extension)),
    );
    out.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    out.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    out.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(DOWNLOAD_CSP),
    );
    if let Ok(v) = HeaderValue::from_str(&content_disposition(&filename)) {
        out.insert(header::CONTENT_DISPOSITION, v);
    }
    if let Ok(v) = HeaderValue::from_str(&etag) {
        out.insert(header::ETAG, v);
    }
    out.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    Ok(response)
}

/// A download is a document, never a page: were a browser to render one
/// anyway, it runs no script, loads nothing and is its own unique origin.
pub const DOWNLOAD_CSP: &str = "sandbox; default-src 'none'";

/// `attachment; filename="<ASCII fallback>"; filename*=UTF-8''<percent-encoded>`.
pub fn content_disposition(filename: &str) -> String {
    let fallback: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = filename
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}
