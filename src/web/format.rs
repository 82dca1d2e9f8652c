//! Values as the pages write them, the French way: dates, amounts, sizes,
//! labels of stored codes; and text typed into a form.

use rust_decimal::Decimal;

use super::i18n;

/// `2026-11-25T13:51:43.123` as `25/11/2026 13:51` (as stored, UTC).
pub fn short_date(stored: &str) -> String {
    match crate::timestamp::parse(stored) {
        Ok(at) => at.format("%d/%m/%Y %H:%M").to_string(),
        Err(_) => stored.to_owned(),
    }
}

/// `1234567.5` as `1 234 567,50`.
pub fn amount(value: Decimal) -> String {
    let text = format!("{:.2}", value.round_dp(2));
    let (whole, cents) = text.split_once('.').unwrap_or((&text, "00"));
    let (sign, digits) = whole.strip_prefix('-').map_or(("", whole), |d| ("-", d));
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push('\u{a0}');
        }
        grouped.push(c);
    }
    format!("{sign}{grouped},{cents}")
}

/// A fraction as a percentage: `0.3` as `30 %`, `0.333` as `33,3 %`.
pub fn percent(fraction: f64) -> String {
    let tenths = (fraction * 1000.0).round() / 10.0;
    let text = if tenths.fract() == 0.0 {
        format!("{tenths:.0}")
    } else {
        format!("{tenths:.1}").replace('.', ",")
    };
    format!("{text}\u{a0}%")
}

/// A size in bytes as `1,2 Mo`.
pub fn megabytes(bytes: i64) -> String {
    format!("{:.1} Mo", bytes as f64 / 1_048_576.0).replace('.', ",")
}

/// The French label of `key`, or `fallback` when the table has none (a
/// stored code this version does not know is shown as it is).
pub fn label_or(key: &str, fallback: &str) -> String {
    i18n::lookup(key).unwrap_or(fallback).to_owned()
}

/// A case's status, in words.
pub fn status_label(status: &str) -> String {
    label_or(&format!("status.{status}"), status)
}

/// Percent-encodes a query value (everything but unreserved characters).
pub fn url_encode(value: &str) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A form's text, trimmed; `None` when nothing was typed.
pub fn optional(text: &str) -> Option<String> {
    Some(text.trim().to_owned()).filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_grouped_the_french_way() {
        assert_eq!(amount(Decimal::new(123456750, 2)), "1\u{a0}234\u{a0}567,50");
        assert_eq!(amount(Decimal::from(500)), "500,00");
    }

    #[test]
    fn weights_are_percentages_with_a_decimal_comma() {
        assert_eq!(percent(0.3), "30\u{a0}%");
        assert_eq!(percent(0.333), "33,3\u{a0}%");
        assert_eq!(percent(0.0), "0\u{a0}%");
    }
}
