//! Appending to a chain, inside the caller's transaction: the chain's head
//! row is locked, the entry written at the next position with its hash,
//! the head moved. A case's chain is appended under the case's lock (every
//! case write holds it), so cases never wait on one another; the global
//! chain takes case creations, accounts and anchors.

use entity::{ledger_entries, ledger_heads};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ConnectionTrait, EntityTrait, QueryOrder, QuerySelect,
};
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::canonical::{self, ZERO};
use super::state;
use crate::{Error, timestamp};

/// The chain of accounts, case creations and anchors.
pub const GLOBAL: &str = "global";

/// The chain of case `case_id`.
pub fn case_chain(case_id: &str) -> String {
    format!("case:{case_id}")
}

/// A chain's last entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Head {
    pub chain: String,
    pub seq: i64,
    pub hash: String,
}

impl Head {
    /// The short form printed on a PV.
    pub fn fingerprint(&self) -> String {
        canonical::fingerprint(&self.hash)
    }
}

/// Appends `kind` with `record` to `chain`.
async fn append(
    tx: &impl ConnectionTrait,
    chain: &str,
    actor: Option<i32>,
    kind: &str,
    record: &Value,
) -> Result<Head, Error> {
    let head = ledger_heads::Entity::find_by_id(chain)
        .lock_exclusive()
        .one(tx)
        .await?;
    let (seq, previous) = head
        .as_ref()
        .map_or((1, ZERO.to_owned()), |h| (h.seq + 1, h.hash.clone()));
    let recorded_at = timestamp::now();
    let record = canonical::encode(record);
    let hash = canonical::chain(
        &previous,
        &canonical::entry(chain, seq, &recorded_at, actor, kind, &record),
    );
    ledger_entries::ActiveModel {
        chain: Set(chain.to_owned()),
        seq: Set(seq),
        recorded_at: Set(recorded_at),
        actor: Set(actor),
        kind: Set(kind.to_owned()),
        record: Set(record),
        hash: Set(hash.clone()),
    }
    .insert(tx)
    .await?;
    let row = ledger_heads::ActiveModel {
        chain: Set(chain.to_owned()),
        seq: Set(seq),
        hash: Set(hash.clone()),
    };
    match head {
        Some(_) => row.update(tx).await?,
        None => row.insert(tx).await?,
    };
    Ok(Head {
        chain: chain.to_owned(),
        seq,
        hash,
    })
}

/// The state the last entry of `chain` recorded, if any.
async fn last_state(
    tx: &impl ConnectionTrait,
    chain: &str,
) -> Result<Option<Map<String, Value>>, Error> {
    let last = ledger_entries::Entity::find()
        .filter_chain(chain)
        .order_by_desc(ledger_entries::Column::Seq)
        .one(tx)
        .await?;
    Ok(last
        .and_then(|e| serde_json::from_str::<Value>(&e.record).ok())
        .and_then(|r| r.get("state").and_then(Value::as_object).cloned()))
}

trait FilterChain {
    fn filter_chain(self, chain: &str) -> Self;
}

impl FilterChain for sea_orm::Select<ledger_entries::Entity> {
    fn filter_chain(self, chain: &str) -> Self {
        use sea_orm::{ColumnTrait, QueryFilter};
        self.filter(ledger_entries::Column::Chain.eq(chain))
    }
}

/// Records a write on case `case_id` (`kind`, with `details`) in the
/// case's chain, with the case's state after it. Called in the write's
/// transaction, which holds the case's lock.
pub async fn record_case(
    tx: &impl ConnectionTrait,
    actor: Option<i32>,
    case_id: &str,
    kind: &str,
    details: Value,
) -> Result<Head, Error> {
    let chain = case_chain(case_id);
    let previous = last_state(tx, &chain).await?;
    let state = state::state(tx, None, case_id, previous.as_ref()).await?;
    append(
        tx,
        &chain,
        actor,
        kind,
        &json!({"details": details, "state": state}),
    )
    .await
}

/// Records an event outside any case (an account, a case's creation, an
/// anchor) in the global chain.
pub async fn record_global(
    tx: &impl ConnectionTrait,
    actor: Option<i32>,
    kind: &str,
    details: Value,
) -> Result<Head, Error> {
    append(tx, GLOBAL, actor, kind, &json!({"details": details})).await
}

/// The head of case `case_id`'s chain, if it has one.
pub async fn case_head(db: &impl ConnectionTrait, case_id: &str) -> Result<Option<Head>, Error> {
    Ok(ledger_heads::Entity::find_by_id(case_chain(case_id))
        .one(db)
        .await?
        .map(|h| Head {
            chain: h.chain,
            seq: h.seq,
            hash: h.hash,
        }))
}

/// The head of case `case_id`'s chain as a PV prints it. Read under the
/// case's lock, so no write slips between it and the PV that carries it.
pub async fn case_anchor(
    db: &impl ConnectionTrait,
    case_id: &str,
) -> Result<Option<analysis::LedgerAnchor>, Error> {
    Ok(case_head(db, case_id)
        .await?
        .map(|h| analysis::LedgerAnchor {
            fingerprint: h.fingerprint(),
            hash: h.hash,
        }))
}

/// Every chain's head (per case and global), as the heads table holds them.
pub async fn heads(db: &impl ConnectionTrait) -> Result<Vec<Head>, Error> {
    Ok(ledger_heads::Entity::find()
        .order_by_asc(ledger_heads::Column::Chain)
        .all(db)
        .await?
        .into_iter()
        .map(|h| Head {
            chain: h.chain,
            seq: h.seq,
            hash: h.hash,
        })
        .collect())
}

/// Adoption: a genesis entry for a case that has rows but no chain,
/// recording its rows and files as found (`missing` when not there).
pub(super) async fn genesis(
    tx: &impl ConnectionTrait,
    data: &crate::storage::Storage,
    case_id: &str,
) -> Result<Head, Error> {
    let state = state::state(tx, Some(data), case_id, None).await?;
    let head = append(
        tx,
        &case_chain(case_id),
        None,
        "adopted",
        &json!({"details": {"note": "recorded at adoption, not at creation"}, "state": state}),
    )
    .await?;
    record_global(
        tx,
        None,
        "case_adopted",
        json!({"case_id": case_id, "seq": head.seq, "hash": head.hash}),
    )
    .await?;
    Ok(head)
}
