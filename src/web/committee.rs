//! The case page's "Comité" section: adding and removing members, the
//! declaration of impartiality (sign or withdraw), and the opening of the
//! offers. Each form posts here, then returns to the case page.

use axum::Form;
use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;

use super::respond::{form_user, refused, see_other};
use super::session::Session;
use crate::committee::{MemberRole, Person};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct MemberForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    role: String,
    csrf: Option<String>,
}

pub async fn add_member(
    State(state): State<AppState>,
    session: Session,
    Path(case_id): Path<String>,
    Form(form): Form<MemberForm>,
) -> Response {
    let back = format!("/dossiers/{case_id}");
    let user = match form_user(&session, form.csrf.as_deref(), &back) {
        Ok(user) => user,
        Err(refusal) => return *refusal,
    };
    let Some(role) = MemberRole::parse(form.role.trim()) else {
        return refused(
            &session,
            &crate::error::invalid_field(
                "role",
                crate::error::FieldRule::InputOneOf(vec!["evaluator", "observer"]),
            ),
            &back,
        );
    };
    let person = Person::Name(form.username.trim().to_owned());
    match crate::committee::add_member(&state.db, &user, &case_id, person, role).await {
        Ok(_) => see_other(&format!("{back}?ok=membre#comite")),
        Err(e) => refused(&session, &e, &back),
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: Option<String>,
}

pub async fn remove_member(
    State(state): State<AppState>,
    session: Session,
    Path((case_id, user_id)): Path<(String, i32)>,
    Form(form): Form<CsrfForm>,
) -> Response {
    let back = format!("/dossiers/{case_id}");
    let user = match form_user(&session, form.csrf.as_deref(), &back) {
        Ok(user) => user,
        Err(refusal) => return *refusal,
    };
    let leaving = user.id == user_id;
    match crate::committee::remove_member(&state.db, &user, &case_id, user_id).await {
        // Whoever leaves a committee no longer sees the case.
        Ok(()) if leaving => see_other("/dossiers"),
        Ok(()) => see_other(&format!("{back}?ok=retire#comite")),
        Err(e) => refused(&session, &e, &back),
    }
}

#[derive(Deserialize)]
pub struct DeclarationForm {
    /// `signer` signs the declaration; anything else refuses it (withdraws).
    #[serde(default)]
    choice: String,
    csrf: Option<String>,
}

pub async fn declare(
    State(state): State<AppState>,
    session: Session,
    Path(case_id): Path<String>,
    Form(form): Form<DeclarationForm>,
) -> Response {
    let back = format!("/dossiers/{case_id}");
    let user = match form_user(&session, form.csrf.as_deref(), &back) {
        Ok(user) => user,
        Err(refusal) => return *refusal,
    };
    let accept = form.choice == "signer";
    match crate::committee::declare(&state.db, &user, &case_id, accept).await {
        Ok(_) if accept => see_other(&format!("{back}?ok=declaration#comite")),
        Ok(_) => see_other("/dossiers"),
        Err(e) => refused(&session, &e, &back),
    }
}

#[derive(Deserialize)]
pub struct OpeningForm {
    /// The committee members present, by user id (checkboxes).
    #[serde(default)]
    present: Vec<i32>,
    csrf: Option<String>,
}

pub async fn open(
    State(state): State<AppState>,
    session: Session,
    Path(case_id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let back = format!("/dossiers/{case_id}");
    // Several `present` fields: parsed by hand (serde_urlencoded takes one).
    let mut form = OpeningForm {
        present: Vec::new(),
        csrf: None,
    };
    for (k, v) in url_pairs(&body) {
        match k.as_str() {
            "present" => {
                if let Ok(id) = v.parse() {
                    form.present.push(id);
                }
            }
            "csrf" => form.csrf = Some(v),
            _ => {}
        }
    }
    let user = match form_user(&session, form.csrf.as_deref(), &back) {
        Ok(user) => user,
        Err(refusal) => return *refusal,
    };
    match crate::committee::open(&state.db, &user, &case_id, &form.present).await {
        Ok(_) => see_other(&format!("{back}?ok=ouverture#comite")),
        Err(e) => refused(&session, &e, &back),
    }
}

/// The pairs of a URL-encoded form body.
fn url_pairs(body: &[u8]) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body).unwrap_or_default()
}
