//! The CBA (comparative bid analysis) workbook (§7.8, §13): the case's
//! template filled in place, or the five-sheet standard workbook.
//!
//! Nothing here scores, weighs or ranks (D-35): the workbook carries what was
//! extracted, and every guessed or missing value is flagged for a human with
//! an orange fill and a comment giving its source.

mod cells;
mod fill;
mod standard;
mod template;

use crate::budget::Budget;
use crate::criteria::Criterion;
use crate::error::{AnalysisError, guard};
use crate::filename::{safe_stem, stamp};
use crate::input::{CaseInfo, TemplateDoc};
use crate::packages::SupplierPackage;
use crate::text::xml_text;

pub use cells::{REVIEW_FILL, manual_review};
use fill::fill_template;
pub use fill::{LeftOut, SYSTEM_SHEET};
pub use standard::standard_sheets;
use standard::standard_workbook;
use template::read_template;
pub use template::{CbaTemplateSchema, TemplateCriterionRow, analyse_template};

/// A produced CBA workbook.
#[derive(Debug, Clone)]
pub struct CbaOutput {
    pub bytes: Vec<u8>,
    /// Suggested stored name: `CBA_<template stem | reference>_<timestamp>.xlsx`.
    pub filename: String,
    /// The template's filename when it was filled (`meta_json.template_used`).
    pub template_used: Option<String>,
    /// The template analysis, when a template was given and could be read.
    pub schema: Option<CbaTemplateSchema>,
    /// Suppliers that got no column, with the reason.
    pub left_out: Vec<LeftOut>,
    /// Why the template was not used, when it was not (e.g. no supplier header).
    pub notes: Vec<String>,
}

/// Everything the CBA needs.
#[derive(Debug, Clone, Copy)]
pub struct CbaInput<'a> {
    pub case: &'a CaseInfo,
    pub criteria: &'a [Criterion],
    pub packages: &'a [SupplierPackage],
    pub template: Option<&'a TemplateDoc>,
    pub generated_at: &'a str,
    /// What reading the template may inflate.
    pub budget: &'a Budget,
}

/// Builds the CBA: the template filled when one is given and usable, the
/// standard five-sheet workbook otherwise. A template that cannot be read
/// (damaged, mistyped, over its budget) gives the standard workbook and a
/// note saying why: it never fails the run.
pub fn build_cba(input: &CbaInput<'_>) -> Result<CbaOutput, AnalysisError> {
    // Every text the workbook gets, made XML-safe once (umya escapes markup
    // but writes control characters as they are: Excel then refuses the file).
    let case = input.case.xml_safe();
    let criteria: Vec<Criterion> = input.criteria.iter().map(Criterion::xml_safe).collect();
    let packages: Vec<SupplierPackage> = input
        .packages
        .iter()
        .map(SupplierPackage::xml_safe)
        .collect();
    let generated_at = xml_text(input.generated_at);
    let input = &CbaInput {
        case: &case,
        criteria: &criteria,
        packages: &packages,
        generated_at: &generated_at,
        ..*input
    };
    let mut notes = Vec::new();
    let mut schema_out = None;
    let template = input.template.and_then(|t| match read_template(t, input.budget) {
        Ok(book) => Some((t, book)),
        Err(e) => {
            notes.push(format!(
                "Le modèle CBA {} n'a pas pu être lu ({}): le classeur standard a été généré à la place.",
                t.filename,
                crate::error::problem_fr(&e)
            ));
            None
        }
    });
    if let Some((t, book)) = template {
        let schema = analyse_template(&book, &xml_text(&t.filename), input.generated_at);
        if schema.supplier_header_row == 0 {
            // D-04: no supplier header is not a crash; say so and fall back.
            notes.push(format!(
                "Le modèle CBA {} n'a pas de ligne d'en-tête fournisseurs (Soumissionnaire/Fournisseur/Supplier/Bidder dans les lignes 1 à 11): le classeur standard a été généré à la place.",
                t.filename
            ));
            schema_out = Some(schema);
        } else {
            let filled = guard(&t.filename, || fill_template(book, &schema, input));
            let (bytes, left_out) = match filled {
                Ok(filled) => filled,
                Err(e @ AnalysisError::Write { .. }) => return Err(e),
                Err(e) => {
                    notes.push(format!(
                        "Le modèle CBA {} n'a pas pu être rempli ({}): le classeur standard a été généré à la place.",
                        t.filename,
                        crate::error::problem_fr(&e)
                    ));
                    return standard_output(input, None, notes);
                }
            };
            let stem = t
                .filename
                .rsplit_once('.')
                .map_or(t.filename.as_str(), |(s, _)| s);
            return Ok(CbaOutput {
                bytes,
                filename: format!("CBA_{}_{}.xlsx", safe_stem(stem), stamp(input.generated_at)),
                template_used: Some(t.filename.clone()),
                schema: Some(schema),
                left_out,
                notes,
            });
        }
    }
    standard_output(input, schema_out, notes)
}

fn standard_output(
    input: &CbaInput<'_>,
    schema_out: Option<CbaTemplateSchema>,
    notes: Vec<String>,
) -> Result<CbaOutput, AnalysisError> {
    let bytes = standard_workbook(input)?;
    let reference = input
        .case
        .reference
        .clone()
        .unwrap_or_else(|| input.case.id.clone());
    Ok(CbaOutput {
        bytes,
        filename: format!(
            "CBA_{}_{}.xlsx",
            safe_stem(&reference),
            stamp(input.generated_at)
        ),
        template_used: None,
        schema: schema_out,
        left_out: Vec::new(),
        notes,
    })
}
