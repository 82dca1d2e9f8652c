//! Word `.docx`: the paragraphs of the body, then the rows of its tables
//! (cells joined with ` | `), as production reads them.

use std::io::{Cursor, Read};

use quick_xml::Reader;
use quick_xml::events::Event;

use super::{DocKind, ExtractedText};
use crate::budget::{Budget, Metered, OverBudget, is_over_budget};
use crate::error::AnalysisError;

/// Entries an OOXML package may list: Office writes a few dozen; each
/// entry of the central directory costs memory before anything is read.
const MAX_ZIP_ENTRIES: usize = 10_000;

/// Opens an OOXML (zip) package, refusing one whose end-of-central-directory
/// records announce more than [`MAX_ZIP_ENTRIES`] entries before the zip
/// reader allocates them.
pub(crate) fn open_zip<'a>(
    filename: &str,
    bytes: &'a [u8],
) -> Result<zip::ZipArchive<Cursor<&'a [u8]>>, AnalysisError> {
    // The record is in the last 64 KiB + 22 bytes; every candidate counts.
    let tail = &bytes[bytes.len().saturating_sub((64 << 10) + 22)..];
    for (i, w) in tail.windows(4).enumerate() {
        if w == b"PK\x05\x06" {
            let count = tail
                .get(i + 10..i + 12)
                .map_or(0, |c| usize::from(u16::from_le_bytes([c[0], c[1]])));
            if count > MAX_ZIP_ENTRIES {
                return Err(AnalysisError::over_budget(
                    filename,
                    crate::error::Overrun::Parts,
                    format!("{MAX_ZIP_ENTRIES} parts"),
                ));
            }
        }
    }
    zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| AnalysisError::corrupt(filename, format!("not a valid Office file ({e})")))
}

/// Reads one part of an OOXML (zip) package, bounded by the part limit and
/// counted against the document's budget as it inflates.
pub(crate) fn read_zip_entry(
    filename: &str,
    bytes: &[u8],
    name: &str,
    budget: &Budget,
) -> Result<Vec<u8>, AnalysisError> {
    let mut archive = open_zip(filename, bytes)?;
    let entry = archive
        .by_name(name)
        .map_err(|_| AnalysisError::corrupt(filename, format!("{name} is missing")))?;
    let limit = budget.limits().part_inflated;
    let mut out = Vec::new();
    match Metered::new(entry, budget)
        .take(limit + 1)
        .read_to_end(&mut out)
    {
        Err(e) if is_over_budget(&e) => Err(over(filename, budget)),
        Err(e) => Err(AnalysisError::corrupt(filename, format!("{name}: {e}"))),
        Ok(_) if out.len() as u64 > limit => Err(AnalysisError::over_budget(
            filename,
            crate::error::Overrun::Part,
            super::size_text(limit),
        )),
        Ok(_) => Ok(out),
    }
}

fn over(filename: &str, budget: &Budget) -> AnalysisError {
    AnalysisError::over_budget(
        filename,
        crate::error::Overrun::Document,
        super::size_text(budget.given()),
    )
}

/// Which parts of a package a library will inflate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Parts {
    /// Every part (umya reads the whole package, images included).
    All,
    /// The XML parts only: media and embedded files are skipped unread
    /// (calamine reads only the workbook's XML).
    Xml,
}

