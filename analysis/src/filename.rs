//! The parts of the generated documents' file names.

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
