//! A small WebDriver client (W3C protocol over HTTP) driving Debian's
//! headless Chromium through chromedriver, for the browser tests.
//!
//! Chromium and chromedriver must be at /usr/bin. When they are missing the
//! tests are skipped, unless `DMS_TEST_REQUIRE_ALL=1` (CI), where they fail.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// The key codes of the WebDriver protocol.
pub const TAB: &str = "\u{E004}";
pub const ENTER: &str = "\u{E007}";

/// Whether the browser is installed; panics under `DMS_TEST_REQUIRE_ALL=1`
/// when it is not.
pub fn browser_available() -> bool {
    let present = Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists();
    if !present {
        if std::env::var("DMS_TEST_REQUIRE_ALL").is_ok_and(|v| v == "1") {
            panic!(
                "{CHROMIUM} or {CHROMEDRIVER} is missing but DMS_TEST_REQUIRE_ALL=1 \
                 (apt-get install -y chromium chromium-driver)"
            );
        }
        eprintln!("skipped: {CHROMIUM} or {CHROMEDRIVER} is not installed");
    }
    present
}

/// Where the tests' screenshots go.
pub fn screenshot_dir() -> PathBuf {
    // This crate's directory is testkit/server: the workspace's target is
    // two levels up.
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    target.join("web-screenshots")
}

