//! Pagination values a client sends: checked before they reach a query.

use crate::Error;
use crate::error::{FieldRule, invalid_field};

/// The largest offset a list accepts: the databases count rows in signed
/// 64-bit integers, and a larger value is a client's mistake (422).
pub const MAX_OFFSET: u64 = i64::MAX as u64;

/// Checks a pagination offset (`offset`, or `page` times the page size).
pub fn check_offset(field: &str, offset: Option<u64>) -> Result<u64, Error> {
    match offset {
        Some(n) if n > MAX_OFFSET => Err(invalid_field(
            field,
            FieldRule::Between {
                min: 0,
                max: MAX_OFFSET,
            },
        )),
        other => Ok(other.unwrap_or(0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_past_i64_are_refused() {
        assert_eq!(check_offset("offset", None).ok(), Some(0));
        assert_eq!(
            check_offset("offset", Some(MAX_OFFSET)).ok(),
            Some(MAX_OFFSET)
        );
        assert!(check_offset("offset", Some(MAX_OFFSET + 1)).is_err());
    }
}
