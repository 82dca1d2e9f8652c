//! The PV (minutes) as a Word document (§7.9): the case's template with its
//! placeholders replaced run by run, or production's default layout; the
//! summary of what was extracted and, once decided, the committee's decision.
//!
//! Fixed against production: a placeholder keeps the formatting of the run
//! it starts in, and is replaced also when Word split it across runs (D-32);
//! a template without paragraphs is filled, never a crash (D-05).

mod read;
mod sections;
mod standard;
mod template;

use serde::{Deserialize, Serialize};

use crate::budget::Budget;
use crate::criteria::Criterion;
use crate::error::{AnalysisError, guard};
use crate::filename::{safe_stem, stamp};
use crate::input::{CaseInfo, TemplateDoc};
use crate::packages::SupplierPackage;
use crate::text::xml_text;

pub use read::docx_paragraphs;
pub use sections::{supplier_line, undecided};
use standard::default_layout;
use template::fill_template;

/// The committee's decision, as `/api/decide` records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub chosen_supplier: String,
    pub decision_reason: String,
    pub next_action: String,
    /// UTC-ISO.
    pub decided_at: String,
}

impl Decision {
    /// A copy with every text made XML-safe, for the generated documents.
    pub(crate) fn xml_safe(&self) -> Decision {
        Decision {
            chosen_supplier: xml_text(&self.chosen_supplier),
            decision_reason: xml_text(&self.decision_reason),
            next_action: xml_text(&self.next_action),
            decided_at: xml_text(&self.decided_at),
        }
    }
}

/// What a PV is made from.
#[derive(Debug, Clone, Copy)]
pub struct PvInput<'a> {
    pub case: &'a CaseInfo,
    pub criteria: &'a [Criterion],
    pub packages: &'a [SupplierPackage],
    pub decision: Option<&'a Decision>,
    /// The case's newest `pv_template`, if any.
    pub template: Option<&'a TemplateDoc>,
    /// UTC-ISO, written as `{{GENERATED_AT}}`.
    pub generated_at: &'a str,
}

/// A rendered PV.
#[derive(Debug, Clone)]
pub struct PvOutput {
    pub bytes: Vec<u8>,
    /// Suggested stored name: `PV_<template stem | DEFAULT>_<timestamp>.docx`.
    pub filename: String,
    /// For `meta_json.template_used`: the template's filename or `default`.
    pub template_used: String,
    /// For `meta_json.decision_included`.
    pub decision_included: bool,
    /// Why the template was not used, when it was given and not used.
    pub notes: Vec<String>,
}

/// Renders the PV: from the template when one is given, else the default
/// layout. Used by the analysis run (no decision) and by `/api/decide`. A
/// template that cannot be read gives the default layout and a note: it
/// never fails the run nor the decision.
pub fn render_pv(input: &PvInput<'_>) -> Result<PvOutput, AnalysisError> {
    render_pv_within(input, &Budget::for_document())
}

pub(crate) fn render_pv_within(
    input: &PvInput<'_>,
    budget: &Budget,
) -> Result<PvOutput, AnalysisError> {
    // Every text the document gets, made XML-safe once: a placeholder's value
    // goes into the template's XML as it is.
    let case = input.case.xml_safe();
    let criteria: Vec<Criterion> = input.criteria.iter().map(Criterion::xml_safe).collect();
    let packages: Vec<SupplierPackage> = input
        .packages
        .iter()
        .map(SupplierPackage::xml_safe)
        .collect();
    let decision = input.decision.map(Decision::xml_safe);
    let generated_at = xml_text(input.generated_at);
    let input = &PvInput {
        case: &case,
        criteria: &criteria,
        packages: &packages,
        decision: decision.as_ref(),
        generated_at: &generated_at,
        template: input.template,
    };
    let mut notes = Vec::new();
    let filled = input.template.and_then(|t| {
        match guard(&t.filename, || fill_template(t, input, budget)) {
            Ok(bytes) => Some(Ok((bytes, t))),
            Err(e @ AnalysisError::Write { .. }) => Some(Err(e)),
            Err(e) => {
                notes.push(format!(
                    "Le modèle de PV {} n'a pas pu être lu ({}): la mise en page par défaut a été utilisée.",
                    t.filename,
                    crate::error::problem_fr(&e)
                ));
                None
            }
        }
    });
    let (bytes, template_used, stem) = match filled.transpose()? {
        Some((bytes, t)) => {
            let stem = t
                .filename
                .rsplit_once('.')
                .map_or(t.filename.as_str(), |(s, _)| s)
                .to_string();
            (bytes, t.filename.clone(), stem)
        }
        None => (
            default_layout(input)?,
            "default".to_string(),
            "DEFAULT".to_string(),
        ),
    };
    Ok(PvOutput {
        bytes,
        filename: format!("PV_{}_{}.docx", safe_stem(&stem), stamp(input.generated_at)),
        template_used,
        decision_included: input.decision.is_some(),
        notes,
    })
}
