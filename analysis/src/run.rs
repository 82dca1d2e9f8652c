//! One analysis run (§7.1): the DAO's criteria, each offer's fields, the
//! supplier packages, the memory entry, the CBA and the PV, under the run's
//! budget.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::budget::{Budget, Limits};
use crate::cba::{CbaInput, CbaOutput, LeftOut, build_cba};
use crate::criteria::{Criterion, extract_criteria};
use crate::error::AnalysisError;
use crate::extract::{DAO_KINDS, DocKind, ExtractedText, OFFER_KINDS, extract_text_within};
use crate::input::{Content, OfferDoc, RunInput};
use crate::offers::{self, GuidedFields, Subtype};
use crate::packages::{DocumentFacts, SupplierPackage, build_packages, supplier_key};
use crate::pv::{PvInput, PvOutput, render_pv_within};

/// One `offer_extractions` row, without its id, case id and creation time.
#[derive(Debug, Clone, PartialEq)]
pub struct OfferExtraction {
    pub artifact_id: String,
    pub supplier_name: String,
    /// `extracted_data_json`: the §7.6 fields, `subtype`, and
    /// `needs_manual_review` / `supplier_name_source` / `source_filename`.
    pub extracted_data: Value,
    /// `missing_fields_json`.
    pub missing_fields: Vec<String>,
}

impl OfferExtraction {
    pub fn extracted_data_json(&self) -> String {
        self.extracted_data.to_string()
    }
    pub fn missing_fields_json(&self) -> String {
        serde_json::to_string(&self.missing_fields).unwrap_or_else(|_| "[]".to_string())
    }
}

/// A document a human must read: no text to read (a scan, an empty sheet),
/// or a file the run could not read (damaged, mistyped, encrypted, over its
/// budget). The run goes on with the other documents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManualReview {
    pub artifact_id: String,
    pub filename: String,
    /// Why, in the committee's words.
    pub reason: String,
    /// Why, as a fact (runs recorded before it was added read as `no_text`).
    #[serde(default)]
    pub cause: ReviewCause,
}

/// Why a document is listed for manual reading.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewCause {
    /// Read, but no text in it (a scan without a text layer, an empty sheet).
    #[default]
    NoText,
    /// Damaged or not the document it claims to be.
    Unreadable,
    /// Content of a kind the analysis does not read for this role.
    Unsupported,
    /// Password-protected.
    Encrypted,
    /// Would inflate past the document's or the run's budget.
    OverBudget,
}

impl ReviewCause {
    fn of(e: &AnalysisError) -> ReviewCause {
        match e {
            AnalysisError::Unsupported { .. } => ReviewCause::Unsupported,
            AnalysisError::Encrypted { .. } => ReviewCause::Encrypted,
            AnalysisError::OverBudget { .. } => ReviewCause::OverBudget,
            _ => ReviewCause::Unreadable,
        }
    }
}

/// The run's budget, shared out document by document.
struct RunBudget {
    limits: Limits,
    left: u64,
}

impl RunBudget {
    /// Reads one document under what the run has left, and charges the run
    /// with what it inflated.
    fn extract(
        &mut self,
        filename: &str,
        bytes: &[u8],
        allowed: &[DocKind],
    ) -> Result<ExtractedText, AnalysisError> {
        if self.left == 0 {
            return Err(AnalysisError::over_budget(
                filename,
                crate::error::Overrun::Run,
                crate::extract::size_text(self.limits.run_inflated),
            ));
        }
        let budget = Budget::new(self.limits, self.left);
        let out = extract_text_within(filename, bytes, allowed, &budget);
        self.left = self.left.saturating_sub(budget.used());
        out
    }

    fn budget(&self) -> Budget {
        Budget::new(self.limits, self.left)
    }
}

/// The bytes of one document, read from its file if need be: the caller
/// drops them once their text is extracted.
fn load<'a>(
    filename: &str,
    content: &'a Content,
) -> Result<std::borrow::Cow<'a, [u8]>, AnalysisError> {
    content.load().map_err(|e| AnalysisError::Read {
        filename: filename.to_string(),
        reason: e.to_string(),
    })
}

