//! Names as people read them: two usernames, or two supplier names, are
//! the same name when they look the same. A name's key is its NFKC form,
//! case-folded, reduced to Unicode's confusable skeleton (UTS #39), spaces
//! collapsed: `Admin`, `admin ` and a Cyrillic `аdmin` share one key. Names
//! that could display as something else (bidirectional overrides, invisible
//! characters, controls) are refused outright.

use unicode_normalization::UnicodeNormalization;
use unicode_security::confusable_detection::skeleton;

use crate::Error;
use crate::error::{FieldRule, NameProblem, invalid_field};

/// Characters that change how the text around them is displayed: the
/// bidirectional embeddings, overrides, isolates and marks.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Characters that show nothing: zero-width spaces and joiners, the word
/// joiner, the byte-order mark, the soft hyphen, and other format marks.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200D}'
            | '\u{2060}'..='\u{2064}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
    )
}

/// Why a name is refused, if it is.
fn problem(value: &str) -> Option<NameProblem> {
    if value.chars().any(is_bidi_control) {
        Some(NameProblem::Bidi)
    } else if value.chars().any(char::is_control) {
        Some(NameProblem::Control)
    } else if value.chars().any(is_invisible) {
        Some(NameProblem::Invisible)
    } else {
        None
    }
}

/// Checks that `value`, the name in `field`, displays as what it is.
pub fn check(field: &str, value: &str) -> Result<(), Error> {
    match problem(value) {
        Some(why) => Err(invalid_field(field, FieldRule::Name(why))),
        None => Ok(()),
    }
}

/// The key two names are compared by (see the module's documentation).
pub fn key(name: &str) -> String {
    let folded = caseless::default_case_fold_str(&name.nfkc().collect::<String>());
    let spaced: String = folded.split_whitespace().collect::<Vec<_>>().join(" ");
    let skeleton: String = skeleton(&spaced).collect();
    // The skeleton may bring back capitals (some prototypes are): fold again.
    caseless::default_case_fold_str(&skeleton).nfc().collect()
}

/// Whether two names are the same name to a reader.
pub fn same(a: &str, b: &str) -> bool {
    key(a) == key(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookalikes_share_a_key() {
        assert_eq!(key("admin"), key("Admin"));
        assert_eq!(key("admin"), key("admin "));
        assert_eq!(key("admin"), key("\u{0430}dmin"), "Cyrillic a");
        assert_eq!(
            key("ACME SARL"),
            key("\u{0410}CME  SARL"),
            "Cyrillic A, two spaces"
        );
        assert_eq!(key("ﬁrm"), key("firm"), "NFKC ligature");
        assert_ne!(key("admin"), key("admins"));
        assert_ne!(key("ACME SARL"), key("ACME SA"));
    }

    #[test]
    fn names_that_display_as_others_are_refused() {
        assert!(check("username", "admin").is_ok());
        assert!(check("username", "Awa Diallo").is_ok());
        assert!(check("username", "adm\u{202E}nimda").is_err());
        assert!(check("username", "ad\u{200B}min").is_err());
        assert!(check("username", "ad\u{0000}min").is_err());
        assert!(check("supplier_name", "ACME\u{2066}SARL").is_err());
    }
}
