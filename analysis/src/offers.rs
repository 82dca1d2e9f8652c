//! One offer document: its supplier (§7.4), its subtype (§7.5) and the
//! guided fields (§7.6), with the amounts read as francophone West Africa
//! writes them.

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::pattern::re;

// ---------------------------------------------------------------- supplier

/// The name production falls back to when nothing names the supplier.
pub const UNKNOWN_SUPPLIER: &str = "FOURNISSEUR_INCONNU";

static UUID: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}"));
static SEPARATORS: LazyLock<Regex> = LazyLock::new(|| re(r"[_\-\s.]+"));
static COMPANY_IN_TEXT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?im)(?:soci[ée]t[ée]|entreprise|firm|company|raison\s+sociale|soumissionnaire|fournisseur)[ \t]*[:\-][ \t]*([A-Za-zÀ-ÿ][A-Za-zÀ-ÿ0-9&'. \t\-]{3,79})",
    )
});

/// Words of a filename that say what the document is, not who sent it.
const FILENAME_NOISE: &[&str] = &[
    "offre",
    "offres",
    "offer",
    "offers",
    "lot",
    "dao",
    "rfq",
    "mpt",
    "mopti",
    "annexe",
    "annex",
    "technique",
    "technical",
    "tech",
    "financiere",
    "financière",
    "financial",
    "fin",
    "prix",
    "administrative",
    "admin",
    "administratif",
    "registre",
    "proposition",
    "soumission",
    "final",
    "v1",
    "v2",
    "v3",
    "scan",
    "copie",
    "copy",
    "signe",
    "signé",
    "bordereau",
    "price",
    "schedule",
    "dossier",
    "pdf",
    "docx",
    "xlsx",
];
const GENERIC_NAMES: &[&str] = &[
    "DOC", "PDF", "FILE", "DOCUMENT", "TEMP", "NEW", "OLD", "FINAL", "V", "VER",
];

/// True for text that is an identifier (uuid, hex digest, page marker)
/// rather than a name: such text is never used as a supplier name (D-26/27).
pub fn looks_like_id(name: &str) -> bool {
    let t = name.trim();
    if t.is_empty() || crate::extract::is_page_marker(t) || UUID.is_match(t) {
        return true;
    }
    t.split_whitespace().all(is_id_token)
}

fn is_id_token(word: &str) -> bool {
    let w = word.trim_matches(|c: char| !c.is_alphanumeric());
    w.is_empty()
        || w.chars().all(|c| c.is_ascii_digit())
        || (w.len() >= 4
            && w.chars().all(|c| c.is_ascii_hexdigit())
            && w.chars().any(|c| c.is_ascii_digit()))
}

/// The supplier of a document: the name given at upload when there is one
/// (D-26), otherwise the filename, then the text, then `FOURNISSEUR_INCONNU`.
pub fn supplier_name(given: Option<&str>, filename: &str, text: &str) -> String {
    if let Some(given) = given.map(collapse_spaces).filter(|g| !g.is_empty()) {
        return given;
    }
    guess_supplier_name(text, filename)
}

/// Production's fallback chain (§7.4), never yielding a page marker or an id.
pub fn guess_supplier_name(text: &str, filename: &str) -> String {
    if let Some(name) = name_from_filename(filename) {
        return name;
    }
    for caps in COMPANY_IN_TEXT.captures_iter(text) {
        let name = collapse_spaces(&caps[1]).to_uppercase();
        let name: String = name.chars().take(80).collect();
        if name.chars().count() >= 3 && !looks_like_id(&name) {
            return name;
        }
    }
    for line in text.lines() {
        let line = line.trim();
        let len = line.chars().count();
        if !(4..=100).contains(&len) || crate::extract::is_page_marker(line) {
            continue;
        }
        let upper = line == line.to_uppercase() && line.chars().any(|c| c.is_ascii_uppercase());
        let title = [
            "OFFRE",
            "PROPOSITION",
            "SOUMISSION",
            "ANNEXE",
            "DOSSIER",
            "BORDEREAU",
        ]
        .iter()
        .any(|p| line.starts_with(p));
        if upper && !title && !looks_like_id(line) && !line.contains('|') {
            return line.chars().take(80).collect();
        }
    }
    UNKNOWN_SUPPLIER.to_string()
}

