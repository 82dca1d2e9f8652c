//! The one error type of the crate: every variant names the file it is about,
//! so the server can turn it into a 4xx message without more context.

/// Why a document could not be read or written.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AnalysisError {
    /// The file's content is not a kind the pipeline reads for this role
    /// (the kind is sniffed from the bytes, never taken from the suffix).
    #[error("unsupported file type for {filename}: {found} (expected {expected})")]
    Unsupported {
        filename: String,
        /// What the content is (`a legacy Word or Excel file`, `unknown content`...).
        found: String,
        expected: &'static str,
    },
    /// Reading the file would inflate past one of the [`crate::budget::Limits`].
    #[error("{filename} is too large once decompressed: {what} exceeds {limit}")]
    OverBudget {
        filename: String,
        /// Which limit it ran over.
        what: Overrun,
        /// The limit, with its unit (`64 MiB`, `300000 cells`).
        limit: String,
    },
    /// The bytes are not a readable document of the announced kind.
    #[error("corrupt or unreadable file {filename}: {reason}")]
    Corrupt { filename: String, reason: String },
    /// A password-protected document: its text cannot be read.
    #[error("encrypted file {filename}: remove the password and upload it again")]
    Encrypted { filename: String },
    /// A run needs at least one offer.
    #[error("missing offers (upload kind=offer)")]
    MissingOffers,
    /// Writing an output document failed (never caused by an input file).
    #[error("could not write {what}: {reason}")]
    Write { what: &'static str, reason: String },
    /// A document's file could not be read (the server's storage, not the
    /// client's document).
    #[error("could not read the file of {filename}: {reason}")]
    Read { filename: String, reason: String },
}

impl AnalysisError {
    pub(crate) fn corrupt(filename: &str, reason: impl std::fmt::Display) -> Self {
        AnalysisError::Corrupt {
            filename: filename.to_string(),
            reason: reason.to_string(),
        }
    }

    pub(crate) fn over_budget(filename: &str, what: Overrun, limit: String) -> Self {
        AnalysisError::OverBudget {
            filename: filename.to_string(),
            what,
            limit,
        }
    }

    /// The client filename the error is about, when it is about a file.
    pub fn filename(&self) -> Option<&str> {
        match self {
            AnalysisError::Unsupported { filename, .. }
            | AnalysisError::Corrupt { filename, .. }
            | AnalysisError::OverBudget { filename, .. }
            | AnalysisError::Encrypted { filename } => Some(filename),
            _ => None,
        }
    }

    /// True when the caller sent something unusable (a 4xx), false for the
    /// crate's own failures (a 5xx).
    pub fn is_client_error(&self) -> bool {
        !matches!(
            self,
            AnalysisError::Write { .. } | AnalysisError::Read { .. }
        )
    }
}

/// Which of the [`crate::budget::Limits`] a file ran over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overrun {
    /// What one document may inflate.
    Document,
    /// What the run had left for its remaining documents.
    Run,
    /// One PDF page's content.
    Page,
    /// One part of an OOXML package.
    Part,
    /// The parts an OOXML package lists.
    Parts,
    /// A workbook's cells and shared strings.
    Cells,
    /// The rectangle a sheet's cells span (allocated whole by calamine).
    Range,
}

impl std::fmt::Display for Overrun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Overrun::Document => "decompressed data",
            Overrun::Run => "the run's decompressed data",
            Overrun::Page => "one page's content",
            Overrun::Part => "one part of the package",
            Overrun::Parts => "parts in the package",
            Overrun::Cells => "cells and shared strings",
            Overrun::Range => "one sheet's used range",
        })
    }
}

impl Overrun {
    fn fr(self) -> &'static str {
        match self {
            Overrun::Document => "données décompressées",
            Overrun::Run => "données décompressées de toute l'analyse",
            Overrun::Page => "contenu d'une page",
            Overrun::Part => "une partie du fichier",
            Overrun::Parts => "parties du fichier",
            Overrun::Cells => "cellules et textes partagés",
            Overrun::Range => "étendue d'une feuille",
        }
    }
}

/// Runs a third-party parser so that a panic inside it, provoked by a hostile
/// file, becomes a `Corrupt` error instead of taking the worker down.
pub(crate) fn guard<T>(
    filename: &str,
    f: impl FnOnce() -> Result<T, AnalysisError>,
) -> Result<T, AnalysisError> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(_) => Err(AnalysisError::corrupt(
            filename,
            "the parser gave up on this file",
        )),
    }
}

/// What went wrong with a file, in the words the committee reads (manual
/// review list, notes). The facts stay in the typed error.
pub(crate) fn problem_fr(e: &AnalysisError) -> String {
    match e {
        AnalysisError::Unsupported {
            found, expected, ..
        } => format!("type de fichier non lu: {found} (attendu: {expected})"),
        AnalysisError::Corrupt { reason, .. } => {
            format!("fichier illisible ou endommagé: {reason}")
        }
        AnalysisError::Encrypted { .. } => {
            "fichier protégé par un mot de passe: retirer le mot de passe et le téléverser à nouveau"
                .to_string()
        }
        AnalysisError::OverBudget { what, limit, .. } => format!(
            "fichier trop volumineux une fois décompressé ({}: plus de {limit}), non lu par sécurité",
            what.fr()
        ),
        other => other.to_string(),
    }
}
