//! When two names are the same name to a reader: the one rule for
//! usernames and for suppliers (uploads, the analysis's packages, the case
//! page's groups), in a crate of its own so that the analysis crate, which
//! knows nothing of the services, uses the same one.
//!
//! A name's key is its NFKC form, case-folded, spaces collapsed, reduced to
//! Unicode's confusable skeleton (UTS #39), folded again: `Admin`, `admin `
//! and a Cyrillic `аdmin` share one key; so do `ACME  SARL` and `acme sarl`.

use unicode_normalization::UnicodeNormalization;
use unicode_security::confusable_detection::skeleton;

/// The key two names are compared by (see the crate's documentation).
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
        assert_eq!(key("ACME  SARL"), key(" acme sarl"), "spaces, case");
        assert_eq!(key("ﬁrm"), key("firm"), "NFKC ligature");
        assert_ne!(key("admin"), key("admins"));
        assert_ne!(key("ACME SARL"), key("ACME SA"));
    }
}
