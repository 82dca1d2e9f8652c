//! Rate limits counted in the database (table `rate_limits`), so that a
//! limit holds across every server on one database: the generic cell rate
//! algorithm (the one `governor` runs in memory), one row per limit and
//! key holding the key's theoretical arrival time (TAT).
//!
//! At `n` a minute, each admitted hit moves the TAT one cell (`60 s / n`)
//! later; a hit is admitted while the TAT it would leave is at most a
//! minute ahead of now. So `n` hits pass at once, then one per cell: no
//! window edge where twice the limit passes. Each hit is ONE statement (an
//! upsert whose update is conditional), so concurrent hits, on one server
//! or several, are serialised by the row's lock and exactly the limit
//! passes. The clock is each server's own (milliseconds): servers sharing
//! a database keep their clocks in step (NTP), as their tokens need anyway.

use sea_orm::{ConnectionTrait, DbBackend, EntityName, IdenStatic, Statement, Value};
use sha2::{Digest, Sha256};

use crate::Error;
use entity::rate_limits::{Column, Entity};

/// The span of a limit: its count is per minute.
const WINDOW_MS: i64 = 60_000;

/// What became of one hit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hit {
    Admitted,
    /// Refused: the next hit of this key is admitted after `retry_after_ms`.
    Refused {
        retry_after_ms: i64,
    },
}

/// A rate: `per_minute` hits, as a cell of the algorithm.
#[derive(Clone, Copy, Debug)]
struct Rate {
    cell: i64,
}

impl Rate {
    fn per_minute(n: u32) -> Rate {
        Rate {
            cell: (WINDOW_MS / i64::from(n.max(1))).max(1),
        }
    }

    /// The latest TAT from which a hit at `now` is still admitted.
    fn last_admitted(self, now: i64) -> i64 {
        now + WINDOW_MS - self.cell
    }

    /// How long after `now` a key whose TAT is `tat` admits its next hit.
    fn wait(self, tat: i64, now: i64) -> i64 {
        (tat.max(now) - self.last_admitted(now)).max(0)
    }
}

/// The stored form of a key: its SHA-256, so that the column is bounded
/// whatever a client sends and keeps no address or username in clear.
fn stored_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// A statement whose `{name}` markers become placeholders bound to the
/// named values, one placeholder per occurrence (PostgreSQL `$n`, others `?`).
fn statement(backend: DbBackend, template: &str, values: &[(&str, Value)]) -> Statement {
    let mut sql = String::with_capacity(template.len());
    let mut bound = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        sql.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let close = after.find('}').unwrap_or(after.len());
        let name = &after[..close];
        match values.iter().find(|(n, _)| *n == name) {
            Some((_, value)) => {
                bound.push(value.clone());
                match backend {
                    DbBackend::Postgres => sql.push_str(&format!("${}", bound.len())),
                    _ => sql.push('?'),
                }
            }
            // Not a marker: kept as written.
            None => {
                sql.push('{');
                sql.push_str(name);
                sql.push('}');
            }
        }
        rest = after.get(close + 1..).unwrap_or("");
    }
    sql.push_str(rest);
    Statement::from_sql_and_values(backend, sql, bound)
}

/// The table and column names, from the entity (so that the drift test
/// covers this SQL too).
fn names(template: &str) -> String {
    template
        .replace("{table}", Entity.table_name())
        .replace("{limit_name}", Column::LimitName.as_str())
        .replace("{limit_key}", Column::LimitKey.as_str())
        .replace("{tat}", Column::Tat.as_str())
        .replace("{refusals}", Column::Refusals.as_str())
}

