//! The access log as JSON (`DMS_LOG_FORMAT=json`), read from the real
//! binary's standard error: one object per line, and one line per request
//! with its id, method, route template, status, duration, user and client.

use reqwest::StatusCode;
use serde_json::Value;
use testkit::served::{Served, admin_token};
use testkit_db::TestDb;

testkit::server_tests!(one_json_line_per_request);

async fn one_json_line_per_request(db: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("DATABASE_URL", db.url.as_str()),
        ("DMS_LOG_FORMAT", "json"),
    ];
    let served = Served::start(dir.path(), &["--migrate"], &env).await;
    let http = reqwest::Client::new();
    let token = admin_token(&http, &served).await;
    let res = http
        .get(served.url("/api/cases/no-such-case"))
        .bearer_auth(&token)
        .header("x-request-id", "trace-me-1")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = http
        .get(served.url("/api/health"))
        .header("x-request-id", "trace-me-2")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // The log is read by a thread as it comes: wait (bounded) for the
    // second request's line.
    let mut lines = Vec::new();
    for _ in 0..100 {
        lines.extend(served.logged());
        if lines.iter().any(|l| l.contains("trace-me-2")) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    served.terminate();
    // Every line is one JSON object (the start's lines too).
    let events: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let request = |id: &str| {
        let found: Vec<&Value> = events
            .iter()
            .filter(|e| e["message"] == "request" && e["request_id"] == id)
            .collect();
        assert_eq!(found.len(), 1, "one line for {id}: {lines:#?}");
        found[0].clone()
    };
    let case = request("trace-me-1");
    assert_eq!(case["method"], "GET");
    assert_eq!(case["route"], "/api/cases/:case_id");
    assert_eq!(case["path"], "/api/cases/no-such-case");
    assert_eq!(case["status"], 404);
    assert!(
        case["duration_ms"].as_f64().is_some_and(|d| d >= 0.0),
        "{case}"
    );
    assert_eq!(case["client"], "127.0.0.1");
    // The seeded administrator is user 1 of a fresh database.
    assert!(case["user_id"].as_i64().is_some_and(|id| id >= 1), "{case}");
    assert_eq!(case["level"], "INFO");
    assert!(case["timestamp"].is_string());
    let health = request("trace-me-2");
    assert_eq!(health["status"], 200);
    assert!(health.get("user_id").is_none(), "no user: {health}");
    assert_eq!(served.exit_code().await, Some(0));
}