fn name_from_filename(filename: &str) -> Option<String> {
    let base = filename.rsplit(['/', '\\']).next().unwrap_or(filename);
    let stem = match base.rfind('.') {
        Some(i) if i > 0 => &base[..i],
        _ => base,
    };
    let stem = UUID.replace_all(stem, " ");
    let words: Vec<&str> = SEPARATORS
        .split(&stem)
        .filter(|w| !w.is_empty())
        .filter(|w| !FILENAME_NOISE.contains(&w.to_lowercase().as_str()))
        .filter(|w| !is_id_token(w))
        .filter(|w| !(w.len() >= 8 && w.chars().all(|c| c.is_ascii_hexdigit())))
        .collect();
    let name = words.join(" ");
    let letters_run = name
        .as_bytes()
        .windows(3)
        .any(|w| w.iter().all(u8::is_ascii_alphabetic));
    let upper = name.to_uppercase();
    (name.chars().count() >= 5 && letters_run && !GENERIC_NAMES.contains(&upper.as_str()))
        .then(|| upper.chars().take(80).collect())
}

pub(crate) fn collapse_spaces(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

// ---------------------------------------------------------------- subtype

/// What a document holds (§7.5), found on whole words (D-28).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subtype {
    pub subtype: String,
    pub has_financial: bool,
    pub has_technical: bool,
    pub has_admin: bool,
    pub confidence: String,
}

static FINANCIAL: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)(?-u:\b)prix\s?(total|unitaire)(?-u:\b)|(?-u:\b)montants?(?-u:\b)|(?-u:\b)co[uû]ts?(?-u:\b)|(?-u:\b)(f\s?cfa|cfa|xof|usd|eur|euros?)(?-u:\b)|€|(?-u:\b)offre\s+financi[eè]re(?-u:\b)|(?-u:\b)offre\s+de\s+prix(?-u:\b)|(?-u:\b)bordereau\s+de[s]?\s+prix(?-u:\b)",
    )
});
static TECHNICAL: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)(?-u:\b)caract[ée]ristiques?\s+techniques?(?-u:\b)|(?-u:\b)sp[ée]cifications?(?-u:\b)|(?-u:\b)r[ée]f[ée]rences?\s+(techniques?|clients?)(?-u:\b)|(?-u:\b)exp[ée]riences?(?-u:\b)|(?-u:\b)capacit[ée]s?\s+techniques?(?-u:\b)|(?-u:\b)certifications?(?-u:\b)|(?-u:\b)agr[ée]ments?(?-u:\b)|(?-u:\b)offre\s+technique(?-u:\b)",
    )
});
static ADMIN: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)(?-u:\b)documents?\s+(administratifs?|l[ée]gaux)(?-u:\b)|(?-u:\b)attestations?(?-u:\b)|(?-u:\b)certificats?(?-u:\b)|(?-u:\b)(kbis|rccm|nif|cnss)(?-u:\b)|(?-u:\b)registre\s+de\s+commerce(?-u:\b)|(?-u:\b)situation\s+fiscale(?-u:\b)|(?-u:\b)s[ée]curit[ée]\s+sociale(?-u:\b)|(?-u:\b)offre\s+administrative(?-u:\b)|(?-u:\b)quitus\s+fiscal(?-u:\b)",
    )
});

/// Detects the subtype from the text, then from the filename when the text
/// says nothing.
pub fn detect_subtype(text: &str, filename: &str) -> Subtype {
    let mut fin = FINANCIAL.is_match(text);
    let mut tech = TECHNICAL.is_match(text);
    let mut admin = ADMIN.is_match(text);
    if !(fin || tech || admin) {
        let f = filename.to_lowercase();
        if ["financ", "prix", "price", "cost"]
            .iter()
            .any(|k| f.contains(k))
        {
            fin = true;
        } else if ["technique", "technical", "spec"]
            .iter()
            .any(|k| f.contains(k))
        {
            tech = true;
        } else if ["admin", "legal", "conformit"]
            .iter()
            .any(|k| f.contains(k))
        {
            admin = true;
        }
    }
    subtype_from_flags(fin, tech, admin)
}

