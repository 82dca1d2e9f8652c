//! A cookie-keeping HTTP client for the web pages (the browser tests use
//! [`crate::webdriver`]).

use std::collections::BTreeMap;

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, SET_COOKIE};

/// A response of a page: status, headers, body.
pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    pub fn location(&self) -> &str {
        self.headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The raw `Set-Cookie` line for cookie `name`.
    pub fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(&format!("{name}=")))
            .map(str::to_owned)
    }
}

/// A browser without a browser: keeps cookies, follows no redirect.
pub struct WebClient {
    pub base: String,
    http: reqwest::Client,
    pub cookies: BTreeMap<String, String>,
    /// Extra headers sent with every request (e.g. `X-Forwarded-Proto`).
    pub extra: Vec<(&'static str, String)>,
    /// The CSRF token of the last page's forms (bound to the session once
    /// signed in), as a browser would post it.
    pub form_token: Option<String>,
}

impl WebClient {
    pub fn new(base: &str) -> Self {
        WebClient {
            base: base.to_owned(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            cookies: BTreeMap::new(),
            extra: Vec::new(),
            form_token: None,
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn finish(&mut self, req: reqwest::RequestBuilder) -> Page {
        let mut req = req.header("cookie", self.cookie_header());
        for (name, value) in &self.extra {
            req = req.header(*name, value);
        }
        let res = req.send().await.expect("request");
        let status = res.status();
        let headers = res.headers().clone();
        for line in headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
        {
            let first = line.split(';').next().unwrap_or("");
            if let Some((name, value)) = first.split_once('=') {
                if line.contains("Max-Age=0") {
                    self.cookies.remove(name);
                    if name.ends_with("dms_session") {
                        // Signed out: the session's forms are gone with it.
                        self.form_token = None;
                    }
                } else {
                    self.cookies.insert(name.to_owned(), value.to_owned());
                }
            }
        }
        // minijinja escapes `/` as `&#x2f;` (browsers read it as `/`).
        let body = res.text().await.expect("body").replace("&#x2f;", "/");
        static FIELD: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
        let field = FIELD.get_or_init(|| {
            regex::Regex::new(r#"name="csrf" value="([0-9a-f]{64})""#).expect("regex")
        });
        if let Some(token) = field.captures(&body).map(|c| c[1].to_owned()) {
            self.form_token = Some(token);
        }
        Page {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let req = self.http.get(format!("{}{path}", self.base));
        self.finish(req).await
    }

    /// The body of a file the pages send (a download), as bytes; the
    /// status must be 200.
    pub async fn get_bytes(&mut self, path: &str) -> Vec<u8> {
        let res = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), StatusCode::OK, "GET {path}");
        res.bytes().await.expect("body").to_vec()
    }

    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let req = self.http.post(format!("{}{path}", self.base)).form(fields);
        self.finish(req).await
    }

    pub async fn post_multipart(
        &mut self,
        path: &str,
        form: reqwest::multipart::Form,
        json: bool,
    ) -> Page {
        let mut req = self
            .http
            .post(format!("{}{path}", self.base))
            .multipart(form);
        if json {
            req = req.header("accept", "application/json");
        }
        self.finish(req).await
    }

    /// The CSRF token this browser's forms carry (after a first page): the
    /// last page's, else the signed-out token of the cookie.
    pub fn csrf(&self) -> String {
        self.form_token
            .clone()
            .or_else(|| self.cookies.get("dms_csrf").cloned())
            .unwrap_or_default()
    }

    /// Posts the sign-in form with `csrf` as its token.
    pub async fn post_sign_in(&mut self, username: &str, password: &str, csrf: &str) -> Page {
        self.post(
            "/connexion",
            &[
                ("username", username),
                ("password", password),
                ("csrf", csrf),
            ],
        )
        .await
    }

    /// Signs in through the sign-in form; panics unless it succeeds.
    pub async fn sign_in(&mut self, username: &str, password: &str) {
        self.get("/connexion").await;
        let csrf = self.csrf();
        let page = self.post_sign_in(username, password, &csrf).await;
        assert_eq!(
            page.status,
            StatusCode::SEE_OTHER,
            "sign in of {username}: {}",
            page.body
        );
        assert!(
            self.cookies.contains_key("dms_session"),
            "session cookie set"
        );
        // The first page signed in: its forms carry the session's token.
        self.get("/dossiers").await;
    }

    /// An upload form as the page's form sends it: the CSRF field first.
    pub fn upload_form(
        &self,
        fields: &[(&str, &str)],
        filename: &str,
        bytes: Vec<u8>,
    ) -> reqwest::multipart::Form {
        let mut form = reqwest::multipart::Form::new().text("csrf", self.csrf());
        for (name, value) in fields {
            form = form.text(name.to_string(), value.to_string());
        }
        form.part(
            "file",
            reqwest::multipart::Part::bytes(bytes).file_name(filename.to_owned()),
        )
    }
}

/// What in a page's HTML shows a text that was not translated: a catalogue
/// key where its text should be (`>case.lots<`, `"case.lots"`), a Fluent
/// placeholder left unfilled (`{ $n }`), a template expression left raw.
pub fn untranslated(body: &str) -> Vec<String> {
    let mut found = Vec::new();
    for marker in ["{ $", "{$", "{{", "}}", "{%"] {
        if body.contains(marker) {
            found.push(format!("placeholder {marker:?}"));
        }
    }
    for key in dms::web::i18n::Lang::Fr.keys() {
        for shown in [format!(">{key}<"), format!("\"{key}\""), format!("> {key}")] {
            if body.contains(&shown) {
                found.push(format!("key {key}"));
            }
        }
    }
    found
}
