//! The data directory: where uploaded and generated files live.
//!
//! Layout under `DMS_DATA_DIR` (absolute, resolved once at start):
//! `uploads/<case_id>/<kind>_<uuid>.<ext>` for uploads, `outputs/<case_id>/`
//! for generated documents, `tmp/` for bodies being received. Stored paths
//! (`artifacts.path`) are relative to it (D-25), and names are made by the
//! server, never taken from the client (D-14).
//!
//! A body is streamed to a temporary file while it is counted and hashed
//! (never held whole in memory) and moved to its final name only inside the
//! transaction that records it; a crash leaves at worst a file that no row
//! names, which [`DataDir::open`] and the upload service's sweep remove.

use std::path::{Component, Path, PathBuf};

use futures_util::{Stream, StreamExt};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::Error;

/// How many leading bytes are kept for file-type detection.
pub const SNIFF_LEN: usize = 2048;

/// The data directory, absolute.
#[derive(Clone, Debug)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    /// Creates (if needed) and resolves `path`, and empties its `tmp/`
    /// (bodies of requests a previous run did not finish).
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
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp)
                .map_err(|e| Error::io(format!("emptying {}", tmp.display()), e))?;
        }
        std::fs::create_dir_all(&tmp)
            .map_err(|e| Error::io(format!("creating {}", tmp.display()), e))?;
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

    /// Streams `body` into a temporary file, counting and hashing it; fails
    /// with [`Error::TooLarge`] as soon as it passes `limit` bytes.
    pub async fn receive<S, E>(&self, mut body: S, limit: u64) -> Result<Received, ReceiveError>
    where
        S: Stream<Item = Result<bytes::Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let path = self
            .tmp_dir()
            .join(format!("{}.part", uuid::Uuid::new_v4()));
        let file = tokio::fs::File::create(&path)
            .await
            .map_err(|e| ReceiveError::Server(Error::io("creating a temporary file", e)))?;
        let mut temp = TempFile {
            path: Some(path),
            file: Some(file),
        };
        let mut hasher = Sha256::new();
        let mut size: u64 = 0;
        let mut head = Vec::with_capacity(SNIFF_LEN);
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| ReceiveError::Body(e.to_string()))?;
            size += chunk.len() as u64;
            if size > limit {
                return Err(ReceiveError::TooLarge { limit });
            }
            if head.len() < SNIFF_LEN {
                let take = (SNIFF_LEN - head.len()).min(chunk.len());
                head.extend_from_slice(&chunk[..take]);
            }
            hasher.update(&chunk);
            temp.write(&chunk).await?;
        }
        temp.finish().await?;
        Ok(Received {
            temp,
            size,
            sha256: hex::encode(hasher.finalize()),
            head,
        })
    }

    /// Removes a stored file (best effort: used to undo a move whose
    /// transaction did not commit).
    pub fn remove(&self, stored: &str) {
        if let Some(path) = self.resolve(stored) {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Why a body could not be received.
#[derive(Debug, thiserror::Error)]
pub enum ReceiveError {
    #[error("file too large: more than {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("the request body could not be read: {0}")]
    Body(String),
    #[error(transparent)]
    Server(#[from] Error),
}

/// A body received into a temporary file, with its size, SHA-256 and first
/// bytes. The file is removed when this is dropped, unless it was moved.
#[derive(Debug)]
pub struct Received {
    temp: TempFile,
    pub size: u64,
    pub sha256: String,
    pub head: Vec<u8>,
}

impl Received {
    /// The received file, while it is still in `tmp/`.
    pub fn path(&self) -> Option<&Path> {
        self.temp.path.as_deref()
    }

    /// Moves the file to `stored` (relative to `data`), creating its folder.
    pub async fn persist(mut self, data: &DataDir, stored: &str) -> Result<(), Error> {
        let target = data.resolve(stored).ok_or_else(|| {
            Error::Internal(format!("stored path {stored} leaves the data directory"))
        })?;
        if let Some(parent) = target.parent() {
            tokio::fs::create_dir_all(parent)
                .await
                .map_err(|e| Error::io(format!("creating {}", parent.display()), e))?;
        }
        let Some(source) = self.temp.path.take() else {
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
}

#[derive(Debug)]
struct TempFile {
    path: Option<PathBuf>,
    file: Option<tokio::fs::File>,
}

impl TempFile {
    async fn write(&mut self, chunk: &[u8]) -> Result<(), Error> {
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
    async fn finish(&mut self) -> Result<(), Error> {
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