pub(crate) fn subtype_from_flags(fin: bool, tech: bool, admin: bool) -> Subtype {
    let count = [fin, tech, admin].iter().filter(|b| **b).count();
    let (subtype, confidence) = match (count, fin, tech, admin) {
        (3, ..) => ("COMBINED", "HIGH"),
        (2, ..) => ("COMBINED", "MEDIUM"),
        (1, true, _, _) => ("FINANCIAL_ONLY", "MEDIUM"),
        (1, _, true, _) => ("TECHNICAL_ONLY", "MEDIUM"),
        (1, _, _, true) => ("ADMIN_ONLY", "MEDIUM"),
        _ => ("UNKNOWN", "LOW"),
    };
    Subtype {
        subtype: subtype.to_string(),
        has_financial: fin,
        has_technical: tech,
        has_admin: admin,
        confidence: confidence.to_string(),
    }
}

// ---------------------------------------------------------------- amounts

/// Reads an amount as written in francophone West Africa and elsewhere:
/// `2.000.000`, `2 000 000,50`, `1,234,567.89`, `1.234,56`, `2000000`.
/// A separator followed by exactly three digits groups thousands; the last
/// separator followed by one or two digits is the decimal point (D-29).
pub fn parse_amount(raw: &str) -> Option<f64> {
    let s: String = raw
        .chars()
        .filter(|c| !matches!(c, ' ' | '\u{a0}' | '\u{202f}' | '\''))
        .collect();
    if s.is_empty()
        || !s
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == ',')
    {
        return None;
    }
    let last_sep = s.rfind(['.', ',']);
    let (int_part, frac) = match last_sep {
        Some(i) => {
            let tail = &s[i + 1..];
            let seps = s.matches(['.', ',']).count();
            let distinct = s.contains('.') && s.contains(',');
            if tail.len() == 3 && !distinct {
                // Only one kind of separator, every group of three: thousands.
                (s.as_str(), "")
            } else if (1..=2).contains(&tail.len()) || (distinct && seps >= 1) {
                (&s[..i], tail)
            } else {
                (s.as_str(), "")
            }
        }
        None => (s.as_str(), ""),
    };
    let digits: String = int_part.chars().filter(char::is_ascii_digit).collect();
    if digits.is_empty() {
        return None;
    }
    let number = if frac.is_empty() {
        digits
    } else {
        format!("{digits}.{frac}")
    };
    number.parse::<f64>().ok()
}

// ---------------------------------------------------------------- guided fields

/// The guided fields of one document (§7.6).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GuidedFields {
    pub total_price: Option<String>,
    pub total_price_source: Option<String>,
    pub currency: String,
    pub lead_time_days: Option<i64>,
    pub lead_time_source: Option<String>,
    pub validity_days: Option<i64>,
    pub validity_source: Option<String>,
    pub technical_refs: Vec<String>,
    pub missing_fields: Vec<String>,
}

impl Default for GuidedFields {
    /// Nothing found; the currency is production's default, XOF.
    fn default() -> Self {
        GuidedFields {
            total_price: None,
            total_price_source: None,
            currency: "XOF".to_string(),
            lead_time_days: None,
            lead_time_source: None,
            validity_days: None,
            validity_source: None,
            technical_refs: Vec::new(),
            missing_fields: Vec::new(),
        }
    }
}

pub const MISSING_PRICE: &str = "Prix total";
pub const MISSING_LEAD_TIME: &str = "Délai livraison";
pub const MISSING_VALIDITY: &str = "Validité offre";
pub const MISSING_REFS: &str = "Références techniques";

/// Source text of a price found by the fallback rule: a guess.
pub const HEURISTIC_PRICE_SOURCE: &str = "Heuristique: plus grand montant";

const AMOUNT: &str = r"\d{1,3}(?:[ \u{a0}\u{202f}.,]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?";
const CURRENCY: &str = r"(?:F\s?CFA|FCFA|CFA|XOF|USD|EUR)(?-u:\b)|€";

