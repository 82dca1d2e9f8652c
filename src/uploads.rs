//! Uploads of tender documents, offers and templates: the checks of
//! production's §6.1 (file name, magic bytes, 50 MiB per file, 500 MiB per
//! case) and the rules of a case's files (one DAO; one offer per supplier
//! and type; a lot of the same case), enforced in one transaction that also
//! writes the rows, moves the file into place and records an audit row.

use entity::{artifacts, cases, documents, lots, offers};
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, QuerySelect,
};
use serde_json::json;

use crate::auth::{User, invalid_field};
use crate::storage::{DataDir, Received};
use crate::withdrawals::{Replacement, Withdrawn};
use crate::{Error, audit, db, text, timestamp};

/// The largest file accepted: 50 MiB.
pub const MAX_FILE_BYTES: u64 = 52_428_800;
/// The most a case may hold in uploads: 500 MiB.
pub const MAX_CASE_BYTES: i64 = 524_288_000;

/// What an upload is to the case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Dao,
    Offer,
    CbaTemplate,
    PvTemplate,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::CbaTemplate, Kind::Dao, Kind::Offer, Kind::PvTemplate];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Dao => "dao",
            Kind::Offer => "offer",
            Kind::CbaTemplate => "cba_template",
            Kind::PvTemplate => "pv_template",
        }
    }

    pub fn parse(name: &str) -> Option<Kind> {
        let name = name.trim().to_lowercase();
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// Whether an artifact of kind `kind` is an offer's file, current or
/// withdrawn: both are sealed like the offers until the caller may read them.
pub fn is_offer_file(kind: &str) -> bool {
    kind == Kind::Offer.name()
        || kind
            .strip_prefix(crate::withdrawals::WITHDRAWN_PREFIX)
            .is_some_and(|k| k == Kind::Offer.name())
}

/// The offer types production accepts.
pub const OFFER_TYPES: [&str; 4] = ["technique", "financiere", "administrative", "registre"];

/// A file type the system accepts, found from the file's first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileType {
    pub mime: &'static str,
    pub extension: &'static str,
}

const PDF: FileType = FileType {
    mime: "application/pdf",
    extension: "pdf",
};
const DOCX: FileType = FileType {
    mime: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    extension: "docx",
};
const XLSX: FileType = FileType {
    mime: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    extension: "xlsx",
};
const DOC: FileType = FileType {
    mime: "application/msword",
    extension: "doc",
};
const XLS: FileType = FileType {
    mime: "application/vnd.ms-excel",
    extension: "xls",
};

/// Checks a client's file name as production does: it must be what
/// werkzeug's `secure_filename` would keep (ASCII letters, digits, `.`, `_`,
/// `-`; no leading or trailing `.` or `_`). The name is only recorded: the
/// stored name is made by the server.
pub fn check_filename(name: &str) -> Result<(), Error> {
    let valid = !name.is_empty()
        && name.len() <= 255
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        && !name.starts_with(['.', '_'])
        && !name.ends_with(['.', '_']);
    if valid {
        Ok(())
    } else {
        Err(Error::Invalid(format!("Invalid filename: {name}")))
    }
}

/// The types accepted at upload: those the analysis reads. Legacy Word
/// `.doc` and Excel `.xls` files are recognised, and refused with the reason.
const ACCEPTED: [FileType; 3] = [PDF, DOCX, XLSX];

/// The type of a received file from its content (the declared type and the
/// name are ignored): PDF, Word or Excel, else a 400 that says why. The
/// first bytes tell most types; a ZIP package is Word or Excel when its
/// directory holds the main part of one (`word/document.xml`,
/// `xl/workbook.xml`), wherever the tool that wrote it put that entry. A
/// file that is also something a browser or Windows would run (a polyglot:
/// HTML, script or HTA content anywhere in its bytes) is refused.
pub async fn sniff(body: &Received) -> Result<FileType, Error> {
    let Some(found) = infer::get(&body.head) else {
        return Err(Error::Invalid("Unable to determine file type".into()));
    };
    let Some(path) = body.path().map(std::path::Path::to_owned) else {
        return Err(Error::Internal(
            "the received file was already moved".into(),
        ));
    };
    let is_zip = matches!(
        found.extension(),
        "zip" | "docx" | "xlsx" | "pptx" | "epub" | "jar" | "odt" | "ods"
    );
    let (mime, active) = tokio::task::spawn_blocking(move || {
        let mime = if is_zip {
            office_package_type(&path)
        } else {
            found.mime_type()
        };
        (mime, active_content(&path))
    })
    .await
    .map_err(|e| Error::Internal(format!("type detection: {e}")))?;
    let Some(file_type) = ACCEPTED.into_iter().find(|t| t.mime == mime) else {
        // OLE storage is what legacy Office files are (Word, Excel, PowerPoint).
        let legacy = if [DOC.mime, XLS.mime, "application/x-ole-storage"].contains(&mime) {
            ": legacy .doc and .xls files cannot be analysed, save them as .docx or .xlsx"
        } else {
            ""
        };
        return Err(Error::Invalid(format!(
            "Invalid file type: {mime}. Allowed: PDF, Word, Excel (.pdf, .docx, .xlsx){legacy}"
        )));
    };
    if let Some(marker) = active {
        return Err(Error::Invalid(format!(
            "Refused file: a {mime} that also holds web or script content ({marker}); \
             a file that a browser or Windows could run is refused"
        )));
    }
    Ok(file_type)
}

