//! The runner: connecting, targets, applying and rolling back revisions,
//! `check`, and offline SQL. One file per concern:
//!
//! - `error`: the one error type, one line each;
//! - `connection`: URLs and the one connection of a run;
//! - `target`: targets resolved to revisions of the chain;
//! - `ops`: upgrade, downgrade and the operations built on them;
//! - `check`: the live schema against the chain's;
//! - `timeouts`: how long a run waits;
//! - `offline`: `--sql` scripts.

mod check;
mod connection;
mod error;
mod offline;
mod ops;
mod target;
mod timeouts;

pub use check::check;
pub use connection::{
    DEFAULT_DATABASE_URL, backend_of, connect, create_private_sqlite_file, normalize_url, redact,
};
pub(crate) use connection::{dedicated, sqlite_file};
pub use error::Error;
pub use offline::{downgrade_sql, upgrade_sql};
pub use ops::{
    INDEX_LOCK_TIMEOUT_SECS, Options, Outcome, down, downgrade, fresh, refresh, reset, stamp,
    status, up, upgrade, upgrade_against, verify,
};
pub use target::{DownTarget, StampTarget, Target, UpTarget};
pub use timeouts::CONNECT_TIMEOUT;
