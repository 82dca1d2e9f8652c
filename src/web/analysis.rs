//! The analysis and the decision on the case page: running the analysis
//! (a form, or the page's script with a busy state), what the latest run
//! found (the DAO's criteria, one package per supplier with its gaps), the
//! CBA and PV downloads, and the committee's decision with its PV.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use analysis::{Criterion, SupplierPackage};

use super::format::{label_or, percent, short_date};
use super::i18n::Lang;
use super::respond::{
    CsrfOnly, form_user, refused, refused_with, said, script_answer, script_refusal, see_other,
    wants_json,
};
use super::session::Session;
use crate::analysis::queue::{JobState, Submitted};
use crate::analysis::{CurrentAnalysis, OUTPUT_CBA, OUTPUT_PV};
use crate::artifact_meta::ArtifactMeta;
use crate::cases::CaseFile;
use crate::http::files::send_file;
use crate::memory::Decision;
use crate::state::AppState;

/// A criterion as the criteria table shows it.
fn criterion_row(lang: Lang, c: &Criterion) -> Value {
    let essential = c.is_essential();
    json!({
        "category": label_or(lang, &format!("criteria.category.{}", c.categorie), &c.categorie),
        "name": c.critere_nom,
        "weight": if essential { lang.text("criteria.no_weight").to_owned() } else { percent(lang, c.ponderation) },
        "essential": essential,
    })
}

/// A supplier's package as its card shows it: the parts present or
/// missing, the fields the committee must complete, what was extracted.
fn package_card(lang: Lang, p: &SupplierPackage) -> Value {
    let parts = [
        ("package.part.admin", p.has_admin),
        ("package.part.technical", p.has_technical),
        ("package.part.financial", p.has_financial),
    ]
    .map(|(key, present)| json!({"label": lang.text(key), "present": present}));
    let days = |d: Option<i64>| d.map(|d| format!("{d} {}", lang.text("package.days")));
    let refs = (!p.technical_refs.is_empty()).then(|| p.technical_refs.join(" ; "));
    let values = [
        ("package.price", p.total_price.clone()),
        ("package.lead_time", days(p.lead_time_days)),
        ("package.validity", days(p.validity_days)),
        ("package.refs", refs),
    ]
    .map(|(key, value)| json!({"label": lang.text(key), "value": value}));
    json!({
        "name": p.supplier_name,
        "status": label_or(lang, &format!("package.status.{}", p.package_status), &p.package_status),
        "status_class": p.package_status.to_lowercase(),
        "gaps": !(p.has_admin && p.has_technical && p.has_financial && p.missing_fields.is_empty()),
        "parts": parts,
        "missing_fields": p.missing_fields,
        "values": values,
        "documents": p.document_count,
    })
}

/// The analysis section: the latest run (or `null` before the first),
/// which documents can be downloaded, and the suppliers a decision may
/// name (the analysed ones, never merely the uploaders).
pub fn analysis_view(lang: Lang, file: &CaseFile, current: Option<&CurrentAnalysis>) -> Value {
    let has = |kind: &str| file.artifacts.iter().any(|a| a.kind == kind);
    let downloads = json!({"cba": has(OUTPUT_CBA), "pv": has(OUTPUT_PV)});
    let Some(run) = current else {
        return json!({"run": null, "downloads": downloads, "suppliers": []});
    };
    let warnings = run.warnings.as_ref();
    let manual_review: Vec<Value> = warnings
        .map(|w| &w.manual_review_documents[..])
        .unwrap_or_default()
        .iter()
        .map(|m| json!({"filename": m.filename, "reason": m.reason}))
        .collect();
    let left_out: Vec<Value> = warnings
        .map(|w| &w.left_out_of_cba[..])
        .unwrap_or_default()
        .iter()
        .map(|l| json!({"supplier": l.supplier_name, "reason": l.reason}))
        .collect();
    // The decision's choices in alphabetical order, to be found at a glance.
    let mut suppliers: Vec<&str> = run
        .packages
        .iter()
        .map(|p| p.supplier_name.as_str())
        .collect();
    suppliers.sort_by_key(|name| name.to_lowercase());
    json!({
        "run": {
            "at": short_date(lang, &run.run_at),
            "criteria": run.criteria.iter().map(|c| criterion_row(lang, c)).collect::<Vec<_>>(),
            "packages": run.packages.iter().map(|p| package_card(lang, p)).collect::<Vec<_>>(),
            "manual_review": manual_review,
            "left_out": left_out,
        },
        "downloads": downloads,
        "suppliers": suppliers,
    })
}

/// The latest decision of the case with the PV that includes it, or `null`.
pub fn decision_view(lang: Lang, file: &CaseFile) -> Value {
    let Some(entry) = file
        .memory_entries
        .iter()
        .rev()
        .find(|e| e.entry_type == "decision")
    else {
        return Value::Null;
    };
    let content: Value = serde_json::from_str(&entry.content_json).unwrap_or(Value::Null);
    let field = |k: &str| content[k].as_str().unwrap_or_default().to_owned();
    let pv = file
        .artifacts
        .iter()
        .filter(|a| a.kind == OUTPUT_PV)
        .find(|a| ArtifactMeta::or_empty(a).decision_id.as_deref() == Some(entry.id.as_str()))
        .map(|a| format!("/dossiers/{}/documents/{}", file.case.id, a.id));
    json!({
        "supplier": field("chosen_supplier"),
        "reason": field("decision_reason"),
        "next_action": field("next_action"),
        "at": short_date(lang, &field("decided_at")),
        "pv": pv,
    })
}

