//! The PV's default layout (production's), written when no usable template
//! was given.

use super::PvInput;
use super::sections::{decision_xml, ledger_xml, summary_xml};
use crate::docx_write::DocxBuilder;
use crate::error::AnalysisError;

pub(super) fn default_layout(input: &PvInput<'_>) -> Result<Vec<u8>, AnalysisError> {
    let lang = input.case.language;
    let line = |id: &str, value: &str| lang.label_with(id, &[("value", value)]);
    let mut b = DocxBuilder::new();
    b.heading(1, lang.label("pv-title"))
        .para(&line("pv-case", &input.case.title))
        .para(&line("pv-case-id", &input.case.id))
        .para(&line("pv-generated", input.generated_at));
    if !input.case.committee.is_empty() {
        b.heading(2, lang.label("pv-committee"));
        for m in &input.case.committee {
            b.bullet(&m.line(lang));
        }
    }
    b.raw(&summary_xml(input));
    if let Some(d) = input.decision {
        b.raw(&decision_xml(lang, d));
    }
    if let Some(anchor) = &input.case.ledger {
        b.raw(&ledger_xml(lang, anchor));
    }
    b.finish()
}
