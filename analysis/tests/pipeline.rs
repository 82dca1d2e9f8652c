//! One analysis run over the generated fixture case, read back cell by cell
//! and paragraph by paragraph.

mod support;

use analysis::{
    AnalysisError, Decision, DocKind, PvInput, ReviewCause, StoredExtraction, TemplateDoc,
    docx_paragraphs, extract_text, fixtures, packages_from_extractions, render_pv, run,
};
use support::{all_text, cell, comment, fill, read_book, sheet_names};

#[test]
fn criteria_from_docx_and_pdf_dao_are_the_same() {
    for pdf in [false, true] {
        let out = run(&fixtures::run_input(pdf, false)).expect("run");
        let names: Vec<(&str, &str, f64)> = out
            .criteria
            .iter()
            .map(|c| (c.categorie.as_str(), c.critere_nom.as_str(), c.ponderation))
            .collect();
        assert_eq!(
            names,
            vec![
                (
                    "essentiels",
                    "Critères essentiels : registre de commerce et attestation fiscale à jour",
                    0.0
                ),
                (
                    "essentiels",
                    "Documents obligatoires : caution de soumission",
                    0.0
                ),
                ("commercial", "Prix de l'offre", 0.3),
                ("technique", "Capacité technique et expérience", 0.5),
                ("durabilite", "Durabilité et environnement", 0.2),
            ],
            "dao as pdf: {pdf}"
        );
        let orders: Vec<i32> = out.criteria.iter().map(|c| c.ordre_affichage).collect();
        assert_eq!(orders, vec![1, 2, 3, 4, 5]);
        assert_eq!(out.criteria[0].type_reponse, "oui_non");
        assert_eq!(out.criteria[0].seuil_elimination, Some(1.0));
        assert_eq!(out.criteria[2].type_reponse, "score_0_100");
        assert_eq!(out.criteria[2].seuil_elimination, None);
    }
}

