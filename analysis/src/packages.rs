//! Supplier packages (§7.7): the documents of one supplier put together,
//! with the parts and the fields still missing.

use serde::{Deserialize, Serialize};

use crate::offers::{
    GuidedFields, MISSING_LEAD_TIME, MISSING_PRICE, MISSING_REFS, MISSING_VALIDITY, Subtype,
};
use crate::text::{xml_text, xml_text_opt, xml_texts};

/// One analysed offer document, as the package builder needs it.
#[derive(Debug, Clone)]
pub struct DocumentFacts {
    pub artifact_id: String,
    pub supplier_name: String,
    pub uploaded_at: String,
    pub subtype: Subtype,
    pub fields: GuidedFields,
}

/// One supplier's package, with production's dict keys (§7.7).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SupplierPackage {
    pub supplier_name: String,
    pub package_status: String,
    pub has_financial: bool,
    pub has_technical: bool,
    pub has_admin: bool,
    pub total_price: Option<String>,
    pub total_price_source: Option<String>,
    pub currency: String,
    pub lead_time_days: Option<i64>,
    pub lead_time_source: Option<String>,
    pub validity_days: Option<i64>,
    pub validity_source: Option<String>,
    /// De-duplicated, in the order the documents give them.
    pub technical_refs: Vec<String>,
    pub missing_parts: Vec<String>,
    pub missing_extracted_fields: Vec<String>,
    pub missing_fields: Vec<String>,
    pub offer_ids: Vec<String>,
    pub document_count: usize,
    /// Earliest upload time of the package's documents (not in production's
    /// dict; the deposit register needs it).
    #[serde(skip)]
    pub first_uploaded_at: String,
}

impl SupplierPackage {
    pub fn is_unknown(&self) -> bool {
        let n = self.supplier_name.trim();
        n.is_empty() || n == crate::offers::UNKNOWN_SUPPLIER || n == "SUPPLIER_UNKNOWN"
    }

    /// A copy with every text made XML-safe, for the generated documents.
    pub(crate) fn xml_safe(&self) -> SupplierPackage {
        SupplierPackage {
            supplier_name: xml_text(&self.supplier_name),
            package_status: xml_text(&self.package_status),
            total_price: xml_text_opt(&self.total_price),
            total_price_source: xml_text_opt(&self.total_price_source),
            currency: xml_text(&self.currency),
            lead_time_source: xml_text_opt(&self.lead_time_source),
            validity_source: xml_text_opt(&self.validity_source),
            technical_refs: xml_texts(&self.technical_refs),
            missing_parts: xml_texts(&self.missing_parts),
            missing_extracted_fields: xml_texts(&self.missing_extracted_fields),
            missing_fields: xml_texts(&self.missing_fields),
            offer_ids: xml_texts(&self.offer_ids),
            first_uploaded_at: xml_text(&self.first_uploaded_at),
            ..self.clone()
        }
    }
}

/// Key that groups documents of one supplier: case, spacing and lookalike
/// letters do not split a supplier in two (the rule of [`names::key`], the
/// one uploads and the pages use).
pub(crate) fn supplier_key(name: &str) -> String {
    names::key(name)
}

/// Groups the documents, in first-seen order (documents come newest first,
/// so the newest document's value wins when two disagree).
pub fn build_packages(documents: &[DocumentFacts]) -> Vec<SupplierPackage> {
    let mut keys: Vec<String> = Vec::new();
    let mut groups: Vec<Vec<&DocumentFacts>> = Vec::new();
    for doc in documents {
        let key = supplier_key(&doc.supplier_name);
        match keys.iter().position(|k| *k == key) {
            Some(i) => groups[i].push(doc),
            None => {
                keys.push(key);
                groups.push(vec![doc]);
            }
        }
    }
    groups.into_iter().map(|docs| package(&docs)).collect()
}

fn package(docs: &[&DocumentFacts]) -> SupplierPackage {
    let has_financial = docs.iter().any(|d| d.subtype.has_financial);
    let has_technical = docs.iter().any(|d| d.subtype.has_technical);
    let has_admin = docs.iter().any(|d| d.subtype.has_admin);
    // The price and its source come from the same document.
    let price = docs
        .iter()
        .find(|d| d.fields.total_price.is_some())
        .map(|d| {
            (
                d.fields.total_price.clone(),
                d.fields.total_price_source.clone(),
                d.fields.currency.clone(),
            )
        });
    let lead = docs
        .iter()
        .find(|d| d.fields.lead_time_days.is_some())
        .map(|d| (d.fields.lead_time_days, d.fields.lead_time_source.clone()));
    let validity = docs
        .iter()
        .find(|d| d.fields.validity_days.is_some())
        .map(|d| (d.fields.validity_days, d.fields.validity_source.clone()));
    let mut technical_refs: Vec<String> = Vec::new();
    for d in docs {
        for r in &d.fields.technical_refs {
            if !technical_refs.contains(r) {
                technical_refs.push(r.clone());
            }
        }
    }
    let (total_price, total_price_source, currency) =
        price.unwrap_or((None, None, "XOF".to_string()));
    let (lead_time_days, lead_time_source) = lead.unwrap_or((None, None));
    let (validity_days, validity_source) = validity.unwrap_or((None, None));

    let mut missing_parts = Vec::new();
    if !has_admin {
        missing_parts.push("ADMIN".to_string());
    }
    if !has_technical {
        missing_parts.push("TECHNICAL".to_string());
    }
    let mut missing = Vec::new();
    if has_financial {
        if total_price.is_none() {
            missing.push(MISSING_PRICE.to_string());
        }
        if lead_time_days.is_none() {
            missing.push(MISSING_LEAD_TIME.to_string());
        }
        if validity_days.is_none() {
            missing.push(MISSING_VALIDITY.to_string());
        }
    }
    if has_technical && technical_refs.is_empty() {
        missing.push(MISSING_REFS.to_string());
    }
    let package_status = if has_financial && has_technical && has_admin {
        "COMPLETE"
    } else if has_financial || has_technical {
        "PARTIAL"
    } else {
        "MISSING"
    };
    let first_uploaded_at = docs
        .iter()
        .map(|d| d.uploaded_at.as_str())
        .min()
        .unwrap_or_default()
        .to_string();
    SupplierPackage {
        supplier_name: docs
            .first()
            .map(|d| d.supplier_name.clone())
            .unwrap_or_default(),
        package_status: package_status.to_string(),
        has_financial,
        has_technical,
        has_admin,
        total_price,
        total_price_source,
        currency,
        lead_time_days,
        lead_time_source,
        validity_days,
        validity_source,
        technical_refs,
        missing_parts,
        missing_extracted_fields: missing.clone(),
        missing_fields: missing,
        offer_ids: docs.iter().map(|d| d.artifact_id.clone()).collect(),
        document_count: docs.len(),
        first_uploaded_at,
    }
}
