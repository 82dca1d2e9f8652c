//! Decompression bombs: a PDF whose content is FlateDecode applied twice and
//! a DOCX whose one part is deflated zeros, each inflating to ~1 GiB, as the
//! DAO and as an offer. The run completes, lists them for manual reading as
//! over budget, and its peak memory stays bounded (measured in a child
//! process, `analysis-bench run`, from its `VmHWM`).

use std::io::Write;

use analysis::fixtures::bombs::{GIB, docx_bomb, pdf_bomb, with_bomb_part, zlib, zlib_zeros};
use analysis::{
    AnalysisError, DocKind, Limits, ReviewCause, extract_text, fixtures, run, run_within,
};

/// `package` with one more relationship of the document, to `target`
/// (relative to `word/`), so that the part it names is in use.
fn with_document_relationship(package: &[u8], target: &str) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(package)).expect("zip");
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for i in 0..archive.len() {
        let name = archive.by_index_raw(i).expect("entry").name().to_owned();
        if name != "word/_rels/document.xml.rels" {
            out.raw_copy_file(archive.by_index_raw(i).expect("entry"))
                .expect("copy");
            continue;
        }
        let mut xml = String::new();
        archive
            .by_index(i)
            .expect("rels")
            .read_to_string(&mut xml)
            .expect("read");
        let xml = xml.replace(
            "</Relationships>",
            &format!(
                r#"<Relationship Id="rLogo" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/image" Target="{target}"/></Relationships>"#
            ),
        );
        out.start_file(name, zip::write::SimpleFileOptions::default())
            .expect("entry");
        out.write_all(xml.as_bytes()).expect("write");
    }
    out.finish().expect("zip").into_inner()
}

#[test]
fn the_bombs_are_what_they_claim() {
    // The construction is exact at any size (checked on 16 MiB, streaming,
    // so that the test stays quick): the 1 GiB bombs inflate to ~1 GiB.
    let size = 16 << 20;
    let inner = zlib_zeros(size);
    let mut decoder = flate2::read::ZlibDecoder::new(inner.as_slice());
    let n = std::io::copy(&mut decoder, &mut std::io::sink()).expect("valid zlib");
    assert!(n > size - 258 && n <= size, "{n}");
    assert!(
        zlib_zeros(GIB).len() > 6 << 20,
        "a 1 GiB stream, 13 bits per 258 bytes"
    );
    assert!(pdf_bomb().len() < 64 << 10, "{}", pdf_bomb().len());
    let docx = docx_bomb();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(&docx)).expect("a zip");
    let entry = archive.by_name("word/document.xml").expect("the part");
    let mut zeros = std::io::Read::take(entry, 1 << 20);
    let n = std::io::copy(&mut zeros, &mut std::io::sink()).expect("inflates");
    assert_eq!(n, 1 << 20);
}

#[test]
fn a_pdf_bomb_is_over_budget_not_inflated() {
    let err = extract_text("bomb.pdf", &pdf_bomb(), &[DocKind::Pdf]).expect_err("bomb");
    assert!(
        matches!(&err, AnalysisError::OverBudget { filename, .. } if filename == "bomb.pdf"),
        "{err}"
    );
}

#[test]
fn a_docx_bomb_is_over_budget_not_inflated() {
    let err = extract_text("bomb.docx", &docx_bomb(), &[DocKind::Docx]).expect_err("bomb");
    assert!(
        matches!(&err, AnalysisError::OverBudget { filename, .. } if filename == "bomb.docx"),
        "{err}"
    );
}

#[test]
fn an_object_stream_bomb_is_over_budget() {
    // The objects of the file in one object stream that inflates to ~1 GiB:
    // lopdf would unpack it while loading.
    let packed = zlib(&zlib_zeros(GIB));
    let mut pdf = b"%PDF-1.5\n".to_vec();
    let offset = pdf.len();
    pdf.extend(
        format!(
            "1 0 obj\n<< /Type /ObjStm /N 1 /First 4 /Filter [/FlateDecode /FlateDecode] /Length {} >>\nstream\n",
            packed.len()
        )
        .as_bytes(),
    );
    pdf.extend(&packed);
    pdf.extend(b"\nendstream\nendobj\n");
    let xref = pdf.len();
    pdf.extend(
        format!(
            "xref\n0 2\n0000000000 65535 f \n{offset:010} 00000 n \ntrailer\n<< /Size 2 /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
        )
        .as_bytes(),
    );
    let err = extract_text("objstm.pdf", &pdf, &[DocKind::Pdf]).expect_err("bomb");
    assert!(matches!(err, AnalysisError::OverBudget { .. }), "{err}");
}

