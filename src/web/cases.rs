//! The list of cases (search, filters, pages, "my cases") and the creation
//! of a case (type, title, value with the procedure the thresholds call
//! for, closing date, categories).

use std::str::FromStr;

use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{Value, json};

use super::format::{amount, optional, short_date, status_label, url_encode};
use super::i18n::Lang;
use super::render;
use super::respond::{form_user, refused, refused_with, said, see_other, status_of};
use super::session::Session;
use crate::Error;
use crate::case_index::{CaseQuery, search_cases};
use crate::cases::NewCase;
use crate::cases::{CASE_TYPES, DOCUMENT_LANGUAGES};
use crate::state::AppState;

/// Cases per page of the list.
const PER_PAGE: u64 = 20;

#[derive(Deserialize, Default)]
pub struct ListQuery {
    q: Option<String>,
    statut: Option<String>,
    #[serde(rename = "type")]
    case_type: Option<String>,
    mine: Option<String>,
    page: Option<String>,
}

pub async fn case_list(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<ListQuery>,
) -> Response {
    let lang = session.lang;
    let Some(user) = session.user.clone() else {
        return session.to_sign_in();
    };
    let page = match page_number(q.page.as_deref()) {
        Ok(page) => page,
        Err(e) => return refused(&session, &e, "/dossiers"),
    };
    let mine = q.mine.as_deref().is_some_and(|m| !m.is_empty());
    let index = match search_cases(
        &state.db,
        &user,
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
                "status": status_label(lang, &r.case.status),
                "created": short_date(lang, &r.case.created_at),
                "closing": r.case.closing_date.as_deref().map(|d| short_date(lang, d)),
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
            "statuses": (crate::cases::STATUSES.map(|s| json!({"value": s, "label": status_label(lang, s)}))),
            "types": CASE_TYPES,
        }),
    )
}

async fn new_case_form(
    state: &AppState,
    session: &Session,
    status: StatusCode,
    error: Option<String>,
    values: Value,
) -> Response {
    let lang = session.lang;
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
                "from": amount(lang, t.min_amount_usd),
                "to": t.max_amount_usd.map(|v| amount(lang, v)),
                "min_suppliers": t.min_suppliers,
                "description": match lang {
                    Lang::Fr => &t.description_fr,
                    Lang::En => &t.description_en,
                },
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
            "types": CASE_TYPES.map(|t| json!({"value": t, "label": lang.text(&format!("new.type.{t}"))})),
            // The documents' language is the page's unless chosen otherwise.
            "languages": DOCUMENT_LANGUAGES.map(|l| json!({"value": l, "label": lang.text(&format!("lang.name.{l}"))})),
            "default_language": DOCUMENT_LANGUAGES[0],
            "categories": options.categories.iter().map(|c| json!({"code": c.code, "label": c.name_fr})).collect::<Vec<_>>(),
            "purchase_categories": options.purchase_categories.iter().map(|c| json!({"code": c.code, "label": c.label})).collect::<Vec<_>>(),
            "thresholds": thresholds,
        }),
    )
}

pub async fn new_case(State(state): State<AppState>, session: Session) -> Response {
    let lang = session.lang;
    let Some(user) = session.user.clone() else {
        return session.to_sign_in();
    };
    if !user.can_create_cases() {
        return refused_with(
            &session,
            StatusCode::FORBIDDEN,
            lang.text("new.forbidden"),
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
    #[serde(default)]
    language: String,
    #[serde(default, skip_serializing)]
    csrf: Option<String>,
}

/// The page asked for: the first when none or not a number (a hand-edited
/// link), but a number out of range (0, negative, past what a page can be)
/// is refused (422), never wrapped round.
fn page_number(text: Option<&str>) -> Result<u64, Error> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(1);
    };
    let digits = text.strip_prefix('-').unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(1);
    }
    match text.parse::<u64>() {
        Ok(page) if page >= 1 => Ok(page),
        _ => Err(crate::error::invalid_field(
            "page",
            crate::error::FieldRule::PageNumber,
        )),
    }
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
        crate::error::invalid_field("estimated_value", crate::error::FieldRule::NotANumber)
    })
}

pub async fn create_case(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<CaseForm>,
) -> Response {
    let lang = session.lang;
    let user = match form_user(&session, form.csrf.as_deref(), "/dossiers/nouveau") {
        Ok(user) => user,
        Err(refusal) => return *refusal,
    };
    let values = json!(form);
    let again = |e: Error| {
        let status = status_of(&e);
        let message = said(lang, &e);
        let (state, session, values) = (state.clone(), session.clone(), values.clone());
        async move { new_case_form(&state, &session, status, Some(message), values).await }
    };
    let estimated_value = match parse_amount(&form.estimated_value) {
        Ok(v) => v,
        Err(e) => return again(e).await,
    };
    if state.limits.create_case(user.id).await.is_err() {
        return refused_with(
            &session,
            StatusCode::TOO_MANY_REQUESTS,
            lang.text("error.rate"),
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
            language: optional(&form.language),
        },
    )
    .await
    {
        Ok(created) => see_other(&format!("/dossiers/{}?ok=cree", created.case.id)),
        Err(e) => again(e).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_amounts_accept_spaces_and_a_decimal_comma() {
        assert_eq!(
            parse_amount("12 500,5").ok().flatten(),
            Some(Decimal::new(125005, 1))
        );
        assert!(parse_amount("douze").is_err());
        assert_eq!(parse_amount(" ").ok().flatten(), None);
    }

    #[test]
    fn pages_out_of_range_are_refused_and_garbage_is_the_first() {
        assert_eq!(page_number(None).ok(), Some(1));
        assert_eq!(page_number(Some("zzz")).ok(), Some(1));
        assert_eq!(page_number(Some("3")).ok(), Some(3));
        for bad in ["0", "-1", "99999999999999999999999"] {
            assert!(page_number(Some(bad)).is_err(), "{bad}");
        }
    }
}
