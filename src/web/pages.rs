//! The pages of the committee's flow: signing in and out, the case list,
//! creating a case, the case page (lots, files, decision, memory).
//!
//! Handlers extract the session and the form, call one service, and render
//! a page or redirect (POST, then redirect, then GET: a reload never posts
//! twice). A refusal is rendered as a page that says why, never dropped.

use std::collections::BTreeMap;
use std::str::FromStr;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{Value, json};

use super::i18n::{explain, text};
use super::render;
use super::session::{SESSION_COOKIE, Session, set_cookie};
use crate::Error;
use crate::auth::User;
use crate::case_index::{CaseQuery, search_cases};
use crate::cases::{NewCase, NewLot};
use crate::http::AppState;
use crate::memory::Decision;

/// The case types, in the order the form offers them.
const CASE_TYPES: [&str; 3] = ["DAO", "RFQ", "RFP"];

/// Cases per page of the list.
const PER_PAGE: u64 = 20;

/// The HTTP status of a service's refusal.
pub fn status_of(e: &Error) -> StatusCode {
    match e {
        Error::NotFound { .. } => StatusCode::NOT_FOUND,
        Error::Invalid(_) => StatusCode::BAD_REQUEST,
        Error::Validation { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        Error::Conflict(_) => StatusCode::CONFLICT,
        Error::Forbidden(_) => StatusCode::FORBIDDEN,
        Error::Unauthorized(_) => StatusCode::UNAUTHORIZED,
        Error::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
        Error::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
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

/// The error page for `e`, shown without a session (the session could
/// not be read).
pub fn failure(e: &Error) -> Response {
    log_fault(e);
    let html = format!(
        "<!doctype html><html lang=\"fr\"><meta charset=\"utf-8\"><title>DMS</title><p>{}</p>",
        text("error.unavailable")
    );
    render::html_response(status_of(e), html)
}

/// The page saying that an action was refused, why, and where to go back.
pub fn refused(session: &Session, e: &Error, back: &str) -> Response {
    log_fault(e);
    let message = if status_of(e) == StatusCode::INTERNAL_SERVER_ERROR {
        format!(
            "{} {}",
            text("error.server"),
            crate::http::request::current_id().unwrap_or_default()
        )
    } else {
        explain(e)
    };
    refused_with(session, status_of(e), &message, back)
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
    refused_with(session, StatusCode::FORBIDDEN, text("error.csrf"), back)
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

fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// `2026-11-25T13:51:43.123` as `25/11/2026 13:51` (as stored, UTC).
pub fn short_date(stored: &str) -> String {
    match crate::timestamp::parse(stored) {
        Ok(at) => at.format("%d/%m/%Y %H:%M").to_string(),
        Err(_) => stored.to_owned(),
    }
}

/// `1234567.5` as `1 234 567,50`.
pub fn amount(value: Decimal) -> String {
    let text = format!("{:.2}", value.round_dp(2));
    let (whole, cents) = text.split_once('.').unwrap_or((&text, "00"));
    let (sign, digits) = whole.strip_prefix('-').map_or(("", whole), |d| ("-", d));
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push('\u{a0}');
        }
        grouped.push(c);
    }
    format!("{sign}{grouped},{cents}")
}

/// A size in bytes as `1,2 Mo`.
fn megabytes(bytes: i64) -> String {
    format!("{:.1} Mo", bytes as f64 / 1_048_576.0).replace('.', ",")
}

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
    if state
        .limits
        .login(&form.username, &session.client_ip.to_string())
        .is_err()
    {
        return failed(StatusCode::TOO_MANY_REQUESTS, text("error.rate"));
    }
    match crate::auth::login(&state.db, &form.username, &form.password).await {
        Ok(user) => match state.keys.issue(user.id) {
            Ok(token) => {
                let mut response = see_other("/dossiers");
                response.headers_mut().append(
                    header::SET_COOKIE,
                    set_cookie(
                        SESSION_COOKIE,
                        &token,
                        Some(crate::token::DEFAULT_LIFETIME.as_secs()),
                        session.https,
                    ),
                );
                response
            }
            Err(e) => refused(&session, &e, "/connexion"),
        },
        Err(Error::Unauthorized(_)) => failed(StatusCode::UNAUTHORIZED, text("login.failed")),
        Err(e) => refused(&session, &e, "/connexion"),
    }
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    csrf: Option<String>,
}

pub async fn logout(session: Session, Form(form): Form<CsrfOnly>) -> Response {
    if !session.csrf.accepts(form.csrf.as_deref()) {
        return csrf_refused(&session, "/dossiers");
    }
    let mut response = see_other("/connexion?sortie=1");
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, "", Some(0), session.https),
    );
    response
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    q: Option<String>,
    statut: Option<String>,
    #[serde(rename = "type")]
    case_type: Option<String>,
    mine: Option<String>,
    page: Option<String>,
}

