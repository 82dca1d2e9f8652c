//! Reading a generated `.docx` back as text, for tests and checks.

use quick_xml::Reader;
use quick_xml::events::Event;

use crate::budget::Budget;
use crate::error::AnalysisError;

/// Reads a `.docx`'s paragraphs (body and tables, in document order) for
/// tests and checks.
pub fn docx_paragraphs(filename: &str, bytes: &[u8]) -> Result<Vec<String>, AnalysisError> {
    let xml = crate::extract::read_zip_entry(
        filename,
        bytes,
        "word/document.xml",
        &Budget::for_document(),
    )?;
    let mut reader = Reader::from_reader(xml.as_slice());
    let mut buf = Vec::new();
    let mut out = Vec::new();
    let mut current = String::new();
    let mut in_t = false;
    loop {
        let ev = reader
            .read_event_into(&mut buf)
            .map_err(|e| AnalysisError::corrupt(filename, e))?;
        match ev {
            Event::Eof => break,
            Event::Start(e) if e.local_name().as_ref() == b"p" => current.clear(),
            Event::Start(e) if e.local_name().as_ref() == b"t" => in_t = true,
            Event::End(e) if e.local_name().as_ref() == b"t" => in_t = false,
            Event::Empty(e) if e.local_name().as_ref() == b"br" => current.push('\n'),
            Event::Empty(e) if e.local_name().as_ref() == b"p" => out.push(String::new()),
            Event::Text(t) if in_t => current.push_str(
                &t.unescape()
                    .map_err(|e| AnalysisError::corrupt(filename, e))?,
            ),
            Event::End(e) if e.local_name().as_ref() == b"p" => {
                out.push(std::mem::take(&mut current))
            }
            _ => {}
        }
        buf.clear();
    }
    Ok(out)
}