#[test]
fn a_cross_reference_stream_bomb_is_over_budget() {
    // The cross-reference stream lopdf inflates before anything else.
    let packed = zlib(&zlib_zeros(GIB));
    let mut pdf = b"%PDF-1.5\n".to_vec();
    let xref = pdf.len();
    pdf.extend(
        format!(
            "1 0 obj\n<< /Type /XRef /Size 2 /W [1 2 1] /Filter [/FlateDecode /Fl#61teDecode] /Length {} >>\nstream\n",
            packed.len()
        )
        .as_bytes(),
    );
    pdf.extend(&packed);
    pdf.extend(format!("\nendstream\nendobj\nstartxref\n{xref}\n%%EOF\n").as_bytes());
    let err = extract_text("xref.pdf", &pdf, &[DocKind::Pdf]).expect_err("bomb");
    assert!(matches!(err, AnalysisError::OverBudget { .. }), "{err}");
}

#[test]
fn a_run_with_bombs_completes_and_lists_them() {
    let mut input = fixtures::run_input(true, false);
    input.dao.content = analysis::Content::from(pdf_bomb());
    input.offers[0].content = analysis::Content::from(docx_bomb());
    input.offers[1].content = analysis::Content::from(pdf_bomb());
    let out = run(&input).expect("the run completes");
    let reviews = &out.summary.warnings.manual_review_documents;
    let mut over: Vec<&str> = reviews
        .iter()
        .filter(|r| r.cause == ReviewCause::OverBudget)
        .map(|r| r.filename.as_str())
        .collect();
    over.sort_unstable();
    let mut bombs = vec![
        input.dao.filename.as_str(),
        input.offers[0].filename.as_str(),
        input.offers[1].filename.as_str(),
    ];
    bombs.sort_unstable();
    assert_eq!(over, bombs, "{reviews:?}");
    assert!(out.criteria.is_empty());
    assert_eq!(out.extractions.len(), input.offers.len());
}

/// Peak memory of `analysis-bench run` on a case whose DAO and two offers
/// are bombs: the child process reports its own `VmHWM`.
fn peak_rss_of_a_run(dao: (&str, Vec<u8>), offers: &[(&str, Vec<u8>)]) -> (u64, String) {
    let dir = std::env::temp_dir().join(format!("dms-bombs-{}-{}", std::process::id(), dao.0));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("offers")).expect("dir");
    std::fs::write(dir.join(dao.0), &dao.1).expect("dao");
    for (name, bytes) in offers {
        std::fs::write(dir.join("offers").join(name), bytes).expect("offer");
    }
    std::fs::write(dir.join("cba_template.xlsx"), fixtures::cba_template_xlsx()).expect("t");
    std::fs::write(dir.join("pv_template.docx"), fixtures::pv_template_docx()).expect("t");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_analysis-bench"))
        .arg("run")
        .arg(&dir)
        .output()
        .expect("analysis-bench runs");
    let _ = std::fs::remove_dir_all(&dir);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let kib = stdout
        .split_whitespace()
        .find_map(|w| w.strip_prefix("peak_rss_kib="))
        .and_then(|k| k.parse::<u64>().ok())
        .unwrap_or_else(|| panic!("no peak memory in: {stdout}"));
    (kib, stdout)
}

#[test]
fn a_run_over_bombs_stays_under_256_mib() {
    let normal = fixtures::offers();
    let (name, bytes) = (normal[0].filename, &normal[0].bytes);
    for (dao, offer) in [
        ("dao.pdf", "beta_offre.docx"),
        ("dao.docx", "beta_offre.pdf"),
    ] {
        let dao_bytes = if dao.ends_with(".pdf") {
            pdf_bomb()
        } else {
            docx_bomb()
        };
        let offer_bytes = if offer.ends_with(".pdf") {
            pdf_bomb()
        } else {
            docx_bomb()
        };
        let (kib, line) = peak_rss_of_a_run(
            (dao, dao_bytes),
            &[
                (offer, offer_bytes),
                ("alpha_offre.pdf", pdf_bomb()),
                ("gamma_offre.docx", docx_bomb()),
                (name, bytes.clone()),
            ],
        );
        eprintln!("{dao} + {offer} bombs: peak RSS {} KiB", kib);
        assert!(kib < 256 * 1024, "peak RSS {} MiB: {line}", kib / 1024);
        for listed in [
            format!("{dao}:over_budget"),
            format!("{offer}:over_budget"),
            "alpha_offre.pdf:over_budget".to_string(),
            "gamma_offre.docx:over_budget".to_string(),
        ] {
            assert!(line.contains(&listed), "{listed} not in {line}");
        }
    }
}