fn status_label(status: &str) -> String {
    i18n_or(&format!("status.{status}"), status)
}

fn i18n_or(key: &str, fallback: &str) -> String {
    super::i18n::lookup(key).unwrap_or(fallback).to_owned()
}

pub async fn case_list(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<ListQuery>,
) -> Response {
    let Some(user) = session.user.clone() else {
        return session.to_sign_in();
    };
    let page = q
        .page
        .as_deref()
        .and_then(|p| p.parse::<u64>().ok())
        .unwrap_or(1)
        .max(1);
    let mine = q.mine.as_deref().is_some_and(|m| !m.is_empty());
    let index = match search_cases(
        &state.db,
        CaseQuery {
            text: q.q.clone(),
            status: q.statut.clone(),
            case_type: q.case_type.clone(),
            owner_id: mine.then_some(user.id),
            page: page - 1,
            per_page: PER_PAGE,
        },
    )
    .await
    {
        Ok(index) => index,
        Err(e) => return refused(&session, &e, "/dossiers"),
    };
    let rows: Vec<Value> = index
        .rows
        .iter()
        .map(|r| {
            json!({
                "id": r.case.id,
                "reference": r.ref_number,
                "title": r.case.title,
                "case_type": r.case.case_type,
                "status": status_label(&r.case.status),
                "created": short_date(&r.case.created_at),
                "closing": r.case.closing_date.as_deref().map(short_date),
                "mine": r.case.owner_id == Some(user.id),
            })
        })
        .collect();
    let pages = index.total.div_ceil(PER_PAGE).max(1);
    // The filters, repeated in the links to the other pages.
    let mut filters = Vec::new();
    for (name, value) in [
        ("q", &q.q),
        ("statut", &q.statut),
        ("type", &q.case_type),
        ("mine", &q.mine),
    ] {
        if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
            filters.push(format!("{name}={}", url_encode(v)));
        }
    }
    let link = |p: u64| {
        let mut parts = filters.clone();
        parts.push(format!("page={p}"));
        format!("/dossiers?{}", parts.join("&"))
    };
    render::page(
        &session,
        StatusCode::OK,
        "cases.html",
        json!({
            "rows": rows,
            "total": index.total,
            "page": page,
            "pages": pages,
            "previous": (page > 1).then(|| link(page - 1)),
            "next": (page < pages).then(|| link(page + 1)),
            "q": q.q.unwrap_or_default(),
            "statut": q.statut.unwrap_or_default(),
            "case_type": q.case_type.unwrap_or_default(),
            "mine": mine,
            "statuses": (["open", "analyzed", "decided", "closed"].map(|s| json!({"value": s, "label": status_label(s)}))),
            "types": CASE_TYPES,
        }),
    )
}

/// Percent-encodes a query value (everything but unreserved characters).
fn url_encode(value: &str) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

