//! What a run or a decision writes: the generated documents' files and
//! rows, their place in the case's quota, and the outputs a run replaces.

use entity::artifacts;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
};

use crate::Error;
use crate::artifact_meta::ArtifactMeta;
use crate::auth::User;
use crate::error::Refusal;
use crate::storage::Storage;

/// Artifact kinds of the generated documents.
pub const OUTPUT_CBA: &str = "output_cba";

pub const OUTPUT_PV: &str = "output_pv";

/// Outputs a new run replaces: CBAs, and PVs whose metadata says they hold
/// no decision. A PV whose metadata is missing or unreadable may hold one:
/// it is kept, and the log says so.
pub(super) async fn replaced_outputs(
    db: &impl ConnectionTrait,
    case_id: &str,
) -> Result<Vec<artifacts::Model>, Error> {
    Ok(artifacts::Entity::find()
        .filter(artifacts::Column::CaseId.eq(case_id))
        .filter(artifacts::Column::Kind.is_in([OUTPUT_CBA, OUTPUT_PV]))
        .all(db)
        .await?
        .into_iter()
        .filter(|a| a.kind == OUTPUT_CBA || replaceable_pv(a))
        .collect())
}

fn replaceable_pv(pv: &artifacts::Model) -> bool {
    match ArtifactMeta::of(pv) {
        Ok(meta) => meta.replaceable_pv(),
        Err(e) => {
            tracing::warn!(case_id = %pv.case_id, "{e}: the PV is kept");
            false
        }
    }
}

/// A generated file's stored path: its suggested name behind a unique prefix.
pub(super) fn output_path(case_id: &str, filename: &str) -> String {
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

pub(super) async fn write_output(data: &Storage, stored: &str, bytes: &[u8]) -> Result<(), Error> {
    data.put(stored, bytes.to_vec()).await
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn insert_output(
    tx: &impl ConnectionTrait,
    case_id: &str,
    user: &User,
    kind: &str,
    filename: &str,
    stored: &str,
    meta: &ArtifactMeta,
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
        meta_json: Set(Some(meta.to_json())),
        created_at: Set(Some(now.to_owned())),
        created_by: Set(Some(user.id)),
    }
    .insert(tx)
    .await?;
    Ok(id)
}

pub(super) fn byte_count(len: usize) -> i64 {
    i64::try_from(len).unwrap_or(i64::MAX)
}

/// The size a stored output takes: recorded at its creation, else (outputs
/// made before sizes were recorded) its file's, else nothing.
pub(super) fn stored_size(data: &Storage, artifact: &artifacts::Model) -> i64 {
    ArtifactMeta::or_empty(artifact)
        .size_bytes
        .or_else(|| {
            data.local_size(&artifact.path)
                .and_then(|len| i64::try_from(len).ok())
        })
        .unwrap_or(0)
}

/// The quota refusing generated documents is a conflict with the case's
/// state (its files fill it), not a request too large.
pub(super) fn outputs_over_quota(e: Error) -> Error {
    match e {
        Error::Refused(Refusal::Quota { used_bytes }) => {
            Refusal::OutputsOverQuota { used_bytes }.into()
        }
        other => other,
    }
}
