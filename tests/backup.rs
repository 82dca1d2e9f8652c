//! `dms backup` and `dms restore` through the real binary: a backup taken
//! while uploads are in flight restores into a copy the server starts on,
//! with every file its rows name, each with its recorded hash; restores
//! refuse non-empty targets and altered backups without writing; on
//! PostgreSQL and MariaDB, `--files-only` copies the files and plain
//! backups are refused.

use std::path::{Path, PathBuf};
use std::process::Output;

use dms::auth::Role;
use dms::backup::manifest::{self, Manifest};
use reqwest::StatusCode;
use sea_orm::{
    Database, DatabaseConnection, EntityTrait, SqliteTransactionMode, TransactionOptions,
    TransactionTrait,
};
use serde_json::Value;
use sha2::{Digest, Sha256};
use testkit::served::{self, Served};
use testkit::{TestServer, expect_json, pdf_bytes};
use testkit_db::{Backend, TestDb, assert_ok, assert_one_line_error};

const UPLOADS: usize = 20;

testkit::server_tests!(files_only_copies_the_files_and_plain_backup_needs_sqlite);

/// Runs `dms` with `env` in `dir` and waits for it.
async fn dms(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = served::dms(dir, args, env);
    tokio::task::spawn_blocking(move || command.output().expect("run dms"))
        .await
        .expect("dms task")
}

/// The environment that points `dms` at `url` and `data`.
fn env_of<'a>(url: &'a str, data: &'a Path) -> [(&'static str, &'a str); 2] {
    [
        ("DATABASE_URL", url),
        ("DMS_DATA_DIR", data.to_str().expect("utf-8 path")),
    ]
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Every artifact's stored path and the SHA-256 its row recorded on receipt.
async fn recorded_hashes(db: &DatabaseConnection) -> Vec<(String, String)> {
    let mut rows: Vec<(String, String)> = entity::artifacts::Entity::find()
        .all(db)
        .await
        .expect("artifacts")
        .into_iter()
        .map(|a| {
            let meta: Value =
                serde_json::from_str(a.meta_json.as_deref().unwrap_or("{}")).expect("meta_json");
            let hash = meta["hash"].as_str().expect("recorded hash").to_owned();
            (a.path, hash)
        })
        .collect();
    rows.sort();
    rows
}

/// A server with the analysis fixtures' case (a DAO, seven offers, two
/// templates) uploaded; returns it, its owner and the case.
async fn server_with_files(db: TestDb) -> (TestServer, testkit::TestUser, String) {
    let server = TestServer::start_with(db, |config| {
        // The uploads queue behind the test's write lock for as long as
        // the backup takes.
        config.db_acquire_timeout = std::time::Duration::from_secs(120);
    })
    .await;
    let officer = server.user(Role::ProcurementOfficer).await;
    let case = server.fixture_case(&officer).await;
    (server, officer, case)
}

async fn backup_of(server: &TestServer, dest: &Path, args: &[&str]) -> Output {
    let mut all = vec!["backup"];
    all.extend_from_slice(args);
    all.push(dest.to_str().expect("utf-8 path"));
    dms(
        server.data_dir.path(),
        &all,
        &env_of(&server.db.url, server.data_dir.path()),
    )
    .await
}

fn read_manifest(dest: &Path) -> Manifest {
    manifest::read(dest).expect("manifest")
}

