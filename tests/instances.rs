//! Several `dms serve` on one PostgreSQL, as behind a load balancer: with
//! the files in one bucket, or in one data directory shared as a volume.
//! An upload through one instance is analysed through the other and
//! downloaded through the first; a token of one is accepted by the other;
//! 40 concurrent uploads split across both at the quota's edge never pass
//! it; three instances starting at once on an empty database migrate it
//! exactly once.

use std::time::Duration;

use dms::auth::Role;
use entity::{cases, offers};
use reqwest::StatusCode;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, Statement, TransactionTrait,
};
use serde_json::json;
use sha2::Digest;
use testkit::{Instance, TestServer, TestUser, expect_json, pdf_bytes};
use testkit_db::lock_waits::Lock;
use testkit_db::{Backend, TestDb};

/// Each test on PostgreSQL, with the files in a shared data directory
/// (`local`) and in a bucket (`s3`).
macro_rules! two_instance_tests {
    ($($name:ident),* $(,)?) => {
        mod local {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                if let Some(db) = testkit::TestDb::new(testkit::Backend::Postgres).await {
                    super::$name(db, false).await
                }
            })*
        }
        mod s3 {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                if let Some(db) = testkit::TestDb::new(testkit::Backend::Postgres).await {
                    super::$name(db, true).await
                }
            })*
        }
    };
}

two_instance_tests!(
    uploaded_on_one_analysed_on_the_other,
    quota_holds_across_instances,
);

/// A signing secret both instances are configured with (with a bucket,
/// they share no key file).
const SECRET: &str = "a-secret-both-instances-share-0123456789";

/// Two instances on `db`: the first a [`TestServer`], the second on the
/// same database and storage. `None` when s3s-fs is missing and not required.
async fn two(
    db: TestDb,
    in_bucket: bool,
    adjust: impl FnOnce(&mut dms::server::Config),
) -> Option<(TestServer, Instance)> {
    let first = if in_bucket {
        TestServer::start_s3_with(db, |c| {
            c.jwt_secret = Some(SECRET.into());
            adjust(c);
        })
        .await?
    } else {
        // The key file in the shared data directory is the shared key.
        TestServer::start_with(db, adjust).await
    };
    let second = first.another_instance(in_bucket).await;
    Some((first, second))
}

