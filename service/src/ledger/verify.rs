//! `dms verify`: walk every chain (or one case's and the global one),
//! recompute every hash, compare the heads, the current rows and the
//! stored files with the state the last entry of each case recorded, and
//! adopt (once, on the first run after revision 007) the cases that
//! predate the ledger.

use std::collections::{BTreeMap, BTreeSet};

use entity::{cases, ledger_entries, procurement_references};
use futures_util::StreamExt;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::Serialize;
use serde_json::{Map, Value};

use super::append::{GLOBAL, Head, case_chain, genesis, heads, record_global};
use super::canonical::{self, ZERO};
use super::state::{self, MISSING};
use crate::storage::Storage;
use crate::{Error, db};

/// What to verify.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// One case (its id or its reference), with the global chain.
    pub case: Option<String>,
    /// The fingerprint printed on a PV of that case: the chain must hold
    /// an entry with it; entries after it are listed.
    pub expect: Option<String>,
}

/// One thing that differs from what the ledger recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The case's reference (or id), when the finding is about a case.
    pub case: Option<String>,
    /// The record: `ledger entry 12`, `memory_entries/<id>`, `file/<id>`.
    pub record: String,
    pub what: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.case {
            Some(case) => write!(f, "{} of case {case}: {}", self.record, self.what),
            None => write!(f, "{}: {}", self.record, self.what),
        }
    }
}

/// What a verification found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub entries: u64,
    pub chains: u64,
    pub files: u64,
    pub findings: Vec<Finding>,
    /// The heads as the chains end (the last entry of each chain walked).
    pub heads: Vec<Head>,
}

impl Report {
    pub fn intact(&self) -> bool {
        self.findings.is_empty()
    }
}

/// The global entry that says adoption ran.
const ADOPTION: &str = "adoption";

/// Adoption, once: when the global chain has no `adoption` entry yet, a
/// genesis entry for every case without a chain, then the `adoption`
/// entry. Later, a case without a chain is a finding, never adopted.
/// Returns how many cases were adopted.
pub async fn adopt(db: &DatabaseConnection, data: &Storage) -> Result<usize, Error> {
    let done = |db: &DatabaseConnection| {
        let db = db.clone();
        async move {
            Ok::<bool, Error>(
                ledger_entries::Entity::find()
                    .filter(ledger_entries::Column::Chain.eq(GLOBAL))
                    .filter(ledger_entries::Column::Kind.eq(ADOPTION))
                    .one(&db)
                    .await?
                    .is_some(),
            )
        }
    };
    if done(db).await? {
        return Ok(0);
    }
    let tx = db::begin_write(db).await?;
    // Another process may have adopted meanwhile: the global head's lock
    // (taken by the append below) orders us; check again inside.
    let chained: BTreeSet<String> = entity::ledger_heads::Entity::find()
        .all(&tx)
        .await?
        .into_iter()
        .map(|h| h.chain)
        .collect();
    let ids: Vec<String> = cases::Entity::find()
        .select_only()
        .column(cases::Column::Id)
        .into_tuple()
        .all(&tx)
        .await?;
    let mut adopted = 0;
    for id in ids {
        if !chained.contains(&case_chain(&id)) {
            genesis(&tx, data, &id).await?;
            adopted += 1;
        }
    }
    record_global(
        &tx,
        None,
        ADOPTION,
        serde_json::json!({"cases_adopted": adopted}),
    )
    .await?;
    tx.commit().await?;
    Ok(adopted)
}

struct ChainWalk {
    next_seq: i64,
    previous: String,
    last: Option<ledger_entries::Model>,
}

