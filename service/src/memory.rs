//! The decision memory of a case: its entries (extractions, decisions),
//! listed newest first and searched by value.

use entity::memory_entries;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::Serialize;
use serde_json::Value;

use crate::Error;

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
    user: &crate::auth::User,
    case_id: &str,
    limit: u64,
    offset: u64,
) -> Result<Page, Error> {
    let offset = crate::paging::check_offset("offset", Some(offset))?;
    crate::committee::visible(db, user, case_id).await?;
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
    user: &crate::auth::User,
    case_id: &str,
    q: &str,
) -> Result<Vec<Entry>, Error> {
    crate::text::check(&crate::text::SEARCH, q)?;
    crate::committee::visible(db, user, case_id).await?;
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

/// The committee's decision on a case (recorded by
/// [`crate::analysis::decide`], which checks it against the analysis).
#[derive(Clone, Debug)]
pub struct Decision {
    pub chosen_supplier: String,
    pub decision_reason: String,
    pub next_action: String,
}
