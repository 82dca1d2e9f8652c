//! DAO criteria (production §7.3): essential (pass/fail) and weighted
//! criteria found line by line in the tender's text.
//!
//! Fixed against production (D-33): a line gives at most one criterion (a
//! line with an explicit weight is a weighted criterion, otherwise an
//! essential one if it says so), and weights in points are shares of the
//! total points instead of being read as percentages.

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::pattern::re;
use crate::text::{xml_text, xml_text_opt};

/// One `dao_criteria` row, without its id, case id and creation time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Criterion {
    pub categorie: String,
    pub critere_nom: String,
    /// Always empty, as in production.
    pub description: String,
    /// A fraction of 1 for weighted criteria; 0.0 for essential ones.
    pub ponderation: f64,
    pub type_reponse: String,
    pub seuil_elimination: Option<f64>,
    pub ordre_affichage: i32,
    /// How the DAO wrote the weight (`40%`, `30 points`); not a DB column.
    #[serde(skip)]
    pub poids_brut: Option<String>,
}

impl Criterion {
    pub fn is_essential(&self) -> bool {
        self.categorie == "essentiels"
    }

    /// A copy with every text made XML-safe, for the generated documents.
    pub(crate) fn xml_safe(&self) -> Criterion {
        Criterion {
            categorie: xml_text(&self.categorie),
            critere_nom: xml_text(&self.critere_nom),
            description: xml_text(&self.description),
            type_reponse: xml_text(&self.type_reponse),
            poids_brut: xml_text_opt(&self.poids_brut),
            ..self.clone()
        }
    }
}

static ESSENTIAL: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)critères?\s+essentiels?|mandatory\s+requirements?|conformité\s+(administrative|documents?)|documents?\s+obligatoires?",
    )
});

static WEIGHTED: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?i)([\w\s\-'’]+?)\s*[:(|]\s*(\d{1,4})\s*(%|points?(?-u:\b)|pts?(?-u:\b))")
});

#[derive(Clone, Copy, PartialEq)]
enum Unit {
    Percent,
    Points,
}

/// Extracts the criteria of a DAO text, in the order of its lines.
pub fn extract_criteria(text: &str) -> Vec<Criterion> {
    let mut found: Vec<(Criterion, Option<(u32, Unit)>)> = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        let len = line.chars().count();
        if !(5..=250).contains(&len) || crate::extract::is_page_marker(line) {
            continue;
        }
        // Most lines of a tender carry no weight: skip the costly pattern.
        let lower = line.to_ascii_lowercase();
        let maybe_weighted = line.contains('%') || lower.contains("point") || lower.contains("pt");
        let found_weight = if maybe_weighted { weighted(line) } else { None };
        if let Some((name, value, unit)) = found_weight {
            let raw = match unit {
                Unit::Percent => format!("{value}%"),
                Unit::Points => format!("{value} points"),
            };
            found.push((
                Criterion {
                    categorie: category(&name).to_string(),
                    critere_nom: name,
                    description: String::new(),
                    ponderation: 0.0,
                    type_reponse: "score_0_100".to_string(),
                    seuil_elimination: None,
                    ordre_affichage: 0,
                    poids_brut: Some(raw),
                },
                Some((value, unit)),
            ));
        } else if ESSENTIAL.is_match(line) {
            found.push((
                Criterion {
                    categorie: "essentiels".to_string(),
                    critere_nom: line.chars().take(120).collect(),
                    description: String::new(),
                    ponderation: 0.0,
                    type_reponse: "oui_non".to_string(),
                    seuil_elimination: Some(1.0),
                    ordre_affichage: 0,
                    poids_brut: None,
                },
                None,
            ));
        }
    }
    let total_points: u32 = found
        .iter()
        .filter_map(|(_, w)| w.filter(|(_, u)| *u == Unit::Points).map(|(v, _)| v))
        .sum();
    let mut criteria: Vec<Criterion> = found
        .into_iter()
        .enumerate()
        .map(|(i, (mut c, weight))| {
            c.ordre_affichage = i as i32 + 1;
            c.ponderation = match weight {
                Some((v, Unit::Percent)) => f64::from(v) / 100.0,
                Some((v, Unit::Points)) if total_points > 0 => {
                    f64::from(v) / f64::from(total_points)
                }
                _ => 0.0,
            };
            c
        })
        .collect();
    normalise(&mut criteria);
    criteria
}

/// Production's normalisation: when the weights add up to 1 within 5%, they
/// are scaled to add up to 1 exactly (rounded to 3 decimals).
fn normalise(criteria: &mut [Criterion]) {
    let sum: f64 = criteria
        .iter()
        .filter(|c| !c.is_essential())
        .map(|c| c.ponderation)
        .sum();
    if (0.95..=1.05).contains(&sum) {
        for c in criteria.iter_mut().filter(|c| !c.is_essential()) {
            c.ponderation = (c.ponderation / sum * 1000.0).round() / 1000.0;
        }
    }
}

fn weighted(line: &str) -> Option<(String, u32, Unit)> {
    // Percent first, then points, as production.
    let mut best: Option<(String, u32, Unit)> = None;
    for want in [Unit::Percent, Unit::Points] {
        for caps in WEIGHTED.captures_iter(line) {
            let unit = if caps[3].starts_with('%') {
                Unit::Percent
            } else {
                Unit::Points
            };
            if unit != want {
                continue;
            }
            let name = caps[1].trim().to_string();
            // "Total : 100 points" sums the grid; it is not a criterion.
            if name.is_empty() || name.eq_ignore_ascii_case("total") {
                continue;
            }
            let Ok(value) = caps[2].parse::<u32>() else {
                continue;
            };
            best = Some((name.chars().take(120).collect(), value, unit));
            break;
        }
        if best.is_some() {
            break;
        }
    }
    best
}

static COMMERCIAL: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)prix|coût|cout|montant|commercial|financ"));
static TECHNIQUE: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)technique|capacit[ée]|exp[ée]rience|r[ée]f[ée]rence"));
static DURABILITE: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)durabilit[ée]|environnement|social|(?-u:\b)rse(?-u:\b)"));

fn category(name: &str) -> &'static str {
    if COMMERCIAL.is_match(name) {
        "commercial"
    } else if TECHNIQUE.is_match(name) {
        "technique"
    } else if DURABILITE.is_match(name) {
        "durabilite"
    } else {
        "autre"
    }
}
