//! The analysis routes: `POST /api/analyze`, the downloads of generated
//! documents (`GET /api/download/{id}/{output_cba|output_pv}`) and of any
//! artifact of a case (uploaded sources included).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::Value;

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::extract::{CurrentUser, JsonBody};
use super::files::send_file;
use super::routes::Mount;
use crate::analysis::{OUTPUT_CBA, OUTPUT_PV};

pub fn routes() -> Mount {
    Mount::new()
        .route("POST", "/api/analyze", post(analyze))
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
    let (artifact, path) =
        crate::analysis::download(&state.db, &state.data, &user, &case_id, &kind).await?;
    Ok(send_file(&artifact, &path, &headers).await?)
}

async fn artifact(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path((case_id, artifact_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let (artifact, path) =
        crate::analysis::artifact_file(&state.db, &state.data, &user, &case_id, &artifact_id)
            .await?;
    Ok(send_file(&artifact, &path, &headers).await?)
}
