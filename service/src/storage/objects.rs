//! The object-storage backend: an S3-compatible bucket (AWS, MinIO, Garage,
//! Ceph, ...) through the `object_store` crate.
//!
//! A stored path `uploads/<case>/<name>` is the object `<prefix>/uploads/<case>/<name>`.
//! A body being received goes to a staging object `<prefix>/tmp/<uuid>` in
//! parts of [`PART_SIZE`] (one part in memory at a time, whatever the file's
//! size), and is copied to its name inside the transaction that records it.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::path::Path as Key;
use object_store::{MultipartUpload, ObjectStore, ObjectStoreExt, PutPayloadMut};

use super::{FileStream, StoredFile};
use crate::Error;

/// The size of an upload's parts: S3's smallest (all but the last part must
/// be at least 5 MiB), so that each upload holds the least in memory.
const PART_SIZE: usize = 5 * 1024 * 1024;

/// A bucket, and the prefix under which the server keeps its objects.
#[derive(Clone)]
pub struct Bucket {
    store: Arc<dyn ObjectStore>,
    prefix: Key,
    url: String,
}

impl std::fmt::Debug for Bucket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bucket").field("url", &self.url).finish()
    }
}

impl Bucket {
    /// The bucket of `url` (`s3://bucket[/prefix]`), with the endpoint,
    /// region and credentials of the `AWS_*` environment variables, which
    /// `options` (object_store's keys, e.g. `aws_endpoint`) override. An
    /// `http://` endpoint is refused unless `AWS_ALLOW_HTTP=true`.
    pub fn open(url: &str, options: &[(String, String)]) -> Result<Self, Error> {
        let rest = url.strip_prefix("s3://").ok_or_else(|| {
            Error::Internal(format!(
                "storage URL {url:?} is not a bucket (give it as s3://bucket/prefix)"
            ))
        })?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(Error::Internal(format!(
                "storage URL {url:?} names no bucket (give it as s3://bucket/prefix)"
            )));
        }
        let prefix = Key::parse(prefix.trim_matches('/')).map_err(|e| {
            Error::Internal(format!(
                "storage URL {url:?}: {e} (give it as s3://bucket/prefix)"
            ))
        })?;
        let mut builder = AmazonS3Builder::from_env();
        for (key, value) in options {
            let key: AmazonS3ConfigKey = key
                .parse()
                .map_err(|e| Error::Internal(format!("storage option {key:?}: {e}")))?;
            builder = builder.with_config(key, value);
        }
        let store = builder.with_bucket_name(bucket).build().map_err(|e| {
            Error::Internal(format!(
                "the bucket of {url:?} cannot be used: {e} (check the AWS_* variables)"
            ))
        })?;
        Ok(Bucket {
            store: Arc::new(store),
            prefix,
            url: url.to_owned(),
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// The object of a stored (relative, checked) path.
    fn key(&self, relative: &str) -> Key {
        relative
            .split('/')
            .fold(self.prefix.clone(), |key, part| key.join(part))
    }

    /// A new staging object for a body being received.
    pub(super) fn staging(&self) -> Staging {
        self.writer(&format!("tmp/{}", uuid::Uuid::new_v4()))
    }

    /// A writer of object `relative`, removed when dropped unless kept.
    pub(super) fn writer(&self, relative: &str) -> Staging {
        Staging {
            bucket: self.clone(),
            key: self.key(relative),
            upload: Mutex::new(None),
            part: PutPayloadMut::new(),
            written: false,
        }
    }

    /// Copies the staging object to `relative` and removes it.
    pub(super) async fn persist(&self, staging: &mut Staging, relative: &str) -> Result<(), Error> {
        if !staging.written {
            return Err(Error::Internal("staging object not written".into()));
        }
        self.store
            .copy(&staging.key, &self.key(relative))
            .await
            .map_err(storage_error("naming an upload"))?;
        staging.remove_now().await;
        Ok(())
    }

    pub(super) async fn put(&self, relative: &str, bytes: Vec<u8>) -> Result<(), Error> {
        self.store
            .put(&self.key(relative), bytes.into())
            .await
            .map_err(storage_error("writing a document"))?;
        Ok(())
    }

    /// The object's size and content, `None` when there is none.
    pub(super) async fn get(&self, relative: &str) -> Result<Option<StoredFile>, Error> {
        match self.store.get(&self.key(relative)).await {
            Ok(got) => {
                let size = got.meta.size;
                let content = got.into_stream().map_err(std::io::Error::other).boxed();
                Ok(Some(StoredFile { size, content }))
            }
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(storage_error("reading a file")(e)),
        }
    }

    /// Removes an object (best effort: undoing, sweeping).
    pub(super) async fn remove(&self, relative: &str) {
        if let Err(e) = self.store.delete(&self.key(relative)).await {
            tracing::warn!(object = relative, error = %e, "could not remove an object");
        }
    }

    /// The objects under `area/`, as stored paths with their time of last
    /// change.
    pub(super) async fn list(&self, area: &str) -> Result<Vec<(String, SystemTime)>, Error> {
        let under = self.key(area);
        let objects: Vec<_> = self
            .store
            .list(Some(&under))
            .try_collect()
            .await
            .map_err(storage_error("listing the bucket"))?;
        Ok(objects
            .into_iter()
            .filter_map(|o| {
                let parts: Vec<String> = o
                    .location
                    .prefix_match(&self.prefix)?
                    .map(|p| p.as_ref().to_owned())
                    .collect();
                Some((parts.join("/"), SystemTime::from(o.last_modified)))
            })
            .collect())
    }
}

/// A body being written to a staging object; removed when dropped, unless
/// it was copied to its name.
pub(super) struct Staging {
    bucket: Bucket,
    key: Key,
    /// In a mutex only so that a `Received` (which holds this) can be
    /// shared across an await: it is only ever reached through `&mut self`.
    upload: Mutex<Option<Box<dyn MultipartUpload>>>,
    part: PutPayloadMut,
    written: bool,
}

impl std::fmt::Debug for Staging {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Staging").field("key", &self.key).finish()
    }
}

impl Staging {
    fn upload(&mut self) -> &mut Option<Box<dyn MultipartUpload>> {
        self.upload
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds `chunk`; sends a part when one is full (and waits for it, so a
    /// slow bucket slows the client instead of filling memory).
    pub(super) async fn write(&mut self, chunk: Bytes) -> Result<(), Error> {
        self.part.push(chunk);
        if self.part.content_length() >= PART_SIZE {
            let part = std::mem::take(&mut self.part).freeze();
            if self.upload().is_none() {
                let upload = self
                    .bucket
                    .store
                    .put_multipart(&self.key)
                    .await
                    .map_err(storage_error("starting an upload"))?;
                *self.upload() = Some(upload);
            }
            if let Some(upload) = self.upload().as_mut() {
                upload
                    .put_part(part)
                    .await
                    .map_err(storage_error("sending an upload's part"))?;
            }
        }
        Ok(())
    }

    /// Sends the last part and completes the object (a body smaller than a
    /// part is sent in one request).
    pub(super) async fn finish(&mut self) -> Result<(), Error> {
        let part = std::mem::take(&mut self.part).freeze();
        match self.upload().as_mut() {
            Some(upload) => {
                if part.content_length() > 0 {
                    upload
                        .put_part(part)
                        .await
                        .map_err(storage_error("sending an upload's part"))?;
                }
                upload
                    .complete()
                    .await
                    .map_err(storage_error("completing an upload"))?;
                *self.upload() = None;
            }
            None => {
                self.bucket
                    .store
                    .put(&self.key, part)
                    .await
                    .map_err(storage_error("sending an upload"))?;
            }
        }
        self.written = true;
        Ok(())
    }

    /// Keeps the written object (a migrated file).
    pub(super) fn keep(mut self) {
        self.written = false;
    }

    async fn remove_now(&mut self) {
        if std::mem::take(&mut self.written) {
            self.bucket.remove_key(&self.key).await;
        }
    }
}

impl Bucket {
    async fn remove_key(&self, key: &Key) {
        if let Err(e) = self.store.delete(key).await {
            tracing::warn!(object = %key, error = %e, "could not remove a staging object");
        }
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        // An unfinished multipart upload is aborted, a written staging
        // object removed; what a crash leaves, the sweep removes.
        let upload = self.upload().take();
        let written = std::mem::take(&mut self.written);
        if upload.is_none() && !written {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let bucket = self.bucket.clone();
        let key = self.key.clone();
        runtime.spawn(async move {
            if let Some(mut upload) = upload {
                let _ = upload.abort().await;
            }
            if written {
                bucket.remove_key(&key).await;
            }
        });
    }
}

/// Maps an object-store failure to the service's error, saying what was
/// being done.
fn storage_error(doing: &'static str) -> impl Fn(object_store::Error) -> Error {
    move |e| Error::Internal(format!("{doing}: {e}"))
}

/// The stream of an object, for copying it to a local file.
pub(super) async fn download_to(
    stream: &mut FileStream,
    file: &mut tokio::fs::File,
) -> Result<(), Error> {
    use tokio::io::AsyncWriteExt;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| Error::io("reading an object", e))?;
        file.write_all(&chunk)
            .await
            .map_err(|e| Error::io("writing a local copy", e))?;
    }
    file.flush()
        .await
        .map_err(|e| Error::io("writing a local copy", e))
}
