//! Filling a CBA template in place (§7.8, D-30, D-31): a supplier per
//! slot (free columns to the right added when the template has too few),
//! the extracted values in the rows whose label asks for them, and the
//! system's own sheet.

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};
use umya_spreadsheet::{Spreadsheet, Worksheet};

use super::CbaInput;
use super::cells::{
    col_letter, flag, manual_review, missing_note, set_comment, sourced, write_book,
};
use super::template::{CbaTemplateSchema, LABEL_COL, active_index, text_at};
use crate::error::AnalysisError;
use crate::packages::SupplierPackage;
use crate::pattern::re;

/// The one sheet the system adds to a template (and the only one it removes,
/// when a previous output is reused as a template: D-31).
pub const SYSTEM_SHEET: &str = "DMS_Info";

/// A supplier that is not in the workbook, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeftOut {
    pub supplier_name: String,
    pub reason: String,
}

static PRICE_LABEL: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)prix|price|montant|coût|cout"));
static LEAD_LABEL: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)d[ée]lai|lead.*time|delivery"));
static VALIDITY_LABEL: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)validit[ée]|validity"));
static REFS_LABEL: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)r[ée]f[ée]rence|exp[ée]rience"));

fn column_is_free(sheet: &Worksheet, col: u32, schema: &CbaTemplateSchema) -> bool {
    let last = schema
        .criteria_rows
        .last()
        .map_or(schema.supplier_name_row, |r| r.row);
    (schema.supplier_header_row..=last.max(schema.supplier_name_row))
        .all(|row| text_at(sheet, col, row).is_empty())
}

