//! The CBA (comparative bid analysis) workbook (§7.8, §13): the case's
//! template filled in place, or the five-sheet standard workbook.
//!
//! Nothing here scores, weighs or ranks (D-35): the workbook carries what was
//! extracted, and every guessed or missing value is flagged for a human with
//! an orange fill and a comment giving its source.

use std::io::Cursor;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};
use umya_spreadsheet::{Border, Comment, Spreadsheet, Worksheet};

use crate::budget::Budget;
use crate::criteria::Criterion;
use crate::error::{AnalysisError, guard};
use crate::extract::Parts;
use crate::offers::{HEURISTIC_PRICE_SOURCE, parse_amount};
use crate::packages::SupplierPackage;
use crate::util::{re, xml_safe};
use crate::{CaseInfo, TemplateDoc};

/// Fill of every cell a human must check.
pub const REVIEW_FILL: &str = "FFFFC000";
/// Written where a value is missing.
pub const MANUAL_REVIEW: &str = "REVUE MANUELLE";
/// The one sheet the system adds to a template (and the only one it removes,
/// when a previous output is reused as a template: D-31).
pub const SYSTEM_SHEET: &str = "DMS_Info";
/// The criteria labels of a template are read in column B (as production).
const LABEL_COL: u32 = 2;

/// The five sheets of the standard workbook, in order.
pub const STANDARD_SHEETS: [&str; 5] = [
    "Info Générales",
    "Registre Dépôt",
    "Analyse Technique",
    "Analyse Financière",
    "Synthèse",
];

/// A criterion row found in a template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateCriterionRow {
    pub row: u32,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
}

/// What the template analysis found (`cba_template_schemas.structure_json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CbaTemplateSchema {
    pub template_name: String,
    /// 1-based; 0 when no supplier header was found.
    pub supplier_header_row: u32,
    pub supplier_name_row: u32,
    /// 1-based column numbers of the supplier slots (never the label column).
    pub supplier_cols: Vec<u32>,
    pub criteria_start_row: u32,
    pub criteria_rows: Vec<TemplateCriterionRow>,
    pub sheets: Vec<String>,
    pub detected_at: String,
}

impl CbaTemplateSchema {
    /// Production's `structure_json` object, with the id the row gets.
    pub fn structure_json(&self, template_id: &str) -> serde_json::Value {
        serde_json::json!({
            "template_id": template_id,
            "template_name": self.template_name,
            "supplier_header_row": self.supplier_header_row,
            "supplier_name_row": self.supplier_name_row,
            "supplier_cols": self.supplier_cols,
            "criteria_start_row": self.criteria_start_row,
            "criteria_rows": self.criteria_rows,
            "sheets": self.sheets,
            "meta": {"detected_at": self.detected_at},
        })
    }
}

/// A supplier that is not in the workbook, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeftOut {
    pub supplier_name: String,
    pub reason: String,
}

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

static HEADER: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)soumissionnaire|supplier|fournisseur|bidder"));
static NOT_A_SLOT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)observ|comment|remarque|(?-u:\b)notes?(?-u:\b)|total|moyenne|d[ée]cision|conclusion|justif",
    )
});
static PRICE_LABEL: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)prix|price|montant|coût|cout"));
static LEAD_LABEL: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)d[ée]lai|lead.*time|delivery"));
static VALIDITY_LABEL: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)validit[ée]|validity"));
static REFS_LABEL: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)r[ée]f[ée]rence|exp[ée]rience"));

fn row_kind(name: &str) -> &'static str {
    let n = name.to_lowercase();
    let any = |keys: &[&str]| keys.iter().any(|k| n.contains(k));
    if any(&["essent", "mandatory", "obligatoire"]) {
        "essentiels"
    } else if any(&["technique", "technical", "capacity", "capacité"]) {
        "technique"
    } else if any(&["commercial", "price", "prix", "coût", "cout"]) {
        "commercial"
    } else if any(&["durabilit", "sustainab"]) {
        "durabilite"
    } else {
        "autre"
    }
}

