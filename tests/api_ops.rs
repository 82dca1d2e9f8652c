//! Operations: health, the database going away and coming back, the
//! OpenAPI document, unknown paths, the body cap, internal errors and
//! request ids, and the `dms` binary itself (schema check at start,
//! `--migrate`, the zero-set-up SQLite default, graceful shutdown on
//! SIGTERM, and the user commands reading passwords from standard input).

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Output, Stdio};
use std::time::Duration;

use dms::api::routes::{Access, ROUTES};
use dms::auth::Role;
use futures_util::StreamExt;
use reqwest::StatusCode;
use serde_json::{Value, json};
use testkit::served::{Served, admin_token, dms};
use testkit::{TestServer, expect_detail, expect_json, pdf_bytes};
use testkit_db::{Backend, TestDb};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

testkit::server_tests!(
    health_reports_the_database,
    database_going_away_and_coming_back,
    openapi_lists_every_route,
    unknown_paths_answer_json,
    json_bodies_over_1_mib_are_413,
    refused_uploads_close_the_connection,
    internal_errors_are_opaque_and_carry_the_request_id,
    serve_refuses_a_database_behind_unless_told_to_migrate,
    user_commands_read_the_password_from_standard_input,
);

async fn health_reports_the_database(db: TestDb) {
    let server = TestServer::start(db).await;
    let body = expect_json(server.get(None, "/api/health").await, StatusCode::OK).await;
    assert_eq!(
        body,
        json!({
            "status": "healthy",
            "version": "1.0.0",
            "invariants_status": "enforced",
            "database": "ok",
        })
    );
    let body = expect_json(server.get(None, "/api/constitution").await, StatusCode::OK).await;
    assert_eq!(body["version"], "1.0.0");
    assert_eq!(body["invariants"].as_object().unwrap().len(), 8);
    assert_eq!(body["invariants"]["human_decision_final"], true);
}

/// A TCP proxy from a random port of 127.0.0.1 to the database server,
/// which the test cuts (every proxied connection dropped, new ones closed
/// at once) and restores.
struct Proxy {
    addr: SocketAddr,
    up: watch::Sender<bool>,
    accept: tokio::task::JoinHandle<()>,
}

impl Proxy {
    async fn start(upstream: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("proxy port");
        let addr = listener.local_addr().expect("proxy address");
        let (up, watch_up) = watch::channel(true);
        let accept = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    continue;
                };
                if !*watch_up.borrow() {
                    // Cut: the connection is closed before a byte passes.
                    drop(client);
                    continue;
                }
                let upstream = upstream.clone();
                let mut watch_up = watch_up.clone();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(&upstream).await else {
                        return;
                    };
                    let mut client = client;
                    // Ends when either side closes or the proxy is cut
                    // (or dropped); both sockets are dropped then.
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = watch_up.wait_for(|up| !up) => {}
                    }
                });
            }
        });
        Proxy { addr, up, accept }
    }

    fn cut(&self) {
        self.up.send_replace(false);
    }

    fn restore(&self) {
        self.up.send_replace(true);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        // Dropping `up` ends the proxied connections.
    }
}

/// `url` with its host and port replaced by `via`, and the `host:port` it
/// named (the scheme's default port when it named none).
fn through(url: &str, via: SocketAddr) -> (String, String) {
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((userinfo, hostport)) => (format!("{userinfo}@"), hostport),
        None => (String::new(), authority),
    };
    let upstream = if hostport.contains(':') {
        hostport.to_owned()
    } else {
        let port = if scheme.starts_with("postgres") {
            5432
        } else {
            3306
        };
        format!("{hostport}:{port}")
    };
    (upstream, format!("{scheme}://{userinfo}{via}/{path}"))
}

