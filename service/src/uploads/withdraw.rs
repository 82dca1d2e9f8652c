//! Withdrawing an uploaded document: a damaged, mistyped or wrong file no
//! longer blocks its case. The document stays in the case's history (its
//! row, renamed to the kind `withdrawn_<kind>`, and its file are kept, and
//! an audit row records who withdrew it, when and why), but no later
//! analysis, rule or page reads it as a document of the case: every reader
//! selects documents by their kind. A withdrawn offer frees its supplier's
//! place, so the same supplier may send it again. Replacing a document is
//! withdrawing it and storing its successor in one transaction
//! ([`super::store`] with a [`Replacement`]).

use entity::{artifacts, documents, offers};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, IntoActiveModel, QueryFilter,
};
use serde_json::{Value, json};

use super::kind::{Kind, OfferInfo, WITHDRAWN_PREFIX};
use crate::auth::User;
use crate::error::{FieldRule, invalid_field};
use crate::{Error, audit, db, timestamp};

/// What replaces a document, and why.
#[derive(Clone, Debug)]
pub struct Replacement {
    pub artifact_id: String,
    pub reason: String,
}

/// A document as it was before its withdrawal.
#[derive(Clone, Debug)]
pub struct Withdrawn {
    pub artifact: artifacts::Model,
    pub kind: Kind,
    /// For an offer: its supplier, type and lot, for a replacement to keep.
    pub offer: Option<OfferInfo>,
    pub withdrawn_at: String,
}

/// Checks a withdrawal's reason: required (it is the evidence of why),
/// and text as [`crate::text`] allows it.
pub fn check_reason(reason: &str) -> Result<String, Error> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(invalid_field("reason", FieldRule::WithdrawalReason));
    }
    crate::text::check(&crate::text::WITHDRAWAL_REASON, reason)?;
    Ok(reason.to_owned())
}

/// The kind of the uploaded document `artifact_id` of case `case_id`, for a
/// caller who may see the case (404 otherwise, and for a document that is
/// not an upload of that case or was already withdrawn).
pub async fn kind_of(
    db: &impl ConnectionTrait,
    user: &User,
    case_id: &str,
    artifact_id: &str,
) -> Result<Kind, Error> {
    crate::committee::visible(db, user, case_id).await?;
    let artifact = current(db, case_id, artifact_id).await?;
    upload_kind(&artifact)
}

/// Withdraws the uploaded document `artifact_id` of case `case_id`, in one
/// transaction.
pub async fn withdraw(
    db: &DatabaseConnection,
    user: &User,
    case_id: &str,
    artifact_id: &str,
    reason: &str,
) -> Result<Withdrawn, Error> {
    let reason = check_reason(reason)?;
    let tx = db::begin_write(db).await?;
    let (_, access) = crate::committee::locked(&tx, user, case_id).await?;
    let withdrawn = withdraw_in(&tx, user, &access, case_id, artifact_id, &reason, None).await?;
    tx.commit().await?;
    Ok(withdrawn)
}

/// Withdraws a document inside the caller's transaction, which holds the
/// case's lock: `access` is the caller's access to the case, `replaced_by`
/// the artifact that replaces it, if any.
pub async fn withdraw_in(
    tx: &impl ConnectionTrait,
    user: &User,
    access: &crate::committee::Access,
    case_id: &str,
    artifact_id: &str,
    reason: &str,
    replaced_by: Option<&str>,
) -> Result<Withdrawn, Error> {
    let artifact = current(tx, case_id, artifact_id).await?;
    let kind = upload_kind(&artifact)?;
    access.check_upload(kind == Kind::Offer)?;
    let withdrawn_at = timestamp::now();
    let mut meta = match artifact.meta_json.as_deref().map(serde_json::from_str) {
        Some(Ok(Value::Object(map))) => map,
        _ => serde_json::Map::new(),
    };
    let offer = offer_of(&meta);
    meta.insert("withdrawn_at".into(), json!(withdrawn_at));
    meta.insert("withdrawn_by".into(), json!(user.id));
    meta.insert("withdrawal_reason".into(), json!(reason));
    if let Some(successor) = replaced_by {
        meta.insert("replaced_by".into(), json!(successor));
    }
    let mut row = artifact.clone().into_active_model();
    row.kind = Set(format!("{WITHDRAWN_PREFIX}{}", kind.name()));
    row.meta_json = Set(Some(Value::Object(meta).to_string()));
    row.update(tx).await?;
    if kind == Kind::Offer {
        // The offer and its document rows name the file as a received
        // offer; the artifact row keeps the history.
        let docs = documents::Entity::find()
            .filter(documents::Column::CaseId.eq(case_id))
            .filter(documents::Column::Path.eq(artifact.path.as_str()))
            .all(tx)
            .await?;
        let offer_ids: Vec<String> = docs.iter().filter_map(|d| d.offer_id.clone()).collect();
        documents::Entity::delete_many()
            .filter(documents::Column::Id.is_in(docs.iter().map(|d| d.id.clone())))
            .exec(tx)
            .await?;
        offers::Entity::delete_many()
            .filter(offers::Column::CaseId.eq(case_id))
            .filter(offers::Column::Id.is_in(offer_ids))
            .exec(tx)
            .await?;
    }
    audit::record(
        tx,
        case_id,
        user.id,
        &format!("withdraw_{}", kind.name()),
        json!({
            "artifact_id": artifact.id,
            "filename": artifact.filename,
            "reason": reason,
            "replaced_by": replaced_by,
            "supplier_name": offer.as_ref().map(|o| &o.supplier_name),
            "offer_type": offer.as_ref().map(|o| &o.offer_type),
        }),
    )
    .await?;
    Ok(Withdrawn {
        artifact,
        kind,
        offer,
        withdrawn_at,
    })
}

/// The document `artifact_id` of case `case_id`, not withdrawn.
async fn current(
    db: &impl ConnectionTrait,
    case_id: &str,
    artifact_id: &str,
) -> Result<artifacts::Model, Error> {
    artifacts::Entity::find_by_id(artifact_id)
        .filter(artifacts::Column::CaseId.eq(case_id))
        .one(db)
        .await?
        .filter(|a| Kind::parse(&a.kind).is_some())
        .ok_or_else(|| Error::not_found("Document", format!("'{artifact_id}'")))
}

/// An upload's kind; a generated document is not an upload.
fn upload_kind(artifact: &artifacts::Model) -> Result<Kind, Error> {
    Kind::parse(&artifact.kind)
        .ok_or_else(|| Error::not_found("Document", format!("'{}'", artifact.id)))
}

/// The offer fields an upload recorded in its metadata.
fn offer_of(meta: &serde_json::Map<String, Value>) -> Option<OfferInfo> {
    let text = |key: &str| meta.get(key).and_then(Value::as_str).map(str::to_owned);
    Some(OfferInfo {
        supplier_name: text("supplier_name")?,
        offer_type: text("offer_type")?,
        lot_id: text("lot_id"),
    })
}
