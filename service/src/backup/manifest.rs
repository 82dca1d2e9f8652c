//! `manifest.json`, the description of a backup that proves it: what was
//! taken, when, from which kind of database, the SHA-256 of the database
//! snapshot and of every stored file, the files the database named but
//! that were not there, and the ledger heads at the snapshot. Reading it
//! back and checking every hash is [`verify`].

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::Error;
use super::files::{hash_file, plain_relative};

/// What a backup directory says it is.
pub const FORMAT: &str = "dms-backup";
/// The version of this layout; a reader refuses any other.
pub const FORMAT_VERSION: u32 = 1;
/// The manifest's name in a backup directory.
pub const MANIFEST_FILE: &str = "manifest.json";
/// The SQLite snapshot's name in a backup directory.
pub const DATABASE_FILE: &str = "dms.db";
/// The folder of a backup directory that mirrors the data directory.
pub const FILES_DIR: &str = "data";

/// The manifest of one backup.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`FORMAT_VERSION`] when written.
    pub format_version: u32,
    /// When the snapshot was taken (UTC, as the database stores times).
    pub created_at: String,
    /// `sqlite`, `postgres` or `mysql`.
    pub source_database: String,
    /// The SQLite snapshot; `None` in a `--files-only` backup, whose
    /// database is dumped by the server's own tool.
    pub database: Option<DatabaseSnapshot>,
    /// Every stored file the database names, sorted by path.
    pub files: Vec<FileEntry>,
    /// Stored files the database names that could not be copied.
    pub missing: Vec<MissingFile>,
    /// The ledger's chain heads as of the snapshot (see
    /// [`super::ledger_heads`]): each chain, its last position and hash.
    pub ledger_heads: Option<serde_json::Value>,
}

/// The database snapshot (`dms.db` beside the manifest).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatabaseSnapshot {
    pub file: String,
    pub size: u64,
    pub sha256: String,
}

/// One stored file, under `data/` in the backup at its path relative to
/// the data directory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

/// A stored path the database names whose file is not in the backup.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MissingFile {
    /// As the database stores it.
    pub path: String,
    pub reason: MissingReason,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MissingReason {
    /// No file at that path in the data directory.
    NotFound,
    /// The path leaves the data directory: not copied.
    OutsideDataDir,
}

impl Manifest {
    /// Bytes of the stored files.
    pub fn file_bytes(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }
}

/// Reads `SRC/manifest.json`, refusing another format or a path that
/// would leave the backup.
pub fn read(src: &Path) -> Result<Manifest, Error> {
    let path = src.join(MANIFEST_FILE);
    let bad = |reason: String| Error::BadManifest {
        path: path.clone(),
        reason,
    };
    let text = std::fs::read(&path).map_err(|e| bad(format!("cannot be read: {e}")))?;
    let manifest: Manifest =
        serde_json::from_slice(&text).map_err(|e| bad(format!("is not a backup manifest: {e}")))?;
    if manifest.format != FORMAT || manifest.format_version != FORMAT_VERSION {
        return Err(bad(format!(
            "format {} version {}, this dms reads {FORMAT} version {FORMAT_VERSION}",
            manifest.format, manifest.format_version
        )));
    }
    if let Some(db) = &manifest.database
        && db.file != DATABASE_FILE
    {
        return Err(bad(format!("names the database file {:?}", db.file)));
    }
    if let Some(file) = manifest
        .files
        .iter()
        .find(|f| plain_relative(&f.path).is_none())
    {
        return Err(bad(format!(
            "names the file {:?}, outside the backup",
            file.path
        )));
    }
    Ok(manifest)
}

/// Writes the manifest as `DIR/manifest.json`, owner-only, flushed.
pub(crate) fn write(dir: &Path, manifest: &Manifest) -> Result<(), Error> {
    let path = dir.join(MANIFEST_FILE);
    let text = serde_json::to_vec_pretty(manifest)
        .map_err(|e| Error::Database(format!("cannot encode the manifest: {e}")))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let written = options.open(&path).and_then(|mut file| {
        use std::io::Write;
        file.write_all(&text)?;
        file.write_all(b"\n")?;
        file.sync_all()
    });
    written.map_err(|e| Error::io(format!("writing {}", path.display()), e))
}

/// Where a manifest's file lies in the backup `src`.
pub(crate) fn file_in(src: &Path, entry: &FileEntry) -> PathBuf {
    src.join(FILES_DIR).join(&entry.path)
}

/// Reads the backup at `src` and checks the database snapshot and every
/// file against the manifest: the first difference is an
/// [`Error::Altered`] naming the file.
pub fn verify(src: &Path) -> Result<Manifest, Error> {
    let manifest = read(src)?;
    if let Some(db) = &manifest.database {
        check(&src.join(&db.file), &db.file, db.size, &db.sha256)?;
    }
    for entry in &manifest.files {
        check(
            &file_in(src, entry),
            &format!("{FILES_DIR}/{}", entry.path),
            entry.size,
            &entry.sha256,
        )?;
    }
    Ok(manifest)
}

/// Checks the file at `path` (named `what`) against its recorded size and hash.
fn check(path: &Path, what: &str, size: u64, sha256: &str) -> Result<(), Error> {
    let found = hash_file(path).map_err(|e| Error::Altered {
        what: what.to_owned(),
        difference: format!("cannot be read ({e})"),
    })?;
    compare(what, size, sha256, found.size, &found.sha256)
}

/// A difference between what the manifest records and what was read.
pub(crate) fn compare(
    what: &str,
    size: u64,
    sha256: &str,
    found_size: u64,
    found_sha256: &str,
) -> Result<(), Error> {
    let difference = if found_size != size {
        format!("{found_size} bytes, the manifest says {size}")
    } else if !found_sha256.eq_ignore_ascii_case(sha256) {
        format!("SHA-256 {found_sha256}, the manifest says {sha256}")
    } else {
        return Ok(());
    };
    Err(Error::Altered {
        what: what.to_owned(),
        difference,
    })
}
