//! Offline SQL (`upgrade --sql`, `downgrade --sql`): the scripts the runner
//! would execute, recorded without a database (see `crate::script`).

use std::collections::BTreeSet;

use sea_orm_migration::sea_orm::DbBackend;

use super::error::Error;
use super::ops::{Direction, run_all, to_apply, to_roll_back};
use super::target::{DownTarget, Target};
use crate::bookkeeping::{self, RevisionState};
use crate::checksum::Code;
use crate::revision::Rev;
use crate::script;

/// The chain with every revision applied (`true`) or pending.
fn assumed_states(applied: bool) -> Vec<RevisionState> {
    Rev::all()
        .map(|rev| RevisionState {
            rev,
            applied_at: applied.then_some(0),
        })
        .collect()
}

/// The SQL an upgrade to `target` runs on an empty database of `backend`,
/// bookkeeping included, without connecting to any database.
pub async fn upgrade_sql(backend: DbBackend, target: &Target) -> Result<String, Error> {
    let states = assumed_states(false);
    let revisions = to_apply(&states, target);
    let code = Code::render(backend, crate::REVISIONS).await?;
    let (conn, statements) = script::recorder(backend, false);
    bookkeeping::install(&conn).await?;
    // An empty database serves nothing yet: indexes are built in the transaction.
    run_all(
        &conn,
        &revisions,
        Direction::Up,
        BTreeSet::new(),
        false,
        &code,
    )
    .await?;
    script::render(&statements)
}

/// The SQL a downgrade to `target` runs on a database of `backend` at head,
/// without connecting to any database.
pub async fn downgrade_sql(backend: DbBackend, target: &DownTarget) -> Result<String, Error> {
    let states = assumed_states(true);
    let revisions = to_roll_back(&states, target);
    let code = Code::render(backend, crate::REVISIONS).await?;
    let (conn, statements) = script::recorder(backend, true);
    let applied = Rev::all().collect();
    run_all(&conn, &revisions, Direction::Down, applied, false, &code).await?;
    script::render(&statements)
}
