//! What an upload is to its case: its kind (DAO, offer, templates; a
//! withdrawn document's kind is `withdrawn_<kind>`), and for an offer its
//! supplier, type and lot, checked.

use crate::Error;
use crate::error::{FieldRule, invalid_field};
use crate::text;

/// The prefix of a withdrawn document's kind.
pub const WITHDRAWN_PREFIX: &str = "withdrawn_";

/// What an upload is to the case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Dao,
    Offer,
    CbaTemplate,
    PvTemplate,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::CbaTemplate, Kind::Dao, Kind::Offer, Kind::PvTemplate];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Dao => "dao",
            Kind::Offer => "offer",
            Kind::CbaTemplate => "cba_template",
            Kind::PvTemplate => "pv_template",
        }
    }

    pub fn parse(name: &str) -> Option<Kind> {
        let name = name.trim().to_lowercase();
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// Whether an artifact of kind `kind` is an offer's file, current or
/// withdrawn: both are sealed like the offers until the caller may read them.
pub fn is_offer_file(kind: &str) -> bool {
    kind == Kind::Offer.name()
        || kind
            .strip_prefix(WITHDRAWN_PREFIX)
            .is_some_and(|k| k == Kind::Offer.name())
}

/// The offer types production accepts.
pub const OFFER_TYPES: [&str; 4] = ["technique", "financiere", "administrative", "registre"];

/// The offer an upload belongs to.
#[derive(Clone, Debug)]
pub struct OfferInfo {
    pub supplier_name: String,
    pub offer_type: String,
    pub lot_id: Option<String>,
}

impl OfferInfo {
    /// Checks the fields (422 like a schema error) and trims the name.
    pub fn new(
        supplier_name: &str,
        offer_type: &str,
        lot_id: Option<String>,
    ) -> Result<Self, Error> {
        text::check(&text::SUPPLIER_NAME, supplier_name.trim())?;
        text::check(&text::OFFER_TYPE, offer_type)?;
        text::check_opt(&text::LOT_ID, lot_id.as_deref())?;
        let supplier_name = supplier_name
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        crate::names::check("supplier_name", &supplier_name)?;
        if supplier_name.is_empty() || supplier_name.chars().count() > 200 {
            return Err(invalid_field(
                "supplier_name",
                FieldRule::Length { min: 1, max: 200 },
            ));
        }
        if !OFFER_TYPES.contains(&offer_type) {
            return Err(invalid_field(
                "offer_type",
                FieldRule::InputOneOf(OFFER_TYPES.to_vec()),
            ));
        }
        Ok(OfferInfo {
            supplier_name,
            offer_type: offer_type.to_owned(),
            lot_id: lot_id.filter(|l| !l.trim().is_empty()),
        })
    }

    /// Two supplier names are the same supplier when they read the same:
    /// compared by [`crate::names::key`] (case, spacing, lookalike
    /// characters; exactly otherwise: no pattern, D-20).
    pub(crate) fn same_supplier(&self, other: &str) -> bool {
        crate::names::same(&self.supplier_name, other)
    }
}
