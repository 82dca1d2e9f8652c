//! `dms backup`: a consistent copy of the database and of every stored file
//! it names, taken while the server runs.
//!
//! On SQLite the database is first copied with `VACUUM INTO` (one read
//! transaction: writers go on, the copy is the database at one instant);
//! the stored paths are then read from that copy, not from the live
//! database, so the files copied are exactly those the snapshot names. A
//! file is moved into place before the row naming it commits (see
//! `storage.rs`), so every file a committed row names exists; one uploaded
//! after the snapshot is simply not needed. Everything is written into a
//! hidden sibling directory and renamed to DEST at the end: a crash leaves
//! no directory that looks like a complete backup.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use entity::{artifacts, documents};
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QuerySelect, SqlxSqliteConnector,
    Statement,
};

use super::files::{
    absent_or_empty_dir, copy_hashed, create_private_dir_all, hash_file, make_private, parent_of,
    sibling, stored_relative, sync_dir,
};
use super::manifest::{
    self, DATABASE_FILE, DatabaseSnapshot, FILES_DIR, FORMAT, FORMAT_VERSION, FileEntry, Manifest,
    MissingFile, MissingReason,
};
use super::{Error, ledger_heads};

/// What to back up, and where to.
#[derive(Clone, Debug)]
pub struct BackupOptions {
    pub database_url: String,
    pub data_dir: PathBuf,
    pub dest: PathBuf,
    /// Copy the stored files only (PostgreSQL and MariaDB, whose database
    /// is dumped by their own tools).
    pub files_only: bool,
}

/// A backup written to `dest`.
#[derive(Clone, Debug)]
pub struct Backup {
    pub dest: PathBuf,
    pub manifest: Manifest,
}

impl Backup {
    /// The error the CLI ends with when the database named files that were
    /// not there (the backup is written, and its manifest lists them).
    pub fn incomplete(&self) -> Option<Error> {
        let first = self.manifest.missing.first()?;
        Some(Error::MissingFiles {
            count: self.manifest.missing.len(),
            first: first.path.clone(),
            manifest: self.dest.join(manifest::MANIFEST_FILE),
        })
    }
}

/// The kind of database a URL names, as the manifest and messages say it.
pub(crate) fn kind_of(url: &str) -> Result<(DbBackend, &'static str), Error> {
    let backend = migration::runner::backend_of(url).map_err(|e| Error::Database(e.to_string()))?;
    Ok(match backend {
        DbBackend::Postgres => (backend, "postgres"),
        DbBackend::MySql => (backend, "mysql"),
        _ => (backend, "sqlite"),
    })
}

/// Takes a backup as `options` say; see the module's documentation.
pub async fn backup(options: &BackupOptions) -> Result<Backup, Error> {
    let url = migration::runner::normalize_url(&options.database_url)
        .map_err(|e| Error::Database(e.to_string()))?;
    let (backend, kind) = kind_of(&url)?;
    if backend != DbBackend::Sqlite && !options.files_only {
        return Err(Error::ServerDatabase {
            kind: if backend == DbBackend::Postgres {
                "PostgreSQL"
            } else {
                "MariaDB/MySQL"
            },
            tool: if backend == DbBackend::Postgres {
                "pg_dump"
            } else {
                "mariadb-dump"
            },
        });
    }
    if !absent_or_empty_dir(&options.dest)? {
        return Err(Error::DestinationNotEmpty {
            path: options.dest.clone(),
        });
    }
    let staging = sibling(&options.dest, "partial");
    create_private_dir_all(&staging)?;
    let manifest = match fill(&url, kind, options, &staging).await {
        Ok(manifest) => manifest,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(e);
        }
    };
    // An empty DEST (made by the operator) is replaced by the rename.
    if let Err(e) = std::fs::rename(&staging, &options.dest) {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(Error::io(
            format!("moving the backup to {}", options.dest.display()),
            e,
        ));
    }
    sync_dir(&parent_of(&options.dest));
    Ok(Backup {
        dest: options.dest.clone(),
        manifest,
    })
}

