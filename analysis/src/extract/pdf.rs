//! PDF text layer, page by page, as production lays it out.

use super::{DocKind, ExtractedText};
use crate::error::AnalysisError;

pub(super) fn extract(filename: &str, bytes: &[u8]) -> Result<ExtractedText, AnalysisError> {
    if !bytes.starts_with(b"%PDF") {
        return Err(AnalysisError::corrupt(
            filename,
            "not a PDF (no %PDF header)",
        ));
    }
    let doc = lopdf::Document::load_mem(bytes).map_err(|e| AnalysisError::corrupt(filename, e))?;
    if doc.is_encrypted() {
        return Err(AnalysisError::Encrypted {
            filename: filename.to_string(),
        });
    }
    let pages = doc.get_pages();
    if pages.is_empty() {
        return Err(AnalysisError::corrupt(filename, "the PDF has no page"));
    }
    let mut blocks = Vec::with_capacity(pages.len());
    for &number in pages.keys() {
        // A page whose text cannot be decoded counts as a page without text:
        // the document then goes to manual review rather than failing the run.
        let text = doc.extract_text(&[number]).unwrap_or_default();
        let text = text.trim();
        if !text.is_empty() {
            blocks.push(format!("[PAGE {number}]\n{text}\n"));
        }
    }
    let text = blocks.join("\n").trim().to_string();
    Ok(ExtractedText {
        kind: DocKind::Pdf,
        needs_manual_review: text.is_empty(),
        units: pages.len(),
        text,
    })
}
