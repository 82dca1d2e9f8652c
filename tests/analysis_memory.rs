//! What analyses cost the server's memory, measured on the real binary
//! (`dms serve` on SQLite, a child process whose peak resident memory,
//! `VmHWM`, the test reads): decompression bombs are listed, not inflated;
//! a run holds one uploaded document at a time, not the whole case; and
//! many analyses asked for at once wait in the queue instead of running
//! all together (the test holds the two workers busy: their runs wait on
//! the database's write lock, which it holds).

use std::io::Write;
use std::time::{Duration, Instant};

use analysis::fixtures::{self, bombs};
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use reqwest::StatusCode;
use serde_json::{Value, json};
use testkit::served::{Served, admin_token};
use testkit::{expect_json, fixture_templates};

const MIB: u64 = 1 << 20;

/// `dms serve` in a fresh directory (the embedded SQLite file), limits out
/// of the way, with `env` added; its administrator's token.
async fn serve(env: &[(&str, &str)]) -> (tempfile::TempDir, Served, reqwest::Client, String) {
    let dir = tempfile::tempdir().expect("dir");
    let mut all = vec![
        ("DMS_UPLOAD_LIMIT", "100000"),
        ("DMS_CASE_LIMIT", "100000"),
        ("DMS_ANALYZE_LIMIT", "100000"),
    ];
    all.extend_from_slice(env);
    let served = Served::start(dir.path(), &[], &all).await;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(300))
        .build()
        .expect("client");
    let token = admin_token(&http, &served).await;
    (dir, served, http, token)
}

/// The server's peak resident memory so far, in KiB.
fn peak_rss_kib(served: &Served) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", served.child.id()))
        .expect("the server's status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|k| k.parse().ok())
        .expect("VmHWM")
}

async fn new_case(http: &reqwest::Client, served: &Served, token: &str, title: &str) -> String {
    let res = http
        .post(served.url("/api/cases"))
        .bearer_auth(token)
        .json(&json!({"case_type": "DAO", "title": title}))
        .send()
        .await
        .expect("create case");
    expect_json(res, StatusCode::OK).await["id"]
        .as_str()
        .expect("id")
        .to_owned()
}

async fn upload(
    http: &reqwest::Client,
    served: &Served,
    token: &str,
    path: &str,
    filename: &str,
    bytes: Vec<u8>,
    fields: &[(&str, &str)],
) {
    let mut form = reqwest::multipart::Form::new();
    for (name, value) in fields {
        form = form.text(name.to_string(), value.to_string());
    }
    form = form.part(
        "file",
        reqwest::multipart::Part::bytes(bytes).file_name(filename.to_owned()),
    );
    let res = http
        .post(served.url(path))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .expect("upload");
    expect_json(res, StatusCode::OK).await;
}

async fn analyze(
    http: &reqwest::Client,
    served: &Served,
    token: &str,
    id: &str,
) -> (StatusCode, Value) {
    let res = http
        .post(served.url("/api/analyze"))
        .bearer_auth(token)
        .json(&json!({"case_id": id}))
        .send()
        .await
        .expect("analyze");
    let status = res.status();
    let body = res.json().await.expect("json");
    (status, body)
}

