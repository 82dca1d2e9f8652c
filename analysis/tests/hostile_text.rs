//! Text that XML cannot carry (NUL, other C0 controls, U+FFFE, U+FFFF) in a
//! supplier name, a case title or a decision reason: the CBA and the PV stay
//! well-formed. Every XML part of each generated package is opened with
//! roxmltree, a strict parser that refuses such characters as Word and Excel
//! do.

use std::io::{Cursor, Read};

use analysis::{Decision, PvInput, fixtures, packages_from_extractions, render_pv, run};

const HOSTILE: &str = "AL\u{0}PHA\u{1} SA\u{8}RL\u{1f}\u{fffe}\u{ffff} <&> \"x\"";
/// What is left of it once made XML-safe.
const KEPT: &str = "ALPHA SARL <&> \"x\"";

/// Opens every `.xml`/`.rels` part of an OOXML package with a strict parser;
/// returns the parts' text for further checks.
fn strictly_parsed(what: &str, package: &[u8]) -> String {
    let mut archive = zip::ZipArchive::new(Cursor::new(package)).expect("a zip package");
    let mut all = String::new();
    let mut parts = 0;
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).expect("entry");
        let name = entry.name().to_string();
        if !(name.ends_with(".xml") || name.ends_with(".rels")) {
            continue;
        }
        let mut xml = String::new();
        entry
            .read_to_string(&mut xml)
            .unwrap_or_else(|e| panic!("{what} {name}: not UTF-8 ({e})"));
        let doc = roxmltree::Document::parse(&xml)
            .unwrap_or_else(|e| panic!("{what} {name} is not well-formed: {e}"));
        for node in doc.descendants().filter(|n| n.is_text()) {
            all.push_str(node.text().unwrap_or_default());
            all.push('\n');
        }
        parts += 1;
    }
    assert!(parts >= 3, "{what}: {parts} XML parts");
    all
}

fn hostile_input(with_templates: bool) -> analysis::RunInput {
    let mut input = fixtures::run_input(false, with_templates);
    input.case.title = format!("Marché {HOSTILE}");
    for offer in input
        .offers
        .iter_mut()
        .filter(|o| o.supplier_name.as_deref() == Some("ALPHA SARL"))
    {
        offer.supplier_name = Some(HOSTILE.to_string());
    }
    input
}

#[test]
fn generated_documents_stay_well_formed_whatever_the_text() {
    for with_templates in [true, false] {
        let input = hostile_input(with_templates);
        let out = run(&input).expect("run");
        let cba = strictly_parsed("CBA", &out.cba.bytes);
        assert!(cba.contains(KEPT), "the name is kept, made safe: {cba}");
        let pv = strictly_parsed("PV", &out.pv.bytes);
        assert!(pv.contains(KEPT), "{pv}");

        // The decision's PV, with a hostile reason and supplier.
        let rows: Vec<analysis::StoredExtraction> = out
            .extractions
            .iter()
            .map(|e| analysis::StoredExtraction {
                artifact_id: e.artifact_id.clone(),
                supplier_name: e.supplier_name.clone(),
                extracted_data_json: e.extracted_data_json(),
            })
            .collect();
        let packages = packages_from_extractions(&rows);
        let decision = Decision {
            chosen_supplier: HOSTILE.to_string(),
            decision_reason: format!("Offre conforme\u{0}\u{7}\u{fffe}{HOSTILE}"),
            next_action: "Notifier\u{ffff}".to_string(),
            decided_at: "2026-11-26T09:00:00".to_string(),
        };
        let pv = render_pv(&PvInput {
            case: &input.case,
            criteria: &out.criteria,
            packages: &packages,
            decision: Some(&decision),
            template: input.pv_template.as_ref(),
            generated_at: "2026-11-26T09:00:00",
        })
        .expect("decided PV");
        let text = strictly_parsed("decided PV", &pv.bytes);
        assert!(text.contains("Offre conforme"), "{text}");
        assert!(text.contains("Notifier"), "{text}");
    }
}
