//! Creating a case: its row, its procurement reference (`DAO-2026-0007`,
//! numbered per type and year with no gap and no duplicate, whatever the
//! concurrency), and the procedure the seeded thresholds call for.

use std::time::Duration;

use chrono::Datelike;
use entity::{
    cases, procurement_categories, procurement_references, procurement_thresholds,
    purchase_categories,
};
use rust_decimal::Decimal;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    DbBackend, EntityTrait, QueryFilter, QuerySelect, Statement,
};
use serde::Serialize;

use crate::auth::User;
use crate::error::{FieldRule, Refusal, invalid_field};
use crate::{Error, audit, db, text, timestamp};

/// The `case_type` values a case may have.
pub const CASE_TYPES: [&str; 3] = ["DAO", "RFQ", "RFP"];

/// The `cases.procedure_type` CHECK values.
pub const PROCEDURE_TYPES: [&str; 4] = [
    "devis_unique",
    "devis_simple",
    "devis_formel",
    "appel_offres_ouvert",
];

/// The languages a case's generated documents (CBA, PV) can be written in;
/// the first is the default.
pub const DOCUMENT_LANGUAGES: [&str; 2] = ["fr", "en"];

/// What a client sends to create a case.
#[derive(Clone, Debug, Default)]
pub struct NewCase {
    pub case_type: String,
    pub title: String,
    pub lot: Option<String>,
    pub estimated_value: Option<Decimal>,
    pub closing_date: Option<String>,
    pub procedure_type: Option<String>,
    pub category_code: Option<String>,
    pub purchase_category_code: Option<String>,
    /// The language of its documents (`fr` when none).
    pub language: Option<String>,
}

/// The procedure the seeded thresholds call for at an estimated value.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProcedureAdvice {
    /// `RFQ`, `RFP` or `DAO`.
    pub procedure_type: String,
    pub min_suppliers: i32,
    pub description_en: Option<String>,
    pub description_fr: Option<String>,
}

/// A created case with its reference.
#[derive(Clone, Debug)]
pub struct Created {
    pub case: cases::Model,
    pub reference: procurement_references::Model,
    pub procedure: Option<ProcedureAdvice>,
}

/// How many times a creation that lost a numbering race is retried.
const ATTEMPTS: u32 = 30;

/// Creates a case owned by `owner`, with the next reference of its type and
/// year, in one transaction (with an audit row).
pub async fn create_case(
    db: &DatabaseConnection,
    owner: &User,
    new: NewCase,
) -> Result<Created, Error> {
    if !owner.can_create_cases() {
        return Err(Refusal::ViewerCannotCreate.into());
    }
    let new = validate(db, new).await?;
    let procedure = match new.estimated_value {
        Some(value) => procedure_for(db, value).await?,
        None => None,
    };
    let mut attempt = 0;
    loop {
        attempt += 1;
        match try_create(db, owner, &new).await {
            Ok((case, reference)) => {
                return Ok(Created {
                    case,
                    reference,
                    procedure,
                });
            }
            Err(e) if attempt < ATTEMPTS && (e.is_unique_violation() || e.is_retryable()) => {
                // Another creation took this number first: the transaction
                // rolled back whole, so trying again leaves no gap.
                let jitter = rand::random::<u64>() % (5 * u64::from(attempt));
                tokio::time::sleep(Duration::from_millis(jitter)).await;
            }
            Err(e) => return Err(e),
        }
    }
}

/// The checked case, with its categories resolved to ids.
struct Checked {
    case_type: String,
    title: String,
    lot: Option<String>,
    estimated_value: Option<Decimal>,
    closing_date: Option<String>,
    procedure_type: Option<String>,
    category_id: Option<String>,
    purchase_category_id: Option<String>,
    language: String,
}