/// Counts one hit of `key` against `limit` at `per_minute`, at `now_ms`
/// (milliseconds since the Unix epoch): admitted, or refused with the wait.
pub async fn hit<C: ConnectionTrait>(
    db: &C,
    limit: &str,
    key: &str,
    per_minute: u32,
    now_ms: i64,
) -> Result<Hit, Error> {
    let rate = Rate::per_minute(per_minute);
    let backend = db.get_database_backend();
    let values = [
        ("name", Value::from(limit)),
        ("key", Value::from(stored_key(key))),
        ("fresh", Value::from(now_ms + rate.cell)),
        ("now", Value::from(now_ms)),
        ("last", Value::from(rate.last_admitted(now_ms))),
        ("cell", Value::from(rate.cell)),
    ];
    // The TAT a hit starts from: the stored one, or now if it has passed.
    // The condition: the hit is admitted. A refused hit leaves the TAT
    // alone and counts itself in `refusals`.
    if backend == DbBackend::MySql {
        // No RETURNING on an upsert: the refusals are handed back through
        // LAST_INSERT_ID(expr), which the statement's reply carries.
        // Assignments run left to right; `refusals` comes first, while
        // `tat` still holds the old value both conditions read.
        let sql = names(
            "INSERT INTO {table} ({limit_name}, {limit_key}, {tat}, {refusals}) \
             VALUES ({name}, {key}, {fresh}, 0) ON DUPLICATE KEY UPDATE \
             {refusals} = LAST_INSERT_ID(CASE WHEN GREATEST({tat}, {now}) <= {last} \
               THEN 0 ELSE {refusals} + 1 END), \
             {tat} = CASE WHEN GREATEST({tat}, {now}) <= {last} \
               THEN GREATEST({tat}, {now}) + {cell} ELSE {tat} END",
        );
        let done = db.execute_raw(statement(backend, &sql, &values)).await?;
        // With FOUND_ROWS (sqlx sets it) an insert counts 1 row and an
        // update 2 (every update changes the row): a fresh key is admitted.
        if done.rows_affected() == 1 || done.last_insert_id() == 0 {
            return Ok(Hit::Admitted);
        }
        // The stored TAT is not handed back: the wait is at most one cell.
        return Ok(Hit::Refused {
            retry_after_ms: rate.cell,
        });
    }
    let sql = names(
        "INSERT INTO {table} ({limit_name}, {limit_key}, {tat}, {refusals}) \
         VALUES ({name}, {key}, {fresh}, 0) \
         ON CONFLICT ({limit_name}, {limit_key}) DO UPDATE SET \
         {refusals} = CASE WHEN (CASE WHEN {table}.{tat} > {now} THEN {table}.{tat} ELSE {now} END) <= {last} \
           THEN 0 ELSE {table}.{refusals} + 1 END, \
         {tat} = CASE WHEN (CASE WHEN {table}.{tat} > {now} THEN {table}.{tat} ELSE {now} END) <= {last} \
           THEN (CASE WHEN {table}.{tat} > {now} THEN {table}.{tat} ELSE {now} END) + {cell} \
           ELSE {table}.{tat} END \
         RETURNING {refusals}, {tat}",
    );
    let row = db
        .query_one_raw(statement(backend, &sql, &values))
        .await?
        .ok_or_else(|| Error::Internal("the rate-limit upsert returned no row".to_owned()))?;
    let refusals: i64 = row.try_get_by_index(0)?;
    let tat: i64 = row.try_get_by_index(1)?;
    Ok(if refusals == 0 {
        Hit::Admitted
    } else {
        Hit::Refused {
            retry_after_ms: rate.wait(tat, now_ms),
        }
    })
}

/// Whether the next hit of `key` against `limit` at `per_minute` would be
/// refused at `now_ms`, without counting one (a read).
pub async fn exhausted<C: ConnectionTrait>(
    db: &C,
    limit: &str,
    key: &str,
    per_minute: u32,
    now_ms: i64,
) -> Result<bool, Error> {
    let rate = Rate::per_minute(per_minute);
    let backend = db.get_database_backend();
    let sql =
        names("SELECT {tat} FROM {table} WHERE {limit_name} = {name} AND {limit_key} = {key}");
    let values = [
        ("name", Value::from(limit)),
        ("key", Value::from(stored_key(key))),
    ];
    let Some(row) = db.query_one_raw(statement(backend, &sql, &values)).await? else {
        return Ok(false);
    };
    let tat: i64 = row.try_get_by_index(0)?;
    Ok(rate.wait(tat, now_ms) > 0)
}

/// Deletes the rows whose TAT has passed (a key in that state behaves as a
/// key never seen); returns how many went.
pub async fn forget_past<C: ConnectionTrait>(db: &C, now_ms: i64) -> Result<u64, Error> {
    let backend = db.get_database_backend();
    let sql = names("DELETE FROM {table} WHERE {tat} < {now}");
    let done = db
        .execute_raw(statement(backend, &sql, &[("now", Value::from(now_ms))]))
        .await?;
    Ok(done.rows_affected())
}

/// The same algorithm in this process's memory, for the embedded SQLite
/// database: it serves one process, and a write per hit there would queue
/// behind every other write on SQLite's single writer lock (a long
/// decision would hold sign-ins back). Several servers need a server
/// database (README "Running several servers"), where the table counts.
#[derive(Debug, Default)]
pub struct InMemory {
    tats: std::sync::Mutex<std::collections::HashMap<(String, String), i64>>,
}

