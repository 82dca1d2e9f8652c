//! PDFs as producers write them, compressed: FlateDecode page contents,
//! objects packed in object streams behind a cross-reference stream, a
//! compressed ToUnicode map. The reader decodes these itself under its
//! budget (lopdf only parses), so they must read exactly as their
//! uncompressed forms do.

use analysis::{DocKind, extract_text, fixtures};
use lopdf::{Document, Object, SaveOptions, Stream, dictionary};

fn compressed(pdf: &[u8]) -> Vec<u8> {
    let mut doc = Document::load_mem(pdf).expect("fixture");
    doc.compress();
    let mut out = Vec::new();
    doc.save_with_options(
        &mut out,
        SaveOptions::builder()
            .use_object_streams(true)
            .use_xref_streams(true)
            .build(),
    )
    .expect("save");
    out
}

#[test]
fn a_compressed_pdf_reads_as_its_plain_form() {
    let plain = fixtures::dao_pdf_pages(3);
    let packed = compressed(&plain);
    assert!(
        packed.windows(7).any(|w| w == b"/ObjStm") && packed.windows(5).any(|w| w == b"/XRef"),
        "object streams and a cross-reference stream"
    );
    let expected = extract_text("plain.pdf", &plain, &[DocKind::Pdf]).expect("plain");
    let got = extract_text("packed.pdf", &packed, &[DocKind::Pdf]).expect("packed");
    assert!(expected.text.len() > 1000, "{}", expected.text);
    assert_eq!(got.text, expected.text);
    assert_eq!(got.units, 3);
}

/// A page in a Type0 font whose codes only a ToUnicode map explains.
fn to_unicode_pdf(compress: bool) -> Vec<u8> {
    let cmap = b"/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n/CMapName /T def\n1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n4 beginbfchar\n<0001> <0050>\n<0002> <0072>\n<0003> <0069>\n<0004> <0078>\nendbfchar\nendcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n";
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let mut map = Stream::new(dictionary! {}, cmap.to_vec());
    if compress {
        map.compress().expect("compress");
    }
    let map_id = doc.add_object(map);
    let font_id = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type0", "BaseFont" => "X",
        "Encoding" => "Identity-H", "ToUnicode" => map_id,
    });
    let resources_id = doc.add_object(dictionary! { "Font" => dictionary! { "F1" => font_id } });
    let content = b"BT /F1 12 Tf 50 800 Td <0001000200030004> Tj ET".to_vec();
    let content_id = doc.add_object(Stream::new(dictionary! {}, content));
    let page_id = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages_id, "Contents" => content_id,
        "Resources" => resources_id,
        "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages", "Kids" => vec![Object::from(page_id)], "Count" => 1,
        }),
    );
    let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog_id);
    let mut out = Vec::new();
    doc.save_to(&mut out).expect("pdf");
    out
}

#[test]
fn a_compressed_to_unicode_map_is_decoded() {
    let plain = extract_text("p.pdf", &to_unicode_pdf(false), &[DocKind::Pdf]).expect("plain");
    assert_eq!(plain.text, "[PAGE 1]\nPrix");
    let packed = extract_text("c.pdf", &to_unicode_pdf(true), &[DocKind::Pdf]).expect("packed");
    assert_eq!(packed.text, plain.text);
}
