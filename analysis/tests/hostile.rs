//! Hostile files give errors (or a manual-review flag), never a crash: no
//! panic, and no stack overflow, which would abort the whole server.

use std::io::Write;

use analysis::{AnalysisError, DocKind, extract_text, fixtures};

/// A PDF whose one object is `body`, found through a correct xref table.
fn pdf_with_object(body: &[u8]) -> Vec<u8> {
    let mut pdf = b"%PDF-1.5\n".to_vec();
    let offset = pdf.len();
    pdf.extend_from_slice(body);
    let xref = pdf.len();
    pdf.extend(
        format!(
            "xref\n0 2\n0000000000 65535 f \n{offset:010} 00000 n \ntrailer\n<< /Size 2 /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
        )
        .as_bytes(),
    );
    pdf
}

fn deep(n: usize) -> Vec<u8> {
    std::iter::repeat_n(b'[', n).collect()
}

#[test]
fn deeply_nested_page_content_is_not_a_stack_overflow() {
    let mut content = b"BT ".to_vec();
    content.extend(deep(100_000));
    content.extend(b" TJ ET");
    let t = extract_text(
        "deep.pdf",
        &fixtures::pdf_from_contents(vec![content]),
        &[DocKind::Pdf],
    )
    .expect("readable");
    assert!(t.needs_manual_review);
}

#[test]
fn deeply_nested_object_is_corrupt() {
    let mut body = b"1 0 obj\n<< /Type /Catalog /X ".to_vec();
    body.extend(deep(100_000));
    body.extend(b" >>\nendobj\n");
    let err = extract_text("deep.pdf", &pdf_with_object(&body), &[DocKind::Pdf]).expect_err("deep");
    assert!(matches!(err, AnalysisError::Corrupt { ref filename, .. } if filename == "deep.pdf"));
}

#[test]
fn deeply_nested_object_stream_is_corrupt() {
    let mut inner = b"2 0 ".to_vec();
    inner.extend(deep(100_000));
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(&inner).expect("deflate");
    let packed = z.finish().expect("deflate");
    let mut body = format!(
        "1 0 obj\n<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length {} >>\nstream\n",
        packed.len()
    )
    .into_bytes();
    body.extend(&packed);
    body.extend(b"\nendstream\nendobj\n");
    let err =
        extract_text("objstm.pdf", &pdf_with_object(&body), &[DocKind::Pdf]).expect_err("deep");
    assert_eq!(err.filename(), Some("objstm.pdf"));
}

#[test]
fn mutated_documents_never_crash() {
    let cases: Vec<(&str, Vec<u8>, DocKind)> = vec![
        ("m.pdf", fixtures::dao_pdf(), DocKind::Pdf),
        ("m.docx", fixtures::dao_docx(), DocKind::Docx),
        (
            "m.xlsx",
            fixtures::xlsx("S", &[vec!["Total".into(), "1000".into()]]),
            DocKind::Xlsx,
        ),
    ];
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for (name, bytes, kind) in cases {
        for round in 0..60 {
            let mut b = bytes.clone();
            for _ in 0..(1 + round % 8) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let at = (seed as usize) % b.len();
                b[at] = (seed >> 32) as u8;
            }
            if round % 10 == 0 {
                b.truncate(b.len() * (round + 1) / 70);
            }
            // Either outcome is fine; reaching the next line is the test.
            let _ = extract_text(name, &b, &[kind]);
        }
    }
}