async fn validate(db: &impl ConnectionTrait, new: NewCase) -> Result<Checked, Error> {
    text::check(&text::CASE_TYPE, &new.case_type)?;
    text::check(&text::TITLE, new.title.trim())?;
    text::check_opt(&text::LOT, new.lot.as_deref())?;
    text::check_opt(&text::CLOSING_DATE, new.closing_date.as_deref())?;
    text::check_opt(&text::PROCEDURE_TYPE, new.procedure_type.as_deref())?;
    text::check_opt(&text::CATEGORY_CODE, new.category_code.as_deref())?;
    text::check_opt(
        &text::PURCHASE_CATEGORY_CODE,
        new.purchase_category_code.as_deref(),
    )?;
    let case_type = new.case_type.trim().to_uppercase();
    if !CASE_TYPES.contains(&case_type.as_str()) {
        return Err(Refusal::CaseType.into());
    }
    let title = new.title.trim().to_owned();
    if title.is_empty() {
        return Err(invalid_field("title", FieldRule::Required));
    }
    if let Some(value) = new.estimated_value
        && value.is_sign_negative()
    {
        return Err(invalid_field("estimated_value", FieldRule::Negative));
    }
    if let Some(value) = new.estimated_value
        && value >= Decimal::from(10_000_000_000_i64)
    {
        return Err(invalid_field("estimated_value", FieldRule::AmountTooLarge));
    }
    let closing_date = match new
        .closing_date
        .map(|d| d.trim().to_owned())
        .filter(|d| !d.is_empty())
    {
        Some(d) => Some(normalize_closing_date(&d)?),
        None => None,
    };
    let procedure_type = new.procedure_type.filter(|p| !p.trim().is_empty());
    if let Some(p) = &procedure_type
        && !PROCEDURE_TYPES.contains(&p.as_str())
    {
        return Err(invalid_field(
            "procedure_type",
            FieldRule::OneOf(PROCEDURE_TYPES.to_vec()),
        ));
    }
    let category_id = match new.category_code.filter(|c| !c.trim().is_empty()) {
        Some(code) => Some(
            procurement_categories::Entity::find()
                .filter(procurement_categories::Column::Code.eq(code.trim()))
                .one(db)
                .await?
                .ok_or_else(|| {
                    invalid_field("category_code", FieldRule::UnknownCategory(code.clone()))
                })?
                .id,
        ),
        None => None,
    };
    let purchase_category_id = match new.purchase_category_code.filter(|c| !c.trim().is_empty()) {
        Some(code) => Some(
            purchase_categories::Entity::find()
                .filter(purchase_categories::Column::Code.eq(code.trim()))
                .one(db)
                .await?
                .ok_or_else(|| {
                    invalid_field(
                        "purchase_category_code",
                        FieldRule::UnknownPurchaseCategory(code.clone()),
                    )
                })?
                .id,
        ),
        None => None,
    };
    let language = match new.language.as_deref().map(str::trim) {
        None | Some("") => DOCUMENT_LANGUAGES[0],
        Some(tag) => DOCUMENT_LANGUAGES
            .into_iter()
            .find(|l| *l == tag)
            .ok_or_else(|| {
                invalid_field("language", FieldRule::OneOf(DOCUMENT_LANGUAGES.to_vec()))
            })?,
    };
    Ok(Checked {
        language: language.to_owned(),
        case_type,
        title,
        lot: new.lot,
        estimated_value: new.estimated_value,
        closing_date,
        procedure_type,
        category_id,
        purchase_category_id,
    })
}

/// A closing date as stored: ISO-8601 naive UTC. A date alone closes at the
/// end of that day (UTC); an offset is converted to UTC (D-36: one time
/// zone everywhere).
fn normalize_closing_date(value: &str) -> Result<String, Error> {
    if let Ok(date) = chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        return Ok(format!("{date}T23:59:59"));
    }
    timestamp::parse(value)
        .map(|at| at.naive_utc().format("%Y-%m-%dT%H:%M:%S").to_string())
        .map_err(|_| invalid_field("closing_date", FieldRule::NotADate))
}

/// The procedure whose seeded threshold range holds `value` (USD).
pub async fn procedure_for(
    db: &impl ConnectionTrait,
    value: Decimal,
) -> Result<Option<ProcedureAdvice>, Error> {
    let thresholds = procurement_thresholds::Entity::find().all(db).await?;
    Ok(procedure_in(thresholds, value))
}