fn text_at(sheet: &Worksheet, col: u32, row: u32) -> String {
    sheet
        .get_cell((col, row))
        .map(|c| c.get_value().trim().to_string())
        .unwrap_or_default()
}

fn col_letter(mut col: u32) -> String {
    let mut s = Vec::new();
    while col > 0 {
        let rem = (col - 1) % 26;
        s.push(b'A' + rem as u8);
        col = (col - 1) / 26;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

fn active_index(book: &Spreadsheet) -> usize {
    let tab = *book.get_workbook_view().get_active_tab() as usize;
    if tab < book.get_sheet_count() { tab } else { 0 }
}

/// Analyses a template's active sheet (§7.8).
pub fn analyse_template(
    book: &Spreadsheet,
    template_name: &str,
    detected_at: &str,
) -> CbaTemplateSchema {
    let sheets: Vec<String> = book
        .get_sheet_collection_no_check()
        .iter()
        .map(|s| s.get_name().to_string())
        .collect();
    let mut schema = CbaTemplateSchema {
        template_name: template_name.to_string(),
        supplier_header_row: 0,
        supplier_name_row: 0,
        supplier_cols: Vec::new(),
        criteria_start_row: 0,
        criteria_rows: Vec::new(),
        sheets,
        detected_at: detected_at.to_string(),
    };
    let Some(sheet) = book.get_sheet(&active_index(book)) else {
        return schema;
    };
    let (max_col, max_row) = sheet.get_highest_column_and_row();
    let header = (1..=11u32.min(max_row)).find_map(|row| {
        (1..=max_col).find_map(|col| {
            let cell = sheet.get_cell((col, row))?;
            let value = cell.get_value();
            (cell.get_value_number().is_none() && HEADER.is_match(&value)).then_some((col, row))
        })
    });
    let Some((header_col, header_row)) = header else {
        return schema;
    };
    schema.supplier_header_row = header_row;
    schema.supplier_name_row = header_row + 1;
    // The label column is never a supplier slot (D-30).
    // Slots are contiguous: a committee column (observations, total...)
    // ends them and is never written over.
    schema.supplier_cols = (header_col..=(header_col + 14).min(max_col))
        .filter(|&c| c > LABEL_COL)
        .map(|c| (c, text_at(sheet, c, header_row)))
        .filter(|(_, h)| !h.is_empty())
        .take_while(|(_, h)| !NOT_A_SLOT.is_match(h))
        .map(|(c, _)| c)
        .collect();
    for row in (header_row + 2)..=(header_row + 40) {
        let label = text_at(sheet, LABEL_COL, row);
        let is_text = sheet
            .get_cell((LABEL_COL, row))
            .is_some_and(|c| c.get_value_number().is_none());
        if is_text && label.chars().count() > 5 {
            schema.criteria_rows.push(TemplateCriterionRow {
                row,
                name: label.chars().take(150).collect(),
                kind: row_kind(&label).to_string(),
            });
        }
    }
    schema.criteria_start_row = schema.criteria_rows.first().map_or(0, |r| r.row);
    schema
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

/// Reads a template with umya, once its package is measured (umya inflates
/// every part, images included, and builds every cell).
fn read_template(t: &TemplateDoc, budget: &Budget) -> Result<Spreadsheet, AnalysisError> {
    if crate::extract::DocKind::sniff(&t.bytes) != Ok(crate::extract::DocKind::Xlsx) {
        return Err(AnalysisError::Unsupported {
            filename: t.filename.clone(),
            found: "not an Excel (.xlsx) workbook".to_string(),
            expected: ".xlsx",
        });
    }
    crate::extract::check_zip_budget(&t.filename, &t.bytes, Parts::All, budget)?;
    guard(&t.filename, || {
        umya_spreadsheet::reader::xlsx::read_reader(Cursor::new(t.bytes.as_slice()), true)
            .map_err(|e| AnalysisError::corrupt(&t.filename, format!("not a valid .xlsx ({e})")))
    })
}

/// Builds the CBA: the template filled when one is given and usable, the
/// standard five-sheet workbook otherwise. A template that cannot be read
/// (damaged, mistyped, over its budget) gives the standard workbook and a
/// note saying why: it never fails the run.
pub fn build_cba(input: &CbaInput<'_>) -> Result<CbaOutput, AnalysisError> {
    // Every text the workbook gets, made XML-safe once (umya escapes markup
    // but writes control characters as they are: Excel then refuses the file).
    let case = xml_safe::case(input.case);
    let criteria: Vec<Criterion> = input.criteria.iter().map(xml_safe::criterion).collect();
    let packages: Vec<SupplierPackage> = input.packages.iter().map(xml_safe::package).collect();
    let generated_at = crate::util::xml_text(input.generated_at);
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
        let schema = analyse_template(
            &book,
            &crate::util::xml_text(&t.filename),
            input.generated_at,
        );
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
                filename: format!(
                    "CBA_{}_{}.xlsx",
                    crate::util::safe_stem(stem),
                    crate::util::stamp(input.generated_at)
                ),
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
            crate::util::safe_stem(&reference),
            crate::util::stamp(input.generated_at)
        ),
        template_used: None,
        schema: schema_out,
        left_out: Vec::new(),
        notes,
    })
}

