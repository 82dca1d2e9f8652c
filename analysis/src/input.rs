//! What a run reads: the case, its documents (in memory or in files) and
//! its templates.

use crate::labels::Language;
use std::borrow::Cow;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::text::{xml_text, xml_text_opt};

/// The case an analysis is about.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseInfo {
    pub id: String,
    pub title: String,
    /// `cases.reference` or the DAO/RFQ reference, if known.
    pub reference: Option<String>,
    /// `cases.case_type`.
    pub case_type: String,
    pub lot: Option<String>,
    /// Opening date (ISO), if known; the run's time otherwise.
    pub opening_date: Option<String>,
    /// The committee, as the PV lists it (`{{COMMITTEE}}`).
    pub committee: Vec<CommitteeMember>,
    /// The language of the case's documents (their fixed labels); French
    /// when absent, as every case was before it had one.
    #[serde(default)]
    pub language: Language,
    /// The case's ledger head when the PV is written (`{{LEDGER_…}}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ledger: Option<LedgerAnchor>,
}

/// The head of the case's ledger chain, as a PV prints it: what
/// `dms verify --expect` takes back years later.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerAnchor {
    /// `3F9A-1C2B-…`: the hash's first 16 hex digits, uppercase.
    pub fingerprint: String,
    /// The full hash (hex).
    pub hash: String,
}

/// A member of the case's committee, with the date of their declaration of
/// impartiality.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitteeMember {
    pub name: String,
    /// `owner`, `evaluator` or `observer`.
    pub role: String,
    /// When the member signed the declaration (ISO), if they did.
    pub declared_at: Option<String>,
}

impl CaseInfo {
    /// A copy with every text made XML-safe, for the generated documents.
    pub(crate) fn xml_safe(&self) -> CaseInfo {
        CaseInfo {
            id: xml_text(&self.id),
            title: xml_text(&self.title),
            reference: xml_text_opt(&self.reference),
            case_type: xml_text(&self.case_type),
            lot: xml_text_opt(&self.lot),
            opening_date: xml_text_opt(&self.opening_date),
            committee: self
                .committee
                .iter()
                .map(|m| CommitteeMember {
                    name: xml_text(&m.name),
                    role: xml_text(&m.role),
                    declared_at: xml_text_opt(&m.declared_at),
                })
                .collect(),
            language: self.language,
            ledger: self.ledger.as_ref().map(|l| LedgerAnchor {
                fingerprint: xml_text(&l.fingerprint),
                hash: xml_text(&l.hash),
            }),
        }
    }
}

impl CommitteeMember {
    /// The member as a line of the PV.
    pub fn line(&self, lang: Language) -> String {
        let role = match self.role.as_str() {
            "owner" => lang.label("role-owner"),
            "evaluator" => lang.label("role-evaluator"),
            "observer" => lang.label("role-observer"),
            other => other,
        };
        let name = self.name.as_str();
        match &self.declared_at {
            Some(at) => lang.label_with(
                "member-declared",
                &[("name", name), ("role", role), ("at", at)],
            ),
            None => lang.label_with("member-undeclared", &[("name", name), ("role", role)]),
        }
    }
}

/// Where an uploaded document's bytes are. A run reads a [`Content::File`]
/// when it comes to the document and drops the bytes once their text is
/// extracted, so that it holds one uploaded document at a time, never the
/// whole case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    /// Already in memory.
    Bytes(Vec<u8>),
    /// A file the run reads (the only reading the crate does).
    File(PathBuf),
}

impl Content {
    /// The bytes, borrowed when in memory, read when in a file.
    pub fn load(&self) -> std::io::Result<Cow<'_, [u8]>> {
        match self {
            Content::Bytes(bytes) => Ok(Cow::Borrowed(bytes)),
            Content::File(path) => std::fs::read(path).map(Cow::Owned),
        }
    }
}

impl From<Vec<u8>> for Content {
    fn from(bytes: Vec<u8>) -> Self {
        Content::Bytes(bytes)
    }
}

/// An uploaded source document (the DAO).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceDoc {
    pub artifact_id: String,
    /// The client's filename (shown; the reader is chosen by the content).
    pub filename: String,
    pub content: Content,
}

/// A template (`cba_template` .xlsx or `pv_template` .docx).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateDoc {
    pub filename: String,
    pub bytes: Vec<u8>,
}

/// An uploaded offer document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferDoc {
    pub artifact_id: String,
    /// The client's filename.
    pub filename: String,
    /// The `supplier_name` given at upload, if any (it wins: D-26).
    pub supplier_name: Option<String>,
    /// The `offer_type` given at upload (`technique`, `financiere`,
    /// `administrative`, `registre`), if any.
    pub offer_type: Option<String>,
    /// UTC-ISO upload time (`artifacts.uploaded_at`).
    pub uploaded_at: String,
    pub content: Content,
}

/// Everything one analysis run reads.
#[derive(Debug, Clone)]
pub struct RunInput {
    pub case: CaseInfo,
    /// The case's newest DAO (PDF or Word). One that cannot be read is
    /// listed for manual reading and the run goes on without criteria.
    pub dao: SourceDoc,
    /// The case's offers, in any order (the run orders them newest first).
    pub offers: Vec<OfferDoc>,
    pub cba_template: Option<TemplateDoc>,
    pub pv_template: Option<TemplateDoc>,
    /// UTC-ISO time of the run, written into the outputs.
    pub generated_at: String,
}
