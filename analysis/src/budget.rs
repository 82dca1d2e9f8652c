//! What one document and one run may cost. Every decoder of the crate
//! counts the bytes it inflates against a [`Budget`] as it inflates them
//! (never after), so a small file that claims gigabytes stops at the limit.
//!
//! | limit | default | where it is enforced |
//! |---|---|---|
//! | [`Limits::document_inflated`] | 64 MiB | PDF: cross-reference streams, object streams, page contents and ToUnicode maps (`extract/pdf.rs`, `extract/pdf_stream.rs`); Office: the package parts a reader inflates (`extract/docx.rs::check_zip_budget`, `read_zip_entry`) |
//! | [`Limits::run_inflated`] | 512 MiB | the sum over a run's documents (`run.rs`): once spent, the remaining documents are listed for manual reading |
//! | [`Limits::part_inflated`] | 32 MiB | one OOXML part read into memory (`word/document.xml`, a sheet) |
//! | [`Limits::page_content`] | 4 MiB | one PDF page's content, compressed or not (lopdf parses it into operators, which can cost ~20 times its size) |
//! | [`Limits::workbook_cells`] | 300 000 | cells plus shared strings of one workbook, counted by streaming its XML before calamine or umya build it; four times as many for the rectangle one sheet's non-empty cells span, which calamine allocates whole (`extract/docx.rs::check_zip_budget`) |
//!
//! Images, fonts, attachments and other embedded files are never inflated:
//! the PDF reader decodes only the streams text extraction needs, the Word
//! reader only `word/document.xml`, the Excel offer reader skips
//! `media/`/`embeddings/` parts, and the PV template's other parts are
//! copied still compressed.

/// The limits of one run. [`Limits::default`] are the server's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes one document may inflate, all its decoders together.
    pub document_inflated: u64,
    /// Bytes all the documents of one run may inflate together.
    pub run_inflated: u64,
    /// Bytes one OOXML part may inflate when it is read into memory.
    pub part_inflated: u64,
    /// Decoded bytes of one PDF page's content.
    pub page_content: u64,
    /// Cells and shared strings of one workbook.
    pub workbook_cells: u64,
}

pub const MIB: u64 = 1 << 20;

impl Limits {
    pub const DEFAULT: Limits = Limits {
        document_inflated: 64 * MIB,
        run_inflated: 512 * MIB,
        part_inflated: 32 * MIB,
        page_content: 4 * MIB,
        workbook_cells: 300_000,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

/// The bytes a document may still inflate.
///
/// Decoders chained on one stream (FlateDecode applied twice) each count
/// what they yield against the same budget, hence the shared cell.
#[derive(Debug, Clone)]
pub struct Budget {
    limits: Limits,
    /// What the document may still inflate (the lesser of its own limit and
    /// what the run has left).
    left: std::cell::Cell<u64>,
    /// What it was given, to tell the run what was used.
    given: u64,
}

impl Budget {
    /// A document's budget: its own limit, or less when the run has less left.
    pub fn new(limits: Limits, run_left: u64) -> Budget {
        let given = limits.document_inflated.min(run_left);
        Budget {
            limits,
            left: std::cell::Cell::new(given),
            given,
        }
    }

    /// A fresh document budget with the default limits (for a single file).
    pub fn for_document() -> Budget {
        Budget::new(Limits::DEFAULT, Limits::DEFAULT.run_inflated)
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    pub fn left(&self) -> u64 {
        self.left.get()
    }

    /// Bytes inflated so far.
    pub fn used(&self) -> u64 {
        self.given - self.left.get()
    }

    /// The budget the document was given (to name it in an error).
    pub fn given(&self) -> u64 {
        self.given
    }

    /// Counts `n` bytes; false (and nothing left) when they do not fit.
    pub fn spend(&self, n: u64) -> bool {
        match self.left.get().checked_sub(n) {
            Some(left) => {
                self.left.set(left);
                true
            }
            None => {
                self.left.set(0);
                false
            }
        }
    }
}

/// The io error a [`Metered`] reader returns when the budget is spent: its
/// callers tell it from a corrupt stream with [`is_over_budget`].
#[derive(Debug, thiserror::Error)]
#[error("decoding budget spent")]
pub(crate) struct OverBudget;

pub(crate) fn is_over_budget(e: &std::io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<OverBudget>())
}

/// A reader that counts what it yields against a budget, failing with
/// [`OverBudget`] at the first byte past it.
pub(crate) struct Metered<'b, R> {
    inner: R,
    budget: &'b Budget,
}

impl<'b, R> Metered<'b, R> {
    pub(crate) fn new(inner: R, budget: &'b Budget) -> Self {
        Metered { inner, budget }
    }
}

impl<R: std::io::Read> std::io::Read for Metered<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.budget.left() == 0 {
            // Is there more? One byte says, and costs nothing if not.
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(std::io::Error::other(OverBudget)),
            };
        }
        let want = buf
            .len()
            .min(usize::try_from(self.budget.left()).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.budget.spend(n as u64);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn a_metered_reader_stops_one_byte_past_the_budget() {
        let budget = Budget::new(
            Limits {
                document_inflated: 10,
                ..Limits::DEFAULT
            },
            u64::MAX,
        );
        let mut out = Vec::new();
        let err = Metered::new(&[7u8; 11][..], &budget)
            .read_to_end(&mut out)
            .expect_err("over");
        assert!(is_over_budget(&err));
        assert_eq!(out.len(), 10);

        let budget = Budget::new(
            Limits {
                document_inflated: 10,
                ..Limits::DEFAULT
            },
            u64::MAX,
        );
        let mut out = Vec::new();
        Metered::new(&[7u8; 10][..], &budget)
            .read_to_end(&mut out)
            .expect("fits exactly");
        assert_eq!(budget.used(), 10);
    }

    #[test]
    fn the_run_limits_a_document_budget() {
        let budget = Budget::new(Limits::DEFAULT, 5);
        assert_eq!(budget.given(), 5);
    }
}
