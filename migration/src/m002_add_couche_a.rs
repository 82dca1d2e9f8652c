//! Revision `002_add_couche_a`: the base of the chain.
//!
//! Creates the decision memory (Couche B: cases, artifacts, memory entries,
//! DAO criteria, CBA templates, offer extractions) and the working layer
//! (Couche A: lots, offers, documents, extractions, analyses, audits).
//! Its downgrade drops Couche A only: Couche B is the decision memory and
//! survives a downgrade to base, as in production.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::revision::{Drops, Revision, Steps};
use crate::schema_ops::{TableShape, create_table, drop_table, fk_name, key_text};

#[derive(Default)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Cases {
    Table,
    Id,
    CaseType,
    Title,
    Lot,
    CreatedAt,
    Status,
}

#[derive(DeriveIden, Clone, Copy)]
enum Artifacts {
    Table,
    Id,
    CaseId,
    Kind,
    Filename,
    Path,
    UploadedAt,
    MetaJson,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum MemoryEntries {
    Table,
    Id,
    CaseId,
    EntryType,
    ContentJson,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum DaoCriteria {
    Table,
    Id,
    CaseId,
    Categorie,
    CritereNom,
    Description,
    Ponderation,
    TypeReponse,
    SeuilElimination,
    OrdreAffichage,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum CbaTemplateSchemas {
    Table,
    Id,
    CaseId,
    TemplateName,
    StructureJson,
    CreatedAt,
    ReusedCount,
}

#[derive(DeriveIden, Clone, Copy)]
enum OfferExtractions {
    Table,
    Id,
    CaseId,
    ArtifactId,
    SupplierName,
    ExtractedDataJson,
    MissingFieldsJson,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Lots {
    Table,
    Id,
    CaseId,
    LotNumber,
    Description,
    EstimatedValue,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Offers {
    Table,
    Id,
    CaseId,
    SupplierName,
    OfferType,
    FileHash,
    SubmittedAt,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Documents {
    Table,
    Id,
    CaseId,
    OfferId,
    Filename,
    Path,
    UploadedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Extractions {
    Table,
    Id,
    CaseId,
    ArtifactId,
    ExtractionType,
    DataJson,
    Confidence,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Analyses {
    Table,
    Id,
    CaseId,
    AnalysisType,
    ResultJson,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Audits {
    Table,
    Id,
    CaseId,
    UserId,
    Action,
    OldValue,
    NewValue,
    CreatedAt,
}

/// What the downgrade drops: Couche A, whole, children first.
const DROPS: Drops = Drops {
    tables: &[
        ("extractions", None),
        ("analyses", None),
        ("audits", None),
        ("documents", None),
        ("offers", None),
        ("lots", None),
    ],
    columns: &[],
};

fn text<T: IntoIden>(name: T) -> ColumnDef {
    ColumnDef::new(name).text().not_null().take()
}

fn text_null<T: IntoIden>(name: T) -> ColumnDef {
    ColumnDef::new(name).text().null().take()
}

fn id<T: IntoIden>(backend: DbBackend, name: T) -> ColumnDef {
    key_text(backend, name).not_null().primary_key().take()
}

/// `<table>.<column> REFERENCES <parent>(id) ON DELETE CASCADE`.
fn cascade<T, C, P, I>(table: T, column: C, parent: P, parent_id: I) -> ForeignKeyCreateStatement
where
    T: IntoIden,
    C: IntoIden,
    P: IntoIden,
    I: IntoIden,
{
    let (table, column) = (table.into_iden(), column.into_iden());
    ForeignKey::create()
        .name(fk_name(&table.to_string(), &column.to_string()))
        .from(table, column)
        .to(parent, parent_id)
        .on_delete(ForeignKeyAction::Cascade)
        .take()
}

/// A table of one case: its id, its `case_id` referencing `cases` with cascade.
fn case_table<T: IntoIden + Copy + 'static, C: IntoIden + Copy + 'static>(
    backend: DbBackend,
    table: T,
    id_col: C,
    case_col: C,
) -> TableCreateStatement {
    Table::create()
        .table(table)
        .col(id(backend, id_col))
        .col(key_text(backend, case_col).not_null())
        .foreign_key(&mut cascade(table, case_col, Cases::Table, Cases::Id))
        .take()
}

/// `cases` as this revision creates it; later revisions add columns.
pub fn cases(backend: DbBackend) -> TableShape {
    let create = Table::create()
        .table(Cases::Table)
        .col(id(backend, Cases::Id))
        .col(text(Cases::CaseType))
        .col(text(Cases::Title))
        .col(text_null(Cases::Lot))
        .col(text(Cases::CreatedAt))
        .col(text(Cases::Status).default("draft"))
        .take();
    TableShape::new("cases", create)
}

/// `artifacts` as this revision creates it.
pub fn artifacts(backend: DbBackend) -> TableShape {
    let create = Table::create()
        .table(Artifacts::Table)
        .col(id(backend, Artifacts::Id))
        .col(key_text(backend, Artifacts::CaseId).not_null())
        .col(text(Artifacts::Kind))
        .col(text(Artifacts::Filename))
        .col(text(Artifacts::Path))
        .col(text(Artifacts::UploadedAt))
        .col(text_null(Artifacts::MetaJson))
        .col(text_null(Artifacts::CreatedAt).default(Expr::current_timestamp()))
        .foreign_key(&mut cascade(
            Artifacts::Table,
            Artifacts::CaseId,
            Cases::Table,
            Cases::Id,
        ))
        .take();
    TableShape::new("artifacts", create)
}

/// `lots` as this revision creates it.
pub fn lots(backend: DbBackend) -> TableShape {
    let create = case_table(backend, Lots::Table, Lots::Id, Lots::CaseId)
        .col(text(Lots::LotNumber))
        .col(text_null(Lots::Description))
        .col(ColumnDef::new(Lots::EstimatedValue).float().null())
        .col(text(Lots::CreatedAt))
        .take();
    TableShape::new("lots", create)
}

fn couche_b(backend: DbBackend) -> Vec<TableCreateStatement> {
    vec![
        cases(backend).create,
        artifacts(backend).create,
        case_table(
            backend,
            MemoryEntries::Table,
            MemoryEntries::Id,
            MemoryEntries::CaseId,
        )
        .col(text(MemoryEntries::EntryType))
        .col(text(MemoryEntries::ContentJson))
        .col(text(MemoryEntries::CreatedAt))
        .take(),
        case_table(
            backend,
            DaoCriteria::Table,
            DaoCriteria::Id,
            DaoCriteria::CaseId,
        )
        .col(text(DaoCriteria::Categorie))
        .col(text(DaoCriteria::CritereNom))
        .col(text_null(DaoCriteria::Description))
        .col(ColumnDef::new(DaoCriteria::Ponderation).float().not_null())
        .col(text(DaoCriteria::TypeReponse))
        .col(ColumnDef::new(DaoCriteria::SeuilElimination).float().null())
        .col(
            ColumnDef::new(DaoCriteria::OrdreAffichage)
                .integer()
                .null()
                .default(0),
        )
        .col(text(DaoCriteria::CreatedAt))
        .take(),
        case_table(
            backend,
            CbaTemplateSchemas::Table,
            CbaTemplateSchemas::Id,
            CbaTemplateSchemas::CaseId,
        )
        .col(text(CbaTemplateSchemas::TemplateName))
        .col(text(CbaTemplateSchemas::StructureJson))
        .col(text(CbaTemplateSchemas::CreatedAt))
        .col(
            ColumnDef::new(CbaTemplateSchemas::ReusedCount)
                .integer()
                .null()
                .default(0),
        )
        .take(),
        case_table(
            backend,
            OfferExtractions::Table,
            OfferExtractions::Id,
            OfferExtractions::CaseId,
        )
        .col(key_text(backend, OfferExtractions::ArtifactId).not_null())
        .col(text(OfferExtractions::SupplierName))
        .col(text(OfferExtractions::ExtractedDataJson))
        .col(text_null(OfferExtractions::MissingFieldsJson))
        .col(text(OfferExtractions::CreatedAt))
        .foreign_key(&mut cascade(
            OfferExtractions::Table,
            OfferExtractions::ArtifactId,
            Artifacts::Table,
            Artifacts::Id,
        ))
        .take(),
    ]
}

fn couche_a(backend: DbBackend) -> Vec<TableCreateStatement> {
    vec![
        lots(backend).create,
        case_table(backend, Offers::Table, Offers::Id, Offers::CaseId)
            .col(text(Offers::SupplierName))
            .col(text(Offers::OfferType))
            .col(text_null(Offers::FileHash))
            .col(text(Offers::SubmittedAt))
            .col(text(Offers::CreatedAt))
            .take(),
        case_table(backend, Documents::Table, Documents::Id, Documents::CaseId)
            .col(key_text(backend, Documents::OfferId).null())
            .col(text(Documents::Filename))
            .col(text(Documents::Path))
            .col(text(Documents::UploadedAt))
            .foreign_key(&mut cascade(
                Documents::Table,
                Documents::OfferId,
                Offers::Table,
                Offers::Id,
            ))
            .take(),
        case_table(
            backend,
            Extractions::Table,
            Extractions::Id,
            Extractions::CaseId,
        )
        .col(key_text(backend, Extractions::ArtifactId).not_null())
        .col(text(Extractions::ExtractionType))
        .col(text(Extractions::DataJson))
        .col(ColumnDef::new(Extractions::Confidence).float().null())
        .col(text(Extractions::CreatedAt))
        .foreign_key(&mut cascade(
            Extractions::Table,
            Extractions::ArtifactId,
            Artifacts::Table,
            Artifacts::Id,
        ))
        .take(),
        case_table(backend, Analyses::Table, Analyses::Id, Analyses::CaseId)
            .col(text(Analyses::AnalysisType))
            .col(text(Analyses::ResultJson))
            .col(text(Analyses::CreatedAt))
            .take(),
        case_table(backend, Audits::Table, Audits::Id, Audits::CaseId)
            .col(text_null(Audits::UserId))
            .col(text(Audits::Action))
            .col(text_null(Audits::OldValue))
            .col(text_null(Audits::NewValue))
            .col(text(Audits::CreatedAt))
            .take(),
    ]
}

impl Revision for Migration {
    const ID: &'static str = "002_add_couche_a";
    const DESCRIPTION: &'static str = "Couche B (cases, artifacts, memory entries, DAO criteria, CBA templates, offer extractions) and Couche A (lots, offers, documents, extractions, analyses, audits)";
    const DROPS: Drops = DROPS;
}

#[async_trait::async_trait]
impl Steps for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        for table in couche_b(backend).into_iter().chain(couche_a(backend)) {
            create_table(manager, table).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, _) in DROPS.tables {
            drop_table(manager, table).await?;
        }
        Ok(())
    }
}
