//! The generated documents follow the case's language: an English case's
//! CBA workbook and PV carry English labels (sheet names, headers, review
//! flags, the PV's sections), with no French label left; a French case's
//! are production's (the other tests of this crate assert them word for
//! word).

mod support;

use analysis::{Decision, Language, PvInput, docx_paragraphs, fixtures, render_pv, run};
use support::{all_text, cell, read_book, sheet_names};

fn english_input(with_templates: bool) -> analysis::RunInput {
    let mut input = fixtures::run_input(false, with_templates);
    input.case.language = Language::En;
    input
}

/// French labels of the documents that must not reach an English one.
const FRENCH: &[&str] = &[
    "Soumissionnaire",
    "REVUE MANUELLE",
    "Info Générales",
    "Montant HT",
    "absent des documents",
    "Pièces manquantes",
    "pièce ",
    "NON DÉCIDÉ",
    "Fournisseur retenu",
    "RÉSUMÉ AUTO-EXTRAIT",
    "Offres reçues",
    "Comité d'évaluation",
    "Procès-Verbal",
];

#[test]
fn an_english_case_gets_an_english_standard_workbook() {
    let out = run(&english_input(false)).expect("run");
    let book = read_book(&out.cba.bytes);
    assert_eq!(
        sheet_names(&book),
        [
            "General Information",
            "Deposit Register",
            "Technical Analysis",
            "Financial Analysis",
            "Summary"
        ]
    );
    assert_eq!(
        sheet_names(&book),
        analysis::cba::standard_sheets(Language::En)
    );
    assert_eq!(cell(&book, "General Information", "A3"), "Contract title");
    assert_eq!(cell(&book, "Deposit Register", "B1"), "Bidder");
    assert_eq!(
        cell(&book, "Deposit Register", "G4"),
        "TECHNICAL document, Prix total, Validité offre"
    );
    assert_eq!(cell(&book, "Financial Analysis", "B1"), "Amount excl. VAT");
    let text = all_text(&book);
    assert!(text.contains("MANUAL REVIEW"), "{text}");
    for french in FRENCH {
        assert!(!text.contains(french), "French label {french:?} in {text}");
    }
}

#[test]
fn an_english_case_s_filled_template_flags_in_english() {
    let out = run(&english_input(true)).expect("run");
    assert!(out.cba.template_used.is_some());
    let book = read_book(&out.cba.bytes);
    let text = all_text(&book);
    assert!(text.contains("MANUAL REVIEW"), "{text}");
    assert!(!text.contains("REVUE MANUELLE"), "{text}");
    assert!(
        text.contains("Adaptive CBA (no score, no ranking)"),
        "{text}"
    );
}

#[test]
fn an_english_case_gets_an_english_pv() {
    let input = english_input(false);
    let out = run(&input).expect("run");
    let paras = docx_paragraphs("pv.docx", &out.pv.bytes).expect("docx");
    assert_eq!(paras[0], "Minutes — Decision Memory System");
    assert!(
        paras
            .iter()
            .any(|p| p == "AUTO-EXTRACTED SUMMARY (to be validated)")
    );
    assert!(
        paras
            .iter()
            .any(|p| p.contains("| Price: ") && p.contains("| Status: "))
    );
    let decision = Decision {
        chosen_supplier: "ALPHA SARL".to_string(),
        decision_reason: "Complete offer".to_string(),
        next_action: "Notify".to_string(),
        decided_at: "2026-11-26T09:30:00".to_string(),
    };
    let pv = render_pv(&PvInput {
        case: &input.case,
        criteria: &out.criteria,
        packages: &out.packages,
        decision: Some(&decision),
        template: None,
        generated_at: "2026-11-26T09:30:00",
    })
    .expect("pv");
    let paras = docx_paragraphs("pv.docx", &pv.bytes).expect("docx");
    let at = paras
        .iter()
        .position(|p| p == "HUMAN DECISION (FINAL)")
        .expect("decision section");
    assert_eq!(paras[at + 1], "Supplier chosen: ALPHA SARL");
    let all = paras.join("\n");
    for french in FRENCH {
        assert!(!all.contains(french), "French label {french:?} in {all}");
    }
}

#[test]
fn an_english_template_pv_says_undecided_in_english() {
    let out = run(&english_input(true)).expect("run");
    let paras = docx_paragraphs("pv.docx", &out.pv.bytes)
        .expect("docx")
        .join("\n");
    assert!(
        paras.contains("NOT DECIDED (human validation required)"),
        "{paras}"
    );
    assert!(!paras.contains("NON DÉCIDÉ"), "{paras}");
}
