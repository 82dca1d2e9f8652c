//! The OOXML (zip) decompression budget, through the crate's public API:
//! an Excel offer and a CBA template whose worksheet part inflates past any
//! budget the crate may set (300 MiB) are never read whole. The parts are
//! valid XML (the padding is whitespace after the XML declaration), so a
//! reader without the budget would accept them: these tests fail if the
//! budget's call sites are removed, whatever the budget's inner workings.

use std::io::{Cursor, Read};

use analysis::{DocKind, extract_text, fixtures, run};

/// Whitespace bytes the bomb part carries: past any budget of the crate.
const PADDING: u64 = 300 << 20;

/// Writes bits least significant first, as deflate does.
struct Bits {
    out: Vec<u8>,
    acc: u64,
    n: u32,
}

impl Bits {
    fn put(&mut self, value: u64, len: u32) {
        self.acc |= value << self.n;
        self.n += len;
        while self.n >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.n -= 8;
        }
    }

    /// A Huffman code, most significant bit first.
    fn code(&mut self, code: u64, len: u32) {
        let reversed = (0..len).fold(0, |r, i| (r << 1) | ((code >> i) & 1));
        self.put(reversed, len);
    }

    /// Stored blocks of `bytes` (the last one final when `last`).
    fn stored(&mut self, bytes: &[u8], last: bool) {
        let chunks: Vec<&[u8]> = if bytes.is_empty() {
            vec![&[]]
        } else {
            bytes.chunks(65_535).collect()
        };
        let count = chunks.len();
        for (i, chunk) in chunks.into_iter().enumerate() {
            self.put(u64::from(last && i + 1 == count), 1);
            self.put(0, 2); // stored
            if self.n > 0 {
                self.put(0, 8 - self.n);
            }
            let len = chunk.len() as u16;
            self.out.extend(len.to_le_bytes());
            self.out.extend((!len).to_le_bytes());
            self.out.extend_from_slice(chunk);
        }
    }
}

/// A raw deflate stream of `prefix`, then `1 + 258 * runs` spaces (one
/// fixed-Huffman block: a literal space, then matches of 258 at distance
/// 1), then `suffix`: built in milliseconds, however large it inflates.
fn deflate_padded(prefix: &[u8], runs: u64, suffix: &[u8]) -> Vec<u8> {
    let mut bits = Bits {
        out: Vec::with_capacity((runs * 13 / 8) as usize + prefix.len() + suffix.len() + 64),
        acc: 0,
        n: 0,
    };
    bits.stored(prefix, false);
    bits.put(0, 1); // not the last block
    bits.put(1, 2); // fixed Huffman codes
    bits.code(0x30 + u64::from(b' '), 8); // literal space
    for _ in 0..runs {
        bits.code(0b1100_0101, 8); // length 258 (code 285)
        bits.code(0, 5); // distance 1
    }
    bits.code(0, 7); // end of block
    bits.stored(suffix, true);
    bits.out
}

/// One member of a hand-written zip.
struct Member {
    name: String,
    method: u16,
    crc: u32,
    size: u32,
    data: Vec<u8>,
}

fn crc_of(parts: &[&[u8]]) -> u32 {
    let mut crc = flate2::Crc::new();
    for part in parts {
        crc.update(part);
    }
    crc.sum()
}

