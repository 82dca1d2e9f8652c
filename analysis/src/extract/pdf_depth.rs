//! A guard against PDFs nested deep enough to overflow the parser's stack:
//! a stack overflow aborts the whole process (it cannot be caught like a
//! panic), so such files are refused before the parser sees them.

use std::io::Read;

/// PDF readers themselves stop far below this (the reference limit is 28).
pub(super) const MAX_DEPTH: usize = 100;
/// Bound on one inflated object stream during the check.
const MAX_INFLATED: u64 = 64 * 1024 * 1024;

/// True when arrays/dictionaries nest deeper than `limit` anywhere in the
/// file: in its objects, and in its compressed object streams.
pub(super) fn file_too_deep(bytes: &[u8], limit: usize) -> bool {
    if too_deep(bytes, limit) {
        return true;
    }
    // Object streams hold objects compressed: inflate and check them too.
    let mut from = 0;
    while let Some(pos) = find(&bytes[from..], b"/ObjStm") {
        let at = from + pos;
        let Some(start) = find(&bytes[at..], b"stream").map(|p| at + p + 6) else {
            break;
        };
        let start = skip_eol(bytes, start);
        let Some(end) = find(&bytes[start..], b"endstream").map(|p| start + p) else {
            break;
        };
        let mut inflated = Vec::new();
        let decoder = flate2::read::ZlibDecoder::new(&bytes[start..end]);
        // A stream that does not inflate is left to the parser to reject.
        if decoder
            .take(MAX_INFLATED)
            .read_to_end(&mut inflated)
            .is_ok()
            && too_deep(&inflated, limit)
        {
            return true;
        }
        from = end;
    }
    false
}

fn skip_eol(bytes: &[u8], mut i: usize) -> usize {
    if bytes.get(i) == Some(&b'\r') {
        i += 1;
    }
    if bytes.get(i) == Some(&b'\n') {
        i += 1;
    }
    i
}

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
