//! Writing one cell of the CBA workbook as both writers do: a value to
//! review (orange fill and a comment saying why), a comment with a value's
//! source; the workbook's bytes; column letters.

use std::io::Cursor;

use umya_spreadsheet::{Comment, Spreadsheet, Worksheet};

use crate::error::AnalysisError;
use crate::labels::Language;
use crate::offers::HEURISTIC_PRICE_SOURCE;
use crate::packages::SupplierPackage;

/// Fill of every cell a human must check.
pub const REVIEW_FILL: &str = "FFFFC000";
/// Written where a value is missing, in `lang`.
pub fn manual_review(lang: Language) -> &'static str {
    lang.label("manual-review")
}

pub(super) fn col_letter(mut col: u32) -> String {
    let mut s = Vec::new();
    while col > 0 {
        let rem = (col - 1) % 26;
        s.push(b'A' + rem as u8);
        col = (col - 1) / 26;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

pub(super) fn write_book(book: &Spreadsheet) -> Result<Vec<u8>, AnalysisError> {
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
pub(super) fn set_comment(sheet: &mut Worksheet, col: u32, row: u32, text: &str) {
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
pub(super) fn flag(sheet: &mut Worksheet, col: u32, row: u32, value: &str, why: &str) {
    let cell = sheet.get_cell_mut((col, row));
    cell.set_value_string(value);
    cell.get_style_mut().set_background_color(REVIEW_FILL);
    set_comment(sheet, col, row, why);
}

/// Writes an extracted value with its source in a comment; a guessed source
/// is also flagged orange.
pub(super) fn sourced(
    lang: Language,
    sheet: &mut Worksheet,
    col: u32,
    row: u32,
    value: &str,
    source: Option<&str>,
) {
    let source = source.unwrap_or(lang.label("source-unknown"));
    if source == HEURISTIC_PRICE_SOURCE {
        flag(
            sheet,
            col,
            row,
            value,
            &lang.label_with("source-guessed", &[("source", source)]),
        );
    } else {
        sheet.get_cell_mut((col, row)).set_value_string(value);
        set_comment(
            sheet,
            col,
            row,
            &lang.label_with("source", &[("source", source)]),
        );
    }
}

/// The comment of a missing value: `what` (a label id) is absent from the
/// supplier's documents, and which of its parts are missing.
pub(super) fn missing_note(lang: Language, p: &SupplierPackage, what: &str) -> String {
    let mut note = lang.label_with(
        "missing-note",
        &[("what", lang.label(what)), ("supplier", &p.supplier_name)],
    );
    if !p.missing_parts.is_empty() {
        note.push(' ');
        note.push_str(&lang.label_with(
            "missing-parts-note",
            &[("parts", &p.missing_parts.join(", "))],
        ));
    }
    note
}