#[test]
fn packages_group_the_parts_and_name_the_gaps() {
    let out = run(&fixtures::run_input(true, false)).expect("run");
    let p: Vec<(&str, &str)> = out
        .packages
        .iter()
        .map(|p| (p.supplier_name.as_str(), p.package_status.as_str()))
        .collect();
    // Newest upload first, as production orders offers.
    assert_eq!(
        p,
        vec![
            ("GAMMA TRADING", "PARTIAL"),
            ("BETA SERVICES", "PARTIAL"),
            ("ALPHA SARL", "COMPLETE")
        ]
    );
    let [gamma, beta, alpha] = &out.packages[..] else {
        panic!("three packages")
    };
    assert_eq!(alpha.total_price.as_deref(), Some("2.000.000 FCFA"));
    assert_eq!(
        alpha.total_price_source.as_deref(),
        Some("Pattern: 'montant total'")
    );
    assert_eq!(alpha.lead_time_days, Some(30));
    assert_eq!(alpha.validity_days, Some(90));
    assert!(alpha.missing_fields.is_empty());
    assert_eq!(
        alpha.technical_refs,
        vec![
            "Projet kits scolaires UNICEF Mopti 2024".to_string(),
            "Direction régionale de l'éducation de Ségou".to_string()
        ]
    );
    assert_eq!(alpha.offer_ids, vec!["offer-3", "offer-2", "offer-1"]);
    assert_eq!(alpha.document_count, 3);
    // The price schedule in .xlsx gives BETA's price.
    assert_eq!(beta.total_price.as_deref(), Some("1 750 500,50 FCFA"));
    assert_eq!(beta.lead_time_days, Some(45));
    assert_eq!(beta.missing_parts, vec!["ADMIN"]);
    assert!(beta.missing_fields.is_empty());
    // GAMMA sent no price.
    assert_eq!(gamma.total_price, None);
    assert_eq!(gamma.missing_parts, vec!["TECHNICAL"]);
    assert_eq!(gamma.missing_fields, vec!["Prix total", "Validité offre"]);
    assert_eq!(gamma.missing_extracted_fields, gamma.missing_fields);

    assert_eq!(out.extractions.len(), 7);
    let beta_xlsx = out
        .extractions
        .iter()
        .find(|e| e.artifact_id == "offer-5")
        .expect("xlsx extraction");
    assert_eq!(beta_xlsx.supplier_name, "BETA SERVICES");
    assert_eq!(
        beta_xlsx.extracted_data["subtype"]["subtype"],
        "FINANCIAL_ONLY"
    );
    assert_eq!(beta_xlsx.extracted_data["total_price"], "1 750 500,50 FCFA");
    // Per document, as production: the price schedule has no references.
    assert_eq!(
        beta_xlsx.missing_fields_json(),
        r#"["Références techniques"]"#
    );

    let s = &out.summary;
    assert_eq!(
        (s.dao_criteria_count, s.offers_count, s.raw_documents_count),
        (5, 3, 7)
    );
    assert_eq!(
        (
            s.package_stats.complete,
            s.package_stats.partial,
            s.package_stats.financial_only
        ),
        (1, 2, 1)
    );
    assert_eq!(s.warnings.missing_data_count, 2);
    assert_eq!(
        s.warnings.suppliers_with_missing_data,
        vec!["GAMMA TRADING"]
    );
    assert!(s.warnings.partial_offers_detected);

    let m = &out.memory_entry;
    assert_eq!(m["dao_source"], "dao_kits_scolaires.pdf");
    assert_eq!(m["dao_criteria_count"], 5);
    assert_eq!(m["raw_offers_count"], 7);
    assert_eq!(m["supplier_packages_count"], 3);
    assert_eq!(m["packages_summary"][2]["supplier"], "ALPHA SARL");
    assert_eq!(
        m["packages_summary"][2]["subtypes"]
            .as_array()
            .map(Vec::len),
        Some(3)
    );
    assert_eq!(m["offers_summary"][0]["supplier_name"], "GAMMA TRADING");
}

