//! The files in a bucket (`DMS_STORAGE_URL=s3://...`), on a real S3 server
//! (s3s-fs, signed requests): uploads stored as objects byte for byte and
//! downloaded back, the analysis reading them and writing its documents
//! there, a refused upload leaving no object, the sweep of what a crash
//! left, and `dms storage migrate`.

use std::time::{Duration, SystemTime};

use dms::auth::Role;
use entity::artifacts;
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::Value;
use sha2::Digest;
use testkit::s3::S3Server;
use testkit::{S3_PREFIX, TestServer, expect_json, pdf_bytes};
use testkit_db::TestDb;

testkit::server_tests!(
    upload_is_an_object_and_downloads_back,
    analysis_reads_and_writes_the_bucket,
    refused_uploads_leave_no_object,
    crash_leftovers_in_the_bucket_are_swept,
);

fn sha256(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

fn s3(server: &TestServer) -> &S3Server {
    server.s3.as_deref().expect("an S3 server")
}

/// Files in the data directory outside `tmp/` (none when the files are in
/// a bucket), and in `tmp/`.
fn local_files(server: &TestServer) -> (Vec<String>, Vec<String>) {
    let root = server.data_dir.path();
    let (tmp, other): (Vec<String>, Vec<String>) = testkit::s3::files_under(root)
        .into_iter()
        .map(|p| p.strip_prefix(root).unwrap().display().to_string())
        .filter(|p| p != dms::token::KEY_FILE)
        .partition(|p| p.starts_with("tmp"));
    (other, tmp)
}

/// Waits (bounded) until the bucket holds no staging object: a refused
/// body's is removed right after the answer.
async fn no_staging_left(server: &TestServer) {
    let tmp = format!("{S3_PREFIX}/tmp");
    for _ in 0..100 {
        if s3(server).objects(&tmp).is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("staging objects left: {:?}", s3(server).objects(&tmp));
}

async fn upload_is_an_object_and_downloads_back(db: TestDb) {
    let Some(server) = TestServer::start_s3(db).await else {
        return;
    };
    let officer = server.user(Role::ProcurementOfficer).await;
    let case = server.create_case(&officer, "DAO", "S3").await;
    let id = case["id"].as_str().unwrap();
    // Larger than a part (5 MiB): sent as a multipart upload.
    let mut bytes = pdf_bytes("Dossier d'appel d'offres");
    bytes.resize(12 * 1024 * 1024 + 17, b' ');
    let body = expect_json(
        server
            .upload(
                Some(&officer.token),
                &format!("/api/cases/{id}/upload-dao"),
                "dao.pdf",
                bytes.clone(),
                &[],
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let artifact_id = body["artifact_id"].as_str().unwrap();
    let artifact = artifacts::Entity::find_by_id(artifact_id)
        .one(&server.state().db)
        .await
        .unwrap()
        .unwrap();
    assert!(artifact.path.starts_with(&format!("uploads/{id}/dao_")));
    let key = format!("{S3_PREFIX}/{}", artifact.path);
    assert_eq!(
        s3(&server).objects(S3_PREFIX),
        vec![key.clone()],
        "one object, under the server's name"
    );
    let stored = std::fs::read(s3(&server).bucket_dir().join(&key)).unwrap();
    assert_eq!(sha256(&stored), sha256(&bytes), "stored byte for byte");
    assert_eq!(
        local_files(&server),
        (vec![], vec![]),
        "nothing kept in the data directory"
    );

    let res = server
        .get(
            Some(&officer.token),
            &format!("/api/cases/{id}/artifacts/{artifact_id}"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()["content-length"].to_str().unwrap(),
        bytes.len().to_string()
    );
    let downloaded = res.bytes().await.unwrap();
    assert_eq!(sha256(&downloaded), sha256(&bytes), "downloaded back whole");

    // An object gone from the bucket is a 404, not a 500.
    std::fs::remove_file(s3(&server).bucket_dir().join(&key)).unwrap();
    let res = server
        .get(
            Some(&officer.token),
            &format!("/api/cases/{id}/artifacts/{artifact_id}"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

async fn analysis_reads_and_writes_the_bucket(db: TestDb) {
    let Some(server) = TestServer::start_s3(db).await else {
        return;
    };
    let officer = server.user(Role::ProcurementOfficer).await;
    let id = server.analysed_case(&officer, &["Alpha", "Beta"]).await;
    let outputs = s3(&server).objects(&format!("{S3_PREFIX}/outputs/{id}"));
    assert_eq!(outputs.len(), 2, "the CBA and the PV: {outputs:?}");
    for kind in ["output_cba", "output_pv"] {
        let res = server
            .get(Some(&officer.token), &format!("/api/download/{id}/{kind}"))
            .await;
        assert_eq!(res.status(), StatusCode::OK, "{kind}");
        let bytes = res.bytes().await.unwrap();
        let artifact = artifacts::Entity::find()
            .filter(artifacts::Column::CaseId.eq(id.as_str()))
            .filter(artifacts::Column::Kind.eq(kind))
            .one(&server.state().db)
            .await
            .unwrap()
            .unwrap();
        let key = format!("{S3_PREFIX}/{}", artifact.path);
        assert!(outputs.contains(&key), "{key} in {outputs:?}");
        let stored = std::fs::read(s3(&server).bucket_dir().join(&key)).unwrap();
        assert_eq!(sha256(&bytes), sha256(&stored));
        assert!(bytes.starts_with(b"PK"), "{kind} is an OOXML package");
    }
    // A second run replaces the outputs: the old objects go.
    let res = server.analyze(&officer, &id).await;
    expect_json(res, StatusCode::OK).await;
    let after = s3(&server).objects(&format!("{S3_PREFIX}/outputs/{id}"));
    assert_eq!(after.len(), 2, "{after:?}");
    assert!(after.iter().all(|k| !outputs.contains(k)));
    // The local copies the runs read are gone with them.
    assert_eq!(local_files(&server), (vec![], vec![]));
}

async fn refused_uploads_leave_no_object(db: TestDb) {
    let Some(server) = TestServer::start_s3(db).await else {
        return;
    };
    let officer = server.user(Role::ProcurementOfficer).await;
    let case = server.create_case(&officer, "DAO", "Refused").await;
    let id = case["id"].as_str().unwrap();
    server.upload_dao(&officer, id, "dao.docx").await;
    let before = server.snapshot().await;
    // Too large: refused while it streams, after several parts were sent.
    let mut big = pdf_bytes("big");
    big.resize(50 * 1024 * 1024 + 1, b' ');
    let res = server
        .upload(
            Some(&officer.token),
            &format!("/api/cases/{id}/upload-offer"),
            "offre.pdf",
            big,
            &[("supplier_name", "A"), ("offer_type", "financiere")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // Received whole, then refused for its type.
    let res = server
        .upload(
            Some(&officer.token),
            &format!("/api/cases/{id}/upload-offer"),
            "offre.pdf",
            b"MZ\x90\x00 not a document".to_vec(),
            &[("supplier_name", "A"), ("offer_type", "financiere")],
        )
        .await;
    assert!(res.status().is_client_error(), "{}", res.status());
    // Received whole, then refused by the case's rules (a second DAO).
    let res = server
        .upload(
            Some(&officer.token),
            &format!("/api/cases/{id}/upload-dao"),
            "dao.pdf",
            pdf_bytes("second"),
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    no_staging_left(&server).await;
    let after = server.snapshot().await;
    assert_eq!(before.difference(&after), None);
}

/// Sets a file's time of last change `hours` ago.
fn age(path: &std::path::Path, hours: u64) {
    let file = std::fs::File::options().write(true).open(path).unwrap();
    file.set_modified(SystemTime::now() - Duration::from_secs(hours * 3600))
        .unwrap();
}

async fn crash_leftovers_in_the_bucket_are_swept(db: TestDb) {
    let Some(mut server) = TestServer::start_s3(db).await else {
        return;
    };
    let officer = server.user(Role::ProcurementOfficer).await;
    let case = server.create_case(&officer, "DAO", "Crash").await;
    let id = case["id"].as_str().unwrap();
    server.upload_dao(&officer, id, "dao.docx").await;
    let kept = s3(&server).objects(S3_PREFIX);
    assert_eq!(kept.len(), 1);
    // What a crash can leave: a staging object, and an object named whose
    // transaction never committed; two hours old, and the same an instant
    // old (another instance's upload about to commit: it stays).
    let bucket = s3(&server).bucket_dir();
    let leftovers = [
        format!("{S3_PREFIX}/tmp/dead-old"),
        format!("{S3_PREFIX}/uploads/{id}/offer_orphan-old.pdf"),
    ];
    let young = [
        format!("{S3_PREFIX}/tmp/dead-young"),
        format!("{S3_PREFIX}/uploads/{id}/offer_orphan-young.pdf"),
    ];
    for key in leftovers.iter().chain(&young) {
        let path = bucket.join(key);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, pdf_bytes("orphan")).unwrap();
    }
    for key in &leftovers {
        age(&bucket.join(key), 2);
    }
    // The artifact's own object, old as well, stays.
    age(&bucket.join(&kept[0]), 2);
    server.restart().await;
    let mut expected: Vec<String> = kept.iter().chain(&young).cloned().collect();
    expected.sort();
    assert_eq!(s3(&server).objects(S3_PREFIX), expected);
    let res = server
        .get(Some(&officer.token), &format!("/api/cases/{id}"))
        .await;
    let body: Value = expect_json(res, StatusCode::OK).await;
    assert!(body.is_object());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storage_migrate_copies_a_data_directory_and_verifies_it() {
    let Some(db) = TestDb::new(testkit::Backend::Sqlite).await else {
        return;
    };
    let Some(s3) = S3Server::start() else {
        return;
    };
    // Files in the data directory: uploads and the analysis's documents.
    let mut server = TestServer::start(db).await;
    let officer = server.user(Role::ProcurementOfficer).await;
    let id = server.analysed_case(&officer, &["Alpha", "Beta"]).await;
    let data = server.data_dir.path().to_owned();
    let env: Vec<(&str, String)> = s3.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let url = s3.url("moved");
    let out = testkit::served::dms(
        &data,
        &[
            "storage",
            "migrate",
            "--to",
            &url,
            "--data-dir",
            &data.display().to_string(),
        ],
        &env,
    )
    .output()
    .unwrap();
    testkit_db::assert_ok(&out);
    let rows = artifacts::Entity::find()
        .all(&server.state().db)
        .await
        .unwrap();
    assert_eq!(rows.len(), 5, "a DAO, two offers, a CBA and a PV");
    let said = testkit_db::stdout(&out);
    assert!(said.starts_with("copied 5 files ("), "{said}");
    for artifact in &rows {
        let file = std::fs::read(data.join(&artifact.path)).unwrap();
        let object = std::fs::read(s3.bucket_dir().join("moved").join(&artifact.path)).unwrap();
        assert_eq!(sha256(&file), sha256(&object), "{}", artifact.path);
    }
    // The server on the bucket sends them, the rows unchanged.
    server.config.storage_url = Some(url);
    server.config.storage_options = s3.options();
    std::fs::remove_dir_all(data.join("outputs")).unwrap();
    server.restart().await;
    let res = server
        .get(
            Some(&officer.token),
            &format!("/api/download/{id}/output_cba"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    // Not a bucket URL: one line, exit 1.
    let out = testkit::served::dms(
        &data,
        &["storage", "migrate", "--to", "https://example.org/bucket"],
        &env,
    )
    .output()
    .unwrap();
    testkit_db::assert_one_line_error(&out, 1, "s3://bucket/prefix");
}
