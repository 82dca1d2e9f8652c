//! A real S3 server for the tests: the `s3s-fs` binary (installed by
//! `.ci/run`: `cargo install s3s-fs --features binary`), started on a random
//! port over a temporary directory, with signed requests (an access key and
//! a secret). Each [`S3Server`] has its own bucket.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub const ACCESS_KEY: &str = "dms-test-access";
pub const SECRET_KEY: &str = "dms-test-secret-key-0123456789";
pub const BUCKET: &str = "dms";

/// A running s3s-fs and its bucket; stopped when dropped.
pub struct S3Server {
    child: Child,
    pub endpoint: String,
    root: tempfile::TempDir,
}

/// The s3s-fs binary: `DMS_TEST_S3S_FS`, else on the PATH, else cargo's.
fn binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("DMS_TEST_S3S_FS") {
        return Some(PathBuf::from(path));
    }
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("s3s-fs"))
            .find(|p| p.is_file())
    });
    on_path.or_else(|| {
        let home = std::env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))?;
        Some(home.join("bin").join("s3s-fs")).filter(|p| p.is_file())
    })
}

impl S3Server {
    /// Starts s3s-fs with one empty bucket; `None` (the test is skipped)
    /// when the binary is not installed, unless `DMS_TEST_REQUIRE_ALL` is
    /// set, when that fails the test.
    pub fn start() -> Option<S3Server> {
        let Some(binary) = binary() else {
            if std::env::var_os("DMS_TEST_REQUIRE_ALL").is_some() {
                panic!(
                    "s3s-fs is not installed (cargo install s3s-fs --features binary, or set DMS_TEST_S3S_FS)"
                );
            }
            eprintln!("skipped: s3s-fs is not installed");
            return None;
        };
        let root = tempfile::tempdir().expect("s3 root");
        std::fs::create_dir(root.path().join(BUCKET)).expect("bucket");
        let mut child = Command::new(&binary)
            .args(["--host", "127.0.0.1", "--port", "0"])
            .args(["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY])
            .arg(root.path())
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", binary.display()));
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(at) = line.find("http://") {
                    let address: String = line[at..]
                        .chars()
                        .take_while(|c| !c.is_whitespace())
                        .collect();
                    let _ = tx.send(address);
                }
            }
        });
        let endpoint = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(endpoint) => endpoint,
            Err(e) => {
                let _ = child.kill();
                panic!("s3s-fs did not start: {e}");
            }
        };
        Some(S3Server {
            child,
            endpoint,
            root,
        })
    }

    /// The storage URL of the bucket under `prefix`.
    pub fn url(&self, prefix: &str) -> String {
        format!("s3://{BUCKET}/{prefix}")
    }

    /// The server's settings of this store (object_store's keys).
    pub fn options(&self) -> Vec<(String, String)> {
        [
            ("aws_endpoint", self.endpoint.as_str()),
            ("aws_access_key_id", ACCESS_KEY),
            ("aws_secret_access_key", SECRET_KEY),
            ("aws_region", "us-east-1"),
            ("aws_allow_http", "true"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    /// The same settings as the environment of a `dms` child process.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY.to_owned()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY.to_owned()),
            ("AWS_REGION", "us-east-1".to_owned()),
            ("AWS_ALLOW_HTTP", "true".to_owned()),
        ]
    }

    /// The directory holding the bucket's objects (s3s-fs keeps an object
    /// as a file of the same path).
    pub fn bucket_dir(&self) -> PathBuf {
        self.root.path().join(BUCKET)
    }

    /// The keys of the objects under `prefix` (s3s-fs's own metadata left
    /// out), sorted.
    pub fn objects(&self, prefix: &str) -> Vec<String> {
        let base = self.bucket_dir();
        let mut keys = files_under(&base.join(prefix))
            .into_iter()
            .filter_map(|p| {
                let rel = p.strip_prefix(&base).ok()?.to_string_lossy().into_owned();
                let name = p.file_name()?.to_string_lossy().into_owned();
                (!name.starts_with('.')).then_some(rel)
            })
            .collect::<Vec<_>>();
        keys.sort();
        keys
    }
}

/// Every file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                found.push(path);
            }
        }
    }
    found
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
