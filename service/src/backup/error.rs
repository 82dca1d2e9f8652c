//! Why a backup or a restore stopped. Each variant words itself as the
//! CLI's one line: what went wrong, then (in parentheses) what to do.

use std::path::PathBuf;

/// What `dms backup` and `dms restore` can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "`dms backup` snapshots only the embedded SQLite database; this one is {kind} (dump it with {tool} as the README's \"Backups\" says, then run `dms backup --files-only DEST` for the files)"
    )]
    ServerDatabase {
        kind: &'static str,
        tool: &'static str,
    },

    #[error("no SQLite database at {} (check DATABASE_URL)", path.display())]
    NoDatabase { path: PathBuf },

    #[error("{} exists and is not empty (name a new or empty directory)", path.display())]
    DestinationNotEmpty { path: PathBuf },

    #[error(
        "{count} stored file(s) the database names are missing, first {first} (listed under \"missing\" in {}; find the files or restore them from an older backup)",
        manifest.display()
    )]
    MissingFiles {
        count: usize,
        first: String,
        manifest: PathBuf,
    },

    #[error("{}: {reason} (name a directory written by `dms backup`)", path.display())]
    BadManifest { path: PathBuf, reason: String },

    #[error(
        "{what} does not match the manifest: {difference} (the backup was altered or damaged: nothing was restored; use another copy)"
    )]
    Altered { what: String, difference: String },

    #[error(
        "this backup holds a SQLite database but DATABASE_URL names a {kind} database (restore it into a sqlite:// URL; for {kind}, take a --files-only backup and the native dump)"
    )]
    NotSqliteTarget { kind: &'static str },

    #[error("{what} {} is not empty (stop the server and add --force to replace it)", path.display())]
    TargetNotEmpty { what: &'static str, path: PathBuf },

    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },

    #[error("{0}")]
    Database(String),
}

impl Error {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}

impl From<sea_orm::DbErr> for Error {
    fn from(e: sea_orm::DbErr) -> Self {
        Error::Database(format!("database error: {}", one_line(&e.to_string())))
    }
}

impl From<crate::db::StartError> for Error {
    fn from(e: crate::db::StartError) -> Self {
        Error::Database(e.to_string())
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
