//! One test per production defect D-26..D-35 that the crate fixes (each
//! fails on the defect's behaviour).

mod support;

use analysis::criteria::extract_criteria;
use analysis::offers::{
    detect_subtype, guess_supplier_name, guided_fields, parse_amount, supplier_name,
};
use analysis::{DecisionProblem, check_decision, docx_paragraphs, fixtures, run};

#[test]
fn d26_the_name_given_at_upload_wins_over_the_stored_filename() {
    let name = supplier_name(
        Some(" Alpha  SARL "),
        "offer_fe8448df-af52-4c1e-9d3a-0123456789ab.pdf",
        "",
    );
    assert_eq!(name, "Alpha SARL");
    // Without a given name, a legacy stored name never becomes "OFFER FE84 48DF AF52".
    let guessed = guess_supplier_name(
        "texte sans nom",
        "offer_fe8448df-af52-4c1e-9d3a-0123456789ab.pdf",
    );
    assert_eq!(guessed, "FOURNISSEUR_INCONNU");
}

#[test]
fn d27_a_page_marker_is_never_a_supplier() {
    let text = "[PAGE 1]\nOFFRE TECHNIQUE\nDétails\n[PAGE 2]\nsuite";
    assert_eq!(
        guess_supplier_name(text, "document.pdf"),
        "FOURNISSEUR_INCONNU"
    );
    let mut input = fixtures::run_input(true, false);
    for o in &mut input.offers {
        o.supplier_name = None;
        o.filename = "scan_0001.pdf".to_string();
        o.content = analysis::Content::from(fixtures::pdf(&[vec![
            "OFFRE FINANCIERE".into(),
            "Montant total : 10 000 FCFA".into(),
        ]]));
    }
    let out = run(&input).expect("run");
    for e in &out.extractions {
        assert!(!e.supplier_name.contains("[PAGE"), "{}", e.supplier_name);
    }
}

#[test]
fn d28_subtypes_are_detected_on_whole_words() {
    let s = detect_subtype(
        "Fournisseur : Europe Trading\nCertification ISO 9001 et expérience de 10 ans\nDénomination sociale complète",
        "x.pdf",
    );
    assert!(
        !s.has_financial,
        "'fournisseur'/'Europe' are not currencies"
    );
    assert!(
        !s.has_admin,
        "'certification' is not 'certificat', 'sociale' alone is not admin"
    );
    assert!(s.has_technical);
    assert_eq!(s.subtype, "TECHNICAL_ONLY");
}

#[test]
fn d29_amounts_are_read_as_written_in_west_africa() {
    assert_eq!(parse_amount("2.000.000"), Some(2_000_000.0));
    assert_eq!(parse_amount("2 000 000,50"), Some(2_000_000.5));
    assert_eq!(parse_amount("1,234,567.89"), Some(1_234_567.89));
    assert_eq!(parse_amount("1.234,56"), Some(1234.56));
    assert_eq!(parse_amount("750000"), Some(750_000.0));
    // The largest amount is the real total, not "2.000.000" read as 2000.
    let f = guided_fields("Total : 2.000.000 FCFA\nTotal : 150 000 FCFA", true, false);
    assert_eq!(f.total_price.as_deref(), Some("2.000.000 FCFA"));
    let f = guided_fields("Prix total : 1,234,567.89 USD", true, false);
    assert_eq!(
        (f.total_price.as_deref(), f.currency.as_str()),
        (Some("1,234,567.89 USD"), "USD")
    );
}

#[test]
fn d30_the_label_column_is_never_a_supplier_column_and_nobody_is_dropped() {
    let out = run(&fixtures::run_input(false, true)).expect("run");
    let book = support::read_book(&out.cba.bytes);
    assert_eq!(support::cell(&book, "CBA", "B6"), "Nom");
    assert_eq!(support::cell(&book, "CBA", "B7"), "Prix total de l'offre");
    let names: Vec<String> = ["C6", "D6", "E6"]
        .iter()
        .map(|c| support::cell(&book, "CBA", c))
        .collect();
    assert_eq!(names, vec!["GAMMA TRADING", "BETA SERVICES", "ALPHA SARL"]);
}

