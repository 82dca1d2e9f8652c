//! The tamper-evident ledger: every write the decision memory rests on
//! appends an entry, in its own transaction, to its case's hash chain
//! (`case:<id>`); case creations, accounts and the anchors of decided PVs
//! go to the `global` chain. [`canonical`] defines the encoding and the
//! hashes once; [`state`] what an entry records of a case; [`verify`]
//! walks every chain and compares the recorded state with the database and
//! the stored files.

mod append;
pub mod canonical;
mod state;
mod verify;

pub use append::{
    GLOBAL, Head, case_anchor, case_chain, case_head, heads, record_case, record_global,
};
pub use verify::{Finding, Options, Report, adopt, verify};
