//! Files a crash left behind: stored files that no artifact names, and (in
//! a bucket) staging objects, once they are old enough that no request can
//! still be writing them.

use std::collections::HashSet;
use std::time::SystemTime;

use entity::artifacts;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::Error;
use crate::storage::{ORPHAN_AGE, Storage};

/// Removes the files under `uploads/` and `outputs/` that no artifact names
/// and the staging objects under `tmp/`, all older than [`ORPHAN_AGE`]:
/// what a crash between naming a file and committing its row left. A
/// younger file may be another instance's upload about to commit, so it
/// stays (safe while several servers share the storage).
pub async fn sweep_orphans(db: &impl ConnectionTrait, data: &Storage) -> Result<usize, Error> {
    let cutoff = SystemTime::now() - ORPHAN_AGE;
    let mut removed = 0;
    for area in ["uploads", "outputs", "tmp"] {
        if area == "tmp" && data.bucket().is_none() {
            // The data directory's tmp/ is cleared when it is opened.
            continue;
        }
        let old: Vec<String> = data
            .list(area)
            .await?
            .into_iter()
            .filter(|(_, modified)| *modified < cutoff)
            .map(|(stored, _)| stored)
            .collect();
        let mut known_cases: HashSet<String> = HashSet::new();
        let mut known: HashSet<String> = HashSet::new();
        for stored in old {
            if area != "tmp" {
                let case_id = stored.split('/').nth(1).unwrap_or_default().to_owned();
                if known_cases.insert(case_id.clone()) {
                    known.extend(
                        artifacts::Entity::find()
                            .select_only()
                            .column(artifacts::Column::Path)
                            .filter(artifacts::Column::CaseId.eq(case_id.as_str()))
                            .into_tuple::<String>()
                            .all(db)
                            .await?
                            .into_iter()
                            .map(|p| data.display(&p)),
                    );
                }
                if known.contains(&stored) {
                    continue;
                }
            }
            data.remove(&stored).await;
            tracing::warn!(file = %stored, "removed a file no artifact names (left by an interrupted request)");
            removed += 1;
        }
    }
    Ok(removed)
}
