//! The analysis of a case and the committee's decision, on top of the pure
//! `analysis` crate: read the case's uploads, run the extraction off the
//! async runtime, and record the run in one transaction that replaces the
//! previous run (D-23): criteria, offer extractions, template schema, the
//! `analyses` row, the `extraction` memory entry, the CBA and PV outputs and
//! an audit row. The run reads the uploads from their files one at a time
//! (a run never holds the whole case in memory), and [`queue`] bounds how
//! many runs go at once. A document the analysis cannot read (damaged, mistyped,
//! encrypted, over its decoding budget) does not fail the run: the crate
//! lists it in `warnings.manual_review_documents` with its reason. A run
//! that fails (writing its outputs) leaves the previous one intact.

mod artifacts;
mod current;
mod decide;
mod inputs;
mod outputs;
pub mod queue;
mod run;

pub use artifacts::{artifact_file, download};
pub(crate) use current::current_from_rows;
pub use current::{CurrentAnalysis, current};
pub use decide::decide;
pub use outputs::{OUTPUT_CBA, OUTPUT_PV};
pub use run::analyze;