async fn new_case_form(
    state: &AppState,
    session: &Session,
    status: StatusCode,
    error: Option<String>,
    values: Value,
) -> Response {
    let options = match crate::case_index::form_options(&state.db).await {
        Ok(o) => o,
        Err(e) => return refused(session, &e, "/dossiers"),
    };
    let thresholds: Vec<Value> = options
        .thresholds
        .iter()
        .map(|t| {
            json!({
                "procedure": t.procedure_type,
                "from": amount(t.min_amount_usd),
                "to": t.max_amount_usd.map(amount),
                "min_suppliers": t.min_suppliers,
                "description": t.description_fr,
            })
        })
        .collect();
    render::page(
        session,
        status,
        "new_case.html",
        json!({
            "error": error,
            "values": values,
            "types": CASE_TYPES.map(|t| json!({"value": t, "label": text(&format!("new.type.{t}"))})),
            "categories": options.categories.iter().map(|c| json!({"code": c.code, "label": c.name_fr})).collect::<Vec<_>>(),
            "purchase_categories": options.purchase_categories.iter().map(|c| json!({"code": c.code, "label": c.label})).collect::<Vec<_>>(),
            "thresholds": thresholds,
        }),
    )
}

pub async fn new_case(State(state): State<AppState>, session: Session) -> Response {
    let Some(user) = session.user.clone() else {
        return session.to_sign_in();
    };
    if !user.can_create_cases() {
        return refused_with(
            &session,
            StatusCode::FORBIDDEN,
            text("new.forbidden"),
            "/dossiers",
        );
    }
    new_case_form(&state, &session, StatusCode::OK, None, json!({})).await
}

#[derive(Deserialize, serde::Serialize)]
pub struct CaseForm {
    #[serde(default)]
    case_type: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    estimated_value: String,
    #[serde(default)]
    closing_date: String,
    #[serde(default)]
    category_code: String,
    #[serde(default)]
    purchase_category_code: String,
    #[serde(default, skip_serializing)]
    csrf: Option<String>,
}

/// A value typed by a person: spaces and a decimal comma are accepted.
fn parse_amount(text: &str) -> Result<Option<Decimal>, Error> {
    let cleaned: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{a0}' && *c != '\u{202f}')
        .map(|c| if c == ',' { '.' } else { c })
        .collect();
    if cleaned.is_empty() {
        return Ok(None);
    }
    Decimal::from_str(&cleaned).map(Some).map_err(|_| {
        crate::auth::invalid_field("estimated_value", "un nombre est attendu (ex. 12 500 000)")
    })
}

fn optional(text: &str) -> Option<String> {
    Some(text.trim().to_owned()).filter(|t| !t.is_empty())
}

pub async fn create_case(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<CaseForm>,
) -> Response {
    let user = match form_user(&session, form.csrf.as_deref(), "/dossiers/nouveau") {
        Ok(user) => user,
        Err(refusal) => return *refusal,
    };
    let values = json!(form);
    let again = |e: Error| {
        log_fault(&e);
        let status = status_of(&e);
        let message = explain(&e);
        let (state, session, values) = (state.clone(), session.clone(), values.clone());
        async move { new_case_form(&state, &session, status, Some(message), values).await }
    };
    let estimated_value = match parse_amount(&form.estimated_value) {
        Ok(v) => v,
        Err(e) => return again(e).await,
    };
    if let Err(e) = state.limits.create_case(user.id) {
        return refused_with(
            &session,
            e.status(),
            text("error.rate"),
            "/dossiers/nouveau",
        );
    }
    match crate::cases::create_case(
        &state.db,
        &user,
        NewCase {
            case_type: form.case_type,
            title: form.title,
            lot: None,
            estimated_value,
            closing_date: optional(&form.closing_date),
            procedure_type: None,
            category_code: optional(&form.category_code),
            purchase_category_code: optional(&form.purchase_category_code),
        },
    )
    .await
    {
        Ok(created) => see_other(&format!("/dossiers/{}?ok=cree", created.case.id)),
        Err(e) => again(e).await,
    }
}

#[derive(Deserialize, Default)]
pub struct CaseQueryParams {
    q: Option<String>,
    ok: Option<String>,
}

