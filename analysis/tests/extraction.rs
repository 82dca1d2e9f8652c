//! Text extraction details: PDF lines rebuilt from positioning operators,
//! Word tables, Excel numbers.

use analysis::{DocKind, extract_text, fixtures};
use lopdf::content::{Content, Operation};
use lopdf::{Document, Object, StringFormat, dictionary};

fn text(s: &str) -> Object {
    Object::String(s.as_bytes().to_vec(), StringFormat::Literal)
}

/// One page drawn the way word processors do: several pieces on one line,
/// then new lines with T* and the ' operator.
fn pdf_with_pieces() -> Vec<u8> {
    let ops = vec![
        Operation::new("BT", vec![]),
        Operation::new("Tf", vec!["F1".into(), 10.into()]),
        Operation::new("TL", vec![14.into()]),
        Operation::new("Td", vec![50.into(), 800.into()]),
        Operation::new("Tj", vec![text("Raison sociale :")]),
        Operation::new("Td", vec![80.into(), 0.into()]),
        Operation::new(
            "TJ",
            vec![Object::Array(vec![
                text("OMEGA"),
                Object::Integer(-300),
                text("TRADING"),
            ])],
        ),
        Operation::new("T*", vec![]),
        Operation::new("Tj", vec![text("Montant total : 3.500.000 FCFA")]),
        Operation::new("'", vec![text("Delai de livraison : 15 jours")]),
        Operation::new("ET", vec![]),
    ];
    fixtures::pdf_from_contents(vec![Content { operations: ops }.encode().expect("encode")])
}

#[test]
fn pdf_lines_are_rebuilt_from_positioning() {
    let t = extract_text("omega.pdf", &pdf_with_pieces(), &[DocKind::Pdf]).expect("text");
    assert_eq!(
        t.text,
        "[PAGE 1]\nRaison sociale : OMEGA TRADING\nMontant total : 3.500.000 FCFA\nDelai de livraison : 15 jours"
    );
    assert_eq!(
        analysis::offers::guess_supplier_name(&t.text, "scan.pdf"),
        "OMEGA TRADING"
    );
}

#[test]
fn pdf_pages_are_marked_and_accents_kept() {
    let t = extract_text("dao.pdf", &fixtures::dao_pdf_pages(3), &[DocKind::Pdf]).expect("text");
    assert_eq!(t.units, 3);
    assert!(t.text.starts_with("[PAGE 1]\nDOSSIER D'APPEL D'OFFRES N° DAO-2026-014\nFourniture de kits scolaires — Région de Mopti"));
    assert!(
        t.text
            .contains("\n[PAGE 3]\nArticle 2.1 — Les soumissionnaires")
    );
}

#[test]
fn docx_paragraphs_then_table_rows() {
    let bytes = fixtures::docx(
        "Premier paragraphe\n\n  Deuxième  ",
        &[
            vec!["Article".into(), "".into(), "Prix".into()],
            vec!["Cartable".into(), "x".into(), "1 000".into()],
        ],
    );
    let t = extract_text("o.docx", &bytes, &[DocKind::Docx]).expect("text");
    assert_eq!(
        t.text,
        "Premier paragraphe\nDeuxième\nArticle | Prix\nCartable | x | 1 000"
    );
}

#[test]
fn xlsx_rows_with_whole_numbers() {
    let bytes = fixtures::xlsx(
        "Prix",
        &[
            vec!["Total".into(), "2000000".into(), "FCFA".into()],
            vec!["Taux".into(), "0.18".into()],
        ],
    );
    let t = extract_text("p.xlsx", &bytes, &[DocKind::Xlsx]).expect("text");
    assert_eq!(t.text, "Total | 2000000 | FCFA\nTaux | 0.18");
    let f = analysis::offers::guided_fields(&t.text, true, false);
    assert_eq!(f.total_price.as_deref(), Some("2000000 FCFA"));
}

#[test]
fn dao_grid_in_a_word_table_gives_its_criteria() {
    let bytes = fixtures::docx(
        "Critères essentiels : attestation fiscale\nGrille",
        &[
            vec!["Critère".into(), "Poids".into()],
            vec!["Prix de l'offre".into(), "40%".into()],
            vec!["Capacité technique".into(), "60%".into()],
        ],
    );
    let t = extract_text("dao.docx", &bytes, &[DocKind::Docx]).expect("text");
    let c = analysis::criteria::extract_criteria(&t.text);
    let got: Vec<(&str, f64)> = c
        .iter()
        .map(|c| (c.critere_nom.as_str(), c.ponderation))
        .collect();
    assert_eq!(
        got,
        vec![
            ("Critères essentiels : attestation fiscale", 0.0),
            ("Prix de l'offre", 0.4),
            ("Capacité technique", 0.6)
        ]
    );
}

#[test]
fn encrypted_pdf_is_an_error_naming_the_file() {
    let mut doc = Document::load_mem(&fixtures::dao_pdf()).expect("load");
    let enc = doc.add_object(dictionary! {
        "Filter" => "Standard", "V" => 2, "R" => 3, "Length" => 128, "P" => -44,
        "O" => Object::string_literal(vec![1u8; 32]), "U" => Object::string_literal(vec![2u8; 32]),
    });
    doc.trailer.set("Encrypt", enc);
    doc.trailer.set(
        "ID",
        vec![
            Object::string_literal(vec![3u8; 16]),
            Object::string_literal(vec![3u8; 16]),
        ],
    );
    let mut bytes = Vec::new();
    doc.save_to(&mut bytes).expect("save");
    let err = extract_text("secret.pdf", &bytes, &[DocKind::Pdf]).expect_err("encrypted");
    assert!(
        matches!(err, analysis::AnalysisError::Encrypted { ref filename } if filename == "secret.pdf")
    );
    assert!(err.to_string().contains("secret.pdf"));
}
