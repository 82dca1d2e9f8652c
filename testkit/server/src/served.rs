//! The `dms` binary as a child process: a command with a clean
//! environment, and `dms serve` started on a random port with its log.

use std::io::BufRead;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use reqwest::StatusCode;

use crate::expect_json;

/// The `dms` binary, run in `dir` with a clean environment for the
/// variables it reads.
pub fn dms(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(testkit_db::binary("dms"));
    cmd.current_dir(dir).args(args);
    for var in [
        "DATABASE_URL",
        "DMS_BIND",
        "PORT",
        "DMS_DATA_DIR",
        "DMS_STORAGE_URL",
        "AWS_ENDPOINT_URL",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_REGION",
        "AWS_ALLOW_HTTP",
        "DMS_JWT_SECRET",
        "JWT_SECRET",
        "DMS_OPEN_REGISTRATION",
        "DMS_TOKEN_MINUTES",
        "DMS_UPLOAD_LIMIT",
        "DMS_CASE_LIMIT",
        "DMS_ANALYZE_LIMIT",
        "DMS_ANALYSIS_WORKERS",
        "DMS_ANALYSIS_QUEUE",
        "DMS_LOG",
        "DMS_LOG_FORMAT",
        "DMS_METRICS_TOKEN",
        "DMS_METRICS_NETWORKS",
        "RUST_LOG",
        "RUST_BACKTRACE",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("NO_COLOR", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// A `dms serve` process, with its log read as it comes.
pub struct Served {
    pub child: Child,
    pub addr: SocketAddr,
    /// Lines logged before the server listened.
    early: Vec<String>,
    log: mpsc::Receiver<String>,
}

/// Removes terminal colour sequences from a log line.
fn plain(line: &str) -> String {
    let mut out = String::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

impl Served {
    /// Starts `dms serve` on a random port of 127.0.0.1 and waits (bounded)
    /// for the log line that says where it listens.
    pub async fn start(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Served {
        let mut all = vec!["serve", "--bind", "127.0.0.1:0"];
        all.extend_from_slice(args);
        let mut child = dms(dir, &all, env)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start dms serve");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, log) = mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if tx.send(plain(&line)).is_err() {
                    break;
                }
            }
        });
        let (addr, early, log) = tokio::task::spawn_blocking(move || {
            let mut seen = Vec::new();
            loop {
                let line = match log.recv_timeout(Duration::from_secs(120)) {
                    Ok(line) => line,
                    Err(e) => panic!(
                        "dms serve did not start ({e}); its log:\n{}",
                        seen.join("\n")
                    ),
                };
                // The text log's `addr=...`, or the JSON log's `"addr"`.
                if line.contains("DMS listening")
                    && let Some(addr) = line
                        .split_whitespace()
                        .find_map(|w| w.strip_prefix("addr="))
                        .map(str::to_owned)
                        .or_else(|| {
                            serde_json::from_str::<serde_json::Value>(&line)
                                .ok()
                                .and_then(|v| v["addr"].as_str().map(str::to_owned))
                        })
                {
                    return (addr.parse::<SocketAddr>().expect("address"), seen, log);
                }
                seen.push(line);
            }
        })
        .await
        .expect("log reader");
        Served {
            child,
            addr,
            early,
            log,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Sends SIGTERM to this process (by its id).
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
    }

    /// Waits (bounded) for the process to exit and returns its exit code.
    pub async fn exit_code(mut self) -> Option<i32> {
        tokio::task::spawn_blocking(move || {
            for _ in 0..600 {
                if let Some(status) = self.child.try_wait().expect("wait") {
                    return status.code();
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            panic!("dms serve did not exit within a minute");
        })
        .await
        .expect("wait task")
    }

    /// SIGTERM, then a clean exit (code 0).
    pub async fn stop(self) {
        self.terminate();
        assert_eq!(self.exit_code().await, Some(0), "exit code after SIGTERM");
    }

    /// The lines logged so far.
    pub fn logged(&self) -> Vec<String> {
        let mut lines = self.early.clone();
        lines.extend(self.log.try_iter());
        lines
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        // Only when a test failed before the process exited.
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The seeded administrator's token from a served process.
pub async fn admin_token(http: &reqwest::Client, served: &Served) -> String {
    let res = http
        .post(served.url("/auth/token"))
        .form(&[("username", "admin"), ("password", "Admin123!")])
        .send()
        .await
        .expect("login");
    let body = expect_json(res, StatusCode::OK).await;
    body["access_token"].as_str().expect("token").to_owned()
}
