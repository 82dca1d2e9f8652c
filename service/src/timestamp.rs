//! Timestamps as production stores them: ISO-8601 text.
//!
//! Every `*_at` column (and `closing_date`, `last_login`) is `TEXT` in the
//! production schema, so the generated entities keep them as `String` and
//! they round-trip byte for byte. The app turns them into time values here,
//! when it needs to compute with them, and never writes them back reformatted.
//!
//! Forms found in production databases, all accepted:
//! - `2026-02-10T09:00:00` (written by the legacy app, no offset),
//! - `2026-11-23T23:17:31.462380` (the same with microseconds),
//! - `2026-11-23 23:17:31.78848+00` (a PostgreSQL `CURRENT_TIMESTAMP`
//!   default cast to text: space separator, short offset),
//! - and RFC 3339 generally (`Z`, `+05:30`, `+0530`).

use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone, Utc};

use crate::Error;

/// Now, in the form production writes (`2026-11-25T12:49:10.967555`: naive
/// UTC, microseconds). Text order is time order, which the lists rely on.
pub fn now() -> String {
    format(Utc::now())
}

/// `at` in the form of [`now`].
pub fn format(at: DateTime<Utc>) -> String {
    at.naive_utc().format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
}

/// Parses a stored timestamp into an instant.
///
/// A value without an offset is read as UTC: that is how production writes
/// them (the database defaults carry `+00`, and the legacy app stored UTC
/// without saying so). Fractional seconds are optional, up to nanoseconds.
/// Anything else, a date alone included, is an [`Error::Timestamp`].
pub fn parse(value: &str) -> Result<DateTime<Utc>, Error> {
    let malformed = |reason: &str| Error::Timestamp {
        value: value.to_owned(),
        reason: reason.to_owned(),
    };
    let s = value.trim();
    // `get` rather than indexing: a non-ASCII value must give an error, not
    // a panic on a char boundary.
    let (Some(date), Some(sep), Some(rest)) = (s.get(..10), s.get(10..11), s.get(11..)) else {
        return Err(malformed("expected YYYY-MM-DD followed by a time"));
    };
    if !matches!(sep, "T" | "t" | " ") {
        return Err(malformed("expected `T` or a space between date and time"));
    }
    // The offset starts at the first sign or `Z` after the time of day.
    let (time, offset) = match rest.find(['+', '-', 'Z', 'z']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let naive = NaiveDateTime::parse_from_str(&format!("{date} {time}"), "%Y-%m-%d %H:%M:%S%.f")
        .map_err(|e| malformed(&format!("not an ISO-8601 date and time ({e})")))?;
    let offset = parse_offset(offset).ok_or_else(|| malformed("unreadable UTC offset"))?;
    offset
        .from_local_datetime(&naive)
        .single()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| malformed("out of range"))
}

/// [`parse`] for a nullable column: `None` stays `None`.
pub fn parse_optional(value: Option<&str>) -> Result<Option<DateTime<Utc>>, Error> {
    value.map(parse).transpose()
}

/// `""`, `Z`, `+HH`, `+HHMM` or `+HH:MM` (and `-`): PostgreSQL prints the
/// short form, RFC 3339 the long one.
fn parse_offset(offset: &str) -> Option<FixedOffset> {
    if offset.is_empty() || offset.eq_ignore_ascii_case("z") {
        return FixedOffset::east_opt(0);
    }
    let sign = match offset.get(..1)? {
        "+" => 1,
        "-" => -1,
        _ => return None,
    };
    let digits = offset.get(1..)?;
    let (hours, minutes) = match digits.len() {
        2 => (digits, "00"),
        4 => (digits.get(..2)?, digits.get(2..)?),
        5 if digits.get(2..3)? == ":" => (digits.get(..2)?, digits.get(3..)?),
        _ => return None,
    };
    if !hours
        .bytes()
        .chain(minutes.bytes())
        .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let hours: i32 = hours.parse().ok()?;
    let minutes: i32 = minutes.parse().ok()?;
    if hours > 23 || minutes > 59 {
        return None;
    }
    FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, micro: u32) -> DateTime<Utc> {
        NaiveDate::from_ymd_opt(y, mo, d)
            .and_then(|date| date.and_hms_micro_opt(h, mi, s, micro))
            .map(|t| t.and_utc())
            .unwrap()
    }

    #[test]
    fn reads_the_forms_production_stores() {
        assert_eq!(
            parse("2026-02-10T09:00:00").unwrap(),
            utc(2026, 2, 10, 9, 0, 0, 0)
        );
        assert_eq!(
            parse("2026-11-23T23:17:31.462380").unwrap(),
            utc(2026, 11, 23, 23, 17, 31, 462_380)
        );
        assert_eq!(
            parse("2026-11-23 23:17:31.78848+00").unwrap(),
            utc(2026, 11, 23, 23, 17, 31, 788_480)
        );
    }

    #[test]
    fn applies_offsets() {
        let expected = utc(2026, 2, 10, 9, 0, 0, 0);
        for value in [
            "2026-02-10T09:00:00Z",
            "2026-02-10T09:00:00+00:00",
            "2026-02-10T11:00:00+02",
            "2026-02-10T11:30:00+0230",
            "2026-02-10T11:30:00+02:30",
            "2026-02-10 04:00:00-05",
            " 2026-02-10T09:00:00.000 ",
        ] {
            assert_eq!(parse(value).unwrap(), expected, "{value}");
        }
    }

    #[test]
    fn rejects_malformed_values() {
        for value in [
            "",
            "2026-02-10",
            "10/02/2026 09:00",
            "2026-02-10X09:00:00",
            "2026-02-30T09:00:00",
            "2026-02-10T25:00:00",
            "2026-02-10T09:00:00+2",
            "2026-02-10T09:00:00+24:00",
            "2026-02-10T09:00:00+02:3x",
            "2026-02-10T09:00:00 UTC",
            "2026-02-1é:00:00",
        ] {
            match parse(value) {
                Err(Error::Timestamp { value: v, .. }) => assert_eq!(v, value),
                other => panic!("{value:?} gave {other:?}"),
            }
        }
    }

    #[test]
    fn optional_values() {
        assert_eq!(parse_optional(None).unwrap(), None);
        assert!(
            parse_optional(Some("2026-02-10T09:00:00"))
                .unwrap()
                .is_some()
        );
        assert!(parse_optional(Some("soon")).is_err());
    }
}