/// The procedure of `thresholds` (any order) whose range holds `value`.
pub(crate) fn procedure_in(
    mut thresholds: Vec<procurement_thresholds::Model>,
    value: Decimal,
) -> Option<ProcedureAdvice> {
    thresholds.sort_by_key(|t| (t.min_amount_usd, t.id));
    // Ranges are whole dollars (0-10000, 10001-100000, 100001-): a value
    // between two ranges (10000.50) belongs to the higher one, so the first
    // range whose maximum is not passed is the one.
    thresholds
        .into_iter()
        .find(|t| t.max_amount_usd.is_none_or(|max| value <= max))
        .map(|t| ProcedureAdvice {
            procedure_type: t.procedure_type,
            min_suppliers: t.min_suppliers,
            description_en: t.description_en,
            description_fr: t.description_fr,
        })
}

async fn try_create(
    db: &DatabaseConnection,
    owner: &User,
    new: &Checked,
) -> Result<(cases::Model, procurement_references::Model), Error> {
    let tx = db::begin_write(db).await?;
    let now = timestamp::now();
    let year = chrono::Utc::now().year();
    let case_id = uuid::Uuid::new_v4().to_string();
    let case = cases::ActiveModel {
        id: Set(case_id.clone()),
        case_type: Set(new.case_type.clone()),
        title: Set(new.title.clone()),
        lot: Set(new.lot.clone()),
        created_at: Set(now.clone()),
        status: Set(super::OPEN.into()),
        ref_id: Set(None),
        category_id: Set(new.category_id.clone()),
        purchase_category_id: Set(new.purchase_category_id.clone()),
        estimated_value: Set(new.estimated_value),
        closing_date: Set(new.closing_date.clone()),
        procedure_type: Set(new.procedure_type.clone()),
        owner_id: Set(Some(owner.id)),
        total_upload_size: Set(Some(0)),
        language: Set(new.language.clone()),
    }
    .insert(&tx)
    .await?;

    serialize_numbering(&tx, &new.case_type, year).await?;
    let last: Option<i32> = procurement_references::Entity::find()
        .select_only()
        .column_as(procurement_references::Column::Sequence.max(), "max")
        .filter(procurement_references::Column::RefType.eq(new.case_type.as_str()))
        .filter(procurement_references::Column::Year.eq(year))
        .into_tuple::<Option<i32>>()
        .one(&tx)
        .await?
        .flatten();
    let sequence = last.unwrap_or(0) + 1;
    let reference = procurement_references::ActiveModel {
        id: Set(uuid::Uuid::new_v4().to_string()),
        case_id: Set(case_id.clone()),
        ref_type: Set(new.case_type.clone()),
        ref_number: Set(format!("{}-{year}-{sequence:04}", new.case_type)),
        year: Set(year),
        sequence: Set(sequence),
        created_at: Set(now),
        created_by: Set(Some(owner.id)),
    }
    .insert(&tx)
    .await?;
    let case = cases::ActiveModel {
        id: Set(case_id.clone()),
        ref_id: Set(Some(reference.id.clone())),
        ..Default::default()
    }
    .update(&tx)
    .await
    .map(|_| cases::Model {
        ref_id: Some(reference.id.clone()),
        ..case
    })?;
    audit::record(
        &tx,
        &case_id,
        owner.id,
        "case_created",
        serde_json::json!({"case_type": case.case_type, "title": case.title, "ref_number": reference.ref_number}),
    )
    .await?;
    crate::ledger::record_global(
        &tx,
        Some(owner.id),
        "case_created",
        serde_json::json!({"case_id": case_id}),
    )
    .await?;
    tx.commit().await?;
    Ok((case, reference))
}

/// Makes concurrent creations of one type and year take their numbers one
/// after the other where the database offers a lock for it (PostgreSQL: a
/// transaction-scoped advisory lock). Elsewhere the unique constraint on
/// (ref_type, year, sequence) turns a lost race into a retry: SQLite's write
/// transactions are serial anyway, MariaDB's deadlock detection aborts one.
async fn serialize_numbering(
    tx: &impl ConnectionTrait,
    ref_type: &str,
    year: i32,
) -> Result<(), Error> {
    if tx.get_database_backend() == DbBackend::Postgres {
        tx.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock(hashtext($1))",
            [format!("dms_reference:{ref_type}:{year}").into()],
        ))
        .await?;
    }
    Ok(())
}