/// The offers of a case grouped by supplier, from the files' records.
fn offers_by_supplier(file: &crate::cases::CaseFile, lots: &[entity::lots::Model]) -> Vec<Value> {
    let mut groups: BTreeMap<String, (String, Vec<Value>)> = BTreeMap::new();
    for a in file.artifacts.iter().filter(|a| a.kind == "offer") {
        let meta: Value = a
            .meta_json
            .as_deref()
            .and_then(|m| serde_json::from_str(m).ok())
            .unwrap_or(Value::Null);
        let supplier = meta["supplier_name"].as_str().unwrap_or("").to_owned();
        let offer_type = meta["offer_type"].as_str().unwrap_or("");
        let lot = meta["lot_id"]
            .as_str()
            .and_then(|id| lots.iter().find(|l| l.id == id))
            .map(|l| l.lot_number.clone());
        let piece = json!({
            "type": if offer_type.is_empty() { String::new() } else { i18n_or(&format!("case.offer_type.{offer_type}"), offer_type) },
            "filename": meta["original_filename"].as_str().unwrap_or(&a.filename),
            "lot": lot,
            "late": meta["is_late"].as_bool().unwrap_or(false),
            "at": short_date(&a.uploaded_at),
        });
        let key = supplier.to_lowercase();
        groups
            .entry(key)
            .or_insert_with(|| (supplier.clone(), Vec::new()))
            .1
            .push(piece);
    }
    groups
        .into_values()
        .map(|(name, pieces)| json!({"supplier": name, "pieces": pieces}))
        .collect()
}

/// A memory entry as the timeline shows it.
fn timeline_entry(e: &crate::memory::Entry) -> Value {
    let fields: Vec<Value> = match &e.content {
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| {
                let value = match v {
                    Value::String(s) if k.ends_with("_at") => short_date(s),
                    Value::String(s) => s.clone(),
                    Value::Bool(true) => "oui".into(),
                    Value::Bool(false) => "non".into(),
                    other => other.to_string(),
                };
                json!({"label": i18n_or(&format!("memory.{k}"), k), "value": value})
            })
            .collect(),
        Value::Null => Vec::new(),
        other => vec![json!({"label": "", "value": other.to_string()})],
    };
    json!({
        "type": i18n_or(&format!("memory.{}", e.entry_type), &e.entry_type),
        "kind": e.entry_type,
        "at": short_date(&e.created_at),
        "fields": fields,
    })
}

pub async fn case_page(
    State(state): State<AppState>,
    session: Session,
    Path(case_id): Path<String>,
    Query(q): Query<CaseQueryParams>,
) -> Response {
    let Some(user) = session.user.clone() else {
        return session.to_sign_in();
    };
    match case_data(&state, &user, &case_id, q).await {
        Ok(data) => render::page(&session, StatusCode::OK, "case.html", data),
        Err(e) => refused(&session, &e, "/dossiers"),
    }
}

async fn case_data(
    state: &AppState,
    user: &User,
    case_id: &str,
    q: CaseQueryParams,
) -> Result<Value, Error> {
    let file = crate::cases::load_case_file(&state.db, case_id).await?;
    let case = &file.case;
    let can_write = user.check_can_write(case.owner_id).is_ok();
    let search = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let memory: Vec<crate::memory::Entry> = match search {
        Some(text) => crate::memory::search(&state.db, case_id, text).await?,
        None => file
            .memory_entries
            .iter()
            .rev()
            .cloned()
            .map(crate::memory::Entry::from)
            .collect(),
    };
    let procedure = match case.estimated_value {
        Some(v) => crate::cases::procedure_for(&state.db, v).await?,
        None => None,
    };
    let dao = file
        .artifacts
        .iter()
        .find(|a| a.kind == "dao")
        .map(|a| json!({"filename": a.filename, "at": short_date(&a.uploaded_at)}));
    let templates: Vec<Value> = file
        .artifacts
        .iter()
        .filter(|a| a.kind == "cba_template" || a.kind == "pv_template")
        .map(|a| {
            json!({
                "label": text(&format!("case.{}", a.kind)),
                "filename": a.filename,
                "at": short_date(&a.uploaded_at),
            })
        })
        .collect();
    let suppliers = offers_by_supplier(&file, &file.lots);
    let supplier_names: Vec<&Value> = suppliers
        .iter()
        .map(|s| &s["supplier"])
        .filter(|s| s.as_str().is_some_and(|s| !s.is_empty()))
        .collect();
    let flash = match q.ok.as_deref() {
        Some("cree") => None, // shown with the reference below
        Some("lot") => Some(text("case.lot_saved")),
        Some("decision") => Some(text("case.decision_saved")),
        Some("analyse") => Some(text("case.analysis_done")),
        Some("fichier") => Some(text("upload.done")),
        _ => None,
    };
    Ok(json!({
        "id": case.id,
        "title": case.title,
        "reference": file.reference.as_ref().map(|r| &r.ref_number),
        "created_now": q.ok.as_deref() == Some("cree"),
        "flash": flash,
        "status": status_label(&case.status),
        "case_type": case.case_type,
        "value": case.estimated_value.map(|v| format!("{} USD", amount(v))),
        "procedure": procedure.map(|p| json!({"type": p.procedure_type, "min_suppliers": p.min_suppliers, "description": p.description_fr})),
        "closing": case.closing_date.as_deref().map(short_date),
        "created": short_date(&case.created_at),
        "mine": case.owner_id == Some(user.id),
        "can_write": can_write,
        "lots": file.lots.iter().map(|l| json!({"id": l.id, "number": l.lot_number, "description": l.description})).collect::<Vec<_>>(),
        "dao": dao,
        "templates": templates,
        "suppliers": suppliers,
        "supplier_names": supplier_names,
        "offer_types": crate::uploads::OFFER_TYPES.map(|t| json!({"value": t, "label": text(&format!("case.offer_type.{t}"))})),
        "used": megabytes(case.total_upload_size.unwrap_or(0)),
        "memory": memory.iter().map(timeline_entry).collect::<Vec<_>>(),
        "search": search,
    }))
}

