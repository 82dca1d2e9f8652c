//! Revision `003_add_procurement_extensions`: procurement categories,
//! purchase categories (SCI manual), thresholds and references, the columns
//! that tie cases and lots to them, and their seed rows.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::m002_add_couche_a as m002;
use crate::revision::{Drops, Revision, Steps};
use crate::schema_ops::{
    AddedColumn, TableShape, add_columns, create_index, create_table, drop_columns, drop_table,
    fk_name, identity_id, key_text,
};
use crate::seed;

#[derive(Default)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Cases {
    Table,
    Id,
    RefId,
    CategoryId,
    PurchaseCategoryId,
    EstimatedValue,
    ClosingDate,
    ProcedureType,
}

#[derive(DeriveIden, Clone, Copy)]
enum Lots {
    CategoryId,
}

#[derive(DeriveIden, Clone, Copy)]
enum ProcurementCategories {
    Table,
    Id,
    Code,
    NameEn,
    NameFr,
    ThresholdUsd,
    RequiresTechnicalEval,
    MinSuppliers,
}

#[derive(DeriveIden, Clone, Copy)]
enum PurchaseCategories {
    Table,
    Id,
    Code,
    Label,
    IsHighRisk,
    RequiresExpert,
    SpecificRulesJson,
}

#[derive(DeriveIden, Clone, Copy)]
enum ProcurementThresholds {
    Table,
    Id,
    ProcedureType,
    MinAmountUsd,
    MaxAmountUsd,
    MinSuppliers,
    DescriptionEn,
    DescriptionFr,
}

#[derive(DeriveIden, Clone, Copy)]
enum ProcurementReferences {
    Table,
    Id,
    CaseId,
    RefType,
    RefNumber,
    Year,
    Sequence,
    CreatedBy,
}

/// The procedures a case may follow (production's `check_procedure_type`).
const PROCEDURES: [&str; 4] = [
    "devis_unique",
    "devis_simple",
    "devis_formel",
    "appel_offres_ouvert",
];

/// The columns this revision adds to `cases`.
pub fn case_columns(backend: DbBackend) -> Vec<AddedColumn> {
    let check = Expr::col(Cases::ProcedureType).is_in(PROCEDURES);
    let mut procedure_type = ColumnDef::new(Cases::ProcedureType);
    procedure_type.text().null();
    // MariaDB accepts no name on a column CHECK; it names it after the column.
    match backend {
        DbBackend::MySql => procedure_type.check(check),
        _ => procedure_type.check(("check_procedure_type", check)),
    };
    vec![
        AddedColumn::new(key_text(backend, Cases::RefId).null().take())
            .references(ProcurementReferences::Table, ProcurementReferences::Id)
            .indexed("idx_cases_ref"),
        AddedColumn::new(key_text(backend, Cases::CategoryId).null().take())
            .references(ProcurementCategories::Table, ProcurementCategories::Id)
            .indexed("idx_cases_category"),
        AddedColumn::new(key_text(backend, Cases::PurchaseCategoryId).null().take())
            .references(PurchaseCategories::Table, PurchaseCategories::Id)
            .indexed("idx_cases_purchase_category"),
        AddedColumn::new(
            ColumnDef::new(Cases::EstimatedValue)
                .decimal_len(12, 2)
                .null()
                .take(),
        ),
        AddedColumn::new(ColumnDef::new(Cases::ClosingDate).text().null().take()),
        AddedColumn::new(procedure_type),
    ]
}

/// The columns this revision adds to `lots`.
fn lot_columns(backend: DbBackend) -> Vec<AddedColumn> {
    vec![
        AddedColumn::new(key_text(backend, Lots::CategoryId).null().take())
            .references(ProcurementCategories::Table, ProcurementCategories::Id)
            .indexed("idx_lots_category"),
    ]
}

/// `cases` as this revision leaves it.
pub fn cases(backend: DbBackend) -> TableShape {
    m002::cases(backend).with(&case_columns(backend))
}

fn created_at() -> ColumnDef {
    ColumnDef::new(Alias::new("created_at"))
        .text()
        .not_null()
        .take()
}