#[test]
fn d31_template_sheets_and_banner_are_kept() {
    let out = run(&fixtures::run_input(false, true)).expect("run");
    let book = support::read_book(&out.cba.bytes);
    let sheets = support::sheet_names(&book);
    assert!(sheets.contains(&"Template".to_string()) && sheets.contains(&"Notes".to_string()));
    assert_eq!(support::cell(&book, "CBA", "A2"), "Comité d'évaluation");
    assert_eq!(
        support::cell(&book, "CBA", "A3"),
        "Ne pas modifier la structure"
    );
    // Reusing an output as template: only the system's own sheet is replaced.
    let mut input = fixtures::run_input(false, true);
    input.cba_template = Some(analysis::TemplateDoc {
        filename: "reuse.xlsx".into(),
        bytes: out.cba.bytes.clone(),
    });
    let again = run(&input).expect("rerun");
    let sheets = support::sheet_names(&support::read_book(&again.cba.bytes));
    assert_eq!(sheets, vec!["CBA", "Template", "Notes", "DMS_Info"]);
}

#[test]
fn d32_a_placeholder_split_across_runs_is_replaced_keeping_formatting() {
    let out = run(&fixtures::run_input(false, true)).expect("run");
    let paras = docx_paragraphs("pv.docx", &out.pv.bytes).expect("docx");
    assert_eq!(
        paras[1],
        "Marché : Kits scolaires Mopti (réf. case-fixture-001)"
    );
    let xml = String::from_utf8(pipeline_zip(&out.pv.bytes)).expect("utf8");
    // The value sits in the bold run where the placeholder started.
    assert!(xml.contains(r#"<w:r><w:rPr><w:b/></w:rPr><w:t xml:space="preserve">Kits scolaires Mopti</w:t></w:r>"#), "{xml}");
}

fn pipeline_zip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("zip");
    let mut f = z.by_name("word/document.xml").expect("entry");
    let mut out = Vec::new();
    f.read_to_end(&mut out).expect("read");
    out
}

#[test]
fn d33_one_line_one_criterion_and_points_are_not_percent() {
    let c = extract_criteria(
        "Critères essentiels : conformité administrative (10%)\nPrix : 40 points\nTechnique : 60 points",
    );
    assert_eq!(c.len(), 3, "{c:?}");
    assert_eq!(c[0].categorie, "autre");
    assert_eq!(c[0].critere_nom, "conformité administrative");
    assert!(
        c.iter().all(|c| !c.is_essential()),
        "the weighted line is not also an essential criterion"
    );
    // 40 and 60 points of 100 points → 0.4 and 0.6 (not 0.4/0.6 by accident:
    // see the 30/50 points grid below).
    let c = extract_criteria("Prix : 30 points\nCapacité technique : 50 points");
    assert_eq!(c[0].ponderation, 0.375);
    assert_eq!(c[1].ponderation, 0.625);
    let c = extract_criteria(fixtures::DAO_TEXT_PERCENT);
    let w: Vec<f64> = c.iter().map(|c| c.ponderation).collect();
    assert_eq!(w, vec![0.0, 0.4, 0.45, 0.15]);
}

#[test]
fn d34_a_decision_names_an_analysed_supplier() {
    let out = run(&fixtures::run_input(false, false)).expect("run");
    assert_eq!(
        check_decision(&out.packages, "alpha  sarl", "ok", "notifier"),
        Ok("ALPHA SARL".to_string())
    );
    assert_eq!(
        check_decision(&out.packages, "OMEGA", "ok", "notifier"),
        Err(DecisionProblem::NotAmongOffers("OMEGA".to_string()))
    );
    assert_eq!(
        check_decision(&out.packages, "ALPHA SARL", " ", "x"),
        Err(DecisionProblem::Empty("decision_reason"))
    );
    assert_eq!(
        check_decision(&[], "ALPHA SARL", "ok", "x"),
        Err(DecisionProblem::NotAnalysed)
    );
    assert!(
        DecisionProblem::NotAmongOffers("OMEGA".into())
            .to_string()
            .contains("not among the offers analysed")
    );
}

#[test]
fn d35_the_standard_workbook_neither_scores_nor_ranks_and_keeps_input_order() {
    let out = run(&fixtures::run_input(false, false)).expect("run");
    let book = support::read_book(&out.cba.bytes);
    let text = support::all_text(&book).to_uppercase();
    assert!(!text.contains("RANK("));
    assert!(!text.contains("NOTE FINALE") && !text.contains("NOTE FINANCIÈRE"));
    // The register is sorted, the packages (the caller's data) are not.
    assert_eq!(out.packages[0].supplier_name, "GAMMA TRADING");
    assert_eq!(support::cell(&book, "Registre Dépôt", "B2"), "ALPHA SARL");
}

#[test]
fn d30_a_supplier_without_a_free_column_is_reported_not_dropped_silently() {
    use std::io::Cursor;
    let mut book = umya_spreadsheet::reader::xlsx::read_reader(
        Cursor::new(fixtures::cba_template_xlsx()),
        true,
    )
    .expect("template");
    if let Some(s) = book.get_sheet_by_name_mut("CBA") {
        s.get_cell_mut("E5")
            .set_value_string("Observations du comité");
    }
    let mut bytes = Cursor::new(Vec::new());
    umya_spreadsheet::writer::xlsx::write_writer(&book, &mut bytes).expect("write");
    let mut input = fixtures::run_input(false, true);
    input.cba_template = Some(analysis::TemplateDoc {
        filename: "serre.xlsx".into(),
        bytes: bytes.into_inner(),
    });
    let out = run(&input).expect("run");
    let left = &out.summary.warnings.left_out_of_cba;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].supplier_name, "ALPHA SARL");
    assert!(left[0].reason.contains("colonne E"), "{}", left[0].reason);
    let filled = support::read_book(&out.cba.bytes);
    assert_eq!(
        support::cell(&filled, "CBA", "E5"),
        "Observations du comité"
    );
    assert_eq!(support::cell(&filled, "CBA", "E6"), "");
    assert!(support::cell(&filled, "DMS_Info", "B6").starts_with("ALPHA SARL: "));
}

