//! The case's current analysis, as a reader sees it.

use analysis::{Criterion, RunSummary, StoredExtraction, SupplierPackage, Warnings};
use entity::{analyses, dao_criteria, offer_extractions};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::Error;

/// The case's current analysis: the latest run, as a reader sees it.
#[derive(Debug, Clone)]
pub struct CurrentAnalysis {
    /// When the run was recorded (stored UTC timestamp).
    pub run_at: String,
    /// The DAO's criteria, in the order the DAO gives them.
    pub criteria: Vec<Criterion>,
    /// One package per analysed supplier, aggregated as the run did.
    pub packages: Vec<SupplierPackage>,
    /// The run's warnings (documents to read by hand, suppliers the CBA
    /// could not hold); `None` when the stored summary cannot be read.
    pub warnings: Option<Warnings>,
}

/// The latest analysis of case `case_id`, or `None` before the first run.
pub async fn current(
    db: &impl ConnectionTrait,
    case_id: &str,
) -> Result<Option<CurrentAnalysis>, Error> {
    let Some(run) = analyses::Entity::find()
        .filter(analyses::Column::CaseId.eq(case_id))
        .order_by_desc(analyses::Column::CreatedAt)
        .order_by_desc(analyses::Column::Id)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let (packages, criteria) = analysed(db, case_id).await?;
    Ok(Some(of_run(run, packages, criteria)))
}

fn of_run(
    run: analyses::Model,
    packages: Vec<SupplierPackage>,
    criteria: Vec<Criterion>,
) -> CurrentAnalysis {
    let warnings = serde_json::from_str::<RunSummary>(&run.result_json)
        .ok()
        .map(|summary| summary.warnings);
    CurrentAnalysis {
        run_at: run.created_at,
        criteria,
        packages,
        warnings,
    }
}

/// The current analysis from its rows: the latest run, the case's
/// extractions (any order) and its criteria (in the DAO's order).
pub(crate) fn current_from_rows(
    run: analyses::Model,
    mut extractions: Vec<offer_extractions::Model>,
    criteria: &[dao_criteria::Model],
) -> CurrentAnalysis {
    extractions.sort_by(|a, b| (&a.created_at, &a.id).cmp(&(&b.created_at, &b.id)));
    let extractions: Vec<StoredExtraction> = extractions.into_iter().map(stored).collect();
    let criteria = criteria.iter().cloned().map(criterion).collect();
    of_run(
        run,
        analysis::packages_from_extractions(&extractions),
        criteria,
    )
}

fn stored(row: offer_extractions::Model) -> StoredExtraction {
    StoredExtraction {
        artifact_id: row.artifact_id,
        supplier_name: row.supplier_name,
        extracted_data_json: row.extracted_data_json,
    }
}

fn criterion(row: dao_criteria::Model) -> Criterion {
    Criterion {
        categorie: row.categorie,
        critere_nom: row.critere_nom,
        description: row.description.unwrap_or_default(),
        ponderation: f64::from(row.ponderation),
        type_reponse: row.type_reponse,
        seuil_elimination: row.seuil_elimination.map(f64::from),
        ordre_affichage: row.ordre_affichage.unwrap_or(0),
        poids_brut: None,
    }
}

/// The supplier packages and criteria of the case's current analysis, as
/// the analysis aggregated them.
pub(super) async fn analysed(
    db: &impl ConnectionTrait,
    case_id: &str,
) -> Result<(Vec<SupplierPackage>, Vec<Criterion>), Error> {
    let extractions: Vec<StoredExtraction> = offer_extractions::Entity::find()
        .filter(offer_extractions::Column::CaseId.eq(case_id))
        .order_by_asc(offer_extractions::Column::CreatedAt)
        .order_by_asc(offer_extractions::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(stored)
        .collect();
    let criteria = dao_criteria::Entity::find()
        .filter(dao_criteria::Column::CaseId.eq(case_id))
        .order_by_asc(dao_criteria::Column::OrdreAffichage)
        .order_by_asc(dao_criteria::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(criterion)
        .collect();
    Ok((analysis::packages_from_extractions(&extractions), criteria))
}
