//! What the PV says, whichever layout carries it: the placeholders'
//! values, one line per supplier and per criterion, the summary of what was
//! extracted and the committee's decision.

use super::{Decision, PvInput};
use crate::criteria::Criterion;
use crate::docx_write::{DocxBuilder, Run};
use crate::input::CommitteeMember;
use crate::packages::SupplierPackage;

/// Text written for `{{CHOSEN_SUPPLIER}}` before any decision.
pub const UNDECIDED: &str = "NON DÉCIDÉ (validation humaine requise)";

/// One line per supplier, as production writes them, with the gaps added.
pub fn supplier_line(p: &SupplierPackage) -> String {
    let na = |v: Option<String>| v.unwrap_or_else(|| "N/A".to_string());
    let status = if p.missing_fields.is_empty() {
        "✓ Complet"
    } else {
        "⚠️ Données incomplètes"
    };
    let mut line = format!(
        "- {} | Prix: {} | Délai: {}j | Validité: {}j | Status: {}",
        p.supplier_name,
        na(p.total_price.clone()),
        na(p.lead_time_days.map(|d| d.to_string())),
        na(p.validity_days.map(|d| d.to_string())),
        status
    );
    let gaps: Vec<String> = p
        .missing_parts
        .iter()
        .map(|part| format!("pièce {part}"))
        .chain(p.missing_fields.iter().cloned())
        .collect();
    if !gaps.is_empty() {
        line.push_str(&format!(" | Manquant: {}", gaps.join(", ")));
    }
    line
}

fn criterion_line(c: &Criterion) -> String {
    let weight = if c.ponderation == 0.0 {
        "Éliminatoire".to_string()
    } else {
        format!("{}%", (c.ponderation * 100.0).round() as i64)
    };
    format!("• {} ({}) — {}", c.critere_nom, c.categorie, weight)
}

pub(super) fn placeholders(input: &PvInput<'_>) -> Vec<(&'static str, String)> {
    let lines: Vec<String> = input.packages.iter().map(supplier_line).collect();
    let d = input.decision;
    vec![
        ("{{CASE_ID}}", input.case.id.clone()),
        ("{{CASE_TITLE}}", input.case.title.clone()),
        ("{{GENERATED_AT}}", input.generated_at.to_string()),
        ("{{SUPPLIERS_TABLE}}", lines.join("\n")),
        ("{{CRITERIA_COUNT}}", input.criteria.len().to_string()),
        ("{{OFFERS_COUNT}}", input.packages.len().to_string()),
        (
            "{{CHOSEN_SUPPLIER}}",
            d.map_or_else(|| UNDECIDED.to_string(), |d| d.chosen_supplier.clone()),
        ),
        (
            "{{DECISION_REASON}}",
            d.map(|d| d.decision_reason.clone()).unwrap_or_default(),
        ),
        (
            "{{NEXT_ACTION}}",
            d.map(|d| d.next_action.clone()).unwrap_or_default(),
        ),
        (
            "{{COMMITTEE}}",
            input
                .case
                .committee
                .iter()
                .map(CommitteeMember::line)
                .collect::<Vec<_>>()
                .join("\n"),
        ),
    ]
}

/// The summary section (criteria and offers) as body XML.
pub(super) fn summary_xml(input: &PvInput<'_>) -> String {
    let mut b = DocxBuilder::new();
    b.page_break()
        .heading(2, "RÉSUMÉ AUTO-EXTRAIT (à valider)")
        .heading(3, "Critères DAO");
    for c in input.criteria {
        b.bullet(&criterion_line(c));
    }
    b.heading(3, "Offres reçues");
    for p in input.packages {
        b.bullet(&supplier_line(p));
    }
    b.body_xml()
}

pub(super) fn decision_xml(d: &Decision) -> String {
    let mut b = DocxBuilder::new();
    b.page_break()
        .heading(2, "DÉCISION HUMAINE (FINALE)")
        .para(&format!("Fournisseur retenu: {}", d.chosen_supplier))
        .para(&format!("Justification: {}", d.decision_reason))
        .para(&format!("Action suivante: {}", d.next_action))
        .para(&format!("Horodatage: {}", d.decided_at))
        .runs(&[Run {
            text: "⚠️ Décision prise par le comité. Le système n'a fait aucune recommandation automatique."
                .to_string(),
            italic: true,
            ..Run::default()
        }]);
    b.body_xml()
}