/// A chromedriver process with one browser session; both end on drop.
pub struct Browser {
    driver: Child,
    http: reqwest::Client,
    session: String,
    base: String,
    _profile: tempfile::TempDir,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Browser {
    /// Starts chromedriver and a headless Chromium `width` × `height`.
    pub async fn start(width: u32, height: u32) -> Browser {
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("client");
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ready = http.get(format!("{base}/status")).send().await;
            if let Ok(res) = ready
                && let Ok(body) = res.json::<Value>().await
                && body["value"]["ready"] == true
            {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not become ready"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = tempfile::tempdir().expect("profile dir");
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--hide-scrollbars", "--lang=fr-FR",
                    format!("--user-data-dir={}", profile.path().display()),
                    format!("--window-size={width},{height}"),
                ],
                // Headless Chromium ignores `--lang` for `Accept-Language`:
                // the users' French is asked for here.
                "prefs": {"intl.accept_languages": "fr-FR,fr"},
            },
        }}});
        let res: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .await
            .expect("new session")
            .json()
            .await
            .expect("session json");
        let session = res["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no browser session: {res}"))
            .to_owned();
        let browser = Browser {
            driver,
            http,
            session,
            base,
            _profile: profile,
        };
        browser.set_window(width, height).await;
        browser
    }

    /// One WebDriver command. `Err` carries the driver's error (`no such
    /// element`, `javascript error`, `invalid selector`...): W3C answers
    /// every failed command with a 4xx/5xx status and `{error, message}`.
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, String> {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut req = self.http.request(method, url);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.expect("webdriver request");
        let status = res.status();
        let res: Value = res.json().await.expect("webdriver json");
        let value = res["value"].clone();
        if status.is_success() {
            Ok(value)
        } else {
            Err(format!(
                "{status} {}: {}",
                value["error"].as_str().unwrap_or("?"),
                value["message"].as_str().unwrap_or_default()
            ))
        }
    }

    /// A command whose failure is the test's failure.
    async fn command(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        self.call(method, path, body)
            .await
            .unwrap_or_else(|e| panic!("webdriver {path}: {e}"))
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.command(reqwest::Method::POST, path, Some(body)).await
    }

    async fn get(&self, path: &str) -> Value {
        self.command(reqwest::Method::GET, path, None).await
    }

    pub async fn set_window(&self, width: u32, height: u32) {
        self.post("/window/rect", json!({"width": width, "height": height}))
            .await;
    }

    pub async fn goto(&self, url: &str) {
        self.post("/url", json!({"url": url})).await;
    }

    pub async fn url(&self) -> String {
        self.get("/url")
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Runs `script` (a function body) with `args`; returns its value, or
    /// the driver's error (a script that throws, an invalid selector).
    pub async fn try_eval(&self, script: &str, args: Vec<Value>) -> Result<Value, String> {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": script, "args": args})),
        )
        .await
    }

    /// Runs `script` (a function body) with `args`; returns its value.
    /// Panics when the script fails: a broken page is no empty answer.
    pub async fn eval(&self, script: &str, args: Vec<Value>) -> Value {
        self.try_eval(script, args)
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}"))
    }

    /// The element matching `css`, if any now. Only "no such element" means
    /// none; any other error of the driver fails the test.
    pub async fn find(&self, css: &str) -> Option<String> {
        let found = self
            .call(
                reqwest::Method::POST,
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        let v = match found {
            Ok(v) => v,
            Err(e) if e.contains("no such element") => return None,
            Err(e) => panic!("finding {css}: {e}"),
        };
        v.as_object()
            .and_then(|o| o.iter().find(|(k, _)| k.starts_with("element-")))
            .and_then(|(_, id)| id.as_str())
            .map(str::to_owned)
    }

    /// Waits up to 15 s for an element matching `css`.
    pub async fn wait(&self, css: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(id) = self.find(css).await {
                return id;
            }
            if Instant::now() > deadline {
                let body = self.text("body").await;
                panic!(
                    "no element {css} at {}; the page says:\n{body}",
                    self.url().await
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits up to 15 s until the text of `css` contains `needle`.
    pub async fn wait_text(&self, css: &str, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let text = self.text(css).await;
            if text.contains(needle) {
                return text;
            }
            if Instant::now() > deadline {
                let progress = self
                    .eval("return Array.from(document.querySelectorAll('.progress, .error')).map(e => e.innerText).join(' | ');", vec![])
                    .await;
                self.screenshot("failure").await;
                panic!("{css} never contained {needle:?}; it says: {text}; messages: {progress}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The visible text of the first element matching `css` ("" if none).
    pub async fn text(&self, css: &str) -> String {
        self.eval(
            "var e = document.querySelector(arguments[0]); return e ? e.innerText : '';",
            vec![json!(css)],
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
    }

    /// How many elements match `css`, or the driver's error: an invalid
    /// selector or a failing page is not "none".
    pub async fn try_count(&self, css: &str) -> Result<u64, String> {
        let v = self
            .try_eval(
                "return document.querySelectorAll(arguments[0]).length;",
                vec![json!(css)],
            )
            .await?;
        v.as_u64()
            .ok_or_else(|| format!("counting {css}: not a count: {v}"))
    }

    /// How many elements match `css`; panics on any error.
    pub async fn count(&self, css: &str) -> u64 {
        self.try_count(css)
            .await
            .unwrap_or_else(|e| panic!("counting {css}: {e}"))
    }

    /// Types `text` into the element matching `css` (a file input takes a path).
    pub async fn type_into(&self, css: &str, text: &str) {
        let id = self.wait(css).await;
        let v = self
            .post(&format!("/element/{id}/value"), json!({"text": text}))
            .await;
        assert!(
            v.is_null() || v.get("error").is_none(),
            "typing into {css}: {v}"
        );
    }

    /// Empties the input matching `css` (a reloaded page may have kept
    /// what was typed before).
    pub async fn clear(&self, css: &str) {
        let id = self.wait(css).await;
        let v = self.post(&format!("/element/{id}/clear"), json!({})).await;
        assert!(
            v.is_null() || v.get("error").is_none(),
            "clearing {css}: {v}"
        );
    }

    /// Fetches `url` from the page, with the page's cookies, as a download
    /// link would: `{status, type, size, head}` (`head`: the first two
    /// bytes as text, `PK` for a zip).
    pub async fn fetch(&self, url: &str) -> Value {
        self.eval(
            "return fetch(arguments[0], {credentials: 'same-origin'}).then(function (r) {
               return r.arrayBuffer().then(function (b) {
                 var head = String.fromCharCode.apply(null, new Uint8Array(b.slice(0, 2)));
                 return {status: r.status, type: r.headers.get('content-type'), size: b.byteLength, head: head};
               });
             });",
            vec![json!(url)],
        )
        .await
    }

    pub async fn click(&self, css: &str) {
        let id = self.wait(css).await;
        let v = self.post(&format!("/element/{id}/click"), json!({})).await;
        assert!(
            v.is_null() || v.get("error").is_none(),
            "clicking {css}: {v}"
        );
    }

    /// Chooses the option of the `<select>` matching `css` whose value is `value`.
    pub async fn select(&self, css: &str, value: &str) {
        self.click(&format!("{css} option[value=\"{value}\"]"))
            .await;
    }

    /// Presses keys on whatever has the focus, as a person at a keyboard.
    pub async fn keys(&self, text: &str) {
        let mut actions = Vec::new();
        for c in text.chars() {
            actions.push(json!({"type": "keyDown", "value": c.to_string()}));
            actions.push(json!({"type": "keyUp", "value": c.to_string()}));
        }
        self.post(
            "/actions",
            json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]}),
        )
        .await;
    }

    /// The `id` (or tag) of the focused element.
    pub async fn focused(&self) -> String {
        self.eval(
            "var e = document.activeElement; return e ? (e.id || e.tagName) : '';",
            vec![],
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
    }

    /// Saves a screenshot as `target/web-screenshots/<name>.png`; returns its path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let data = self.get("/screenshot").await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(data.as_str().unwrap_or_default())
            .expect("screenshot base64");
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("screenshot written");
        path
    }

    /// Saves a screenshot of the whole page (taller than the window).
    pub async fn full_screenshot(&self, name: &str, width: u32) -> PathBuf {
        let height = self
            .eval("return document.documentElement.scrollHeight;", vec![])
            .await
            .as_u64()
            .unwrap_or(1000) as u32;
        self.set_window(width, height.clamp(600, 4000)).await;
        self.eval("window.scrollTo(0, 0);", vec![]).await;
        self.screenshot(name).await
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Ends the session (which closes Chromium) with a plain blocking
        // request: drop cannot await, and killing chromedriver alone would
        // leave the browser running.
        use std::io::{Read, Write};
        let addr = self.base.trim_start_matches("http://").to_owned();
        if let Ok(mut stream) = std::net::TcpStream::connect(&addr) {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
            let request = format!(
                "DELETE /session/{} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                self.session
            );
            if stream.write_all(request.as_bytes()).is_ok() {
                let mut answer = Vec::new();
                let _ = stream.read_to_end(&mut answer);
            }
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
