//! PDF streams decoded under a budget. lopdf inflates with an unbounded
//! `read_to_end` (cross-reference streams and object streams while loading,
//! page contents and ToUnicode maps on demand), so the PDF reader never lets
//! it inflate anything: cross-reference streams are measured here before
//! lopdf sees the file, and every other stream text extraction needs is
//! decoded here, through [`Metered`] readers, and handed to lopdf plain.

use std::io::Read;

use flate2::read::ZlibDecoder;
use lopdf::{Dictionary, Object};

use crate::budget::{Budget, Metered, is_over_budget};

/// Why a stream was not decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum StreamError {
    /// The document's budget is spent.
    Budget,
    /// The stream alone decodes past the cap it was given.
    Cap,
    /// A filter this reader does not decode (LZW, image codecs...).
    Unsupported,
}

const FLATE: &[u8] = b"FlateDecode";
const ASCII85: &[u8] = b"ASCII85Decode";

/// Decodes `raw` through `filters` (in decoding order): every stage counts
/// what it yields against `budget`, and the result may not pass `cap`.
/// A stream whose compressed data is cut short gives what inflated before
/// the cut, as lopdf does.
pub(super) fn decode(
    raw: &[u8],
    filters: &[&[u8]],
    params: Option<&Dictionary>,
    budget: &Budget,
    cap: u64,
) -> Result<Vec<u8>, StreamError> {
    let mut filters = filters;
    let first: Vec<u8>;
    let source: &[u8] = match filters.split_first() {
        Some((f, rest)) if *f == ASCII85 => {
            first = ascii85(raw, budget)?;
            filters = rest;
            &first
        }
        _ => raw,
    };
    let mut reader: Box<dyn Read + '_> = Box::new(source);
    for f in filters {
        if *f != FLATE {
            return Err(StreamError::Unsupported);
        }
        reader = Box::new(Metered::new(ZlibDecoder::new(reader), budget));
    }
    let mut out = Vec::new();
    let mut limited = reader.take(cap.saturating_add(1));
    let mut chunk = [0u8; 32 * 1024];
    loop {
        match limited.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) if is_over_budget(&e) => return Err(StreamError::Budget),
            // Corrupt or cut short: keep what came out.
            Err(_) => break,
        }
        if out.len() as u64 > cap {
            return Err(StreamError::Cap);
        }
    }
    Ok(with_predictor(out, params))
}

/// PNG predictors (10..=15) as lopdf applies them: the output is never
/// larger than the input, so it needs no budget of its own.
fn with_predictor(data: Vec<u8>, params: Option<&Dictionary>) -> Vec<u8> {
    let Some(params) = params else { return data };
    let int =
        |key: &[u8], default: i64| params.get(key).and_then(Object::as_i64).unwrap_or(default);
    let predictor = int(b"Predictor", 1);
    if !(10..=15).contains(&predictor) {
        return data;
    }
    let columns = usize::try_from(int(b"Columns", 1).clamp(1, 1 << 20)).unwrap_or(1);
    let colors = usize::try_from(int(b"Colors", 1).clamp(1, 32)).unwrap_or(1);
    let bits = usize::try_from(int(b"BitsPerComponent", 8).clamp(8, 16)).unwrap_or(8);
    lopdf::filters::png::decode_frame(&data, colors * bits / 8, columns).unwrap_or(data)
}

/// ASCII85, counted against the budget (a `z` yields four bytes).
fn ascii85(raw: &[u8], budget: &Budget) -> Result<Vec<u8>, StreamError> {
    let mut out = Vec::with_capacity(raw.len() / 5 * 4 + 4);
    let mut group = [0u8; 5];
    let mut len = 0;
    let push = |out: &mut Vec<u8>, bytes: &[u8]| {
        if budget.spend(bytes.len() as u64) {
            out.extend_from_slice(bytes);
            Ok(())
        } else {
            Err(StreamError::Budget)
        }
    };
    let value = |g: &[u8; 5]| {
        g.iter()
            .fold(0u64, |acc, &d| acc * 85 + u64::from(d - b'!'))
    };
    for &c in raw {
        match c {
            b'~' => break,
            b'z' if len == 0 => push(&mut out, &[0; 4])?,
            b'!'..=b'u' => {
                group[len] = c;
                len += 1;
                if len == 5 {
                    let v = u32::try_from(value(&group)).unwrap_or(u32::MAX);
                    push(&mut out, &v.to_be_bytes())?;
                    len = 0;
                }
            }
            c if c.is_ascii_whitespace() => {}
            _ => break,
        }
    }
    if len > 1 {
        for g in group.iter_mut().skip(len) {
            *g = b'u';
        }
        let v = u32::try_from(value(&group)).unwrap_or(u32::MAX);
        push(&mut out, &v.to_be_bytes()[..len - 1])?;
    }
    Ok(out)
}