static PRICE_LABELLED: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"(?i)(?-u:\b)(prix\s+total|montant\s+total|total)(?:\s+(?:g[ée]n[ée]ral|ht|ttc|hors\s+taxes?))*[\s:|]*({AMOUNT})[\s|]*({CURRENCY})"
    ))
});
static PRICE_ANY: LazyLock<Regex> =
    LazyLock::new(|| re(&format!(r"(?i)(?:^|[^\d.,])({AMOUNT})[\s|]*({CURRENCY})")));
static LEAD_TIME: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)(d[ée]lai\s+de\s+livraison|d[ée]lai\s+livraison|lead\s+time)[\s:|\-]*(\d{1,3})\s*(jours?|days?)(?-u:\b)",
    )
});
static VALIDITY: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)(validit[ée]\s+(?:de\s+l['’]\s*)?offre|valid\s+until)[\s:|\-]*(\d{1,3})\s*(jours?|days?)(?-u:\b)",
    )
});
static REFS: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?i)(?-u:\b)(r[ée]f[ée]rence|client|projet|contrat)s?[ \t]*:[ \t]*([\w \t\-'’]{10,100})")
});

fn currency_code(raw: &str) -> String {
    let up = raw.to_uppercase().replace(' ', "");
    match up.as_str() {
        "USD" => "USD".to_string(),
        "EUR" | "€" => "EUR".to_string(),
        _ => "XOF".to_string(),
    }
}

/// Finds the guided fields. The price is looked for only when the DAO has a
/// commercial criterion, the references only when it has a technical one.
pub fn guided_fields(text: &str, want_price: bool, want_refs: bool) -> GuidedFields {
    let mut out = GuidedFields::default();
    if want_price {
        let labelled: Vec<(f64, String, String, String)> = PRICE_LABELLED
            .captures_iter(text)
            .filter_map(|c| {
                let value = parse_amount(&c[2])?;
                Some((
                    value,
                    c[2].trim().to_string(),
                    c[3].to_string(),
                    c[1].to_string(),
                ))
            })
            .collect();
        let (candidates, heuristic) = if labelled.is_empty() {
            let any = PRICE_ANY
                .captures_iter(text)
                .filter_map(|c| {
                    let value = parse_amount(&c[1])?;
                    Some((
                        value,
                        c[1].trim().to_string(),
                        c[2].to_string(),
                        String::new(),
                    ))
                })
                .collect();
            (any, true)
        } else {
            (labelled, false)
        };
        let best =
            candidates.into_iter().fold(
                None::<(f64, String, String, String)>,
                |best, c| match best {
                    Some(b) if b.0 >= c.0 => Some(b),
                    _ => Some(c),
                },
            );
        match best {
            Some((_, raw, cur, label)) => {
                out.total_price = Some(format!("{raw} {}", cur.to_uppercase()));
                out.currency = currency_code(&cur);
                out.total_price_source = Some(if heuristic {
                    HEURISTIC_PRICE_SOURCE.to_string()
                } else {
                    format!("Pattern: '{}'", label.to_lowercase())
                });
            }
            None => out.missing_fields.push(MISSING_PRICE.to_string()),
        }
    }
    match LEAD_TIME.captures(text) {
        Some(c) => {
            out.lead_time_days = c[2].parse().ok();
            out.lead_time_source = Some(format!("Pattern: '{}'", c[1].to_lowercase()));
        }
        None => out.missing_fields.push(MISSING_LEAD_TIME.to_string()),
    }
    match VALIDITY.captures(text) {
        Some(c) => {
            out.validity_days = c[2].parse().ok();
            out.validity_source = Some(format!("Pattern: '{}'", c[1].to_lowercase()));
        }
        None => out.missing_fields.push(MISSING_VALIDITY.to_string()),
    }
    if want_refs {
        out.technical_refs = REFS
            .captures_iter(text)
            .map(|c| c[2].trim().to_string())
            .filter(|r| !r.is_empty())
            .take(5)
            .collect();
        if out.technical_refs.is_empty() {
            out.missing_fields.push(MISSING_REFS.to_string());
        }
    }
    out
}
