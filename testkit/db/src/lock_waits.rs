//! Proof that concurrent requests really overlapped: the test holds, on a
//! connection of its own, a lock the requests need (an advisory lock, a
//! row lock), then counts the sessions of its database that wait on a lock,
//! as the server reports them (`pg_stat_activity`, InnoDB's transactions).
//! Only when every request is waiting does the test release the lock.

use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};

/// What the requests wait on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lock {
    /// A PostgreSQL advisory lock (`pg_advisory_xact_lock`).
    Advisory,
    /// A row lock, met by statements matching a `LIKE` pattern.
    /// PostgreSQL reports the wait itself (a locked tuple, or the
    /// transaction holding it). MariaDB 10.11 lists no lock wait of these
    /// sessions in `INNODB_TRX`: there a session counts while it executes
    /// the matching statement, which for a one-row statement held this
    /// long is the wait.
    Row(&'static str),
}

/// How many sessions of `conn`'s database wait on a lock of kind `lock`.
pub async fn waiting(conn: &DatabaseConnection, lock: Lock) -> i64 {
    let backend = conn.get_database_backend();
    let (sql, values): (&str, Vec<sea_orm::Value>) = match (backend, lock) {
        (DbBackend::Postgres, Lock::Advisory) => (
            "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() \
             AND wait_event_type = 'Lock' AND wait_event = 'advisory'",
            vec![],
        ),
        (DbBackend::Postgres, Lock::Row(statement)) => (
            "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() \
             AND wait_event_type = 'Lock' AND wait_event IN ('tuple', 'transactionid') \
             AND query LIKE $1",
            vec![statement.into()],
        ),
        (DbBackend::MySql, Lock::Row(statement)) => (
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST \
             WHERE DB = DATABASE() AND COMMAND IN ('Query', 'Execute') AND INFO LIKE ?",
            vec![statement.into()],
        ),
        _ => panic!("no {lock:?} waits to count on {backend:?}"),
    };
    conn.query_one_raw(Statement::from_sql_and_values(backend, sql, values))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .expect("one row")
        .try_get_by_index::<i64>(0)
        .expect("a count")
}

/// Waits until `want` sessions wait on `lock`, while `in_flight()` says how
/// many requests have not answered yet (they must all still be waiting);
/// panics after a minute, saying how many were seen.
pub async fn until_waiting(
    conn: &DatabaseConnection,
    lock: Lock,
    want: i64,
    in_flight: impl Fn() -> usize,
    requests: usize,
) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let now = waiting(conn, lock).await;
        let running = in_flight();
        assert_eq!(
            running, requests,
            "a request answered while the test held the lock ({now} sessions waiting on {lock:?})"
        );
        if now == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{now} sessions wait on the {lock:?} lock the test holds, not {want}: \
             the requests did not all queue behind it"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The server's pool size: how many requests can be inside a transaction
/// at once (the others wait for a connection).
pub fn pool_size(db: &DatabaseConnection) -> i64 {
    let max = match db.get_database_backend() {
        DbBackend::Postgres => db
            .get_postgres_connection_pool()
            .options()
            .get_max_connections(),
        DbBackend::MySql => db
            .get_mysql_connection_pool()
            .options()
            .get_max_connections(),
        DbBackend::Sqlite => db
            .get_sqlite_connection_pool()
            .options()
            .get_max_connections(),
        _ => 1,
    };
    i64::from(max)
}