/// Refuses a package whose parts inflate past the document's budget (zip
/// bombs) or whose sheets and shared strings hold more than the cell limit,
/// before a library that reads whole parts sees it. Sizes are counted while
/// inflating, so a lying header does not help; cells are counted streaming.
pub(crate) fn check_zip_budget(
    filename: &str,
    bytes: &[u8],
    parts: Parts,
    budget: &Budget,
) -> Result<(), AnalysisError> {
    let mut archive = open_zip(filename, bytes)?;
    let mut cells = 0u64;
    let cell_limit = budget.limits().workbook_cells;
    // Sparse sheets are fine, within reason: a range calamine allocates.
    let span_limit = cell_limit.saturating_mul(4);
    for i in 0..archive.len() {
        let entry = archive
            .by_index(i)
            .map_err(|e| AnalysisError::corrupt(filename, e))?;
        let name = entry.name().to_string();
        if parts == Parts::Xml && !(name.ends_with(".xml") || name.ends_with(".rels")) {
            continue;
        }
        let is_cells = name.starts_with("xl/worksheets/") || name == "xl/sharedStrings.xml";
        let mut metered = Metered::new(entry, budget);
        let read = if is_cells {
            count_cells(&mut metered, &mut cells, cell_limit, span_limit)
        } else {
            std::io::copy(&mut metered, &mut std::io::sink()).map(drop)
        };
        match read {
            Err(e) if is_over_budget(&e) => return Err(over(filename, budget)),
            Err(e) if e.get_ref().is_some_and(|i| i.is::<RangeTooLarge>()) => {
                return Err(AnalysisError::over_budget(
                    filename,
                    crate::error::Overrun::Range,
                    format!("{span_limit} cells"),
                ));
            }
            Err(e) if e.get_ref().is_some_and(|i| i.is::<TooManyCells>()) => {
                return Err(AnalysisError::over_budget(
                    filename,
                    crate::error::Overrun::Cells,
                    format!("{cell_limit} cells"),
                ));
            }
            Err(e) => return Err(AnalysisError::corrupt(filename, format!("{name}: {e}"))),
            Ok(()) => {}
        }
    }
    Ok(())
}

#[derive(Debug, thiserror::Error)]
#[error("too many cells")]
struct TooManyCells;

#[derive(Debug, thiserror::Error)]
#[error("a sheet's used range is too large")]
struct RangeTooLarge;

/// The rectangle a sheet's non-empty cells span: calamine allocates it
/// whole (two cells at A1 and XFD1048576 would ask for 17 billion).
#[derive(Default)]
struct Span {
    rows: Option<(u32, u32)>,
    cols: Option<(u32, u32)>,
}

impl Span {
    fn add(&mut self, row: u32, col: u32) {
        let widen = |r: Option<(u32, u32)>, v: u32| {
            Some(r.map_or((v, v), |(lo, hi)| (lo.min(v), hi.max(v))))
        };
        self.rows = widen(self.rows, row);
        self.cols = widen(self.cols, col);
    }

    fn area(&self) -> u64 {
        match (self.rows, self.cols) {
            (Some((r0, r1)), Some((c0, c1))) => u64::from(r1 - r0 + 1) * u64::from(c1 - c0 + 1),
            _ => 0,
        }
    }
}

/// A cell reference (`AB12`) as 0-based (row, column).
fn cell_ref(r: &[u8]) -> Option<(u32, u32)> {
    let letters = r.iter().take_while(|b| b.is_ascii_alphabetic()).count();
    let col = r[..letters].iter().try_fold(0u32, |acc, b| {
        acc.checked_mul(26)?
            .checked_add(u32::from(b.to_ascii_uppercase() - b'A') + 1)
    })?;
    let row: u32 = std::str::from_utf8(&r[letters..]).ok()?.parse().ok()?;
    Some((row.checked_sub(1)?, col.checked_sub(1)?))
}

fn attr(e: &quick_xml::events::BytesStart<'_>, name: &[u8]) -> Option<Vec<u8>> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == name)
        .map(|a| a.value.into_owned())
}

