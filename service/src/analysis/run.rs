//! One analysis run: read the case's uploads one at a time, run the
//! extraction off the async runtime, and record the run in one transaction
//! that replaces the previous one (D-23).

use analysis::{
    CaseInfo, Content, OfferDoc, PvOutput, RunInput, RunOutput, SourceDoc, TemplateDoc,
};
use entity::{
    analyses, artifacts, cba_template_schemas, dao_criteria, memory_entries, offer_extractions,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
};
use serde_json::{Value, json};

use super::inputs::{analysis_error, case_info, local_path, sources, template};
use super::outputs::{
    OUTPUT_CBA, OUTPUT_PV, byte_count, insert_output, output_path, outputs_over_quota,
    replaced_outputs, stored_size, write_output,
};
use crate::artifact_meta::ArtifactMeta;
use crate::auth::User;
use crate::error::Refusal;
use crate::ledger::canonical::sha256_hex;
use crate::storage::Storage;
use crate::{Error, audit, db, timestamp};

/// Runs the analysis of case `case_id` and answers production's response
/// (§7.1 step 11).
pub async fn analyze(
    db: &DatabaseConnection,
    data: &Storage,
    user: &User,
    case_id: &str,
) -> Result<Value, Error> {
    let (case, access) = crate::committee::visible(db, user, case_id).await?;
    access.check_read_offers()?;
    let uploads = sources(db, case_id).await?;
    let newest = |kind: &str| uploads.iter().find(|a| a.kind == kind);
    let dao = newest("dao").ok_or_else(|| Error::from(Refusal::MissingDao))?;
    let offers: Vec<&artifacts::Model> = uploads.iter().filter(|a| a.kind == "offer").collect();
    let mut info = case_info(db, &case).await?;
    // The PV carries the chain's head; checked again under the lock below.
    info.ledger = crate::ledger::case_anchor(db, case_id).await?;
    let anchored = info.clone();
    // Removed (with the copies from a bucket) when the run ends.
    let copies = data.local_copies()?;
    let mut offer_docs = Vec::with_capacity(offers.len());
    for offer in offers {
        let meta = ArtifactMeta::or_empty(offer);
        offer_docs.push(OfferDoc {
            artifact_id: offer.id.clone(),
            filename: offer.filename.clone(),
            supplier_name: meta.supplier_name,
            offer_type: meta.offer_type,
            uploaded_at: offer.uploaded_at.clone(),
            content: Content::File(local_path(data, offer, &copies).await?),
        });
    }
    let input = RunInput {
        case: info,
        dao: SourceDoc {
            artifact_id: dao.id.clone(),
            filename: dao.filename.clone(),
            content: Content::File(local_path(data, dao, &copies).await?),
        },
        offers: offer_docs,
        cba_template: template(data, newest("cba_template")).await?,
        pv_template: template(data, newest("pv_template")).await?,
        generated_at: timestamp::now(),
    };
    let pv_template = input.pv_template.clone();
    let generated_at = input.generated_at.clone();
    let mut output = tokio::task::spawn_blocking(move || analysis::run(&input))
        .await
        .map_err(|e| Error::Internal(format!("analysis worker: {e}")))?
        .map_err(analysis_error)?;

    let now = timestamp::now();
    let cba_path = output_path(case_id, &output.cba.filename);
    let pv_path = output_path(case_id, &output.pv.filename);
    let tx = db::begin_write(db).await?;
    crate::cases::lock(&tx, case_id).await?;
    // A write landed between the head read and the lock: the PV is written
    // again with the head as it is now, so it names what it follows.
    let head = crate::ledger::case_anchor(&tx, case_id).await?;
    if head != anchored.ledger {
        output.pv = rerender_pv(
            CaseInfo {
                ledger: head,
                ..anchored
            },
            &output,
            pv_template,
            generated_at,
        )
        .await?;
    }
    // The previous run's rows and outputs go; a decided PV stays.
    let previous_outputs = replaced_outputs(&tx, case_id).await?;
    // The outputs count against the case's quota; the ones replaced give
    // their space back.
    let freed: i64 = previous_outputs.iter().map(|a| stored_size(data, a)).sum();
    let needed = byte_count(output.cba.bytes.len()) + byte_count(output.pv.bytes.len());
    crate::uploads::reserve_quota(&tx, case_id, needed - freed)
        .await
        .map_err(outputs_over_quota)?;
    dao_criteria::Entity::delete_many()
        .filter(dao_criteria::Column::CaseId.eq(case_id))
        .exec(&tx)
        .await?;
    offer_extractions::Entity::delete_many()
        .filter(offer_extractions::Column::CaseId.eq(case_id))
        .exec(&tx)
        .await?;
    cba_template_schemas::Entity::delete_many()
        .filter(cba_template_schemas::Column::CaseId.eq(case_id))
        .exec(&tx)
        .await?;
    if !previous_outputs.is_empty() {
        artifacts::Entity::delete_many()
            .filter(artifacts::Column::Id.is_in(previous_outputs.iter().map(|a| a.id.clone())))
            .exec(&tx)
            .await?;
    }
    for c in &output.criteria {
        dao_criteria::ActiveModel {
            id: Set(uuid::Uuid::new_v4().to_string()),
            case_id: Set(case_id.to_owned()),
            categorie: Set(c.categorie.clone()),
            critere_nom: Set(c.critere_nom.clone()),
            description: Set(Some(c.description.clone())),
            ponderation: Set(c.ponderation as f32),
            type_reponse: Set(c.type_reponse.clone()),
            seuil_elimination: Set(c.seuil_elimination.map(|s| s as f32)),
            ordre_affichage: Set(Some(c.ordre_affichage)),
            created_at: Set(now.clone()),
        }
        .insert(&tx)
        .await?;
    }
    for e in &output.extractions {
        offer_extractions::ActiveModel {
            id: Set(uuid::Uuid::new_v4().to_string()),
            case_id: Set(case_id.to_owned()),
            artifact_id: Set(e.artifact_id.clone()),
            supplier_name: Set(e.supplier_name.clone()),
            extracted_data_json: Set(e.extracted_data_json()),
            missing_fields_json: Set(Some(e.missing_fields_json())),
            created_at: Set(now.clone()),
        }
        .insert(&tx)
        .await?;
    }
    if let Some(schema) = &output.cba.schema {
        let id = uuid::Uuid::new_v4().to_string();
        cba_template_schemas::ActiveModel {
            id: Set(id.clone()),
            case_id: Set(case_id.to_owned()),
            template_name: Set(schema.template_name.clone()),
            structure_json: Set(schema.structure_json(&id).to_string()),
            created_at: Set(now.clone()),
            reused_count: Set(Some(0)),
        }
        .insert(&tx)
        .await?;
    }
    memory_entries::ActiveModel {
        id: Set(uuid::Uuid::new_v4().to_string()),
        case_id: Set(case_id.to_owned()),
        entry_type: Set("extraction".into()),
        content_json: Set(output.memory_entry.to_string()),
        created_at: Set(now.clone()),
    }
    .insert(&tx)
    .await?;
    let summary = json!(output.summary);
    analyses::ActiveModel {
        id: Set(uuid::Uuid::new_v4().to_string()),
        case_id: Set(case_id.to_owned()),
        analysis_type: Set("extraction".into()),
        result_json: Set(summary.to_string()),
        created_at: Set(now.clone()),
    }
    .insert(&tx)
    .await?;
    let cba_meta = ArtifactMeta {
        template_used: output.cba.template_used.clone(),
        left_out: Some(json!(output.cba.left_out)),
        size_bytes: Some(byte_count(output.cba.bytes.len())),
        hash: Some(sha256_hex(&output.cba.bytes)),
        ..ArtifactMeta::default()
    };
    let cba_artifact = insert_output(
        &tx,
        case_id,
        user,
        OUTPUT_CBA,
        &output.cba.filename,
        &cba_path,
        &cba_meta,
        &now,
    )
    .await?;
    let pv_meta = ArtifactMeta {
        template_used: Some(output.pv.template_used.clone()),
        decision_included: Some(false),
        size_bytes: Some(byte_count(output.pv.bytes.len())),
        hash: Some(sha256_hex(&output.pv.bytes)),
        ..ArtifactMeta::default()
    };
    let pv_artifact = insert_output(
        &tx,
        case_id,
        user,
        OUTPUT_PV,
        &output.pv.filename,
        &pv_path,
        &pv_meta,
        &now,
    )
    .await?;
    audit::record(&tx, case_id, user.id, "analysis_run", summary.clone()).await?;

    write_output(data, &cba_path, &output.cba.bytes).await?;
    if let Err(e) = write_output(data, &pv_path, &output.pv.bytes).await {
        data.remove(&cba_path).await;
        return Err(e);
    }
    if let Err(e) = tx.commit().await {
        data.remove(&cba_path).await;
        data.remove(&pv_path).await;
        return Err(e.into());
    }
    for old in previous_outputs {
        data.remove(&old.path).await;
    }
    let mut response = json!({
        "ok": true,
        "case_id": case_id,
        "dao_criteria_count": output.summary.dao_criteria_count,
        "offers_count": output.summary.offers_count,
        "raw_documents_count": output.summary.raw_documents_count,
        "output_cba_generated": true,
        "output_pv_generated": true,
        "downloads": {
            "cba": format!("/api/download/{case_id}/{OUTPUT_CBA}"),
            "pv": format!("/api/download/{case_id}/{OUTPUT_PV}"),
        },
        "package_stats": output.summary.package_stats,
        "warnings": output.summary.warnings,
    });
    response["analysis"] = json!({
        "cba_artifact_id": cba_artifact,
        "pv_artifact_id": pv_artifact,
        "criteria": output.criteria,
        "suppliers": output.packages,
    });
    Ok(response)
}

/// The run's PV rendered again for `case` (a newer ledger head).
async fn rerender_pv(
    case: CaseInfo,
    output: &RunOutput,
    template: Option<TemplateDoc>,
    generated_at: String,
) -> Result<PvOutput, Error> {
    let criteria = output.criteria.clone();
    let packages = output.packages.clone();
    tokio::task::spawn_blocking(move || {
        analysis::render_pv(&analysis::PvInput {
            case: &case,
            criteria: &criteria,
            packages: &packages,
            decision: None,
            template: template.as_ref(),
            generated_at: &generated_at,
        })
    })
    .await
    .map_err(|e| Error::Internal(format!("PV worker: {e}")))?
    .map_err(analysis_error)
}
