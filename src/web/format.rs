//! Values as the pages write them, in the page's language: dates, amounts,
//! sizes, labels of stored codes; and text typed into a form.

use rust_decimal::Decimal;

use super::i18n::Lang;

/// `2026-11-25T13:51:43.123` as `25/11/2026 13:51` in French, `25 Nov 2026
/// 13:51` in English (as stored, UTC).
pub fn short_date(lang: Lang, stored: &str) -> String {
    let pattern = match lang {
        Lang::Fr => "%d/%m/%Y %H:%M",
        Lang::En => "%d %b %Y %H:%M",
    };
    match crate::timestamp::parse(stored) {
        Ok(at) => at.format(pattern).to_string(),
        Err(_) => stored.to_owned(),
    }
}

/// The separators of a number: thousands, then decimals.
fn separators(lang: Lang) -> (char, char) {
    match lang {
        Lang::Fr => ('\u{a0}', ','),
        Lang::En => (',', '.'),
    }
}

/// `1234567.5` as `1 234 567,50` (French) or `1,234,567.50` (English).
pub fn amount(lang: Lang, value: Decimal) -> String {
    let (thousands, decimal) = separators(lang);
    let text = format!("{:.2}", value.round_dp(2));
    let (whole, cents) = text.split_once('.').unwrap_or((&text, "00"));
    let (sign, digits) = whole.strip_prefix('-').map_or(("", whole), |d| ("-", d));
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(thousands);
        }
        grouped.push(c);
    }
    format!("{sign}{grouped}{decimal}{cents}")
}

/// A fraction as a percentage: `0.3` as `30 %` / `30%`, `0.333` as
/// `33,3 %` / `33.3%`.
pub fn percent(lang: Lang, fraction: f64) -> String {
    let (_, decimal) = separators(lang);
    let tenths = (fraction * 1000.0).round() / 10.0;
    let text = if tenths.fract() == 0.0 {
        format!("{tenths:.0}")
    } else {
        format!("{tenths:.1}").replace('.', &decimal.to_string())
    };
    match lang {
        Lang::Fr => format!("{text}\u{a0}%"),
        Lang::En => format!("{text}%"),
    }
}

/// A size in bytes as `1,2 Mo` / `1.2 MB`.
pub fn megabytes(lang: Lang, bytes: i64) -> String {
    let (_, decimal) = separators(lang);
    let text = format!("{:.1}", bytes as f64 / 1_048_576.0).replace('.', &decimal.to_string());
    match lang {
        Lang::Fr => format!("{text} Mo"),
        Lang::En => format!("{text} MB"),
    }
}

/// The label of `key` in `lang`, or `fallback` when the catalogue has none
/// (a stored code this version does not know is shown as it is).
pub fn label_or(lang: Lang, key: &str, fallback: &str) -> String {
    lang.lookup(key).unwrap_or(fallback).to_owned()
}

/// A case's status, in words.
pub fn status_label(lang: Lang, status: &str) -> String {
    label_or(lang, &format!("status.{status}"), status)
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
    fn amounts_are_grouped_the_way_of_each_language() {
        let v = Decimal::new(123456750, 2);
        assert_eq!(amount(Lang::Fr, v), "1\u{a0}234\u{a0}567,50");
        assert_eq!(amount(Lang::En, v), "1,234,567.50");
        assert_eq!(amount(Lang::Fr, Decimal::from(500)), "500,00");
        assert_eq!(amount(Lang::En, Decimal::from(-1000)), "-1,000.00");
    }

    #[test]
    fn weights_are_percentages_with_the_language_s_decimal_mark() {
        assert_eq!(percent(Lang::Fr, 0.3), "30\u{a0}%");
        assert_eq!(percent(Lang::Fr, 0.333), "33,3\u{a0}%");
        assert_eq!(percent(Lang::Fr, 0.0), "0\u{a0}%");
        assert_eq!(percent(Lang::En, 0.333), "33.3%");
    }

    #[test]
    fn dates_and_sizes_follow_the_language() {
        assert_eq!(
            short_date(Lang::Fr, "2026-11-25T13:51:43"),
            "25/11/2026 13:51"
        );
        assert_eq!(
            short_date(Lang::En, "2026-11-25T13:51:43"),
            "25 Nov 2026 13:51"
        );
        assert_eq!(megabytes(Lang::Fr, 1_258_291), "1,2 Mo");
        assert_eq!(megabytes(Lang::En, 1_258_291), "1.2 MB");
    }
}