fn write_zip(members: &[Member]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for m in members {
        let offset = out.len() as u32;
        let header = |sig: u32, central: bool| {
            let mut h = sig.to_le_bytes().to_vec();
            if central {
                h.extend(20u16.to_le_bytes()); // version made by
            }
            h.extend(20u16.to_le_bytes()); // version needed
            h.extend(0u16.to_le_bytes()); // flags
            h.extend(m.method.to_le_bytes());
            h.extend(0u16.to_le_bytes()); // time
            h.extend(0x21u16.to_le_bytes()); // date: 1980-01-01
            h.extend(m.crc.to_le_bytes());
            h.extend((m.data.len() as u32).to_le_bytes());
            h.extend(m.size.to_le_bytes());
            h.extend((m.name.len() as u16).to_le_bytes());
            h.extend(0u16.to_le_bytes()); // extra
            if central {
                h.extend(0u16.to_le_bytes()); // comment
                h.extend(0u16.to_le_bytes()); // disk
                h.extend(0u16.to_le_bytes()); // internal attributes
                h.extend(0u32.to_le_bytes()); // external attributes
                h.extend(offset.to_le_bytes());
            }
            h.extend(m.name.as_bytes());
            h
        };
        out.extend(header(0x0403_4b50, false));
        out.extend(&m.data);
        central.extend(header(0x0201_4b50, true));
    }
    let (cd_offset, cd_size) = (out.len() as u32, central.len() as u32);
    out.extend(central);
    out.extend(0x0605_4b50u32.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out.extend((members.len() as u16).to_le_bytes());
    out.extend((members.len() as u16).to_le_bytes());
    out.extend(cd_size.to_le_bytes());
    out.extend(cd_offset.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out
}

/// `package` (an .xlsx) with its first worksheet padded with whitespace
/// after its XML declaration, so that it inflates past [`PADDING`] while
/// staying valid XML; every other part kept as it is (stored).
fn with_padded_sheet(package: &[u8]) -> Vec<u8> {
    let mut archive = zip::ZipArchive::new(Cursor::new(package)).expect("a zip");
    let mut members = Vec::new();
    let mut padded = false;
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).expect("a member");
        let name = entry.name().to_owned();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).expect("readable member");
        if !padded && name.starts_with("xl/worksheets/sheet") && name.ends_with(".xml") {
            padded = true;
            let split = bytes
                .windows(2)
                .position(|w| w == b"?>")
                .map_or(0, |p| p + 2);
            let (prefix, suffix) = bytes.split_at(split);
            let runs = PADDING / 258;
            let spaces = 1 + runs * 258;
            let mut crc = flate2::Crc::new();
            crc.update(prefix);
            let block = vec![b' '; 1 << 20];
            let mut left = spaces;
            while left > 0 {
                let n = left.min(block.len() as u64) as usize;
                crc.update(&block[..n]);
                left -= n as u64;
            }
            crc.update(suffix);
            members.push(Member {
                name,
                method: 8,
                crc: crc.sum(),
                size: u32::try_from(prefix.len() as u64 + spaces + suffix.len() as u64)
                    .expect("under 4 GiB"),
                data: deflate_padded(prefix, runs, suffix),
            });
        } else {
            members.push(Member {
                name,
                method: 0,
                crc: crc_of(&[&bytes]),
                size: bytes.len() as u32,
                data: bytes,
            });
        }
    }
    assert!(padded, "the package has a worksheet");
    write_zip(&members)
}

/// The construction itself: a small package whose worksheet inflates
/// (CRC and sizes right) to the padding plus the original XML.
#[test]
fn the_padded_package_is_small_and_inflates_past_the_padding() {
    let rows = vec![vec!["Prix total".to_string(), "1000".to_string()]];
    let original = fixtures::xlsx("Prix", &rows);
    let bomb = with_padded_sheet(&original);
    assert!(bomb.len() < 4 << 20, "{} bytes", bomb.len());
    let mut archive = zip::ZipArchive::new(Cursor::new(bomb.as_slice())).expect("a zip");
    let name = archive
        .file_names()
        .find(|n| n.starts_with("xl/worksheets/sheet"))
        .expect("a sheet")
        .to_owned();
    let mut entry = archive.by_name(&name).expect("the sheet");
    // Read to the end: the zip reader checks the CRC there.
    let inflated = std::io::copy(&mut entry, &mut std::io::sink()).expect("CRC and size hold");
    assert!(inflated > PADDING, "{inflated}");
}

/// An Excel offer whose worksheet inflates past the budget is refused,
/// naming the file; read whole, its one row would be text.
#[test]
fn an_excel_offer_over_the_budget_is_refused() {
    let rows = vec![vec!["Prix total".to_string(), "1000".to_string()]];
    let original = fixtures::xlsx("Prix", &rows);
    let text = extract_text("prix.xlsx", &original, &[DocKind::Xlsx]).expect("the original reads");
    assert!(text.text.contains("Prix total"), "{}", text.text);

    let bomb = with_padded_sheet(&original);
    match extract_text("prix.xlsx", &bomb, &[DocKind::Xlsx]) {
        Err(e) => assert_eq!(e.filename(), Some("prix.xlsx"), "{e}"),
        Ok(t) => panic!(
            "a worksheet inflating to {PADDING} bytes was read whole: {:?}",
            t.text
        ),
    }
}

/// A CBA template whose worksheet inflates past the budget is not used:
/// the run refuses it (naming it) or falls back to the standard workbook.
#[test]
fn a_cba_template_over_the_budget_is_not_used() {
    let mut input = fixtures::run_input(false, true);
    let template = input.cba_template.as_mut().expect("a template");
    let name = template.filename.clone();
    let used = run(&input).expect("the fixture run");
    assert_eq!(
        used.cba.template_used.as_deref(),
        Some(name.as_str()),
        "the original template is used"
    );

    let template = input.cba_template.as_mut().expect("a template");
    template.bytes = with_padded_sheet(&template.bytes);
    match run(&input) {
        Err(e) => assert_eq!(e.filename(), Some(name.as_str()), "{e}"),
        Ok(out) => assert_eq!(
            out.cba.template_used, None,
            "a template inflating to {PADDING} bytes was read whole and used"
        ),
    }
}