/// The review entry of a document the run could not read.
fn unreadable(artifact_id: &str, filename: &str, e: &AnalysisError) -> ManualReview {
    ManualReview {
        artifact_id: artifact_id.to_string(),
        filename: filename.to_string(),
        reason: format!("{}: lecture humaine requise", crate::error::problem_fr(e)),
        cause: ReviewCause::of(e),
    }
}

/// `package_stats` of the response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageStats {
    pub complete: usize,
    pub partial: usize,
    pub financial_only: usize,
}

/// `warnings` of the response, with what production did not report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warnings {
    pub missing_data_count: usize,
    pub suppliers_with_missing_data: Vec<String>,
    pub partial_offers_detected: bool,
    pub note: String,
    /// Suppliers the CBA could not hold, and why (empty when all are in).
    pub left_out_of_cba: Vec<LeftOut>,
    /// Documents without readable text.
    pub manual_review_documents: Vec<ManualReview>,
    /// Other remarks (e.g. the CBA template could not be used).
    pub notes: Vec<String>,
}

/// The counts and warnings of the `/api/analyze` response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSummary {
    pub dao_criteria_count: usize,
    /// Number of supplier packages.
    pub offers_count: usize,
    /// Number of offer documents.
    pub raw_documents_count: usize,
    pub package_stats: PackageStats,
    pub warnings: Warnings,
}

/// Everything one run produces.
#[derive(Debug, Clone)]
pub struct RunOutput {
    /// `dao_criteria` rows, in `ordre_affichage` order.
    pub criteria: Vec<Criterion>,
    /// `offer_extractions` rows, one per offer document, newest upload first.
    pub extractions: Vec<OfferExtraction>,
    pub packages: Vec<SupplierPackage>,
    /// `memory_entries.content_json` of the `extraction` entry.
    pub memory_entry: Value,
    /// The CBA workbook (filled template or standard workbook).
    pub cba: CbaOutput,
    /// The PV, without decision.
    pub pv: PvOutput,
    pub summary: RunSummary,
}

pub const PARTIAL_NOTE: &str = "Offres partielles acceptées: les pièces et données manquantes sont signalées (REVUE MANUELLE) et doivent être complétées ou validées par le comité. Le système ne note pas, ne classe pas et ne recommande pas.";
pub const MEMORY_NOTE: &str = "Extraction automatique: aucune notation, aucun classement, aucune recommandation. Les manques sont signalés pour validation humaine.";

fn declared_flags(offer_type: Option<&str>) -> (bool, bool, bool) {
    match offer_type.map(str::trim) {
        Some("financiere") => (true, false, false),
        Some("technique") => (false, true, false),
        Some("administrative") => (false, false, true),
        _ => (false, false, false),
    }
}

struct Analysed {
    facts: DocumentFacts,
    extraction: OfferExtraction,
    review: Option<ManualReview>,
}

