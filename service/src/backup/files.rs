//! The file system side of backups and restores: private directories and
//! files (offers are confidential: 0700 and 0600), copies hashed (SHA-256)
//! as they are written and flushed to disk, and the sibling names things
//! are staged under before a rename puts them in place.

use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::path::{Component, Path, PathBuf};

use sha2::{Digest, Sha256};

use super::Error;

/// A file's size and SHA-256 (lower-case hex).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Hashed {
    pub size: u64,
    pub sha256: String,
}

/// Creates `path` and its missing parents, each owner-only.
pub(crate) fn create_private_dir_all(path: &Path) -> Result<(), Error> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(path)
        .map_err(|e| Error::io(format!("creating {}", path.display()), e))
}

/// Creates a new file at `path`, owner-only; never opens an existing one.
fn create_private_file(path: &Path) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// Makes an existing file owner-only (SQLite creates `VACUUM INTO`'s file
/// with the process's umask).
pub(crate) fn make_private(path: &Path) -> Result<(), Error> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| Error::io(format!("restricting {}", path.display()), e))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Feeds everything `reader` gives to the hasher and to `sink`.
fn pump(
    mut reader: impl Read,
    mut sink: impl FnMut(&[u8]) -> std::io::Result<()>,
) -> std::io::Result<Hashed> {
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 256 * 1024];
    let mut size = 0u64;
    loop {
        let n = match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buffer[..n]);
        sink(&buffer[..n])?;
        size += n as u64;
    }
    Ok(Hashed {
        size,
        sha256: hex::encode(hasher.finalize()),
    })
}

/// The size and SHA-256 of the file at `path`.
pub(crate) fn hash_file(path: &Path) -> std::io::Result<Hashed> {
    pump(File::open(path)?, |_| Ok(()))
}

/// Copies `from` to a new private file `to`, hashing what it copies, and
/// flushes it to disk. A missing `from` is `ErrorKind::NotFound` and
/// creates nothing.
pub(crate) fn copy_hashed(from: &Path, to: &Path) -> std::io::Result<Hashed> {
    let source = File::open(from)?;
    let mut target = create_private_file(to)?;
    let hashed = pump(source, |chunk| target.write_all(chunk))?;
    target.sync_all()?;
    Ok(hashed)
}

/// Flushes a directory's entries (a rename or a new file in it) to disk.
pub(crate) fn sync_dir(path: &Path) {
    if let Ok(dir) = File::open(path) {
        let _ = dir.sync_all();
    }
}

/// A hidden name beside `path`, unique to this run, for staging what will
/// be renamed to `path` (a rename is atomic only within one file system).
pub(crate) fn sibling(path: &Path, tag: &str) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "dms".to_owned());
    parent_of(path).join(format!(".{name}.{tag}-{}", uuid::Uuid::new_v4()))
}

/// The directory `path` is in (`.` for a bare name).
pub(crate) fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// Whether `path` is absent or an empty directory.
pub(crate) fn absent_or_empty_dir(path: &Path) -> Result<bool, Error> {
    match std::fs::read_dir(path) {
        Ok(mut entries) => Ok(entries.next().is_none()),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(true),
        // A file, or a directory we cannot list: not somewhere to write.
        Err(_) => Ok(false),
    }
}

/// Whether the directory tree at `path` holds anything but directories
/// (the server's own empty `uploads/`, `outputs/` and `tmp/` do not count).
pub(crate) fn holds_files(path: &Path) -> Result<bool, Error> {
    let entries = match std::fs::read_dir(path) {
        Ok(entries) => entries,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(Error::io(format!("reading {}", path.display()), e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
        let kind = entry
            .file_type()
            .map_err(|e| Error::io(format!("reading {}", entry.path().display()), e))?;
        if !kind.is_dir() || holds_files(&entry.path())? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// `path` if it is a plain relative path (no root, no `..`, no `.`): what
/// a manifest may name, so that a restore never writes outside its target.
pub(crate) fn plain_relative(path: &str) -> Option<PathBuf> {
    let path = Path::new(path);
    let plain = !path.as_os_str().is_empty()
        && path.components().all(|c| matches!(c, Component::Normal(_)));
    plain.then(|| path.to_owned())
}

/// A stored path (`artifacts.path`) relative to the data directory `root`:
/// relative paths as they are, absolute ones (the legacy app's) when they
/// lie inside `root`; `None` for anything that would leave it.
pub(crate) fn stored_relative(root: &Path, stored: &str) -> Option<PathBuf> {
    let path = Path::new(stored);
    let relative = if path.is_absolute() {
        path.strip_prefix(root).ok()?
    } else {
        path
    };
    plain_relative(&relative.to_string_lossy())
}
