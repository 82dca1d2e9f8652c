//! Text made safe for the XML of the generated documents (the CBA workbook
//! and the PV): the characters XML 1.0 cannot carry are dropped.

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

/// [`xml_text`] of an optional text.
pub(crate) fn xml_text_opt(text: &Option<String>) -> Option<String> {
    text.as_deref().map(xml_text)
}

/// [`xml_text`] of each text.
pub(crate) fn xml_texts(texts: &[String]) -> Vec<String> {
    texts.iter().map(|s| xml_text(s)).collect()
}