#[test]
fn d27_an_unknown_supplier_is_flagged_for_review_in_the_cba() {
    let mut input = fixtures::run_input(false, true);
    input.offers.truncate(1);
    input.offers[0].supplier_name = None;
    input.offers[0].filename = "scan_0001.docx".to_string();
    input.offers[0].content =
        analysis::Content::from(fixtures::docx("offre technique\nexpérience de 5 ans", &[]));
    let out = run(&input).expect("run");
    assert_eq!(out.packages[0].supplier_name, "FOURNISSEUR_INCONNU");
    assert_eq!(
        out.extractions[0].extracted_data["supplier_name_source"],
        "unknown"
    );
    let book = support::read_book(&out.cba.bytes);
    assert_eq!(support::cell(&book, "CBA", "C6"), "REVUE MANUELLE");
    assert_eq!(
        support::fill(&book, "CBA", "C6").as_deref(),
        Some("FFFFC000")
    );
    assert!(support::comment(&out.cba.bytes, "C6").is_some_and(|c| c.contains("introuvable")));
}

#[test]
fn d32_placeholders_split_over_three_runs_and_unknown_ones() {
    let template = fixtures::docx_runs(&[
        vec![
            ("Dossier ", false),
            ("{{CA", true),
            ("SE_", false),
            ("ID}} / {{OFFERS_", false),
            ("COUNT}}", true),
        ],
        vec![("{{INCONNU}} reste {{CASE_TITLE}}", false)],
        vec![("fin", false)],
    ]);
    let input = fixtures::run_input(false, false);
    let out = run(&input).expect("run");
    let pv = analysis::render_pv(&analysis::PvInput {
        case: &input.case,
        criteria: &out.criteria,
        packages: &out.packages,
        decision: None,
        template: Some(&analysis::TemplateDoc {
            filename: "t.docx".into(),
            bytes: template,
        }),
        generated_at: "2026-11-25T12:00:00",
    })
    .expect("pv");
    let paras = docx_paragraphs("pv.docx", &pv.bytes).expect("docx");
    assert_eq!(
        paras,
        vec![
            "Dossier case-fixture-001 / 3",
            "{{INCONNU}} reste Kits scolaires Mopti",
            "fin"
        ]
    );
}
