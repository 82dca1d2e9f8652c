//! Filling a PV template (§7.9, D-32, D-05): `word/document.xml` streamed
//! with its placeholders replaced run by run (also when Word split one
//! across runs), the summary and decision appended when the template leaves
//! room for them, and only the parts the document uses copied.

use std::io::{Cursor, Write};

use quick_xml::events::{BytesEnd, BytesStart, BytesText, Event};
use quick_xml::{Reader, Writer};

use super::PvInput;
use super::sections::{decision_xml, ledger_xml, placeholders, summary_xml};
use crate::budget::Budget;
use crate::error::AnalysisError;
use crate::input::TemplateDoc;

/// Copies the template package with `word/document.xml` rewritten, and
/// only the parts the document uses (see [`crate::opc`]): a part nothing
/// refers to is not copied into every PV. Only `word/document.xml`, the
/// relationships and the content types are inflated; the other parts
/// (images, fonts) are copied still compressed.
pub(super) fn fill_template(
    t: &TemplateDoc,
    input: &PvInput<'_>,
    budget: &Budget,
) -> Result<Vec<u8>, AnalysisError> {
    let corrupt = |e: &dyn std::fmt::Display| AnalysisError::corrupt(&t.filename, e);
    if crate::extract::DocKind::sniff(&t.bytes) != Ok(crate::extract::DocKind::Docx) {
        return Err(AnalysisError::Unsupported {
            filename: t.filename.clone(),
            found: "not a Word (.docx) document".to_string(),
            expected: ".docx",
        });
    }
    let mut archive = crate::extract::open_zip(&t.filename, &t.bytes)?;
    let xml = crate::extract::read_zip_entry(&t.filename, &t.bytes, "word/document.xml", budget)?;
    let values = placeholders(input);
    let rewritten = rewrite_document(&xml, &values, input).map_err(|e| corrupt(&e))?;

    let fail = |e: &dyn std::fmt::Display| AnalysisError::Write {
        what: "PV",
        reason: e.to_string(),
    };
    let used = crate::opc::used_parts(&t.filename, &t.bytes, budget)?;
    let content_types =
        crate::extract::read_zip_entry(&t.filename, &t.bytes, crate::opc::CONTENT_TYPES, budget)
            .and_then(|xml| crate::opc::content_types_for(&xml, &used).map_err(|e| corrupt(&e)))?;
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    // The content types come first, as Office writes them.
    out.start_file(crate::opc::CONTENT_TYPES, options)
        .map_err(|e| fail(&e))?;
    out.write_all(&content_types).map_err(|e| fail(&e))?;
    for i in 0..archive.len() {
        let entry = archive.by_index_raw(i).map_err(|e| corrupt(&e))?;
        let name = entry.name();
        if name == "word/document.xml" || name == crate::opc::CONTENT_TYPES || !used.contains(name)
        {
            continue;
        }
        out.raw_copy_file(entry).map_err(|e| fail(&e))?;
    }
    out.start_file("word/document.xml", options)
        .map_err(|e| fail(&e))?;
    out.write_all(&rewritten).map_err(|e| fail(&e))?;
    Ok(out.finish().map_err(|e| fail(&e))?.into_inner())
}

type XmlResult<T> = Result<T, Box<dyn std::error::Error>>;