async fn get(server: &TestServer, base: &str, token: &str, path: &str) -> reqwest::Response {
    server
        .http
        .get(format!("{base}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .expect("GET")
}

async fn uploaded_on_one_analysed_on_the_other(db: TestDb, in_bucket: bool) {
    let Some((first, second)) = two(db, in_bucket, |_| {}).await else {
        return;
    };
    // A token issued by the first instance...
    let officer: TestUser = first.user(Role::ProcurementOfficer).await;
    let id = first.fixture_case(&officer).await;
    // ...is accepted by the second, which analyses what the first stored.
    let res = first
        .http
        .post(second.url("/api/analyze"))
        .bearer_auth(&officer.token)
        .json(&json!({"case_id": id}))
        .send()
        .await
        .unwrap();
    let analysis = expect_json(res, StatusCode::OK).await;
    assert_eq!(analysis["ok"], true, "{analysis}");
    // What the second wrote, the first sends, the same bytes.
    for kind in ["output_cba", "output_pv"] {
        let path = format!("/api/download/{id}/{kind}");
        let through_first = get(&first, &first.base, &officer.token, &path).await;
        assert_eq!(through_first.status(), StatusCode::OK, "{kind}");
        let through_first = through_first.bytes().await.unwrap();
        let through_second = get(&first, &second.base, &officer.token, &path).await;
        let through_second = through_second.bytes().await.unwrap();
        assert_eq!(
            sha2::Sha256::digest(&through_first),
            sha2::Sha256::digest(&through_second)
        );
        assert!(through_first.starts_with(b"PK"));
    }
    // A token issued by the second is accepted by the first.
    let res = first
        .http
        .post(second.url("/auth/token"))
        .form(&[
            ("username", officer.username.as_str()),
            ("password", "Password123!"),
        ])
        .send()
        .await
        .unwrap();
    let token = expect_json(res, StatusCode::OK).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = get(&first, &first.base, &token, &format!("/api/cases/{id}")).await;
    assert_eq!(res.status(), StatusCode::OK);
}

async fn quota_holds_across_instances(db: TestDb, in_bucket: bool) {
    const UPLOADS: usize = 40;
    // While the test holds the case row, uploads queue for a connection.
    let Some((first, second)) = two(db, in_bucket, |c| {
        c.db_acquire_timeout = Duration::from_secs(120)
    })
    .await
    else {
        return;
    };
    let officer = first.user(Role::ProcurementOfficer).await;
    let case = first.create_case(&officer, "DAO", "Quota").await;
    let id = case["id"].as_str().unwrap();
    first.upload_dao(&officer, id, "dao.docx").await;
    // The case holds close to its quota: 40 uploads of 1 MiB race for the
    // last 10.5 MiB.
    let db = &first.state().db;
    let already: i64 = 524_288_000 - 11 * 1024 * 1024 + 512 * 1024;
    cases::ActiveModel {
        id: Set(id.to_owned()),
        total_upload_size: Set(Some(already)),
        ..Default::default()
    }
    .update(db)
    .await
    .unwrap();
    let size = 1024 * 1024;
    let mut body = pdf_bytes("offre");
    body.resize(size, b' ');
    // The test locks the case row, which every upload locks first: all of
    // them are then inside their transaction (or queued for a connection)
    // at once, on both instances, before it lets them go.
    let (holder, watcher) = (first.db.connect().await, first.db.connect().await);
    let held = holder.begin().await.unwrap();
    held.execute_raw(Statement::from_sql_and_values(
        held.get_database_backend(),
        "SELECT id FROM cases WHERE id = $1 FOR UPDATE",
        [id.into()],
    ))
    .await
    .unwrap();
    let uploads: Vec<_> = (0..UPLOADS)
        .map(|i| {
            let base = if i % 2 == 0 {
                &first.base
            } else {
                &second.base
            };
            let form = reqwest::multipart::Form::new()
                .text("supplier_name", format!("Supplier {i}"))
                .text("offer_type", "financiere")
                .part(
                    "file",
                    reqwest::multipart::Part::bytes(body.clone()).file_name("offre.pdf"),
                );
            let request = first
                .http
                .post(format!("{base}/api/cases/{id}/upload-offer"))
                .bearer_auth(&officer.token)
                .multipart(form);
            tokio::spawn(async move { request.send().await.expect("upload").status() })
        })
        .collect();
    let in_tx = (testkit_db::lock_waits::pool_size(&first.state().db)
        + testkit_db::lock_waits::pool_size(&second.state().db))
    .min(UPLOADS as i64);
    testkit_db::lock_waits::until_waiting(
        &watcher,
        Lock::Row("SELECT %FROM %cases%FOR UPDATE%"),
        in_tx,
        || uploads.iter().filter(|u| !u.is_finished()).count(),
        UPLOADS,
    )
    .await;
    held.commit().await.unwrap();
    let mut statuses = Vec::new();
    for upload in uploads {
        statuses.push(upload.await.expect("task"));
    }
    let accepted = statuses.iter().filter(|s| **s == StatusCode::OK).count() as i64;
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::PAYLOAD_TOO_LARGE)
        .count() as i64;
    assert_eq!(accepted + refused, UPLOADS as i64, "{statuses:?}");
    assert_eq!(
        accepted,
        (524_288_000 - already) / size as i64,
        "filled, never passed"
    );
    let row = cases::Entity::find_by_id(id)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        row.total_upload_size,
        Some(already + accepted * size as i64)
    );
    let stored_offers = offers::Entity::find()
        .filter(offers::Column::CaseId.eq(id))
        .count(db)
        .await
        .unwrap() as i64;
    assert_eq!(stored_offers, accepted);
    // One stored file per accepted upload (and the DAO), none for the refused.
    let files = match &first.s3 {
        Some(s3) => s3
            .objects(&format!("{}/uploads/{id}", testkit::S3_PREFIX))
            .len(),
        None => std::fs::read_dir(first.data_dir.path().join("uploads").join(id))
            .unwrap()
            .count(),
    };
    assert_eq!(files as i64, accepted + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_starting_at_once_migrate_once() {
    let Some(db) = TestDb::new(Backend::Postgres).await else {
        return;
    };
    // The test holds the migration lock, so that the three starts meet it
    // and wait together; it lets them go once all three poll for it.
    let (holder, watcher) = (db.connect().await, db.connect().await);
    let held = holder.begin().await.unwrap();
    held.execute_unprepared(&format!(
        "SELECT pg_advisory_xact_lock({})",
        migration::lock::PG_KEY
    ))
    .await
    .unwrap();
    let data_dir = tempfile::tempdir().unwrap();
    let starts: Vec<_> = (0..3)
        .map(|_| {
            let config = testkit::test_config(&db, data_dir.path());
            tokio::spawn(async move {
                dms::server::start(config, std::future::pending())
                    .await
                    .map_err(|e| e.to_string())
            })
        })
        .collect();
    let mut polling = 0;
    for _ in 0..600 {
        polling = watcher
            .query_one_raw(Statement::from_string(
                watcher.get_database_backend(),
                // The pattern is split so that this query's own text (on
                // any connection of the pool) does not match it.
                "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() \
                 AND query LIKE '%' || 'pg_try_' || 'advisory_lock%'",
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get_by_index::<i64>(0)
            .unwrap();
        if polling >= 3 {
            break;
        }
        assert!(
            starts.iter().all(|s| !s.is_finished()),
            "a start did not wait"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(polling, 3, "the three starts wait for the lock together");
    held.commit().await.unwrap();
    let mut running = Vec::new();
    for start in starts {
        running.push(start.await.unwrap().expect("every instance starts"));
    }
    let versions = testkit_db::column_strings(
        &watcher,
        "SELECT version FROM seaql_migrations ORDER BY version",
    )
    .await;
    let revisions: Vec<String> = migration::REVISIONS
        .iter()
        .map(|r| r.id.to_owned())
        .collect();
    let mut unique = versions.clone();
    unique.dedup();
    assert_eq!(unique, versions, "no revision applied twice");
    for revision in &revisions {
        assert!(versions.contains(revision), "{revision} in {versions:?}");
    }
    for r in running {
        r.shutdown().await.unwrap();
    }
}
