//! The analysis and the decision on the case page: running the analysis,
//! the CBA and PV downloads, and the committee's decision.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use super::respond::{CsrfOnly, form_user, refused, refused_with, see_other};
use super::session::Session;
use crate::analysis::{OUTPUT_CBA, OUTPUT_PV};
use crate::http::AppState;
use crate::http::files::send_file;
use crate::memory::Decision;

/// Runs the analysis of the case, then shows its page again.
pub async fn analyse(
    State(state): State<AppState>,
    session: Session,
    Path(case_id): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> Response {
    let back = format!("/dossiers/{case_id}");
    let user = match form_user(&session, form.csrf.as_deref(), &back) {
        Ok(user) => user,
        Err(refusal) => return *refusal,
    };
    match crate::analysis::analyze(&state.db, &state.data, &user, &case_id).await {
        Ok(_) => see_other(&format!("{back}?ok=analyse#analyse")),
        Err(e) => refused(&session, &e, &back),
    }
}

#[derive(Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    chosen_supplier: String,
    #[serde(default)]
    decision_reason: String,
    #[serde(default)]
    next_action: String,
    csrf: Option<String>,
}

pub async fn decide(
    State(state): State<AppState>,
    session: Session,
    Path(case_id): Path<String>,
    Form(form): Form<DecisionForm>,
) -> Response {
    let back = format!("/dossiers/{case_id}");
    let user = match form_user(&session, form.csrf.as_deref(), &back) {
        Ok(user) => user,
        Err(refusal) => return *refusal,
    };
    match crate::analysis::decide(
        &state.db,
        &state.data,
        &user,
        &case_id,
        Decision {
            chosen_supplier: form.chosen_supplier,
            decision_reason: form.decision_reason,
            next_action: form.next_action,
        },
    )
    .await
    {
        Ok(_) => see_other(&format!("{back}?ok=decision#memoire")),
        Err(e) => refused(&session, &e, &back),
    }
}

/// The latest CBA or PV of the case, for a signed-in reader.
pub async fn download(
    State(state): State<AppState>,
    session: Session,
    Path((case_id, kind)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let back = format!("/dossiers/{case_id}");
    if session.user.is_none() {
        return session.to_sign_in();
    }
    if kind != OUTPUT_CBA && kind != OUTPUT_PV {
        return refused_with(&session, StatusCode::NOT_FOUND, "Document inconnu", &back);
    }
    match crate::analysis::download(&state.db, &state.data, &case_id, &kind).await {
        Ok((artifact, path)) => match send_file(&artifact, &path, &headers).await {
            Ok(response) => response,
            Err(e) => refused(&session, &e, &back),
        },
        Err(e) => refused(&session, &e, &back),
    }
}
