//! PDF text layer, page by page, as production lays it out (`[PAGE i]`
//! blocks). Lines are rebuilt from the text positioning operators, so text
//! drawn piece by piece on one line stays one line and each new line starts
//! a new line of text.
//!
//! lopdf parses; it never inflates. Its loader is given a filter that
//! decodes object streams under the document's budget before lopdf would
//! (its own decoder reads to the end, unbounded); cross-reference streams are
//! measured before loading; page contents and ToUnicode maps are decoded
//! here (`pdf_stream.rs`). Images, fonts and attachments are never decoded.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use lopdf::content::Content;
use lopdf::{Document, Encoding, Object, ObjectId, Reader, Stream};

use super::pdf_stream::{self, StreamError};
use super::{DocKind, ExtractedText};
use crate::budget::Budget;
use crate::error::AnalysisError;

pub(super) fn extract(
    filename: &str,
    bytes: &[u8],
    budget: &Budget,
) -> Result<ExtractedText, AnalysisError> {
    if pdf_stream::find(&bytes[..bytes.len().min(1024)], b"%PDF").is_none() {
        return Err(AnalysisError::corrupt(
            filename,
            "not a PDF (no %PDF header)",
        ));
    }
    if super::pdf_depth::too_deep(bytes, super::pdf_depth::MAX_DEPTH) {
        return Err(AnalysisError::corrupt(
            filename,
            "objects nested too deeply",
        ));
    }
    let over = || {
        AnalysisError::over_budget(
            filename,
            crate::error::Overrun::Document,
            super::size_text(budget.given()),
        )
    };
    let trailers = pdf_stream::check_trailers(bytes, budget).map_err(|e| match e {
        StreamError::Budget | StreamError::Cap => over(),
        StreamError::Unsupported => AnalysisError::corrupt(
            filename,
            "cross-reference stream in an encoding this reader does not decode",
        ),
    })?;
    if trailers.encrypted {
        return Err(AnalysisError::Encrypted {
            filename: filename.to_string(),
        });
    }
    let mut doc = load(filename, bytes, budget)?;
    if doc.is_encrypted() {
        return Err(AnalysisError::Encrypted {
            filename: filename.to_string(),
        });
    }
    let pages = doc.get_pages();
    if pages.is_empty() {
        return Err(AnalysisError::corrupt(filename, "the PDF has no page"));
    }
    decode_to_unicode_maps(&mut doc, &pages, budget).map_err(|_| over())?;
    let page_cap = budget.limits().page_content;
    let mut blocks = Vec::with_capacity(pages.len());
    for (&number, &page_id) in &pages {
        // A page whose content cannot be decoded counts as a page without
        // text: the document then goes to manual review if none has text. A
        // spent budget, or a page larger than a page may be, stops the
        // document.
        let data = match page_content(&doc, page_id, budget, page_cap) {
            Ok(data) => data,
            Err(StreamError::Budget) => return Err(over()),
            Err(StreamError::Cap) => {
                return Err(AnalysisError::over_budget(
                    filename,
                    crate::error::Overrun::Page,
                    super::size_text(page_cap),
                ));
            }
            Err(StreamError::Unsupported) => continue,
        };
        let text = page_text(&doc, page_id, &data).unwrap_or_default();
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

/// The loader's state, for its filter (lopdf takes a plain `fn`).
struct Loading {
    budget: Budget,
    over_budget: bool,
    too_deep: bool,
}

thread_local! {
    static LOADING: RefCell<Option<Loading>> = const { RefCell::new(None) };
}

/// Parses the file with lopdf, object streams decoded by [`decode_object_stream`].
fn load(filename: &str, bytes: &[u8], budget: &Budget) -> Result<Document, AnalysisError> {
    let left_before = budget.left();
    LOADING.with(|l| {
        *l.borrow_mut() = Some(Loading {
            budget: budget.clone(),
            over_budget: false,
            too_deep: false,
        })
    });
    let loaded = Reader {
        buffer: bytes,
        document: Document::new(),
        encryption_state: None,
        raw_objects: BTreeMap::new(),
    }
    .read(Some(decode_object_stream));
    let state = LOADING.with(|l| l.borrow_mut().take());
    if let Some(state) = &state {
        budget.spend(left_before.saturating_sub(state.budget.left()));
    }
    match state {
        Some(s) if s.over_budget => Err(AnalysisError::over_budget(
            filename,
            crate::error::Overrun::Document,
            super::size_text(budget.given()),
        )),
        Some(s) if s.too_deep => Err(AnalysisError::corrupt(
            filename,
            "objects nested too deeply",
        )),
        _ => loaded.map_err(|e| AnalysisError::corrupt(filename, e)),
    }
}

/// lopdf's load filter: called with every object of the file before lopdf
/// unpacks object streams, and with every object unpacked from one. An
/// object stream is decoded here under the budget (and checked for nesting
/// that would overflow the parser's stack), then handed back plain, so
/// lopdf has nothing left to inflate.
fn decode_object_stream(id: ObjectId, object: &mut Object) -> Option<(ObjectId, Object)> {
    let Object::Stream(stream) = object else {
        // Objects unpacked from an object stream: lopdf keeps what is returned.
        return Some((id, object.clone()));
    };
    if stream.dict.has_type(b"ObjStm") {
        LOADING.with(|l| {
            let mut loading = l.borrow_mut();
            let Some(state) = loading.as_mut() else {
                // Not this thread's load (lopdf's `rayon` feature would run
                // the filter elsewhere): never let lopdf inflate it.
                stream.set_plain_content(Vec::new());
                return;
            };
            let plain = match decoded(stream, &state.budget, u64::MAX) {
                Ok(plain) if super::pdf_depth::too_deep(&plain, super::pdf_depth::MAX_DEPTH) => {
                    state.too_deep = true;
                    Vec::new()
                }
                Ok(plain) => plain,
                Err(StreamError::Budget | StreamError::Cap) => {
                    state.over_budget = true;
                    Vec::new()
                }
                Err(StreamError::Unsupported) => Vec::new(),
            };
            stream.set_plain_content(plain);
        });
    }
    // Streams come only from the file's top level, where lopdf keeps the
    // object it passed in and uses the answer only to drop the object (on
    // `None`): no need to copy the stream's data.
    Some((id, Object::Null))
}

/// A stream's data, decoded under the budget and the cap.
fn decoded(stream: &Stream, budget: &Budget, cap: u64) -> Result<Vec<u8>, StreamError> {
    let filters = pdf_stream::filters_of(&stream.dict).ok_or(StreamError::Unsupported)?;
    if filters.is_empty() {
        // Nothing to inflate, but a page may not be larger than a page may be
        // (lopdf's parse of it costs many times its size).
        if stream.content.len() as u64 > cap {
            return Err(StreamError::Cap);
        }
        return Ok(stream.content.clone());
    }
    let params = stream
        .dict
        .get(b"DecodeParms")
        .and_then(Object::as_dict)
        .ok();
    pdf_stream::decode(&stream.content, &filters, params, budget, cap)
}

/// The object a reference chain ends at (lopdf dereferences a few levels).
fn resolve(doc: &Document, mut id: ObjectId) -> Option<ObjectId> {
    for _ in 0..8 {
        match doc.objects.get(&id)? {
            Object::Reference(next) => id = *next,
            _ => return Some(id),
        }
    }
    None
}

/// Decodes, in place, the ToUnicode maps of the pages' fonts, which lopdf
/// would otherwise inflate unbounded when it reads a font's encoding.
fn decode_to_unicode_maps(
    doc: &mut Document,
    pages: &BTreeMap<u32, ObjectId>,
    budget: &Budget,
) -> Result<(), StreamError> {
    let mut ids = BTreeSet::new();
    for &page_id in pages.values() {
        let Ok(fonts) = doc.get_page_fonts(page_id) else {
            continue;
        };
        for font in fonts.values() {
            if let Ok(Object::Reference(id)) = font.get(b"ToUnicode")
                && let Some(id) = resolve(doc, *id)
            {
                ids.insert(id);
            }
        }
    }
    for id in ids {
        let Ok(stream) = doc.get_object(id).and_then(Object::as_stream) else {
            continue;
        };
        // A map is a few KiB; one larger than a page may be is not read.
        let plain = match decoded(stream, budget, budget.limits().page_content) {
            Ok(plain) => plain,
            Err(StreamError::Budget) => return Err(StreamError::Budget),
            Err(StreamError::Cap | StreamError::Unsupported) => Vec::new(),
        };
        if let Ok(stream) = doc.get_object_mut(id).and_then(Object::as_stream_mut) {
            stream.set_plain_content(plain);
        }
    }
    Ok(())
}

/// A page's content streams, decoded under the budget, at most `cap` bytes
/// in all.
fn page_content(
    doc: &Document,
    page_id: ObjectId,
    budget: &Budget,
    cap: u64,
) -> Result<Vec<u8>, StreamError> {
    let mut content = Vec::new();
    for id in doc.get_page_contents(page_id) {
        let Ok(stream) = doc.get_object(id).and_then(Object::as_stream) else {
            continue;
        };
        let left = cap.saturating_sub(content.len() as u64);
        let data = decoded(stream, budget, left)?;
        content.extend_from_slice(&data);
        content.push(b'\n');
    }
    Ok(content)
}

fn num(o: Option<&Object>) -> f32 {
    o.and_then(|o| o.as_float().ok()).unwrap_or(0.0)
}

/// The text of one page (its decoded content `data`), one line of text per line.
fn page_text(doc: &Document, page_id: ObjectId, data: &[u8]) -> Result<String, lopdf::Error> {
    let fonts = doc.get_page_fonts(page_id)?;
    let encodings: BTreeMap<Vec<u8>, Encoding<'_>> = fonts
        .into_iter()
        .filter_map(|(name, font)| font.get_font_encoding(doc).ok().map(|e| (name, e)))
        .collect();
    if super::pdf_depth::too_deep(data, super::pdf_depth::MAX_DEPTH) {
        // Unreadable page: the document goes to manual review.
        return Ok(String::new());
    }
    let content = Content::decode(data)?;
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