fn write_book(book: &Spreadsheet) -> Result<Vec<u8>, AnalysisError> {
    let mut out = Cursor::new(Vec::new());
    umya_spreadsheet::writer::xlsx::write_writer(book, &mut out).map_err(|e| {
        AnalysisError::Write {
            what: "CBA workbook",
            reason: e.to_string(),
        }
    })?;
    Ok(out.into_inner())
}

/// Sets a cell's comment (author DMS), replacing an earlier one on that cell.
fn set_comment(sheet: &mut Worksheet, col: u32, row: u32, text: &str) {
    sheet.get_comments_mut().retain(|c| {
        let at = c.get_coordinate();
        !(*at.get_col_num() == col && *at.get_row_num() == row)
    });
    let mut comment = Comment::default();
    comment.new_comment((col, row));
    comment.set_author("DMS");
    comment.set_text_string(text);
    sheet.add_comments(comment);
}

/// Writes a value to review: orange fill and a comment saying why.
fn flag(sheet: &mut Worksheet, col: u32, row: u32, value: &str, why: &str) {
    let cell = sheet.get_cell_mut((col, row));
    cell.set_value_string(value);
    cell.get_style_mut().set_background_color(REVIEW_FILL);
    set_comment(sheet, col, row, why);
}

/// Writes an extracted value with its source in a comment; a guessed source
/// is also flagged orange.
fn sourced(sheet: &mut Worksheet, col: u32, row: u32, value: &str, source: Option<&str>) {
    let source = source.unwrap_or("source inconnue");
    if source == HEURISTIC_PRICE_SOURCE {
        flag(
            sheet,
            col,
            row,
            value,
            &format!("Valeur devinée, à vérifier. Source: {source}"),
        );
    } else {
        sheet.get_cell_mut((col, row)).set_value_string(value);
        set_comment(sheet, col, row, &format!("Source: {source}"));
    }
}

fn missing_note(p: &SupplierPackage, what: &str) -> String {
    let mut note = format!("{what} absent des documents de {}.", p.supplier_name);
    if !p.missing_parts.is_empty() {
        note.push_str(&format!(
            " Pièces manquantes: {}.",
            p.missing_parts.join(", ")
        ));
    }
    note
}

fn column_is_free(sheet: &Worksheet, col: u32, schema: &CbaTemplateSchema) -> bool {
    let last = schema
        .criteria_rows
        .last()
        .map_or(schema.supplier_name_row, |r| r.row);
    (schema.supplier_header_row..=last.max(schema.supplier_name_row))
        .all(|row| text_at(sheet, col, row).is_empty())
}