/// Counts `c` (cell) and `si` (shared string) elements while streaming the
/// part's XML, and the span of its non-empty cells (positions as calamine
/// reads them: `r` attributes, else one after the previous); an io error
/// when `total` passes `limit` or the span `span_limit`. XML that does not
/// parse is left to the library to refuse.
fn count_cells(
    part: impl Read,
    total: &mut u64,
    limit: u64,
    span_limit: u64,
) -> std::io::Result<()> {
    let mut reader = Reader::from_reader(std::io::BufReader::new(part));
    let mut buf = Vec::new();
    let mut span = Span::default();
    let (mut row, mut col): (Option<u32>, Option<u32>) = (None, None);
    let mut open_cell: Option<(u32, u32)> = None;
    loop {
        let event = match reader.read_event_into(&mut buf) {
            Ok(event) => event,
            Err(quick_xml::Error::Io(e)) if is_over_budget(&e) => {
                return Err(std::io::Error::other(OverBudget));
            }
            Err(quick_xml::Error::Io(e)) => {
                return Err(std::io::Error::new(e.kind(), e.to_string()));
            }
            Err(_) => return Ok(()),
        };
        match &event {
            Event::Start(e) | Event::Empty(e) => match e.local_name().as_ref() {
                b"row" => {
                    let given = attr(e, b"r")
                        .and_then(|r| std::str::from_utf8(&r).ok()?.parse::<u32>().ok())
                        .and_then(|r| r.checked_sub(1));
                    row = Some(given.unwrap_or_else(|| row.map_or(0, |r| r.saturating_add(1))));
                    col = None;
                }
                name @ (b"c" | b"si") => {
                    *total += 1;
                    if *total > limit {
                        return Err(std::io::Error::other(TooManyCells));
                    }
                    if name == b"c" {
                        let at = attr(e, b"r")
                            .as_deref()
                            .and_then(cell_ref)
                            .unwrap_or((row.unwrap_or(0), col.map_or(0, |c| c.saturating_add(1))));
                        col = Some(at.1);
                        // `<c/>` holds nothing; `<c>` counts once it has a value.
                        open_cell = matches!(event, Event::Start(_)).then_some(at);
                    }
                }
                b"v" | b"is" => {
                    if let Some((r, c)) = open_cell.take() {
                        span.add(r, c);
                        if span.area() > span_limit {
                            return Err(std::io::Error::other(RangeTooLarge));
                        }
                    }
                }
                _ => {}
            },
            Event::End(e) if e.local_name().as_ref() == b"c" => open_cell = None,
            Event::Eof => return Ok(()),
            _ => {}
        }
        buf.clear();
    }
}

/// Only `word/document.xml` is inflated: images, fonts and embedded files
/// stay compressed.
pub(super) fn extract(
    filename: &str,
    bytes: &[u8],
    budget: &Budget,
) -> Result<ExtractedText, AnalysisError> {
    let xml = read_zip_entry(filename, bytes, "word/document.xml", budget)?;
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

    fn budget(bytes: u64) -> Budget {
        Budget::new(
            crate::budget::Limits {
                document_inflated: bytes,
                ..crate::budget::Limits::DEFAULT
            },
            u64::MAX,
        )
    }

    #[test]
    fn a_package_inflating_past_the_budget_is_refused() {
        let bomb = packed(&[600 << 10, 600 << 10]);
        assert!(bomb.len() < 16 << 10);
        let err = check_zip_budget("bomb.xlsx", &bomb, Parts::All, &budget(1 << 20))
            .expect_err("over budget");
        assert!(err.to_string().contains("bomb.xlsx") && err.to_string().contains("1 MiB"));
        assert!(
            check_zip_budget(
                "ok.xlsx",
                &packed(&[500 << 10]),
                Parts::All,
                &budget(1 << 20)
            )
            .is_ok()
        );
    }
}

#[cfg(test)]
mod span_tests {
    use super::*;

    fn sheet(cells: &str) -> String {
        format!("<worksheet><sheetData>{cells}</sheetData></worksheet>")
    }

    #[test]
    fn two_far_apart_cells_span_a_huge_range() {
        let far = sheet(
            r#"<row r="1"><c r="A1"><v>1</v></c></row><row r="1048576"><c r="XFD1048576"><v>2</v></c></row>"#,
        );
        let mut total = 0;
        let err = count_cells(far.as_bytes(), &mut total, 100, 400).expect_err("huge");
        assert!(err.get_ref().is_some_and(|i| i.is::<RangeTooLarge>()));
        // Styled empty cells far away are not part of calamine's range.
        let styled = sheet(
            r#"<row r="1"><c r="A1"><v>1</v></c></row><row r="1048576"><c r="XFD1048576" s="1"/></row>"#,
        );
        let mut total = 0;
        count_cells(styled.as_bytes(), &mut total, 100, 400).expect("small");
        // Positions without `r` follow one another.
        let implicit = sheet(&format!(
            "<row>{}</row><row r=\"30\"><c><v>1</v></c></row>",
            "<c><v>1</v></c>".repeat(20)
        ));
        let mut total = 0;
        let err = count_cells(implicit.as_bytes(), &mut total, 100, 400).expect_err("30 x 20");
        assert!(err.get_ref().is_some_and(|i| i.is::<RangeTooLarge>()));
        assert_eq!(cell_ref(b"XFD1048576"), Some((1_048_575, 16_383)));
        assert_eq!(cell_ref(b"A1"), Some((0, 0)));
    }
}
