//! Excel `.xlsx` offers (price schedules): each non-empty row of each sheet
//! becomes one line, its non-empty cells joined with ` | `.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};

use super::{DocKind, ExtractedText};
use crate::budget::Budget;
use crate::error::AnalysisError;

/// The package is measured first (its XML parts inflated under the budget,
/// its cells counted); media and embedded files are never inflated.
pub(super) fn extract(
    filename: &str,
    bytes: &[u8],
    budget: &Budget,
) -> Result<ExtractedText, AnalysisError> {
    super::check_zip_budget(filename, bytes, super::Parts::Xml, budget)?;
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes))
        .map_err(|e| AnalysisError::corrupt(filename, format!("not a valid Excel file ({e})")))?;
    let names = book.sheet_names();
    let mut lines = Vec::new();
    for name in &names {
        let range = book
            .worksheet_range(name)
            .map_err(|e| AnalysisError::corrupt(filename, format!("sheet {name}: {e}")))?;
        for row in range.rows() {
            let cells: Vec<String> = row.iter().filter_map(cell_text).collect();
            if !cells.is_empty() {
                lines.push(cells.join(" | "));
            }
        }
    }
    let text = lines.join("\n");
    Ok(ExtractedText {
        kind: DocKind::Xlsx,
        needs_manual_review: text.is_empty(),
        units: names.len(),
        text,
    })
}

fn cell_text(cell: &Data) -> Option<String> {
    let text = match cell {
        Data::Empty | Data::Error(_) => return None,
        Data::String(s) => s.trim().to_string(),
        // Amounts are whole francs far more often than not: print 2000000,
        // not 2000000.0, so the amount rules read them like typed text.
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => b.to_string(),
        other => other.to_string(),
    };
    (!text.is_empty()).then_some(text)
}
