//! Uploads of tender documents, offers and templates: the checks of
//! production's §6.1 (file name, magic bytes, 50 MiB per file, 500 MiB per
//! case) and the rules of a case's files (one DAO; one offer per supplier
//! and type; a lot of the same case), enforced in one transaction that also
//! writes the rows, moves the file into place and records an audit row.

use entity::{artifacts, cases, documents, lots, offers};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, QuerySelect,
};
use serde_json::json;

use crate::auth::User;
use crate::storage::{Received, Storage};

mod file_type;
mod kind;
mod quota;
mod sweep;
pub mod withdraw;

use crate::error::Refusal;
use crate::{Error, audit, db, timestamp};
pub use file_type::{
    DOCX, FileType, PDF, XLSX, check_filename, served_extension, served_filename, served_mime,
    sniff,
};
pub use kind::{Kind, OFFER_TYPES, OfferInfo, WITHDRAWN_PREFIX, is_offer_file};
pub use quota::{MAX_CASE_BYTES, reserve_quota};
pub use sweep::sweep_orphans;
use withdraw::{Replacement, Withdrawn};

/// The largest file accepted: 50 MiB.
pub const MAX_FILE_BYTES: u64 = 52_428_800;

/// Checks, before the body is received, that case `case_id` exists and
/// that `user` may write to it (404, 403), and for a DAO that the case has
/// none yet (409): a client learns that without sending 50 MiB first.
pub async fn precheck(
    db: &impl ConnectionTrait,
    user: &User,
    case_id: &str,
    kind: Kind,
) -> Result<cases::Model, Error> {
    let (case, access) = crate::committee::visible(db, user, case_id).await?;
    access.check_upload(kind == Kind::Offer)?;
    if kind == Kind::Dao && has_dao(db, case_id).await? {
        return Err(dao_exists());
    }
    Ok(case)
}

fn dao_exists() -> Error {
    Refusal::DaoAlreadyUploaded.into()
}

async fn has_dao(db: &impl ConnectionTrait, case_id: &str) -> Result<bool, Error> {
    Ok(artifacts::Entity::find()
        .select_only()
        .column(artifacts::Column::Id)
        .filter(artifacts::Column::CaseId.eq(case_id))
        .filter(artifacts::Column::Kind.eq(Kind::Dao.name()))
        .into_tuple::<String>()
        .one(db)
        .await?
        .is_some())
}

/// One upload to store.
#[derive(Debug)]
pub struct Upload {
    pub case_id: String,
    pub kind: Kind,
    pub client_filename: String,
    /// For offers uploaded with their supplier (always on `upload-offer`).
    pub offer: Option<OfferInfo>,
    pub body: Received,
    /// The document this one replaces (withdrawn in the same transaction;
    /// an offer keeps its supplier, type and lot unless `offer` is given).
    pub replaces: Option<Replacement>,
}

/// What was stored.
#[derive(Clone, Debug)]
pub struct Stored {
    pub artifact: artifacts::Model,
    pub offer: Option<offers::Model>,
    pub is_late: bool,
    /// The stored file's name (in `uploads/<case_id>/`).
    pub stored_name: String,
    /// The document it replaced, as it was.
    pub replaced: Option<Withdrawn>,
}

