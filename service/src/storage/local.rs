//! The local backend: the data directory.
//!
//! Layout under `DMS_DATA_DIR` (absolute, resolved once at start):
//! `uploads/<case_id>/<kind>_<uuid>.<ext>` for uploads, `outputs/<case_id>/`
//! for generated documents, `tmp/` for bodies being received and copies
//! being read. Stored paths (`artifacts.path`) are relative to it (D-25).
//! With a bucket configured, only `tmp/` and the key file are used.

use std::path::{Component, Path, PathBuf};
use std::time::SystemTime;

use tokio::io::AsyncWriteExt;

use crate::Error;

/// The data directory, absolute.
#[derive(Clone, Debug)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    /// Creates (if needed) and resolves `path`, and clears its `tmp/` of
    /// what requests a crash interrupted left there.
    pub fn open(path: &Path) -> Result<Self, Error> {
        let new = !path.exists();
        std::fs::create_dir_all(path)
            .map_err(|e| Error::io(format!("creating the data directory {}", path.display()), e))?;
        // Offers are confidential: a directory the server makes is its
        // owner's only (an existing one keeps the mode its owner gave it).
        #[cfg(unix)]
        if new {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700)).map_err(
                |e| {
                    Error::io(
                        format!("restricting the data directory {}", path.display()),
                        e,
                    )
                },
            )?;
        }
        let root = std::fs::canonicalize(path).map_err(|e| {
            Error::io(
                format!("resolving the data directory {}", path.display()),
                e,
            )
        })?;
        let dir = DataDir { root };
        for sub in ["uploads", "outputs"] {
            std::fs::create_dir_all(dir.root.join(sub))
                .map_err(|e| Error::io(format!("creating {}", dir.root.join(sub).display()), e))?;
        }
        let tmp = dir.tmp_dir();
        std::fs::create_dir_all(&tmp)
            .map_err(|e| Error::io(format!("creating {}", tmp.display()), e))?;
        clear_tmp(&tmp, SystemTime::now() - super::ORPHAN_AGE)?;
        Ok(dir)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    /// The absolute path of a stored (relative) path; `None` if it would
    /// leave the data directory. Absolute paths written by the legacy app
    /// are accepted when they lie inside it.
    pub fn resolve(&self, stored: &str) -> Option<PathBuf> {
        let path = Path::new(stored);
        let relative = if path.is_absolute() {
            path.strip_prefix(&self.root).ok()?
        } else {
            path
        };
        if relative
            .components()
            .any(|c| !matches!(c, Component::Normal(_)))
        {
            return None;
        }
        Some(self.root.join(relative))
    }

    /// `stored` as the API shows it: relative to the data directory, never
    /// a server path.
    pub fn display(&self, stored: &str) -> String {
        let path = Path::new(stored);
        match path.strip_prefix(&self.root) {
            Ok(rel) => rel.to_string_lossy().into_owned(),
            Err(_) if path.is_absolute() => path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            Err(_) => stored.to_owned(),
        }
    }

    /// Removes a stored file (best effort: used to undo a move whose
    /// transaction did not commit, and by the sweep).
    pub fn remove(&self, stored: &str) {
        if let Some(path) = self.resolve(stored) {
            let _ = std::fs::remove_file(path);
        }
    }

    /// A new temporary file in `tmp/`, removed when dropped.
    pub(super) async fn temp_file(&self) -> Result<TempFile, Error> {
        let path = self
            .tmp_dir()
            .join(format!("{}.part", uuid::Uuid::new_v4()));
        let file = tokio::fs::File::create(&path)
            .await
            .map_err(|e| Error::io("creating a temporary file", e))?;
        Ok(TempFile {
            path: Some(path),
            file: Some(file),
        })
    }

    /// A new empty folder in `tmp/`, removed with its content when dropped.
    pub(super) fn temp_dir(&self) -> Result<TempDir, Error> {
        let path = self.tmp_dir().join(uuid::Uuid::new_v4().to_string());
        std::fs::create_dir(&path)
            .map_err(|e| Error::io(format!("creating {}", path.display()), e))?;
        Ok(TempDir { path })
    }

    /// Moves `temp` to `stored`, creating its folder.
    pub(super) async fn persist(&self, temp: &mut TempFile, stored: &str) -> Result<(), Error> {
        let target = self.target(stored).await?;
        let Some(source) = temp.path.take() else {
            return Err(Error::Internal("temporary file already moved".into()));
        };
        if let Err(e) = tokio::fs::rename(&source, &target).await {
            let _ = std::fs::remove_file(&source);
            return Err(Error::io(
                format!("moving an upload to {}", target.display()),
                e,
            ));
        }
        if let Some(parent) = target.parent() {
            sync_dir(parent).await;
        }
        Ok(())
    }

    /// Writes `bytes` as `stored`, creating its folder.
    pub(super) async fn put(&self, stored: &str, bytes: &[u8]) -> Result<(), Error> {
        let path = self.target(stored).await?;
        tokio::fs::write(&path, bytes)
            .await
            .map_err(|e| Error::io(format!("writing {}", path.display()), e))
    }

    /// The absolute path of `stored`, its folder created.
    async fn target(&self, stored: &str) -> Result<PathBuf, Error> {
        let target = self.resolve(stored).ok_or_else(|| {
            Error::Internal(format!("stored path {stored} leaves the data directory"))
        })?;
        if let Some(parent) = target.parent() {
            tokio::fs::create_dir_all(parent)
                .await
                .map_err(|e| Error::io(format!("creating {}", parent.display()), e))?;
        }
        Ok(target)
    }

    /// The files under `area/<case>/`, as stored paths with their time of
    /// last change.
    pub(super) fn list(&self, area: &str) -> Vec<(String, SystemTime)> {
        let mut found = Vec::new();
        let Ok(cases) = std::fs::read_dir(self.root.join(area)) else {
            return found;
        };
        for case_dir in cases.flatten() {
            let case_id = case_dir.file_name().to_string_lossy().into_owned();
            let Ok(files) = std::fs::read_dir(case_dir.path()) else {
                continue;
            };
            for file in files.flatten() {
                let Ok(modified) = file.metadata().and_then(|m| m.modified()) else {
                    continue;
                };
                let name = file.file_name().to_string_lossy().into_owned();
                found.push((format!("{area}/{case_id}/{name}"), modified));
            }
        }
        found
    }
}

