//! The behaviours production's own tests assert (§15):
//! test_partial_offers.py, test_corrections_smoke.py, test_templates.py.

mod support;

use analysis::offers::{detect_subtype, guess_supplier_name};
use analysis::packages::{DocumentFacts, build_packages};
use analysis::{fixtures, offers, run};

#[test]
fn financial_text_is_financial_only() {
    let s = detect_subtype(
        "OFFRE FINANCIERE\nPrix total: 1 500 000 FCFA",
        "offre_financiere_acme.pdf",
    );
    assert_eq!(s.subtype, "FINANCIAL_ONLY");
    assert!(s.has_financial && !s.has_technical && !s.has_admin);
}

#[test]
fn supplier_from_filename_with_lot() {
    assert!(guess_supplier_name("", "offre_lot1_beta_services.pdf").contains("BETA"));
}

#[test]
fn three_financial_only_documents_give_three_partial_packages() {
    let docs: Vec<DocumentFacts> = ["ALPHA", "BETA", "GAMMA"]
        .iter()
        .enumerate()
        .map(|(i, n)| DocumentFacts {
            artifact_id: format!("a{i}"),
            supplier_name: n.to_string(),
            uploaded_at: String::new(),
            subtype: detect_subtype("Montant total : 100 000 FCFA", "x.pdf"),
            fields: offers::guided_fields("Montant total : 100 000 FCFA", true, true),
        })
        .collect();
    let packages = build_packages(&docs);
    assert_eq!(packages.len(), 3);
    for p in &packages {
        assert_eq!(p.package_status, "PARTIAL");
        assert!(p.has_financial && !p.has_technical);
    }
}

#[test]
fn name_fallback_order() {
    assert!(guess_supplier_name("", "offre_alpha_industries_2026.pdf").contains("ALPHA"));
    assert!(
        guess_supplier_name("Société: BETA CONSTRUCTION\nAdresse", "2026_offre_lot.pdf")
            .contains("BETA")
    );
    assert_eq!(
        guess_supplier_name(
            "OFFRE TECHNIQUE\nGAMMA LOGISTICS\nsuite",
            "2026_offre_lot.pdf"
        ),
        "GAMMA LOGISTICS"
    );
    assert_eq!(
        guess_supplier_name("rien ici", "2026_offre_lot.pdf"),
        "FOURNISSEUR_INCONNU"
    );
}

#[test]
fn hex_ids_are_removed_from_names() {
    let name = guess_supplier_name("", "offre_delta_a1b2c3d4e5f6a7b8.pdf");
    assert_eq!(name, "DELTA");
    assert!(!guess_supplier_name("", "offre_3f2a9c1b77aa_omega_trading.pdf").contains("3F2A"));
}

#[test]
fn package_separates_missing_parts_from_missing_fields() {
    let text = "Montant total : 1 000 000 FCFA\nValidité de l'offre : 90 jours";
    let docs = vec![DocumentFacts {
        artifact_id: "a".into(),
        supplier_name: "ALPHA".into(),
        uploaded_at: String::new(),
        subtype: detect_subtype(text, "alpha.pdf"),
        fields: offers::guided_fields(text, true, true),
    }];
    let p = &build_packages(&docs)[0];
    assert_eq!(p.missing_parts, vec!["ADMIN", "TECHNICAL"]);
    assert_eq!(p.missing_extracted_fields, vec!["Délai livraison"]);
    assert_eq!(p.missing_fields, p.missing_extracted_fields);
}

#[test]
fn generated_cba_has_the_five_sheets_and_cba_in_its_name() {
    let out = run(&fixtures::run_input(false, false)).expect("run");
    assert!(out.cba.filename.contains("CBA") && out.cba.filename.ends_with(".xlsx"));
    let book = support::read_book(&out.cba.bytes);
    assert_eq!(
        support::sheet_names(&book),
        analysis::cba::standard_sheets(analysis::Language::Fr)
    );
    assert!(out.pv.filename.starts_with("PV_DEFAULT_") && out.pv.filename.ends_with(".docx"));
}
