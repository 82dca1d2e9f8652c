//! The decision memory of a case: its entries (extractions, decisions),
//! listed newest first, searched by value, and the committee's decision.

use entity::memory_entries;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::Serialize;
use serde_json::Value;

use crate::auth::{User, invalid_field};
use crate::{Error, audit, db, timestamp};

/// An entry as the API shows it: the stored row plus its parsed content.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Entry {
    pub id: String,
    pub case_id: String,
    pub entry_type: String,
    pub content_json: String,
    pub created_at: String,
    pub content: Value,
}

impl From<memory_entries::Model> for Entry {
    fn from(row: memory_entries::Model) -> Self {
        // A row written by hand with invalid JSON still lists (content null).
        let content = serde_json::from_str(&row.content_json).unwrap_or(Value::Null);
        Entry {
            id: row.id,
            case_id: row.case_id,
            entry_type: row.entry_type,
            content_json: row.content_json,
            created_at: row.created_at,
            content,
        }
    }
}

/// A page of entries and how many the case holds.
#[derive(Clone, Debug)]
pub struct Page {
    pub entries: Vec<Entry>,
    pub total: u64,
}

/// Entries of case `case_id`, newest first (404 for an unknown case).
pub async fn list(
    db: &impl ConnectionTrait,
    case_id: &str,
    limit: u64,
    offset: u64,
) -> Result<Page, Error> {
    crate::cases::find(db, case_id).await?;
    let query = memory_entries::Entity::find().filter(memory_entries::Column::CaseId.eq(case_id));
    let total = query.clone().count(db).await?;
    let entries = query
        .order_by_desc(memory_entries::Column::CreatedAt)
        .order_by_desc(memory_entries::Column::Id)
        .limit(limit)
        .offset(offset)
        .all(db)
        .await?
        .into_iter()
        .map(Entry::from)
        .collect();
    Ok(Page { entries, total })
}

/// Entries of case `case_id` (newest first) with a value that contains `q`,
/// ignoring case. Only values are matched, never the JSON keys or
/// punctuation: `q=supplier` does not match every extraction entry.
pub async fn search(
    db: &impl ConnectionTrait,
    case_id: &str,
    q: &str,
) -> Result<Vec<Entry>, Error> {
    crate::cases::find(db, case_id).await?;
    let needle = q.trim().to_lowercase();
    if needle.is_empty() {
        return Ok(Vec::new());
    }
    let rows = memory_entries::Entity::find()
        .filter(memory_entries::Column::CaseId.eq(case_id))
        .order_by_desc(memory_entries::Column::CreatedAt)
        .order_by_desc(memory_entries::Column::Id)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(Entry::from)
        .filter(|e| value_contains(&e.content, &needle))
        .collect())
}

/// Whether a string or number anywhere in `value` contains `needle`
/// (lower-case).
fn value_contains(value: &Value, needle: &str) -> bool {
    match value {
        Value::String(s) => s.to_lowercase().contains(needle),
        Value::Number(n) => n.to_string().contains(needle),
        Value::Bool(b) => b.to_string() == needle,
        Value::Array(items) => items.iter().any(|v| value_contains(v, needle)),
        Value::Object(map) => map.values().any(|v| value_contains(v, needle)),
        Value::Null => false,
    }
}

/// The committee's decision on a case.
#[derive(Clone, Debug)]
pub struct Decision {
    pub chosen_supplier: String,
    pub decision_reason: String,
    pub next_action: String,
}

/// Records `decision` on case `case_id` as a `decision` memory entry (with
/// its audit row) and returns the stored content. `check_supplier` may
/// refuse the supplier (the analysis knows which ones were analysed).
pub async fn record_decision(
    db: &DatabaseConnection,
    user: &User,
    case_id: &str,
    decision: Decision,
) -> Result<(memory_entries::Model, Value), Error> {
    let decision = Decision {
        chosen_supplier: decision.chosen_supplier.trim().to_owned(),
        decision_reason: decision.decision_reason.trim().to_owned(),
        next_action: decision.next_action.trim().to_owned(),
    };
    for (field, value) in [
        ("chosen_supplier", &decision.chosen_supplier),
        ("decision_reason", &decision.decision_reason),
        ("next_action", &decision.next_action),
    ] {
        if value.is_empty() {
            return Err(invalid_field(field, format!("{field} must not be empty")));
        }
        if value.chars().count() > 5000 {
            return Err(invalid_field(
                field,
                format!("{field} is longer than 5000 characters"),
            ));
        }
    }
    let tx = db::begin_write(db).await?;
    let case = crate::cases::lock(&tx, case_id).await?;
    user.check_can_write(case.owner_id)?;
    let content = serde_json::json!({
        "chosen_supplier": decision.chosen_supplier,
        "decision_reason": decision.decision_reason,
        "next_action": decision.next_action,
        "decided_at": timestamp::now(),
        "decided_by": user.id,
        "human_final": true,
    });
    let entry = memory_entries::ActiveModel {
        id: Set(uuid::Uuid::new_v4().to_string()),
        case_id: Set(case_id.to_owned()),
        entry_type: Set("decision".into()),
        content_json: Set(content.to_string()),
        created_at: Set(timestamp::now()),
    }
    .insert(&tx)
    .await?;
    audit::record(&tx, case_id, user.id, "decision_recorded", content.clone()).await?;
    tx.commit().await?;
    Ok((entry, content))
}