#[test]
fn cba_template_is_filled_in_place() {
    let out = run(&fixtures::run_input(false, true)).expect("run");
    let schema = out.cba.schema.clone().expect("schema");
    assert_eq!(schema.supplier_header_row, 5);
    assert_eq!(schema.supplier_name_row, 6);
    assert_eq!(schema.supplier_cols, vec![3, 4]);
    assert_eq!(schema.criteria_start_row, 7);
    assert_eq!(schema.criteria_rows.len(), 5);
    let json = schema.structure_json("tpl-1");
    assert_eq!(json["template_id"], "tpl-1");
    assert_eq!(
        json["sheets"],
        serde_json::json!(["CBA", "Template", "Notes"])
    );
    assert_eq!(out.cba.template_used.as_deref(), Some("modele_cba.xlsx"));

    let book = read_book(&out.cba.bytes);
    // Names: two template slots and one added column, the label column kept.
    assert_eq!(cell(&book, "CBA", "B5"), "Critères / Soumissionnaires");
    assert_eq!(cell(&book, "CBA", "B7"), "Prix total de l'offre");
    assert_eq!(cell(&book, "CBA", "C6"), "GAMMA TRADING");
    assert_eq!(cell(&book, "CBA", "D6"), "BETA SERVICES");
    assert_eq!(cell(&book, "CBA", "E6"), "ALPHA SARL");
    assert_eq!(cell(&book, "CBA", "E5"), "Soumissionnaire 3");
    assert!(out.cba.left_out.is_empty());
    // Prices: GAMMA's missing → orange with a comment; the others with their source.
    assert_eq!(cell(&book, "CBA", "C7"), "REVUE MANUELLE");
    assert_eq!(fill(&book, "CBA", "C7").as_deref(), Some("FFFFC000"));
    assert!(comment(&out.cba.bytes, "C7").is_some_and(|c| c.contains("Prix total absent")));
    assert_eq!(cell(&book, "CBA", "D7"), "1 750 500,50 FCFA");
    assert_eq!(
        comment(&out.cba.bytes, "D7").as_deref(),
        Some("Source: Pattern: 'prix total'")
    );
    assert_eq!(cell(&book, "CBA", "E7"), "2.000.000 FCFA");
    assert_eq!(cell(&book, "CBA", "E8"), "30 jours");
    assert_eq!(cell(&book, "CBA", "D9"), "60 jours");
    assert_eq!(cell(&book, "CBA", "C9"), "REVUE MANUELLE");
    assert_eq!(
        cell(&book, "CBA", "E10"),
        "Projet kits scolaires UNICEF Mopti 2024, Direction régionale de l'éducation de Ségou"
    );
    // The committee's own row is left alone.
    assert_eq!(cell(&book, "CBA", "C11"), "");
    // Formatting, formulas, the template's comment and sheets survive (D-31).
    assert_eq!(fill(&book, "CBA", "C5").as_deref(), Some("FFD9E1F2"));
    let formula = book
        .get_sheet_by_name("CBA")
        .and_then(|s| s.get_cell("H1"))
        .map(|c| c.get_formula().to_string());
    assert_eq!(formula.as_deref(), Some("SUM(1,2)"));
    assert_eq!(
        comment(&out.cba.bytes, "B7").as_deref(),
        Some("Prix TTC en FCFA")
    );
    assert_eq!(
        cell(&book, "CBA", "A1"),
        "ONG Sahel Education — Modèle CBA v3"
    );
    assert_eq!(cell(&book, "CBA", "A4"), "Confidentiel");
    assert_eq!(
        sheet_names(&book),
        vec!["CBA", "Template", "Notes", "DMS_Info"]
    );
    assert_eq!(cell(&book, "DMS_Info", "B2"), "case-fixture-001");
}

#[test]
fn standard_workbook_without_template_has_five_sheets_and_no_score() {
    let out = run(&fixtures::run_input(false, false)).expect("run");
    assert!(out.cba.template_used.is_none());
    assert!(out.cba.filename.starts_with("CBA_DAO-2026-014_"));
    let book = read_book(&out.cba.bytes);
    assert_eq!(
        sheet_names(&book),
        analysis::cba::standard_sheets(analysis::Language::Fr)
    );
    assert_eq!(
        cell(&book, "Info Générales", "A1"),
        "COMPARATIVE BID ANALYSIS (CBA)"
    );
    assert_eq!(cell(&book, "Info Générales", "B4"), "DAO-2026-014");
    assert_eq!(cell(&book, "Info Générales", "B7"), "20/11/2026");
    // Deposit register sorted by deposit time: ALPHA deposited first.
    assert_eq!(cell(&book, "Registre Dépôt", "B2"), "ALPHA SARL");
    assert_eq!(cell(&book, "Registre Dépôt", "B4"), "GAMMA TRADING");
    assert_eq!(
        cell(&book, "Registre Dépôt", "G4"),
        "pièce TECHNICAL, Prix total, Validité offre"
    );
    // Financial sheet: amounts read as written, GAMMA flagged.
    assert_eq!(cell(&book, "Analyse Financière", "A4"), "ALPHA SARL");
    assert_eq!(cell(&book, "Analyse Financière", "B4"), "2000000");
    assert_eq!(cell(&book, "Analyse Financière", "B3"), "1750500.5");
    assert_eq!(cell(&book, "Analyse Financière", "B2"), "REVUE MANUELLE");
    assert_eq!(
        fill(&book, "Analyse Financière", "B2").as_deref(),
        Some("FFFFC000")
    );
    assert_eq!(
        cell(&book, "Analyse Technique", "B1"),
        "Capacité technique et expérience"
    );
    assert_eq!(cell(&book, "Analyse Technique", "B2"), "/50 points");
    let text = all_text(&book).to_lowercase();
    for forbidden in [
        "rank",
        "note finale",
        "classement",
        "score final",
        "0.7*",
        "0,7",
    ] {
        assert!(!text.contains(forbidden), "workbook mentions {forbidden}");
    }
}

