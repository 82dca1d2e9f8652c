//! What a run or a decision reads: the case's uploads and templates, the
//! case's facts for the documents, an artifact's metadata, and the
//! analysis crate's refusals as the service's errors.

use analysis::{CaseInfo, TemplateDoc};
use entity::{artifacts, procurement_references};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::Error;
use crate::error::Refusal;
use crate::storage::{LocalCopies, Storage};

/// The uploads of case `case_id`, newest first, once it has what a run
/// needs: a DAO and at least one offer.
pub(super) async fn sources(
    db: &impl ConnectionTrait,
    case_id: &str,
) -> Result<Vec<artifacts::Model>, Error> {
    let uploads = artifacts::Entity::find()
        .filter(artifacts::Column::CaseId.eq(case_id))
        .order_by_desc(artifacts::Column::UploadedAt)
        .order_by_desc(artifacts::Column::Id)
        .all(db)
        .await?;
    if !uploads.iter().any(|a| a.kind == "dao") {
        return Err(Refusal::MissingDao.into());
    }
    if !uploads.iter().any(|a| a.kind == "offer") {
        return Err(Refusal::MissingOffers.into());
    }
    Ok(uploads)
}

pub(super) async fn newest_artifact(
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

pub(super) async fn case_info(
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
        language: analysis::Language::from_tag(&case.language),
        // Set under the case's lock, just before the PV is written.
        ledger: None,
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

/// A local path of an uploaded artifact's file (a copy in `copies` when
/// the files are in a bucket), for the analysis crate to read.
pub(super) async fn local_path(
    data: &Storage,
    artifact: &artifacts::Model,
    copies: &LocalCopies,
) -> Result<std::path::PathBuf, Error> {
    data.local_path(&artifact.path, copies).await
}

pub(super) async fn read(data: &Storage, artifact: &artifacts::Model) -> Result<Vec<u8>, Error> {
    data.read(&artifact.path).await
}

pub(super) async fn template(
    data: &Storage,
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

/// What the analysis crate still refuses (no offer, a file named by the
/// error) is the client's 4xx; failing to write an output is ours.
pub(super) fn analysis_error(e: analysis::AnalysisError) -> Error {
    if e.is_client_error() {
        Refusal::Document(e).into()
    } else {
        Error::Internal(e.to_string())
    }
}