/// Polls `/api/health` until the database state is `want` (bounded).
async fn wait_for_database(server: &TestServer, want: &str) {
    for _ in 0..100 {
        let res = server.get(None, "/api/health").await;
        if res.status() == StatusCode::OK {
            let body: Value = res.json().await.expect("health json");
            if body["database"] == want {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("/api/health never said database: {want}");
}

async fn database_going_away_and_coming_back(db: TestDb) {
    // SQLite is a file the server opens itself: there is no connection to
    // cut, so this runs on the server databases only.
    if db.backend == Backend::Sqlite {
        return;
    }
    let (upstream, _) = through(&db.url, "127.0.0.1:1".parse().unwrap());
    let proxy = Proxy::start(upstream.clone()).await;
    let (_, url) = through(&db.url, proxy.addr);
    let server = TestServer::start_with(db, |config| config.database_url = url).await;
    let officer = server.user(Role::ProcurementOfficer).await;
    let case = server.create_case(&officer, "DAO", "Panne").await;
    let id = case["id"].as_str().unwrap().to_owned();
    wait_for_database(&server, "ok").await;

    // What needs the database: reading with a token (the user is loaded),
    // logging in, creating a case, a case's detail.
    let requests = |server: &TestServer| {
        let token = officer.token.clone();
        let id = id.clone();
        let http = server.http.clone();
        let url = |p: &str| server.url(p);
        vec![
            ("list", http.get(url("/api/cases")).bearer_auth(&token)),
            (
                "detail",
                http.get(url(&format!("/api/cases/{id}")))
                    .bearer_auth(&token),
            ),
            (
                "login",
                http.post(url("/auth/token"))
                    .form(&[("username", "admin"), ("password", "Admin123!")]),
            ),
            (
                "create",
                http.post(url("/api/cases"))
                    .bearer_auth(&token)
                    .json(&json!({"case_type": "RFQ", "title": "Pendant la panne"})),
            ),
        ]
    };

    proxy.cut();
    for (name, request) in requests(&server) {
        let res = request.send().await.expect(name);
        let retry_after = res
            .headers()
            .get("retry-after")
            .unwrap_or_else(|| panic!("{name}: no Retry-After"))
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap_or_else(|e| panic!("{name}: Retry-After is not seconds: {e}"));
        assert!(retry_after >= 1, "{name}");
        let detail = expect_detail(res, StatusCode::SERVICE_UNAVAILABLE).await;
        assert!(!detail.is_empty(), "{name}");
    }
    let health = expect_json(server.get(None, "/api/health").await, StatusCode::OK).await;
    assert_eq!(health["status"], "healthy");
    assert_eq!(health["database"], "unavailable");
    // What does not need the database still answers.
    expect_json(server.get(None, "/api/constitution").await, StatusCode::OK).await;
    expect_json(server.get(None, "/openapi.json").await, StatusCode::OK).await;

    // Back: the same server answers again, without a restart.
    proxy.restore();
    wait_for_database(&server, "ok").await;
    for (name, request) in requests(&server) {
        let res = request.send().await.expect(name);
        let body = expect_json(res, StatusCode::OK).await;
        if name == "list" {
            assert_eq!(
                body.as_array().unwrap().len(),
                1,
                "no case was half-created"
            );
        }
    }
}

async fn openapi_lists_every_route(db: TestDb) {
    let server = TestServer::start(db).await;
    let doc = expect_json(server.get(None, "/openapi.json").await, StatusCode::OK).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert_eq!(doc["info"]["version"], "1.0.0");
    for route in ROUTES {
        let operation = &doc["paths"][route.path][route.method.to_lowercase()];
        assert!(
            operation.is_object(),
            "{} {} is not in /openapi.json",
            route.method,
            route.path
        );
        assert_eq!(operation["summary"], route.summary);
        assert_eq!(
            operation["security"].is_array(),
            route.access != Access::Public,
            "{} {}: bearer security iff the route needs a token",
            route.method,
            route.path
        );
        for name in route
            .path
            .split('/')
            .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
        {
            assert!(
                operation["parameters"]
                    .as_array()
                    .is_some_and(|ps| ps.iter().any(|p| p["name"] == name && p["in"] == "path")),
                "{} {}: path parameter {name}",
                route.method,
                route.path
            );
        }
    }
    let operations: usize = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|item| item.as_object().unwrap().len())
        .sum();
    assert_eq!(operations, ROUTES.len(), "nothing but the route table");

    let res = server.get(None, "/docs").await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await.unwrap();
    for route in ROUTES {
        assert!(page.contains(route.path), "/docs lacks {}", route.path);
    }
}

async fn unknown_paths_answer_json(db: TestDb) {
    let server = TestServer::start(db).await;
    let admin = server.admin().await;
    for path in ["/nope", "/api/nope", "/api/cases/x/nope", "/auth"] {
        for token in [None, Some(admin.token.as_str())] {
            let res = server.get(token, path).await;
            assert!(
                res.headers()
                    .get("content-type")
                    .is_some_and(|v| v.to_str().unwrap().starts_with("application/json")),
                "{path}"
            );
            assert_eq!(expect_detail(res, StatusCode::NOT_FOUND).await, "Not Found");
        }
        let res = server.post_json(None, path, json!({})).await;
        assert_eq!(expect_detail(res, StatusCode::NOT_FOUND).await, "Not Found");
    }
    // A known path with a method it does not have (production: 405 JSON).
    let res = server
        .http
        .delete(server.url("/api/cases"))
        .bearer_auth(&admin.token)
        .send()
        .await
        .unwrap();
    let allow = res.headers().get("allow").unwrap().to_str().unwrap();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    assert_eq!(
        expect_detail(res, StatusCode::METHOD_NOT_ALLOWED).await,
        "Method Not Allowed"
    );
}

async fn refused_uploads_close_the_connection(db: TestDb) {
    let server = TestServer::start(db).await;
    let officer = server.user(Role::ProcurementOfficer).await;
    // A refused upload is answered before its body is read: the client is
    // told not to reuse the connection.
    for (token, status) in [
        (None, StatusCode::UNAUTHORIZED),
        (Some(officer.token.as_str()), StatusCode::NOT_FOUND),
    ] {
        let path = "/api/cases/no-such-case/upload-dao";
        let res = server
            .upload(token, path, "dao.pdf", pdf_bytes("x"), &[])
            .await;
        assert_eq!(res.headers().get("connection").unwrap(), "close");
        expect_detail(res, status).await;
    }
    // An accepted one keeps it.
    let case = server.create_case(&officer, "DAO", "Connexion").await;
    let path = format!("/api/cases/{}/upload-dao", case["id"].as_str().unwrap());
    let res = server
        .upload(Some(&officer.token), &path, "dao.pdf", pdf_bytes("x"), &[])
        .await;
    assert!(res.headers().get("connection").is_none());
    expect_json(res, StatusCode::OK).await;
}

async fn json_bodies_over_1_mib_are_413(db: TestDb) {
    let server = TestServer::start(db).await;
    let officer = server.user(Role::ProcurementOfficer).await;
    let cap = dms::api::MAX_JSON_BODY;
    let big = "x".repeat(cap + 1);

    let body = json!({"case_type": "DAO", "title": big});
    let res = server
        .post_json(Some(&officer.token), "/api/cases", &body)
        .await;
    assert_eq!(
        res.headers().get("connection").unwrap(),
        "close",
        "the unread rest of the body ends the connection: a client must not reuse it"
    );
    expect_detail(res, StatusCode::PAYLOAD_TOO_LARGE).await;
    let body = json!({"email": "big@example.org", "username": "bigbody", "password": big});
    expect_detail(
        server.post_json(None, "/auth/register", &body).await,
        StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await;
    let res = server
        .http
        .post(server.url("/auth/token"))
        .form(&[("username", "admin"), ("password", big.as_str())])
        .send()
        .await
        .unwrap();
    expect_detail(res, StatusCode::PAYLOAD_TOO_LARGE).await;

    // Without a Content-Length (chunked), the cap holds as the body arrives.
    let chunk = bytes::Bytes::from(vec![b' '; 64 * 1024]);
    let chunks = cap / chunk.len() + 2;
    let stream = futures_util::stream::iter(
        std::iter::once(bytes::Bytes::from_static(
            b"{\"case_type\": \"DAO\", \"title\": \"t\"",
        ))
        .chain(std::iter::repeat_n(chunk, chunks))
        .map(Ok::<_, std::io::Error>),
    );
    let res = server
        .http
        .post(server.url("/api/cases"))
        .bearer_auth(&officer.token)
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers().get("connection").unwrap(), "close");
    expect_detail(res, StatusCode::PAYLOAD_TOO_LARGE).await;

    // Just under the cap is read (and then judged on its content).
    let padded = format!(
        "{{\"case_type\": \"DAO\", \"title\": \"Sous la limite\"{}}}",
        " ".repeat(cap - 100)
    );
    let res = server
        .http
        .post(server.url("/api/cases"))
        .bearer_auth(&officer.token)
        .header("content-type", "application/json")
        .body(padded)
        .send()
        .await
        .unwrap();
    let case = expect_json(res, StatusCode::OK).await;
    assert_eq!(case["title"], "Sous la limite");
}

async fn internal_errors_are_opaque_and_carry_the_request_id(db: TestDb) {
    let server = TestServer::start(db).await;
    let officer = server.user(Role::ProcurementOfficer).await;
    let case = server.create_case(&officer, "DAO", "Erreur").await;
    let id = case["id"].as_str().unwrap();

    // Every answer carries the request id: the client's when sane...
    let res = server
        .http
        .get(server.url("/api/health"))
        .header("x-request-id", "client-id_42")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers().get("x-request-id").unwrap(), "client-id_42");
    // ...else a new one.
    let res = server
        .http
        .get(server.url("/api/nope"))
        .header("x-request-id", "not sane; at all")
        .send()
        .await
        .unwrap();
    let generated = res.headers().get("x-request-id").unwrap().to_str().unwrap();
    assert!(uuid::Uuid::parse_str(generated).is_ok(), "{generated}");

    // A data directory broken under the server (its tmp/ replaced by a
    // file): an upload cannot be received, a server fault.
    let tmp = server.data_dir.path().join("tmp");
    std::fs::remove_dir_all(&tmp).unwrap();
    std::fs::write(&tmp, "not a directory").unwrap();
    let upload = |request_id: Option<&str>| {
        let form = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(pdf_bytes("DAO")).file_name("dao.pdf"),
        );
        let mut req = server
            .http
            .post(server.url(&format!("/api/cases/{id}/upload-dao")))
            .bearer_auth(&officer.token)
            .multipart(form);
        if let Some(request_id) = request_id {
            req = req.header("x-request-id", request_id);
        }
        req.send()
    };
    let res = upload(Some("upload-1")).await.unwrap();
    assert_eq!(res.headers().get("x-request-id").unwrap(), "upload-1");
    let body = expect_json(res, StatusCode::INTERNAL_SERVER_ERROR).await;
    assert_eq!(
        body,
        json!({"detail": "internal error", "request_id": "upload-1"}),
        "nothing of the cause reaches the client"
    );
    let res = upload(None).await.unwrap();
    let header = res
        .headers()
        .get("x-request-id")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let body = expect_json(res, StatusCode::INTERNAL_SERVER_ERROR).await;
    assert_eq!(body["request_id"], header.as_str());
    // Nothing was recorded.
    let artifacts = testkit_db::count(&server.state().db, "artifacts").await;
    assert_eq!(artifacts, 0);
}

