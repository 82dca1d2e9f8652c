//! `dms storage migrate`: copies a data directory's files into a bucket,
//! each streamed in parts, then read back and its SHA-256 compared with the
//! file's. Stored paths do not change, so the rows need no update.

use std::path::Path;

use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;

use super::{Bucket, DataDir, Storage};
use crate::Error;

/// What a migration copied.
#[derive(Debug, Default)]
pub struct Copied {
    pub files: usize,
    pub bytes: u64,
}

/// Copies the files of the data directory `data_dir` (under `uploads/` and
/// `outputs/`) into the bucket of `url` and verifies each one.
pub async fn migrate(data_dir: &Path, url: &str) -> Result<Copied, Error> {
    let bucket = Bucket::open(url, &[])?;
    if !data_dir.is_dir() {
        return Err(Error::Internal(format!(
            "no data directory at {} (give it with --data-dir or DMS_DATA_DIR)",
            data_dir.display()
        )));
    }
    let source = Storage::local(DataDir::open(data_dir)?);
    let target = Storage::in_bucket(source.data().clone(), bucket);
    let mut copied = Copied::default();
    for area in ["uploads", "outputs"] {
        for (stored, _) in source.list(area).await? {
            let path = source.data().root().join(&stored);
            let (size, sha256) = upload(&target, &stored, &path).await?;
            let stored_sha256 = hash_of(&target, &stored).await?;
            if stored_sha256 != sha256 {
                return Err(Error::Internal(format!(
                    "{stored}: the object's SHA-256 {stored_sha256} differs from the file's {sha256} (run the migration again)"
                )));
            }
            copied.files += 1;
            copied.bytes += size;
        }
    }
    Ok(copied)
}

/// Streams the file at `path` to `stored` in `target`; its size and SHA-256.
async fn upload(target: &Storage, stored: &str, path: &Path) -> Result<(u64, String), Error> {
    let file = tokio::fs::File::open(path)
        .await
        .map_err(|e| Error::io(format!("opening {}", path.display()), e))?;
    let mut reader = tokio::io::BufReader::with_capacity(1 << 20, file);
    let (Some(bucket), Some(relative)) = (target.bucket(), target.relative(stored)) else {
        return Err(Error::Internal(format!("{stored} cannot be stored")));
    };
    let mut writer = bucket.writer(&relative);
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = reader
            .read(&mut buf)
            .await
            .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        size += n as u64;
        writer
            .write(bytes::Bytes::copy_from_slice(&buf[..n]))
            .await?;
    }
    writer.finish().await?;
    writer.keep();
    Ok((size, hex::encode(hasher.finalize())))
}

/// The SHA-256 of stored file `stored`, as the store sends it back.
async fn hash_of(storage: &Storage, stored: &str) -> Result<String, Error> {
    let mut file = storage.open(stored).await?.ok_or_else(|| {
        Error::Internal(format!(
            "{stored}: not found in the bucket after copying it (run the migration again)"
        ))
    })?;
    let mut hasher = Sha256::new();
    while let Some(chunk) = file.content.next().await {
        hasher.update(&chunk.map_err(|e| Error::io(format!("reading back {stored}"), e))?);
    }
    Ok(hex::encode(hasher.finalize()))
}
