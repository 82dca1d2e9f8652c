//! The header's language switch ("FR | EN"): a form posted with its CSRF
//! token, that stores the choice on the account when signed in (it then
//! follows the account to any browser) and in a cookie otherwise, then
//! goes back to the page it came from.

use axum::Form;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::Response;
use serde::Deserialize;

use super::i18n::Lang;
use super::respond::{csrf_refused, refused, refused_with, see_other};
use super::session::{Session, lang_cookie};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct SwitchForm {
    #[serde(default)]
    lang: String,
    #[serde(default)]
    back: String,
    csrf: Option<String>,
}

/// Where to go back: a page of this server only (a path, never another
/// site: `//host` and `/\host` are other sites to a browser).
fn local_path(back: &str) -> &str {
    let is_local = back.starts_with('/')
        && !back.starts_with("//")
        && !back.starts_with("/\\")
        && !back.chars().any(char::is_control);
    if is_local { back } else { "/" }
}

pub async fn switch(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<SwitchForm>,
) -> Response {
    let back = local_path(&form.back).to_owned();
    if !session.csrf.accepts(form.csrf.as_deref()) {
        return csrf_refused(&session, &back);
    }
    let Some(lang) = Lang::from_tag(&form.lang) else {
        return refused_with(
            &session,
            StatusCode::UNPROCESSABLE_ENTITY,
            session.lang.text("lang.unknown"),
            &back,
        );
    };
    let mut response = see_other(&back);
    match &session.user {
        Some(user) => {
            if let Err(e) = crate::auth::set_language(&state.db, user.id, lang.tag()).await {
                return refused(&session, &e, &back);
            }
        }
        None => {
            response
                .headers_mut()
                .append(header::SET_COOKIE, lang_cookie(lang, session.https));
        }
    }
    session.finish(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_this_server_s_pages_are_gone_back_to() {
        assert_eq!(local_path("/dossiers?page=2"), "/dossiers?page=2");
        assert_eq!(local_path("//evil.example/"), "/");
        assert_eq!(local_path("/\\evil.example/"), "/");
        assert_eq!(local_path("https://evil.example/"), "/");
        assert_eq!(local_path(""), "/");
    }
}
