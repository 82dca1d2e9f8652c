//! Rate limits shared by every server on one database (`rate_limits`,
//! revision 009): wrong passwords sent to two servers in turn meet the
//! limit as if one server received them all; concurrent hits of one key
//! admit exactly the limit (the test holds the row's lock until every hit
//! waits on it); keys whose time has passed are forgotten.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use dms::rate_limits::{self, Hit};
use reqwest::StatusCode;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DbBackend, TransactionTrait};
use testkit::{TestServer, test_config};
use testkit_db::TestDb;
use testkit_db::lock_waits::{Lock, until_waiting};

testkit::server_tests!(
    wrong_passwords_alternating_between_two_servers_meet_the_limit,
    concurrent_hits_admit_exactly_the_limit,
    keys_whose_time_has_passed_are_forgotten,
);

async fn wrong_passwords_alternating_between_two_servers_meet_the_limit(db: TestDb) {
    let first = TestServer::start_with(db, |c| {
        c.limits.login_per_username = 10;
        c.limits.login_per_client = 100;
    })
    .await;
    // A second server on the same database, with its own data directory.
    let data = tempfile::tempdir().unwrap();
    let mut config = test_config(&first.db, data.path());
    config.limits = first.config.limits;
    let second = dms::server::start(config, std::future::pending())
        .await
        .expect("second server");
    // The embedded SQLite database serves one process, whose limits count
    // in its memory: there, one server meets the limit alone.
    let bases = if first.db.backend == testkit::Backend::Sqlite {
        [first.base.clone(), first.base.clone()]
    } else {
        [first.base.clone(), format!("http://{}", second.addr)]
    };
    let mut statuses = Vec::new();
    for attempt in 0..14 {
        let res = first
            .http
            .post(format!("{}/auth/token", bases[attempt % 2]))
            .form(&[("username", "admin"), ("password", "wrong-password")])
            .send()
            .await
            .unwrap();
        statuses.push(res.status());
    }
    // Each server saw 7: counted in each one's memory, none would have refused.
    assert_eq!(
        statuses,
        [
            vec![StatusCode::UNAUTHORIZED; 10],
            vec![StatusCode::TOO_MANY_REQUESTS; 4]
        ]
        .concat(),
    );
    second.shutdown().await.unwrap();
}

/// Concurrent hits of one key at `LIMIT` a minute: the test holds the
/// key's row locked until every hit waits on it, then lets them go.
async fn concurrent_hits_admit_exactly_the_limit(db: TestDb) {
    const LIMIT: u32 = 4;
    const HITS: usize = 10;
    let server = TestServer::start(db).await;
    let mut options = ConnectOptions::new(server.db.url.clone());
    options
        .max_connections(HITS as u32 + 4)
        .acquire_timeout(Duration::from_secs(30))
        .sqlx_logging(false);
    let pool = Database::connect(options).await.unwrap();
    let now = rate_limits::now_ms();
    // The first hit makes the row (and uses one of the limit).
    assert_eq!(
        rate_limits::hit(&pool, "test", "key", LIMIT, now)
            .await
            .unwrap(),
        Hit::Admitted
    );
    let lock = pool.begin().await.unwrap();
    let backend = pool.get_database_backend();
    if backend == DbBackend::Sqlite {
        // One writer at a time: the test's write transaction is the lock.
        lock.execute_unprepared("UPDATE rate_limits SET refusals = refusals")
            .await
            .unwrap();
    } else {
        lock.execute_unprepared("SELECT tat FROM rate_limits FOR UPDATE")
            .await
            .unwrap();
    }
    let in_flight = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..HITS {
        let pool = pool.clone();
        let in_flight = in_flight.clone();
        in_flight.fetch_add(1, Ordering::SeqCst);
        tasks.push(tokio::spawn(async move {
            let hit = rate_limits::hit(&pool, "test", "key", LIMIT, now).await;
            in_flight.fetch_sub(1, Ordering::SeqCst);
            hit
        }));
    }
    if backend == DbBackend::Sqlite {
        // SQLite reports no lock waits: the hits are shown to overlap by
        // none of them answering while the test holds the write lock.
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(
            in_flight.load(Ordering::SeqCst),
            HITS,
            "a hit passed the lock"
        );
    } else {
        let watcher = server.db.connect().await;
        until_waiting(
            &watcher,
            Lock::Row("INSERT INTO rate_limits%"),
            HITS as i64,
            || in_flight.load(Ordering::SeqCst),
            HITS,
        )
        .await;
    }
    lock.commit().await.unwrap();
    let mut admitted = 0;
    for task in tasks {
        if task.await.unwrap().unwrap() == Hit::Admitted {
            admitted += 1;
        }
    }
    assert_eq!(admitted, LIMIT as usize - 1, "exactly the limit passes");
    let refusals = pool
        .query_one_raw(sea_orm::Statement::from_string(
            backend,
            "SELECT refusals FROM rate_limits",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<i64>(0)
        .unwrap();
    assert_eq!(refusals, (HITS + 1 - LIMIT as usize) as i64);
}

async fn keys_whose_time_has_passed_are_forgotten(db: TestDb) {
    let server = TestServer::start(db).await;
    let conn = server.db.connect().await;
    let now = rate_limits::now_ms();
    // One hit two minutes ago (its time passed), one now.
    rate_limits::hit(&conn, "test", "old", 10, now - 120_000)
        .await
        .unwrap();
    rate_limits::hit(&conn, "test", "new", 10, now)
        .await
        .unwrap();
    assert_eq!(rate_limits::forget_past(&conn, now).await.unwrap(), 1);
    assert_eq!(testkit_db::count(&conn, "rate_limits").await, 1);
    // A refused key keeps its row until its time passes.
    for _ in 0..11 {
        rate_limits::hit(&conn, "test", "busy", 10, now)
            .await
            .unwrap();
    }
    assert!(matches!(
        rate_limits::hit(&conn, "test", "busy", 10, now).await.unwrap(),
        Hit::Refused { retry_after_ms } if retry_after_ms > 0 && retry_after_ms <= 6_000
    ));
    assert_eq!(rate_limits::forget_past(&conn, now).await.unwrap(), 0);
    assert_eq!(
        rate_limits::forget_past(&conn, now + 61_000).await.unwrap(),
        2
    );
}
