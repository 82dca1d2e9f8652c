//! Lots of a case (production validated `lot_id` on offers but never let
//! anyone create a lot).

use entity::{lots, procurement_categories};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
};

use crate::auth::User;
use crate::error::{FieldRule, Refusal, invalid_field};
use crate::{Error, audit, db, text, timestamp};

/// What a client sends to create a lot.
#[derive(Clone, Debug, Default)]
pub struct NewLot {
    pub lot_number: String,
    pub description: Option<String>,
    pub estimated_value: Option<f32>,
    pub category_code: Option<String>,
}

/// Creates a lot of case `case_id`. Lot numbers are unique within a case
/// (409), also under concurrent creation: the case row is locked first.
pub async fn create_lot(
    db: &DatabaseConnection,
    user: &User,
    case_id: &str,
    new: NewLot,
) -> Result<lots::Model, Error> {
    text::check(&text::LOT_NUMBER, &new.lot_number)?;
    text::check_opt(&text::LOT_DESCRIPTION, new.description.as_deref())?;
    text::check_opt(&text::CATEGORY_CODE, new.category_code.as_deref())?;
    let lot_number = new.lot_number.trim().to_owned();
    if lot_number.is_empty() || lot_number.chars().count() > 100 {
        return Err(invalid_field(
            "lot_number",
            FieldRule::Length { min: 1, max: 100 },
        ));
    }
    if new
        .estimated_value
        .is_some_and(|v| !v.is_finite() || v < 0.0)
    {
        return Err(invalid_field("estimated_value", FieldRule::NotNonNegative));
    }
    let tx = db::begin_write(db).await?;
    let (_, access) = crate::committee::locked(&tx, user, case_id).await?;
    access.check_manage()?;
    let category_id = match new.category_code.filter(|c| !c.trim().is_empty()) {
        Some(code) => Some(
            procurement_categories::Entity::find()
                .filter(procurement_categories::Column::Code.eq(code.trim()))
                .one(&tx)
                .await?
                .ok_or_else(|| {
                    invalid_field("category_code", FieldRule::UnknownCategory(code.clone()))
                })?
                .id,
        ),
        None => None,
    };
    let taken = lots::Entity::find()
        .filter(lots::Column::CaseId.eq(case_id))
        .filter(lots::Column::LotNumber.eq(lot_number.as_str()))
        .one(&tx)
        .await?;
    if taken.is_some() {
        return Err(Refusal::LotTaken { lot_number }.into());
    }
    let lot = lots::ActiveModel {
        id: Set(uuid::Uuid::new_v4().to_string()),
        case_id: Set(case_id.to_owned()),
        lot_number: Set(lot_number),
        description: Set(new.description),
        estimated_value: Set(new.estimated_value),
        created_at: Set(timestamp::now()),
        category_id: Set(category_id),
    }
    .insert(&tx)
    .await?;
    audit::record(
        &tx,
        case_id,
        user.id,
        "lot_created",
        serde_json::json!({"lot_id": lot.id, "lot_number": lot.lot_number}),
    )
    .await?;
    tx.commit().await?;
    Ok(lot)
}
