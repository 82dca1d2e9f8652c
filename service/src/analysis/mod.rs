//! The analysis of a case and the committee's decision, on top of the pure
//! `analysis` crate: read the case's uploads, run the extraction off the
//! async runtime, and record the run in one transaction that replaces the
//! previous run (D-23): criteria, offer extractions, template schema, the
//! `analyses` row, the `extraction` memory entry, the CBA and PV outputs and
//! an audit row. The run reads the uploads from their files one at a time
//! (a run never holds the whole case in memory), and [`queue`] bounds how
//! many runs go at once. A document the analysis cannot read (damaged, mistyped,
//! encrypted, over its decoding budget) does not fail the run: the crate
//! lists it in `warnings.manual_review_documents` with its reason. A run
//! that fails (writing its outputs) leaves the previous one intact.

pub mod queue;

use analysis::{
    CaseInfo, Content, Criterion, OfferDoc, RunInput, RunSummary, SourceDoc, StoredExtraction,
    SupplierPackage, TemplateDoc, Warnings,
};
use entity::{
    analyses, artifacts, cba_template_schemas, dao_criteria, memory_entries, offer_extractions,
    procurement_references,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, QueryOrder,
};
use serde_json::{Value, json};

use crate::auth::User;
use crate::error::invalid_field;
use crate::memory::Decision;
use crate::storage::DataDir;
use crate::{Error, audit, db, text, timestamp};

/// Artifact kinds of the generated documents.
pub const OUTPUT_CBA: &str = "output_cba";
pub const OUTPUT_PV: &str = "output_pv";