/// How many upload bodies wait in the data directory's `tmp/`, received
/// but not yet moved into place by a committed transaction.
fn bodies_waiting(data: &Path) -> usize {
    std::fs::read_dir(data.join("tmp"))
        .map(|entries| entries.count())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_during_uploads_restores_and_verifies() {
    let db = TestDb::new(Backend::Sqlite).await.expect("sqlite");
    let (server, officer, case) = server_with_files(db).await;
    let live = server.db.connect().await;
    let before = recorded_hashes(&live).await;
    assert_eq!(before.len(), 10, "the fixture case's files");

    // The test takes SQLite's write lock, so that the uploads are all in
    // flight while the backup runs: as many as the pool has connections
    // received and waiting to commit, the others waiting for a connection.
    let holder = server.db.connect().await;
    let held = holder
        .begin_with_options(TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..Default::default()
        })
        .await
        .expect("write lock");
    let uploads: Vec<_> = (0..UPLOADS)
        .map(|i| {
            let form = reqwest::multipart::Form::new()
                .text("supplier_name", format!("Concurrent {i}"))
                .text("offer_type", "financiere")
                .part(
                    "file",
                    reqwest::multipart::Part::bytes(pdf_bytes(&format!("Offre concurrente {i}")))
                        .file_name("offre.pdf"),
                );
            let request = server
                .http
                .post(server.url(&format!("/api/cases/{case}/upload-offer")))
                .bearer_auth(&officer.token)
                .multipart(form);
            tokio::spawn(async move { request.send().await.expect("upload").status() })
        })
        .collect();
    let in_flight = || uploads.iter().filter(|u| !u.is_finished()).count();
    let in_tx = testkit_db::lock_waits::pool_size(&server.state().db).min(UPLOADS as i64) as usize;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while bodies_waiting(server.data_dir.path()) < in_tx {
        assert_eq!(in_flight(), UPLOADS, "an upload answered under the lock");
        assert!(
            std::time::Instant::now() < deadline,
            "only {} of {in_tx} uploads were received",
            bodies_waiting(server.data_dir.path())
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    let backups = tempfile::tempdir().expect("temp dir");
    let dest = backups.path().join("backup");
    let out = backup_of(&server, &dest, &[]).await;
    assert_ok(&out);
    assert_eq!(
        in_flight(),
        UPLOADS,
        "the backup ran while every upload was in flight"
    );
    held.rollback().await.expect("release the lock");
    for upload in uploads {
        assert_eq!(upload.await.expect("task"), StatusCode::OK);
    }
    assert_eq!(recorded_hashes(&live).await.len(), 10 + UPLOADS);

    // The backup is the database at the snapshot and exactly its files.
    let manifest = manifest::verify(&dest).expect("the manifest verifies");
    assert_eq!(manifest.source_database, "sqlite");
    assert!(manifest.database.is_some());
    assert!(manifest.missing.is_empty(), "{:?}", manifest.missing);
    // The heads of the snapshot's chains: the global one and each case's.
    let heads = manifest.ledger_heads.as_ref().expect("the ledger's heads");
    let heads = heads.as_array().expect("a list of heads");
    assert!(
        heads.iter().any(|h| h["chain"] == "global") && heads.len() > 1,
        "{heads:?}"
    );
    let listed: Vec<(String, String)> = manifest
        .files
        .iter()
        .map(|f| (f.path.clone(), f.sha256.clone()))
        .collect();
    assert_eq!(
        listed, before,
        "the files of the snapshot, with their hashes"
    );
    assert_private(&dest);

    // Restored elsewhere, the copy holds every file its rows name.
    let target = tempfile::tempdir().expect("temp dir");
    let url = format!(
        "sqlite://{}?mode=rwc",
        target.path().join("dms.db").display()
    );
    let data = target.path().join("data");
    let out = dms(
        target.path(),
        &["restore", dest.to_str().unwrap()],
        &env_of(&url, &data),
    )
    .await;
    assert_ok(&out);
    assert!(
        testkit_db::stdout(&out).contains("restored 10 files"),
        "{}",
        testkit_db::stdout(&out)
    );
    check_restored(
        target.path(),
        &url,
        &data,
        &officer.username,
        &case,
        &before,
    )
    .await;
    server.shutdown().await;
}

/// What a restored copy must be: every artifact row's file there with its
/// recorded hash, and a server that starts on it and serves them.
async fn check_restored(
    dir: &Path,
    url: &str,
    data: &Path,
    username: &str,
    case: &str,
    expected: &[(String, String)],
) {
    let restored = Database::connect(url).await.expect("restored database");
    let rows = recorded_hashes(&restored).await;
    restored.close().await.ok();
    assert_eq!(rows, expected);
    for (path, hash) in &rows {
        let bytes = std::fs::read(data.join(path)).expect("restored file");
        assert_eq!(&sha256(&bytes), hash, "{path}");
    }
    // The copy holds exactly what its ledger recorded.
    assert_ok(&dms(dir, &["verify"], &env_of(url, data)).await);

    let served = Served::start(dir, &[], &env_of(url, data)).await;
    let http = reqwest::Client::new();
    let token = login(&http, &served, username).await;
    let file = http
        .get(served.url(&format!("/api/cases/{case}")))
        .bearer_auth(&token)
        .send()
        .await
        .expect("case file");
    let file = expect_json(file, StatusCode::OK).await;
    let artifacts = file["artifacts"].as_array().expect("artifacts");
    assert_eq!(artifacts.len(), expected.len());
    let first = artifacts[0]["id"].as_str().expect("artifact id");
    let download = http
        .get(served.url(&format!("/api/cases/{case}/artifacts/{first}")))
        .bearer_auth(&token)
        .send()
        .await
        .expect("download");
    assert_eq!(download.status(), StatusCode::OK);
    let bytes = download.bytes().await.expect("body");
    assert!(
        expected.iter().any(|(_, hash)| *hash == sha256(&bytes)),
        "the restored server serves a restored file"
    );
    served.stop().await;
}

async fn login(http: &reqwest::Client, served: &Served, username: &str) -> String {
    let res = http
        .post(served.url("/auth/token"))
        .form(&[("username", username), ("password", "Password123!")])
        .send()
        .await
        .expect("login");
    let body = expect_json(res, StatusCode::OK).await;
    body["access_token"].as_str().expect("token").to_owned()
}

/// Every file of the backup is its owner's only.
fn assert_private(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777;
    let is_dir = dir.is_dir();
    assert_eq!(
        mode,
        if is_dir { 0o700 } else { 0o600 },
        "{}",
        dir.display()
    );
    if is_dir {
        for entry in std::fs::read_dir(dir).expect("read dir") {
            assert_private(&entry.expect("entry").path());
        }
    }
}

/// Every file under `dir` with its bytes, to show that nothing changed.
fn contents(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut found = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                found.extend(contents(&path));
            } else {
                found.push((path.clone(), std::fs::read(&path).expect("read")));
            }
        }
    }
    found.sort();
    found
}