impl InMemory {
    fn tats(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<(String, String), i64>> {
        self.tats.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// As [`hit`], in memory.
    pub fn hit(&self, limit: &str, key: &str, per_minute: u32, now_ms: i64) -> Hit {
        let rate = Rate::per_minute(per_minute);
        let mut tats = self.tats();
        let slot = (limit.to_owned(), key.to_owned());
        let start = tats.get(&slot).copied().unwrap_or(now_ms).max(now_ms);
        if start <= rate.last_admitted(now_ms) {
            tats.insert(slot, start + rate.cell);
            Hit::Admitted
        } else {
            Hit::Refused {
                retry_after_ms: rate.wait(start, now_ms),
            }
        }
    }

    /// As [`exhausted`], in memory.
    pub fn exhausted(&self, limit: &str, key: &str, per_minute: u32, now_ms: i64) -> bool {
        let rate = Rate::per_minute(per_minute);
        self.tats()
            .get(&(limit.to_owned(), key.to_owned()))
            .is_some_and(|&tat| rate.wait(tat, now_ms) > 0)
    }

    /// As [`forget_past`], in memory.
    pub fn forget_past(&self, now_ms: i64) -> u64 {
        let mut tats = self.tats();
        let before = tats.len();
        tats.retain(|_, tat| *tat >= now_ms);
        (before - tats.len()) as u64
    }
}

/// Where a server counts its limits: the shared table (server databases),
/// or its own memory (the embedded SQLite database, see [`InMemory`]).
#[derive(Clone, Debug)]
pub enum Counter {
    Table(sea_orm::DatabaseConnection),
    Memory(std::sync::Arc<InMemory>),
}

impl Counter {
    /// The counter for a server on `db`.
    pub fn for_database(db: sea_orm::DatabaseConnection) -> Counter {
        if db.get_database_backend() == DbBackend::Sqlite {
            Counter::Memory(std::sync::Arc::default())
        } else {
            Counter::Table(db)
        }
    }

    /// See [`hit`].
    pub async fn hit(
        &self,
        limit: &str,
        key: &str,
        per_minute: u32,
        now_ms: i64,
    ) -> Result<Hit, Error> {
        match self {
            Counter::Table(db) => hit(db, limit, key, per_minute, now_ms).await,
            Counter::Memory(memory) => Ok(memory.hit(limit, key, per_minute, now_ms)),
        }
    }

    /// See [`exhausted`].
    pub async fn exhausted(
        &self,
        limit: &str,
        key: &str,
        per_minute: u32,
        now_ms: i64,
    ) -> Result<bool, Error> {
        match self {
            Counter::Table(db) => exhausted(db, limit, key, per_minute, now_ms).await,
            Counter::Memory(memory) => Ok(memory.exhausted(limit, key, per_minute, now_ms)),
        }
    }

    /// See [`forget_past`].
    pub async fn forget_past(&self, now_ms: i64) -> Result<u64, Error> {
        match self {
            Counter::Table(db) => forget_past(db, now_ms).await,
            Counter::Memory(memory) => Ok(memory.forget_past(now_ms)),
        }
    }
}

/// Milliseconds since the Unix epoch, by this server's clock.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_of_n_then_one_per_cell() {
        let rate = Rate::per_minute(10);
        assert_eq!(rate.cell, 6_000);
        let now = 1_000_000;
        // A fresh key after nine admitted hits at `now`: TAT is now + 54 s.
        assert_eq!(rate.wait(now + 54_000, now), 0);
        // After ten: the next waits one cell.
        assert_eq!(rate.wait(now + 60_000, now), 6_000);
    }

    #[test]
    fn in_memory_admits_a_burst_of_n_then_refuses_for_one_cell() {
        let counter = InMemory::default();
        let now = 1_000_000;
        for _ in 0..10 {
            assert_eq!(counter.hit("l", "k", 10, now), Hit::Admitted);
        }
        assert_eq!(
            counter.hit("l", "k", 10, now),
            Hit::Refused {
                retry_after_ms: 6_000
            }
        );
        assert!(counter.exhausted("l", "k", 10, now));
        assert_eq!(counter.hit("l", "other", 10, now), Hit::Admitted);
        assert_eq!(counter.hit("l", "k", 10, now + 6_000), Hit::Admitted);
        assert_eq!(counter.forget_past(now + 120_000), 2);
    }

    #[test]
    fn markers_become_placeholders_per_occurrence() {
        let s = statement(
            DbBackend::Postgres,
            "a = {x} AND b = {y} AND c = {x} AND d = '{z}'",
            &[("x", Value::from(1)), ("y", Value::from(2))],
        );
        assert_eq!(s.sql, "a = $1 AND b = $2 AND c = $3 AND d = '{z}'");
        assert_eq!(s.values.map(|v| v.0.len()), Some(3));
    }
}