/// Runs the analysis of case `case_id` and answers production's response
/// (§7.1 step 11).
pub async fn analyze(
    db: &DatabaseConnection,
    data: &DataDir,
    user: &User,
    case_id: &str,
) -> Result<Value, Error> {
    let (case, access) = crate::committee::visible(db, user, case_id).await?;
    access.check_read_offers()?;
    let uploads = sources(db, case_id).await?;
    let newest = |kind: &str| uploads.iter().find(|a| a.kind == kind);
    let dao =
        newest("dao").ok_or_else(|| Error::Invalid("Missing DAO (upload kind=dao)".into()))?;
    let offers: Vec<&artifacts::Model> = uploads.iter().filter(|a| a.kind == "offer").collect();
    let info = case_info(db, &case).await?;
    let mut offer_docs = Vec::with_capacity(offers.len());
    for offer in offers {
        let meta = meta_of(offer);
        offer_docs.push(OfferDoc {
            artifact_id: offer.id.clone(),
            filename: offer.filename.clone(),
            supplier_name: meta["supplier_name"].as_str().map(str::to_owned),
            offer_type: meta["offer_type"].as_str().map(str::to_owned),
            uploaded_at: offer.uploaded_at.clone(),
            content: Content::File(stored_path(data, offer)?),
        });
    }
    let input = RunInput {
        case: info,
        dao: SourceDoc {
            artifact_id: dao.id.clone(),
            filename: dao.filename.clone(),
            content: Content::File(stored_path(data, dao)?),
        },
        offers: offer_docs,
        cba_template: template(data, newest("cba_template")).await?,
        pv_template: template(data, newest("pv_template")).await?,
        generated_at: timestamp::now(),
    };
    let output = tokio::task::spawn_blocking(move || analysis::run(&input))
        .await
        .map_err(|e| Error::Internal(format!("analysis worker: {e}")))?
        .map_err(analysis_error)?;

    let now = timestamp::now();
    let cba_path = output_path(case_id, &output.cba.filename);
    let pv_path = output_path(case_id, &output.pv.filename);
    let tx = db::begin_write(db).await?;
    crate::cases::lock(&tx, case_id).await?;
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
    let cba_meta = json!({
        "template_used": output.cba.template_used,
        "left_out": output.cba.left_out,
        "size_bytes": output.cba.bytes.len(),
    });
    let cba_artifact = insert_output(
        &tx,
        case_id,
        user,
        OUTPUT_CBA,
        &output.cba.filename,
        &cba_path,
        cba_meta,
        &now,
    )
    .await?;
    let pv_meta = json!({
        "template_used": output.pv.template_used,
        "decision_included": false,
        "size_bytes": output.pv.bytes.len(),
    });
    let pv_artifact = insert_output(
        &tx,
        case_id,
        user,
        OUTPUT_PV,
        &output.pv.filename,
        &pv_path,
        pv_meta,
        &now,
    )
    .await?;
    audit::record(&tx, case_id, user.id, "analysis_run", summary.clone()).await?;

    write_output(data, &cba_path, &output.cba.bytes).await?;
    if let Err(e) = write_output(data, &pv_path, &output.pv.bytes).await {
        data.remove(&cba_path);
        return Err(e);
    }
    if let Err(e) = tx.commit().await {
        data.remove(&cba_path);
        data.remove(&pv_path);
        return Err(e.into());
    }
    for old in previous_outputs {
        data.remove(&old.path);
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

/// The uploads of case `case_id`, newest first, once it has what a run
/// needs: a DAO and at least one offer.
async fn sources(db: &impl ConnectionTrait, case_id: &str) -> Result<Vec<artifacts::Model>, Error> {
    let uploads = artifacts::Entity::find()
        .filter(artifacts::Column::CaseId.eq(case_id))
        .order_by_desc(artifacts::Column::UploadedAt)
        .order_by_desc(artifacts::Column::Id)
        .all(db)
        .await?;
    if !uploads.iter().any(|a| a.kind == "dao") {
        return Err(Error::Invalid("Missing DAO (upload kind=dao)".into()));
    }
    if !uploads.iter().any(|a| a.kind == "offer") {
        return Err(Error::Invalid("Missing OFFERS (upload kind=offer)".into()));
    }
    Ok(uploads)
}

/// Records the committee's decision on case `case_id`: the supplier must be
/// one of the analysed packages (D-34); the PV is regenerated from the same
/// aggregated packages as the analysis (D-24) and kept beside every earlier
/// PV; the decision goes to the memory with its audit row.
pub async fn decide(
    db: &DatabaseConnection,
    data: &DataDir,
    user: &User,
    case_id: &str,
    decision: Decision,
) -> Result<Value, Error> {
    text::check(&text::CHOSEN_SUPPLIER, &decision.chosen_supplier)?;
    text::check(&text::DECISION_REASON, &decision.decision_reason)?;
    text::check(&text::NEXT_ACTION, &decision.next_action)?;
    let (case, access) = crate::committee::visible(db, user, case_id).await?;
    access.check_read_offers()?;
    let (packages, criteria) = analysed(db, case_id).await?;
    let chosen = analysis::check_decision(
        &packages,
        &decision.chosen_supplier,
        &decision.decision_reason,
        &decision.next_action,
    )
    .map_err(|problem| match problem {
        analysis::DecisionProblem::Empty(field) => {
            invalid_field(field, format!("{field} must not be empty"))
        }
        analysis::DecisionProblem::NotAnalysed => Error::Conflict(
            "No analysis has been run for this case: run the analysis before deciding".into(),
        ),
        analysis::DecisionProblem::NotAmongOffers(name) => {
            Error::Invalid(format!("'{name}' is not among the offers analysed"))
        }
    })?;
    let decided_at = timestamp::now();
    let decision = analysis::Decision {
        chosen_supplier: chosen,
        decision_reason: decision.decision_reason.trim().to_owned(),
        next_action: decision.next_action.trim().to_owned(),
        decided_at: decided_at.clone(),
    };
    let info = case_info(db, &case).await?;
    let pv_template = newest_artifact(db, case_id, "pv_template").await?;
    let template = template(data, pv_template.as_ref()).await?;
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
    let tx = db::begin_write(db).await?;
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
    let meta = json!({
        "template_used": pv.template_used,
        "decision_included": true,
        "decision_id": entry.id,
        "size_bytes": pv.bytes.len(),
    });
    let pv_artifact = insert_output(
        &tx,
        case_id,
        user,
        OUTPUT_PV,
        &pv.filename,
        &pv_path,
        meta,
        &decided_at,
    )
    .await?;
    audit::record(&tx, case_id, user.id, "decision_recorded", content.clone()).await?;
    write_output(data, &pv_path, &pv.bytes).await?;
    if let Err(e) = tx.commit().await {
        data.remove(&pv_path);
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

/// The case's current analysis: the latest run, as a reader sees it.
#[derive(Debug, Clone)]
pub struct CurrentAnalysis {
    /// When the run was recorded (stored UTC timestamp).
    pub run_at: String,
    /// The DAO's criteria, in the order the DAO gives them.
    pub criteria: Vec<Criterion>,
    /// One package per analysed supplier, aggregated as the run did.
    pub packages: Vec<SupplierPackage>,
    /// The run's warnings (documents to read by hand, suppliers the CBA
    /// could not hold); `None` when the stored summary cannot be read.
    pub warnings: Option<Warnings>,
}

/// The latest analysis of case `case_id`, or `None` before the first run.
pub async fn current(
    db: &impl ConnectionTrait,
    case_id: &str,
) -> Result<Option<CurrentAnalysis>, Error> {
    let Some(run) = analyses::Entity::find()
        .filter(analyses::Column::CaseId.eq(case_id))
        .order_by_desc(analyses::Column::CreatedAt)
        .order_by_desc(analyses::Column::Id)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let (packages, criteria) = analysed(db, case_id).await?;
    let warnings = serde_json::from_str::<RunSummary>(&run.result_json)
        .ok()
        .map(|summary| summary.warnings);
    Ok(Some(CurrentAnalysis {
        run_at: run.created_at,
        criteria,
        packages,
        warnings,
    }))
}

/// The supplier packages and criteria of the case's current analysis, as
/// the analysis aggregated them.
async fn analysed(
    db: &impl ConnectionTrait,
    case_id: &str,
) -> Result<(Vec<SupplierPackage>, Vec<Criterion>), Error> {
    let extractions: Vec<StoredExtraction> = offer_extractions::Entity::find()
        .filter(offer_extractions::Column::CaseId.eq(case_id))
        .order_by_asc(offer_extractions::Column::CreatedAt)
        .order_by_asc(offer_extractions::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|row| StoredExtraction {
            artifact_id: row.artifact_id,
            supplier_name: row.supplier_name,
            extracted_data_json: row.extracted_data_json,
            uploaded_at: String::new(),
        })
        .collect();
    let criteria = dao_criteria::Entity::find()
        .filter(dao_criteria::Column::CaseId.eq(case_id))
        .order_by_asc(dao_criteria::Column::OrdreAffichage)
        .order_by_asc(dao_criteria::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|row| Criterion {
            categorie: row.categorie,
            critere_nom: row.critere_nom,
            description: row.description.unwrap_or_default(),
            ponderation: f64::from(row.ponderation),
            type_reponse: row.type_reponse,
            seuil_elimination: row.seuil_elimination.map(f64::from),
            ordre_affichage: row.ordre_affichage.unwrap_or(0),
            poids_brut: None,
        })
        .collect();
    Ok((analysis::packages_from_extractions(&extractions), criteria))
}

/// Outputs a new run replaces: CBAs, and PVs without a decision.
async fn replaced_outputs(
    db: &impl ConnectionTrait,
    case_id: &str,
) -> Result<Vec<artifacts::Model>, Error> {
    Ok(artifacts::Entity::find()
        .filter(artifacts::Column::CaseId.eq(case_id))
        .filter(artifacts::Column::Kind.is_in([OUTPUT_CBA, OUTPUT_PV]))
        .all(db)
        .await?
        .into_iter()
        .filter(|a| a.kind == OUTPUT_CBA || meta_of(a)["decision_included"] != Value::Bool(true))
        .collect())
}

async fn newest_artifact(
    db: &impl ConnectionTrait,
    case_id: &str,
    kind: &str,
) -> Result<Option<artifacts::Model>, Error> {
    Ok(artifacts::Entity::find()
        .filter(artifacts::Column::CaseId.eq(case_id))
        .filter(artifacts::Column::Kind.eq(kind))
        .order_by_desc(artifacts::Column::UploadedAt)
        .order_by_desc(artifacts::Column::Id)
        .one(db)
        .await?)
}

/// The newest artifact of `kind` of a case, with its file's absolute path
/// (a download): 404 when there is none or its file is gone.
pub async fn download(
    db: &impl ConnectionTrait,
    data: &DataDir,
    user: &User,
    case_id: &str,
    kind: &str,
) -> Result<(artifacts::Model, std::path::PathBuf), Error> {
    crate::committee::visible(db, user, case_id).await?;
    let artifact = newest_artifact(db, case_id, kind)
        .await?
        .ok_or_else(|| Error::not_found("artifact", format!("for {kind} (no artifact found)")))?;
    let path = file_of(data, &artifact)?;
    Ok((artifact, path))
}

/// Artifact `artifact_id` of case `case_id` with its file's path (an
/// uploaded source or an output), for a member of the case's committee; an
/// offer's file only for one who may read the offers.
pub async fn artifact_file(
    db: &impl ConnectionTrait,
    data: &DataDir,
    user: &User,
    case_id: &str,
    artifact_id: &str,
) -> Result<(artifacts::Model, std::path::PathBuf), Error> {
    let (_, access) = crate::committee::visible(db, user, case_id).await?;
    if crate::text::problem(&crate::text::CASE_ID, artifact_id).is_some() {
        return Err(Error::not_found(
            "artifact",
            artifact_id.escape_debug().to_string(),
        ));
    }
    let artifact = artifacts::Entity::find_by_id(artifact_id)
        .filter(artifacts::Column::CaseId.eq(case_id))
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("artifact", artifact_id))?;
    if crate::uploads::is_offer_file(&artifact.kind) {
        access.check_read_offers()?;
    }
    let path = file_of(data, &artifact)?;
    Ok((artifact, path))
}

fn file_of(data: &DataDir, artifact: &artifacts::Model) -> Result<std::path::PathBuf, Error> {
    data.resolve(&artifact.path)
        .filter(|p| p.is_file())
        .ok_or_else(|| {
            Error::not_found(
                "file",
                format!("of artifact {} (missing on disk)", artifact.id),
            )
        })
}

async fn case_info(
    db: &impl ConnectionTrait,
    case: &entity::cases::Model,
) -> Result<CaseInfo, Error> {
    let reference = procurement_references::Entity::find()
        .filter(procurement_references::Column::CaseId.eq(case.id.as_str()))
        .one(db)
        .await?
        .map(|r| r.ref_number);
    Ok(CaseInfo {
        id: case.id.clone(),
        title: case.title.clone(),
        reference,
        case_type: case.case_type.clone(),
        lot: case.lot.clone(),
        opening_date: case.closing_date.clone(),
        committee: crate::committee::committee_of(db, case)
            .await?
            .into_iter()
            .map(|m| analysis::CommitteeMember {
                name: m.full_name.unwrap_or(m.username),
                role: m.role,
                declared_at: m.declared_at,
            })
            .collect(),
    })
}

fn meta_of(artifact: &artifacts::Model) -> Value {
    artifact
        .meta_json
        .as_deref()
        .and_then(|m| serde_json::from_str(m).ok())
        .unwrap_or(Value::Null)
}

/// Where an uploaded artifact's file is.
fn stored_path(data: &DataDir, artifact: &artifacts::Model) -> Result<std::path::PathBuf, Error> {
    data.resolve(&artifact.path).ok_or_else(|| {
        Error::Internal(format!(
            "artifact {} has a path outside the data directory",
            artifact.id
        ))
    })
}

async fn read(data: &DataDir, artifact: &artifacts::Model) -> Result<Vec<u8>, Error> {
    let path = stored_path(data, artifact)?;
    tokio::fs::read(&path).await.map_err(|e| {
        Error::io(
            format!("reading {} ({})", artifact.filename, artifact.id),
            e,
        )
    })
}

async fn template(
    data: &DataDir,
    artifact: Option<&artifacts::Model>,
) -> Result<Option<TemplateDoc>, Error> {
    match artifact {
        Some(a) => Ok(Some(TemplateDoc {
            filename: a.filename.clone(),
            bytes: read(data, a).await?,
        })),
        None => Ok(None),
    }
}

/// A generated file's stored path: its suggested name behind a unique prefix.
fn output_path(case_id: &str, filename: &str) -> String {
    let safe: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!(
        "outputs/{case_id}/{}_{safe}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
}

async fn write_output(data: &DataDir, stored: &str, bytes: &[u8]) -> Result<(), Error> {
    let path = data.resolve(stored).ok_or_else(|| {
        Error::Internal(format!("output path {stored} leaves the data directory"))
    })?;
    if let Some(parent) = path.parent() {
        tokio::fs::create_dir_all(parent)
            .await
            .map_err(|e| Error::io(format!("creating {}", parent.display()), e))?;
    }
    tokio::fs::write(&path, bytes)
        .await
        .map_err(|e| Error::io(format!("writing {}", path.display()), e))
}

#[allow(clippy::too_many_arguments)]
async fn insert_output(
    tx: &impl ConnectionTrait,
    case_id: &str,
    user: &User,
    kind: &str,
    filename: &str,
    stored: &str,
    meta: Value,
    now: &str,
) -> Result<String, Error> {
    let id = uuid::Uuid::new_v4().to_string();
    artifacts::ActiveModel {
        id: Set(id.clone()),
        case_id: Set(case_id.to_owned()),
        kind: Set(kind.to_owned()),
        filename: Set(filename.to_owned()),
        path: Set(stored.to_owned()),
        uploaded_at: Set(now.to_owned()),
        meta_json: Set(Some(meta.to_string())),
        created_at: Set(Some(now.to_owned())),
        created_by: Set(Some(user.id)),
    }
    .insert(tx)
    .await?;
    Ok(id)
}

fn byte_count(len: usize) -> i64 {
    i64::try_from(len).unwrap_or(i64::MAX)
}

/// The size a stored output takes: recorded at its creation, else (outputs
/// made before sizes were recorded) its file's, else nothing.
fn stored_size(data: &DataDir, artifact: &artifacts::Model) -> i64 {
    meta_of(artifact)["size_bytes"]
        .as_i64()
        .or_else(|| {
            data.resolve(&artifact.path)
                .and_then(|p| std::fs::metadata(p).ok())
                .and_then(|m| i64::try_from(m.len()).ok())
        })
        .unwrap_or(0)
}

/// The quota refusing generated documents is a conflict with the case's
/// state (its files fill it), not a request too large.
fn outputs_over_quota(e: Error) -> Error {
    match e {
        Error::TooLarge(message) => Error::Conflict(format!(
            "{message}: the generated documents (CBA, PV) do not fit in the case's space"
        )),
        other => other,
    }
}

/// What the analysis crate still refuses (no offer, a file named by the
/// error) is the client's 4xx; failing to write an output is ours.
fn analysis_error(e: analysis::AnalysisError) -> Error {
    if e.is_client_error() {
        Error::Unprocessable(e.to_string())
    } else {
        Error::Internal(e.to_string())
    }
}
