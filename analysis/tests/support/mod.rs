//! Helpers shared by the integration tests: reading back what the crate wrote.
#![allow(dead_code)]

use std::io::Cursor;

use umya_spreadsheet::Spreadsheet;

pub fn read_book(bytes: &[u8]) -> Spreadsheet {
    umya_spreadsheet::reader::xlsx::read_reader(Cursor::new(bytes), true).expect("readable xlsx")
}

pub fn cell(book: &Spreadsheet, sheet: &str, coord: &str) -> String {
    book.get_sheet_by_name(sheet)
        .and_then(|s| s.get_cell(coord))
        .map(|c| c.get_value().to_string())
        .unwrap_or_default()
}

pub fn fill(book: &Spreadsheet, sheet: &str, coord: &str) -> Option<String> {
    book.get_sheet_by_name(sheet)?
        .get_cell(coord)?
        .get_style()
        .get_background_color()
        .map(|c| c.get_argb().to_string())
}

/// The text of the comment on `cell` (e.g. "C7"), read from the package's
/// comment parts (umya does not expose plain comment text).
pub fn comment(xlsx: &[u8], cell: &str) -> Option<String> {
    use std::io::Read;
    let mut z = zip::ZipArchive::new(Cursor::new(xlsx)).ok()?;
    let names: Vec<String> = z
        .file_names()
        .filter(|n| n.starts_with("xl/comments"))
        .map(String::from)
        .collect();
    for name in names {
        let mut xml = String::new();
        z.by_name(&name).ok()?.read_to_string(&mut xml).ok()?;
        let marker = format!("ref=\"{cell}\"");
        if let Some(at) = xml.find(&marker) {
            let rest = &xml[at..];
            let end = rest.find("</comment>")?;
            let body = &rest[..end];
            let mut text = String::new();
            let mut inside = false;
            for part in body.split('<').skip(1) {
                let (tag, content) = part.split_once('>').unwrap_or((part, ""));
                if tag.starts_with("t") && !tag.starts_with("text") {
                    inside = true;
                    text.push_str(content);
                } else if inside {
                    inside = false;
                }
            }
            return Some(
                text.replace("&apos;", "'")
                    .replace("&quot;", "\"")
                    .replace("&lt;", "<")
                    .replace("&gt;", ">")
                    .replace("&amp;", "&"),
            );
        }
    }
    None
}

pub fn sheet_names(book: &Spreadsheet) -> Vec<String> {
    book.get_sheet_collection_no_check()
        .iter()
        .map(|s| s.get_name().to_string())
        .collect()
}

/// Every cell value and formula of every sheet, for "never scores" checks.
pub fn all_text(book: &Spreadsheet) -> String {
    let mut out = String::new();
    for s in book.get_sheet_collection_no_check() {
        for c in s.get_cell_collection() {
            out.push_str(&c.get_value());
            out.push('\n');
            out.push_str(c.get_formula());
            out.push('\n');
        }
    }
    out
}