fn fill_template(
    mut book: Spreadsheet,
    schema: &CbaTemplateSchema,
    input: &CbaInput<'_>,
) -> Result<(Vec<u8>, Vec<LeftOut>), AnalysisError> {
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
                .set_value_string(format!("Soumissionnaire {}", i + 1));
            set_comment(
                sheet,
                next,
                header_row,
                "Colonne ajoutée par DMS: le modèle avait moins de colonnes que de soumissionnaires.",
            );
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
                MANUAL_REVIEW,
                "Nom du soumissionnaire introuvable dans les documents: à saisir.",
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
                    (Some(price), true) => {
                        sourced(sheet, col, row, price, p.total_price_source.as_deref())
                    }
                    _ => flag(
                        sheet,
                        col,
                        row,
                        MANUAL_REVIEW,
                        &missing_note(p, "Prix total"),
                    ),
                }
            } else if LEAD_LABEL.is_match(&label) {
                match p.lead_time_days.filter(|d| *d > 0) {
                    Some(d) => sourced(
                        sheet,
                        col,
                        row,
                        &format!("{d} jours"),
                        p.lead_time_source.as_deref(),
                    ),
                    None => flag(
                        sheet,
                        col,
                        row,
                        MANUAL_REVIEW,
                        &missing_note(p, "Délai de livraison"),
                    ),
                }
            } else if VALIDITY_LABEL.is_match(&label) {
                match p.validity_days.filter(|d| *d > 0) {
                    Some(d) => sourced(
                        sheet,
                        col,
                        row,
                        &format!("{d} jours"),
                        p.validity_source.as_deref(),
                    ),
                    None => flag(
                        sheet,
                        col,
                        row,
                        MANUAL_REVIEW,
                        &missing_note(p, "Validité de l'offre"),
                    ),
                }
            } else if REFS_LABEL.is_match(&label) {
                if p.technical_refs.is_empty() {
                    flag(
                        sheet,
                        col,
                        row,
                        MANUAL_REVIEW,
                        &missing_note(p, "Références techniques"),
                    );
                } else {
                    let refs: Vec<&str> = p
                        .technical_refs
                        .iter()
                        .take(3)
                        .map(String::as_str)
                        .collect();
                    sourced(
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
                "CBA adaptatif (aucun score, aucun classement)".into(),
            ),
            ("Case ID".into(), input.case.id.clone()),
            ("Generated".into(), input.generated_at.to_string()),
            ("Template".into(), schema.template_name.clone()),
        ];
        for (i, (k, v)) in rows.iter().enumerate() {
            info.get_cell_mut((1, i as u32 + 1))
                .set_value_string(k.as_str());
            info.get_cell_mut((2, i as u32 + 1))
                .set_value_string(v.as_str());
        }
        for (row, l) in (rows.len() as u32 + 2..).zip(&left_out) {
            info.get_cell_mut((1, row)).set_value_string("Non inclus");
            info.get_cell_mut((2, row))
                .set_value_string(format!("{}: {}", l.supplier_name, l.reason));
        }
    }
    book.set_active_sheet(index as u32);
    let bytes = write_book(&book)?;
    Ok((bytes, left_out))
}

// ---------------------------------------------------------------- standard workbook

fn header_style(sheet: &mut Worksheet, col: u32, row: u32) {
    let style = sheet.get_style_mut((col, row));
    style.set_background_color("FF366092");
    let font = style.get_font_mut();
    font.set_bold(true).set_name("Arial");
    font.get_color_mut().set_argb("FFFFFFFF");
    thin_borders(sheet, col, row);
}