/// Analyses one offer document, holding its bytes only while its text is
/// extracted. One the run cannot read still gives its row, from what the
/// upload declared (supplier, offer type), with nothing extracted and the
/// reason it is listed for manual reading; only a file the server cannot
/// read fails the run.
fn analyse_offer(
    offer: &OfferDoc,
    want_price: bool,
    want_refs: bool,
    run_budget: &mut RunBudget,
) -> Result<Analysed, AnalysisError> {
    let text = {
        let bytes = load(&offer.filename, &offer.content)?;
        run_budget.extract(&offer.filename, &bytes, OFFER_KINDS)
    };
    let (extracted, problem) = match text {
        Ok(extracted) => (extracted, None),
        Err(e) => (
            ExtractedText {
                kind: DocKind::Pdf,
                text: String::new(),
                units: 0,
                needs_manual_review: true,
            },
            Some(e),
        ),
    };
    let given = offer
        .supplier_name
        .as_deref()
        .map(offers::collapse_spaces)
        .filter(|s| !s.is_empty());
    let supplier = offers::supplier_name(given.as_deref(), &offer.filename, &extracted.text);
    let name_source = if given.is_some() {
        "upload"
    } else if supplier == offers::UNKNOWN_SUPPLIER {
        "unknown"
    } else {
        "guessed"
    };
    let detected = offers::detect_subtype(&extracted.text, &offer.filename);
    let (f, t, a) = declared_flags(offer.offer_type.as_deref());
    let subtype: Subtype = offers::subtype_from_flags(
        detected.has_financial || f,
        detected.has_technical || t,
        detected.has_admin || a,
    );
    let fields: GuidedFields = offers::guided_fields(&extracted.text, want_price, want_refs);
    let mut data = serde_json::to_value(&fields).unwrap_or_else(|_| json!({}));
    if let Value::Object(map) = &mut data {
        map.insert("subtype".into(), json!(subtype));
        map.insert(
            "needs_manual_review".into(),
            json!(extracted.needs_manual_review),
        );
        map.insert("supplier_name_source".into(), json!(name_source));
        map.insert("source_filename".into(), json!(offer.filename));
        map.insert("uploaded_at".into(), json!(offer.uploaded_at));
        if let Some(e) = &problem {
            map.insert("unreadable_reason".into(), json!(e.to_string()));
        }
    }
    let review = match &problem {
        Some(e) => Some(unreadable(&offer.artifact_id, &offer.filename, e)),
        None => extracted.needs_manual_review.then(|| ManualReview {
            artifact_id: offer.artifact_id.clone(),
            filename: offer.filename.clone(),
            reason:
                "aucun texte lisible (document scanné sans couche texte ?): lecture humaine requise"
                    .to_string(),
            cause: ReviewCause::NoText,
        }),
    };
    Ok(Analysed {
        facts: DocumentFacts {
            artifact_id: offer.artifact_id.clone(),
            supplier_name: supplier.clone(),
            uploaded_at: offer.uploaded_at.clone(),
            subtype,
            fields: fields.clone(),
        },
        extraction: OfferExtraction {
            artifact_id: offer.artifact_id.clone(),
            supplier_name: supplier,
            extracted_data: data,
            missing_fields: fields.missing_fields,
        },
        review,
    })
}

/// Runs one analysis under the default [`Limits`] (see [`run_within`]).
pub fn run(input: &RunInput) -> Result<RunOutput, AnalysisError> {
    run_within(input, &Limits::default())
}

