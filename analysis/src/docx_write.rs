//! A small writer of Word documents (WordprocessingML in a zip), used for the
//! default PV layout and for the fixture documents: the few parts Word needs,
//! paragraphs with styles and formatted runs, page breaks and tables.

use std::io::{Cursor, Write};

use zip::write::SimpleFileOptions;

use crate::error::AnalysisError;

/// Escapes text for XML content and attribute values.
pub(crate) fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            // NUL, other C0 controls, U+FFFE/U+FFFF: not allowed in XML 1.0.
            c if !crate::text::is_xml_char(c) => {}
            c => out.push(c),
        }
    }
    out
}

/// One run: text with optional bold/italic/colour/small print.
#[derive(Debug, Clone, Default)]
pub struct Run {
    pub text: String,
    pub bold: bool,
    pub italic: bool,
    pub color: Option<String>,
    /// 7 pt instead of the document's size (the full ledger hash).
    pub small: bool,
}

impl Run {
    pub fn plain(text: impl Into<String>) -> Run {
        Run {
            text: text.into(),
            ..Run::default()
        }
    }

    pub(crate) fn xml(&self) -> String {
        let mut props = String::new();
        if self.bold {
            props.push_str("<w:b/>");
        }
        if self.italic {
            props.push_str("<w:i/>");
        }
        if let Some(c) = &self.color {
            props.push_str(&format!("<w:color w:val=\"{}\"/>", esc(c)));
        }
        if self.small {
            props.push_str("<w:sz w:val=\"14\"/>");
        }
        let rpr = if props.is_empty() {
            String::new()
        } else {
            format!("<w:rPr>{props}</w:rPr>")
        };
        let mut body = String::new();
        for (i, line) in self.text.split('\n').enumerate() {
            if i > 0 {
                body.push_str("<w:br/>");
            }
            body.push_str(&format!("<w:t xml:space=\"preserve\">{}</w:t>", esc(line)));
        }
        format!("<w:r>{rpr}{body}</w:r>")
    }
}

/// A paragraph of runs with an optional style id.
pub(crate) fn paragraph(style: Option<&str>, runs: &[Run]) -> String {
    let ppr = style
        .map(|s| format!("<w:pPr><w:pStyle w:val=\"{}\"/></w:pPr>", esc(s)))
        .unwrap_or_default();
    let runs: String = runs.iter().map(Run::xml).collect();
    format!("<w:p>{ppr}{runs}</w:p>")
}

pub(crate) fn page_break() -> String {
    "<w:p><w:r><w:br w:type=\"page\"/></w:r></w:p>".to_string()
}

/// A document body being written, element by element.
#[derive(Debug, Default, Clone)]
pub struct DocxBuilder {
    body: String,
}

impl DocxBuilder {
    pub fn new() -> DocxBuilder {
        DocxBuilder::default()
    }

    pub fn heading(&mut self, level: u8, text: &str) -> &mut Self {
        let style = format!("Heading{}", level.clamp(1, 3));
        self.body
            .push_str(&paragraph(Some(&style), &[Run::plain(text)]));
        self
    }

    pub fn para(&mut self, text: &str) -> &mut Self {
        self.body.push_str(&paragraph(None, &[Run::plain(text)]));
        self
    }

    pub fn runs(&mut self, runs: &[Run]) -> &mut Self {
        self.body.push_str(&paragraph(None, runs));
        self
    }

    pub fn bullet(&mut self, text: &str) -> &mut Self {
        self.body
            .push_str(&paragraph(Some("ListBullet"), &[Run::plain(text)]));
        self
    }

    pub fn page_break(&mut self) -> &mut Self {
        self.body.push_str(&page_break());
        self
    }

    /// An empty paragraph.
    #[cfg_attr(not(feature = "fixtures"), allow(dead_code))]
    pub fn blank(&mut self) -> &mut Self {
        self.body.push_str("<w:p/>");
        self
    }

    #[cfg_attr(not(feature = "fixtures"), allow(dead_code))]
    pub fn table(&mut self, rows: &[Vec<String>]) -> &mut Self {
        self.body.push_str(
            "<w:tbl><w:tblPr><w:tblStyle w:val=\"TableGrid\"/><w:tblW w:w=\"0\" w:type=\"auto\"/></w:tblPr>",
        );
        for row in rows {
            self.body.push_str("<w:tr>");
            for cell in row {
                self.body
                    .push_str("<w:tc><w:tcPr><w:tcW w:w=\"0\" w:type=\"auto\"/></w:tcPr>");
                self.body
                    .push_str(&paragraph(None, &[Run::plain(cell.as_str())]));
                self.body.push_str("</w:tc>");
            }
            self.body.push_str("</w:tr>");
        }
        self.body.push_str("</w:tbl>");
        self
    }

