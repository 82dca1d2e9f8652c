//! Slow and idle clients against the real server (raw TCP): a request head
//! that does not arrive whole, a body that stalls, a connection that stays
//! idle, and the cap on connections. What is tested is the transport, the
//! same on every backend: SQLite only.

use std::time::Duration;

use dms::auth::Role;
use dms::http::conn::ConnLimits;
use reqwest::StatusCode;
use testkit::TestServer;
use testkit_db::{Backend, TestDb};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long a test waits for something that must happen at a (short,
/// configured) timeout before it calls the server stuck. Never asserted as
/// a duration.
const PATIENCE: Duration = Duration::from_secs(30);

async fn server_with(limits: ConnLimits) -> Option<TestServer> {
    let db = TestDb::new(Backend::Sqlite).await?;
    Some(TestServer::start_with(db, |c| c.connections = limits).await)
}

fn short(header: u64, body: u64, idle: u64, max: usize) -> ConnLimits {
    ConnLimits {
        header_timeout: Duration::from_secs(header),
        body_timeout: Duration::from_secs(body),
        idle_timeout: Duration::from_secs(idle),
        max_connections: max,
    }
}

async fn connect(server: &TestServer) -> TcpStream {
    TcpStream::connect(server.base.trim_start_matches("http://"))
        .await
        .expect("connect")
}

/// Reads until the server closes the connection; what it sent first.
async fn until_closed(stream: &mut TcpStream) -> String {
    let mut all = Vec::new();
    let read = tokio::time::timeout(PATIENCE, async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => all.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the server never closed the connection");
    String::from_utf8_lossy(&all).into_owned()
}

/// Whether the connection is still open, with nothing to read (yet).
fn still_open(stream: &TcpStream) -> bool {
    let mut buf = [0u8; 1];
    matches!(stream.try_read(&mut buf), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
}

async fn health(server: &TestServer) {
    let res = server.get(None, "/api/health").await;
    assert_eq!(res.status(), StatusCode::OK);
}

/// One request on a raw connection; the first answer's head.
async fn request_on(stream: &mut TcpStream, path: &str) -> String {
    let request = format!("GET {path} HTTP/1.1\r\nHost: dms\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let read = tokio::time::timeout(PATIENCE, async {
        while !String::from_utf8_lossy(&got).contains("\r\n\r\n") {
            let n = stream.read(&mut buf).await.expect("read");
            assert!(n > 0, "closed before answering");
            got.extend_from_slice(&buf[..n]);
        }
    })
    .await;
    assert!(read.is_ok(), "no answer");
    String::from_utf8_lossy(&got).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_sent_head_is_closed_at_the_header_timeout_while_others_are_served() {
    // Long enough for a health check to come back first, by far.
    let Some(server) = server_with(short(10, 60, 60, 64)).await else {
        return;
    };
    let mut slow = connect(&server).await;
    slow.write_all(b"GET /api/health HTTP/1.1\r\nHost: dm")
        .await
        .unwrap();
    // A new connection that sends nothing has as long to start.
    let mut silent = connect(&server).await;
    // Meanwhile the server answers others, and the slow one is still open
    // (a server that waited for it would answer only after closing it).
    health(&server).await;
    assert!(
        still_open(&slow) && still_open(&silent),
        "the slow clients were closed before the others were served"
    );
    let answer = until_closed(&mut slow).await;
    assert!(
        !answer.contains("200 OK"),
        "a half head is never answered: {answer}"
    );
    assert_eq!(until_closed(&mut silent).await, "");
    health(&server).await;
    // A head sent a byte at a time is bounded by the same deadline (from
    // its first byte, not reset by each byte).
    let mut dribble = connect(&server).await;
    let closed = tokio::time::timeout(PATIENCE, async {
        for byte in b"GET /api/health HTTP/1.1\r\nX-Slow: ".iter().cycle() {
            if dribble.write_all(&[*byte]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    assert!(closed.is_ok(), "the dribbling head was never cut off");
    health(&server).await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_connection_is_closed_at_the_idle_timeout() {
    let Some(server) = server_with(short(60, 60, 1, 64)).await else {
        return;
    };
    // Kept alive after an answer, then idle.
    let mut kept = connect(&server).await;
    let head = request_on(&mut kept, "/api/health").await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        !head.to_ascii_lowercase().contains("connection: close"),
        "{head}"
    );
    until_closed(&mut kept).await;
    health(&server).await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_body_is_answered_408_and_closed() {
    let Some(server) = server_with(short(60, 1, 60, 64)).await else {
        return;
    };
    // A JSON body that stops half-way.
    let mut stalled = connect(&server).await;
    stalled
        .write_all(
            b"POST /auth/register HTTP/1.1\r\nHost: dms\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{\"email\": \"a@",
        )
        .await
        .unwrap();
    health(&server).await;
    let answer = until_closed(&mut stalled).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("stalled"), "{answer}");

    // An upload that stops half-way: 408, and nothing kept.
    let officer = server.user(Role::ProcurementOfficer).await;
    let case = server.create_case(&officer, "DAO", "Lent").await;
    let id = case["id"].as_str().unwrap();
    let mut upload = connect(&server).await;
    let boundary = "XyZ";
    let start = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"dao.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4\n"
    );
    let head = format!(
        "POST /api/cases/{id}/upload-dao HTTP/1.1\r\nHost: dms\r\nAuthorization: Bearer {}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: 1000000\r\n\r\n{start}",
        officer.token
    );
    upload.write_all(head.as_bytes()).await.unwrap();
    upload.write_all(&[b'x'; 64 * 1024]).await.unwrap();
    let answer = until_closed(&mut upload).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    let file = server
        .get(Some(&officer.token), &format!("/api/cases/{id}"))
        .await;
    let file: serde_json::Value = file.json().await.unwrap();
    assert_eq!(
        file["artifacts"].as_array().map(Vec::len),
        Some(0),
        "{file}"
    );
    health(&server).await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_cap_a_connection_waits_and_is_served_when_one_closes() {
    let Some(server) = server_with(short(60, 60, 60, 2)).await else {
        return;
    };
    // Two connections hold the cap (each served once, kept alive).
    let mut first = connect(&server).await;
    let mut second = connect(&server).await;
    for held in [&mut first, &mut second] {
        let head = request_on(held, "/api/health").await;
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    }
    // A third: the kernel completes its connection, the server does not
    // take it while the two are open.
    let mut third = connect(&server).await;
    third
        .write_all(b"GET /api/health HTTP/1.1\r\nHost: dms\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 64];
    let early = tokio::time::timeout(Duration::from_millis(500), third.read(&mut buf)).await;
    assert!(
        early.is_err(),
        "the third connection was served past the cap"
    );
    // One closes: the third is served, and so is the second, still.
    drop(first);
    let mut got = Vec::new();
    let served = tokio::time::timeout(PATIENCE, async {
        while !String::from_utf8_lossy(&got).contains("\r\n\r\n") {
            let n = third.read(&mut buf).await.expect("read");
            assert!(n > 0, "closed before answering");
            got.extend_from_slice(&buf[..n]);
        }
    })
    .await;
    assert!(served.is_ok(), "the waiting connection was never served");
    assert!(
        String::from_utf8_lossy(&got).starts_with("HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&got)
    );
    let head = request_on(&mut second, "/api/health").await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    drop(second);
    drop(third);
    health(&server).await;
    server.shutdown().await;
}
