//! The analysis pipeline of the Decision Memory System, as a pure library:
//! documents (bytes, or files it reads one at a time) and plain types in,
//! rows, JSON and documents out. No database, no HTTP, no clock and no
//! randomness: the server passes the
//! timestamps, stores the outputs and calls [`run`] inside
//! `tokio::task::spawn_blocking`.
//!
//! The system extracts, aggregates and flags; it never scores, ranks or
//! recommends.
//!
//! # Where the outputs of [`run`] go
//!
//! | output | table / use |
//! |---|---|
//! | `criteria[i]` | `dao_criteria` (`categorie, critere_nom, description, ponderation, type_reponse, seuil_elimination, ordre_affichage`; the caller adds `id, case_id, created_at`) |
//! | `extractions[i]` | `offer_extractions` (`artifact_id, supplier_name`, `extracted_data_json()`, `missing_fields_json()`) |
//! | `memory_entry` | `memory_entries.content_json` with `entry_type = 'extraction'` |
//! | `cba.schema` | `cba_template_schemas` (`template_name`, `structure_json(template_id)`), when a template was given |
//! | `cba.bytes` / `cba.filename` / `cba.template_used` | the `output_cba` file and artifact (`meta_json.template_used`) |
//! | `pv.bytes` / `pv.filename` / `pv.template_used` / `pv.decision_included` | the `output_pv` file and artifact |
//! | `summary` | the response's counts, `package_stats` and `warnings` (plus who was left out of the CBA, documents to read by hand, notes) |
//!
//! For `/api/decide`: [`packages_from_extractions`] rebuilds the packages from
//! the stored `offer_extractions` of the latest run (the same aggregation as the
//! run), [`check_decision`] validates the decision against them, and
//! [`render_pv`] writes the PV with the decision.

pub mod budget;
pub mod cba;
pub mod criteria;
mod decide;
mod docx_write;
mod error;
pub mod extract;
mod filename;
mod input;
pub mod labels;
pub mod offers;
mod opc;
pub mod packages;
mod pattern;
pub mod pv;
mod run;
mod text;

#[cfg(feature = "fixtures")]
pub mod fixtures;

pub use budget::{Budget, Limits};
pub use cba::{CbaOutput, CbaTemplateSchema, LeftOut};
pub use criteria::Criterion;
pub use decide::{
    DecisionProblem, StoredExtraction, check_decision, find_analysed_supplier,
    packages_from_extractions,
};
pub use error::{AnalysisError, Overrun};
pub use extract::{DocKind, ExtractedText, extract_text, extract_text_within};
pub use input::{
    CaseInfo, CommitteeMember, Content, LedgerAnchor, OfferDoc, RunInput, SourceDoc, TemplateDoc,
};
pub use labels::Language;
pub use packages::SupplierPackage;
pub use pv::{Decision, PvInput, PvOutput, docx_paragraphs, render_pv};
pub use run::{
    ManualReview, OfferExtraction, PackageStats, ReviewCause, RunOutput, RunSummary, Warnings, run,
    run_within,
};
