//! Extractors: the caller (bearer token → active user), and JSON, form and
//! query bodies whose rejections answer in the API's `{"detail": ...}`
//! shape (422) instead of axum's plain text.

use std::net::IpAddr;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use sea_orm::ConnectionTrait;
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::auth::User;
use crate::state::AppState;
use crate::token::Verified;

/// The authenticated, active user making the request.
#[derive(Clone, Debug)]
pub struct CurrentUser(pub User);

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Bearer(token) = Bearer::from_request_parts(parts, state).await?;
        CurrentUser::load(&state.db, &token).await
    }
}

impl CurrentUser {
    /// The user a verified token names, read on `db` (a transaction the
    /// handler goes on using, say): unknown, or signed out, is a 401;
    /// inactive a 400.
    pub async fn load(db: &impl ConnectionTrait, token: &Verified) -> Result<Self, ApiError> {
        Self::check(crate::auth::find_in_session(db, token.user_id, &token.session).await?)
    }

    /// The user a verified token names, as read by the handler (`None` when
    /// no such user exists): unknown is a 401, inactive a 400.
    pub fn check(user: Option<crate::auth::User>) -> Result<Self, ApiError> {
        let user = user.ok_or_else(|| ApiError::unauthorized("Could not validate credentials"))?;
        if !user.is_active {
            return Err(ApiError::bad_request("Inactive user"));
        }
        crate::http::request::note_user(user.id);
        Ok(CurrentUser(user))
    }
}

/// What a valid bearer token names, not yet checked against the database:
/// a handler that takes it must call [`CurrentUser::load`] before anything
/// else (it lets the user be read on the handler's connection).
#[derive(Clone, Debug)]
pub struct Bearer(pub Verified);

impl FromRequestParts<AppState> for Bearer {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (scheme, token) = v.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            })
            .ok_or_else(|| ApiError::unauthorized("Not authenticated"))?;
        state
            .keys
            .verify(token)
            .map(Bearer)
            .ok_or_else(|| ApiError::unauthorized("Could not validate credentials"))
    }
}

/// The client's address (see [`crate::http::client::client_ip`]).
#[derive(Clone, Copy, Debug)]
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(crate::http::client::client_ip(
            parts,
            &state.trusted_proxies,
        )))
    }
}

/// A JSON body; a malformed one, a missing field or a wrong type is a 422.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(JsonBody(value)),
            Err(rejection) => Err(reject(rejection.status(), &rejection.body_text(), "body")),
        }
    }
}

/// A form body (`application/x-www-form-urlencoded`); rejections are 422.
pub struct FormBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for FormBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Form::<T>::from_request(req, state).await {
            Ok(axum::Form(value)) => Ok(FormBody(value)),
            Err(rejection) => Err(reject(rejection.status(), &rejection.body_text(), "body")),
        }
    }
}

/// Query parameters; rejections are 422.
pub struct QueryParams<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(QueryParams(value)),
            Err(rejection) => Err(reject(rejection.status(), &rejection.body_text(), "query")),
        }
    }
}

fn reject(status: StatusCode, text: &str, loc: &str) -> ApiError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::new(status, "Request body too large");
    }
    ApiError::validation(
        &[loc],
        text.lines().next().unwrap_or("invalid request").to_owned(),
    )
}
