//! An artifact's metadata (`artifacts.meta_json`) as one typed struct: the
//! only place its keys are named, read and written. Keys this version does
//! not know are kept as they were (production wrote rows too).

use entity::artifacts;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// What `artifacts.meta_json` holds. Every key is optional: uploads,
/// generated documents and withdrawals each fill their own, and rows
/// written by production may lack any of them. The field order is the
/// order the keys are written in.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ArtifactMeta {
    /// Generated documents: the template's filename or `default`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template_used: Option<String>,
    /// Generated CBA: the suppliers the template could not hold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub left_out: Option<Value>,
    /// Generated PV: whether it records a decision (such a PV is never replaced).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision_included: Option<bool>,
    /// Generated PV with a decision: the decision's memory entry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supplier_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offer_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original_filename: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// The file's SHA-256 (hex), computed on receipt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upload_timestamp: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lot_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_late: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uploaded_by: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub withdrawn_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub withdrawn_by: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub withdrawal_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replaced_by: Option<String>,
    /// Keys this version does not name, kept as found.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// `meta_json` is there but is not an object of the expected keys.
#[derive(Debug, thiserror::Error)]
#[error("artifact {artifact_id}: unreadable meta_json ({reason})")]
pub struct Unreadable {
    pub artifact_id: String,
    pub reason: String,
}

impl ArtifactMeta {
    /// The metadata of `artifact`: empty when `meta_json` is NULL, an error
    /// when it cannot be read (a caller deciding what to delete must keep).
    pub fn of(artifact: &artifacts::Model) -> Result<Self, Unreadable> {
        match artifact.meta_json.as_deref() {
            None => Ok(Self::default()),
            Some(text) => serde_json::from_str(text).map_err(|e| Unreadable {
                artifact_id: artifact.id.clone(),
                reason: e.to_string(),
            }),
        }
    }

    /// The metadata of `artifact` for display: unreadable reads as empty.
    pub fn or_empty(artifact: &artifacts::Model) -> Self {
        Self::of(artifact).unwrap_or_default()
    }

    /// The text stored in `meta_json`.
    pub fn to_json(&self) -> String {
        // Serialising plain strings, numbers and maps cannot fail.
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }

    /// Whether this is a generated PV that a new run may replace: only when
    /// its metadata says it records no decision (unknown means keep).
    pub fn replaceable_pv(&self) -> bool {
        self.decision_included == Some(false)
    }
}