/// What makes a file runnable by a browser or by Windows' `mshta` besides
/// being a document: both look for these anywhere in the raw bytes, so a
/// PDF or an Office package carrying one is a polyglot. Office packages
/// compress their parts and escape `<` in text, and PDF text is in
/// content streams, so genuine documents do not carry them in the clear.
const ACTIVE_MARKERS: [&str; 6] = [
    "<script",
    "<hta:",
    "<html",
    "<!doctype html",
    "<iframe",
    "<svg",
];

/// The first marker of [`ACTIVE_MARKERS`] found in the file (ASCII case
/// ignored), read as a stream: the file is never held whole.
fn active_content(path: &std::path::Path) -> Option<&'static str> {
    let finder = aho_corasick::AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(ACTIVE_MARKERS)
        .ok()?;
    let file = std::fs::File::open(path).ok()?;
    finder
        .stream_find_iter(std::io::BufReader::with_capacity(1 << 16, file))
        .next()
        .and_then(Result::ok)
        .map(|m| ACTIVE_MARKERS[m.pattern().as_usize()])
}

/// The extension a stored file is served with: the one the server gave it
/// from its sniffed type, or `bin` for anything else (rows made before
/// types were checked by content).
pub fn served_extension(stored_path: &str) -> &'static str {
    let ext = stored_path
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    [PDF, DOCX, XLSX, DOC, XLS]
        .into_iter()
        .find(|t| t.extension == ext)
        .map_or("bin", |t| t.extension)
}

/// The MIME type served for an extension of [`served_extension`].
pub fn served_mime(extension: &str) -> &'static str {
    [PDF, DOCX, XLSX, DOC, XLS]
        .into_iter()
        .find(|t| t.extension == extension)
        .map_or("application/octet-stream", |t| t.mime)
}

/// The name a stored file is downloaded under: the client's name with the
/// extension the content earned (`prix.hta` holding a PDF is `prix.pdf`).
pub fn served_filename(client_filename: &str, stored_path: &str) -> String {
    let ext = served_extension(stored_path);
    let stem = match client_filename.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => client_filename,
    };
    format!("{stem}.{ext}")
}

/// The MIME type of a ZIP file by its entries: Word, Excel, or plain ZIP.
fn office_package_type(path: &std::path::Path) -> &'static str {
    let Ok(file) = std::fs::File::open(path) else {
        return "application/zip";
    };
    let Ok(archive) = zip::ZipArchive::new(std::io::BufReader::new(file)) else {
        return "application/zip";
    };
    let has = |name: &str| archive.file_names().any(|n| n.is_ok_and(|n| n == name));
    if has("word/document.xml") {
        DOCX.mime
    } else if has("xl/workbook.xml") {
        XLSX.mime
    } else {
        "application/zip"
    }
}

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
    Error::Conflict("DAO already uploaded. Delete existing DAO first.".into())
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

/// The offer an upload belongs to.
#[derive(Clone, Debug)]
pub struct OfferInfo {
    pub supplier_name: String,
    pub offer_type: String,
    pub lot_id: Option<String>,
}

impl OfferInfo {
    /// Checks the fields (422 like a schema error) and trims the name.
    pub fn new(
        supplier_name: &str,
        offer_type: &str,
        lot_id: Option<String>,
    ) -> Result<Self, Error> {
        text::check(&text::SUPPLIER_NAME, supplier_name.trim())?;
        text::check(&text::OFFER_TYPE, offer_type)?;
        text::check_opt(&text::LOT_ID, lot_id.as_deref())?;
        let supplier_name = supplier_name
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        crate::names::check("supplier_name", &supplier_name)?;
        if supplier_name.is_empty() || supplier_name.chars().count() > 200 {
            return Err(invalid_field(
                "supplier_name",
                "supplier_name must have 1 to 200 characters",
            ));
        }
        if !OFFER_TYPES.contains(&offer_type) {
            return Err(invalid_field(
                "offer_type",
                format!(
                    "Input should be {}",
                    OFFER_TYPES.map(|t| format!("'{t}'")).join(", ")
                ),
            ));
        }
        Ok(OfferInfo {
            supplier_name,
            offer_type: offer_type.to_owned(),
            lot_id: lot_id.filter(|l| !l.trim().is_empty()),
        })
    }

