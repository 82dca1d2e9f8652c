//! How the pages answer: a redirect after a form (POST, then redirect, then
//! GET: a reload never posts twice), a page that says why an action was
//! refused, or, for the pages' scripts, `{"ok": bool, "message": "..."}`.
//! A refusal is always said, never dropped.

use axum::Json;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;

use super::i18n::{Lang, explain};
use super::render;
use super::session::Session;
use crate::Error;
use crate::auth::User;

/// A form that carries nothing but its CSRF token.
#[derive(Deserialize)]
pub struct CsrfOnly {
    pub csrf: Option<String>,
}

/// The HTTP status of a service's refusal: the API's, from the one
/// function both front-ends use.
pub fn status_of(e: &Error) -> StatusCode {
    StatusCode::from_u16(e.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// Logs a server fault (never shown: the page gives the request id).
fn log_fault(e: &Error) {
    if status_of(e).is_server_error() {
        tracing::error!(
            request_id = crate::http::request::current_id().as_deref().unwrap_or("-"),
            cause = %e,
            "web page failed"
        );
    }
}

/// What the user is told of `e` in `lang`: the refusal, or for a server
/// fault, only that it happened and the request's id (logged, see above).
pub fn said(lang: Lang, e: &Error) -> String {
    log_fault(e);
    if status_of(e) == StatusCode::INTERNAL_SERVER_ERROR {
        format!(
            "{} {}",
            lang.text("error.server"),
            crate::http::request::current_id().unwrap_or_default()
        )
    } else {
        explain(lang, e)
    }
}

/// The error page for `e`, shown without a session (the session could
/// not be read, so neither could the account's language: French).
pub fn failure(e: &Error) -> Response {
    log_fault(e);
    let html = format!(
        "<!doctype html><html lang=\"fr\"><meta charset=\"utf-8\"><title>DMS</title><p>{}</p>",
        Lang::Fr.text("error.unavailable")
    );
    render::html_response(status_of(e), html)
}

impl axum::response::IntoResponse for super::session::SessionUnavailable {
    fn into_response(self) -> Response {
        failure(&self.0)
    }
}

/// The page saying that an action was refused, why, and where to go back.
pub fn refused(session: &Session, e: &Error, back: &str) -> Response {
    refused_with(session, status_of(e), &said(session.lang, e), back)
}

/// The refusal page with a message already in words.
pub fn refused_with(session: &Session, status: StatusCode, message: &str, back: &str) -> Response {
    render::page(
        session,
        status,
        "error.html",
        json!({"message": message, "back": back}),
    )
}

/// The refusal of a form whose CSRF token is missing or wrong.
pub fn csrf_refused(session: &Session, back: &str) -> Response {
    refused_with(
        session,
        StatusCode::FORBIDDEN,
        session.lang.text("error.csrf"),
        back,
    )
}

/// The user posting a form, or the answer refusing it: the sign-in page
/// without a session, a refusal without the right CSRF token.
pub fn form_user(session: &Session, csrf: Option<&str>, back: &str) -> Result<User, Box<Response>> {
    let Some(user) = session.user.clone() else {
        return Err(Box::new(session.to_sign_in()));
    };
    if !session.csrf.accepts(csrf) {
        return Err(Box::new(csrf_refused(session, back)));
    }
    Ok(user)
}

pub fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// Whether the client is one of the pages' scripts (wants JSON, not a page).
pub fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"))
}

/// The answer to a page's script: whether it went through, in words, and
/// where to go next when it did.
pub fn script_answer(status: StatusCode, message: &str, next: Option<&str>) -> Response {
    let body = json!({"ok": status.is_success(), "message": message, "next": next});
    (status, Json(body)).into_response()
}

/// A service's refusal, said to a page's script in `lang`.
pub fn script_refusal(lang: Lang, e: &Error) -> Response {
    script_answer(status_of(e), &said(lang, e), None)
}
