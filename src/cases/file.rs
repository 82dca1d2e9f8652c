//! Procurement cases: loading a case with everything the decision memory
//! holds about it, in a fixed number of queries.

use entity::{
    artifacts, cases, dao_criteria, documents, lots, memory_entries, offers, procurement_references,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, LoaderTrait, ModelTrait, QueryFilter, QueryOrder,
};
use serde::Serialize;

use crate::Error;

/// A case and what hangs off it, as the API will serve it.
///
/// Rows are the generated entity models, so every column reaches the client
/// as stored (timestamps included: see [`crate::timestamp`]). Lists are in a
/// stable order: text order of their ISO-8601 timestamps, then id.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseFile {
    pub case: cases::Model,
    /// By `lot_number` (text order), then id.
    pub lots: Vec<lots::Model>,
    /// By `submitted_at`, then id; each with its documents.
    pub offers: Vec<OfferFile>,
    /// By `uploaded_at`, then id.
    pub artifacts: Vec<artifacts::Model>,
    /// By `created_at`, then id.
    pub memory_entries: Vec<memory_entries::Model>,
    /// By `ordre_affichage`, then id: the order the DAO presents them in.
    pub dao_criteria: Vec<dao_criteria::Model>,
    /// Its procurement reference (`DAO-2026-0007`), if it has one.
    pub reference: Option<procurement_references::Model>,
}

/// An offer and the documents attached to it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OfferFile {
    pub offer: offers::Model,
    /// By `uploaded_at`, then id.
    pub documents: Vec<documents::Model>,
}

/// How many statements [`load_case_file`] runs for a case with offers,
/// however many: one fewer for a case without any (no documents to look up).
pub const LOAD_CASE_FILE_QUERIES: usize = 8;

/// Loads case `case_id` with its lots, offers (each with its documents),
/// artifacts, memory entries and DAO criteria.
///
/// Runs [`LOAD_CASE_FILE_QUERIES`] statements: the case, then one per
/// relation; the documents of all offers come in one `offer_id IN (...)`
/// query, never one per offer (and none when there is no offer). The statements are separate reads: pass a
/// transaction as `db` for a consistent snapshot under concurrent writes.
pub async fn load_case_file<C: ConnectionTrait>(db: &C, case_id: &str) -> Result<CaseFile, Error> {
    let case = cases::Entity::find_by_id(case_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::NotFound {
            entity: "case",
            id: case_id.to_owned(),
        })?;

    let lots = case
        .find_related(lots::Entity)
        .order_by_asc(lots::Column::LotNumber)
        .order_by_asc(lots::Column::Id)
        .all(db)
        .await?;
    let offers = case
        .find_related(offers::Entity)
        .order_by_asc(offers::Column::SubmittedAt)
        .order_by_asc(offers::Column::Id)
        .all(db)
        .await?;
    // One query for the documents of every offer, returned grouped by offer
    // in the order of `offers`.
    let documents = offers
        .load_many(
            documents::Entity::find()
                .order_by_asc(documents::Column::UploadedAt)
                .order_by_asc(documents::Column::Id),
            db,
        )
        .await?;
    let artifacts = case
        .find_related(artifacts::Entity)
        .order_by_asc(artifacts::Column::UploadedAt)
        .order_by_asc(artifacts::Column::Id)
        .all(db)
        .await?;
    let memory_entries = case
        .find_related(memory_entries::Entity)
        .order_by_asc(memory_entries::Column::CreatedAt)
        .order_by_asc(memory_entries::Column::Id)
        .all(db)
        .await?;
    let dao_criteria = case
        .find_related(dao_criteria::Entity)
        .order_by_asc(dao_criteria::Column::OrdreAffichage)
        .order_by_asc(dao_criteria::Column::Id)
        .all(db)
        .await?;

    // The reverse relation is not generated (cases <-> references is a
    // cycle), hence the filter on case_id.
    let reference = procurement_references::Entity::find()
        .filter(procurement_references::Column::CaseId.eq(case_id))
        .order_by_asc(procurement_references::Column::CreatedAt)
        .one(db)
        .await?;

    Ok(CaseFile {
        case,
        lots,
        offers: offers
            .into_iter()
            .zip(documents)
            .map(|(offer, documents)| OfferFile { offer, documents })
            .collect(),
        artifacts,
        memory_entries,
        dao_criteria,
        reference,
    })
}
