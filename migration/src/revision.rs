//! What a revision is: the one place a revision declares its id, what it
//! does, what its downgrade drops and the indexes it adds. The runner, the
//! data-loss guard, the CLI's messages and the tests read these declarations;
//! nothing matches revision ids as strings.

use sea_orm_migration::SchemaManager;
use sea_orm_migration::sea_orm::DbErr;

/// The work of a revision: its upgrade and its downgrade, each run as one
/// unit by the runner (see `runner::apply`).
#[async_trait::async_trait]
pub trait Steps: Send + Sync {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr>;
    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr>;
}

/// A revision of the chain. Every constant is required: a revision that does
/// not say what its downgrade drops does not compile.
pub trait Revision: Steps + Default + 'static {
    /// The production revision id (`alembic_version.version_num`).
    const ID: &'static str;
    /// What the revision does, in one line.
    const DESCRIPTION: &'static str;
    /// What its downgrade drops; the data-loss guard counts their rows.
    const DROPS: Drops;
    /// Indexes the revision adds after its `up`, as `(table, column)`, each
    /// named `idx_<table>_<column>`; its downgrade drops them before its
    /// `down`. The runner builds them (concurrently on a PostgreSQL database
    /// in use), so a revision only lists them.
    const INDEXES: &'static [(&'static str, &'static str)] = &[];
    /// Checksums (SHA-256, lower-case hex) of renderings this revision had
    /// before, accepted as its own: a revision whose SQL must legitimately
    /// change (a backend quirk fixed) lists what databases recorded, so that
    /// `check` and `up` do not report it as edited. None by default.
    const ACCEPTED_CHECKSUMS: &'static [&'static str] = &[];
}

/// What a revision's downgrade drops.
#[derive(Clone, Copy, Debug)]
pub struct Drops {
    /// Tables dropped whole, each with its seed key column (rows equal to a
    /// seed row of the chain are the chain's own, not user data).
    pub tables: &'static [(&'static str, Option<&'static str>)],
    /// Columns dropped, each with the value that counts as empty besides NULL.
    pub columns: &'static [(&'static str, &'static str, Option<&'static str>)],
}

impl Drops {
    /// A downgrade that drops no table and no column.
    pub const NOTHING: Drops = Drops {
        tables: &[],
        columns: &[],
    };

    /// What it drops, in words.
    pub fn summary(&self) -> String {
        let tables: Vec<&str> = self.tables.iter().map(|(t, _)| *t).collect();
        let columns: Vec<String> = self
            .columns
            .iter()
            .map(|(t, c, _)| format!("{t}.{c}"))
            .collect();
        match (tables.is_empty(), columns.is_empty()) {
            (true, true) => "no table and no column".to_owned(),
            (false, true) => format!("tables {}", tables.join(", ")),
            (true, false) => format!("columns {}", columns.join(", ")),
            (false, false) => format!(
                "tables {}; columns {}",
                tables.join(", "),
                columns.join(", ")
            ),
        }
    }
}

/// One entry of the chain, built from a [`Revision`] by [`Entry::of`].
#[derive(Clone, Copy)]
pub struct Entry {
    pub id: &'static str,
    pub description: &'static str,
    pub drops: Drops,
    pub indexes: &'static [(&'static str, &'static str)],
    pub accepted_checksums: &'static [&'static str],
    build: fn() -> Box<dyn Steps>,
}

fn boxed<R: Revision>() -> Box<dyn Steps> {
    Box::new(R::default())
}

impl Entry {
    pub const fn of<R: Revision>() -> Entry {
        Entry {
            id: R::ID,
            description: R::DESCRIPTION,
            drops: R::DROPS,
            indexes: R::INDEXES,
            accepted_checksums: R::ACCEPTED_CHECKSUMS,
            build: boxed::<R>,
        }
    }

    pub fn steps(&self) -> Box<dyn Steps> {
        (self.build)()
    }
}

/// The name of the index a revision adds on `table (column)`.
pub fn index_name(table: &str, column: &str) -> String {
    format!("idx_{table}_{column}")
}

/// A revision of the chain, by position: only [`resolve`], [`Rev::head`] and
/// the chain itself make one, so a `Rev` always names a known revision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rev(usize);

impl Rev {
    /// The newest revision of the chain.
    pub fn head() -> Rev {
        Rev(crate::REVISIONS.len() - 1)
    }

    /// Every revision, oldest first.
    pub fn all() -> impl DoubleEndedIterator<Item = Rev> + ExactSizeIterator {
        (0..crate::REVISIONS.len()).map(Rev)
    }

    pub fn entry(self) -> &'static Entry {
        &crate::REVISIONS[self.0]
    }

    pub fn id(self) -> &'static str {
        self.entry().id
    }

    /// Position in the chain, 0 for the first revision.
    pub fn index(self) -> usize {
        self.0
    }

    /// The revision with this exact id.
    pub fn find(id: &str) -> Option<Rev> {
        crate::REVISIONS.iter().position(|e| e.id == id).map(Rev)
    }
}

impl std::fmt::Display for Rev {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

/// The revision ids, oldest first, joined for messages.
pub fn known() -> String {
    crate::REVISIONS
        .iter()
        .map(|e| e.id)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Why a revision argument names no revision.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown revision '{given}' (known: {known}, or head / base)")]
pub struct UnknownRevision {
    pub given: String,
    pub known: String,
}

/// A revision given by its full id or by an unambiguous prefix (`003`).
pub fn resolve(given: &str) -> Result<Rev, UnknownRevision> {
    if let Some(rev) = Rev::find(given) {
        return Ok(rev);
    }
    let matches: Vec<Rev> = Rev::all().filter(|r| r.id().starts_with(given)).collect();
    match (given.is_empty(), matches.as_slice()) {
        (false, [one]) => Ok(*one),
        _ => Err(UnknownRevision {
            given: given.to_owned(),
            known: known(),
        }),
    }
}
