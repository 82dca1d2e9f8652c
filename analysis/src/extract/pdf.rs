//! PDF text layer, page by page, as production lays it out (`[PAGE i]`
//! blocks). Lines are rebuilt from the text positioning operators, so text
//! drawn piece by piece on one line stays one line and each new line starts
//! a new line of text.

use std::collections::BTreeMap;

use lopdf::content::Content;
use lopdf::{Document, Encoding, Object, ObjectId};

use super::{DocKind, ExtractedText};
use crate::error::AnalysisError;

pub(super) fn extract(filename: &str, bytes: &[u8]) -> Result<ExtractedText, AnalysisError> {
    if !bytes.starts_with(b"%PDF") {
        return Err(AnalysisError::corrupt(
            filename,
            "not a PDF (no %PDF header)",
        ));
    }
    if super::pdf_depth::file_too_deep(bytes, super::pdf_depth::MAX_DEPTH) {
        return Err(AnalysisError::corrupt(
            filename,
            "objects nested too deeply",
        ));
    }
    let doc = Document::load_mem(bytes).map_err(|e| AnalysisError::corrupt(filename, e))?;
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
    for (&number, &page_id) in &pages {
        // A page whose text cannot be decoded counts as a page without text:
        // the document then goes to manual review rather than failing the run.
        let text = page_text(&doc, page_id).unwrap_or_default();
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

fn num(o: Option<&Object>) -> f32 {
    o.and_then(|o| o.as_float().ok()).unwrap_or(0.0)
}

/// The text of one page, one line of text per line.
fn page_text(doc: &Document, page_id: ObjectId) -> Result<String, lopdf::Error> {
    let fonts = doc.get_page_fonts(page_id)?;
    let encodings: BTreeMap<Vec<u8>, Encoding<'_>> = fonts
        .into_iter()
        .filter_map(|(name, font)| font.get_font_encoding(doc).ok().map(|e| (name, e)))
        .collect();
    let data = doc.get_page_content(page_id)?;
    if super::pdf_depth::too_deep(&data, super::pdf_depth::MAX_DEPTH) {
        // Unreadable page: the document goes to manual review.
        return Ok(String::new());
    }
    let content = Content::decode(&data)?;
    let mut out = String::new();
    let mut encoding: Option<&Encoding<'_>> = None;
    // Vertical position of the current line, and of the last text drawn.
    let mut line_y = 0.0f32;
    let mut leading = 0.0f32;
    let mut last_y: Option<f32> = None;
    let mut moved = false;
    for op in &content.operations {
        let operands = &op.operands;
        match op.operator.as_str() {
            "BT" => {
                line_y = 0.0;
                moved = true;
            }
            "Tf" => {
                encoding = operands
                    .first()
                    .and_then(|o| o.as_name().ok())
                    .and_then(|n| encodings.get(n));
            }
            "TL" => leading = num(operands.first()),
            "Td" => {
                line_y += num(operands.get(1));
                moved = true;
            }
            "TD" => {
                let ty = num(operands.get(1));
                leading = -ty;
                line_y += ty;
                moved = true;
            }
            "Tm" => {
                line_y = num(operands.get(5));
                moved = true;
            }
            "T*" => {
                line_y -= leading;
                moved = true;
            }
            "Tj" | "TJ" | "'" | "\"" => {
                if matches!(op.operator.as_str(), "'" | "\"") {
                    line_y -= leading;
                    moved = true;
                }
                let Some(enc) = encoding else { continue };
                let mut piece = String::new();
                collect(&mut piece, enc, operands);
                if piece.is_empty() {
                    continue;
                }
                match last_y {
                    Some(y) if (y - line_y).abs() > 1.0 && !out.ends_with('\n') => {
                        out.push('\n');
                    }
                    Some(y) if (y - line_y).abs() > 1.0 => {}
                    Some(_) if moved && !out.ends_with([' ', '\n']) && !piece.starts_with(' ') => {
                        out.push(' ');
                    }
                    _ => {}
                }
                out.push_str(&piece);
                last_y = Some(line_y);
                moved = false;
            }
            _ => {}
        }
    }
    Ok(out)
}

fn collect(out: &mut String, encoding: &Encoding<'_>, operands: &[Object]) {
    for operand in operands {
        match operand {
            Object::String(bytes, _) => {
                if let Ok(s) = Document::decode_text(encoding, bytes) {
                    out.push_str(&s);
                }
            }
            Object::Array(items) => collect(out, encoding, items),
            // A large negative kerning inside TJ is a space between words.
            Object::Integer(i) if *i < -200 => out.push(' '),
            Object::Real(r) if *r < -200.0 => out.push(' '),
            _ => {}
        }
    }
}