/// Removes what `tmp/` holds since before `cutoff`: bodies and copies of
/// requests that a crash interrupted. Younger entries may be another
/// instance's uploads in flight (a data directory shared by several
/// servers), so they stay.
fn clear_tmp(tmp: &Path, cutoff: SystemTime) -> Result<(), Error> {
    let entries =
        std::fs::read_dir(tmp).map_err(|e| Error::io(format!("reading {}", tmp.display()), e))?;
    for entry in entries.flatten() {
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|m| m < cutoff);
        if old {
            let path = entry.path();
            let _ = if path.is_dir() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
        }
    }
    Ok(())
}

/// A folder in `tmp/`, removed with its content when dropped.
#[derive(Debug)]
pub(super) struct TempDir {
    path: PathBuf,
}

impl TempDir {
    pub(super) fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// A file in `tmp/`, removed when dropped unless it was moved.
#[derive(Debug)]
pub(super) struct TempFile {
    path: Option<PathBuf>,
    file: Option<tokio::fs::File>,
}

impl TempFile {
    pub(super) fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    pub(super) async fn write(&mut self, chunk: &[u8]) -> Result<(), Error> {
        match self.file.as_mut() {
            Some(file) => file
                .write_all(chunk)
                .await
                .map_err(|e| Error::io("writing a temporary file", e)),
            None => Err(Error::Internal("temporary file closed".into())),
        }
    }

    /// Flushes the file to disk, so that a row committed after the move
    /// never names a file that a power cut took.
    pub(super) async fn finish(&mut self) -> Result<(), Error> {
        if let Some(mut file) = self.file.take() {
            file.flush()
                .await
                .and(file.sync_all().await)
                .map_err(|e| Error::io("syncing a temporary file", e))?;
        }
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(path) = self.path.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

async fn sync_dir(dir: &Path) {
    if let Ok(handle) = tokio::fs::File::open(dir).await {
        let _ = handle.sync_all().await;
    }
}
