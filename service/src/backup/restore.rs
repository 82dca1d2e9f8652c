//! `dms restore`: a backup put back as the configured SQLite file and data
//! directory.
//!
//! In this order, so that a refusal writes nothing: the manifest is read,
//! the targets are checked (a database or data directory that holds
//! anything is replaced only with `force`), every hash is checked. Then the
//! files and the database are copied beside their targets (hashed again as
//! they are copied) and renamed into place, the data directory first and
//! the database last: the database's rename is the moment the restore
//! takes effect. The server must be stopped while it runs.

use std::path::{Path, PathBuf};

use sea_orm::DbBackend;

use super::Error;
use super::files::{
    copy_hashed, create_private_dir_all, holds_files, parent_of, sibling, sync_dir,
};
use super::manifest::{self, DatabaseSnapshot, FILES_DIR, Manifest, compare, file_in};
use super::take::kind_of;

/// What to restore, and where to.
#[derive(Clone, Debug)]
pub struct RestoreOptions {
    pub database_url: String,
    pub data_dir: PathBuf,
    pub src: PathBuf,
    /// Replace a database or data directory that is not empty.
    pub force: bool,
}

/// What a restore put back.
#[derive(Clone, Debug)]
pub struct Restored {
    pub manifest: Manifest,
    /// The SQLite file written, `None` for a `--files-only` backup.
    pub database: Option<PathBuf>,
    pub data_dir: PathBuf,
}

/// Restores as `options` say; see the module's documentation.
pub async fn restore(options: RestoreOptions) -> Result<Restored, Error> {
    tokio::task::spawn_blocking(move || restore_blocking(&options))
        .await
        .map_err(|e| Error::Database(format!("the restore stopped: {e}")))?
}

fn restore_blocking(options: &RestoreOptions) -> Result<Restored, Error> {
    let manifest = manifest::read(&options.src)?;
    let database = match &manifest.database {
        Some(_) => Some(target_file(&options.database_url)?),
        None => None,
    };
    if !options.force {
        if let Some(path) = &database
            && std::fs::metadata(path).is_ok_and(|m| m.len() > 0)
        {
            return Err(Error::TargetNotEmpty {
                what: "the database",
                path: path.clone(),
            });
        }
        if holds_files(&options.data_dir)? {
            return Err(Error::TargetNotEmpty {
                what: "the data directory",
                path: options.data_dir.clone(),
            });
        }
    }
    let manifest = manifest::verify(&options.src)?;

    let staged = sibling(&options.data_dir, "restore");
    if let Err(e) = stage_files(&options.src, &manifest, &staged) {
        let _ = std::fs::remove_dir_all(&staged);
        return Err(e);
    }
    let staged_db = match (&database, &manifest.database) {
        (Some(path), Some(snapshot)) => match stage_database(&options.src, snapshot, path) {
            Ok(staged_db) => Some((staged_db, path)),
            Err(e) => {
                let _ = std::fs::remove_dir_all(&staged);
                return Err(e);
            }
        },
        _ => None,
    };
    if let Err(e) = put_in_place(&staged, &options.data_dir) {
        let _ = std::fs::remove_dir_all(&staged);
        if let Some((staged_db, _)) = &staged_db {
            let _ = std::fs::remove_file(staged_db);
        }
        return Err(e);
    }
    if let Some((staged_db, path)) = staged_db {
        replace_database(&staged_db, path)?;
    }
    Ok(Restored {
        manifest,
        database,
        data_dir: options.data_dir.clone(),
    })
}

/// The SQLite file of `url`; a backup with a database restores nowhere else.
fn target_file(url: &str) -> Result<PathBuf, Error> {
    let url = migration::runner::normalize_url(url).map_err(|e| Error::Database(e.to_string()))?;
    match kind_of(&url)? {
        (DbBackend::Sqlite, _) => migration::lock::sqlite_path(&url).ok_or_else(|| {
            Error::Database("DATABASE_URL names an in-memory database (name a file)".into())
        }),
        (_, kind) => Err(Error::NotSqliteTarget { kind }),
    }
}

/// Copies the manifest's files into the new directory `staged`, checking
/// each hash again as it is copied.
fn stage_files(src: &Path, manifest: &Manifest, staged: &Path) -> Result<(), Error> {
    create_private_dir_all(staged)?;
    for entry in &manifest.files {
        let to = staged.join(&entry.path);
        if let Some(parent) = to.parent() {
            create_private_dir_all(parent)?;
        }
        let what = format!("{FILES_DIR}/{}", entry.path);
        let copied = copy_hashed(&file_in(src, entry), &to)
            .map_err(|e| Error::io(format!("copying {what}"), e))?;
        compare(
            &what,
            entry.size,
            &entry.sha256,
            copied.size,
            &copied.sha256,
        )?;
    }
    sync_dir(staged);
    Ok(())
}

/// Copies the snapshot beside `target`, checking its hash again.
fn stage_database(
    src: &Path,
    snapshot: &DatabaseSnapshot,
    target: &Path,
) -> Result<PathBuf, Error> {
    let staged = sibling(target, "restore");
    create_private_dir_all(&parent_of(target))?;
    let copied = copy_hashed(&src.join(&snapshot.file), &staged)
        .map_err(|e| Error::io(format!("copying {}", snapshot.file), e));
    let checked = copied.and_then(|copied| {
        compare(
            &snapshot.file,
            snapshot.size,
            &snapshot.sha256,
            copied.size,
            &copied.sha256,
        )
    });
    match checked {
        Ok(()) => Ok(staged),
        Err(e) => {
            let _ = std::fs::remove_file(&staged);
            Err(e)
        }
    }
}

/// Renames the staged directory to `target`, the old one (if any) first
/// moved aside and then removed.
fn put_in_place(staged: &Path, target: &Path) -> Result<(), Error> {
    let aside = sibling(target, "replaced");
    let had_target = target.exists();
    if had_target {
        std::fs::rename(target, &aside)
            .map_err(|e| Error::io(format!("moving {} aside", target.display()), e))?;
    }
    if let Err(e) = std::fs::rename(staged, target) {
        if had_target {
            let _ = std::fs::rename(&aside, target);
        }
        return Err(Error::io(
            format!("moving the files to {}", target.display()),
            e,
        ));
    }
    sync_dir(&parent_of(target));
    if had_target {
        std::fs::remove_dir_all(&aside)
            .map_err(|e| Error::io(format!("removing the replaced {}", aside.display()), e))?;
    }
    Ok(())
}

/// Renames the staged snapshot over `target`. The target's WAL and shared
/// memory belong to the database being replaced: left there, SQLite would
/// apply them to the restored file.
fn replace_database(staged: &Path, target: &Path) -> Result<(), Error> {
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut companion = target.as_os_str().to_owned();
        companion.push(suffix);
        match std::fs::remove_file(&companion) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(Error::io(
                    format!("removing {}", Path::new(&companion).display()),
                    e,
                ));
            }
        }
    }
    std::fs::rename(staged, target)
        .map_err(|e| Error::io(format!("moving the database to {}", target.display()), e))?;
    sync_dir(&parent_of(target));
    Ok(())
}
