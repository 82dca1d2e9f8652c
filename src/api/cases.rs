//! `/api/cases`: create (with its procurement reference), list, detail,
//! and lots.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::routing::{get, post};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::{ApiError, ApiResult};
use super::extract::{Bearer, CurrentUser, JsonBody, QueryParams};
use super::routes::Mount;
use super::views;
use crate::cases::{CaseFilter, NewCase, NewLot};
use crate::state::AppState;

pub fn routes() -> Mount {
    Mount::new()
        .route("POST", "/api/cases", post(create))
        .route("GET", "/api/cases", get(list))
        .route("GET", "/api/cases/{case_id}", get(detail))
        .route("POST", "/api/cases/{case_id}/lots", post(create_lot))
}

#[derive(Deserialize)]
struct CaseCreate {
    case_type: String,
    title: String,
    #[serde(default)]
    lot: Option<String>,
    #[serde(default)]
    estimated_value: Option<Decimal>,
    #[serde(default)]
    closing_date: Option<String>,
    #[serde(default)]
    procedure_type: Option<String>,
    #[serde(default)]
    category_code: Option<String>,
    #[serde(default)]
    purchase_category_code: Option<String>,
}

async fn create(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    JsonBody(body): JsonBody<CaseCreate>,
) -> ApiResult<Json<Value>> {
    if !user.can_create_cases() {
        return Err(ApiError::forbidden(
            "Your role (viewer) can read but not create cases",
        ));
    }
    state.limits.create_case(user.id).await?;
    let created = crate::cases::create_case(
        &state.db,
        &user,
        NewCase {
            case_type: body.case_type,
            title: body.title,
            lot: body.lot,
            estimated_value: body.estimated_value,
            closing_date: body.closing_date,
            procedure_type: body.procedure_type,
            category_code: body.category_code,
            purchase_category_code: body.purchase_category_code,
            // The API's contract has no language: its cases are French.
            language: None,
        },
    )
    .await?;
    let mut out = views::case(&created.case);
    out["ref_number"] = json!(created.reference.ref_number);
    out["reference"] = json!(created.reference);
    out["suggested_procedure"] = json!(created.procedure);
    Ok(Json(out))
}

#[derive(Deserialize)]
struct ListQuery {
    limit: Option<u64>,
    offset: Option<u64>,
    status: Option<String>,
    case_type: Option<String>,
    mine: Option<bool>,
}

async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    QueryParams(q): QueryParams<ListQuery>,
) -> ApiResult<(HeaderMap, Json<Value>)> {
    let page = crate::cases::list_cases(
        &state.db,
        &user,
        CaseFilter {
            status: q.status,
            case_type: q.case_type,
            owner_id: q.mine.unwrap_or(false).then_some(user.id),
            limit: q.limit,
            offset: q.offset,
        },
    )
    .await?;
    let mut headers = HeaderMap::new();
    headers.insert("x-total-count", HeaderValue::from(page.total));
    Ok((
        headers,
        Json(Value::Array(page.cases.iter().map(views::case).collect())),
    ))
}

async fn detail(
    State(state): State<AppState>,
    Bearer(token): Bearer,
    Path(case_id): Path<String>,
) -> ApiResult<Json<Value>> {
    // The hottest read: the caller's user (read and checked active and
    // signed in on every request, as everywhere), their standing in the
    // case and the whole case file come back from one statement, so one
    // round trip and one snapshot.
    let read = crate::cases::load_case_file_for(&state.db, token.user_id, &token.session, &case_id)
        .await?;
    CurrentUser::check(read.user)?;
    let (file, _) = read
        .file
        .ok_or_else(|| crate::Error::not_found("case", &case_id))?;
    let data = &state.data;
    // Production's order: artifacts and memory newest first.
    let artifacts: Vec<Value> = file
        .artifacts
        .iter()
        .rev()
        .map(|a| views::artifact(a, data))
        .collect();
    let memory: Vec<Value> = file
        .memory_entries
        .iter()
        .rev()
        .map(|m| json!(crate::memory::Entry::from(m.clone())))
        .collect();
    let offers: Vec<Value> = file
        .offers
        .iter()
        .map(|o| {
            let mut offer = json!(o.offer);
            offer["documents"] = o
                .documents
                .iter()
                .map(|d| views::document(d, data))
                .collect();
            offer
        })
        .collect();
    Ok(Json(json!({
        "case": views::case(&file.case),
        "artifacts": artifacts,
        "memory": memory,
        "dao_criteria": file.dao_criteria,
        "lots": file.lots,
        "offers": offers,
        "reference": file.reference,
    })))
}

#[derive(Deserialize)]
struct LotCreate {
    lot_number: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    estimated_value: Option<f32>,
    #[serde(default)]
    category_code: Option<String>,
}

async fn create_lot(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(case_id): Path<String>,
    JsonBody(body): JsonBody<LotCreate>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let lot = crate::cases::create_lot(
        &state.db,
        &user,
        &case_id,
        NewLot {
            lot_number: body.lot_number,
            description: body.description,
            estimated_value: body.estimated_value,
            category_code: body.category_code,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(json!(lot))))
}
