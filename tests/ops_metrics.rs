//! `GET /metrics`: closed unless configured (404, as an unknown path,
//! without the token or from outside the networks), and, scraped, parsed
//! by a Prometheus text-format parser, with the counts of the requests the
//! test made.

use std::collections::HashMap;

use reqwest::StatusCode;
use testkit::{TestServer, expect_detail, pdf_bytes};
use testkit_db::TestDb;

testkit::server_tests!(
    metrics_are_closed_unless_configured,
    metrics_count_what_the_test_did,
    readiness_names_what_is_down,
);

const TOKEN: &str = "scrape-me-0123456789";

async fn metrics_are_closed_unless_configured(db: TestDb) {
    // By default: nobody.
    let server = TestServer::start(db).await;
    let res = server
        .http
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(expect_detail(res, StatusCode::NOT_FOUND).await, "Not Found");
    let res = server
        .http
        .get(server.url("/metrics"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let mut server = server;

    // A token: only with it.
    server.config.metrics.token = Some(TOKEN.to_owned());
    server.restart().await;
    for token in [None, Some("wrong"), Some("scrape-me-012345678")] {
        let mut req = server.http.get(server.url("/metrics"));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        assert_eq!(
            req.send().await.unwrap().status(),
            StatusCode::NOT_FOUND,
            "{token:?}"
        );
    }
    let res = server
        .http
        .get(server.url("/metrics"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    // Networks: this client (127.0.0.1) inside one, or not.
    server.config.metrics.token = None;
    server.config.metrics.networks = vec!["10.0.0.0/8".parse().unwrap()];
    server.restart().await;
    let res = server
        .http
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // A client cannot place itself inside by a header (no trusted proxy).
    let res = server
        .http
        .get(server.url("/metrics"))
        .header("x-forwarded-for", "10.1.2.3")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    server.config.metrics.networks = vec!["127.0.0.0/8".parse().unwrap()];
    server.restart().await;
    let res = server
        .http
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

/// The samples of a scrape, by metric name and labels.
struct Scrape(prometheus_parse::Scrape);

impl Scrape {
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        self.0
            .samples
            .iter()
            .find(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
            .map(|s| match &s.value {
                prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Untyped(v) => *v,
                prometheus_parse::Value::Histogram(buckets) => {
                    buckets.last().map_or(0.0, |b| b.count)
                }
                prometheus_parse::Value::Summary(_) => f64::NAN,
            })
    }
}

async fn scrape(server: &TestServer) -> Scrape {
    let res = server
        .http
        .get(server.url("/metrics"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let content_type = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let text = res.text().await.unwrap();
    let lines = text.lines().map(|l| Ok(l.to_owned()));
    Scrape(prometheus_parse::Scrape::parse(lines).expect("the Prometheus text format"))
}

async fn metrics_count_what_the_test_did(db: TestDb) {
    let server = TestServer::start_with(db, |c| c.metrics.token = Some(TOKEN.to_owned())).await;
    let before = scrape(&server).await;
    assert_eq!(
        before.value(
            "dms_http_requests_total",
            &[("route", "/api/health"), ("status", "200")]
        ),
        None,
        "nothing counted before the test's requests"
    );
    for _ in 0..3 {
        assert_eq!(
            server.get(None, "/api/health").await.status(),
            StatusCode::OK
        );
    }
    let owner = server.admin().await;
    let case = server.create_case(&owner, "DAO", "Compté").await;
    let id = case["id"].as_str().unwrap();
    let missing = server
        .get(Some(&owner.token), "/api/cases/no-such-case")
        .await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let file = pdf_bytes("Compté");
    let res = server
        .upload(
            Some(&owner.token),
            &format!("/api/cases/{id}/upload-dao"),
            "dao.pdf",
            file.clone(),
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    // Probes of random paths share one label.
    for path in ["/nope-1", "/nope-2"] {
        assert_eq!(server.get(None, path).await.status(), StatusCode::NOT_FOUND);
    }

    let after = scrape(&server).await;
    let health = [
        ("method", "GET"),
        ("route", "/api/health"),
        ("status", "200"),
    ];
    assert_eq!(after.value("dms_http_requests_total", &health), Some(3.0));
    assert_eq!(
        after.value(
            "dms_http_requests_total",
            &[
                ("method", "GET"),
                ("route", "/api/cases/:case_id"),
                ("status", "404")
            ]
        ),
        Some(1.0)
    );
    assert_eq!(
        after.value(
            "dms_http_requests_total",
            &[("route", "unmatched"), ("status", "404")]
        ),
        Some(2.0)
    );
    assert_eq!(
        after.value(
            "dms_http_request_duration_seconds",
            &[("method", "GET"), ("route", "/api/health")]
        ),
        Some(3.0),
        "the latency histogram counted the three"
    );
    let uploaded = after.value("dms_upload_bytes_total", &[]).unwrap();
    assert!(uploaded >= file.len() as f64, "{uploaded} < {}", file.len());
    let open = after.value("dms_db_pool_connections", &[]).unwrap();
    let max = after.value("dms_db_pool_max_connections", &[]).unwrap();
    assert!(open >= 1.0 && open <= max, "{open} of {max}");
    assert_eq!(after.value("dms_analysis_queued", &[]), Some(0.0));
    assert_eq!(after.value("dms_storage_errors_total", &[]), Some(0.0));
    let names: HashMap<&str, ()> = after
        .0
        .samples
        .iter()
        .map(|s| (s.metric.as_str(), ()))
        .collect();
    assert!(names.contains_key("dms_analysis_running"), "{names:?}");
}

async fn readiness_names_what_is_down(db: TestDb) {
    let server = TestServer::start(db).await;
    let res = server.get(None, "/api/ready").await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    // The data directory gone, a file in its place: storage is down.
    let data = server.data_dir.path().to_owned();
    std::fs::rename(&data, data.with_extension("moved")).unwrap();
    std::fs::write(&data, b"not a directory").unwrap();
    let detail = expect_detail(
        server.get(None, "/api/ready").await,
        StatusCode::SERVICE_UNAVAILABLE,
    )
    .await;
    assert!(detail.contains("data directory"), "{detail}");
    assert!(!detail.contains("database"), "{detail}");
    // Liveness still answers.
    assert_eq!(
        server.get(None, "/api/health").await.status(),
        StatusCode::OK
    );
    std::fs::remove_file(&data).unwrap();
    std::fs::rename(data.with_extension("moved"), &data).unwrap();
    assert_eq!(
        server.get(None, "/api/ready").await.status(),
        StatusCode::OK
    );
}
