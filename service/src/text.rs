//! Text that clients type, and the one rule every field of it follows: no
//! character XML 1.0 cannot carry (NUL and the other C0 controls except
//! tab, line feed and carriage return; U+FFFE and U+FFFF), and no more
//! characters than the field's limit in [`FIELDS`]. The generated CBA and
//! PV are XML inside, and PostgreSQL refuses NUL in text: a value either
//! would break is refused here, as a 422, before it reaches either.
//!
//! Services call [`check`] with the field's entry of the table, so the API
//! and the pages refuse alike (a [`Refusal`] is the service error's
//! `Text` variant). A leaf module: it imports nothing of the crate. Rules on top of this one stay with their
//! service: names that display as something else ([`crate::names`]),
//! minimum lengths, formats (email, dates, codes).

/// A text field a client fills, and its limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field {
    /// Its name in the API's bodies and query strings.
    pub name: &'static str,
    /// The most characters (Unicode scalar values) it may hold.
    pub max_chars: usize,
    /// Where it is sent (`body` or `query`), for the API's `loc`.
    pub loc: &'static str,
    /// What it is, for the README's table.
    pub what: &'static str,
}

const fn body(name: &'static str, max_chars: usize, what: &'static str) -> Field {
    Field {
        name,
        max_chars,
        loc: "body",
        what,
    }
}

const fn query(name: &'static str, max_chars: usize, what: &'static str) -> Field {
    Field {
        name,
        max_chars,
        loc: "query",
        what,
    }
}

pub const TITLE: Field = body("title", 500, "case title");
pub const LOT: Field = body("lot", 200, "case's lot label");
pub const CASE_TYPE: Field = body("case_type", 20, "case type (DAO, RFQ, RFP)");
pub const CLOSING_DATE: Field = body("closing_date", 64, "closing date (ISO-8601)");
pub const PROCEDURE_TYPE: Field = body("procedure_type", 64, "procedure type");
pub const CATEGORY_CODE: Field = body("category_code", 100, "procurement category code");
pub const PURCHASE_CATEGORY_CODE: Field =
    body("purchase_category_code", 100, "purchase category code");
pub const LOT_NUMBER: Field = body("lot_number", 100, "lot number");
pub const LOT_DESCRIPTION: Field = body("description", 2000, "lot description");
pub const SUPPLIER_NAME: Field = body("supplier_name", 200, "supplier name (offer upload)");
pub const OFFER_TYPE: Field = body("offer_type", 50, "offer type (offer upload)");
pub const LOT_ID: Field = body("lot_id", 100, "lot of an offer (offer upload)");
pub const CASE_ID: Field = body("case_id", 100, "case id (analysis, decision)");
pub const CHOSEN_SUPPLIER: Field = body("chosen_supplier", 200, "supplier chosen (decision)");
pub const DECISION_REASON: Field = body("decision_reason", 5000, "reason of the decision");
pub const NEXT_ACTION: Field = body("next_action", 2000, "next action (decision)");
pub const WITHDRAWAL_REASON: Field =
    body("reason", 1000, "why a document is withdrawn or replaced");
pub const USERNAME: Field = body("username", 50, "username (also 3 at least)");
pub const FULL_NAME: Field = body("full_name", 200, "full name");
pub const EMAIL: Field = body("email", 254, "email address");
pub const PASSWORD: Field = body("password", 1024, "password (also 8 at least)");
pub const SEARCH: Field = query("q", 200, "search text (case list, case memory)");
pub const STATUS: Field = query("status", 50, "status filter (case list)");

/// Every field, as the README's table lists them.
pub const FIELDS: &[Field] = &[
    TITLE,
    LOT,
    CASE_TYPE,
    CLOSING_DATE,
    PROCEDURE_TYPE,
    CATEGORY_CODE,
    PURCHASE_CATEGORY_CODE,
    LOT_NUMBER,
    LOT_DESCRIPTION,
    SUPPLIER_NAME,
    OFFER_TYPE,
    LOT_ID,
    CASE_ID,
    CHOSEN_SUPPLIER,
    DECISION_REASON,
    NEXT_ACTION,
    WITHDRAWAL_REASON,
    USERNAME,
    FULL_NAME,
    EMAIL,
    PASSWORD,
    SEARCH,
    STATUS,
];

