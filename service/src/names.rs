//! Names as people read them: two usernames, or two supplier names, are
//! the same name when they look the same ([`key`] and [`same`], from the
//! `names` crate, the one rule the analysis crate uses too). Names that
//! could display as something else (bidirectional overrides, invisible
//! characters, controls) are refused outright.

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

pub use names::{key, same};

#[cfg(test)]
mod tests {
    use super::*;

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
