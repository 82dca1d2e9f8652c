//! The analysis routes: `POST /api/analyze` (at once when a worker is
//! free, else queued: 202 and the job's status URL, `GET
//! /api/analyze/jobs/{job_id}`), the downloads of generated
//! documents (`GET /api/download/{id}/{output_cba|output_pv}`) and of any
//! artifact of a case (uploaded sources included).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;

use super::error::{ApiError, ApiResult};
use super::extract::{CurrentUser, JsonBody};
use super::routes::Mount;
use crate::analysis::queue::{JobState, Submitted};
use crate::analysis::{OUTPUT_CBA, OUTPUT_PV};
use crate::http::files::send_file;
use crate::state::AppState;

pub fn routes() -> Mount {
    Mount::new()
        .route("POST", "/api/analyze", post(analyze))
        .route("GET", "/api/analyze/jobs/{job_id}", get(job))
        .route("GET", "/api/download/{case_id}/{kind}", get(download))
        .route(
            "GET",
            "/api/cases/{case_id}/artifacts/{artifact_id}",
            get(artifact),
        )
}

#[derive(Deserialize)]
struct AnalyzeRequest {
    case_id: String,
}

/// Runs the analysis at once when a worker is free (200 with the run's
/// body, production's contract), else queues it (202 with where it stands
/// and where to ask), or refuses while the queue is full (503).
async fn analyze(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    JsonBody(body): JsonBody<AnalyzeRequest>,
) -> ApiResult<Response> {
    state.limits.analyze(user.id).await?;
    match state.analyses.submit(&user, &body.case_id).await? {
        Submitted::Started { job_id, outcome } => {
            let body = outcome
                .await
                .map_err(|_| ApiError::internal("the analysis worker stopped"))??;
            // The body is production's; the job keeps it for a while too.
            let mut response = Json(body).into_response();
            if let Ok(url) = HeaderValue::from_str(&status_url(&job_id)) {
                response.headers_mut().insert(header::CONTENT_LOCATION, url);
            }
            Ok(response)
        }
        Submitted::Queued { job_id, position } => Ok((
            StatusCode::ACCEPTED,
            Json(json!({
                "status": "queued",
                "position": position,
                "status_url": status_url(&job_id),
            })),
        )
            .into_response()),
        Submitted::Full {
            retry_after,
            waiting,
        } => Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "Too many analyses in progress ({waiting} waiting): retry in {} s",
                retry_after.as_secs().max(1)
            ),
        )
        .with_header(
            header::RETRY_AFTER,
            HeaderValue::from(retry_after.as_secs().max(1)),
        )),
    }
}

fn status_url(job_id: &str) -> String {
    format!("/api/analyze/jobs/{job_id}")
}

/// Where a queued analysis stands: `queued` (with its position), `running`,
/// `done` (with the body a run at once answers, as `result`), or `failed`
/// (with the status and `detail` a run at once would have answered).
async fn job(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(job_id): Path<String>,
) -> ApiResult<Response> {
    let url = status_url(&job_id);
    let body = match state.analyses.job(&user, &job_id).await? {
        JobState::Queued { position } => {
            json!({"status": "queued", "position": position, "status_url": url})
        }
        JobState::Running => json!({"status": "running", "status_url": url}),
        JobState::Done(result) => json!({"status": "done", "result": result}),
        JobState::Failed(e) => {
            return Err(ApiError::from(e).with_field("status", json!("failed")));
        }
    };
    Ok(Json(body).into_response())
}

async fn download(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path((case_id, kind)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let kind = kind.trim().to_lowercase();
    if kind != OUTPUT_CBA && kind != OUTPUT_PV {
        return Err(ApiError::bad_request(
            "kind must be output_cba or output_pv",
        ));
    }
    let (artifact, file) =
        crate::analysis::download(&state.db, &state.data, &user, &case_id, &kind).await?;
    Ok(send_file(&artifact, file, &headers).await?)
}

async fn artifact(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path((case_id, artifact_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let (artifact, file) =
        crate::analysis::artifact_file(&state.db, &state.data, &user, &case_id, &artifact_id)
            .await?;
    Ok(send_file(&artifact, file, &headers).await?)
}
