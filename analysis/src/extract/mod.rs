//! Text from the uploaded documents: PDF text layer page by page, Word
//! paragraphs then table rows, Excel rows of cells. The reader is chosen by
//! the content (sniffed), never by the client's suffix, and every reader
//! inflates under a [`Budget`].

mod docx;
mod pdf;
mod pdf_depth;
mod pdf_stream;
mod xlsx;

use crate::budget::Budget;
use crate::error::{AnalysisError, guard};

pub(crate) use docx::{Parts, check_zip_budget, open_zip, read_zip_entry};

/// The kinds of document the pipeline reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocKind {
    Pdf,
    Docx,
    Xlsx,
}

impl DocKind {
    /// What the bytes are: the kind, or what they are instead.
    pub fn sniff(bytes: &[u8]) -> Result<DocKind, &'static str> {
        if bytes.starts_with(b"PK\x03\x04") {
            let Ok(archive) = open_zip("", bytes) else {
                return Err("a damaged or oversized ZIP archive");
            };
            let has = |name: &str| archive.index_for_name(name).is_some();
            return if has("word/document.xml") {
                Ok(DocKind::Docx)
            } else if has("xl/workbook.xml") {
                Ok(DocKind::Xlsx)
            } else {
                Err("a ZIP archive that is neither a Word nor an Excel document")
            };
        }
        // A PDF may have bytes before its header; readers look in the first KiB.
        if pdf_stream::find(&bytes[..bytes.len().min(1024)], b"%PDF-").is_some() {
            return Ok(DocKind::Pdf);
        }
        if bytes.starts_with(b"\xD0\xCF\x11\xE0") {
            return Err("a legacy Word or Excel file (.doc/.xls): save it as .docx/.xlsx or PDF");
        }
        Err("content that is not a PDF, Word or Excel document")
    }

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

impl DocKind {
    fn name(self) -> &'static str {
        match self {
            DocKind::Pdf => "PDF",
            DocKind::Docx => "Word (.docx)",
            DocKind::Xlsx => "Excel (.xlsx)",
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

/// Extracts the text of a document under the default limits (see
/// [`extract_text_within`]).
pub fn extract_text(
    filename: &str,
    bytes: &[u8],
    allowed: &[DocKind],
) -> Result<ExtractedText, AnalysisError> {
    extract_text_within(filename, bytes, allowed, &Budget::for_document())
}

/// Extracts the text of a document, choosing the reader from its content;
/// `allowed` restricts the kinds accepted for this role. What the readers
/// inflate is counted against `budget`.
pub fn extract_text_within(
    filename: &str,
    bytes: &[u8],
    allowed: &[DocKind],
    budget: &Budget,
) -> Result<ExtractedText, AnalysisError> {
    let unsupported = |found: String| AnalysisError::Unsupported {
        filename: filename.to_string(),
        found,
        expected: expected_list(allowed),
    };
    let kind = match DocKind::sniff(bytes) {
        Ok(kind) => kind,
        Err(found) => {
            // A package that does not open is damaged (or too large), not
            // of another type: say which.
            if bytes.starts_with(b"PK\x03\x04") {
                open_zip(filename, bytes)?;
            }
            return Err(unsupported(found.to_string()));
        }
    };
    if !allowed.contains(&kind) {
        return Err(unsupported(format!("a {} document", kind.name())));
    }
    guard(filename, || match kind {
        DocKind::Pdf => pdf::extract(filename, bytes, budget),
        DocKind::Docx => docx::extract(filename, bytes, budget),
        DocKind::Xlsx => xlsx::extract(filename, bytes, budget),
    })
}

/// A size in a message: MiB when it is one or more.
pub(crate) fn size_text(bytes: u64) -> String {
    if bytes >= crate::budget::MIB {
        format!("{} MiB", bytes / crate::budget::MIB)
    } else {
        format!("{bytes} bytes")
    }
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