#[test]
fn pv_from_template_replaces_placeholders_and_appends_summary() {
    let input = fixtures::run_input(false, true);
    let out = run(&input).expect("run");
    assert_eq!(out.pv.template_used, "modele_pv.docx");
    assert!(!out.pv.decision_included);
    let paras = docx_paragraphs("pv.docx", &out.pv.bytes).expect("docx");
    assert_eq!(paras[0], "PROCÈS-VERBAL D'ANALYSE DES OFFRES");
    assert_eq!(
        paras[1],
        "Marché : Kits scolaires Mopti (réf. case-fixture-001)"
    );
    assert_eq!(paras[2], "Nombre d'offres : 3 — critères : 5");
    assert!(paras[3].starts_with("- GAMMA TRADING | Prix: N/A | Délai: 21j"));
    assert_eq!(paras[3].lines().count(), 3);
    assert_eq!(
        paras[4],
        "Fournisseur retenu : NON DÉCIDÉ (validation humaine requise)"
    );
    assert!(paras.iter().any(|p| p == "2026-11-25T12:00:00"));
    assert!(paras.iter().any(|p| p == "RÉSUMÉ AUTO-EXTRAIT (à valider)"));
    assert!(
        paras
            .iter()
            .any(|p| p == "• Prix de l'offre (commercial) — 30%")
    );
    assert!(paras.iter().any(
        |p| p == "• Documents obligatoires : caution de soumission (essentiels) — Éliminatoire"
    ));
    assert!(!paras.iter().any(|p| p.contains("{{")));
    assert!(!paras.iter().any(|p| p.contains("DÉCISION HUMAINE")));
}

#[test]
fn decision_pv_uses_the_same_packages_as_the_run() {
    let input = fixtures::run_input(false, false);
    let out = run(&input).expect("run");
    // What /api/decide reads back from offer_extractions.
    let rows: Vec<StoredExtraction> = out
        .extractions
        .iter()
        .zip(&input.offers)
        .map(|(e, _)| StoredExtraction {
            artifact_id: e.artifact_id.clone(),
            supplier_name: e.supplier_name.clone(),
            extracted_data_json: e.extracted_data_json(),
        })
        .rev()
        .collect();
    let packages = packages_from_extractions(&rows);
    assert_eq!(packages, out.packages);
    let decision = Decision {
        chosen_supplier: "ALPHA SARL".to_string(),
        decision_reason: "Offre complète et conforme".to_string(),
        next_action: "Notifier l'attributaire".to_string(),
        decided_at: "2026-11-26T09:30:00".to_string(),
    };
    let pv = render_pv(&PvInput {
        case: &input.case,
        criteria: &out.criteria,
        packages: &packages,
        decision: Some(&decision),
        template: None,
        generated_at: "2026-11-26T09:30:00",
    })
    .expect("pv");
    assert!(pv.decision_included);
    assert_eq!(pv.template_used, "default");
    let paras = docx_paragraphs("pv.docx", &pv.bytes).expect("docx");
    assert_eq!(paras[0], "Procès-Verbal — Decision Memory System");
    assert_eq!(paras[1], "Case: Kits scolaires Mopti");
    let at = paras
        .iter()
        .position(|p| p == "DÉCISION HUMAINE (FINALE)")
        .expect("decision section");
    assert_eq!(paras[at + 1], "Fournisseur retenu: ALPHA SARL");
    assert_eq!(paras[at + 2], "Justification: Offre complète et conforme");
    assert_eq!(paras[at + 3], "Action suivante: Notifier l'attributaire");
    assert_eq!(paras[at + 4], "Horodatage: 2026-11-26T09:30:00");
    // One line per supplier package, as in the analysis PV.
    let supplier_lines = paras.iter().filter(|p| p.starts_with("- ")).count();
    assert_eq!(supplier_lines, 3);
}

