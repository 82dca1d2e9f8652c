//! The administrator's page: every account, with its role and whether it
//! is active, changed one row at a time.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;

use super::render;
use super::respond::{form_user, refused, refused_with};
use super::session::Session;
use crate::auth::Role;
use crate::state::AppState;
use crate::users_admin::Change;

const BACK: &str = "/admin/utilisateurs";

/// The refusal for anyone but an administrator.
fn not_admin(session: &Session) -> Response {
    let lang = session.lang;
    refused_with(
        session,
        StatusCode::FORBIDDEN,
        lang.text("admin.forbidden"),
        "/dossiers",
    )
}

#[derive(Deserialize, Default)]
pub struct AdminQuery {
    ok: Option<String>,
}

pub async fn users_page(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<AdminQuery>,
) -> Response {
    let lang = session.lang;
    let Some(user) = session.user.clone() else {
        return session.to_sign_in();
    };
    if !user.is_admin() {
        return not_admin(&session);
    }
    let users = match crate::auth::list(&state.db).await {
        Ok(users) => users,
        Err(e) => return refused(&session, &e, "/dossiers"),
    };
    let rows: Vec<_> = users
        .iter()
        .map(|u| {
            json!({
                "id": u.id,
                "username": u.username,
                "email": u.email,
                "full_name": u.full_name,
                "role": u.role().name(),
                "is_active": u.is_active,
                "is_self": u.id == user.id,
            })
        })
        .collect();
    let roles: Vec<_> = Role::ALL
        .iter()
        .map(|r| json!({"value": r.name(), "label": lang.text(&format!("role.{}", r.name()))}))
        .collect();
    render::page(
        &session,
        StatusCode::OK,
        "admin.html",
        json!({"users": rows, "roles": roles, "saved": q.ok.is_some()}),
    )
}

#[derive(Deserialize)]
pub struct UserForm {
    #[serde(default)]
    role: String,
    /// A checkbox: present when ticked.
    is_active: Option<String>,
    csrf: Option<String>,
}

pub async fn update_user(
    State(state): State<AppState>,
    session: Session,
    Path(user_id): Path<i32>,
    Form(form): Form<UserForm>,
) -> Response {
    let user = match form_user(&session, form.csrf.as_deref(), BACK) {
        Ok(user) => user,
        Err(refusal) => return *refusal,
    };
    if !user.is_admin() {
        return not_admin(&session);
    }
    let Some(role) = Role::parse(&form.role) else {
        return refused(
            &session,
            &crate::error::invalid_field(
                "role",
                crate::error::FieldRule::OneOf(vec!["admin", "procurement_officer", "viewer"]),
            ),
            BACK,
        );
    };
    let change = Change {
        role: Some(role),
        is_active: Some(form.is_active.is_some()),
    };
    match crate::users_admin::update_user(&state.db, &user, user_id, change).await {
        Ok(_) => Redirect::to(&format!("{BACK}?ok=1")).into_response(),
        Err(e) => refused(&session, &e, BACK),
    }
}