#[test]
fn images_and_attachments_are_never_inflated() {
    // Word and Excel offers read their text; the media part stays packed.
    let docx = with_bomb_part(&fixtures::dao_docx(), "word/media/image1.png");
    let text = extract_text("dao.docx", &docx, &[DocKind::Docx]).expect("readable");
    assert!(text.text.contains("Critères essentiels"), "{}", text.text);
    let rows = vec![vec!["Prix total".to_string(), "1 000 FCFA".to_string()]];
    let xlsx = with_bomb_part(&fixtures::xlsx("Prix", &rows), "xl/media/image1.png");
    let text = extract_text("prix.xlsx", &xlsx, &[DocKind::Xlsx]).expect("readable");
    assert!(text.text.contains("1 000 FCFA"), "{}", text.text);

    // A PV template's picture in use is copied as it is (one it does not
    // use is left out); a CBA template's is inflated by umya, so it
    // counts, and the standard workbook is used.
    let mut input = fixtures::run_input(false, true);
    if let Some(t) = input.pv_template.as_mut() {
        t.bytes = with_document_relationship(
            &with_bomb_part(&t.bytes, "word/media/logo.png"),
            "media/logo.png",
        );
    }
    if let Some(t) = input.cba_template.as_mut() {
        t.bytes = with_bomb_part(&t.bytes, "xl/media/logo.png");
    }
    let out = run(&input).expect("run");
    assert_eq!(out.pv.template_used, "modele_pv.docx");
    assert!(out.pv.bytes.len() > 1 << 20, "the picture is kept");
    assert!(out.cba.template_used.is_none());
    let notes = &out.summary.warnings.notes;
    assert!(
        notes.len() == 1 && notes[0].contains("modele_cba.xlsx") && notes[0].contains("volumineux"),
        "{notes:?}"
    );
}

#[test]
fn a_workbook_past_the_cell_limit_is_not_built() {
    let limits = Limits {
        workbook_cells: 60,
        ..Limits::default()
    };
    let rows: Vec<Vec<String>> = (0..40)
        .map(|i| vec![format!("Article {i}"), format!("{}", 100 + i)])
        .collect();
    let mut input = fixtures::run_input(false, true);
    input.offers[0].content = analysis::Content::from(fixtures::xlsx("Prix", &rows));
    let out = run_within(&input, &limits).expect("run");
    let reviews = &out.summary.warnings.manual_review_documents;
    assert_eq!(reviews.len(), 1, "{reviews:?}");
    assert_eq!(reviews[0].cause, ReviewCause::OverBudget);
    assert!(
        reviews[0].reason.contains("60 cells"),
        "{}",
        reviews[0].reason
    );
    // Under the default limits both are read.
    let out = run(&input).expect("run");
    assert!(out.summary.warnings.manual_review_documents.is_empty());
}

#[test]
fn a_spent_run_budget_lists_the_remaining_documents() {
    let input = fixtures::run_input(false, false);
    // Enough for the DAO alone (its document.xml).
    let mut dao = zip::ZipArchive::new(std::io::Cursor::new(
        input.dao.content.load().expect("bytes"),
    ))
    .expect("docx");
    let dao_size = dao.by_name("word/document.xml").expect("part").size();
    let dao_alone = Limits {
        run_inflated: dao_size,
        ..Limits::default()
    };
    let out = run_within(&input, &dao_alone).expect("the run completes");
    assert!(out.criteria.len() > 3, "the DAO was read");
    let reviews = &out.summary.warnings.manual_review_documents;
    let over: Vec<&str> = reviews
        .iter()
        .filter(|r| r.cause == ReviewCause::OverBudget)
        .map(|r| r.filename.as_str())
        .collect();
    assert!(
        !over.is_empty() && !over.contains(&input.dao.filename.as_str()),
        "{reviews:?}"
    );
    assert!(
        reviews
            .iter()
            .any(|r| r.reason.contains("de toute l'analyse")),
        "{reviews:?}"
    );
    assert_eq!(out.extractions.len(), input.offers.len());
    // The default run budget reads them all.
    let out = run(&input).expect("run");
    assert!(out.summary.warnings.manual_review_documents.is_empty());
}

#[test]
fn a_sheet_spanning_the_whole_grid_is_not_built() {
    // Two cells, at A1 and at the last cell of the grid: calamine would
    // allocate the 17-billion-cell rectangle between them (an abort).
    let mut xlsx = fixtures::xlsx("Prix", &[vec!["Prix total".to_string()]]);
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(&xlsx)).expect("xlsx");
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for i in 0..archive.len() {
        let entry = archive.by_index(i).expect("entry");
        let name = entry.name().to_string();
        if name.starts_with("xl/worksheets/sheet") {
            drop(entry);
            out.start_file(name, zip::write::SimpleFileOptions::default())
                .expect("part");
            out.write_all(
                br#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>Prix</t></is></c></row><row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData></worksheet>"#,
            )
            .expect("write");
        } else {
            out.raw_copy_file(entry).expect("copy");
        }
    }
    xlsx = out.finish().expect("zip").into_inner();
    let err = extract_text("prix.xlsx", &xlsx, &[DocKind::Xlsx]).expect_err("too wide");
    assert!(
        matches!(
            err,
            AnalysisError::OverBudget {
                what: analysis::Overrun::Range,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn a_page_too_large_to_parse_is_over_budget() {
    // Uncompressed, so nothing inflates: lopdf's parse of it is what costs.
    let content = b"0 0 m ".repeat(1 << 20);
    let pdf = fixtures::pdf_from_contents(vec![content]);
    let err = extract_text("plan.pdf", &pdf, &[DocKind::Pdf]).expect_err("too large");
    assert!(
        matches!(
            err,
            AnalysisError::OverBudget {
                what: analysis::Overrun::Page,
                ..
            }
        ),
        "{err}"
    );
}
