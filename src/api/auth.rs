//! `/auth/*`: production's OAuth2 password login, self-registration (closed
//! unless an administrator opens it), the current user, and signing out.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::{ApiError, ApiResult};
use super::extract::{Bearer, ClientIp, CurrentUser, FormBody, JsonBody};
use super::routes::Mount;
use crate::auth::{NewUser, Role, User};
use crate::state::AppState;

pub fn routes() -> Mount {
    Mount::new()
        .route("POST", "/auth/token", post(token))
        .route("POST", "/auth/register", post(register))
        .route("GET", "/auth/me", get(me))
        .route("POST", "/auth/logout", post(logout))
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    grant_type: Option<String>,
}

async fn token(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    FormBody(form): FormBody<LoginForm>,
) -> ApiResult<(HeaderMap, Json<Value>)> {
    if form
        .grant_type
        .as_deref()
        .is_some_and(|g| !g.is_empty() && g != "password")
    {
        return Err(ApiError::validation(
            &["body", "grant_type"],
            "String should match pattern '^password$'",
        ));
    }
    let token = crate::http::sign_in::sign_in(&state, &form.username, &form.password, ip).await?;
    // A token must never sit in a cache (a proxy's, the browser's).
    let mut headers = HeaderMap::new();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    Ok((
        headers,
        Json(json!({"access_token": token, "token_type": "bearer"})),
    ))
}

#[derive(Deserialize)]
struct Registration {
    email: String,
    username: String,
    password: String,
    /// May be absent or null (D-03).
    #[serde(default)]
    full_name: Option<String>,
}

async fn register(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    JsonBody(body): JsonBody<Registration>,
) -> ApiResult<(StatusCode, Json<User>)> {
    if !state.open_registration {
        return Err(ApiError::forbidden(
            "Self-registration is closed; ask an administrator for an account",
        ));
    }
    state.limits.register(ip).await?;
    let user = crate::auth::create_user(
        &state.db,
        NewUser {
            email: body.email,
            username: body.username,
            password: body.password,
            full_name: body.full_name,
            role: Role::ProcurementOfficer,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(user)))
}

async fn me(CurrentUser(user): CurrentUser) -> Json<User> {
    Json(user)
}

/// Ends the presented token's sign-in session: the token is refused from
/// now on (401), wherever a copy of it is.
async fn logout(State(state): State<AppState>, Bearer(token): Bearer) -> ApiResult<StatusCode> {
    CurrentUser::load(&state.db, &token).await?;
    crate::auth::close_session(&state.db, &token.session).await?;
    Ok(StatusCode::NO_CONTENT)
}
