//! The standard five-sheet CBA workbook (§13), written when no usable
//! template was given: what was extracted, the committee's columns left
//! empty, no score and no rank.

use umya_spreadsheet::{Border, Worksheet};

use super::CbaInput;
use super::cells::{
    REVIEW_FILL, col_letter, flag, manual_review, missing_note, set_comment, write_book,
};
use crate::criteria::Criterion;
use crate::error::AnalysisError;
use crate::labels::Language;
use crate::offers::{HEURISTIC_PRICE_SOURCE, parse_amount};
use crate::packages::SupplierPackage;

/// The five sheets of the standard workbook, in order, in `lang`.
pub fn standard_sheets(lang: Language) -> [&'static str; 5] {
    [
        "sheet-info",
        "sheet-register",
        "sheet-technical",
        "sheet-financial",
        "sheet-summary",
    ]
    .map(|id| lang.label(id))
}

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

fn docs_received(lang: Language, p: &SupplierPackage) -> String {
    let mut parts = Vec::new();
    if p.has_technical {
        parts.push(lang.label("part-technical"));
    }
    if p.has_financial {
        parts.push(lang.label("part-financial"));
    }
    if p.has_admin {
        parts.push(lang.label("part-admin"));
    }
    if parts.is_empty() {
        lang.label("no-part").to_string()
    } else {
        parts.join(", ")
    }
}

fn gaps(lang: Language, p: &SupplierPackage) -> String {
    let items: Vec<String> = p
        .missing_parts
        .iter()
        .map(|m| lang.label_with("missing-part", &[("part", m)]))
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

pub(super) fn standard_workbook(input: &CbaInput<'_>) -> Result<Vec<u8>, AnalysisError> {
    let fail = |e: &str| AnalysisError::Write {
        what: "CBA workbook",
        reason: e.to_string(),
    };
    let lang = input.case.language;
    let l = |id: &str| lang.label(id);
    let sheets = standard_sheets(lang);
    let mut book = umya_spreadsheet::new_file_empty_worksheet();
    for name in sheets {
        book.new_sheet(name).map_err(fail)?;
    }
    let packages = input.packages;

    // Info Générales
    let s = book
        .get_sheet_by_name_mut(sheets[0])
        .ok_or_else(|| fail("sheet"))?;
    s.get_cell_mut((1, 1)).set_value_string(l("cba-title"));
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
        (l("info-title"), input.case.title.clone()),
        (
            l("info-reference"),
            input.case.reference.clone().unwrap_or_default(),
        ),
        (l("info-procedure"), input.case.case_type.clone()),
        (
            l("info-lot"),
            input
                .case
                .lot
                .clone()
                .unwrap_or_else(|| l("info-single-lot").to_string()),
        ),
        (l("info-opening"), display_date(&opening)),
        (l("info-submissions"), packages.len().to_string()),
        (l("info-case-id"), input.case.id.clone()),
    ];
    for (i, (k, v)) in info.iter().enumerate() {
        let row = i as u32 + 3;
        set(s, 1, row, k);
        s.get_style_mut((1, row)).get_font_mut().set_bold(true);
        set(s, 2, row, v);
    }
    let committee = info.len() as u32 + 4;
    header_row(
        s,
        committee,
        &[
            l("committee-member"),
            l("committee-function"),
            l("committee-signature"),
        ],
    );
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
        .get_sheet_by_name_mut(sheets[1])
        .ok_or_else(|| fail("sheet"))?;
    header_row(
        s,
        1,
        &[
            l("register-number"),
            l("bidder"),
            l("register-date"),
            l("register-time"),
            l("register-mode"),
            l("register-documents"),
            l("register-remarks"),
        ],
    );
    for (i, p) in by_deposit.iter().enumerate() {
        let row = i as u32 + 2;
        s.get_cell_mut((1, row)).set_value_number((i + 1) as f64);
        thin_borders(s, 1, row);
        set(s, 2, row, &p.supplier_name);
        set(s, 3, row, &display_date(&p.first_uploaded_at));
        set(s, 4, row, p.first_uploaded_at.get(11..16).unwrap_or(""));
        set(s, 5, row, l("register-platform"));
        set(s, 6, row, &docs_received(lang, p));
        set(s, 7, row, &gaps(lang, p));
        if p.is_unknown() {
            flag(s, 2, row, manual_review(lang), l("bidder-unknown"));
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
        .get_sheet_by_name_mut(sheets[2])
        .ok_or_else(|| fail("sheet"))?;
    let mut headers: Vec<String> = vec![l("bidder").into()];
    headers.extend(tech.iter().map(|c| c.critere_nom.clone()));
    headers.extend(
        [
            "technical-total",
            "technical-refs",
            "technical-visit",
            "technical-sample",
        ]
        .map(|id| l(id).to_string()),
    );
    let refs: Vec<&str> = headers.iter().map(String::as_str).collect();
    header_row(s, 1, &refs);
    s.get_cell_mut((1, 2))
        .set_value_string(l("technical-scale"));
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
                manual_review(lang),
                &missing_note(lang, p, "field-refs"),
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
        .get_sheet_by_name_mut(sheets[3])
        .ok_or_else(|| fail("sheet"))?;
    header_row(
        s,
        1,
        &[
            l("bidder"),
            l("financial-amount"),
            l("financial-currency"),
            l("financial-vat"),
            l("financial-amount-vat"),
            l("financial-lead-time"),
            l("financial-validity"),
            l("financial-price-source"),
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
                    &lang.label_with(
                        "price-read",
                        &[
                            ("price", p.total_price.as_deref().unwrap_or_default()),
                            ("source", source),
                        ],
                    ),
                );
                if source == HEURISTIC_PRICE_SOURCE {
                    s.get_style_mut((2, row)).set_background_color(REVIEW_FILL);
                }
                s.get_cell_mut((5, row))
                    .set_formula(format!("IF(D{row}=\"\",\"\",B{row}*(1+D{row}/100))"));
            }
            _ => flag(
                s,
                2,
                row,
                manual_review(lang),
                &missing_note(lang, p, "field-price"),
            ),
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
                manual_review(lang),
                &missing_note(lang, p, "field-lead-time"),
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
                manual_review(lang),
                &missing_note(lang, p, "field-validity"),
            ),
        }
        set(s, 8, row, p.total_price_source.as_deref().unwrap_or("—"));
    }

    // Synthèse: the state of each file, no score and no rank.
    let s = book
        .get_sheet_by_name_mut(sheets[4])
        .ok_or_else(|| fail("sheet"))?;
    header_row(
        s,
        1,
        &[
            l("bidder"),
            l("summary-status"),
            l("summary-parts"),
            l("summary-missing"),
            l("summary-price"),
            l("summary-decision"),
        ],
    );
    for (i, p) in packages.iter().enumerate() {
        let row = i as u32 + 2;
        set(s, 1, row, &p.supplier_name);
        set(s, 2, row, &p.package_status);
        set(s, 3, row, &docs_received(lang, p));
        set(s, 4, row, &gaps(lang, p));
        set(s, 5, row, p.total_price.as_deref().unwrap_or(l("na")));
        set(s, 6, row, "");
        if p.package_status != "COMPLETE" {
            s.get_style_mut((2, row)).set_background_color(REVIEW_FILL);
        }
    }
    let note_row = packages.len() as u32 + 3;
    s.get_cell_mut((1, note_row))
        .set_value_string(l("summary-note"));
    book.set_active_sheet(0);
    write_book(&book)
}
