//! What a case's entry records of the case: the digest (SHA-256 of the
//! canonical row) of each of its rows in the tables the decision memory
//! rests on, keyed `<table>/<id>`, and the SHA-256 of each stored file,
//! keyed `file/<artifact id>` (as recorded on receipt, or `missing`).

use entity::{
    analyses, artifacts, case_declarations, case_members, case_openings, cases, lots,
    memory_entries,
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde::Serialize;
use serde_json::{Map, Value};

use super::canonical::{encode, sha256_hex};
use crate::Error;
use crate::artifact_meta::ArtifactMeta;
use crate::storage::Storage;

/// The value recorded for a file that was not there.
pub const MISSING: &str = "missing";

/// A case's rows as the ledger sees them, and its artifacts (for files).
pub struct CaseRows {
    pub rows: Map<String, Value>,
    pub artifacts: Vec<artifacts::Model>,
}

fn digest<T: Serialize>(row: &T) -> Value {
    let value = serde_json::to_value(row).unwrap_or(Value::Null);
    Value::from(sha256_hex(encode(&value).as_bytes()))
}

/// The digests of every row of case `case_id` the ledger covers.
pub async fn rows(db: &impl ConnectionTrait, case_id: &str) -> Result<CaseRows, Error> {
    let mut rows = Map::new();
    if let Some(case) = cases::Entity::find_by_id(case_id).one(db).await? {
        rows.insert(format!("cases/{}", case.id), digest(&case));
    }
    macro_rules! of_case {
        ($entity:ident, $key:expr) => {
            for row in $entity::Entity::find()
                .filter($entity::Column::CaseId.eq(case_id))
                .all(db)
                .await?
            {
                rows.insert(
                    format!("{}/{}", stringify!($entity), $key(&row)),
                    digest(&row),
                );
            }
        };
    }
    of_case!(lots, |r: &lots::Model| r.id.clone());
    of_case!(memory_entries, |r: &memory_entries::Model| r.id.clone());
    of_case!(analyses, |r: &analyses::Model| r.id.clone());
    of_case!(case_members, |r: &case_members::Model| r.user_id);
    of_case!(case_declarations, |r: &case_declarations::Model| r
        .id
        .clone());
    of_case!(case_openings, |r: &case_openings::Model| r.case_id.clone());
    let artifacts = artifacts::Entity::find()
        .filter(artifacts::Column::CaseId.eq(case_id))
        .all(db)
        .await?;
    for a in &artifacts {
        rows.insert(format!("artifacts/{}", a.id), digest(a));
    }
    Ok(CaseRows { rows, artifacts })
}

/// The state an entry records: the rows, and each file's SHA-256 as
/// recorded on receipt; a file recorded before (at adoption) keeps the
/// value `previous` gave it, a file never recorded is read from `data`.
pub async fn state(
    db: &impl ConnectionTrait,
    data: Option<&Storage>,
    case_id: &str,
    previous: Option<&Map<String, Value>>,
) -> Result<Map<String, Value>, Error> {
    let CaseRows {
        mut rows,
        artifacts,
    } = rows(db, case_id).await?;
    for a in &artifacts {
        let key = format!("file/{}", a.id);
        let recorded = ArtifactMeta::or_empty(a)
            .hash
            .map(Value::from)
            .or_else(|| previous.and_then(|p| p.get(&key).cloned()));
        let value = match (recorded, data) {
            (Some(v), _) => v,
            (None, Some(data)) => Value::from(file_hash(data, a).await),
            (None, None) => Value::from(MISSING),
        };
        rows.insert(key, value);
    }
    Ok(rows)
}

/// The SHA-256 of `artifact`'s stored file now, or [`MISSING`].
pub async fn file_hash(data: &Storage, artifact: &artifacts::Model) -> String {
    use futures_util::StreamExt;
    use sha2::{Digest, Sha256};
    let Ok(Some(mut file)) = data.open(&artifact.path).await else {
        return MISSING.to_owned();
    };
    // Streamed: a stored file is never held whole to be hashed.
    let mut hasher = Sha256::new();
    while let Some(chunk) = file.content.next().await {
        match chunk {
            Ok(bytes) => hasher.update(&bytes),
            Err(_) => return MISSING.to_owned(),
        }
    }
    hex::encode(hasher.finalize())
}