pub(super) fn fill_template(
    mut book: Spreadsheet,
    schema: &CbaTemplateSchema,
    input: &CbaInput<'_>,
) -> Result<(Vec<u8>, Vec<LeftOut>), AnalysisError> {
    let lang = input.case.language;
    let index = active_index(&book);
    let mut left_out = Vec::new();
    let Some(sheet) = book.get_sheet_mut(&index) else {
        return Err(AnalysisError::Write {
            what: "CBA workbook",
            reason: "the active sheet disappeared".to_string(),
        });
    };
    // Supplier slots: the template's, then free columns to their right (D-30).
    let mut cols: Vec<u32> = schema.supplier_cols.clone();
    let slot_style_col = cols.last().copied();
    let mut next = cols.last().map_or(LABEL_COL + 1, |c| c + 1);
    let mut placed: Vec<(u32, &SupplierPackage)> = Vec::new();
    for (i, p) in input.packages.iter().enumerate() {
        if let Some(&col) = cols.get(i) {
            placed.push((col, p));
            continue;
        }
        if next <= 16384 && column_is_free(sheet, next, schema) {
            let header_row = schema.supplier_header_row;
            if let Some(from) = slot_style_col {
                let style = sheet.get_style((from, header_row)).clone();
                sheet.get_cell_mut((next, header_row)).set_style(style);
                let style = sheet.get_style((from, schema.supplier_name_row)).clone();
                sheet
                    .get_cell_mut((next, schema.supplier_name_row))
                    .set_style(style);
            }
            sheet
                .get_cell_mut((next, header_row))
                .set_value_string(lang.label_with("bidder-column", &[("n", &(i + 1).to_string())]));
            set_comment(sheet, next, header_row, lang.label("column-added"));
            cols.push(next);
            placed.push((next, p));
            next += 1;
        } else {
            left_out.push(LeftOut {
                supplier_name: p.supplier_name.clone(),
                reason: format!(
                    "le modèle a {} colonne(s) fournisseur et la colonne {} suivante n'est pas vide",
                    schema.supplier_cols.len(),
                    col_letter(next)
                ),
            });
        }
    }
    let name_row = schema.supplier_name_row;
    for &(col, p) in &placed {
        if p.is_unknown() {
            flag(
                sheet,
                col,
                name_row,
                manual_review(lang),
                lang.label("bidder-unknown-in-documents"),
            );
        } else {
            sheet
                .get_cell_mut((col, name_row))
                .set_value_string(p.supplier_name.as_str());
        }
    }
    let (_, max_row) = sheet.get_highest_column_and_row();
    let start = schema.criteria_start_row;
    for row in start..=(start + 49).min(max_row) {
        let label = text_at(sheet, LABEL_COL, row);
        if label.is_empty() {
            continue;
        }
        for &(col, p) in &placed {
            if PRICE_LABEL.is_match(&label) {
                match (&p.total_price, p.has_financial) {
                    (Some(price), true) => sourced(
                        lang,
                        sheet,
                        col,
                        row,
                        price,
                        p.total_price_source.as_deref(),
                    ),
                    _ => flag(
                        sheet,
                        col,
                        row,
                        manual_review(lang),
                        &missing_note(lang, p, "field-price"),
                    ),
                }
            } else if LEAD_LABEL.is_match(&label) {
                match p.lead_time_days.filter(|d| *d > 0) {
                    Some(d) => sourced(
                        lang,
                        sheet,
                        col,
                        row,
                        &lang.label_with("days", &[("days", &d.to_string())]),
                        p.lead_time_source.as_deref(),
                    ),
                    None => flag(
                        sheet,
                        col,
                        row,
                        manual_review(lang),
                        &missing_note(lang, p, "field-lead-time"),
                    ),
                }
            } else if VALIDITY_LABEL.is_match(&label) {
                match p.validity_days.filter(|d| *d > 0) {
                    Some(d) => sourced(
                        lang,
                        sheet,
                        col,
                        row,
                        &lang.label_with("days", &[("days", &d.to_string())]),
                        p.validity_source.as_deref(),
                    ),
                    None => flag(
                        sheet,
                        col,
                        row,
                        manual_review(lang),
                        &missing_note(lang, p, "field-validity"),
                    ),
                }
            } else if REFS_LABEL.is_match(&label) {
                if p.technical_refs.is_empty() {
                    flag(
                        sheet,
                        col,
                        row,
                        manual_review(lang),
                        &missing_note(lang, p, "field-refs"),
                    );
                } else {
                    let refs: Vec<&str> = p
                        .technical_refs
                        .iter()
                        .take(3)
                        .map(String::as_str)
                        .collect();
                    sourced(
                        lang,
                        sheet,
                        col,
                        row,
                        &refs.join(", "),
                        Some("Pattern: 'référence|client|projet|contrat'"),
                    );
                }
            }
        }
    }
    // D-31: the template's sheets all stay; only the system's own sheet is
    // replaced when an earlier output is reused as a template.
    if book.get_sheet_by_name(SYSTEM_SHEET).is_some() {
        let _ = book.remove_sheet_by_name(SYSTEM_SHEET);
    }
    if let Ok(info) = book.new_sheet(SYSTEM_SHEET) {
        let rows: Vec<(String, String)> = vec![
            (
                "Decision Memory System".into(),
                lang.label("system-cba").into(),
            ),
            (lang.label("info-case-id").into(), input.case.id.clone()),
            (
                lang.label("system-generated").into(),
                input.generated_at.to_string(),
            ),
            (
                lang.label("system-template").into(),
                schema.template_name.clone(),
            ),
        ];
        for (i, (k, v)) in rows.iter().enumerate() {
            info.get_cell_mut((1, i as u32 + 1))
                .set_value_string(k.as_str());
            info.get_cell_mut((2, i as u32 + 1))
                .set_value_string(v.as_str());
        }
        for (row, l) in (rows.len() as u32 + 2..).zip(&left_out) {
            info.get_cell_mut((1, row))
                .set_value_string(lang.label("system-left-out"));
            info.get_cell_mut((2, row))
                .set_value_string(format!("{}: {}", l.supplier_name, l.reason));
        }
    }
    book.set_active_sheet(index as u32);
    let bytes = write_book(&book)?;
    Ok((bytes, left_out))
}
