//! The errors of the runner: every message is one line that says what to do,
//! and keeps its cause as its source.

use sea_orm_migration::sea_orm::{DbErr, RuntimeErr, sqlx};

use crate::checksum::Edited;
use crate::revision::UnknownRevision;

/// What can go wrong.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "malformed database URL '{0}' (expected sqlite://FILE?mode=rwc, postgres://USER@HOST:5432/DB or mysql://USER@HOST:3306/DB)"
    )]
    MalformedUrl(String),
    #[error(
        "unsupported database URL scheme '{0}' (use sqlite://, postgres:// or mysql:// / mariadb://)"
    )]
    UnsupportedScheme(String),
    #[error(
        "cannot connect to {url}: {reason} (check DATABASE_URL and that the server is running)"
    )]
    Connect {
        url: String,
        reason: String,
        #[source]
        source: DbErr,
    },
    #[error(
        "cannot take the migration lock file {path}: {source} (check that its directory is writable)"
    )]
    LockFile {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{direction} of revision {revision} failed: {} ({hint})", describe(.source))]
    Revision {
        direction: &'static str,
        revision: &'static str,
        hint: &'static str,
        #[source]
        source: DbErr,
    },
    #[error(transparent)]
    UnknownRevision(#[from] UnknownRevision),
    #[error(
        "the database is at revision '{0}', which this binary does not know: it was migrated by a newer version (use that version; nothing was changed)"
    )]
    DatabaseAhead(String),
    #[error(
        "alembic_version names revision '{given}', which this chain does not know (expected one of {known}); nothing was changed"
    )]
    UnknownAlembic { given: String, known: String },
    #[error(
        "another migration still holds the lock after {0} s (wait for it to finish, or raise --lock-timeout)"
    )]
    LockTimeout(u64),
    #[error(
        "refusing to drop data: {0} would be lost (back it up, then re-run with --force; --dry-run shows the plan)"
    )]
    WouldLoseData(String),
    #[error(
        "refusing to migrate on top of an edited revision: {} (restore its code, declare the recorded checksum in its ACCEPTED_CHECKSUMS, or re-run with --allow-edited)",
        join_edited(.0)
    )]
    Edited(Vec<Edited>),
    #[error("cannot render revision {revision} for its checksum: {} (fix the revision, then run again)", describe(.source))]
    Render {
        revision: &'static str,
        #[source]
        source: DbErr,
    },
    #[error("database error: {} (check the database and run again)", describe(.0))]
    Db(#[from] DbErr),
}

impl Error {
    /// The message split into what went wrong and what to do: the hint is
    /// the parenthesised text that ends every message (`None` if it has none).
    pub fn parts(&self) -> (String, Option<String>) {
        let text = self.to_string();
        if let Some(body) = text.strip_suffix(')') {
            let mut depth = 0usize;
            for (i, c) in body.char_indices().rev() {
                match c {
                    ')' => depth += 1,
                    '(' if depth == 0 => {
                        let what = body[..i].trim_end();
                        if what.is_empty() {
                            break;
                        }
                        return (what.to_owned(), Some(body[i + 1..].to_owned()));
                    }
                    '(' => depth -= 1,
                    _ => {}
                }
            }
        }
        (text, None)
    }

    /// The process exit code: 2 for a usage error, else 1.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::UnknownRevision(_) => 2,
            _ => 1,
        }
    }
}

fn join_edited(edited: &[Edited]) -> String {
    edited
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Text on one line, its white space collapsed.
pub(crate) fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What went wrong in a database call, in one line: the server's own message
/// without its internals (source file, line, routine), the I/O or TLS cause.
pub(crate) fn describe(e: &DbErr) -> String {
    let sqlx_error = match e {
        DbErr::Conn(RuntimeErr::SqlxError(e))
        | DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e)) => Some(e.as_ref()),
        _ => None,
    };
    match sqlx_error {
        Some(sqlx::Error::Database(db)) => one_line(db.message()),
        Some(sqlx::Error::Io(io)) => one_line(&io.to_string()),
        Some(sqlx::Error::Tls(tls)) => format!("TLS: {}", one_line(&tls.to_string())),
        Some(sqlx::Error::PoolTimedOut) => format!(
            "no connection within {} s (the server did not answer)",
            super::timeouts::CONNECT_TIMEOUT.as_secs()
        ),
        Some(other) => one_line(&other.to_string()),
        None => one_line(&e.to_string()),
    }
}