async fn panicking_handler() -> &'static str {
    panic!("a bug in a handler")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_handler_is_an_internal_error_with_the_request_id() {
    // No route of the API can be made to panic from outside: the server's
    // request middleware is put around one that does.
    let app = axum::Router::new()
        .route("/boom", axum::routing::get(panicking_handler))
        .layer(axum::middleware::from_fn_with_state(
            dms::http::track::Tracked {
                metrics: std::sync::Arc::new(
                    dms::http::metrics::Metrics::new(Default::default()).unwrap(),
                ),
                trusted_proxies: Vec::new().into(),
            },
            dms::http::track::track,
        ));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let serving = tokio::spawn(async move { axum::serve(listener, app).await });
    let http = reqwest::Client::new();
    for n in 0..2 {
        let id = format!("boom-{n}");
        let res = http
            .get(format!("http://{addr}/boom"))
            .header("x-request-id", &id)
            .send()
            .await
            .expect("an answer, not a dropped connection");
        assert_eq!(res.headers().get("x-request-id").unwrap(), id.as_str());
        let body = expect_json(res, StatusCode::INTERNAL_SERVER_ERROR).await;
        assert_eq!(body, json!({"detail": "internal error", "request_id": id}));
    }
    serving.abort();
}

/// Runs a `dms` command to the end, feeding it `stdin`.
async fn run(dir: &Path, args: &[&str], env: &[(&str, &str)], stdin: &str) -> Output {
    let mut cmd = dms(dir, args, env);
    let stdin = stdin.to_owned();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run dms");
        // Written then closed: the command sees the end of its input.
        let mut input = child.stdin.take().expect("stdin");
        input.write_all(stdin.as_bytes()).expect("write stdin");
        drop(input);
        // Read as it comes, so that a chatty process never blocks on a pipe.
        let mut out = child.stdout.take().expect("stdout");
        let mut err = child.stderr.take().expect("stderr");
        let out = std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = out.read_to_end(&mut buf);
            buf
        });
        let err = std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = err.read_to_end(&mut buf);
            buf
        });
        // Bounded: a command that should have failed may be serving.
        let mut status = None;
        for _ in 0..1200 {
            if let Some(s) = child.try_wait().expect("wait") {
                status = Some(s);
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let Some(status) = status else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("dms {args:?} did not exit within two minutes");
        };
        Output {
            status,
            stdout: out.join().expect("stdout reader"),
            stderr: err.join().expect("stderr reader"),
        }
    })
    .await
    .expect("dms task")
}

