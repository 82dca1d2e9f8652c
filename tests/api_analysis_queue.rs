//! The analysis queue over HTTP, on every backend: with one worker held
//! busy by the test (a run waiting on the case's row lock, which the test
//! holds), further analyses wait in the queue (202 and a status URL), a
//! full queue refuses (503 with `Retry-After`), and once the lock goes the
//! queued runs reach `done` with the body a run at once gives (or
//! `failed`, as a run at once would). Also: the status URL as the case's
//! access rules allow it, and the per-user rate.

use std::time::{Duration, Instant};

use dms::analysis::queue::{JobState, QueueConfig};
use dms::auth::Role;
use entity::artifacts;
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use testkit::{TestServer, TestUser, expect_detail, expect_json, pdf_bytes};
use testkit_db::TestDb;

testkit::server_tests!(
    a_busy_server_queues_analyses_then_runs_them,
    analyses_per_user_are_rate_limited,
);

/// A case of `owner` with the fixture DAO and one offer (not analysed).
async fn small_case(server: &TestServer, owner: &TestUser, supplier: &str) -> String {
    let case = server.create_case(owner, "DAO", supplier).await;
    let id = case["id"].as_str().expect("id").to_owned();
    server.upload_dao(owner, &id, "dao.docx").await;
    let text = format!("OFFRE TECHNIQUE {supplier} Montant total : 1.500.000 FCFA");
    let res = server
        .upload(
            Some(&owner.token),
            &format!("/api/cases/{id}/upload-offer"),
            "offre.pdf",
            pdf_bytes(&text),
            &[("supplier_name", supplier), ("offer_type", "technique")],
        )
        .await;
    expect_json(res, StatusCode::OK).await;
    id
}

/// A run's body without what differs from run to run (the ids of its
/// output artifacts).
fn comparable(mut body: Value) -> Value {
    for id in ["cba_artifact_id", "pv_artifact_id"] {
        body["analysis"][id] = Value::Null;
    }
    body
}

