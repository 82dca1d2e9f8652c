//! Files a crash left behind: under `uploads/` and `outputs/`, those no
//! artifact names are removed at start.

use entity::artifacts;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::Error;
use crate::storage::DataDir;

/// Removes files under `uploads/` and `outputs/` that no artifact names:
/// what a crash between moving a file and committing its row left.
pub async fn sweep_orphans(db: &impl ConnectionTrait, data: &DataDir) -> Result<usize, Error> {
    let mut removed = 0;
    for area in ["uploads", "outputs"] {
        let dir = data.root().join(area);
        let Ok(cases) = std::fs::read_dir(&dir) else {
            continue;
        };
        for case_dir in cases.flatten() {
            let case_id = case_dir.file_name().to_string_lossy().into_owned();
            let Ok(files) = std::fs::read_dir(case_dir.path()) else {
                continue;
            };
            let files: Vec<_> = files.flatten().collect();
            if files.is_empty() {
                continue;
            }
            let known: std::collections::HashSet<String> = artifacts::Entity::find()
                .select_only()
                .column(artifacts::Column::Path)
                .filter(artifacts::Column::CaseId.eq(case_id.as_str()))
                .into_tuple::<String>()
                .all(db)
                .await?
                .into_iter()
                .map(|p| data.display(&p))
                .collect();
            for file in files {
                let rel = format!("{area}/{case_id}/{}", file.file_name().to_string_lossy());
                if !known.contains(&rel) && std::fs::remove_file(file.path()).is_ok() {
                    tracing::warn!(file = %rel, "removed a file no artifact names (left by an interrupted request)");
                    removed += 1;
                }
            }
        }
    }
    Ok(removed)
}
