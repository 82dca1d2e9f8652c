//! A case's stored files for a reader: the newest generated documents and
//! any artifact, with the access rules of offers.

use entity::artifacts;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::inputs::newest_artifact;
use crate::Error;
use crate::auth::User;
use crate::storage::{Storage, StoredFile};

/// The newest artifact of `kind` of a case, with its file (a download): 404 when there is none or its file is gone.
pub async fn download(
    db: &impl ConnectionTrait,
    data: &Storage,
    user: &User,
    case_id: &str,
    kind: &str,
) -> Result<(artifacts::Model, StoredFile), Error> {
    crate::committee::visible(db, user, case_id).await?;
    let artifact = newest_artifact(db, case_id, kind)
        .await?
        .ok_or_else(|| Error::not_found("artifact", format!("for {kind} (no artifact found)")))?;
    let file = file_of(data, &artifact).await?;
    Ok((artifact, file))
}

/// Artifact `artifact_id` of case `case_id` with its file (an
/// uploaded source or an output), for a member of the case's committee; an
/// offer's file only for one who may read the offers.
pub async fn artifact_file(
    db: &impl ConnectionTrait,
    data: &Storage,
    user: &User,
    case_id: &str,
    artifact_id: &str,
) -> Result<(artifacts::Model, StoredFile), Error> {
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
    let file = file_of(data, &artifact).await?;
    Ok((artifact, file))
}

pub(super) async fn file_of(
    data: &Storage,
    artifact: &artifacts::Model,
) -> Result<StoredFile, Error> {
    data.open(&artifact.path).await?.ok_or_else(|| {
        Error::not_found(
            "file",
            format!("of artifact {} (missing from the storage)", artifact.id),
        )
    })
}