/// Asks `url` until the job is `done` (bounded); its `result`.
async fn until_done(server: &TestServer, user: &TestUser, url: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let body = expect_json(server.get(Some(&user.token), url).await, StatusCode::OK).await;
        match body["status"].as_str() {
            Some("done") => return body["result"].clone(),
            Some("queued" | "running") => {}
            _ => panic!("unexpected job state: {body}"),
        }
        assert!(Instant::now() < deadline, "{url} never finished: {body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn a_busy_server_queues_analyses_then_runs_them(db: TestDb) {
    let server = TestServer::start_with(db, |c| {
        c.analysis_queue = QueueConfig {
            workers: 1,
            capacity: 2,
        }
    })
    .await;
    let officer = server.user(Role::ProcurementOfficer).await;
    let stranger = server.user(Role::ProcurementOfficer).await;
    let observer = server.user(Role::Viewer).await;
    let mut cases = Vec::new();
    for supplier in ["ALPHA", "BETA", "GAMMA", "DELTA"] {
        cases.push(small_case(&server, &officer, supplier).await);
    }
    server
        .add_member(&officer, &cases[1], &observer, "observer")
        .await;
    // The test holds the first case's row (on SQLite, the write lock): its
    // run takes the one worker and cannot finish until the test lets go.
    let own = server.db.connect().await;
    let held = dms::db::begin_write(&own).await.expect("begin");
    dms::cases::lock(&held, &cases[0]).await.expect("lock");
    let first = {
        let http = server.http.clone();
        let url = server.url("/api/analyze");
        let (token, id) = (officer.token.clone(), cases[0].clone());
        tokio::spawn(async move {
            http.post(url)
                .bearer_auth(token)
                .json(&json!({"case_id": id}))
                .send()
                .await
                .expect("analyze")
        })
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while !matches!(
        server.state().analyses.of_case(&cases[0]),
        Some(JobState::Running)
    ) {
        assert!(Instant::now() < deadline, "the first run never started");
        assert!(
            !first.is_finished(),
            "the first run answered under the lock"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // The worker is busy: the next two wait, positions 0 and 1.
    let second = expect_json(
        server.analyze(&officer, &cases[1]).await,
        StatusCode::ACCEPTED,
    )
    .await;
    assert_eq!(second["status"], "queued");
    assert_eq!(second["position"], 0);
    let second_url = second["status_url"]
        .as_str()
        .expect("status_url")
        .to_owned();
    assert!(second_url.starts_with("/api/analyze/jobs/"), "{second}");
    let third = expect_json(
        server.analyze(&officer, &cases[2]).await,
        StatusCode::ACCEPTED,
    )
    .await;
    assert_eq!(third["position"], 1, "{third}");
    let third_url = third["status_url"].as_str().expect("status_url").to_owned();
    assert_ne!(second_url, third_url);

    // The queue is full: refused with when to come back.
    let res = server.analyze(&officer, &cases[3]).await;
    let retry = res
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    assert!(retry.is_some_and(|s| s >= 1), "{:?}", res.headers());
    let detail = expect_detail(res, StatusCode::SERVICE_UNAVAILABLE).await;
    assert!(detail.contains("2 waiting"), "{detail}");

    // A case already waiting is not queued twice: its job answers.
    let again = expect_json(
        server.analyze(&officer, &cases[1]).await,
        StatusCode::ACCEPTED,
    )
    .await;
    assert_eq!(again, second);

    // Where the jobs stand, for those who may run the case's analysis.
    let status = expect_json(
        server.get(Some(&officer.token), &third_url).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        status,
        json!({"status": "queued", "position": 1, "status_url": third_url})
    );
    let detail = expect_detail(
        server.get(Some(&stranger.token), &second_url).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(detail, "Case not found");
    assert_eq!(
        server
            .get(Some(&observer.token), &second_url)
            .await
            .status(),
        StatusCode::FORBIDDEN,
        "an observer does not read the offers"
    );
    assert_eq!(
        server
            .get(Some(&officer.token), "/api/analyze/jobs/nope")
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert!(!first.is_finished(), "the first run waits on the lock");
    // The third case's offer file goes missing while its job waits: the
    // job will fail as a run at once would (a server fault, 500).
    let offer = artifacts::Entity::find()
        .filter(artifacts::Column::CaseId.eq(cases[2].as_str()))
        .filter(artifacts::Column::Kind.eq("offer"))
        .one(&server.state().db)
        .await
        .expect("query")
        .expect("the offer");
    std::fs::remove_file(server.data_dir.path().join(&offer.path)).expect("remove");

    // The test lets go: the first run answers, the queued ones run.
    held.rollback().await.expect("release");
    let first = first.await.expect("request task");
    let first_url = first
        .headers()
        .get("content-location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .expect("a run at once says where its job is");
    let first = expect_json(first, StatusCode::OK).await;
    assert_eq!(first["ok"], true);
    assert_eq!(until_done(&server, &officer, &first_url).await, first);
    let queued_second = until_done(&server, &officer, &second_url).await;
    let deadline = Instant::now() + Duration::from_secs(120);
    let failed = loop {
        let res = server.get(Some(&officer.token), &third_url).await;
        if res.status() != StatusCode::OK {
            break expect_json(res, StatusCode::INTERNAL_SERVER_ERROR).await;
        }
        assert!(Instant::now() < deadline, "the third job never ended");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(failed["status"], "failed", "{failed}");
    assert_eq!(failed["detail"], "internal error", "{failed}");

    // The body of a queued run is the body of a run at once.
    let at_once = expect_json(server.analyze(&officer, &cases[1]).await, StatusCode::OK).await;
    assert_eq!(comparable(queued_second), comparable(at_once));
    // With the queue empty again, the refused case runs at once.
    expect_json(server.analyze(&officer, &cases[3]).await, StatusCode::OK).await;
    server.shutdown().await;
}

async fn analyses_per_user_are_rate_limited(db: TestDb) {
    let server = TestServer::start_with(db, |c| c.limits.analyze_per_user = 2).await;
    let officer = server.user(Role::ProcurementOfficer).await;
    let other = server.user(Role::ProcurementOfficer).await;
    let case = server.create_case(&officer, "DAO", "Sans DAO").await;
    let id = case["id"].as_str().expect("id").to_owned();
    // Refused runs count too: each request asks for a run.
    for _ in 0..2 {
        expect_detail(server.analyze(&officer, &id).await, StatusCode::BAD_REQUEST).await;
    }
    let res = server.analyze(&officer, &id).await;
    assert!(
        res.headers().contains_key("retry-after"),
        "{:?}",
        res.headers()
    );
    let detail = expect_detail(res, StatusCode::TOO_MANY_REQUESTS).await;
    assert_eq!(detail, "Rate limit exceeded: 2 analyses per 1 minute");
    // Another user has a budget of their own.
    assert_eq!(
        server.analyze(&other, &id).await.status(),
        StatusCode::NOT_FOUND
    );
    server.shutdown().await;
}
