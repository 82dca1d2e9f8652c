//! Where uploaded and generated files live, behind one interface with two
//! backends: the data directory (the default, nothing to set up) or an
//! S3-compatible bucket (`DMS_STORAGE_URL=s3://bucket/prefix`).
//!
//! Stored paths (`artifacts.path`) are the same on both: relative, made by
//! the server, never taken from the client (D-14, D-25). A body is streamed
//! while it is counted and hashed (never held whole in memory): to a
//! temporary file (its type is read there) and, with a bucket, to a
//! staging object as well. It gets its name only inside the transaction
//! that records it, and is removed if that transaction does not commit; a
//! crash leaves at worst a file or object that no row names, which the
//! upload service's sweep removes once it is an hour old (younger ones may
//! be another instance's uploads in flight).

mod local;
mod migrate;
mod objects;

use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::time::{Duration, SystemTime};

use futures_util::{Stream, StreamExt};
use sha2::{Digest, Sha256};

use crate::Error;
pub use local::DataDir;
pub use migrate::{Copied, migrate};
pub use objects::Bucket;

/// How many leading bytes are kept for file-type detection.
pub const SNIFF_LEN: usize = 2048;

/// How old a file no row names must be before the sweep removes it: older
/// than any request, so never one being uploaded.
pub const ORPHAN_AGE: Duration = Duration::from_secs(3600);

/// A stored file's content, as it is read.
pub type FileStream = Pin<Box<dyn Stream<Item = Result<bytes::Bytes, std::io::Error>> + Send>>;

/// A stored file opened for reading: its size and its content.
pub struct StoredFile {
    pub size: u64,
    pub content: FileStream,
}

impl std::fmt::Debug for StoredFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredFile")
            .field("size", &self.size)
            .finish()
    }
}

/// The files' storage: the data directory (always there: temporary files,
/// the key file) and, when configured, the bucket that holds the files.
#[derive(Clone, Debug)]
pub struct Storage {
    data: DataDir,
    bucket: Option<Bucket>,
}

impl Storage {
    /// Files in the data directory.
    pub fn local(data: DataDir) -> Self {
        Storage { data, bucket: None }
    }

    /// Files in `bucket`; the data directory keeps temporary files only.
    pub fn in_bucket(data: DataDir, bucket: Bucket) -> Self {
        Storage {
            data,
            bucket: Some(bucket),
        }
    }

    /// The data directory.
    pub fn data(&self) -> &DataDir {
        &self.data
    }

    /// The bucket, when the files are there.
    pub fn bucket(&self) -> Option<&Bucket> {
        self.bucket.as_ref()
    }

    /// `stored` as the API shows it: relative, never a server path.
    pub fn display(&self, stored: &str) -> String {
        self.data.display(stored)
    }

    /// The relative path of a stored path, checked; `None` if it would
    /// leave the storage.
    fn relative(&self, stored: &str) -> Option<String> {
        let path = self.data.resolve(stored)?;
        let rel = path.strip_prefix(self.data.root()).ok()?;
        Some(rel.to_string_lossy().replace('\\', "/"))
    }

    fn checked(&self, stored: &str) -> Result<String, Error> {
        self.relative(stored)
            .ok_or_else(|| Error::Internal(format!("stored path {stored} leaves the storage")))
    }