/// Runs one analysis: criteria, extractions, packages, memory entry, CBA and
/// PV. No document fails the run: one that cannot be read (damaged,
/// mistyped, encrypted, over its budget) is listed for manual reading with
/// the reason, an unreadable DAO leaves the criteria empty, an unreadable
/// template gives the standard layout with a note. The run fails only
/// without offers, when a document's file cannot be read, or when writing
/// an output fails. Documents given as [`Content::File`] are read one at a
/// time, each dropped once its text is extracted.
pub fn run_within(input: &RunInput, limits: &Limits) -> Result<RunOutput, AnalysisError> {
    if input.offers.is_empty() {
        return Err(AnalysisError::MissingOffers);
    }
    let mut run_budget = RunBudget {
        limits: *limits,
        left: limits.run_inflated,
    };
    let mut reviews = Vec::new();
    // One document's bytes at a time: each is dropped once read.
    let dao_text = {
        let bytes = load(&input.dao.filename, &input.dao.content)?;
        run_budget.extract(&input.dao.filename, &bytes, DAO_KINDS)
    };
    let criteria = match &dao_text {
        Ok(t) => extract_criteria(&t.text),
        Err(_) => Vec::new(),
    };
    let want_price = criteria.iter().any(|c| c.categorie == "commercial");
    let want_refs = criteria.iter().any(|c| c.categorie == "technique");

    let mut offers_sorted: Vec<&OfferDoc> = input.offers.iter().collect();
    offers_sorted.sort_by(|a, b| {
        b.uploaded_at
            .cmp(&a.uploaded_at)
            .then_with(|| a.artifact_id.cmp(&b.artifact_id))
    });
    let mut facts = Vec::with_capacity(offers_sorted.len());
    let mut extractions = Vec::with_capacity(offers_sorted.len());
    match &dao_text {
        Ok(t) if t.needs_manual_review => reviews.push(ManualReview {
            artifact_id: input.dao.artifact_id.clone(),
            filename: input.dao.filename.clone(),
            reason: "DAO sans texte lisible: aucun critère n'a pu être extrait".to_string(),
            cause: ReviewCause::NoText,
        }),
        Ok(_) => {}
        Err(e) => {
            let mut review = unreadable(&input.dao.artifact_id, &input.dao.filename, e);
            review.reason = format!(
                "DAO {}: aucun critère n'a pu être extrait",
                crate::error::problem_fr(e)
            );
            reviews.push(review);
        }
    }
    for offer in &offers_sorted {
        let a = analyse_offer(offer, want_price, want_refs, &mut run_budget)?;
        facts.push(a.facts);
        extractions.push(a.extraction);
        reviews.extend(a.review);
    }
    let packages = build_packages(&facts);

    let cba = build_cba(&CbaInput {
        case: &input.case,
        criteria: &criteria,
        packages: &packages,
        template: input.cba_template.as_ref(),
        generated_at: &input.generated_at,
        budget: &run_budget.budget(),
    })?;
    let pv = render_pv_within(
        &PvInput {
            case: &input.case,
            criteria: &criteria,
            packages: &packages,
            decision: None,
            template: input.pv_template.as_ref(),
            generated_at: &input.generated_at,
        },
        &run_budget.budget(),
    )?;

    let memory_entry = json!({
        "dao_source": input.dao.filename,
        "offers_sources": offers_sorted.iter().map(|o| o.filename.as_str()).collect::<Vec<_>>(),
        "dao_criteria_count": criteria.len(),
        "dao_criteria": criteria,
        "raw_offers_count": offers_sorted.len(),
        "supplier_packages_count": packages.len(),
        "packages_summary": packages.iter().map(|p| json!({
            "supplier": p.supplier_name,
            "status": p.package_status,
            "subtypes": facts.iter()
                .filter(|f| supplier_key(&f.supplier_name) == supplier_key(&p.supplier_name))
                .map(|f| f.subtype.subtype.clone())
                .collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "offers_summary": packages,
        "note": MEMORY_NOTE,
    });

    let summary = summarise(&criteria, &packages, extractions.len(), &cba, &pv, reviews);
    Ok(RunOutput {
        criteria,
        extractions,
        packages,
        memory_entry,
        cba,
        pv,
        summary,
    })
}

fn summarise(
    criteria: &[Criterion],
    packages: &[SupplierPackage],
    documents: usize,
    cba: &CbaOutput,
    pv: &PvOutput,
    reviews: Vec<ManualReview>,
) -> RunSummary {
    let with_missing: Vec<String> = packages
        .iter()
        .filter(|p| !p.missing_fields.is_empty())
        .map(|p| p.supplier_name.clone())
        .collect();
    let stats = PackageStats {
        complete: packages
            .iter()
            .filter(|p| p.package_status == "COMPLETE")
            .count(),
        partial: packages
            .iter()
            .filter(|p| p.package_status == "PARTIAL")
            .count(),
        financial_only: packages
            .iter()
            .filter(|p| p.has_financial && !p.has_technical)
            .count(),
    };
    RunSummary {
        dao_criteria_count: criteria.len(),
        offers_count: packages.len(),
        raw_documents_count: documents,
        package_stats: stats,
        warnings: Warnings {
            missing_data_count: packages.iter().map(|p| p.missing_fields.len()).sum(),
            suppliers_with_missing_data: with_missing,
            partial_offers_detected: stats.partial > 0,
            note: PARTIAL_NOTE.to_string(),
            left_out_of_cba: cba.left_out.clone(),
            manual_review_documents: reviews,
            notes: cba.notes.iter().chain(&pv.notes).cloned().collect(),
        },
    }
}
