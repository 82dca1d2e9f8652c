//! The case page: reference, status, lots (and adding one), the uploaded
//! documents with the offers grouped by supplier, the analysis (with its
//! job while it waits or runs: the page then refreshes itself) and the
//! decision (see `analysis`), and the memory of the case as a timeline
//! with search.

use std::collections::BTreeMap;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use super::format::{amount, label_or, megabytes, optional, short_date, status_label};
use super::i18n::Lang;
use super::render;
use super::respond::{form_user, refused, see_other};
use super::session::Session;
use crate::Error;
use crate::artifact_meta::ArtifactMeta;
use crate::auth::User;
use crate::cases::NewLot;
use crate::state::AppState;

#[derive(Deserialize, Default)]
pub struct CaseQueryParams {
    q: Option<String>,
    ok: Option<String>,
}

/// The offers of a case grouped by supplier, from the files' records.
fn offers_by_supplier(
    lang: Lang,
    file: &crate::cases::CaseFile,
    lots: &[entity::lots::Model],
) -> Vec<Value> {
    let mut groups: BTreeMap<String, (String, Vec<Value>)> = BTreeMap::new();
    for a in file.artifacts.iter().filter(|a| a.kind == "offer") {
        let meta = ArtifactMeta::or_empty(a);
        let supplier = meta.supplier_name.clone().unwrap_or_default();
        let offer_type = meta.offer_type.as_deref().unwrap_or("");
        let lot = meta
            .lot_id
            .as_deref()
            .and_then(|id| lots.iter().find(|l| l.id == id))
            .map(|l| l.lot_number.clone());
        let piece = json!({
            "id": a.id,
            "type": if offer_type.is_empty() { String::new() } else { label_or(lang, &format!("case.offer_type.{offer_type}"), offer_type) },
            "filename": meta.original_filename.as_deref().unwrap_or(&a.filename),
            "lot": lot,
            "late": meta.is_late.unwrap_or(false),
            "at": short_date(lang, &a.uploaded_at),
        });
        let key = crate::names::key(&supplier);
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

/// The withdrawn documents, newest withdrawal first, with who's reason
/// (withdrawn offers are among the artifacts only for a reader of offers).
fn withdrawn_documents(lang: Lang, file: &crate::cases::CaseFile) -> Vec<Value> {
    let mut out: Vec<(String, Value)> = file
        .artifacts
        .iter()
        .filter(|a| a.kind.starts_with(crate::uploads::WITHDRAWN_PREFIX))
        .map(|a| {
            let meta = ArtifactMeta::or_empty(a);
            let at = meta.withdrawn_at.clone().unwrap_or_default();
            let view = json!({
                "label": lang.text(&format!("case.{}", a.kind)),
                "filename": a.filename,
                "supplier": meta.supplier_name,
                "at": short_date(lang, &at),
                "reason": meta.withdrawal_reason.as_deref().unwrap_or(""),
            });
            (at, view)
        })
        .collect();
    out.sort_by(|a, b| b.0.cmp(&a.0));
    out.into_iter().map(|(_, v)| v).collect()
}

/// The offers as a reader who may not open them sees them: by supplier,
/// with the time each was received, nothing of their content.
fn sealed_offers(lang: Lang, file: &crate::cases::CaseFile) -> Vec<Value> {
    let mut groups: BTreeMap<String, (String, Vec<Value>)> = BTreeMap::new();
    for o in &file.offers {
        groups
            .entry(crate::names::key(&o.offer.supplier_name))
            .or_insert_with(|| (o.offer.supplier_name.clone(), Vec::new()))
            .1
            .push(json!({"type": lang.text("case.sealed_piece"), "filename": "", "lot": null, "late": false, "at": short_date(lang, &o.offer.submitted_at)}));
    }
    groups
        .into_values()
        .map(|(name, pieces)| json!({"supplier": name, "pieces": pieces}))
        .collect()
}

/// The "Comité" section: who is on it, whether they declared, the opening.
fn committee_view(
    lang: Lang,
    user: &User,
    access: &crate::committee::Access,
    committee: &[crate::committee::Member],
    opening: Option<&crate::committee::Opening>,
) -> Value {
    use crate::committee::Standing;
    let me = committee.iter().find(|m| m.user_id == user.id);
    let members: Vec<Value> = committee
        .iter()
        .map(|m| {
            json!({
                "user_id": m.user_id,
                "name": m.full_name.clone().unwrap_or_else(|| m.username.clone()),
                "username": m.username,
                "role": lang.text(&format!("committee.role.{}", m.role)),
                "is_owner": m.role == "owner",
                "declared": m.declared_at.as_deref().map(|d| short_date(lang, d)),
                "me": m.user_id == user.id,
            })
        })
        .collect();
    json!({
        "members": members,
        "manage": access.manages(),
        "standing": lang.text(&format!("committee.standing.{}", match access.standing {
            Standing::Admin => "admin",
            Standing::Owner => "owner",
            Standing::Evaluator => "evaluator",
            Standing::Observer => "observer",
        })),
        "must_declare": access.needs_declaration() && !access.declared,
        "declared": access.declared,
        "can_withdraw": matches!(access.standing, Standing::Evaluator | Standing::Observer),
        "declaration_text": crate::committee::DECLARATION_TEXT_FR,
        "sealed": !access.opened,
        "sealed_procedure": access.sealed_procedure,
        "can_open": access.manages() && !access.opened,
        "opening": opening.map(|o| json!({
            "at": short_date(lang, &o.opened_at),
            "present": o.present.iter().filter_map(|p| p["username"].as_str()).collect::<Vec<_>>().join(", "),
        })),
        "me_declared": me.and_then(|m| m.declared_at.as_deref()).map(|d| short_date(lang, d)),
    })
}

/// A memory entry as the timeline shows it.
fn timeline_entry(lang: Lang, e: &crate::memory::Entry) -> Value {
    let fields: Vec<Value> = match &e.content {
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| {
                let value = match v {
                    Value::String(s) if k.ends_with("_at") => short_date(lang, s),
                    Value::String(s) => s.clone(),
                    Value::Bool(true) => "oui".into(),
                    Value::Bool(false) => "non".into(),
                    other => other.to_string(),
                };
                json!({"label": label_or(lang, &format!("memory.{k}"), k), "value": value})
            })
            .collect(),
        Value::Null => Vec::new(),
        other => vec![json!({"label": "", "value": other.to_string()})],
    };
    json!({
        "type": label_or(lang, &format!("memory.{}", e.entry_type), &e.entry_type),
        "kind": e.entry_type,
        "at": short_date(lang, &e.created_at),
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
    match case_data(&state, session.lang, &user, &case_id, q).await {
        Ok(data) => render::page(&session, StatusCode::OK, "case.html", data),
        Err(e) => refused(&session, &e, "/dossiers"),
    }
}

async fn case_data(
    state: &AppState,
    lang: Lang,
    user: &User,
    case_id: &str,
    q: CaseQueryParams,
) -> Result<Value, Error> {
    // One statement for all of it (the session's is the other).
    let crate::cases::CaseView {
        file,
        access,
        current,
        committee,
        opening,
        procedure,
    } = crate::cases::load_case_view(&state.db, user, case_id).await?;
    let case = &file.case;
    let can_write = access.manages();
    let search = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let memory: Vec<crate::memory::Entry> = match search {
        Some(text) => crate::memory::search(&state.db, user, case_id, text).await?,
        None => file
            .memory_entries
            .iter()
            .rev()
            .cloned()
            .map(crate::memory::Entry::from)
            .collect(),
    };
    let dao = file.artifacts.iter().find(|a| a.kind == "dao").map(
        |a| json!({"id": a.id, "filename": a.filename, "at": short_date(lang, &a.uploaded_at)}),
    );
    let templates: Vec<Value> = file
        .artifacts
        .iter()
        .filter(|a| a.kind == "cba_template" || a.kind == "pv_template")
        .map(|a| {
            json!({
                "id": a.id,
                "label": lang.text(&format!("case.{}", a.kind)),
                "filename": a.filename,
                "at": short_date(lang, &a.uploaded_at),
            })
        })
        .collect();
    let withdrawn = withdrawn_documents(lang, &file);
    let suppliers = if access.may_read_offers() {
        offers_by_supplier(lang, &file, &file.lots)
    } else {
        sealed_offers(lang, &file)
    };
    let supplier_names: Vec<&Value> = suppliers
        .iter()
        .map(|s| &s["supplier"])
        .filter(|s| s.as_str().is_some_and(|s| !s.is_empty()))
        .collect();
    let flash = match q.ok.as_deref() {
        Some("cree") => None, // shown with the reference below
        Some("lot") => Some(lang.text("case.lot_saved")),
        Some("decision") => Some(lang.text("case.decision_saved")),
        Some("analyse") => Some(lang.text("case.analysis_done")),
        Some("fichier") => Some(lang.text("upload.done")),
        Some("retrait") => Some(lang.text("upload.withdrawn")),
        Some("membre") => Some(lang.text("committee.added")),
        Some("retire") => Some(lang.text("committee.removed")),
        Some("declaration") => Some(lang.text("committee.declared")),
        Some("ouverture") => Some(lang.text("committee.opened")),
        _ => None,
    };
    Ok(json!({
        "id": case.id,
        "title": case.title,
        "reference": file.reference.as_ref().map(|r| &r.ref_number),
        "created_now": q.ok.as_deref() == Some("cree"),
        "flash": flash,
        "status": status_label(lang, &case.status),
        "language": label_or(lang, &format!("lang.name.{}", case.language), &case.language),
        "case_type": case.case_type,
        "value": case.estimated_value.map(|v| format!("{} USD", amount(lang, v))),
        "procedure": procedure.map(|p| json!({"type": p.procedure_type, "min_suppliers": p.min_suppliers, "description": p.description_fr})),
        "closing": case.closing_date.as_deref().map(|d| short_date(lang, d)),
        "created": short_date(lang, &case.created_at),
        "mine": case.owner_id == Some(user.id),
        "can_write": can_write,
        "can_evaluate": access.may_read_offers(),
        "committee": committee_view(lang, user, &access, &committee, opening.as_ref()),
        "lots": file.lots.iter().map(|l| json!({"id": l.id, "number": l.lot_number, "description": l.description})).collect::<Vec<_>>(),
        "dao": dao,
        "templates": templates,
        "withdrawn": withdrawn,
        "suppliers": suppliers,
        "supplier_names": supplier_names,
        "offer_types": crate::uploads::OFFER_TYPES.map(|t| json!({"value": t, "label": lang.text(&format!("case.offer_type.{t}"))})),
        "used": megabytes(lang, case.total_upload_size.unwrap_or(0)),
        "analysis": super::analysis::analysis_view(lang, &file, current.as_ref()),
        // The analysis waiting or running, for those who may run it.
        "job": if access.may_read_offers() {
            super::analysis::job_view(lang, state.analyses.of_case(case_id))
        } else {
            Value::Null
        },
        "decision": super::analysis::decision_view(lang, &file),
        "memory": memory.iter().map(|e| timeline_entry(lang, e)).collect::<Vec<_>>(),
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
