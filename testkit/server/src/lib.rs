//! Test support of the `dms` package's tests: the real server, started
//! in-process on a random port against a fresh database (one per test,
//! from `testkit-db`), a client that speaks HTTP to it, its users, uploads
//! and fixtures, [`Snapshot`]s and [`server_tests!`]; the `dms` binary as
//! a child process ([`served`]); the web client ([`web`]) and a WebDriver
//! client ([`webdriver`]).

pub mod s3;
pub mod served;
pub mod web;
pub mod webdriver;

use std::time::Duration;

use dms::auth::{NewUser, Role};
use dms::db::MigratePolicy;
use dms::http::limits::LimitConfig;
use dms::server::{Config, Running};
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

pub use testkit_db::{Backend, TestDb};

/// A running server and what a test needs to talk to it.
pub struct TestServer {
    pub db: TestDb,
    pub base: String,
    pub http: reqwest::Client,
    pub data_dir: tempfile::TempDir,
    pub config: Config,
    /// The S3 server holding the files, when they are in a bucket.
    pub s3: Option<std::sync::Arc<s3::S3Server>>,
    running: Option<Running>,
}

/// The prefix of a test server's objects in its bucket.
pub const S3_PREFIX: &str = "dms";

/// A user and a token of theirs.
#[derive(Clone, Debug)]
pub struct TestUser {
    pub id: i32,
    pub username: String,
    pub token: String,
}

/// Limits high enough that only the rate-limit tests meet them.
pub fn relaxed_limits() -> LimitConfig {
    LimitConfig {
        login_per_username: 10_000,
        login_per_client: 10_000,
        create_case_per_user: 10_000,
        upload_per_user: 10_000,
        analyze_per_user: 10_000,
        decide_per_user: 10_000,
        register_per_client: 10_000,
    }
}

pub fn test_config(db: &TestDb, data_dir: &std::path::Path) -> Config {
    let mut config = Config::new(db.url.clone());
    config.bind = "127.0.0.1:0".parse().expect("address");
    config.data_dir = data_dir.to_owned();
    config.migrate = MigratePolicy::Migrate;
    config.limits = relaxed_limits();
    config.db_acquire_timeout = Duration::from_secs(3);
    // Production's contract registers accounts; the default (closed) is
    // tested on its own (tests/api_committee.rs).
    config.open_registration = true;
    config
}

impl TestServer {
    pub async fn start(db: TestDb) -> TestServer {
        TestServer::start_with(db, |_| {}).await
    }

    /// Starts with the test configuration changed by `adjust`.
    pub async fn start_with(db: TestDb, adjust: impl FnOnce(&mut Config)) -> TestServer {
        let data_dir = tempfile::tempdir().expect("data dir");
        let mut config = test_config(&db, data_dir.path());
        adjust(&mut config);
        let running = dms::server::start(config.clone(), std::future::pending())
            .await
            .unwrap_or_else(|e| panic!("server did not start: {e}"));
        TestServer {
            base: format!("http://{}", running.addr),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .expect("client"),
            db,
            data_dir,
            config,
            s3: None,
            running: Some(running),
        }
    }

    /// Starts with the files in a bucket of a new s3s-fs (see [`s3`]);
    /// `None` when s3s-fs is not installed and not required.
    pub async fn start_s3(db: TestDb) -> Option<TestServer> {
        TestServer::start_s3_with(db, |_| {}).await
    }

    /// [`TestServer::start_s3`] with the test configuration changed by `adjust`.
    pub async fn start_s3_with(db: TestDb, adjust: impl FnOnce(&mut Config)) -> Option<TestServer> {
        let s3 = std::sync::Arc::new(s3::S3Server::start()?);
        let mut server = TestServer::start_with(db, |config| {
            config.storage_url = Some(s3.url(S3_PREFIX));
            config.storage_options = s3.options();
            adjust(config);
        })
        .await;
        server.s3 = Some(s3);
        Some(server)
    }