/// Verifies the ledger against the database and the files of `data`.
/// `progress` is told how many entries were walked, now and then.
pub async fn verify(
    db: &DatabaseConnection,
    data: &Storage,
    options: &Options,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Report, Error> {
    adopt(db, data).await?;
    let references: BTreeMap<String, String> = procurement_references::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.case_id, r.ref_number))
        .collect();
    let only = match &options.case {
        None => None,
        Some(given) => Some(resolve(db, &references, given).await?),
    };
    let name = |case_id: &str| {
        references
            .get(case_id)
            .cloned()
            .unwrap_or_else(|| case_id.to_owned())
    };
    let mut report = Report::default();
    let mut walks: BTreeMap<String, ChainWalk> = BTreeMap::new();
    let mut recorded_cases: BTreeSet<String> = BTreeSet::new();
    let mut expected_chain: Vec<ledger_entries::Model> = Vec::new();

    let mut query = ledger_entries::Entity::find();
    if let Some(case_id) = &only {
        query = query
            .filter(ledger_entries::Column::Chain.is_in([GLOBAL.to_owned(), case_chain(case_id)]));
    }
    let mut stream = query
        .order_by_asc(ledger_entries::Column::Chain)
        .order_by_asc(ledger_entries::Column::Seq)
        .stream(db)
        .await?;
    while let Some(entry) = stream.next().await {
        let entry = entry?;
        report.entries += 1;
        if report.entries.is_multiple_of(10_000) {
            progress(report.entries);
        }
        let case = entry.chain.strip_prefix("case:").map(&name);
        let walk = walks.entry(entry.chain.clone()).or_insert(ChainWalk {
            next_seq: 1,
            previous: ZERO.to_owned(),
            last: None,
        });
        if entry.seq != walk.next_seq {
            report.findings.push(Finding {
                case: case.clone(),
                record: format!("ledger entry {}", entry.seq),
                what: format!(
                    "entry {} expected: entries are missing or were moved",
                    walk.next_seq
                ),
            });
        }
        let hash = canonical::chain(
            &walk.previous,
            &canonical::entry(
                &entry.chain,
                entry.seq,
                &entry.recorded_at,
                entry.actor,
                &entry.kind,
                &entry.record,
            ),
        );
        if hash != entry.hash {
            report.findings.push(Finding {
                case: case.clone(),
                record: format!("ledger entry {} ({})", entry.seq, entry.kind),
                what: "does not match its hash: changed, moved or inserted after it was recorded"
                    .into(),
            });
        }
        if entry.chain == GLOBAL
            && let Some(id) = recorded_case(&entry)
        {
            recorded_cases.insert(id);
        }
        if options.expect.is_some() && entry.chain != GLOBAL {
            expected_chain.push(entry.clone());
        }
        walk.next_seq = entry.seq + 1;
        walk.previous = entry.hash.clone();
        walk.last = Some(entry);
    }
    drop(stream);
    progress(report.entries);
    report.chains = walks.len() as u64;

    // The heads: a chain that ends before its head lost its last entries.
    for head in heads(db).await? {
        if let Some(case_id) = &only
            && head.chain != GLOBAL
            && head.chain != case_chain(case_id)
        {
            continue;
        }
        let case = head.chain.strip_prefix("case:").map(&name);
        match walks.get(&head.chain).and_then(|w| w.last.as_ref()) {
            None => report.findings.push(Finding {
                case,
                record: format!("ledger chain {}", head.chain),
                what: format!("has no entry left, its head names entry {}", head.seq),
            }),
            Some(last) if last.seq != head.seq || last.hash != head.hash => {
                report.findings.push(Finding {
                    case,
                    record: format!("ledger chain {}", head.chain),
                    what: format!(
                        "ends at entry {} but its head names entry {}: entries were deleted from its end or replaced",
                        last.seq, head.seq
                    ),
                })
            }
            Some(_) => {}
        }
    }

    // Each case the global chain knows, and each case of the database.
    let mut case_ids: BTreeSet<String> = recorded_cases.clone();
    let existing: Vec<String> = cases::Entity::find()
        .select_only()
        .column(cases::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    case_ids.extend(existing.iter().cloned());
    if let Some(case_id) = &only {
        case_ids.retain(|c| c == case_id);
    }
    for case_id in &case_ids {
        let case = Some(name(case_id));
        let recorded = walks
            .get(&case_chain(case_id))
            .and_then(|w| w.last.as_ref())
            .and_then(|e| serde_json::from_str::<Value>(&e.record).ok())
            .and_then(|r| r.get("state").and_then(Value::as_object).cloned());
        let Some(recorded) = recorded else {
            report.findings.push(Finding {
                case,
                record: format!("case {case_id}"),
                what: if recorded_cases.contains(case_id) {
                    "its ledger chain is missing".into()
                } else {
                    "added without a ledger entry".into()
                },
            });
            continue;
        };
        compare(db, data, case_id, case, &recorded, &mut report).await?;
    }

    if let (Some(expect), Some(_)) = (&options.expect, &only) {
        expected(
            expect,
            &expected_chain,
            &only.as_deref().map(&name),
            &mut report,
        );
    }
    report.heads = walks
        .into_iter()
        .filter_map(|(chain, w)| {
            w.last.map(|e| Head {
                chain,
                seq: e.seq,
                hash: e.hash,
            })
        })
        .collect();
    Ok(report)
}