    /// Two supplier names are the same supplier when they read the same:
    /// compared by [`crate::names::key`] (case, spacing, lookalike
    /// characters; exactly otherwise: no pattern, D-20).
    fn same_supplier(&self, other: &str) -> bool {
        crate::names::same(&self.supplier_name, other)
    }
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
    pub document: Option<documents::Model>,
    pub file_type: FileType,
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
    data: &DataDir,
    user: &User,
    mut upload: Upload,
) -> Result<Stored, Error> {
    check_filename(&upload.client_filename)?;
    let file_type = sniff(&upload.body).await?;
    match upload.kind {
        Kind::CbaTemplate if file_type != XLSX => {
            return Err(Error::Invalid(
                "A CBA template must be an Excel .xlsx workbook".into(),
            ));
        }
        Kind::PvTemplate if file_type != DOCX => {
            return Err(Error::Invalid(
                "A PV template must be a Word .docx document".into(),
            ));
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
        let old = crate::withdrawals::withdraw_in(
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
            return Err(Error::Invalid(format!(
                "A {} can only be replaced by a {}",
                old.kind.name(),
                old.kind.name()
            )));
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

    let (offer, document) = match &upload.offer {
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
            let document = documents::ActiveModel {
                id: Set(uuid::Uuid::new_v4().to_string()),
                case_id: Set(upload.case_id.clone()),
                offer_id: Set(Some(offer.id.clone())),
                filename: Set(upload.client_filename.clone()),
                path: Set(stored_path.clone()),
                uploaded_at: Set(now.clone()),
            }
            .insert(&tx)
            .await?;
            (Some(offer), Some(document))
        }
        None => (None, None),
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

    upload.body.persist(data, &stored_path).await?;
    if let Err(e) = tx.commit().await {
        data.remove(&stored_path);
        return Err(e.into());
    }
    Ok(Stored {
        artifact,
        offer,
        document,
        file_type,
        is_late,
        stored_name,
        replaced,
    })
}

fn too_large(size: u64) -> Error {
    Error::TooLarge(format!("File too large: {size} bytes (max 50.0 MB)"))
}

/// Adds `size` to the case's stored total (uploads and generated
/// documents) if the total stays within the quota, in one conditional
/// statement that also locks the case row for the rest of the transaction;
/// a negative `size` gives space back. Returns the case as it was.
pub async fn reserve_quota(
    tx: &impl ConnectionTrait,
    case_id: &str,
    size: i64,
) -> Result<cases::Model, Error> {
    let used = || {
        Expr::expr(Func::coalesce([
            Expr::col(cases::Column::TotalUploadSize),
            Expr::val(0i64),
        ]))
    };
    let updated = cases::Entity::update_many()
        .col_expr(cases::Column::TotalUploadSize, used().add(size))
        .filter(cases::Column::Id.eq(case_id))
        .filter(used().add(size).lte(MAX_CASE_BYTES))
        .exec(tx)
        .await?;
    let case = crate::cases::find(tx, case_id).await?;
    if updated.rows_affected == 0 {
        let used = case.total_upload_size.unwrap_or(0);
        return Err(Error::TooLarge(format!(
            "Case quota exceeded: {:.2} MB / 500.0 MB",
            used as f64 / 1_048_576.0
        )));
    }
    Ok(case)
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
            return Err(Error::Invalid(format!(
                "Lot '{lot_id}' does not belong to case '{case_id}'"
            )));
        }
    }
    if !has_dao(tx, case_id).await? {
        return Err(Error::Invalid(
            "Cannot upload offer before DAO is uploaded.".into(),
        ));
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
        return Err(Error::Conflict(format!(
            "Offer of type '{}' already uploaded for supplier '{}'.",
            offer.offer_type, offer.supplier_name
        )));
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

/// Removes files under `uploads/` and `outputs/` that no artifact names:
/// what a crash between moving a file and committing its row left.
pub async fn sweep_orphans(db: &impl ConnectionTrait, data: &DataDir) -> Result<usize, Error> {
    let mut removed = 0;
    for area in ["uploads", "outputs"] {
        let dir = data.root().join(area);
        let Ok(cases) = std::fs::read_dir(&dir) else {
            continue;
        };
        for case_dir in cases.flatten() {
            let case_id = case_dir.file_name().to_string_lossy().into_owned();
            let Ok(files) = std::fs::read_dir(case_dir.path()) else {
                continue;
            };
            let files: Vec<_> = files.flatten().collect();
            if files.is_empty() {
                continue;
            }
            let known: std::collections::HashSet<String> = artifacts::Entity::find()
                .select_only()
                .column(artifacts::Column::Path)
                .filter(artifacts::Column::CaseId.eq(case_id.as_str()))
                .into_tuple::<String>()
                .all(db)
                .await?
                .into_iter()
                .map(|p| data.display(&p))
                .collect();
            for file in files {
                let rel = format!("{area}/{case_id}/{}", file.file_name().to_string_lossy());
                if !known.contains(&rel) && std::fs::remove_file(file.path()).is_ok() {
                    tracing::warn!(file = %rel, "removed a file no artifact names (left by an interrupted request)");
                    removed += 1;
                }
            }
        }
    }
    Ok(removed)
}