fn thin_borders(sheet: &mut Worksheet, col: u32, row: u32) {
    let borders = sheet.get_style_mut((col, row)).get_borders_mut();
    borders.get_left_mut().set_border_style(Border::BORDER_THIN);
    borders
        .get_right_mut()
        .set_border_style(Border::BORDER_THIN);
    borders.get_top_mut().set_border_style(Border::BORDER_THIN);
    borders
        .get_bottom_mut()
        .set_border_style(Border::BORDER_THIN);
}

fn set(sheet: &mut Worksheet, col: u32, row: u32, value: &str) {
    sheet.get_cell_mut((col, row)).set_value_string(value);
    thin_borders(sheet, col, row);
}

fn header_row(sheet: &mut Worksheet, row: u32, headers: &[&str]) {
    for (i, h) in headers.iter().enumerate() {
        let col = i as u32 + 1;
        sheet.get_cell_mut((col, row)).set_value_string(*h);
        header_style(sheet, col, row);
        let width = (h.chars().count() as f64 + 4.0).max(14.0);
        sheet
            .get_column_dimension_mut(&col_letter(col))
            .set_width(width);
    }
}

fn docs_received(p: &SupplierPackage) -> String {
    let mut parts = Vec::new();
    if p.has_technical {
        parts.push("Technique");
    }
    if p.has_financial {
        parts.push("Financière");
    }
    if p.has_admin {
        parts.push("Administrative");
    }
    if parts.is_empty() {
        "Aucune pièce identifiée".to_string()
    } else {
        parts.join(", ")
    }
}

fn gaps(p: &SupplierPackage) -> String {
    let items: Vec<String> = p
        .missing_parts
        .iter()
        .map(|m| format!("pièce {m}"))
        .chain(p.missing_fields.iter().cloned())
        .collect();
    if items.is_empty() {
        "—".to_string()
    } else {
        items.join(", ")
    }
}

fn display_date(iso: &str) -> String {
    // "2026-11-25T..." → "25/11/2026"; anything else is shown as given.
    let date = iso.get(..10).unwrap_or(iso);
    let parts: Vec<&str> = date.split('-').collect();
    match parts.as_slice() {
        [y, m, d] if y.len() == 4 => format!("{d}/{m}/{y}"),
        _ => iso.to_string(),
    }
}

