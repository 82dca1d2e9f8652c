//! Signing in and out: the home page's redirect, the sign-in form, and the
//! session cookie (the API's own token) it sets and sign-out removes.

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

use super::render;
use super::respond::{CsrfOnly, csrf_refused, refused, see_other};
use super::session::{SESSION_COOKIE, Session, set_cookie};
use crate::Error;
use crate::state::AppState;

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
    let lang = session.lang;
    if session.user.is_some() {
        return see_other("/dossiers");
    }
    let notice = if q.expiree.is_some() {
        Some(lang.text("login.expired"))
    } else if q.sortie.is_some() {
        Some(lang.text("login.signed_out"))
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
    // The seeded administrator, still with the password everyone knows,
    // changes it before anything else: no session until then.
    if (form.username.as_str(), form.password.as_str()) == crate::auth::SEEDED_ADMIN {
        return match crate::http::sign_in::check_password(
            &state,
            &form.username,
            &form.password,
            session.client_ip,
        )
        .await
        {
            Ok(()) => password_form(&session, StatusCode::OK, &form.username, None),
            Err(e) => sign_in_refused(&session, &e, &form.username),
        };
    }
    match crate::http::sign_in::sign_in(&state, &form.username, &form.password, session.client_ip)
        .await
    {
        Ok(token) => signed_in(&state, &session, &token),
        Err(e) => sign_in_refused(&session, &e, &form.username),
    }
}

/// The answer to a refused sign-in, in words.
fn sign_in_refused(session: &Session, e: &Error, username: &str) -> Response {
    let lang = session.lang;
    let failed = |status: StatusCode, message: &str| {
        render::page(
            session,
            status,
            "login.html",
            json!({"error": message, "username": username}),
        )
    };
    match e {
        Error::RateLimited { .. } => failed(StatusCode::TOO_MANY_REQUESTS, lang.text("error.rate")),
        Error::Refused(crate::error::Refusal::BadCredentials) => {
            failed(StatusCode::UNAUTHORIZED, lang.text("login.failed"))
        }
        _ => refused(
            session,
            &Error::Unavailable("sign-in failed".into()),
            "/connexion",
        ),
    }
}

/// Signed in: the session cookie, then the case list.
fn signed_in(state: &AppState, session: &Session, token: &str) -> Response {
    let mut response = see_other("/dossiers");
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(
            SESSION_COOKIE,
            token,
            Some(state.keys.lifetime().as_secs()),
            session.https,
        ),
    );
    response
}

fn password_form(
    session: &Session,
    status: StatusCode,
    username: &str,
    error: Option<&str>,
) -> Response {
    render::page(
        session,
        status,
        "password.html",
        json!({"username": username, "error": error}),
    )
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    current: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm: String,
    csrf: Option<String>,
}

/// The seeded administrator's new password: checked, set (which ends every
/// session of the account), then signed in with it.
pub async fn change_seeded_password(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<PasswordForm>,
) -> Response {
    let lang = session.lang;
    if !session.csrf.accepts(form.csrf.as_deref()) {
        return csrf_refused(&session, "/connexion");
    }
    let again = |message: &str| {
        password_form(
            &session,
            StatusCode::UNPROCESSABLE_ENTITY,
            &form.username,
            Some(message),
        )
    };
    if form.new_password != form.confirm {
        return again(lang.text("password.mismatch"));
    }
    if form.new_password == crate::auth::SEEDED_ADMIN.1 {
        return again(lang.text("password.same"));
    }
    if form.new_password.chars().count() < 8 {
        return again(lang.text("password.short"));
    }
    if let Err(e) = crate::http::sign_in::check_password(
        &state,
        &form.username,
        &form.current,
        session.client_ip,
    )
    .await
    {
        return sign_in_refused(&session, &e, &form.username);
    }
    if let Err(e) = crate::auth::set_password(&state.db, &form.username, &form.new_password).await {
        return refused(&session, &e, "/connexion");
    }
    match crate::http::sign_in::sign_in(
        &state,
        &form.username,
        &form.new_password,
        session.client_ip,
    )
    .await
    {
        Ok(token) => signed_in(&state, &session, &token),
        Err(e) => sign_in_refused(&session, &e, &form.username),
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