/// The filters of a parsed stream dictionary, in decoding order; `None`
/// when the entry is not a name or an array of names (lopdf then decodes
/// nothing either).
pub(super) fn filters_of(dict: &Dictionary) -> Option<Vec<&[u8]>> {
    match dict.get(b"Filter") {
        Err(_) => Some(Vec::new()),
        Ok(Object::Name(name)) => Some(vec![name.as_slice()]),
        Ok(Object::Array(items)) => items.iter().map(|o| o.as_name().ok()).collect(),
        Ok(_) => None,
    }
}

// ---------------------------------------------------------------- the raw file

/// Cross-reference sections followed, at most.
const MAX_SECTIONS: usize = 64;

/// What the cross-reference sections of the raw file say.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Trailers {
    /// A trailer names an `/Encrypt` dictionary.
    pub encrypted: bool,
}

/// Measures, before lopdf loads the file, every cross-reference stream it
/// would inflate: the sections found from each `startxref`, then through
/// `/Prev` and `/XRefStm`. Their data is taken up to the end of the file (a
/// bound on what lopdf, reading `/Length` bytes, could inflate). A stream
/// that inflates past the budget, or through a filter this reader cannot
/// measure, is an error; nothing inflated is kept.
pub(super) fn check_trailers(file: &[u8], budget: &Budget) -> Result<Trailers, StreamError> {
    // lopdf reads from the first "%PDF-": offsets count from there.
    let start = find(file, b"%PDF-").unwrap_or(0);
    let buf = &file[start..];
    let mut queue: Vec<usize> = Vec::new();
    let mut from = 0;
    while let Some(p) = find(&buf[from..], b"startxref") {
        let at = from + p + b"startxref".len();
        queue.extend(number_at(buf, at));
        from = at;
    }
    let mut seen = std::collections::HashSet::new();
    let mut trailers = Trailers::default();
    while let Some(offset) = queue.pop() {
        // A file updated more often than this is not a tender document; the
        // bound keeps a file full of `startxref` from costing quadratic time.
        if offset >= buf.len() || !seen.insert(offset) || seen.len() > MAX_SECTIONS {
            continue;
        }
        let at = skip_space(buf, offset);
        let section = &buf[at..];
        if section.starts_with(b"xref") {
            // A table: its trailer dictionary follows it.
            // A table of 200 000 objects is 4 MB.
            let Some(t) = find(&section[..section.len().min(4 << 20)], b"trailer") else {
                continue;
            };
            let end = find(&section[t..], b"startxref").map_or(section.len(), |e| t + e);
            let dict = normalised(&section[t..end.min(t + 64 * 1024)]);
            trailers.encrypted |= find(&dict, b"/Encrypt").is_some();
            queue.extend(keyed_number(&dict, b"/Prev"));
            queue.extend(keyed_number(&dict, b"/XRefStm"));
            continue;
        }
        // An object: a cross-reference stream, whose dictionary is its trailer.
        let Some(s) = find(&section[..section.len().min(64 * 1024)], b"stream") else {
            continue;
        };
        let dict = normalised(&section[..s]);
        trailers.encrypted |= find(&dict, b"/Encrypt").is_some();
        queue.extend(keyed_number(&dict, b"/Prev"));
        let names = filter_names(&dict);
        if names
            .iter()
            .any(|n| n.as_slice() != FLATE && n.as_slice() != ASCII85)
        {
            return Err(StreamError::Unsupported);
        }
        let data = &section[skip_eol(section, s + b"stream".len())..];
        let names: Vec<&[u8]> = names.iter().map(Vec::as_slice).collect();
        // Measured only: the inflated bytes are dropped as they come.
        decode_into_sink(data, &names, budget)?;
    }
    Ok(trailers)
}

fn decode_into_sink(raw: &[u8], filters: &[&[u8]], budget: &Budget) -> Result<(), StreamError> {
    if filters.is_empty() {
        return Ok(());
    }
    // ASCII85 first is decoded in memory (at most four bytes per input byte),
    // the rest streamed.
    let ascii;
    let (source, rest): (&[u8], &[&[u8]]) = match filters.split_first() {
        Some((f, rest)) if *f == ASCII85 => {
            ascii = ascii85(raw, budget)?;
            (&ascii, rest)
        }
        _ => (raw, filters),
    };
    let mut reader: Box<dyn Read + '_> = Box::new(source);
    for _ in rest {
        reader = Box::new(Metered::new(ZlibDecoder::new(reader), budget));
    }
    match std::io::copy(&mut reader, &mut std::io::sink()) {
        Err(e) if is_over_budget(&e) => Err(StreamError::Budget),
        _ => Ok(()),
    }
}

