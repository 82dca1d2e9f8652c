//! The audit trail: one `audits` row for every write to a case, in the
//! transaction of the write itself.

use entity::audits;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait};

use crate::{Error, timestamp};

/// Records that `user_id` did `action` on case `case_id`; `new_value` is a
/// JSON description of what was written.
pub async fn record(
    db: &impl ConnectionTrait,
    case_id: &str,
    user_id: i32,
    action: &str,
    new_value: serde_json::Value,
) -> Result<(), Error> {
    audits::ActiveModel {
        id: Set(uuid::Uuid::new_v4().to_string()),
        case_id: Set(case_id.to_owned()),
        user_id: Set(Some(user_id.to_string())),
        action: Set(action.to_owned()),
        old_value: Set(None),
        new_value: Set(Some(new_value.to_string())),
        created_at: Set(timestamp::now()),
    }
    .insert(db)
    .await?;
    // Every write on a case is audited in its transaction: the ledger
    // records it there, with the case's state after it.
    crate::ledger::record_case(db, Some(user_id), case_id, action, new_value).await?;
    Ok(())
}