fn new_tables(backend: DbBackend) -> Vec<TableCreateStatement> {
    vec![
        Table::create()
            .table(ProcurementCategories::Table)
            .col(
                key_text(backend, ProcurementCategories::Id)
                    .not_null()
                    .primary_key(),
            )
            .col(
                key_text(backend, ProcurementCategories::Code)
                    .not_null()
                    .unique_key(),
            )
            .col(
                ColumnDef::new(ProcurementCategories::NameEn)
                    .text()
                    .not_null(),
            )
            .col(
                ColumnDef::new(ProcurementCategories::NameFr)
                    .text()
                    .not_null(),
            )
            .col(
                ColumnDef::new(ProcurementCategories::ThresholdUsd)
                    .decimal_len(12, 2)
                    .null(),
            )
            .col(
                ColumnDef::new(ProcurementCategories::RequiresTechnicalEval)
                    .boolean()
                    .null()
                    .default(true),
            )
            .col(
                ColumnDef::new(ProcurementCategories::MinSuppliers)
                    .integer()
                    .null()
                    .default(3),
            )
            .col(created_at())
            .take(),
        Table::create()
            .table(PurchaseCategories::Table)
            .col(
                key_text(backend, PurchaseCategories::Id)
                    .not_null()
                    .primary_key(),
            )
            .col(
                key_text(backend, PurchaseCategories::Code)
                    .not_null()
                    .unique_key(),
            )
            .col(ColumnDef::new(PurchaseCategories::Label).text().not_null())
            .col(
                ColumnDef::new(PurchaseCategories::IsHighRisk)
                    .boolean()
                    .null()
                    .default(false),
            )
            .col(
                ColumnDef::new(PurchaseCategories::RequiresExpert)
                    .boolean()
                    .null()
                    .default(false),
            )
            .col(
                ColumnDef::new(PurchaseCategories::SpecificRulesJson)
                    .json_binary()
                    .null(),
            )
            .col(created_at())
            .take(),
        Table::create()
            .table(ProcurementThresholds::Table)
            .col(identity_id(backend, ProcurementThresholds::Id))
            .col(
                key_text(backend, ProcurementThresholds::ProcedureType)
                    .not_null()
                    .unique_key(),
            )
            .col(
                ColumnDef::new(ProcurementThresholds::MinAmountUsd)
                    .decimal_len(12, 2)
                    .not_null(),
            )
            .col(
                ColumnDef::new(ProcurementThresholds::MaxAmountUsd)
                    .decimal_len(12, 2)
                    .null(),
            )
            .col(
                ColumnDef::new(ProcurementThresholds::MinSuppliers)
                    .integer()
                    .not_null(),
            )
            .col(
                ColumnDef::new(ProcurementThresholds::DescriptionEn)
                    .text()
                    .null(),
            )
            .col(
                ColumnDef::new(ProcurementThresholds::DescriptionFr)
                    .text()
                    .null(),
            )
            .take(),
        Table::create()
            .table(ProcurementReferences::Table)
            .col(
                key_text(backend, ProcurementReferences::Id)
                    .not_null()
                    .primary_key(),
            )
            .col(key_text(backend, ProcurementReferences::CaseId).not_null())
            .col(key_text(backend, ProcurementReferences::RefType).not_null())
            .col(
                key_text(backend, ProcurementReferences::RefNumber)
                    .not_null()
                    .unique_key(),
            )
            .col(
                ColumnDef::new(ProcurementReferences::Year)
                    .integer()
                    .not_null(),
            )
            .col(
                ColumnDef::new(ProcurementReferences::Sequence)
                    .integer()
                    .not_null(),
            )
            .col(created_at())
            .col(
                ColumnDef::new(ProcurementReferences::CreatedBy)
                    .integer()
                    .null(),
            )
            .index(
                Index::create()
                    .unique()
                    .name("procurement_references_ref_type_year_sequence_key")
                    .col(ProcurementReferences::RefType)
                    .col(ProcurementReferences::Year)
                    .col(ProcurementReferences::Sequence),
            )
            .foreign_key(
                ForeignKey::create()
                    .name(fk_name("procurement_references", "case_id"))
                    .from(ProcurementReferences::Table, ProcurementReferences::CaseId)
                    .to(Cases::Table, Cases::Id)
                    .on_delete(ForeignKeyAction::Cascade),
            )
            .take(),
    ]
}

/// What the downgrade drops, in order; seed rows (by these key columns) are the
/// revision's own.
const DROPS: Drops = Drops {
    tables: &[
        ("procurement_references", None),
        ("procurement_thresholds", Some("procedure_type")),
        ("purchase_categories", Some("id")),
        ("procurement_categories", Some("id")),
    ],
    columns: &[
        ("cases", "ref_id", None),
        ("cases", "category_id", None),
        ("cases", "purchase_category_id", None),
        ("cases", "estimated_value", None),
        ("cases", "closing_date", None),
        ("cases", "procedure_type", None),
        ("lots", "category_id", None),
    ],
};

async fn seed(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let now = seed::now();
    for row in seed::rows("procurement_categories")? {
        let mut values = seed::fields(
            &row,
            &[
                "id",
                "code",
                "name_en",
                "name_fr",
                "threshold_usd",
                "requires_technical_eval",
                "min_suppliers",
            ],
        );
        values.push(("created_at", now.clone().into()));
        seed::insert_if_absent(manager, "procurement_categories", &["id", "code"], values).await?;
    }
    for row in seed::rows("purchase_categories")? {
        let mut values = seed::fields(
            &row,
            &[
                "id",
                "code",
                "label",
                "is_high_risk",
                "requires_expert",
                "specific_rules_json",
            ],
        );
        values.push(("created_at", now.clone().into()));
        seed::insert_if_absent(manager, "purchase_categories", &["id", "code"], values).await?;
    }
    for row in seed::rows("procurement_thresholds")? {
        let values = seed::fields(
            &row,
            &[
                "procedure_type",
                "min_amount_usd",
                "max_amount_usd",
                "min_suppliers",
                "description_en",
                "description_fr",
            ],
        );
        seed::insert_if_absent(
            manager,
            "procurement_thresholds",
            &["procedure_type"],
            values,
        )
        .await?;
    }
    Ok(())
}

impl Revision for Migration {
    const ID: &'static str = "003_add_procurement_extensions";
    const DESCRIPTION: &'static str = "procurement and purchase categories, thresholds, references; their columns on cases and lots; seed rows";
    const DROPS: Drops = DROPS;
}

#[async_trait::async_trait]
impl Steps for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        for table in new_tables(backend) {
            create_table(manager, table).await?;
        }
        create_index(
            manager,
            "idx_procref_case",
            "procurement_references",
            &["case_id"],
        )
        .await?;
        create_index(
            manager,
            "idx_procref_year",
            "procurement_references",
            &["year", "ref_type"],
        )
        .await?;
        add_columns(manager, "cases", &case_columns(backend)).await?;
        add_columns(manager, "lots", &lot_columns(backend)).await?;
        seed(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        // The columns first: they hold the foreign keys to the tables dropped next.
        drop_columns(manager, m002::cases(backend), &case_columns(backend)).await?;
        drop_columns(manager, m002::lots(backend), &lot_columns(backend)).await?;
        for (table, _) in DROPS.tables {
            drop_table(manager, table).await?;
        }
        Ok(())
    }
}