    /// Streams `body` into a temporary file (and, with a bucket, a staging
    /// object), counting and hashing it; fails with
    /// [`ReceiveError::TooLarge`] as soon as it passes `limit` bytes.
    pub async fn receive<S, E>(&self, mut body: S, limit: u64) -> Result<Received, ReceiveError>
    where
        S: Stream<Item = Result<bytes::Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let mut temp = self.data.temp_file().await?;
        let mut staging = self.bucket.as_ref().map(Bucket::staging);
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
            if let Some(staging) = staging.as_mut() {
                staging.write(chunk).await?;
            }
        }
        temp.finish().await?;
        if let Some(staging) = staging.as_mut() {
            staging.finish().await?;
        }
        Ok(Received {
            temp,
            staging,
            size,
            sha256: hex::encode(hasher.finalize()),
            head,
        })
    }

    /// Gives the received body its name `stored`: called inside the
    /// transaction that records it, which calls [`Storage::remove`] if it
    /// does not commit.
    pub async fn persist(&self, mut received: Received, stored: &str) -> Result<(), Error> {
        match (&self.bucket, received.staging.as_mut()) {
            (Some(bucket), Some(staging)) => bucket.persist(staging, &self.checked(stored)?).await,
            (None, _) => self.data.persist(&mut received.temp, stored).await,
            (Some(_), None) => Err(Error::Internal(
                "a body received without its staging object".into(),
            )),
        }
    }

    /// Writes a generated document as `stored`.
    pub async fn put(&self, stored: &str, bytes: Vec<u8>) -> Result<(), Error> {
        match &self.bucket {
            Some(bucket) => bucket.put(&self.checked(stored)?, bytes).await,
            None => self.data.put(stored, &bytes).await,
        }
    }

    /// The size and content of a stored file; `None` when it is missing.
    pub async fn open(&self, stored: &str) -> Result<Option<StoredFile>, Error> {
        let Some(relative) = self.relative(stored) else {
            return Ok(None);
        };
        if let Some(bucket) = &self.bucket {
            return bucket.get(&relative).await;
        }
        let path = self.data.root().join(relative);
        let file = match tokio::fs::File::open(&path).await {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(format!("opening {}", path.display()), e)),
        };
        let meta = file
            .metadata()
            .await
            .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
        if !meta.is_file() {
            return Ok(None);
        }
        Ok(Some(StoredFile {
            size: meta.len(),
            content: Box::pin(tokio_util::io::ReaderStream::new(file)),
        }))
    }

    /// A stored file's content, whole (templates: bounded by the upload limit).
    pub async fn read(&self, stored: &str) -> Result<Vec<u8>, Error> {
        let mut file = self
            .open(stored)
            .await?
            .ok_or_else(|| Error::Internal(format!("stored file {stored} is missing")))?;
        let mut bytes = Vec::with_capacity(usize::try_from(file.size).unwrap_or(0));
        while let Some(chunk) = file.content.next().await {
            bytes.extend_from_slice(&chunk.map_err(|e| Error::io(format!("reading {stored}"), e))?);
        }
        Ok(bytes)
    }

    /// The size of a stored file in the data directory (`None` in a bucket,
    /// or when it is missing).
    pub fn local_size(&self, stored: &str) -> Option<u64> {
        if self.bucket.is_some() {
            return None;
        }
        let path = self.data.resolve(stored)?;
        std::fs::metadata(path).ok().map(|m| m.len())
    }

    /// Removes a stored file (best effort: undoing a name whose transaction
    /// did not commit, replaced outputs, the sweep).
    pub async fn remove(&self, stored: &str) {
        match (&self.bucket, self.relative(stored)) {
            (Some(bucket), Some(relative)) => bucket.remove(&relative).await,
            (None, _) => self.data.remove(stored),
            (Some(_), None) => {}
        }
    }

    /// The stored files under `area` (`uploads`, `outputs`, and in a bucket
    /// `tmp`), with their time of last change.
    pub async fn list(&self, area: &str) -> Result<Vec<(String, SystemTime)>, Error> {
        match &self.bucket {
            Some(bucket) => bucket.list(area).await,
            None => Ok(self.data.list(area)),
        }
    }

    /// Writes and removes a small probe (readiness): a file in the data
    /// directory, or an object under the bucket's `tmp/` (which the sweep
    /// also clears should the removal fail).
    pub async fn probe(&self) -> Result<(), String> {
        let name = format!(".ready-{}", uuid::Uuid::new_v4());
        match &self.bucket {
            Some(bucket) => {
                let relative = format!("tmp/{name}");
                bucket
                    .put(&relative, b"ready".to_vec())
                    .await
                    .map_err(|e| format!("the bucket does not take a write: {e}"))?;
                bucket.remove(&relative).await;
                Ok(())
            }
            None => {
                let probe = self.data.root().join(name);
                let written = tokio::fs::write(&probe, b"ready").await;
                let _ = tokio::fs::remove_file(&probe).await;
                written.map_err(|e| format!("the data directory is not writable: {e}"))
            }
        }
    }

    /// A place for local copies of stored files (what the analysis reads
    /// by path), removed with them when dropped.
    pub fn local_copies(&self) -> Result<LocalCopies, Error> {
        Ok(LocalCopies {
            dir: match &self.bucket {
                Some(_) => Some(self.data.temp_dir()?),
                None => None,
            },
        })
    }

    /// A local path holding stored file `stored`: the file itself in the
    /// data directory, else a copy in `copies`.
    pub async fn local_path(&self, stored: &str, copies: &LocalCopies) -> Result<PathBuf, Error> {
        let relative = self.checked(stored)?;
        let Some(dir) = &copies.dir else {
            return Ok(self.data.root().join(relative));
        };
        let target = dir.path().join(uuid::Uuid::new_v4().to_string());
        let mut source = self
            .open(stored)
            .await?
            .ok_or_else(|| Error::Internal(format!("stored file {stored} is missing")))?;
        let mut file = tokio::fs::File::create(&target)
            .await
            .map_err(|e| Error::io(format!("creating {}", target.display()), e))?;
        objects::download_to(&mut source.content, &mut file).await?;
        Ok(target)
    }
}

/// Local copies of stored files, removed when dropped.
#[derive(Debug)]
pub struct LocalCopies {
    dir: Option<local::TempDir>,
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

/// A body received into a temporary file (and a staging object), with its
/// size, SHA-256 and first bytes. Both are removed when this is dropped,
/// unless it was persisted.
#[derive(Debug)]
pub struct Received {
    temp: local::TempFile,
    staging: Option<objects::Staging>,
    pub size: u64,
    pub sha256: String,
    pub head: Vec<u8>,
}

impl Received {
    /// The received file, while it is still in `tmp/`.
    pub fn path(&self) -> Option<&Path> {
        self.temp.path()
    }
}