/// A backup of the fixture case in `backups/backup`.
async fn fixture_backup(backups: &Path) -> (PathBuf, Vec<(String, String)>) {
    let db = TestDb::new(Backend::Sqlite).await.expect("sqlite");
    let (server, _, _) = server_with_files(db).await;
    let dest = backups.join("backup");
    assert_ok(&backup_of(&server, &dest, &[]).await);
    let hashes = recorded_hashes(&server.state().db).await;
    server.shutdown().await;
    (dest, hashes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_refuses_a_non_empty_target_without_force() {
    let backups = tempfile::tempdir().expect("temp dir");
    let (dest, hashes) = fixture_backup(backups.path()).await;
    let target = tempfile::tempdir().expect("temp dir");
    let url = format!(
        "sqlite://{}?mode=rwc",
        target.path().join("dms.db").display()
    );
    let data = target.path().join("data");
    let restore = |force: bool| {
        let mut args = vec!["restore", dest.to_str().unwrap()];
        if force {
            args.push("--force");
        }
        let (dir, env) = (target.path(), env_of(&url, &data));
        async move { dms(dir, &args, &env).await }
    };

    // A database already there.
    std::fs::write(target.path().join("dms.db"), b"an office's database").unwrap();
    let untouched = contents(target.path());
    let out = restore(false).await;
    assert_one_line_error(&out, 1, "is not empty (stop the server and add --force");
    assert!(testkit_db::stderr(&out).contains("the database"));
    assert_eq!(contents(target.path()), untouched);

    // No database, but a data directory holding a file.
    std::fs::remove_file(target.path().join("dms.db")).unwrap();
    std::fs::create_dir_all(data.join("uploads/x")).unwrap();
    std::fs::write(data.join("uploads/x/offer.pdf"), b"an offer").unwrap();
    let untouched = contents(target.path());
    let out = restore(false).await;
    assert_one_line_error(&out, 1, "the data directory");
    assert_eq!(contents(target.path()), untouched, "nothing written beside");

    // Empty folders (a server's fresh data directory) are no content.
    std::fs::remove_file(data.join("uploads/x/offer.pdf")).unwrap();
    std::fs::write(target.path().join("dms.db"), b"").unwrap();
    assert_ok(&restore(false).await);

    // With --force, both are replaced by the backup's.
    std::fs::write(data.join("stray.txt"), b"not in the backup").unwrap();
    assert_ok(&restore(true).await);
    assert!(!data.join("stray.txt").exists());
    let restored = Database::connect(&url).await.expect("restored");
    assert_eq!(recorded_hashes(&restored).await, hashes);
    restored.close().await.ok();
    let names: Vec<_> = std::fs::read_dir(target.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().all(|n| n == "dms.db" || n == "data"),
        "nothing staged is left: {names:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_refuses_an_altered_backup_before_writing() {
    let backups = tempfile::tempdir().expect("temp dir");
    let (dest, _) = fixture_backup(backups.path()).await;
    let manifest = read_manifest(&dest);
    let target = tempfile::tempdir().expect("temp dir");
    let url = format!(
        "sqlite://{}?mode=rwc",
        target.path().join("dms.db").display()
    );
    let data = target.path().join("data");
    let env = env_of(&url, &data);
    let args = ["restore", dest.to_str().unwrap()];

    // One byte of one offer changed: same size, other bytes.
    let victim = &manifest.files[3];
    let path = dest.join("data").join(&victim.path);
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    std::fs::write(&path, &bytes).unwrap();
    let out = dms(target.path(), &args, &env).await;
    assert_one_line_error(
        &out,
        1,
        &format!("data/{} does not match the manifest", victim.path),
    );
    assert!(testkit_db::stderr(&out).contains("nothing was restored"));
    assert!(
        std::fs::read_dir(target.path()).unwrap().next().is_none(),
        "nothing written"
    );
    bytes[last] ^= 0x01;
    std::fs::write(&path, &bytes).unwrap();

    // The database snapshot, changed the same way.
    let snapshot = dest.join("dms.db");
    let mut bytes = std::fs::read(&snapshot).unwrap();
    bytes[200] ^= 0x01;
    std::fs::write(&snapshot, &bytes).unwrap();
    let out = dms(target.path(), &args, &env).await;
    assert_one_line_error(&out, 1, "dms.db does not match the manifest");
    assert!(std::fs::read_dir(target.path()).unwrap().next().is_none());
    bytes[200] ^= 0x01;
    std::fs::write(&snapshot, &bytes).unwrap();

    // A manifest naming a file outside the backup.
    let text = std::fs::read_to_string(dest.join("manifest.json")).unwrap();
    let escaped = text.replacen(&format!("\"{}\"", victim.path), "\"../../etc/passwd\"", 1);
    std::fs::write(dest.join("manifest.json"), escaped).unwrap();
    let out = dms(target.path(), &args, &env).await;
    assert_one_line_error(&out, 1, "outside the backup");
    std::fs::write(dest.join("manifest.json"), text).unwrap();

    // Put back as it was, the backup restores.
    assert_ok(&dms(target.path(), &args, &env).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_reports_missing_files_and_refuses_a_used_destination() {
    let db = TestDb::new(Backend::Sqlite).await.expect("sqlite");
    let (server, _, _) = server_with_files(db).await;
    let hashes = recorded_hashes(&server.state().db).await;
    let backups = tempfile::tempdir().expect("temp dir");

    // A destination that holds anything is refused, and left as it was.
    let used = backups.path().join("used");
    std::fs::create_dir(&used).unwrap();
    std::fs::write(used.join("notes.txt"), b"keep me").unwrap();
    let out = backup_of(&server, &used, &[]).await;
    assert_one_line_error(&out, 1, "exists and is not empty");
    assert_eq!(std::fs::read(used.join("notes.txt")).unwrap(), b"keep me");
    assert_eq!(std::fs::read_dir(&used).unwrap().count(), 1);

    // An empty one is used.
    let empty = backups.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    assert_ok(&backup_of(&server, &empty, &[]).await);
    assert_eq!(read_manifest(&empty).files.len(), hashes.len());

    // A stored file gone from the data directory: the backup is written,
    // lists it, and the command fails saying so.
    let (lost, _) = &hashes[2];
    std::fs::remove_file(server.data_dir.path().join(lost)).unwrap();
    let dest = backups.path().join("incomplete");
    let out = backup_of(&server, &dest, &[]).await;
    assert_one_line_error(
        &out,
        1,
        &format!("1 stored file(s) the database names are missing, first {lost}"),
    );
    let manifest = manifest::verify(&dest).expect("what was copied verifies");
    assert_eq!(manifest.files.len(), hashes.len() - 1);
    assert_eq!(manifest.missing.len(), 1);
    assert_eq!(&manifest.missing[0].path, lost);
    let leftovers: Vec<_> = std::fs::read_dir(backups.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "no staging left: {leftovers:?}");
    server.shutdown().await;
}

async fn files_only_copies_the_files_and_plain_backup_needs_sqlite(db: TestDb) {
    let backend = db.backend;
    let (server, _, _) = server_with_files(db).await;
    let hashes = recorded_hashes(&server.state().db).await;
    let backups = tempfile::tempdir().expect("temp dir");

    let plain = backups.path().join("plain");
    let out = backup_of(&server, &plain, &[]).await;
    match backend {
        Backend::Sqlite => assert_ok(&out),
        Backend::Postgres => {
            assert_one_line_error(&out, 1, "this one is PostgreSQL (dump it with pg_dump");
            assert!(!plain.exists());
        }
        Backend::MySql => {
            assert_one_line_error(
                &out,
                1,
                "this one is MariaDB/MySQL (dump it with mariadb-dump",
            );
            assert!(!plain.exists());
        }
    }

    let dest = backups.path().join("files");
    assert_ok(&backup_of(&server, &dest, &["--files-only"]).await);
    let manifest = manifest::verify(&dest).expect("the manifest verifies");
    assert_eq!(manifest.database, None);
    assert!(!dest.join("dms.db").exists());
    assert_eq!(
        manifest.source_database,
        match backend {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
            Backend::MySql => "mysql",
        }
    );
    let listed: Vec<(String, String)> = manifest
        .files
        .iter()
        .map(|f| (f.path.clone(), f.sha256.clone()))
        .collect();
    assert_eq!(listed, hashes);
    assert_private(&dest);

    // Restored, the files land in the data directory; the database is the
    // native dump's business.
    let target = tempfile::tempdir().expect("temp dir");
    let data = target.path().join("data");
    let out = dms(
        target.path(),
        &["restore", dest.to_str().unwrap()],
        &env_of(&server.db.url, &data),
    )
    .await;
    assert_ok(&out);
    assert!(testkit_db::stdout(&out).contains("holds no database"));
    for (path, hash) in &hashes {
        let bytes = std::fs::read(data.join(path)).expect("restored file");
        assert_eq!(&sha256(&bytes), hash, "{path}");
    }
    server.shutdown().await;
}
