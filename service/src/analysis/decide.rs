//! The committee's decision: checked against the analysed packages,
//! recorded in the memory with its PV and audit row.

use entity::memory_entries;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseConnection};
use serde_json::{Value, json};

use super::current::analysed;
use super::inputs::{analysis_error, case_info, newest_artifact, template};
use super::outputs::{
    OUTPUT_PV, byte_count, insert_output, output_path, outputs_over_quota, write_output,
};
use crate::artifact_meta::ArtifactMeta;
use crate::auth::User;
use crate::error::{FieldRule, Refusal, invalid_field};
use crate::ledger::canonical::sha256_hex;
use crate::memory::Decision;
use crate::storage::Storage;
use crate::{Error, audit, db, text, timestamp};

/// Records the committee's decision on case `case_id`: the supplier must be
/// one of the packages of the run current when the decision is written (D-34); the PV is regenerated from the same
/// aggregated packages as the analysis (D-24) and kept beside every earlier
/// PV; the decision goes to the memory with its audit row.
pub async fn decide(
    db: &DatabaseConnection,
    data: &Storage,
    user: &User,
    case_id: &str,
    decision: Decision,
) -> Result<Value, Error> {
    text::check(&text::CHOSEN_SUPPLIER, &decision.chosen_supplier)?;
    text::check(&text::DECISION_REASON, &decision.decision_reason)?;
    text::check(&text::NEXT_ACTION, &decision.next_action)?;
    let (case, access) = crate::committee::visible(db, user, case_id).await?;
    access.check_read_offers()?;
    let mut info = case_info(db, &case).await?;
    let pv_template = newest_artifact(db, case_id, "pv_template").await?;
    let template = template(data, pv_template.as_ref()).await?;
    // The supplier is checked against the packages of the run current
    // under the case's lock, and the decision written in the same
    // transaction: a run finishing meanwhile cannot leave a decision
    // naming a supplier it no longer has.
    let tx = db::begin_write(db).await?;
    crate::cases::lock(&tx, case_id).await?;
    let (packages, criteria) = analysed(&tx, case_id).await?;
    info.ledger = crate::ledger::case_anchor(&tx, case_id).await?;
    let chosen = analysis::check_decision(
        &packages,
        &decision.chosen_supplier,
        &decision.decision_reason,
        &decision.next_action,
    )
    .map_err(|problem| match problem {
        analysis::DecisionProblem::Empty(field) => invalid_field(field, FieldRule::Required),
        analysis::DecisionProblem::NotAnalysed => Refusal::NotAnalysed.into(),
        analysis::DecisionProblem::NotAmongOffers(name) => Refusal::NotAmongOffers { name }.into(),
    })?;
    let decided_at = timestamp::now();
    let decision = analysis::Decision {
        chosen_supplier: chosen,
        decision_reason: decision.decision_reason.trim().to_owned(),
        next_action: decision.next_action.trim().to_owned(),
        decided_at: decided_at.clone(),
    };
    let pv = {
        let decision = decision.clone();
        let generated_at = decided_at.clone();
        tokio::task::spawn_blocking(move || {
            analysis::render_pv(&analysis::PvInput {
                case: &info,
                criteria: &criteria,
                packages: &packages,
                decision: Some(&decision),
                template: template.as_ref(),
                generated_at: &generated_at,
            })
        })
        .await
        .map_err(|e| Error::Internal(format!("PV worker: {e}")))?
        .map_err(analysis_error)?
    };
    let content = json!({
        "chosen_supplier": decision.chosen_supplier,
        "decision_reason": decision.decision_reason,
        "next_action": decision.next_action,
        "decided_at": decided_at,
        "decided_by": user.id,
        "human_final": true,
    });
    let pv_path = output_path(case_id, &pv.filename);
    // The PV of every decision is kept: it counts against the quota.
    crate::uploads::reserve_quota(&tx, case_id, byte_count(pv.bytes.len()))
        .await
        .map_err(outputs_over_quota)?;
    let entry = memory_entries::ActiveModel {
        id: Set(uuid::Uuid::new_v4().to_string()),
        case_id: Set(case_id.to_owned()),
        entry_type: Set("decision".into()),
        content_json: Set(content.to_string()),
        created_at: Set(decided_at.clone()),
    }
    .insert(&tx)
    .await?;
    let meta = ArtifactMeta {
        template_used: Some(pv.template_used.clone()),
        decision_included: Some(true),
        decision_id: Some(entry.id.clone()),
        size_bytes: Some(byte_count(pv.bytes.len())),
        hash: Some(sha256_hex(&pv.bytes)),
        ..ArtifactMeta::default()
    };
    let pv_artifact = insert_output(
        &tx,
        case_id,
        user,
        OUTPUT_PV,
        &pv.filename,
        &pv_path,
        &meta,
        &decided_at,
    )
    .await?;
    audit::record(&tx, case_id, user.id, "decision_recorded", content.clone()).await?;
    write_output(data, &pv_path, &pv.bytes).await?;
    if let Err(e) = tx.commit().await {
        data.remove(&pv_path).await;
        return Err(e.into());
    }
    Ok(json!({
        "ok": true,
        "case_id": case_id,
        "decision_id": entry.id,
        "decision": content,
        "pv_artifact_id": pv_artifact,
        "pv_with_decision": format!("/api/download/{case_id}/{OUTPUT_PV}"),
    }))
}
