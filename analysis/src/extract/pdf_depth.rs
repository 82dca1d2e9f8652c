//! A guard against PDFs nested deep enough to overflow the parser's stack:
//! a stack overflow aborts the whole process (it cannot be caught like a
//! panic), so such files are refused before the parser sees them. Object
//! streams are checked once decoded, before lopdf parses them (`pdf.rs`).

/// PDF readers themselves stop far below this (the reference limit is 28).
pub(super) const MAX_DEPTH: usize = 100;

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Nesting depth of `[`/`<<` outside strings, comments and stream bodies.
pub(super) fn too_deep(bytes: &[u8], limit: usize) -> bool {
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'(' => {
                // Literal string: balanced parentheses, backslash escapes.
                let mut level = 1usize;
                i += 1;
                while i < bytes.len() && level > 0 {
                    match bytes[i] {
                        b'\\' => i += 1,
                        b'(' => level += 1,
                        b')' => level -= 1,
                        _ => {}
                    }
                    i += 1;
                }
                continue;
            }
            b'%' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'<' if bytes.get(i + 1) == Some(&b'<') => {
                depth += 1;
                i += 1;
            }
            b'<' => {
                while i < bytes.len() && bytes[i] != b'>' {
                    i += 1;
                }
            }
            b'>' if bytes.get(i + 1) == Some(&b'>') => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            b'[' => depth += 1,
            b']' => depth = depth.saturating_sub(1),
            b's' if bytes[i..].starts_with(b"stream")
                && !bytes[..i].ends_with(b"end")
                && matches!(bytes.get(i + 6), Some(b'\r' | b'\n')) =>
            {
                match find(&bytes[i..], b"endstream") {
                    Some(p) => i += p + 8,
                    None => return false,
                }
            }
            _ => {}
        }
        if depth > limit {
            return true;
        }
        i += 1;
    }
    false
}