/// Stores `upload`: checks its type, reserves its size in the case's quota
/// with one conditional update (never exceeded, whatever the concurrency),
/// checks the case's rules, writes the rows and the audit row, and moves
/// the file into place, all in one transaction. On any failure nothing is
/// kept: no row, no file.
pub async fn store(
    db: &DatabaseConnection,
    data: &Storage,
    user: &User,
    mut upload: Upload,
) -> Result<Stored, Error> {
    check_filename(&upload.client_filename)?;
    let file_type = sniff(&upload.body).await?;
    match upload.kind {
        Kind::CbaTemplate if file_type != XLSX => {
            return Err(Refusal::CbaTemplateNotXlsx.into());
        }
        Kind::PvTemplate if file_type != DOCX => {
            return Err(Refusal::PvTemplateNotDocx.into());
        }
        _ => {}
    }
    if upload.body.size > MAX_FILE_BYTES {
        return Err(too_large(upload.body.size));
    }
    let size = i64::try_from(upload.body.size).map_err(|_| too_large(upload.body.size))?;

    let tx = db::begin_write(db).await?;
    let (_, access) = crate::committee::locked(&tx, user, &upload.case_id).await?;
    let artifact_id = uuid::Uuid::new_v4().to_string();
    let mut replaced = None;
    if let Some(replaces) = &upload.replaces {
        let old = withdraw::withdraw_in(
            &tx,
            user,
            &access,
            &upload.case_id,
            &replaces.artifact_id,
            &replaces.reason,
            Some(&artifact_id),
        )
        .await?;
        if old.kind != upload.kind {
            return Err(Refusal::ReplaceOtherKind {
                kind: old.kind.name(),
            }
            .into());
        }
        if upload.offer.is_none() {
            upload.offer = old.offer.clone();
        }
        replaced = Some(old);
    }
    access.check_upload(upload.kind == Kind::Offer)?;
    let case = reserve_quota(&tx, &upload.case_id, size).await?;
    if upload.kind == Kind::Dao && has_dao(&tx, &upload.case_id).await? {
        return Err(dao_exists());
    }
    if let Some(offer) = &upload.offer {
        check_offer(&tx, &upload.case_id, offer).await?;
    }

    let now = timestamp::now();
    let stored_name = format!(
        "{}_{}.{}",
        upload.kind.name(),
        uuid::Uuid::new_v4(),
        file_type.extension
    );
    let stored_path = format!("uploads/{}/{stored_name}", upload.case_id);
    let is_late = is_late(case.closing_date.as_deref());
    let mut meta = serde_json::Map::new();
    if let Some(offer) = &upload.offer {
        meta.insert("supplier_name".into(), json!(offer.supplier_name));
        meta.insert("offer_type".into(), json!(offer.offer_type));
    }
    meta.insert("original_filename".into(), json!(upload.client_filename));
    meta.insert("size_bytes".into(), json!(upload.body.size));
    meta.insert("mime_type".into(), json!(file_type.mime));
    meta.insert("hash".into(), json!(upload.body.sha256));
    meta.insert("upload_timestamp".into(), json!(now));
    if let Some(offer) = &upload.offer {
        meta.insert("lot_id".into(), json!(offer.lot_id));
        meta.insert("is_late".into(), json!(is_late));
    }
    meta.insert("uploaded_by".into(), json!(user.id));

    let artifact = artifacts::ActiveModel {
        id: Set(artifact_id.clone()),
        case_id: Set(upload.case_id.clone()),
        kind: Set(upload.kind.name().into()),
        filename: Set(upload.client_filename.clone()),
        path: Set(stored_path.clone()),
        uploaded_at: Set(now.clone()),
        meta_json: Set(Some(serde_json::Value::Object(meta).to_string())),
        created_at: Set(Some(now.clone())),
        created_by: Set(Some(user.id)),
    }
    .insert(&tx)
    .await?;

    let offer = match &upload.offer {
        Some(info) => {
            let offer = offers::ActiveModel {
                id: Set(uuid::Uuid::new_v4().to_string()),
                case_id: Set(upload.case_id.clone()),
                supplier_name: Set(info.supplier_name.clone()),
                offer_type: Set(info.offer_type.clone()),
                file_hash: Set(Some(upload.body.sha256.clone())),
                submitted_at: Set(now.clone()),
                created_at: Set(now.clone()),
            }
            .insert(&tx)
            .await?;
            documents::ActiveModel {
                id: Set(uuid::Uuid::new_v4().to_string()),
                case_id: Set(upload.case_id.clone()),
                offer_id: Set(Some(offer.id.clone())),
                filename: Set(upload.client_filename.clone()),
                path: Set(stored_path.clone()),
                uploaded_at: Set(now.clone()),
            }
            .insert(&tx)
            .await?;
            Some(offer)
        }
        None => None,
    };
    audit::record(
        &tx,
        &upload.case_id,
        user.id,
        &format!("upload_{}", upload.kind.name()),
        json!({
            "artifact_id": artifact_id,
            "filename": upload.client_filename,
            "size_bytes": upload.body.size,
            "hash": upload.body.sha256,
            "supplier_name": upload.offer.as_ref().map(|o| &o.supplier_name),
            "offer_type": upload.offer.as_ref().map(|o| &o.offer_type),
        }),
    )
    .await?;

    data.persist(upload.body, &stored_path).await?;
    if let Err(e) = tx.commit().await {
        data.remove(&stored_path).await;
        return Err(e.into());
    }
    Ok(Stored {
        artifact,
        offer,
        is_late,
        stored_name,
        replaced,
    })
}

fn too_large(size: u64) -> Error {
    Refusal::FileTooLarge { size }.into()
}

/// An offer's rules: its lot belongs to the case, the DAO came first, and
/// the supplier has no offer of this type yet.
async fn check_offer(
    tx: &impl ConnectionTrait,
    case_id: &str,
    offer: &OfferInfo,
) -> Result<(), Error> {
    if let Some(lot_id) = &offer.lot_id {
        let lot = lots::Entity::find_by_id(lot_id.as_str())
            .one(tx)
            .await?
            .ok_or_else(|| Error::not_found("Lot", format!("'{lot_id}'")))?;
        if lot.case_id != case_id {
            return Err(Refusal::LotOfOtherCase {
                lot_id: lot_id.clone(),
                case_id: case_id.to_owned(),
            }
            .into());
        }
    }
    if !has_dao(tx, case_id).await? {
        return Err(Refusal::OfferBeforeDao.into());
    }
    let same_type: Vec<String> = offers::Entity::find()
        .select_only()
        .column(offers::Column::SupplierName)
        .filter(offers::Column::CaseId.eq(case_id))
        .filter(offers::Column::OfferType.eq(offer.offer_type.as_str()))
        .into_tuple()
        .all(tx)
        .await?;
    if same_type.iter().any(|name| offer.same_supplier(name)) {
        return Err(Refusal::DuplicateOffer {
            supplier: offer.supplier_name.clone(),
            offer_type: offer.offer_type.clone(),
        }
        .into());
    }
    Ok(())
}

/// Whether an offer received now is late: the closing date (naive UTC, as
/// every stored timestamp: D-36) has passed. An unreadable date is not late.
fn is_late(closing_date: Option<&str>) -> bool {
    closing_date
        .and_then(|d| timestamp::parse(d).ok())
        .is_some_and(|closing| chrono::Utc::now() > closing)
}