/// Writes the snapshot, the files and the manifest into `staging`.
async fn fill(
    url: &str,
    kind: &'static str,
    options: &BackupOptions,
    staging: &Path,
) -> Result<Manifest, Error> {
    let created_at = crate::timestamp::now();
    let (database, paths, heads) = if options.files_only {
        let live = connect_existing(url).await?;
        let read = read_snapshot(&live).await;
        live.close().await.ok();
        let (paths, heads) = read?;
        (None, paths, heads)
    } else {
        let snapshot = staging.join(DATABASE_FILE);
        vacuum_into(url, &snapshot).await?;
        make_private(&snapshot)?;
        let copy = open_read_only(&snapshot).await?;
        let read = read_snapshot(&copy).await;
        copy.close().await.ok();
        let (paths, heads) = read?;
        let hashed = hash_file(&snapshot)
            .map_err(|e| Error::io(format!("reading {}", snapshot.display()), e))?;
        let database = DatabaseSnapshot {
            file: DATABASE_FILE.to_owned(),
            size: hashed.size,
            sha256: hashed.sha256,
        };
        (Some(database), paths, heads)
    };
    let data_dir = options.data_dir.clone();
    let target = staging.join(FILES_DIR);
    let (files, missing) =
        tokio::task::spawn_blocking(move || copy_files(&data_dir, &target, &paths))
            .await
            .map_err(|e| Error::Database(format!("the copy stopped: {e}")))??;
    let manifest = Manifest {
        format: FORMAT.to_owned(),
        format_version: FORMAT_VERSION,
        created_at,
        source_database: kind.to_owned(),
        database,
        files,
        missing,
        ledger_heads: heads,
    };
    manifest::write(staging, &manifest)?;
    sync_dir(staging);
    Ok(manifest)
}

/// Opens the database at `url`, refusing to create a SQLite file that is
/// not there (a backup of nothing would look like a backup).
async fn connect_existing(url: &str) -> Result<DatabaseConnection, Error> {
    if let Some(path) = migration::lock::sqlite_path(url)
        && !path.is_file()
    {
        return Err(Error::NoDatabase { path });
    }
    Ok(crate::db::connect(url, Duration::from_secs(30)).await?)
}

/// Copies the live SQLite database at `url` into the new file `snapshot`.
async fn vacuum_into(url: &str, snapshot: &Path) -> Result<(), Error> {
    let live = connect_existing(url).await?;
    let done = live
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "VACUUM INTO ?",
            [snapshot.to_string_lossy().into_owned().into()],
        ))
        .await;
    live.close().await.ok();
    done?;
    Ok(())
}

/// The snapshot, opened read-only (nothing is written beside it).
async fn open_read_only(path: &Path) -> Result<DatabaseConnection, Error> {
    let options = SqliteConnectOptions::new().filename(path).read_only(true);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .map_err(|e| Error::Database(format!("cannot open the snapshot: {e}")))?;
    Ok(SqlxSqliteConnector::from_sqlx_sqlite_pool(pool))
}

/// The stored paths the database names (once each, sorted), and the
/// ledger heads.
async fn read_snapshot(
    db: &DatabaseConnection,
) -> Result<(BTreeSet<String>, Option<serde_json::Value>), Error> {
    let mut paths: BTreeSet<String> = artifacts::Entity::find()
        .select_only()
        .column(artifacts::Column::Path)
        .into_tuple::<String>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    paths.extend(
        documents::Entity::find()
            .select_only()
            .column(documents::Column::Path)
            .into_tuple::<String>()
            .all(db)
            .await?,
    );
    let heads = ledger_heads(db).await?;
    Ok((paths, heads))
}

/// Copies every stored file of `paths` from the data directory into
/// `target`, hashing each; the ones not found are returned apart.
fn copy_files(
    data_dir: &Path,
    target: &Path,
    paths: &BTreeSet<String>,
) -> Result<(Vec<FileEntry>, Vec<MissingFile>), Error> {
    // Absolute stored paths are compared with the resolved directory.
    let root = std::fs::canonicalize(data_dir).unwrap_or_else(|_| data_dir.to_owned());
    create_private_dir_all(target)?;
    let mut files = Vec::with_capacity(paths.len());
    let mut missing = Vec::new();
    let mut seen = BTreeSet::new();
    for stored in paths {
        let Some(relative) = stored_relative(&root, stored) else {
            missing.push(MissingFile {
                path: stored.clone(),
                reason: MissingReason::OutsideDataDir,
            });
            continue;
        };
        // A legacy absolute path and its relative form are one file.
        if !seen.insert(relative.clone()) {
            continue;
        }
        let to = target.join(&relative);
        if let Some(parent) = to.parent() {
            create_private_dir_all(parent)?;
        }
        match copy_hashed(&root.join(&relative), &to) {
            Ok(hashed) => files.push(FileEntry {
                path: relative.to_string_lossy().into_owned(),
                size: hashed.size,
                sha256: hashed.sha256,
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => missing.push(MissingFile {
                path: stored.clone(),
                reason: MissingReason::NotFound,
            }),
            Err(e) => return Err(Error::io(format!("copying {stored}"), e)),
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok((files, missing))
}
