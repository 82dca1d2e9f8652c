//! `/api/users`: the administrator's list of accounts and changes to a
//! user's role and active flag (admin only).

use axum::Json;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::routing::{get, patch};
use serde::Deserialize;

use super::error::{ApiError, ApiResult};
use super::extract::{CurrentUser, JsonBody};
use super::routes::Mount;
use crate::auth::{Role, User};
use crate::state::AppState;
use crate::users_admin::Change;

pub fn routes() -> Mount {
    Mount::new().route("GET", "/api/users", get(list)).route(
        "PATCH",
        "/api/users/{user_id}",
        patch(update),
    )
}

/// An active administrator; anyone else is refused (403) before the path
/// or the body is read.
struct Admin(User);

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let CurrentUser(user) = CurrentUser::from_request_parts(parts, state).await?;
        if user.is_admin() {
            Ok(Admin(user))
        } else {
            Err(ApiError::forbidden("Administrator role required"))
        }
    }
}

async fn list(State(state): State<AppState>, Admin(_): Admin) -> ApiResult<Json<Vec<User>>> {
    Ok(Json(crate::auth::list(&state.db).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserPatch {
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    is_active: Option<bool>,
}

async fn update(
    State(state): State<AppState>,
    Admin(user): Admin,
    Path(user_id): Path<i32>,
    JsonBody(body): JsonBody<UserPatch>,
) -> ApiResult<Json<User>> {
    let role = match body.role.as_deref() {
        Some(name) => Some(Role::parse(name).ok_or_else(|| {
            ApiError::validation(
                &["body", "role"],
                "role must be one of admin, procurement_officer, viewer",
            )
        })?),
        None => None,
    };
    let updated = crate::users_admin::update_user(
        &state.db,
        &user,
        user_id,
        Change {
            role,
            is_active: body.is_active,
        },
    )
    .await?;
    Ok(Json(updated))
}
