//! What `/api/decide` needs from the latest run (§8): the supplier
//! packages rebuilt from the stored extractions (D-24), and the decision
//! checked against them (D-34).

use serde_json::Value;

use crate::offers::{self, GuidedFields, Subtype};
use crate::packages::{DocumentFacts, SupplierPackage, build_packages, supplier_key};

/// An `offer_extractions` row read back by `/api/decide`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredExtraction {
    pub artifact_id: String,
    pub supplier_name: String,
    /// With the `uploaded_at` the run wrote into it (orders the documents
    /// as the run did).
    pub extracted_data_json: String,
}

/// Rebuilds the supplier packages from the stored extractions of the latest
/// run, with the same aggregation as the run (D-24). Rows whose JSON cannot
/// be read count as documents with nothing extracted.
pub fn packages_from_extractions(rows: &[StoredExtraction]) -> Vec<SupplierPackage> {
    let mut facts: Vec<DocumentFacts> = rows
        .iter()
        .map(|r| {
            let data: Value = serde_json::from_str(&r.extracted_data_json).unwrap_or(Value::Null);
            let fields: GuidedFields = serde_json::from_value(data.clone()).unwrap_or_default();
            let subtype: Subtype = data
                .get("subtype")
                .cloned()
                .and_then(|s| serde_json::from_value(s).ok())
                .unwrap_or_else(|| offers::subtype_from_flags(false, false, false));
            // The run also wrote the upload time into the JSON.
            let uploaded_at = data
                .get("uploaded_at")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            DocumentFacts {
                artifact_id: r.artifact_id.clone(),
                supplier_name: r.supplier_name.clone(),
                uploaded_at,
                subtype,
                fields,
            }
        })
        .collect();
    facts.sort_by(|a, b| {
        b.uploaded_at
            .cmp(&a.uploaded_at)
            .then_with(|| a.artifact_id.cmp(&b.artifact_id))
    });
    build_packages(&facts)
}

/// The analysed package of the chosen supplier, compared without regard to
/// case and spacing (D-34).
pub fn find_analysed_supplier<'a>(
    packages: &'a [SupplierPackage],
    chosen: &str,
) -> Option<&'a SupplierPackage> {
    let key = supplier_key(chosen);
    packages
        .iter()
        .find(|p| supplier_key(&p.supplier_name) == key)
}

/// Why a decision cannot be recorded (D-34).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecisionProblem {
    #[error("{0} must not be empty")]
    Empty(&'static str),
    #[error("no analysis has been run for this case")]
    NotAnalysed,
    #[error("'{0}' is not among the offers analysed")]
    NotAmongOffers(String),
}

/// Checks a decision against the analysed packages (D-34): every field
/// filled, an analysis done, and the chosen supplier one of the packages.
/// Returns the supplier's name as the analysis wrote it.
pub fn check_decision(
    packages: &[SupplierPackage],
    chosen_supplier: &str,
    decision_reason: &str,
    next_action: &str,
) -> Result<String, DecisionProblem> {
    for (name, value) in [
        ("chosen_supplier", chosen_supplier),
        ("decision_reason", decision_reason),
        ("next_action", next_action),
    ] {
        if value.trim().is_empty() {
            return Err(DecisionProblem::Empty(name));
        }
    }
    if packages.is_empty() {
        return Err(DecisionProblem::NotAnalysed);
    }
    find_analysed_supplier(packages, chosen_supplier)
        .map(|p| p.supplier_name.clone())
        .ok_or_else(|| DecisionProblem::NotAmongOffers(chosen_supplier.trim().to_string()))
}