/// Whether XML 1.0 cannot carry `c` (see the module's documentation).
/// Surrogates cannot occur in a Rust string.
pub fn is_forbidden(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}')
}

/// What is wrong with a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Problem {
    /// It holds this character, which XML cannot carry.
    Forbidden(char),
    /// It has more than this many characters.
    TooLong { max: usize },
}

/// A refused value: which field, and why (a 422).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub field: Field,
    pub problem: Problem,
}

impl Refusal {
    /// The API's wording.
    pub fn message(&self) -> String {
        let name = self.field.name;
        match self.problem {
            Problem::Forbidden(c) => format!(
                "{name} must not contain U+{:04X} (NUL, control characters other than tab and line breaks, U+FFFE and U+FFFF are refused)",
                u32::from(c)
            ),
            Problem::TooLong { max } => format!("{name} is longer than {max} characters"),
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for Refusal {}

/// The problem of `value` for `field`, if it has one.
pub fn problem(field: &Field, value: &str) -> Option<Problem> {
    if let Some(c) = value.chars().find(|c| is_forbidden(*c)) {
        return Some(Problem::Forbidden(c));
    }
    // Bytes bound characters: the count is needed only past the limit.
    if value.len() > field.max_chars && value.chars().count() > field.max_chars {
        return Some(Problem::TooLong {
            max: field.max_chars,
        });
    }
    None
}

/// Checks `value` against the rule and `field`'s limit.
pub fn check(field: &Field, value: &str) -> Result<(), Refusal> {
    match problem(field, value) {
        Some(problem) => Err(Refusal {
            field: *field,
            problem,
        }),
        None => Ok(()),
    }
}

/// [`check`] for an optional value.
pub fn check_opt(field: &Field, value: Option<&str>) -> Result<(), Refusal> {
    value.map_or(Ok(()), |v| check(field, v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_xml_cannot_carry_is_refused() {
        for bad in [
            "a\0b",
            "\u{1}",
            "x\u{B}",
            "\u{C}",
            "\u{1F}",
            "\u{FFFE}",
            "z\u{FFFF}",
        ] {
            assert!(
                matches!(problem(&TITLE, bad), Some(Problem::Forbidden(_))),
                "{bad:?}"
            );
        }
        for good in [
            "<&>\"' ]]> éàç 😀",
            "tab\there\nand\r\nlines",
            "\u{7F}\u{85}",
            "\u{FFFD}\u{10FFFF}",
        ] {
            assert_eq!(problem(&TITLE, good), None, "{good:?}");
        }
    }

    #[test]
    fn limits_count_characters_not_bytes() {
        let max = "é".repeat(TITLE.max_chars);
        assert_eq!(problem(&TITLE, &max), None);
        assert_eq!(
            problem(&TITLE, &format!("{max}e")),
            Some(Problem::TooLong { max: 500 })
        );
        let e = check(&LOT, &"x".repeat(201)).unwrap_err();
        assert_eq!(e.to_string(), "lot is longer than 200 characters");
    }

    #[test]
    fn every_field_is_in_the_table_once() {
        for (i, f) in FIELDS.iter().enumerate() {
            assert!(
                FIELDS[i + 1..].iter().all(|g| g.name != f.name),
                "{} twice",
                f.name
            );
        }
    }

    #[test]
    fn the_readme_documents_the_table() {
        let readme = include_str!("../../README.md");
        for f in FIELDS {
            let row = format!("| `{}` | {} |", f.name, f.max_chars);
            assert!(readme.contains(&row), "README lacks the row {row}");
        }
    }
}