fn standard_workbook(input: &CbaInput<'_>) -> Result<Vec<u8>, AnalysisError> {
    let fail = |e: &str| AnalysisError::Write {
        what: "CBA workbook",
        reason: e.to_string(),
    };
    let mut book = umya_spreadsheet::new_file_empty_worksheet();
    for name in STANDARD_SHEETS {
        book.new_sheet(name).map_err(fail)?;
    }
    let packages = input.packages;

    // Info Générales
    let s = book
        .get_sheet_by_name_mut(STANDARD_SHEETS[0])
        .ok_or_else(|| fail("sheet"))?;
    s.get_cell_mut((1, 1))
        .set_value_string("COMPARATIVE BID ANALYSIS (CBA)");
    s.add_merge_cells("A1:D1");
    s.get_style_mut((1, 1))
        .get_font_mut()
        .set_bold(true)
        .set_size(14.0);
    let opening = input
        .case
        .opening_date
        .clone()
        .unwrap_or_else(|| input.generated_at.to_string());
    let info = [
        ("Titre du marché", input.case.title.clone()),
        (
            "Référence DAO/RFQ",
            input.case.reference.clone().unwrap_or_default(),
        ),
        ("Type de procédure", input.case.case_type.clone()),
        (
            "Lot",
            input
                .case
                .lot
                .clone()
                .unwrap_or_else(|| "Lot unique".to_string()),
        ),
        ("Date d'ouverture", display_date(&opening)),
        ("Nombre de soumissions", packages.len().to_string()),
        ("Case ID", input.case.id.clone()),
    ];
    for (i, (k, v)) in info.iter().enumerate() {
        let row = i as u32 + 3;
        set(s, 1, row, k);
        s.get_style_mut((1, row)).get_font_mut().set_bold(true);
        set(s, 2, row, v);
    }
    let committee = info.len() as u32 + 4;
    header_row(s, committee, &["Membre du comité", "Fonction", "Signature"]);
    for r in 1..=3 {
        for c in 1..=3 {
            set(s, c, committee + r, "");
        }
    }
    s.get_column_dimension_mut("A").set_width(28.0);
    s.get_column_dimension_mut("B").set_width(48.0);

    // Registre Dépôt: by deposit time, on a sorted copy (the caller's order
    // is the analysis order and stays as it is).
    let mut by_deposit: Vec<&SupplierPackage> = packages.iter().collect();
    by_deposit.sort_by(|a, b| a.first_uploaded_at.cmp(&b.first_uploaded_at));
    let s = book
        .get_sheet_by_name_mut(STANDARD_SHEETS[1])
        .ok_or_else(|| fail("sheet"))?;
    header_row(
        s,
        1,
        &[
            "N°",
            "Soumissionnaire",
            "Date Dépôt",
            "Heure Dépôt",
            "Mode Dépôt",
            "Docs Reçus",
            "Observation",
        ],
    );
    for (i, p) in by_deposit.iter().enumerate() {
        let row = i as u32 + 2;
        s.get_cell_mut((1, row)).set_value_number((i + 1) as f64);
        thin_borders(s, 1, row);
        set(s, 2, row, &p.supplier_name);
        set(s, 3, row, &display_date(&p.first_uploaded_at));
        set(s, 4, row, p.first_uploaded_at.get(11..16).unwrap_or(""));
        set(s, 5, row, "Plateforme DMS");
        set(s, 6, row, &docs_received(p));
        set(s, 7, row, &gaps(p));
        if p.is_unknown() {
            flag(
                s,
                2,
                row,
                MANUAL_REVIEW,
                "Nom du soumissionnaire introuvable: à saisir.",
            );
        }
    }

    // Analyse Technique: columns for the committee's marks, never filled by
    // the system.
    let tech: Vec<&Criterion> = input
        .criteria
        .iter()
        .filter(|c| !c.is_essential() && c.categorie != "commercial")
        .collect();
    let s = book
        .get_sheet_by_name_mut(STANDARD_SHEETS[2])
        .ok_or_else(|| fail("sheet"))?;
    let mut headers: Vec<String> = vec!["Soumissionnaire".into()];
    headers.extend(tech.iter().map(|c| c.critere_nom.clone()));
    headers.extend([
        "Total (saisi par le comité)".to_string(),
        "Références extraites".to_string(),
        "Visite Fournisseur".to_string(),
        "Évaluation Échantillon".to_string(),
    ]);
    let refs: Vec<&str> = headers.iter().map(String::as_str).collect();
    header_row(s, 1, &refs);
    s.get_cell_mut((1, 2)).set_value_string("Barème");
    for (i, c) in tech.iter().enumerate() {
        let pts = c
            .poids_brut
            .clone()
            .unwrap_or_else(|| format!("{}%", (c.ponderation * 100.0).round()));
        set(s, i as u32 + 2, 2, &format!("/{pts}"));
    }
    let n = tech.len() as u32;
    let total_col = n + 2;
    for (i, p) in packages.iter().enumerate() {
        let row = i as u32 + 3;
        set(s, 1, row, &p.supplier_name);
        for c in 2..=n + 1 {
            set(s, c, row, "");
        }
        if n > 0 {
            s.get_cell_mut((total_col, row)).set_formula(format!(
                "SUM({}{row}:{}{row})",
                col_letter(2),
                col_letter(n + 1)
            ));
        }
        thin_borders(s, total_col, row);
        if p.technical_refs.is_empty() {
            flag(
                s,
                total_col + 1,
                row,
                MANUAL_REVIEW,
                &missing_note(p, "Références techniques"),
            );
        } else {
            set(s, total_col + 1, row, &p.technical_refs.join("; "));
        }
        for c in [total_col + 2, total_col + 3] {
            s.get_style_mut((c, row)).set_background_color(REVIEW_FILL);
            thin_borders(s, c, row);
        }
    }

    // Analyse Financière: what was extracted, the VAT left to the committee.
    let s = book
        .get_sheet_by_name_mut(STANDARD_SHEETS[3])
        .ok_or_else(|| fail("sheet"))?;
    header_row(
        s,
        1,
        &[
            "Soumissionnaire",
            "Montant HT",
            "Devise",
            "TVA %",
            "Montant TTC",
            "Délai (jours)",
            "Validité (jours)",
            "Source du prix",
        ],
    );
    for (i, p) in packages.iter().enumerate() {
        let row = i as u32 + 2;
        set(s, 1, row, &p.supplier_name);
        let amount = p
            .total_price
            .as_deref()
            .and_then(|t| t.rsplit_once(' ').map(|(a, _)| a))
            .and_then(parse_amount);
        match (amount, p.has_financial) {
            (Some(v), true) => {
                s.get_cell_mut((2, row)).set_value_number(v);
                thin_borders(s, 2, row);
                let source = p.total_price_source.as_deref().unwrap_or("");
                set_comment(
                    s,
                    2,
                    row,
                    &format!(
                        "Lu: {} — Source: {source}",
                        p.total_price.clone().unwrap_or_default()
                    ),
                );
                if source == HEURISTIC_PRICE_SOURCE {
                    s.get_style_mut((2, row)).set_background_color(REVIEW_FILL);
                }
                s.get_cell_mut((5, row))
                    .set_formula(format!("IF(D{row}=\"\",\"\",B{row}*(1+D{row}/100))"));
            }
            _ => flag(s, 2, row, MANUAL_REVIEW, &missing_note(p, "Prix total")),
        }
        thin_borders(s, 5, row);
        set(s, 3, row, &p.currency);
        set(s, 4, row, "");
        match p.lead_time_days {
            Some(d) => {
                s.get_cell_mut((6, row)).set_value_number(d as f64);
                thin_borders(s, 6, row);
            }
            None => flag(
                s,
                6,
                row,
                MANUAL_REVIEW,
                &missing_note(p, "Délai de livraison"),
            ),
        }
        match p.validity_days {
            Some(d) => {
                s.get_cell_mut((7, row)).set_value_number(d as f64);
                thin_borders(s, 7, row);
            }
            None => flag(
                s,
                7,
                row,
                MANUAL_REVIEW,
                &missing_note(p, "Validité de l'offre"),
            ),
        }
        set(s, 8, row, p.total_price_source.as_deref().unwrap_or("—"));
    }

    // Synthèse: the state of each file, no score and no rank.
    let s = book
        .get_sheet_by_name_mut(STANDARD_SHEETS[4])
        .ok_or_else(|| fail("sheet"))?;
    header_row(
        s,
        1,
        &[
            "Soumissionnaire",
            "Statut du dossier",
            "Pièces reçues",
            "Éléments manquants",
            "Prix total lu",
            "Décision du comité",
        ],
    );
    for (i, p) in packages.iter().enumerate() {
        let row = i as u32 + 2;
        set(s, 1, row, &p.supplier_name);
        set(s, 2, row, &p.package_status);
        set(s, 3, row, &docs_received(p));
        set(s, 4, row, &gaps(p));
        set(s, 5, row, p.total_price.as_deref().unwrap_or("N/A"));
        set(s, 6, row, "");
        if p.package_status != "COMPLETE" {
            s.get_style_mut((2, row)).set_background_color(REVIEW_FILL);
        }
    }
    let note_row = packages.len() as u32 + 3;
    s.get_cell_mut((1, note_row)).set_value_string(
        "Le système extrait et signale les manques; il ne note pas, ne classe pas et ne recommande pas. La décision appartient au comité.",
    );
    book.set_active_sheet(0);
    write_book(&book)
}