#[test]
fn decision_in_a_template_pv_keeps_the_placeholder_run() {
    let input = fixtures::run_input(false, true);
    let out = run(&input).expect("run");
    let decision = Decision {
        chosen_supplier: "BETA SERVICES".to_string(),
        decision_reason: "Moins-disant conforme".to_string(),
        next_action: "Demander la pièce administrative".to_string(),
        decided_at: "2026-11-26T10:00:00".to_string(),
    };
    let pv = render_pv(&PvInput {
        case: &input.case,
        criteria: &out.criteria,
        packages: &out.packages,
        decision: Some(&decision),
        template: input.pv_template.as_ref(),
        generated_at: "2026-11-26T10:00:00",
    })
    .expect("pv");
    let paras = docx_paragraphs("pv.docx", &pv.bytes).expect("docx");
    assert_eq!(paras[4], "Fournisseur retenu : BETA SERVICES");
    assert_eq!(paras[5], "Motif : Moins-disant conforme");
    assert!(
        paras
            .iter()
            .any(|p| p == "Fournisseur retenu: BETA SERVICES")
    );
    // The bold red run of the placeholder now holds the name.
    let xml = String::from_utf8(read_zip(&pv.bytes, "word/document.xml")).expect("utf8");
    assert!(xml.contains(r#"<w:r><w:rPr><w:b/><w:color w:val="C00000"/></w:rPr><w:t xml:space="preserve">BETA SERVICES</w:t></w:r>"#));
}

pub fn read_zip(bytes: &[u8], name: &str) -> Vec<u8> {
    use std::io::Read;
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("zip");
    let mut f = z.by_name(name).expect("entry");
    let mut out = Vec::new();
    f.read_to_end(&mut out).expect("read");
    out
}

#[test]
fn scanned_pdf_is_flagged_for_manual_review_not_an_error() {
    let text =
        extract_text("scan.pdf", &fixtures::scanned_pdf(), &[DocKind::Pdf]).expect("no error");
    assert!(text.needs_manual_review);
    assert_eq!(text.text, "");
    let mut input = fixtures::run_input(false, false);
    input.offers[0].content = analysis::Content::from(fixtures::scanned_pdf());
    input.offers[0].filename = "alpha_technique_scan.pdf".to_string();
    let out = run(&input).expect("run");
    let reviews = &out.summary.warnings.manual_review_documents;
    assert_eq!(reviews.len(), 1);
    assert_eq!(reviews[0].filename, "alpha_technique_scan.pdf");
    let e = out
        .extractions
        .iter()
        .find(|e| e.artifact_id == "offer-1")
        .expect("row");
    assert_eq!(e.extracted_data["needs_manual_review"], true);
}

#[test]
fn hostile_files_give_errors_naming_the_file() {
    let docx = fixtures::dao_docx();
    let truncated = &docx[..docx.len() / 2];
    let err = extract_text("dao.docx", truncated, &[DocKind::Docx]).expect_err("truncated zip");
    assert!(matches!(&err, AnalysisError::Corrupt { filename, .. } if filename == "dao.docx"));
    assert!(err.to_string().contains("dao.docx"));

    let err = extract_text(
        "offre.pdf",
        b"%PDF-1.4 garbage \x00\xff not a pdf",
        &[DocKind::Pdf],
    )
    .expect_err("garbage pdf");
    assert_eq!(err.filename(), Some("offre.pdf"));
    let err = extract_text("offre.pdf", b"hello", &[DocKind::Pdf]).expect_err("not a pdf");
    assert!(err.is_client_error());
    let pdf = fixtures::dao_pdf();
    let err = extract_text("cut.pdf", &pdf[..pdf.len() / 3], &[DocKind::Pdf]);
    assert!(err.is_err() || err.is_ok_and(|t| t.text.len() < 2000));
    let err = extract_text("prix.xlsx", b"PK\x03\x04 broken", &[DocKind::Xlsx]).expect_err("xlsx");
    assert_eq!(err.filename(), Some("prix.xlsx"));
    let err = extract_text(
        "offre.doc",
        b"\xd0\xcf\x11\xe0",
        analysis::extract::OFFER_KINDS,
    )
    .expect_err("unsupported");
    assert!(matches!(err, AnalysisError::Unsupported { .. }));

    // A corrupt offer no longer fails the run: it is listed for manual
    // reading with its reason, its row kept from what the upload declared.
    let mut input = fixtures::run_input(false, true);
    input.offers[2].content = analysis::Content::from(b"PK\x03\x04".to_vec());
    let out = run(&input).expect("the run completes");
    let reviews = &out.summary.warnings.manual_review_documents;
    assert_eq!(reviews.len(), 1, "{reviews:?}");
    assert_eq!(reviews[0].filename, "alpha_admin.docx");
    assert_eq!(reviews[0].cause, ReviewCause::Unreadable);
    assert!(
        reviews[0].reason.contains("illisible"),
        "{}",
        reviews[0].reason
    );
    assert_eq!(out.extractions.len(), input.offers.len());
    let row = out
        .extractions
        .iter()
        .find(|e| e.extracted_data["source_filename"] == "alpha_admin.docx")
        .expect("the unreadable offer keeps its row");
    assert_eq!(row.extracted_data["needs_manual_review"], true);
    assert!(row.extracted_data["unreadable_reason"].is_string());
    // The other documents were read as before.
    assert!(out.criteria.len() > 3);
    assert!(out.packages.iter().any(|p| p.total_price.is_some()));

    // Corrupt templates: the standard layouts, with a note naming the file.
    let mut input = fixtures::run_input(false, true);
    input.cba_template = Some(TemplateDoc {
        filename: "cba.xlsx".into(),
        bytes: truncated.to_vec(),
    });
    let out = run(&input).expect("cba");
    assert!(out.cba.template_used.is_none());
    assert_eq!(sheet_names(&read_book(&out.cba.bytes)).len(), 5);
    assert!(
        out.summary
            .warnings
            .notes
            .iter()
            .any(|n| n.contains("cba.xlsx")),
        "{:?}",
        out.summary.warnings.notes
    );
    let mut input = fixtures::run_input(false, true);
    input.pv_template = Some(TemplateDoc {
        filename: "pv.docx".into(),
        bytes: truncated.to_vec(),
    });
    let out = run(&input).expect("pv");
    assert_eq!(out.pv.template_used, "default");
    assert!(
        out.summary
            .warnings
            .notes
            .iter()
            .any(|n| n.contains("pv.docx"))
    );
    let paras = docx_paragraphs("pv.docx", &out.pv.bytes).expect("a readable PV");
    assert!(paras.iter().any(|p| p == "RÉSUMÉ AUTO-EXTRAIT (à valider)"));
}

#[test]
fn an_unreadable_or_mistyped_dao_is_listed_and_the_run_goes_on() {
    // Garbage behind a PDF header: no criteria, flagged, offers still read.
    let mut input = fixtures::run_input(true, false);
    input.dao.content = analysis::Content::from(b"%PDF-1.7\n\xab\xab\xab".to_vec());
    let out = run(&input).expect("the run completes");
    assert!(out.criteria.is_empty());
    let reviews = &out.summary.warnings.manual_review_documents;
    assert_eq!(reviews[0].filename, input.dao.filename);
    assert_eq!(reviews[0].cause, ReviewCause::Unreadable);
    assert!(
        reviews[0].reason.starts_with("DAO "),
        "{}",
        reviews[0].reason
    );
    assert_eq!(out.extractions.len(), input.offers.len());

    // A spreadsheet is not a DAO, whatever its name says.
    let mut input = fixtures::run_input(true, false);
    input.dao.content = analysis::Content::from(fixtures::xlsx("S", &[vec!["Critères".into()]]));
    let out = run(&input).expect("the run completes");
    let reviews = &out.summary.warnings.manual_review_documents;
    assert_eq!(reviews[0].cause, ReviewCause::Unsupported);
    assert!(out.criteria.is_empty());

    // The reader follows the content, not the suffix: a Word DAO named .pdf
    // and a PDF offer named .xls are read.
    let mut input = fixtures::run_input(true, false);
    input.dao.filename = "dao.pdf".into();
    input.dao.content = analysis::Content::from(fixtures::dao_docx());
    let pdf_offer = input
        .offers
        .iter_mut()
        .find(|o| matches!(&o.content, analysis::Content::Bytes(b) if b.starts_with(b"%PDF")))
        .expect("a PDF offer");
    pdf_offer.filename = "prix.xls".into();
    let out = run(&input).expect("the run completes");
    assert!(out.criteria.len() > 3);
    assert!(
        out.summary.warnings.manual_review_documents.is_empty(),
        "{:?}",
        out.summary.warnings.manual_review_documents
    );
}

#[test]
fn an_empty_pv_template_is_filled_not_a_crash() {
    // D-05
    let mut input = fixtures::run_input(false, false);
    input.pv_template = Some(TemplateDoc {
        filename: "vide.docx".into(),
        bytes: fixtures::empty_pv_template(),
    });
    let out = run(&input).expect("run");
    let paras = docx_paragraphs("pv.docx", &out.pv.bytes).expect("docx");
    assert!(paras.iter().any(|p| p == "RÉSUMÉ AUTO-EXTRAIT (à valider)"));
    assert_eq!(out.pv.template_used, "vide.docx");
}

#[test]
fn a_cba_template_without_supplier_header_falls_back_with_a_note() {
    // D-04
    let mut input = fixtures::run_input(false, false);
    input.cba_template = Some(TemplateDoc {
        filename: "libre.xlsx".into(),
        bytes: fixtures::cba_template_without_header(),
    });
    let out = run(&input).expect("no crash");
    assert!(out.cba.template_used.is_none());
    assert_eq!(
        out.cba.schema.as_ref().map(|s| s.supplier_header_row),
        Some(0)
    );
    assert!(out.summary.warnings.notes[0].contains("libre.xlsx"));
    assert_eq!(sheet_names(&read_book(&out.cba.bytes)).len(), 5);
}

#[test]
fn a_guessed_price_is_flagged_with_its_source() {
    let mut input = fixtures::run_input(false, true);
    let gamma = input
        .offers
        .iter_mut()
        .find(|o| o.filename == "gamma_financiere.docx")
        .expect("gamma");
    gamma.content = analysis::Content::from(fixtures::docx(
        "OFFRE FINANCIÈRE\nAcompte demandé 450 000 FCFA à la commande",
        &[],
    ));
    let out = run(&input).expect("run");
    assert_eq!(out.packages[0].total_price.as_deref(), Some("450 000 FCFA"));
    assert_eq!(
        out.packages[0].total_price_source.as_deref(),
        Some("Heuristique: plus grand montant")
    );
    let book = read_book(&out.cba.bytes);
    assert_eq!(cell(&book, "CBA", "C7"), "450 000 FCFA");
    assert_eq!(fill(&book, "CBA", "C7").as_deref(), Some("FFFFC000"));
    assert!(
        comment(&out.cba.bytes, "C7")
            .is_some_and(|c| c.contains("Valeur devinée") && c.contains("Heuristique"))
    );
    // A value read under its label is not flagged.
    assert_eq!(fill(&book, "CBA", "D7"), None);
}
