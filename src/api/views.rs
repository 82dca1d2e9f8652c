//! JSON shapes of stored rows, as production's API shows them: every
//! column, numbers as JSON numbers, file paths relative to the data
//! directory (never a server path).

use entity::{artifacts, cases, documents};
use rust_decimal::prelude::ToPrimitive;
use serde_json::{Value, json};

use crate::storage::Storage;

/// A case: every column of `cases`, in production's order.
pub fn case(c: &cases::Model) -> Value {
    json!({
        "id": c.id,
        "case_type": c.case_type,
        "title": c.title,
        "lot": c.lot,
        "created_at": c.created_at,
        "status": c.status,
        "ref_id": c.ref_id,
        "category_id": c.category_id,
        "purchase_category_id": c.purchase_category_id,
        "estimated_value": c.estimated_value.and_then(|v| v.to_f64()),
        "closing_date": c.closing_date,
        "procedure_type": c.procedure_type,
        "total_upload_size": c.total_upload_size.unwrap_or(0),
        "owner_id": c.owner_id,
    })
}

/// An artifact, its path relative to the data directory.
pub fn artifact(a: &artifacts::Model, data: &Storage) -> Value {
    json!({
        "id": a.id,
        "case_id": a.case_id,
        "kind": a.kind,
        "filename": a.filename,
        "path": data.display(&a.path),
        "uploaded_at": a.uploaded_at,
        "meta_json": a.meta_json,
        "created_at": a.created_at,
        "created_by": a.created_by,
    })
}

/// A document of an offer, its path relative to the data directory.
pub fn document(d: &documents::Model, data: &Storage) -> Value {
    json!({
        "id": d.id,
        "case_id": d.case_id,
        "offer_id": d.offer_id,
        "filename": d.filename,
        "path": data.display(&d.path),
        "uploaded_at": d.uploaded_at,
    })
}