/// Streams the document, replacing placeholders paragraph by paragraph and
/// appending the summary/decision sections before the final `w:sectPr`.
fn rewrite_document(
    xml: &[u8],
    values: &[(&'static str, String)],
    input: &PvInput<'_>,
) -> XmlResult<Vec<u8>> {
    let mut reader = Reader::from_reader(xml);
    let mut writer = Writer::new(Vec::with_capacity(xml.len() + 4096));
    let mut buf = Vec::new();
    // Events of the paragraph being read (body or table level), if any.
    let mut para: Option<(Vec<Event<'static>>, usize)> = None;
    let mut body_level_paragraphs = 0usize;
    let mut last_body_paragraph_blank = true;
    let mut depth_in_body: Option<usize> = None;
    let mut sect_pr_at: Option<usize> = None;
    let mut has_chosen_placeholder = false;
    let mut has_ledger_placeholder = false;
    let mut depth = 0usize;
    loop {
        let event = reader.read_event_into(&mut buf)?.into_owned();
        buf.clear();
        match &event {
            Event::Eof => break,
            Event::Start(e) => {
                depth += 1;
                if e.local_name().as_ref() == b"body" {
                    depth_in_body = Some(depth);
                }
                let body_child = depth_in_body.is_some_and(|d| depth == d + 1);
                if body_child && e.local_name().as_ref() == b"sectPr" {
                    writer.get_mut().flush()?;
                    sect_pr_at = Some(writer.get_ref().len());
                }
                if let Some((events, nested)) = para.as_mut() {
                    if e.local_name().as_ref() == b"p" {
                        *nested += 1;
                    }
                    events.push(event);
                    continue;
                }
                if e.local_name().as_ref() == b"p" {
                    para = Some((vec![event], 0));
                    continue;
                }
            }
            Event::Empty(e) => {
                let body_child = depth_in_body.is_some_and(|d| depth == d);
                if para.is_none() && body_child && e.local_name().as_ref() == b"p" {
                    body_level_paragraphs += 1;
                    last_body_paragraph_blank = true;
                }
                if body_child && para.is_none() && e.local_name().as_ref() == b"sectPr" {
                    sect_pr_at = Some(writer.get_ref().len());
                }
                if let Some((events, _)) = para.as_mut() {
                    events.push(event);
                    continue;
                }
            }
            Event::End(e) => {
                depth = depth.saturating_sub(1);
                let name = e.local_name().as_ref().to_vec();
                if let Some((events, nested)) = para.as_mut() {
                    events.push(event.clone());
                    if name == b"p" {
                        if *nested > 0 {
                            *nested -= 1;
                            continue;
                        }
                        let (events, _) = para.take().unwrap_or_default();
                        let text = paragraph_text(&events);
                        has_chosen_placeholder |= text.contains("{{CHOSEN_SUPPLIER}}");
                        has_ledger_placeholder |= text.contains("{{LEDGER_FINGERPRINT}}");
                        if depth_in_body.is_some_and(|d| depth == d) {
                            body_level_paragraphs += 1;
                            last_body_paragraph_blank = text.trim().is_empty();
                        }
                        for ev in replace_in_paragraph(events, values)? {
                            writer.write_event(ev)?;
                        }
                    }
                    continue;
                }
                if name == b"body" {
                    let mut extra = String::new();
                    let with_summary = body_level_paragraphs == 0 || last_body_paragraph_blank;
                    if with_summary {
                        extra.push_str(&summary_xml(input));
                    }
                    if let Some(d) = input.decision
                        && (with_summary || !has_chosen_placeholder)
                    {
                        extra.push_str(&decision_xml(input.case.language, d));
                    }
                    if let Some(anchor) = &input.case.ledger
                        && !has_ledger_placeholder
                    {
                        extra.push_str(&ledger_xml(input.case.language, anchor));
                    }
                    let out = writer.get_mut();
                    let at = sect_pr_at.unwrap_or(out.len()).min(out.len());
                    out.splice(at..at, extra.into_bytes());
                }
            }
            _ => {
                if let Some((events, _)) = para.as_mut() {
                    events.push(event);
                    continue;
                }
            }
        }
        writer.write_event(event)?;
    }
    Ok(writer.into_inner())
}

/// The paragraph's text as Word shows it (the `w:t` contents).
fn paragraph_text(events: &[Event<'static>]) -> String {
    let mut in_t = false;
    let mut text = String::new();
    for ev in events {
        match ev {
            Event::Start(e) if e.local_name().as_ref() == b"t" => in_t = true,
            Event::End(e) if e.local_name().as_ref() == b"t" => in_t = false,
            Event::Text(t) if in_t => {
                if let Ok(s) = t.unescape() {
                    text.push_str(&s);
                }
            }
            _ => {}
        }
    }
    text
}

/// Replaces the placeholders of one paragraph. The replacement is written
/// into the `w:t` where the placeholder starts (so it keeps that run's
/// formatting); the rest of a placeholder split across runs is removed from
/// the following `w:t`s.
fn replace_in_paragraph(
    events: Vec<Event<'static>>,
    values: &[(&'static str, String)],
) -> XmlResult<Vec<Event<'static>>> {
    // Text segments: (event index, decoded text).
    let mut segments: Vec<(usize, String)> = Vec::new();
    let mut in_t = false;
    for (i, ev) in events.iter().enumerate() {
        match ev {
            Event::Start(e) if e.local_name().as_ref() == b"t" => in_t = true,
            Event::End(e) if e.local_name().as_ref() == b"t" => in_t = false,
            Event::Text(t) if in_t => segments.push((i, t.unescape()?.into_owned())),
            _ => {}
        }
    }
    let full: String = segments.iter().map(|(_, s)| s.as_str()).collect();
    if !full.contains("{{") {
        return Ok(events);
    }
    // Matches in the concatenated text, left to right, not overlapping.
    let mut matches: Vec<(usize, usize, &str)> = Vec::new();
    let mut from = 0;
    while let Some(pos) = full[from..].find("{{") {
        let start = from + pos;
        match values.iter().find(|(k, _)| full[start..].starts_with(k)) {
            Some((k, v)) => {
                matches.push((start, start + k.len(), v.as_str()));
                from = start + k.len();
            }
            None => from = start + 2,
        }
    }
    if matches.is_empty() {
        return Ok(events);
    }
    // New text for each segment.
    let mut new_texts: Vec<String> = Vec::with_capacity(segments.len());
    let mut offset = 0usize;
    for (_, text) in &segments {
        let seg_start = offset;
        let seg_end = offset + text.len();
        let mut out = String::new();
        let mut cursor = seg_start;
        for &(m_start, m_end, value) in &matches {
            if m_end <= seg_start || m_start >= seg_end {
                continue;
            }
            if m_start > cursor {
                out.push_str(&full[cursor..m_start]);
            }
            if m_start >= seg_start {
                out.push_str(value);
            }
            cursor = m_end.min(seg_end).max(cursor);
        }
        if cursor < seg_end {
            out.push_str(&full[cursor..seg_end]);
        }
        new_texts.push(out);
        offset = seg_end;
    }
    // Rebuild the events: changed text events, and line breaks as <w:br/>.
    let mut replaced: std::collections::HashMap<usize, String> =
        segments.iter().map(|(i, _)| *i).zip(new_texts).collect();
    let mut out = Vec::with_capacity(events.len() + 8);
    let mut iter = events.into_iter().enumerate().peekable();
    while let Some((i, ev)) = iter.next() {
        match ev {
            Event::Start(e) if e.local_name().as_ref() == b"t" => {
                // Make sure spaces at the edges of the new text survive.
                let text_follows = iter.peek().is_some_and(|(j, _)| replaced.contains_key(j));
                if text_follows {
                    out.push(Event::Start(preserve_space(&e)));
                } else {
                    out.push(Event::Start(e));
                }
            }
            Event::Text(_) if replaced.contains_key(&i) => {
                let text = replaced.remove(&i).unwrap_or_default();
                let tag = current_t_tag(&out);
                for (n, line) in text.split('\n').enumerate() {
                    if n > 0 {
                        out.push(Event::End(BytesEnd::new(tag.clone())));
                        out.push(Event::Empty(BytesStart::new(br_tag(&tag))));
                        out.push(Event::Start(
                            BytesStart::new(tag.clone())
                                .with_attributes([("xml:space", "preserve")]),
                        ));
                    }
                    out.push(Event::Text(BytesText::new(line).into_owned()));
                }
            }
            other => out.push(other),
        }
    }
    Ok(out)
}

/// The qualified name of the innermost open `t` element (`w:t` usually).
fn current_t_tag(out: &[Event<'static>]) -> String {
    out.iter()
        .rev()
        .find_map(|ev| match ev {
            Event::Start(e) if e.local_name().as_ref() == b"t" => {
                Some(String::from_utf8_lossy(e.name().as_ref()).into_owned())
            }
            _ => None,
        })
        .unwrap_or_else(|| "w:t".to_string())
}

fn br_tag(t_tag: &str) -> String {
    match t_tag.split_once(':') {
        Some((prefix, _)) => format!("{prefix}:br"),
        None => "br".to_string(),
    }
}

fn preserve_space(e: &BytesStart<'_>) -> BytesStart<'static> {
    let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
    let mut out = BytesStart::new(name);
    for attr in e.attributes().flatten() {
        if attr.key.as_ref() != b"xml:space" {
            out.push_attribute(attr);
        }
    }
    out.push_attribute(("xml:space", "preserve"));
    out
}
