//! What the PV says, whichever layout carries it: the placeholders'
//! values, one line per supplier and per criterion, the summary of what was
//! extracted and the committee's decision.

use super::{Decision, PvInput};
use crate::LedgerAnchor;
use crate::criteria::Criterion;
use crate::docx_write::{DocxBuilder, Run};
use crate::labels::Language;
use crate::packages::SupplierPackage;

/// Text written for `{{CHOSEN_SUPPLIER}}` before any decision, in `lang`.
pub fn undecided(lang: Language) -> &'static str {
    lang.label("undecided")
}

/// One line per supplier, as production writes them, with the gaps added.
pub fn supplier_line(lang: Language, p: &SupplierPackage) -> String {
    let na = |v: Option<String>| v.unwrap_or_else(|| lang.label("na").to_string());
    let status = if p.missing_fields.is_empty() {
        lang.label("supplier-complete")
    } else {
        lang.label("supplier-incomplete")
    };
    let mut line = lang.label_with(
        "supplier-line",
        &[
            ("supplier", &p.supplier_name),
            ("price", &na(p.total_price.clone())),
            ("lead", &na(p.lead_time_days.map(|d| d.to_string()))),
            ("validity", &na(p.validity_days.map(|d| d.to_string()))),
            ("status", status),
        ],
    );
    let gaps: Vec<String> = p
        .missing_parts
        .iter()
        .map(|part| lang.label_with("missing-part", &[("part", part)]))
        .chain(p.missing_fields.iter().cloned())
        .collect();
    if !gaps.is_empty() {
        line.push_str(&lang.label_with("supplier-missing", &[("missing", &gaps.join(", "))]));
    }
    line
}

fn criterion_line(lang: Language, c: &Criterion) -> String {
    let weight = if c.ponderation == 0.0 {
        lang.label("eliminatory").to_string()
    } else {
        format!("{}%", (c.ponderation * 100.0).round() as i64)
    };
    format!("• {} ({}) — {}", c.critere_nom, c.categorie, weight)
}

pub(super) fn placeholders(input: &PvInput<'_>) -> Vec<(&'static str, String)> {
    let lang = input.case.language;
    let lines: Vec<String> = input
        .packages
        .iter()
        .map(|p| supplier_line(lang, p))
        .collect();
    let d = input.decision;
    let ledger = input.case.ledger.as_ref();
    vec![
        ("{{CASE_ID}}", input.case.id.clone()),
        ("{{CASE_TITLE}}", input.case.title.clone()),
        ("{{GENERATED_AT}}", input.generated_at.to_string()),
        ("{{SUPPLIERS_TABLE}}", lines.join("\n")),
        ("{{CRITERIA_COUNT}}", input.criteria.len().to_string()),
        ("{{OFFERS_COUNT}}", input.packages.len().to_string()),
        (
            "{{CHOSEN_SUPPLIER}}",
            d.map_or_else(
                || undecided(lang).to_string(),
                |d| d.chosen_supplier.clone(),
            ),
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
            "{{LEDGER_FINGERPRINT}}",
            ledger.map(|l| l.fingerprint.clone()).unwrap_or_default(),
        ),
        (
            "{{LEDGER_HASH}}",
            ledger.map(|l| l.hash.clone()).unwrap_or_default(),
        ),
        (
            "{{COMMITTEE}}",
            input
                .case
                .committee
                .iter()
                .map(|m| m.line(lang))
                .collect::<Vec<_>>()
                .join("\n"),
        ),
    ]
}

/// The summary section (criteria and offers) as body XML.
pub(super) fn summary_xml(input: &PvInput<'_>) -> String {
    let lang = input.case.language;
    let mut b = DocxBuilder::new();
    b.page_break()
        .heading(2, lang.label("pv-summary"))
        .heading(3, lang.label("pv-criteria"));
    for c in input.criteria {
        b.bullet(&criterion_line(lang, c));
    }
    b.heading(3, lang.label("pv-offers"));
    for p in input.packages {
        b.bullet(&supplier_line(lang, p));
    }
    b.body_xml()
}

pub(super) fn decision_xml(lang: Language, d: &Decision) -> String {
    let line = |id: &str, value: &str| lang.label_with(id, &[("value", value)]);
    let mut b = DocxBuilder::new();
    b.page_break()
        .heading(2, lang.label("pv-decision"))
        .para(&line("pv-chosen", &d.chosen_supplier))
        .para(&line("pv-reason", &d.decision_reason))
        .para(&line("pv-next", &d.next_action))
        .para(&line("pv-decided-at", &d.decided_at))
        .runs(&[Run {
            text: lang.label("pv-human").to_string(),
            italic: true,
            ..Run::default()
        }]);
    b.body_xml()
}

/// The ledger anchor as a final paragraph: the fingerprint, then the full
/// hash in small print. Every PV carries it, with or without placeholders.
pub(super) fn ledger_xml(lang: Language, anchor: &LedgerAnchor) -> String {
    let mut b = DocxBuilder::new();
    b.runs(&[
        Run::plain(lang.label_with("pv-ledger", &[("value", &anchor.fingerprint)])),
        Run::plain("\n"),
        Run {
            text: anchor.hash.clone(),
            small: true,
            ..Run::default()
        },
    ]);
    b.body_xml()
}