#[derive(Deserialize)]
pub struct LotForm {
    #[serde(default)]
    lot_number: String,
    #[serde(default)]
    description: String,
    csrf: Option<String>,
}

pub async fn add_lot(
    State(state): State<AppState>,
    session: Session,
    Path(case_id): Path<String>,
    Form(form): Form<LotForm>,
) -> Response {
    let back = format!("/dossiers/{case_id}");
    let user = match form_user(&session, form.csrf.as_deref(), &back) {
        Ok(user) => user,
        Err(refusal) => return *refusal,
    };
    match crate::cases::create_lot(
        &state.db,
        &user,
        &case_id,
        NewLot {
            lot_number: form.lot_number,
            description: optional(&form.description),
            estimated_value: None,
            category_code: None,
        },
    )
    .await
    {
        Ok(_) => see_other(&format!("{back}?ok=lot#lots")),
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

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: Option<String>,
}

/// Runs the analysis of the case, then shows its page again.
pub async fn analyse(
    State(state): State<AppState>,
    session: Session,
    Path(case_id): Path<String>,
    Form(form): Form<CsrfForm>,
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

/// The latest CBA or PV of the case, for a signed-in reader.
pub async fn download(
    State(state): State<AppState>,
    session: Session,
    Path((case_id, kind)): Path<(String, String)>,
    headers: axum::http::HeaderMap,
) -> Response {
    let back = format!("/dossiers/{case_id}");
    if session.user.is_none() {
        return session.to_sign_in();
    }
    if kind != crate::analysis::OUTPUT_CBA && kind != crate::analysis::OUTPUT_PV {
        return refused_with(&session, StatusCode::NOT_FOUND, "Document inconnu", &back);
    }
    match crate::analysis::download(&state.db, &state.data, &case_id, &kind).await {
        Ok((artifact, path)) => {
            match crate::http::files::send_file(&artifact, &path, &headers).await {
                Ok(response) => response,
                Err(e) => refused(&session, &e, &back),
            }
        }
        Err(e) => refused(&session, &e, &back),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_grouped_the_french_way() {
        assert_eq!(amount(Decimal::new(123456750, 2)), "1\u{a0}234\u{a0}567,50");
        assert_eq!(amount(Decimal::from(500)), "500,00");
        assert_eq!(
            parse_amount("12 500,5").ok().flatten(),
            Some(Decimal::new(125005, 1))
        );
        assert!(parse_amount("douze").is_err());
        assert_eq!(parse_amount(" ").ok().flatten(), None);
    }
}
