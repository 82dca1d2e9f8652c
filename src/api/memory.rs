//! The decision memory: `/api/memory/{id}`, `/api/search_memory/{id}` and
//! the committee's decision, `/api/decide`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::{ApiError, ApiResult};
use super::extract::{CurrentUser, JsonBody, QueryParams};
use super::routes::Mount;
use crate::memory::Decision;
use crate::state::AppState;

pub fn routes() -> Mount {
    Mount::new()
        .route("GET", "/api/memory/{case_id}", get(list))
        .route("GET", "/api/search_memory/{case_id}", get(search))
        .route("POST", "/api/decide", post(decide))
}

#[derive(Deserialize)]
struct Paging {
    limit: Option<u64>,
    offset: Option<u64>,
}

async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(case_id): Path<String>,
    QueryParams(paging): QueryParams<Paging>,
) -> ApiResult<(HeaderMap, Json<Value>)> {
    let limit = paging.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::validation(
            &["query", "limit"],
            "limit must be between 1 and 500",
        ));
    }
    let page = crate::memory::list(
        &state.db,
        &user,
        &case_id,
        limit,
        paging.offset.unwrap_or(0),
    )
    .await?;
    let mut headers = HeaderMap::new();
    headers.insert("x-total-count", HeaderValue::from(page.total));
    Ok((
        headers,
        Json(json!({"case_id": case_id, "memory": page.entries})),
    ))
}

#[derive(Deserialize)]
struct SearchQuery {
    q: String,
}

async fn search(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(case_id): Path<String>,
    QueryParams(query): QueryParams<SearchQuery>,
) -> ApiResult<Json<Value>> {
    let q = query.q.trim().to_lowercase();
    let hits = crate::memory::search(&state.db, &user, &case_id, &q).await?;
    if q.is_empty() {
        return Ok(Json(json!({"case_id": case_id, "hits": []})));
    }
    let hits: Vec<Value> = hits
        .into_iter()
        .map(|e| json!({"id": e.id, "entry_type": e.entry_type, "created_at": e.created_at, "preview": e.content}))
        .collect();
    Ok(Json(json!({"case_id": case_id, "q": q, "hits": hits})))
}

#[derive(Deserialize)]
struct DecideRequest {
    case_id: String,
    chosen_supplier: String,
    decision_reason: String,
    next_action: String,
}

async fn decide(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    JsonBody(body): JsonBody<DecideRequest>,
) -> ApiResult<Json<Value>> {
    state.limits.decide(user.id).await?;
    Ok(Json(
        crate::analysis::decide(
            &state.db,
            &state.data,
            &user,
            &body.case_id,
            Decision {
                chosen_supplier: body.chosen_supplier,
                decision_reason: body.decision_reason,
                next_action: body.next_action,
            },
        )
        .await?,
    ))
}