fn assert_one_line_error(out: &Output, needle: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "exit {:?}: {err}", out.status.code());
    assert_eq!(err.lines().count(), 1, "not one line: {err}");
    assert!(err.starts_with("error: "), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.contains(needle), "{err} does not mention {needle}");
}

/// `dms serve` in a fresh directory with no configuration at all, and the
/// seeded administrator logged in.
async fn serve_fresh() -> (tempfile::TempDir, Served, reqwest::Client, String) {
    let dir = tempfile::tempdir().unwrap();
    let served = Served::start(dir.path(), &[], &[]).await;
    let http = reqwest::Client::new();
    let token = admin_token(&http, &served).await;
    (dir, served, http, token)
}

async fn serve_refuses_a_database_behind_unless_told_to_migrate(db: TestDb) {
    // The embedded SQLite file is always migrated (see
    // serve_in_a_fresh_directory_creates_the_database below).
    if db.backend == Backend::Sqlite {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let env = [("DATABASE_URL", db.url.as_str())];
    let out = run(dir.path(), &["serve", "--bind", "127.0.0.1:0"], &env, "").await;
    assert_one_line_error(&out, "migration -- up");
    assert!(
        !dir.path().join("data").exists(),
        "nothing is set up for a server that does not start"
    );
    let conn = db.connect().await;
    let status = migration::runner::status(&conn).await.expect("status");
    assert!(
        status.iter().all(|(_, applied)| !applied),
        "the database is left as it was: {status:?}"
    );
    conn.close().await.ok();

    let served = Served::start(dir.path(), &["--migrate"], &env).await;
    let http = reqwest::Client::new();
    let health: Value = http
        .get(served.url("/api/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["database"], "ok");
    admin_token(&http, &served).await;
    served.stop().await;

    // Now at head: served without --migrate.
    let served = Served::start(dir.path(), &[], &env).await;
    admin_token(&http, &served).await;
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_in_a_fresh_directory_creates_the_database() {
    let (dir, served, http, token) = serve_fresh().await;
    let me = expect_json(
        http.get(served.url("/auth/me"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(me["username"], "admin");
    assert_eq!(me["role_name"], "admin");
    assert!(dir.path().join("dms.db").is_file(), "the embedded default");
    let key = dir.path().join("data").join(dms::token::KEY_FILE);
    assert!(key.is_file(), "a generated signing key in the data dir");
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let log = served.logged().join("\n");
    assert!(
        log.contains("seeded password"),
        "warns about the seeded password: {log}"
    );
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_the_request_in_flight_finish() {
    let (dir, served, http, token) = serve_fresh().await;
    let case = expect_json(
        http.post(served.url("/api/cases"))
            .bearer_auth(&token)
            .json(&json!({"case_type": "DAO", "title": "Arrêt"}))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let id = case["id"].as_str().unwrap().to_owned();

    // An upload whose body stops half-way until the test lets it go on.
    let mut file = pdf_bytes("Arrêt en douceur");
    file.resize(4 * 1024 * 1024, b' ');
    let (head, tail) = file.split_at(1024 * 1024);
    let (head, tail) = (
        bytes::Bytes::from(head.to_vec()),
        bytes::Bytes::from(tail.to_vec()),
    );
    let (go, gate) = tokio::sync::oneshot::channel::<()>();
    let body = futures_util::stream::once(async move { Ok::<_, std::io::Error>(head) }).chain(
        futures_util::stream::once(async move {
            let _ = gate.await;
            Ok(tail)
        }),
    );
    let part =
        reqwest::multipart::Part::stream(reqwest::Body::wrap_stream(body)).file_name("dao.pdf");
    let request = http
        .post(served.url(&format!("/api/cases/{id}/upload-dao")))
        .bearer_auth(&token)
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send();
    let in_flight = tokio::spawn(request);

    // The server is receiving it once its temporary file exists.
    let tmp = dir.path().join("data").join("tmp");
    let mut receiving = false;
    for _ in 0..600 {
        if std::fs::read_dir(&tmp).is_ok_and(|mut d| d.next().is_some()) {
            receiving = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(receiving, "the upload never reached the server");

    served.terminate();
    // The server stops accepting (bounded wait), but keeps this request.
    let mut refused = false;
    for _ in 0..600 {
        if TcpStream::connect(served.addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(refused, "still accepting connections after SIGTERM");
    let _ = go.send(());
    let res = in_flight.await.unwrap().expect("the upload got an answer");
    let body = expect_json(res, StatusCode::OK).await;
    assert_eq!(body["status"], "uploaded");
    assert_eq!(served.exit_code().await, Some(0));
    let stored = std::fs::read_dir(dir.path().join("data").join("uploads").join(&id))
        .unwrap()
        .count();
    assert_eq!(stored, 1, "the file was kept");
}

async fn user_commands_read_the_password_from_standard_input(db: TestDb) {
    let server = TestServer::start(db).await;
    let dir = tempfile::tempdir().unwrap();
    let url = server.db.url.clone();
    let env = [("DATABASE_URL", url.as_str())];
    let username = format!("cli_{}", std::process::id());
    let create = [
        "user",
        "create",
        "--username",
        &username,
        "--email",
        "cli@example.org",
        "--role",
        "viewer",
    ];

    // A password is never an argument.
    let mut with_arg = create.to_vec();
    with_arg.extend(["--password", "Argv-Pass-1"]);
    let out = run(dir.path(), &with_arg, &env, "Argv-Pass-1\n").await;
    assert!(!out.status.success());
    // Nothing on standard input: refused, one line.
    let out = run(dir.path(), &create, &env, "").await;
    assert_one_line_error(&out, "no password given");

    let out = run(dir.path(), &create, &env, "Stdin-Pass-1\n").await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains(&username), "{stdout}");
    assert!(
        !stdout.contains("Stdin-Pass-1") && !stderr.contains("Stdin-Pass-1"),
        "the password is never printed"
    );
    let token = server.login(&username, "Stdin-Pass-1").await;
    let me = expect_json(server.get(Some(&token), "/auth/me").await, StatusCode::OK).await;
    assert_eq!(me["role_name"], "viewer");
    assert_eq!(me["email"], "cli@example.org");

    let set = ["user", "set-password", username.as_str()];
    let out = run(
        dir.path(),
        &["user", "set-password", &username, "Argv-Pass-2"],
        &env,
        "Argv-Pass-2\n",
    )
    .await;
    assert!(!out.status.success(), "no password argument");
    let out = run(dir.path(), &set, &env, "Stdin-Pass-2\r\n").await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    server.login(&username, "Stdin-Pass-2").await;
    for old in ["Stdin-Pass-1", "Argv-Pass-2", "Argv-Pass-1"] {
        let res = server
            .http
            .post(server.url("/auth/token"))
            .form(&[("username", username.as_str()), ("password", old)])
            .send()
            .await
            .unwrap();
        expect_detail(res, StatusCode::UNAUTHORIZED).await;
    }
    let out = run(
        dir.path(),
        &["user", "set-password", "nobody_here"],
        &env,
        "Whatever-1\n",
    )
    .await;
    assert_one_line_error(&out, "nobody_here");
}