/// Names are compared after their `#xx` escapes are decoded, as a parser
/// reads them (`/Encr#79pt` is `/Encrypt`).
fn normalised(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'#'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

/// The names after the first `/Filter` key: one name or an array of names.
fn filter_names(dict: &[u8]) -> Vec<Vec<u8>> {
    let Some(k) = find(dict, b"/Filter") else {
        return Vec::new();
    };
    let rest = &dict[skip_space(dict, k + b"/Filter".len())..];
    let list = if rest.starts_with(b"[") {
        let end = rest.iter().position(|&b| b == b']').unwrap_or(rest.len());
        &rest[1..end]
    } else {
        let end = rest
            .iter()
            .skip(1)
            .position(|&b| is_delimiter(b))
            .map_or(rest.len(), |p| p + 1);
        &rest[..end]
    };
    list.split(|&b| b == b'/')
        .skip(1)
        .map(|n| {
            n.iter()
                .take_while(|&&b| !is_delimiter(b))
                .copied()
                .collect()
        })
        .collect()
}

fn is_delimiter(b: u8) -> bool {
    b.is_ascii_whitespace() || b"/[]<>()%".contains(&b)
}

fn keyed_number(dict: &[u8], key: &[u8]) -> Option<usize> {
    let k = find(dict, key)?;
    number_at(dict, k + key.len())
}

fn number_at(bytes: &[u8], at: usize) -> Option<usize> {
    let at = skip_space(bytes, at);
    bytes[at.min(bytes.len())..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .take(18)
        .fold(None, |acc: Option<usize>, &d| {
            Some(acc.unwrap_or(0) * 10 + usize::from(d - b'0'))
        })
}

fn skip_space(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && bytes[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

fn skip_eol(bytes: &[u8], mut i: usize) -> usize {
    if bytes.get(i) == Some(&b'\r') {
        i += 1;
    }
    if bytes.get(i) == Some(&b'\n') {
        i += 1;
    }
    i.min(bytes.len())
}

pub(super) fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::budget::Limits;

    fn zlib(data: &[u8]) -> Vec<u8> {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        z.write_all(data).expect("deflate");
        z.finish().expect("deflate")
    }

    fn budget(bytes: u64) -> Budget {
        Budget::new(
            Limits {
                document_inflated: bytes,
                ..Limits::DEFAULT
            },
            u64::MAX,
        )
    }

    #[test]
    fn a_double_flate_stream_stops_at_the_budget() {
        let twice = zlib(&zlib(&vec![0u8; 8 << 20]));
        assert!(twice.len() < 64 << 10);
        let b = budget(1 << 20);
        let err = decode(&twice, &[FLATE, FLATE], None, &b, u64::MAX).expect_err("over");
        assert_eq!(err, StreamError::Budget);
        let b = budget(32 << 20);
        let out = decode(&twice, &[FLATE, FLATE], None, &b, u64::MAX).expect("fits");
        assert_eq!(out.len(), 8 << 20);
        let err = decode(&twice, &[FLATE, FLATE], None, &budget(32 << 20), 1 << 20);
        assert_eq!(err, Err(StreamError::Cap));
    }

    #[test]
    fn an_encrypted_trailer_is_found_however_its_name_is_written() {
        let pdf = |key: &str| {
            let mut f = b"%PDF-1.4\n".to_vec();
            let xref = f.len();
            f.extend(
                format!("xref\n0 1\n0000000000 65535 f \ntrailer\n<< /Size 1 /{key} 5 0 R >>\nstartxref\n{xref}\n%%EOF\n")
                    .as_bytes(),
            );
            f
        };
        let b = budget(1 << 20);
        for key in ["Encrypt", "Encr#79pt"] {
            assert_eq!(
                check_trailers(&pdf(key), &b),
                Ok(Trailers { encrypted: true })
            );
        }
        assert_eq!(
            check_trailers(&pdf("Info"), &b),
            Ok(Trailers { encrypted: false })
        );
    }

    #[test]
    fn ascii85_and_names_decode_as_a_parser_reads_them() {
        let b = budget(1 << 20);
        assert_eq!(
            decode(b"87cURD]j7BEbo7~>", &[ASCII85], None, &b, 100).expect("a85"),
            b"Hello world"
        );
        assert_eq!(
            filter_names(&normalised(b"<< /Filter [/Fl#61teDecode /FlateDecode] >>")),
            vec![b"FlateDecode".to_vec(), b"FlateDecode".to_vec()]
        );
        assert_eq!(
            filter_names(b"<</Filter/FlateDecode/Length 5>>"),
            vec![b"FlateDecode".to_vec()]
        );
    }
}
