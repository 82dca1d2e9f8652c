//! Signing in and out: the home page's redirect, the sign-in form, and the
//! session cookie (the API's own token) it sets and sign-out removes.

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

use super::i18n::text;
use super::render;
use super::respond::{CsrfOnly, csrf_refused, refused, see_other};
use super::session::{SESSION_COOKIE, Session, set_cookie};
use crate::Error;
use crate::http::AppState;

pub async fn home(session: Session) -> Response {
    session.finish(match session.user {
        Some(_) => see_other("/dossiers"),
        None => see_other("/connexion"),
    })
}

#[derive(Deserialize, Default)]
pub struct LoginQuery {
    expiree: Option<String>,
    sortie: Option<String>,
}

pub async fn login_page(session: Session, Query(q): Query<LoginQuery>) -> Response {
    if session.user.is_some() {
        return see_other("/dossiers");
    }
    let notice = if q.expiree.is_some() {
        Some(text("login.expired"))
    } else if q.sortie.is_some() {
        Some(text("login.signed_out"))
    } else {
        None
    };
    render::page(
        &session,
        StatusCode::OK,
        "login.html",
        json!({"notice": notice, "username": ""}),
    )
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    csrf: Option<String>,
}

pub async fn login(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<LoginForm>,
) -> Response {
    if !session.csrf.accepts(form.csrf.as_deref()) {
        return csrf_refused(&session, "/connexion");
    }
    let failed = |status: StatusCode, message: &str| {
        render::page(
            &session,
            status,
            "login.html",
            json!({"error": message, "username": form.username}),
        )
    };
    match crate::http::limits::sign_in(&state, &form.username, &form.password, session.client_ip)
        .await
    {
        Ok(token) => {
            let mut response = see_other("/dossiers");
            response.headers_mut().append(
                header::SET_COOKIE,
                set_cookie(
                    SESSION_COOKIE,
                    &token,
                    Some(state.keys.lifetime().as_secs()),
                    session.https,
                ),
            );
            response
        }
        Err(e) if e.status() == StatusCode::TOO_MANY_REQUESTS => {
            failed(StatusCode::TOO_MANY_REQUESTS, text("error.rate"))
        }
        Err(e) if e.status() == StatusCode::UNAUTHORIZED => {
            failed(StatusCode::UNAUTHORIZED, text("login.failed"))
        }
        Err(_) => refused(
            &session,
            &Error::Unavailable("sign-in failed".into()),
            "/connexion",
        ),
    }
}

/// Signs out: the session ends on the server (a copy of the cookie's token
/// is refused from now on) and the cookie is removed.
pub async fn logout(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<CsrfOnly>,
) -> Response {
    if !session.csrf.accepts(form.csrf.as_deref()) {
        return csrf_refused(&session, "/dossiers");
    }
    if let Some(id) = &session.session_id
        && let Err(e) = crate::auth::close_session(&state.db, id).await
    {
        return refused(&session, &e, "/dossiers");
    }
    let mut response = see_other("/connexion?sortie=1");
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, "", Some(0), session.https),
    );
    response
}
