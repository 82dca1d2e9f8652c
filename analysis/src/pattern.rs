//! The crate's constant regular expressions, compiled.

use regex::Regex;

/// Compiles one of the crate's constant patterns.
pub(crate) fn re(pattern: &str) -> Regex {
    // The patterns are literals of this crate, checked by its tests: a typo
    // is a programming error, never something a file can cause.
    Regex::new(pattern).expect("constant regex")
}
