//! The canonical encoding of ledger entries, defined once: JSON with the
//! keys of every object sorted by their UTF-8 bytes, no whitespace, strings
//! as serde_json escapes them, integers in decimal, dates as the stored
//! text (`YYYY-MM-DDTHH:MM:SS.ffffff`, UTC). A hash is SHA-256, in
//! lowercase hex; an entry's hash is SHA-256(previous hash, 32 raw bytes,
//! all zero for the first entry ‖ the canonical entry).

use serde_json::Value;
use sha2::{Digest, Sha256};

/// The hash before the first entry of every chain.
pub const ZERO: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// `value` in the canonical encoding.
pub fn encode(value: &Value) -> String {
    let mut out = String::new();
    write(value, &mut out);
    out
}

fn write(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::from(key.as_str()).to_string());
                out.push(':');
                write(&map[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// The canonical entry: its position, time, actor, kind and record (the
/// record already canonical, as stored), keys in canonical order.
pub fn entry(
    chain: &str,
    seq: i64,
    recorded_at: &str,
    actor: Option<i32>,
    kind: &str,
    record: &str,
) -> String {
    let text = |s: &str| Value::from(s).to_string();
    let actor = actor.map_or_else(|| "null".to_owned(), |a| a.to_string());
    format!(
        "{{\"actor\":{actor},\"chain\":{},\"kind\":{},\"record\":{record},\"recorded_at\":{},\"seq\":{seq}}}",
        text(chain),
        text(kind),
        text(recorded_at)
    )
}

/// SHA-256 of `bytes`, lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The hash of an entry after the one hashed `previous` (hex; a value that
/// is not 32 bytes of hex counts as given, so a damaged hash still chains
/// to a mismatch instead of an error).
pub fn chain(previous: &str, canonical_entry: &str) -> String {
    let mut hasher = Sha256::new();
    match hex::decode(previous) {
        Ok(bytes) => hasher.update(bytes),
        Err(_) => hasher.update(previous.as_bytes()),
    }
    hasher.update(canonical_entry.as_bytes());
    hex::encode(hasher.finalize())
}

/// The readable fingerprint of a hash: its first 16 hex digits, upper
/// case, in groups of 4 (`3F9A-0C12-88D1-7B2E`).
pub fn fingerprint(hash: &str) -> String {
    let head: String = hash.chars().take(16).collect::<String>().to_uppercase();
    head.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_are_sorted_at_every_level() {
        let v = json!({"b": 1, "a": {"z": [true, null, "x\"y"], "c": 2}});
        assert_eq!(encode(&v), r#"{"a":{"c":2,"z":[true,null,"x\"y"]},"b":1}"#);
    }

    #[test]
    fn fingerprints_are_grouped() {
        assert_eq!(fingerprint("3f9a0c1288d17b2eff"), "3F9A-0C12-88D1-7B2E");
    }
}