    /// Stops the server (in-flight requests finish) and starts it again on
    /// the same database and data directory.
    pub async fn restart(&mut self) {
        if let Some(running) = self.running.take() {
            running.shutdown().await.expect("clean shutdown");
        }
        let mut config = self.config.clone();
        config.bind = "127.0.0.1:0".parse().expect("address");
        let running = dms::server::start(config, std::future::pending())
            .await
            .unwrap_or_else(|e| panic!("server did not restart: {e}"));
        self.base = format!("http://{}", running.addr);
        self.running = Some(running);
    }

    pub fn state(&self) -> &dms::state::AppState {
        &self.running.as_ref().expect("running").state
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Logs in through `/auth/token`; panics unless it succeeds.
    pub async fn login(&self, username: &str, password: &str) -> String {
        let res = self
            .http
            .post(self.url("/auth/token"))
            .form(&[("username", username), ("password", password)])
            .send()
            .await
            .expect("login request");
        assert_eq!(res.status(), StatusCode::OK, "login of {username}");
        let body: Value = res.json().await.expect("login json");
        body["access_token"].as_str().expect("token").to_owned()
    }

    /// The seeded administrator.
    pub async fn admin(&self) -> TestUser {
        TestUser {
            id: 1,
            username: "admin".into(),
            token: self.login("admin", "Admin123!").await,
        }
    }

    /// A new user of `role` (created through the service, as `dms user
    /// create` does), logged in.
    pub async fn user(&self, role: Role) -> TestUser {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let username = format!("{}_{n}_{}", role.name(), std::process::id());
        let user = dms::auth::create_user(
            &self.state().db,
            NewUser {
                email: format!("{username}@example.org"),
                username: username.clone(),
                password: "Password123!".into(),
                full_name: Some(format!("Test {username}")),
                role,
            },
        )
        .await
        .expect("create user");
        TestUser {
            id: user.id,
            token: self.login(&username, "Password123!").await,
            username,
        }
    }

    /// Marks `user` inactive in the database (as an administrator's
    /// `PATCH /api/users/{id}` would), leaving their token as it was.
    pub async fn deactivate(&self, user: &TestUser) {
        use sea_orm::{ActiveModelTrait, Set};
        entity::users::ActiveModel {
            id: Set(user.id),
            is_active: Set(Some(false)),
            ..Default::default()
        }
        .update(&self.state().db)
        .await
        .expect("deactivate user");
    }

    pub async fn get(&self, token: Option<&str>, path: &str) -> Response {
        let mut req = self.http.get(self.url(path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        req.send().await.expect("GET")
    }

    pub async fn post_json(
        &self,
        token: Option<&str>,
        path: &str,
        body: impl serde::Serialize,
    ) -> Response {
        let mut req = self.http.post(self.url(path)).json(&body);
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        req.send().await.expect("POST")
    }

    /// Adds `who` to the committee of case `case_id` as `role` (evaluator
    /// or observer), by `owner`; panics unless it succeeds.
    pub async fn add_member(&self, owner: &TestUser, case_id: &str, who: &TestUser, role: &str) {
        let res = self
            .post_json(
                Some(&owner.token),
                &format!("/api/cases/{case_id}/members"),
                json!({"user_id": who.id, "role": role}),
            )
            .await;
        expect_json(res, StatusCode::CREATED).await;
    }

    /// Creates a case as `user`; panics unless it succeeds.
    pub async fn create_case(&self, user: &TestUser, case_type: &str, title: &str) -> Value {
        let res = self
            .post_json(
                Some(&user.token),
                "/api/cases",
                &json!({"case_type": case_type, "title": title}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK, "create case");
        res.json().await.expect("case json")
    }

    /// Posts a multipart upload of `bytes` named `filename`, with `fields`.
    pub async fn upload(
        &self,
        token: Option<&str>,
        path: &str,
        filename: &str,
        bytes: Vec<u8>,
        fields: &[(&str, &str)],
    ) -> Response {
        let mut form = reqwest::multipart::Form::new();
        for (name, value) in fields {
            form = form.text(name.to_string(), value.to_string());
        }
        form = form.part(
            "file",
            reqwest::multipart::Part::bytes(bytes).file_name(filename.to_owned()),
        );
        let mut req = self.http.post(self.url(path)).multipart(form);
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        req.send().await.expect("upload")
    }

    /// Runs the analysis of case `case_id` as `user` (`POST /api/analyze`).
    pub async fn analyze(&self, user: &TestUser, case_id: &str) -> Response {
        self.post_json(
            Some(&user.token),
            "/api/analyze",
            json!({"case_id": case_id}),
        )
        .await
    }

    /// Uploads the analysis fixtures' DAO to case `case_id` as `filename`,
    /// through the API; panics unless it is accepted.
    pub async fn upload_dao(&self, owner: &TestUser, case_id: &str, filename: &str) {
        let res = self
            .upload(
                Some(&owner.token),
                &format!("/api/cases/{case_id}/upload-dao"),
                filename,
                analysis::fixtures::dao_docx(),
                &[],
            )
            .await;
        expect_json(res, StatusCode::OK).await;
    }

    /// A case of `owner` with the analysis fixtures uploaded through the
    /// API: the DAO, the seven offer documents of three suppliers and both
    /// templates (not analysed); returns its id.
    pub async fn fixture_case(&self, owner: &TestUser) -> String {
        let case = self.create_case(owner, "DAO", "Kits scolaires").await;
        let id = case["id"].as_str().expect("id").to_owned();
        let token = Some(owner.token.as_str());
        self.upload_dao(owner, &id, "dao_kits.docx").await;
        for offer in analysis::fixtures::offers() {
            let res = self
                .upload(
                    token,
                    &format!("/api/cases/{id}/upload-offer"),
                    offer.filename,
                    offer.bytes,
                    &[
                        ("supplier_name", offer.supplier_name),
                        ("offer_type", offer.offer_type),
                    ],
                )
                .await;
            expect_json(res, StatusCode::OK).await;
        }
        for (kind, name, bytes) in fixture_templates() {
            let res = self
                .upload(token, &format!("/api/upload/{id}/{kind}"), name, bytes, &[])
                .await;
            expect_json(res, StatusCode::OK).await;
        }
        id
    }

    /// A case of `owner` with the fixture DAO and one offer per supplier
    /// of `suppliers`, analysed; returns its id.
    pub async fn analysed_case(&self, owner: &TestUser, suppliers: &[&str]) -> String {
        let case = self.create_case(owner, "DAO", "Analysed").await;
        let id = case["id"].as_str().expect("id").to_owned();
        let token = Some(owner.token.as_str());
        self.upload_dao(owner, &id, "dao.docx").await;
        for supplier in suppliers {
            let text = format!("OFFRE TECHNIQUE {supplier} Montant total : 1.500.000 FCFA");
            let res = self
                .upload(
                    token,
                    &format!("/api/cases/{id}/upload-offer"),
                    "offre.pdf",
                    pdf_bytes(&text),
                    &[("supplier_name", supplier), ("offer_type", "technique")],
                )
                .await;
            assert_eq!(res.status(), StatusCode::OK, "offer upload");
        }
        let res = self.analyze(owner, &id).await;
        assert_eq!(
            res.status(),
            StatusCode::OK,
            "analysis: {}",
            res.text().await.unwrap_or_default()
        );
        id
    }

    pub async fn shutdown(mut self) {
        if let Some(running) = self.running.take() {
            running.shutdown().await.expect("clean shutdown");
        }
    }

    /// A second instance of this server, as a load balancer would reach
    /// it: the same database and storage (the same bucket, or the same
    /// data directory as a shared volume) and configuration; with
    /// `own_data_dir`, a data directory of its own (what a bucket needs).
    pub async fn another_instance(&self, own_data_dir: bool) -> Instance {
        let mut config = self.config.clone();
        config.bind = "127.0.0.1:0".parse().expect("address");
        let data_dir = own_data_dir.then(|| tempfile::tempdir().expect("data dir"));
        if let Some(dir) = &data_dir {
            config.data_dir = dir.path().to_owned();
        }
        let running = dms::server::start(config, std::future::pending())
            .await
            .unwrap_or_else(|e| panic!("second instance did not start: {e}"));
        Instance {
            base: format!("http://{}", running.addr),
            running,
            _data_dir: data_dir,
        }
    }
}

/// Another instance of a [`TestServer`] (see [`TestServer::another_instance`]).
pub struct Instance {
    pub base: String,
    running: Running,
    _data_dir: Option<tempfile::TempDir>,
}

impl Instance {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn state(&self) -> &dms::state::AppState {
        &self.running.state
    }
}

/// The analysis fixtures' templates: upload kind, file name, bytes.
pub fn fixture_templates() -> [(&'static str, &'static str, Vec<u8>); 2] {
    [
        (
            "cba_template",
            "cba_modele.xlsx",
            analysis::fixtures::cba_template_xlsx(),
        ),
        (
            "pv_template",
            "pv_modele.docx",
            analysis::fixtures::pv_template_docx(),
        ),
    ]
}

/// A PDF whose body is garbage: it passes the upload's magic-byte check,
/// but the analysis cannot read it.
pub fn broken_pdf() -> Vec<u8> {
    let mut broken = b"%PDF-1.7\n".to_vec();
    broken.extend_from_slice(&[0xAB; 4096]);
    broken
}

/// The JSON body of `res`, after checking its status.
pub async fn expect_json(res: Response, status: StatusCode) -> Value {
    let got = res.status();
    let text = res.text().await.expect("body");
    assert_eq!(got, status, "unexpected status; body: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// The `detail` of an error response, after checking its status.
pub async fn expect_detail(res: Response, status: StatusCode) -> String {
    let body = expect_json(res, status).await;
    match &body["detail"] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A small but valid PDF (one page, a text layer).
pub fn pdf_bytes(text: &str) -> Vec<u8> {
    let content = format!("BT /F1 12 Tf 72 720 Td ({text}) Tj ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>".to_owned(),
        format!("<< /Length {} >>\nstream\n{content}\nendstream", content.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for offset in offsets {
        out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// A minimal Office Open XML package with `entries` (name, content). Type
/// detection (as production's) looks for `word/` or `xl/` at the third entry,
/// where Office writes it.
pub fn ooxml(entries: &[(&str, &str)]) -> Vec<u8> {
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    for (name, content) in entries {
        zip.start_file(*name, options).expect("zip entry");
        zip.write_all(content.as_bytes()).expect("zip write");
    }
    zip.finish().expect("zip").into_inner()
}

/// A minimal Word document.
pub fn docx_bytes(text: &str) -> Vec<u8> {
    ooxml(&[
        (
            "[Content_Types].xml",
            r#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"#,
        ),
        (
            "_rels/.rels",
            r#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"/>"#,
        ),
        (
            "word/document.xml",
            &format!(
                r#"<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:body></w:document>"#
            ),
        ),
    ])
}

/// A minimal Excel workbook (enough for type detection).
pub fn xlsx_bytes() -> Vec<u8> {
    ooxml(&[
        (
            "[Content_Types].xml",
            r#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>"#,
        ),
        (
            "_rels/.rels",
            r#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"/>"#,
        ),
        (
            "xl/workbook.xml",
            r#"<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>"#,
        ),
    ])
}

/// Defines `sqlite::NAME`, `postgres::NAME` and `mysql::NAME` tests that
/// call `async fn NAME(db: TestDb)` on a multi-threaded runtime (the server
/// and the client run side by side).
#[macro_export]
macro_rules! server_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                if let Some(db) = $crate::TestDb::new($crate::Backend::Sqlite).await {
                    super::$name(db).await
                }
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                if let Some(db) = $crate::TestDb::new($crate::Backend::Postgres).await {
                    super::$name(db).await
                }
            })*
        }
        mod mysql {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                if let Some(db) = $crate::TestDb::new($crate::Backend::MySql).await {
                    super::$name(db).await
                }
            })*
        }
    };
}

/// Every row of every table and every stored file, to show that a refused
/// request changed nothing.
#[derive(Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// Table name -> its rows as JSON text, sorted.
    tables: std::collections::BTreeMap<String, Vec<String>>,
    /// Path under the data directory -> SHA-256 of the content.
    files: std::collections::BTreeMap<String, String>,
}

impl Snapshot {
    /// What differs between two snapshots, in words; `None` if nothing.
    pub fn difference(&self, after: &Snapshot) -> Option<String> {
        for (table, rows) in &self.tables {
            let other = after.tables.get(table);
            if other != Some(rows) {
                let added: Vec<&String> = other
                    .map(|o| o.iter().filter(|r| !rows.contains(r)).collect())
                    .unwrap_or_default();
                return Some(format!("table {table} (now {added:?})"));
            }
        }
        if let Some(table) = after.tables.keys().find(|t| !self.tables.contains_key(*t)) {
            return Some(format!("table {table} appeared"));
        }
        if self.files != after.files {
            return Some(format!(
                "the data directory ({:?} -> {:?})",
                self.files.keys().collect::<Vec<_>>(),
                after.files.keys().collect::<Vec<_>>()
            ));
        }
        None
    }
}

impl TestServer {
    /// Every table of the database.
    /// The tables whose rows are the system's data: every table but
    /// `rate_limits`, whose counters a refused request moves by design (a
    /// refusal still counts against its limit).
    pub async fn table_names(&self) -> Vec<String> {
        migration::inspect::introspect(&self.state().db)
            .await
            .expect("introspect")
            .tables
            .into_keys()
            .filter(|t| t != "rate_limits")
            .collect()
    }

    /// Every table's rows and the data directory's files, as they are now.
    pub async fn snapshot(&self) -> Snapshot {
        let tables = self.table_names().await;
        self.snapshot_of(&tables).await
    }

    /// The rows of `table_names` and the data directory's files.
    pub async fn snapshot_of(&self, table_names: &[String]) -> Snapshot {
        use sea_orm::{FromQueryResult, Statement};
        use sha2::{Digest, Sha256};
        let db = &self.state().db;
        let backend = db.get_database_backend();
        let mut tables = std::collections::BTreeMap::new();
        for name in table_names {
            let quoted = match backend {
                sea_orm::DbBackend::MySql => format!("`{name}`"),
                _ => format!("\"{name}\""),
            };
            let rows = sea_orm::JsonValue::find_by_statement(Statement::from_string(
                backend,
                format!("SELECT * FROM {quoted}"),
            ))
            .all(db)
            .await
            .expect("rows");
            let mut rows: Vec<String> = rows.iter().map(|r| r.to_string()).collect();
            rows.sort();
            tables.insert(name.clone(), rows);
        }
        let mut files = std::collections::BTreeMap::new();
        let root = self.data_dir.path().to_owned();
        let mut stack = vec![root.clone()];
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    let bytes = std::fs::read(&path).unwrap_or_default();
                    let rel = path.strip_prefix(&root).unwrap_or(&path);
                    files.insert(
                        rel.display().to_string(),
                        hex::encode(Sha256::digest(&bytes)),
                    );
                }
            }
        }
        if let Some(s3) = &self.s3 {
            for key in s3.objects(S3_PREFIX) {
                let bytes = std::fs::read(s3.bucket_dir().join(&key)).unwrap_or_default();
                files.insert(format!("s3:{key}"), hex::encode(Sha256::digest(&bytes)));
            }
        }
        Snapshot { tables, files }
    }
}
