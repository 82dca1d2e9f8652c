//! The PV's default layout (production's), written when no usable template
//! was given.

use super::PvInput;
use super::sections::{decision_xml, summary_xml};
use crate::docx_write::DocxBuilder;
use crate::error::AnalysisError;

pub(super) fn default_layout(input: &PvInput<'_>) -> Result<Vec<u8>, AnalysisError> {
    let mut b = DocxBuilder::new();
    b.heading(1, "Procès-Verbal — Decision Memory System")
        .para(&format!("Case: {}", input.case.title))
        .para(&format!("Case ID: {}", input.case.id))
        .para(&format!("Generated: {}", input.generated_at));
    if !input.case.committee.is_empty() {
        b.heading(2, "Comité d'évaluation");
        for m in &input.case.committee {
            b.bullet(&m.line());
        }
    }
    b.raw(&summary_xml(input));
    if let Some(d) = input.decision {
        b.raw(&decision_xml(d));
    }
    b.finish()
}
