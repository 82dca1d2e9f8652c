//! Reading a CBA template: the package measured against its budget, then
//! its active sheet analysed (§7.8) into the schema the filling follows and
//! `cba_template_schemas` stores.

use std::io::Cursor;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};
use umya_spreadsheet::{Spreadsheet, Worksheet};

use crate::budget::Budget;
use crate::error::{AnalysisError, guard};
use crate::extract::Parts;
use crate::input::TemplateDoc;
use crate::pattern::re;

/// The criteria labels of a template are read in column B (as production).
pub(super) const LABEL_COL: u32 = 2;

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

static HEADER: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)soumissionnaire|supplier|fournisseur|bidder"));
static NOT_A_SLOT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)observ|comment|remarque|(?-u:\b)notes?(?-u:\b)|total|moyenne|d[ée]cision|conclusion|justif",
    )
});

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

pub(super) fn text_at(sheet: &Worksheet, col: u32, row: u32) -> String {
    sheet
        .get_cell((col, row))
        .map(|c| c.get_value().trim().to_string())
        .unwrap_or_default()
}

pub(super) fn active_index(book: &Spreadsheet) -> usize {
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

/// Reads a template with umya, once its package is measured (umya inflates
/// every part, images included, and builds every cell).
pub(super) fn read_template(
    t: &TemplateDoc,
    budget: &Budget,
) -> Result<Spreadsheet, AnalysisError> {
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