/// Runs the analysis of the case when a worker is free, then shows its
/// page again at the analysis; when every worker is busy the analysis
/// waits in the queue and the page (which says so, and refreshes itself
/// until it ran) comes back at once. The page's script asks for JSON and
/// shows a busy state.
pub async fn analyse(
    State(state): State<AppState>,
    session: Session,
    Path(case_id): Path<String>,
    headers: HeaderMap,
    Form(form): Form<CsrfOnly>,
) -> Response {
    let lang = session.lang;
    let back = format!("/dossiers/{case_id}");
    let done = format!("{back}?ok=analyse#analyse");
    let waiting = format!("{back}#analyse");
    let script = wants_json(&headers);
    let user = if script {
        let Some(user) = session.user.clone() else {
            return script_answer(StatusCode::UNAUTHORIZED, lang.text("login.expired"), None);
        };
        if !session.csrf.accepts(form.csrf.as_deref()) {
            return script_answer(StatusCode::FORBIDDEN, lang.text("error.csrf"), None);
        }
        user
    } else {
        match form_user(&session, form.csrf.as_deref(), &back) {
            Ok(user) => user,
            Err(refusal) => return *refusal,
        }
    };
    let refuse = |status: StatusCode, message: &str| {
        if script {
            script_answer(status, message, None)
        } else {
            refused_with(&session, status, message, &back)
        }
    };
    if state.limits.analyze(user.id).await.is_err() {
        return refuse(StatusCode::TOO_MANY_REQUESTS, lang.text("error.rate"));
    }
    let outcome = match state.analyses.submit(&user, &case_id).await {
        Ok(Submitted::Started { outcome, .. }) => outcome
            .await
            .unwrap_or_else(|_| Err(crate::Error::Internal("the analysis worker stopped".into()))),
        Ok(Submitted::Queued { .. }) if script => {
            return script_answer(
                StatusCode::ACCEPTED,
                lang.text("analysis.queued"),
                Some(&waiting),
            );
        }
        Ok(Submitted::Queued { .. }) => return see_other(&waiting),
        Ok(Submitted::Full { .. }) => {
            return refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                lang.text("analysis.queue_full"),
            );
        }
        Err(e) => Err(e),
    };
    match (outcome, script) {
        (Ok(_), true) => {
            script_answer(StatusCode::OK, lang.text("case.analysis_done"), Some(&done))
        }
        (Ok(_), false) => see_other(&done),
        (Err(e), true) => script_refusal(lang, &e),
        (Err(e), false) => refused(&session, &e, &back),
    }
}

/// The case's analysis job for its page: waiting (with how many before
/// it), running, or failed (why) after the page's user left; `null` when
/// none, or when it finished well (the run shows).
pub fn job_view(lang: Lang, job: Option<JobState>) -> Value {
    match job {
        Some(JobState::Queued { position }) => json!({
            "state": "queued",
            "message": lang.format("analysis.waiting", &[("n", position.into())]),
        }),
        Some(JobState::Running) => {
            json!({"state": "running", "message": lang.text("analysis.running")})
        }
        Some(JobState::Failed(e)) => json!({
            "state": "failed",
            "message": lang.format("analysis.failed_because", &[("reason", said(lang, &e).into())]),
        }),
        Some(JobState::Done(_)) | None => Value::Null,
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
    let lang = session.lang;
    let back = format!("/dossiers/{case_id}");
    let user = match form_user(&session, form.csrf.as_deref(), &back) {
        Ok(user) => user,
        Err(refusal) => return *refusal,
    };
    if state.limits.decide(user.id).await.is_err() {
        return refused_with(
            &session,
            StatusCode::TOO_MANY_REQUESTS,
            lang.text("error.rate"),
            &back,
        );
    }
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
        Ok(_) => see_other(&format!("{back}?ok=decision#decision")),
        Err(e) => refused(&session, &e, &back),
    }
}

/// Sends a stored file, or the page saying why it cannot be.
async fn send(
    session: &Session,
    found: Result<(entity::artifacts::Model, crate::storage::StoredFile), crate::Error>,
    headers: &HeaderMap,
    back: &str,
) -> Response {
    let sent = match found {
        Ok((artifact, file)) => send_file(&artifact, file, headers).await,
        Err(e) => Err(e),
    };
    sent.unwrap_or_else(|e| refused(session, &e, back))
}

/// The latest CBA or PV of the case, for a signed-in reader.
pub async fn download(
    State(state): State<AppState>,
    session: Session,
    Path((case_id, kind)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let lang = session.lang;
    let back = format!("/dossiers/{case_id}#analyse");
    if session.user.is_none() {
        return session.to_sign_in();
    }
    if kind != OUTPUT_CBA && kind != OUTPUT_PV {
        return refused_with(
            &session,
            StatusCode::NOT_FOUND,
            lang.text("error.unknown_document"),
            &back,
        );
    }
    let Some(user) = session.user.clone() else {
        return session.to_sign_in();
    };
    let found = crate::analysis::download(&state.db, &state.data, &user, &case_id, &kind).await;
    send(&session, found, &headers, &back).await
}

/// One stored document of the case (e.g. the PV of a given decision), for
/// a signed-in reader.
pub async fn document(
    State(state): State<AppState>,
    session: Session,
    Path((case_id, artifact_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let back = format!("/dossiers/{case_id}");
    let Some(user) = session.user.clone() else {
        return session.to_sign_in();
    };
    let found =
        crate::analysis::artifact_file(&state.db, &state.data, &user, &case_id, &artifact_id).await;
    send(&session, found, &headers, &back).await
}
