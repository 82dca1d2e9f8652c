//! Word `.docx`: the paragraphs of the body, then the rows of its tables
//! (cells joined with ` | `), as production reads them.

use std::io::{Cursor, Read};

use quick_xml::Reader;
use quick_xml::events::Event;

use super::{DocKind, ExtractedText};
use crate::error::AnalysisError;

/// Decompressed size allowed for one part of an OOXML package (zip bombs).
const MAX_PART_BYTES: u64 = 256 * 1024 * 1024;

/// Reads one part of an OOXML (zip) package, bounded in size.
pub(crate) fn read_zip_entry(
    filename: &str,
    bytes: &[u8],
    name: &str,
) -> Result<Vec<u8>, AnalysisError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| AnalysisError::corrupt(filename, format!("not a valid Office file ({e})")))?;
    let entry = archive
        .by_name(name)
        .map_err(|_| AnalysisError::corrupt(filename, format!("{name} is missing")))?;
    let mut out = Vec::new();
    entry
        .take(MAX_PART_BYTES)
        .read_to_end(&mut out)
        .map_err(|e| AnalysisError::corrupt(filename, format!("{name}: {e}")))?;
    Ok(out)
}

/// Refuses a package whose parts inflate to more than `MAX_PART_BYTES` in
/// all (zip bombs), before a library that reads whole parts sees it. Sizes
/// are counted while inflating, so a lying header does not help.
pub(crate) fn check_zip_budget(filename: &str, bytes: &[u8]) -> Result<(), AnalysisError> {
    check_zip_budget_of(filename, bytes, MAX_PART_BYTES)
}

fn check_zip_budget_of(filename: &str, bytes: &[u8], budget: u64) -> Result<(), AnalysisError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| AnalysisError::corrupt(filename, format!("not a valid Office file ({e})")))?;
    let mut total = 0u64;
    for i in 0..archive.len() {
        let entry = archive
            .by_index(i)
            .map_err(|e| AnalysisError::corrupt(filename, e))?;
        let read = std::io::copy(&mut entry.take(budget - total + 1), &mut std::io::sink())
            .map_err(|e| AnalysisError::corrupt(filename, e))?;
        total += read;
        if total > budget {
            return Err(AnalysisError::corrupt(
                filename,
                format!("the file inflates to more than {} MiB", budget >> 20),
            ));
        }
    }
    Ok(())
}

pub(super) fn extract(filename: &str, bytes: &[u8]) -> Result<ExtractedText, AnalysisError> {
    let xml = read_zip_entry(filename, bytes, "word/document.xml")?;
    let (paragraphs, rows) = body_text(&xml)
        .map_err(|e| AnalysisError::corrupt(filename, format!("document.xml: {e}")))?;
    let mut lines: Vec<String> = paragraphs
        .into_iter()
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect();
    for row in rows {
        let cells: Vec<&str> = row
            .iter()
            .map(|c| c.trim())
            .filter(|c| !c.is_empty())
            .collect();
        if !cells.is_empty() {
            lines.push(cells.join(" | "));
        }
    }
    let text = lines.join("\n");
    Ok(ExtractedText {
        kind: DocKind::Docx,
        needs_manual_review: text.trim().is_empty(),
        units: 1,
        text,
    })
}

/// Paragraph texts outside tables, and table rows as lists of cell texts.
type BodyText = (Vec<String>, Vec<Vec<String>>);

fn body_text(xml: &[u8]) -> Result<BodyText, quick_xml::Error> {
    let mut reader = Reader::from_reader(xml);
    let mut buf = Vec::new();
    let mut paragraphs = Vec::new();
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut table_depth = 0usize;
    let mut in_text = false;
    let mut paragraph = String::new();
    let mut cell: Option<String> = None;
    let mut row: Vec<String> = Vec::new();
    loop {
        match reader.read_event_into(&mut buf)? {
            Event::Start(e) => match e.local_name().as_ref() {
                b"tbl" => table_depth += 1,
                b"tr" if table_depth == 1 => row.clear(),
                b"tc" if table_depth == 1 => cell = Some(String::new()),
                b"p" => paragraph.clear(),
                b"t" => in_text = true,
                _ => {}
            },
            Event::Empty(e) => match e.local_name().as_ref() {
                b"tab" => paragraph.push('\t'),
                b"br" | b"cr" => paragraph.push('\n'),
                _ => {}
            },
            Event::Text(t) if in_text => {
                let text = t.unescape()?;
                paragraph.push_str(&text);
            }
            Event::CData(t) if in_text => paragraph.push_str(&String::from_utf8_lossy(&t)),
            Event::End(e) => match e.local_name().as_ref() {
                b"t" => in_text = false,
                b"p" => {
                    if table_depth == 0 {
                        paragraphs.push(std::mem::take(&mut paragraph));
                    } else if let Some(c) = cell.as_mut() {
                        if !c.is_empty() && !paragraph.is_empty() {
                            c.push('\n');
                        }
                        c.push_str(&paragraph);
                        paragraph.clear();
                    }
                }
                b"tc" if table_depth == 1 => {
                    if let Some(c) = cell.take() {
                        row.push(c);
                    }
                }
                b"tr" if table_depth == 1 => rows.push(std::mem::take(&mut row)),
                b"tbl" => table_depth = table_depth.saturating_sub(1),
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    Ok((paragraphs, rows))
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn packed(sizes: &[usize]) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (i, size) in sizes.iter().enumerate() {
            zip.start_file(format!("xl/part{i}.xml"), options)
                .expect("entry");
            zip.write_all(&vec![b' '; *size]).expect("write");
        }
        zip.finish().expect("zip").into_inner()
    }

    #[test]
    fn a_package_inflating_past_the_budget_is_refused() {
        let bomb = packed(&[600 << 10, 600 << 10]);
        assert!(bomb.len() < 16 << 10);
        let err = check_zip_budget_of("bomb.xlsx", &bomb, 1 << 20).expect_err("over budget");
        assert!(err.to_string().contains("bomb.xlsx") && err.to_string().contains("1 MiB"));
        assert!(check_zip_budget_of("ok.xlsx", &packed(&[500 << 10]), 1 << 20).is_ok());
    }
}