/// The result of the job at `status_url` once `done` (asked until then).
async fn until_done(
    http: &reqwest::Client,
    served: &Served,
    token: &str,
    status_url: &str,
) -> Value {
    let url = served.url(status_url);
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let res = http
            .get(&url)
            .bearer_auth(token)
            .send()
            .await
            .expect("status");
        let job = expect_json(res, StatusCode::OK).await;
        match job["status"].as_str() {
            Some("done") => return job["result"].clone(),
            Some("queued" | "running") => {}
            _ => panic!("unexpected job state: {job}"),
        }
        assert!(Instant::now() < deadline, "{url} never finished");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn health_ok(http: &reqwest::Client, served: &Served) {
    let res = http
        .get(served.url("/api/health"))
        .send()
        .await
        .expect("health");
    assert_eq!(res.status(), StatusCode::OK);
}

/// A Word document whose text is `text`, with a stored (uncompressed)
/// picture of `size` bytes that no reader inflates: a heavy offer.
fn heavy_docx(text: &str, size: usize, seed: u64) -> Vec<u8> {
    let base = fixtures::docx(text, &[]);
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(base)).expect("docx");
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for i in 0..archive.len() {
        out.raw_copy_file(archive.by_index_raw(i).expect("entry"))
            .expect("copy");
    }
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    out.start_file("word/media/image1.png", stored)
        .expect("part");
    let mut x = seed | 1;
    let mut noise = Vec::with_capacity(size);
    while noise.len() < size {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        noise.extend_from_slice(&x.to_le_bytes());
    }
    out.write_all(&noise[..size]).expect("picture");
    out.finish().expect("zip").into_inner()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bombs_are_listed_for_manual_reading_within_256_mib() {
    let (_dir, served, http, token) = serve(&[]).await;
    let id = new_case(&http, &served, &token, "Bombes").await;
    let dao_path = format!("/api/cases/{id}/upload-dao");
    let offer_path = format!("/api/cases/{id}/upload-offer");
    upload(
        &http,
        &served,
        &token,
        &dao_path,
        "dao.pdf",
        bombs::pdf_bomb(),
        &[],
    )
    .await;
    upload(
        &http,
        &served,
        &token,
        &offer_path,
        "beta_offre.docx",
        bombs::docx_bomb(),
        &[("supplier_name", "BETA"), ("offer_type", "technique")],
    )
    .await;
    let normal = fixtures::offers().remove(0);
    upload(
        &http,
        &served,
        &token,
        &offer_path,
        normal.filename,
        normal.bytes,
        &[
            ("supplier_name", normal.supplier_name),
            ("offer_type", normal.offer_type),
        ],
    )
    .await;

    let (status, body) = analyze(&http, &served, &token, &id).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let listed: Vec<(String, String)> = body["warnings"]["manual_review_documents"]
        .as_array()
        .expect("manual_review_documents")
        .iter()
        .map(|r| {
            (
                r["filename"].as_str().unwrap_or_default().to_owned(),
                r["cause"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    for bomb in ["dao.pdf", "beta_offre.docx"] {
        assert!(
            listed.contains(&(bomb.to_owned(), "over_budget".to_owned())),
            "{bomb} not listed as over budget: {listed:?}"
        );
    }
    assert_eq!(body["raw_documents_count"], 2, "{body}");
    let peak = peak_rss_kib(&served);
    eprintln!("bombs: peak RSS {} MiB", peak / 1024);
    assert!(peak < 256 * 1024, "peak RSS {} MiB", peak / 1024);
    health_ok(&http, &served).await;
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_holds_one_heavy_offer_at_a_time() {
    // Six offers of 40 MiB each (a picture no reader inflates): a run that
    // read the whole case first would hold 240 MiB of them at once.
    let (_dir, served, http, token) = serve(&[]).await;
    let id = new_case(&http, &served, &token, "Offres lourdes").await;
    upload(
        &http,
        &served,
        &token,
        &format!("/api/cases/{id}/upload-dao"),
        "dao.docx",
        fixtures::dao_docx(),
        &[],
    )
    .await;
    let offer_path = format!("/api/cases/{id}/upload-offer");
    for n in 0..6u64 {
        let supplier = format!("FOURNISSEUR {n}");
        let text = format!("OFFRE TECHNIQUE {supplier}\nMontant total : 1.500.000 FCFA");
        upload(
            &http,
            &served,
            &token,
            &offer_path,
            &format!("offre_{n}.docx"),
            heavy_docx(&text, 40 * MIB as usize, n + 1),
            &[("supplier_name", &supplier), ("offer_type", "technique")],
        )
        .await;
    }
    let before = peak_rss_kib(&served);
    let (status, body) = analyze(&http, &served, &token, &id).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["raw_documents_count"], 6, "{body}");
    let peak = peak_rss_kib(&served);
    eprintln!(
        "six 40 MiB offers: peak RSS {} MiB (before the run {} MiB)",
        peak / 1024,
        before / 1024
    );
    assert!(
        peak < 256 * 1024,
        "peak RSS {} MiB: the run held more than one offer",
        peak / 1024
    );
    health_ok(&http, &served).await;
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_analyses_at_once_wait_their_turn_within_512_mib() {
    let (dir, served, http, token) =
        serve(&[("DMS_ANALYSIS_WORKERS", "2"), ("DMS_ANALYSIS_QUEUE", "32")]).await;
    let mut cases = Vec::new();
    for n in 0..20 {
        let id = new_case(&http, &served, &token, &format!("Kits {n}")).await;
        upload(
            &http,
            &served,
            &token,
            &format!("/api/cases/{id}/upload-dao"),
            "dao_kits.docx",
            fixtures::dao_docx(),
            &[],
        )
        .await;
        for offer in fixtures::offers() {
            upload(
                &http,
                &served,
                &token,
                &format!("/api/cases/{id}/upload-offer"),
                offer.filename,
                offer.bytes,
                &[
                    ("supplier_name", offer.supplier_name),
                    ("offer_type", offer.offer_type),
                ],
            )
            .await;
        }
        for (kind, name, bytes) in fixture_templates() {
            upload(
                &http,
                &served,
                &token,
                &format!("/api/upload/{id}/{kind}"),
                name,
                bytes,
                &[],
            )
            .await;
        }
        cases.push(id);
    }
    // The test holds the database's write lock: the two runs that get a
    // worker wait on it, so the other eighteen must queue, whatever the
    // timing.
    let file = dir.path().join("dms.db");
    let own = sea_orm::Database::connect(format!("sqlite://{}?mode=rw", file.display()))
        .await
        .expect("the server's database");
    let held = dms::db::begin_write(&own).await.expect("the write lock");
    let mut asked: FuturesUnordered<_> = cases
        .iter()
        .map(|id| {
            let (http, served, token) = (&http, &served, token.as_str());
            async move { analyze(http, served, token, id).await }
        })
        .collect();
    let mut queued = Vec::new();
    while queued.len() < 18 {
        let (status, body) = asked.next().await.expect("an answer");
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        queued.push(body);
    }
    let mut positions: Vec<u64> = queued
        .iter()
        .map(|b| b["position"].as_u64().expect("position"))
        .collect();
    positions.sort_unstable();
    assert_eq!(positions, (0..18).collect::<Vec<u64>>());
    held.rollback().await.expect("release");
    let mut results = Vec::new();
    while let Some((status, body)) = asked.next().await {
        assert_eq!(status, StatusCode::OK, "{body}");
        results.push(body);
    }
    assert_eq!(results.len(), 2, "two ran at once");
    drop(asked);
    for job in &queued {
        let url = job["status_url"].as_str().expect("status_url");
        results.push(until_done(&http, &served, &token, url).await);
    }
    for body in &results {
        assert_eq!(body["ok"], true, "{body}");
        assert_eq!(body["raw_documents_count"], 7, "{body}");
    }
    let peak = peak_rss_kib(&served);
    eprintln!("twenty analyses: peak RSS {} MiB", peak / 1024);
    assert!(peak < 512 * 1024, "peak RSS {} MiB", peak / 1024);
    health_ok(&http, &served).await;
    served.stop().await;
}
