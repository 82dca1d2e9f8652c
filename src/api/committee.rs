//! A case's committee and the acts of its procedure: members
//! (`/api/cases/{id}/members`), the declaration of impartiality
//! (`/api/cases/{id}/declaration`), the opening of the offers
//! (`/api/cases/{id}/open`); and an administrator's "sign out everywhere"
//! for an account (`DELETE /api/users/{id}/sessions`).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::{ApiError, ApiResult};
use super::extract::{CurrentUser, JsonBody};
use super::routes::Mount;
use crate::committee::{DECLARATION_TEXT, MemberRole, Person};
use crate::state::AppState;

pub fn routes() -> Mount {
    Mount::new()
        .route("GET", "/api/cases/{case_id}/members", get(list))
        .route("POST", "/api/cases/{case_id}/members", post(add))
        .route(
            "DELETE",
            "/api/cases/{case_id}/members/{user_id}",
            delete(remove),
        )
        .route("GET", "/api/cases/{case_id}/declaration", get(declaration))
        .route("POST", "/api/cases/{case_id}/declaration", post(declare))
        .route("POST", "/api/cases/{case_id}/open", post(open))
        .route(
            "DELETE",
            "/api/users/{user_id}/sessions",
            delete(sign_out_everywhere),
        )
}

async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(case_id): Path<String>,
) -> ApiResult<Json<Value>> {
    let members = crate::committee::members(&state.db, &user, &case_id).await?;
    Ok(Json(json!({"case_id": case_id, "members": members})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewMember {
    #[serde(default)]
    user_id: Option<i32>,
    #[serde(default)]
    username: Option<String>,
    role: String,
}

async fn add(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(case_id): Path<String>,
    JsonBody(body): JsonBody<NewMember>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let role = MemberRole::parse(&body.role).ok_or_else(|| {
        ApiError::validation(
            &["body", "role"],
            "Input should be 'evaluator' or 'observer'",
        )
    })?;
    let person = match (body.user_id, body.username) {
        (Some(id), None) => Person::Id(id),
        (None, Some(name)) => Person::Name(name),
        _ => {
            return Err(ApiError::validation(
                &["body", "user_id"],
                "give either user_id or username",
            ));
        }
    };
    let member = crate::committee::add_member(&state.db, &user, &case_id, person, role).await?;
    Ok((StatusCode::CREATED, Json(json!(member))))
}

async fn remove(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path((case_id, user_id)): Path<(String, i32)>,
) -> ApiResult<StatusCode> {
    crate::committee::remove_member(&state.db, &user, &case_id, user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn declaration(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(case_id): Path<String>,
) -> ApiResult<Json<Value>> {
    let members = crate::committee::members(&state.db, &user, &case_id).await?;
    let declared_at = members
        .iter()
        .find(|m| m.user_id == user.id)
        .and_then(|m| m.declared_at.clone());
    Ok(Json(json!({
        "case_id": case_id,
        "statement": DECLARATION_TEXT,
        "declared_at": declared_at,
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeclarationBody {
    accept: bool,
}

async fn declare(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(case_id): Path<String>,
    JsonBody(body): JsonBody<DeclarationBody>,
) -> ApiResult<Json<Value>> {
    let declaration = crate::committee::declare(&state.db, &user, &case_id, body.accept).await?;
    Ok(Json(json!(declaration)))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct OpenBody {
    #[serde(default)]
    present: Vec<i32>,
}

async fn open(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(case_id): Path<String>,
    JsonBody(body): JsonBody<OpenBody>,
) -> ApiResult<Json<Value>> {
    let opening = crate::committee::open(&state.db, &user, &case_id, &body.present).await?;
    Ok(Json(json!(opening)))
}

async fn sign_out_everywhere(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(user_id): Path<i32>,
) -> ApiResult<Json<Value>> {
    if !user.is_admin() {
        return Err(ApiError::forbidden("Administrator role required"));
    }
    crate::auth::find(&state.db, user_id)
        .await?
        .ok_or_else(|| crate::Error::not_found("user", user_id.to_string()))?;
    let closed = crate::auth::close_sessions(&state.db, user_id).await?;
    tracing::info!(
        actor = user.id,
        user = user_id,
        closed,
        "signed out everywhere by an administrator"
    );
    Ok(Json(json!({"user_id": user_id, "sessions_closed": closed})))
}
