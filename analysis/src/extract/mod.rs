//! Text from the uploaded documents: PDF text layer page by page, Word
//! paragraphs then table rows, Excel rows of cells.

mod docx;
mod pdf;
mod pdf_depth;
mod xlsx;

use crate::error::{AnalysisError, guard};

pub(crate) use docx::{check_zip_budget, read_zip_entry};

/// The kinds of document the pipeline reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocKind {
    Pdf,
    Docx,
    Xlsx,
}

impl DocKind {
    /// From the client filename's suffix (case-insensitive).
    pub fn from_filename(filename: &str) -> Option<DocKind> {
        let suffix = suffix(filename);
        match suffix.as_str() {
            ".pdf" => Some(DocKind::Pdf),
            ".docx" => Some(DocKind::Docx),
            ".xlsx" => Some(DocKind::Xlsx),
            _ => None,
        }
    }
}

/// The lower-cased suffix with its dot (`.pdf`), or an empty string.
pub(crate) fn suffix(filename: &str) -> String {
    match filename.rfind('.') {
        Some(i) if i > 0 || filename.len() > 1 => filename[i..].to_lowercase(),
        _ => String::new(),
    }
}

/// The text of one document, with what the reader noticed about it.
#[derive(Debug, Clone, PartialEq)]
pub struct ExtractedText {
    pub kind: DocKind,
    /// Production's layout: `[PAGE i]` blocks for PDFs, lines otherwise.
    pub text: String,
    /// Number of pages (PDF), sheets (xlsx) or 1 (docx).
    pub units: usize,
    /// The document has no text to read (a scan without a text layer, an
    /// empty sheet): a human must read it.
    pub needs_manual_review: bool,
}

/// Extracts the text of a document, choosing the reader from the filename's
/// suffix; `allowed` restricts the kinds accepted for this role.
pub fn extract_text(
    filename: &str,
    bytes: &[u8],
    allowed: &[DocKind],
) -> Result<ExtractedText, AnalysisError> {
    let kind = DocKind::from_filename(filename)
        .filter(|k| allowed.contains(k))
        .ok_or_else(|| AnalysisError::Unsupported {
            filename: filename.to_string(),
            suffix: suffix(filename),
            expected: expected_list(allowed),
        })?;
    let text = guard(filename, || match kind {
        DocKind::Pdf => pdf::extract(filename, bytes),
        DocKind::Docx => docx::extract(filename, bytes),
        DocKind::Xlsx => xlsx::extract(filename, bytes),
    })?;
    Ok(text)
}

fn expected_list(allowed: &[DocKind]) -> &'static str {
    match allowed {
        [DocKind::Pdf, DocKind::Docx] => ".pdf or .docx",
        [DocKind::Docx] => ".docx",
        [DocKind::Xlsx] => ".xlsx",
        _ => ".pdf, .docx or .xlsx",
    }
}

/// The kinds a DAO may come in (production's rule).
pub const DAO_KINDS: &[DocKind] = &[DocKind::Pdf, DocKind::Docx];
/// The kinds an offer may come in: production refused spreadsheets, but price
/// schedules often are spreadsheets.
pub const OFFER_KINDS: &[DocKind] = &[DocKind::Pdf, DocKind::Docx, DocKind::Xlsx];

/// True for the `[PAGE i]` markers that the PDF reader writes.
pub(crate) fn is_page_marker(line: &str) -> bool {
    let line = line.trim();
    line.strip_prefix("[PAGE ")
        .and_then(|rest| rest.strip_suffix(']'))
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}
