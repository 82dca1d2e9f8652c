//! The analysis routes: `POST /api/analyze`, the downloads of generated
//! documents (`GET /api/download/{id}/{output_cba|output_pv}`) and of any
//! artifact of a case (uploaded sources included).

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::Value;

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::extract::{CurrentUser, JsonBody};
use crate::analysis::{OUTPUT_CBA, OUTPUT_PV};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/analyze", post(analyze))
        .route("/api/download/{case_id}/{kind}", get(download))
        .route(
            "/api/cases/{case_id}/artifacts/{artifact_id}",
            get(artifact),
        )
}

#[derive(Deserialize)]
struct AnalyzeRequest {
    case_id: String,
}

async fn analyze(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    JsonBody(body): JsonBody<AnalyzeRequest>,
) -> ApiResult<Json<Value>> {
    Ok(Json(
        crate::analysis::analyze(&state.db, &state.data, &user, &body.case_id).await?,
    ))
}

async fn download(
    State(state): State<AppState>,
    CurrentUser(_): CurrentUser,
    Path((case_id, kind)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let kind = kind.trim().to_lowercase();
    if kind != OUTPUT_CBA && kind != OUTPUT_PV {
        return Err(ApiError::bad_request(
            "kind must be output_cba or output_pv",
        ));
    }
    let (artifact, path) =
        crate::analysis::download(&state.db, &state.data, &case_id, &kind).await?;
    send_file(&artifact, &path, &headers).await
}

async fn artifact(
    State(state): State<AppState>,
    CurrentUser(_): CurrentUser,
    Path((case_id, artifact_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    crate::cases::find(&state.db, &case_id).await?;
    let (artifact, path) =
        crate::analysis::artifact_file(&state.db, &state.data, &case_id, &artifact_id).await?;
    send_file(&artifact, &path, &headers).await
}

/// Streams a stored file with its type, a `Content-Disposition` that keeps
/// non-ASCII names (RFC 6266 `filename*`), and an `ETag`: an artifact's file
/// never changes, so its id is a strong validator.
pub(crate) async fn send_file(
    artifact: &entity::artifacts::Model,
    path: &std::path::Path,
    headers: &HeaderMap,
) -> ApiResult<Response> {
    let etag = format!("\"{}\"", artifact.id);
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
    {
        return Ok(StatusCode::NOT_MODIFIED.into_response());
    }
    let file = tokio::fs::File::open(path)
        .await
        .map_err(|e| crate::Error::io(format!("opening {}", artifact.filename), e))?;
    let len = file
        .metadata()
        .await
        .map_err(|e| crate::Error::io(format!("reading {}", artifact.filename), e))?
        .len();
    let mut response = Body::from_stream(tokio_util::io::ReaderStream::new(file)).into_response();
    let out = response.headers_mut();
    out.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(&artifact.filename)),
    );
    out.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    if let Ok(v) = HeaderValue::from_str(&content_disposition(&artifact.filename)) {
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

fn content_type(filename: &str) -> &'static str {
    match filename
        .rsplit('.')
        .next()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("xlsx") => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        Some("docx") => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        Some("pdf") => "application/pdf",
        Some("doc") => "application/msword",
        Some("xls") => "application/vnd.ms-excel",
        _ => "application/octet-stream",
    }
}

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