/// The case a global entry records the creation or adoption of.
fn recorded_case(entry: &ledger_entries::Model) -> Option<String> {
    if !matches!(entry.kind.as_str(), "case_created" | "case_adopted") {
        return None;
    }
    let record: Value = serde_json::from_str(&entry.record).ok()?;
    record["details"]["case_id"].as_str().map(str::to_owned)
}

/// The rows and files of case `case_id` now against `recorded`.
async fn compare(
    db: &impl ConnectionTrait,
    data: &Storage,
    case_id: &str,
    case: Option<String>,
    recorded: &Map<String, Value>,
    report: &mut Report,
) -> Result<(), Error> {
    let now = state::rows(db, case_id).await?;
    let mut current = now.rows;
    for a in &now.artifacts {
        report.files += 1;
        current.insert(
            format!("file/{}", a.id),
            Value::from(state::file_hash(data, a).await),
        );
    }
    let keys: BTreeSet<&String> = recorded.keys().chain(current.keys()).collect();
    for key in keys {
        let what = match (recorded.get(key), current.get(key)) {
            (Some(a), Some(b)) if a == b => continue,
            (Some(_), Some(b)) if key.starts_with("file/") && b == MISSING => {
                "the stored file is missing".to_owned()
            }
            (Some(_), Some(_)) if key.starts_with("file/") => {
                "the stored file differs from the one recorded".to_owned()
            }
            (Some(_), Some(_)) => "changed after it was recorded".to_owned(),
            (Some(_), None) if key.starts_with("cases/") => "the case was deleted".to_owned(),
            (Some(_), None) => "deleted after it was recorded".to_owned(),
            (None, Some(_)) => "added without a ledger entry".to_owned(),
            (None, None) => continue,
        };
        report.findings.push(Finding {
            case: case.clone(),
            record: key.clone(),
            what,
        });
    }
    Ok(())
}

/// `--expect`: the entry with that fingerprint, and what came after it.
fn expected(
    expect: &str,
    chain: &[ledger_entries::Model],
    case: &Option<String>,
    report: &mut Report,
) {
    let wanted: String = expect
        .chars()
        .filter(char::is_ascii_hexdigit)
        .collect::<String>()
        .to_lowercase();
    let at = chain
        .iter()
        .position(|e| !wanted.is_empty() && e.hash.starts_with(&wanted));
    match at {
        None => report.findings.push(Finding {
            case: case.clone(),
            record: format!("fingerprint {expect}"),
            what: "no entry of the case's chain has it: the record signed is not in the ledger"
                .into(),
        }),
        Some(i) => {
            // The entry of the run or decision that wrote the PV follows
            // the head the PV printed: it is part of what was signed.
            let signed = chain
                .get(i + 1)
                .is_some_and(|e| matches!(e.kind.as_str(), "analysis_run" | "decision_recorded"));
            let after = if signed { i + 2 } else { i + 1 };
            for e in chain.iter().skip(after) {
                report.findings.push(Finding {
                    case: case.clone(),
                    record: format!("ledger entry {} ({})", e.seq, e.kind),
                    what: format!("recorded at {} after the signed fingerprint", e.recorded_at),
                });
            }
        }
    }
}

/// A case id from an id or a reference.
async fn resolve(
    db: &impl ConnectionTrait,
    references: &BTreeMap<String, String>,
    given: &str,
) -> Result<String, Error> {
    if let Some((id, _)) = references.iter().find(|(_, r)| r.as_str() == given) {
        return Ok(id.clone());
    }
    crate::cases::check_id(given)?;
    let known = cases::Entity::find_by_id(given).one(db).await?.is_some()
        || ledger_entries::Entity::find()
            .filter(ledger_entries::Column::Chain.eq(case_chain(given)))
            .one(db)
            .await?
            .is_some();
    if known {
        Ok(given.to_owned())
    } else {
        Err(Error::not_found("case", given))
    }
}
