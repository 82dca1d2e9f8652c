//! Uploads from the case page: the DAO, offers (supplier, type, lot) and
//! templates, through the same services as the API.
//!
//! The form works without JavaScript (a plain multipart POST answered by a
//! redirect or a refusal page); `upload.js` sends the same form with
//! `Accept: application/json` to show a progress bar per file, and gets
//! `{"ok": bool, "message": "..."}` with the refusal said in French.
//!
//! The CSRF field must come before the file in the body (the form puts it
//! first): no byte of a file is stored for a request that is not ours.

use std::collections::HashMap;

use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

use super::respond::{refused, refused_with, script_answer, script_refusal, wants_json};
use super::session::{CSRF_FIELD, Session};
use crate::Error;
use crate::error::{FieldRule, Refusal as ServiceRefusal};
use crate::http::multipart::{FormError, UploadForm, read_upload_form};
use crate::state::AppState;
use crate::uploads::{Kind, MAX_FILE_BYTES, OfferInfo, Upload};

/// Largest text field of an upload form.
const MAX_FIELD_BYTES: usize = 16 * 1024;

/// Why an upload did not go through.
enum Refusal {
    Csrf,
    Service(Error),
}

impl From<Error> for Refusal {
    fn from(e: Error) -> Self {
        Refusal::Service(e)
    }
}

fn too_large() -> Error {
    ServiceRefusal::BodyTooLarge.into()
}

fn malformed(reason: impl std::fmt::Display) -> Error {
    ServiceRefusal::Multipart {
        reason: reason.to_string(),
    }
    .into()
}

pub async fn upload(
    State(state): State<AppState>,
    session: Session,
    Path((case_id, kind)): Path<(String, String)>,
    headers: HeaderMap,
    multipart: Multipart,
) -> Response {
    let lang = session.lang;
    let json = wants_json(&headers);
    let back = format!("/dossiers/{case_id}#documents");
    let Some(user) = session.user.clone() else {
        if json {
            return script_answer(StatusCode::UNAUTHORIZED, lang.text("login.expired"), None);
        }
        return Redirect::to("/connexion?expiree=1").into_response();
    };
    let result = receive_and_store(&state, &session, &user, &case_id, &kind, multipart).await;
    match (result, json) {
        (Ok(filename), true) => script_answer(
            StatusCode::OK,
            &format!("{} {filename}", lang.text("case.uploaded")),
            None,
        ),
        (Ok(_), false) => {
            Redirect::to(&format!("/dossiers/{case_id}?ok=fichier#documents")).into_response()
        }
        (Err(Refusal::Csrf), true) => {
            script_answer(StatusCode::FORBIDDEN, lang.text("error.csrf"), None)
        }
        (Err(Refusal::Csrf), false) => refused_with(
            &session,
            StatusCode::FORBIDDEN,
            lang.text("error.csrf"),
            &back,
        ),
        (Err(Refusal::Service(e)), true) => script_refusal(lang, &e),
        (Err(Refusal::Service(e)), false) => refused(&session, &e, &back),
    }
}

/// Checks, receives and stores one upload; returns the client's file name.
async fn receive_and_store(
    state: &AppState,
    session: &Session,
    user: &crate::auth::User,
    case_id: &str,
    kind: &str,
    multipart: Multipart,
) -> Result<String, Refusal> {
    let kind = Kind::parse(kind).ok_or_else(|| {
        Error::from(ServiceRefusal::UploadKind {
            kind: kind.to_owned(),
        })
    })?;
    state.limits.upload(user.id).await.map_err(|e| match e {
        Error::RateLimited { .. } => Error::from(ServiceRefusal::UploadRate),
        other => other,
    })?;
    crate::uploads::precheck(&state.db, user, case_id, kind).await?;
    // The CSRF token must come before the file (the page's form sends it
    // first): checked before a byte is stored, and again once the form is
    // read (a form without a file).
    let csrf_ok = |fields: &HashMap<String, String>| {
        session
            .csrf
            .accepts(fields.get(CSRF_FIELD).map(String::as_str))
    };
    let UploadForm { fields, file } = read_upload_form(
        &state.data,
        multipart,
        MAX_FIELD_BYTES,
        MAX_FILE_BYTES,
        |fields| {
            if csrf_ok(fields) {
                Ok(())
            } else {
                Err(Refusal::Csrf)
            }
        },
    )
    .await
    .map_err(|e| match e {
        FormError::Body(reason) => malformed(reason).into(),
        FormError::SecondFile => Error::from(ServiceRefusal::OneFilePerRequest).into(),
        FormError::FileTooLarge => too_large().into(),
        FormError::FieldTooLarge => Error::from(ServiceRefusal::FieldTooLarge).into(),
        FormError::FieldNotUtf8 => malformed("a field is not UTF-8").into(),
        FormError::FileRefused(refusal) => refusal,
        FormError::Error(e) => e.into(),
    })?;
    if !csrf_ok(&fields) {
        return Err(Refusal::Csrf);
    }
    let Some((client_filename, body)) = file else {
        return Err(crate::error::invalid_field("file", FieldRule::NoFile).into());
    };
    let offer = match kind {
        Kind::Offer => Some(OfferInfo::new(
            fields.get("supplier_name").map_or("", String::as_str),
            fields.get("offer_type").map_or("", String::as_str),
            fields.get("lot_id").cloned(),
        )?),
        _ => None,
    };
    crate::uploads::store(
        &state.db,
        &state.data,
        user,
        Upload {
            case_id: case_id.to_owned(),
            kind,
            client_filename: client_filename.clone(),
            offer,
            body,
            replaces: None,
        },
    )
    .await?;
    Ok(client_filename)
}

#[derive(serde::Deserialize)]
pub struct WithdrawForm {
    #[serde(default)]
    reason: String,
    csrf: Option<String>,
}

/// Withdraws an uploaded document of the case (kept in its history with
/// the reason given); a new one may then be uploaded in its place.
pub async fn withdraw(
    State(state): State<AppState>,
    session: Session,
    Path((case_id, artifact_id)): Path<(String, String)>,
    axum::Form(form): axum::Form<WithdrawForm>,
) -> Response {
    let back = format!("/dossiers/{case_id}");
    let user = match super::respond::form_user(&session, form.csrf.as_deref(), &back) {
        Ok(user) => user,
        Err(refusal) => return *refusal,
    };
    match crate::uploads::withdraw::withdraw(&state.db, &user, &case_id, &artifact_id, &form.reason)
        .await
    {
        Ok(_) => super::respond::see_other(&format!("{back}?ok=retrait#documents")),
        Err(e) => refused(&session, &e, &back),
    }
}
