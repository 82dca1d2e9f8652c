//! Small helpers shared by the modules.

use regex::Regex;

/// Compiles one of the crate's constant patterns.
pub(crate) fn re(pattern: &str) -> Regex {
    // The patterns are literals of this crate, checked by its tests: a typo
    // is a programming error, never something a file can cause.
    Regex::new(pattern).expect("constant regex")
}

/// The digits of a UTC-ISO timestamp (`YYYYMMDDHHMMSS`), for file names.
pub(crate) fn stamp(generated_at: &str) -> String {
    generated_at
        .chars()
        .filter(char::is_ascii_digit)
        .take(14)
        .collect()
}

/// A file-name-safe form of a template stem or a reference.
pub(crate) fn safe_stem(stem: &str) -> String {
    let s: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(60)
        .collect();
    if s.is_empty() { "DOC".to_string() } else { s }
}

/// True for the characters XML 1.0 can carry (Rust strings hold no lone
/// surrogates; NUL, the other C0 controls, U+FFFE and U+FFFF are the rest).
pub(crate) fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// `text` without the characters XML cannot carry, so that a generated
/// document stays well-formed whatever a supplier's file or a form held.
pub(crate) fn xml_text(text: &str) -> String {
    text.chars().filter(|&c| is_xml_char(c)).collect()
}

/// Copies of the writers' inputs with every text made XML-safe.
pub(crate) mod xml_safe {
    use super::xml_text;
    use crate::CaseInfo;
    use crate::criteria::Criterion;
    use crate::packages::SupplierPackage;
    use crate::pv::Decision;

    fn opt(v: &Option<String>) -> Option<String> {
        v.as_deref().map(xml_text)
    }

    fn all(v: &[String]) -> Vec<String> {
        v.iter().map(|s| xml_text(s)).collect()
    }

    pub(crate) fn case(c: &CaseInfo) -> CaseInfo {
        CaseInfo {
            id: xml_text(&c.id),
            title: xml_text(&c.title),
            reference: opt(&c.reference),
            case_type: xml_text(&c.case_type),
            lot: opt(&c.lot),
            opening_date: opt(&c.opening_date),
            committee: c
                .committee
                .iter()
                .map(|m| crate::CommitteeMember {
                    name: xml_text(&m.name),
                    role: xml_text(&m.role),
                    declared_at: opt(&m.declared_at),
                })
                .collect(),
        }
    }

    pub(crate) fn criterion(c: &Criterion) -> Criterion {
        Criterion {
            categorie: xml_text(&c.categorie),
            critere_nom: xml_text(&c.critere_nom),
            description: xml_text(&c.description),
            type_reponse: xml_text(&c.type_reponse),
            poids_brut: opt(&c.poids_brut),
            ..c.clone()
        }
    }

    pub(crate) fn package(p: &SupplierPackage) -> SupplierPackage {
        SupplierPackage {
            supplier_name: xml_text(&p.supplier_name),
            package_status: xml_text(&p.package_status),
            total_price: opt(&p.total_price),
            total_price_source: opt(&p.total_price_source),
            currency: xml_text(&p.currency),
            lead_time_source: opt(&p.lead_time_source),
            validity_source: opt(&p.validity_source),
            technical_refs: all(&p.technical_refs),
            missing_parts: all(&p.missing_parts),
            missing_extracted_fields: all(&p.missing_extracted_fields),
            missing_fields: all(&p.missing_fields),
            offer_ids: all(&p.offer_ids),
            first_uploaded_at: xml_text(&p.first_uploaded_at),
            ..p.clone()
        }
    }

    pub(crate) fn decision(d: &Decision) -> Decision {
        Decision {
            chosen_supplier: xml_text(&d.chosen_supplier),
            decision_reason: xml_text(&d.decision_reason),
            next_action: xml_text(&d.next_action),
            decided_at: xml_text(&d.decided_at),
        }
    }
}