    /// Raw body XML (already escaped), for callers that build their own.
    pub(crate) fn raw(&mut self, xml: &str) -> &mut Self {
        self.body.push_str(xml);
        self
    }

    /// The body XML written so far.
    pub(crate) fn body_xml(&self) -> String {
        self.body.clone()
    }

    /// The `.docx` bytes.
    pub fn finish(&self) -> Result<Vec<u8>, AnalysisError> {
        let document = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<w:document xmlns:w=\"{W}\" xmlns:r=\"{R}\"><w:body>{}<w:sectPr><w:pgSz w:w=\"11906\" w:h=\"16838\"/><w:pgMar w:top=\"1417\" w:right=\"1417\" w:bottom=\"1417\" w:left=\"1417\" w:header=\"708\" w:footer=\"708\" w:gutter=\"0\"/></w:sectPr></w:body></w:document>",
            self.body
        );
        package(&document)
    }
}

const W: &str = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";
const R: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";

const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/><Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/></Types>"#;

const ROOT_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>"#;

const DOC_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>"#;

const STYLES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:styles xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:docDefaults><w:rPrDefault><w:rPr><w:rFonts w:ascii="Calibri" w:hAnsi="Calibri" w:cs="Calibri"/><w:sz w:val="22"/><w:lang w:val="fr-FR"/></w:rPr></w:rPrDefault><w:pPrDefault><w:pPr><w:spacing w:after="120"/></w:pPr></w:pPrDefault></w:docDefaults><w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/></w:style><w:style w:type="paragraph" w:styleId="Heading1"><w:name w:val="heading 1"/><w:basedOn w:val="Normal"/><w:next w:val="Normal"/><w:pPr><w:keepNext/><w:spacing w:before="240"/><w:outlineLvl w:val="0"/></w:pPr><w:rPr><w:b/><w:color w:val="1F3864"/><w:sz w:val="32"/></w:rPr></w:style><w:style w:type="paragraph" w:styleId="Heading2"><w:name w:val="heading 2"/><w:basedOn w:val="Normal"/><w:next w:val="Normal"/><w:pPr><w:keepNext/><w:spacing w:before="200"/><w:outlineLvl w:val="1"/></w:pPr><w:rPr><w:b/><w:color w:val="2E74B5"/><w:sz w:val="26"/></w:rPr></w:style><w:style w:type="paragraph" w:styleId="Heading3"><w:name w:val="heading 3"/><w:basedOn w:val="Normal"/><w:next w:val="Normal"/><w:pPr><w:keepNext/><w:outlineLvl w:val="2"/></w:pPr><w:rPr><w:b/><w:sz w:val="24"/></w:rPr></w:style><w:style w:type="paragraph" w:styleId="ListBullet"><w:name w:val="List Bullet"/><w:basedOn w:val="Normal"/><w:pPr><w:ind w:left="360"/></w:pPr></w:style><w:style w:type="table" w:styleId="TableGrid"><w:name w:val="Table Grid"/><w:tblPr><w:tblBorders><w:top w:val="single" w:sz="4" w:space="0" w:color="auto"/><w:left w:val="single" w:sz="4" w:space="0" w:color="auto"/><w:bottom w:val="single" w:sz="4" w:space="0" w:color="auto"/><w:right w:val="single" w:sz="4" w:space="0" w:color="auto"/><w:insideH w:val="single" w:sz="4" w:space="0" w:color="auto"/><w:insideV w:val="single" w:sz="4" w:space="0" w:color="auto"/></w:tblBorders></w:tblPr></w:style></w:styles>"#;

/// Zips a `document.xml` with the parts every `.docx` needs.
pub(crate) fn package(document_xml: &str) -> Result<Vec<u8>, AnalysisError> {
    let parts: [(&str, &[u8]); 5] = [
        ("[Content_Types].xml", CONTENT_TYPES.as_bytes()),
        ("_rels/.rels", ROOT_RELS.as_bytes()),
        ("word/document.xml", document_xml.as_bytes()),
        ("word/_rels/document.xml.rels", DOC_RELS.as_bytes()),
        ("word/styles.xml", STYLES.as_bytes()),
    ];
    write_zip(&parts)
}

/// Writes a zip archive of the given parts, deflated.
pub(crate) fn write_zip(parts: &[(&str, &[u8])]) -> Result<Vec<u8>, AnalysisError> {
    let fail = |e: &dyn std::fmt::Display| AnalysisError::Write {
        what: "docx",
        reason: e.to_string(),
    };
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in parts {
        zip.start_file(*name, options).map_err(|e| fail(&e))?;
        zip.write_all(data).map_err(|e| fail(&e))?;
    }
    let cursor = zip.finish().map_err(|e| fail(&e))?;
    Ok(cursor.into_inner())
}
