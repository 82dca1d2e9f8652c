//! The browser session and CSRF protection.
//!
//! The session is the API's own token (JWT) in the `dms_session` cookie:
//! `HttpOnly` (no script can read it), `SameSite=Strict` (no other site's
//! page can send it), and `Secure` when the request came over HTTPS (a
//! reverse proxy terminating TLS says so with `X-Forwarded-Proto: https`);
//! on plain `http://localhost` a `Secure` cookie would not be kept. Over
//! HTTPS the cookies carry the `__Host-` prefix (the browser then refuses
//! them from any other host or path) and the responses HSTS.
//!
//! Every form carries a CSRF token checked on POST. Signed in, it is bound
//! to the sign-in session (derived from its id, which only the session
//! cookie carries): a token from another session is refused. Signed out
//! (the sign-in form), it is a random value in the `dms_csrf` cookie,
//! repeated in a hidden field (double submit). A page on another site can
//! neither read the cookies nor guess the value.
//!
//! The session also says in which language the pages speak: the account's
//! preference, else the `dms_lang` cookie the header's switch sets for a
//! visitor not signed in, else the browser's `Accept-Language`, else French.

use std::net::IpAddr;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::i18n::Lang;
use crate::auth::User;
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "dms_session";
pub const CSRF_COOKIE: &str = "dms_csrf";
/// The language a visitor not signed in chose with the header's switch.
pub const LANG_COOKIE: &str = "dms_lang";
/// How long the language cookie is kept: a year, in seconds.
const LANG_COOKIE_AGE: u64 = 365 * 86_400;
/// The form field (and, for scripts, the header) that repeats the token.
pub const CSRF_FIELD: &str = "csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_owned())
}

/// The name cookie `base` has: `__Host-<base>` over HTTPS.
pub fn cookie_name(base: &str, https: bool) -> String {
    if https {
        format!("__Host-{base}")
    } else {
        base.to_owned()
    }
}

/// A `Set-Cookie` value with this application's flags; `max_age` 0 removes.
pub fn set_cookie(base: &str, value: &str, max_age: Option<u64>, https: bool) -> HeaderValue {
    let name = cookie_name(base, https);
    let mut text = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
    if https {
        text.push_str("; Secure");
    }
    if let Some(age) = max_age {
        text.push_str(&format!("; Max-Age={age}"));
    }
    // Names and values are ours (hex, JWT): always valid header text.
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("invalid=1"))
}

/// The `Set-Cookie` of the language chosen with the switch. `SameSite=Lax`:
/// the language is no secret, and a link from elsewhere should open the
/// pages in it.
pub fn lang_cookie(lang: Lang, https: bool) -> HeaderValue {
    let name = cookie_name(LANG_COOKIE, https);
    let mut text = format!(
        "{name}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age={LANG_COOKIE_AGE}",
        lang.tag()
    );
    if https {
        text.push_str("; Secure");
    }
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("invalid=1"))
}

/// The language of a request from what it carries: the account's
/// preference, the switch's cookie, `Accept-Language`, French.
fn request_lang(headers: &HeaderMap, https: bool, account: Option<&str>) -> Lang {
    account
        .and_then(Lang::from_tag)
        .or_else(|| {
            cookie(headers, &cookie_name(LANG_COOKIE, https)).and_then(|t| Lang::from_tag(&t))
        })
        .or_else(|| {
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Lang::negotiate)
        })
        .unwrap_or_default()
}

/// Compares two secrets in time that does not depend on where they differ.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The CSRF token of this browser; `fresh` when the cookie must be set.
#[derive(Clone, Debug)]
pub struct Csrf {
    pub token: String,
    fresh: bool,
}

impl Csrf {
    fn from_headers(headers: &HeaderMap, https: bool) -> Csrf {
        match cookie(headers, &cookie_name(CSRF_COOKIE, https)).filter(|t| t.len() == 64) {
            Some(token) => Csrf {
                token,
                fresh: false,
            },
            None => Csrf {
                token: hex::encode(rand::random::<[u8; 32]>()),
                fresh: true,
            },
        }
    }

    /// The token of sign-in session `session`: a digest of its id, which
    /// only that session's cookie carries (nothing to store, the same on
    /// every server instance).
    fn bound_to(session: &str) -> Csrf {
        use sha2::{Digest, Sha256};
        let digest = Sha256::new()
            .chain_update(b"dms csrf\0")
            .chain_update(session.as_bytes())
            .finalize();
        Csrf {
            token: hex::encode(digest),
            fresh: false,
        }
    }

    /// Whether `submitted` is this browser's token (a fresh token was never
    /// sent to a form, so nothing matches it).
    pub fn accepts(&self, submitted: Option<&str>) -> bool {
        !self.fresh && submitted.is_some_and(|s| same_secret(&self.token, s.trim()))
    }
}

/// Who is browsing: the session's user (if the cookie holds a valid token
/// of an active account), the CSRF token, and whether it is over HTTPS.
#[derive(Clone, Debug)]
pub struct Session {
    pub user: Option<User>,
    /// The sign-in session of the cookie's token, while it is open.
    pub session_id: Option<String>,
    pub csrf: Csrf,
    pub https: bool,
    /// A session cookie was sent but is no longer valid.
    pub expired: bool,
    /// The peer's address (for the login rate limit).
    pub client_ip: IpAddr,
    /// The language the pages speak to this request.
    pub lang: Lang,
    /// The page asked for (path and query): where the language switch
    /// comes back to.
    pub path: String,
}

impl Session {
    /// The redirect to the sign-in page, for a page that needs a user.
    pub fn to_sign_in(&self) -> Response {
        let to = if self.expired {
            "/connexion?expiree=1"
        } else {
            "/connexion"
        };
        self.finish(Redirect::to(to).into_response())
    }

    /// Adds the cookies this session must set to `response`.
    pub fn finish(&self, mut response: Response) -> Response {
        if self.csrf.fresh {
            response.headers_mut().append(
                header::SET_COOKIE,
                set_cookie(CSRF_COOKIE, &self.csrf.token, None, self.https),
            );
        }
        if self.expired && self.user.is_none() {
            response.headers_mut().append(
                header::SET_COOKIE,
                set_cookie(SESSION_COOKIE, "", Some(0), self.https),
            );
        }
        response
    }
}

/// A session that could not be read (the database out of reach): the
/// pages answer it as a failure (see `respond`).
#[derive(Debug)]
pub struct SessionUnavailable(pub crate::Error);

impl FromRequestParts<AppState> for Session {
    type Rejection = SessionUnavailable;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, SessionUnavailable> {
        let https = crate::http::client::is_https(parts, &state.trusted_proxies);
        let client_ip = crate::http::client::client_ip(parts, &state.trusted_proxies);
        let mut csrf = Csrf::from_headers(&parts.headers, https);
        let path = parts
            .uri
            .path_and_query()
            .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned());
        let token =
            cookie(&parts.headers, &cookie_name(SESSION_COOKIE, https)).filter(|t| !t.is_empty());
        let Some(token) = token else {
            return Ok(Session {
                session_id: None,
                user: None,
                csrf,
                https,
                expired: false,
                client_ip,
                lang: request_lang(&parts.headers, https, None),
                path,
            });
        };
        let verified = state.keys.verify(&token);
        let found = match &verified {
            Some(v) => crate::auth::find_in_session_with_language(&state.db, v.user_id, &v.session)
                .await
                .map_err(SessionUnavailable)?
                .filter(|(u, _)| u.is_active),
            None => None,
        };
        let lang = request_lang(
            &parts.headers,
            https,
            found.as_ref().and_then(|(_, l)| l.as_deref()),
        );
        let user = found.map(|(u, _)| u);
        let session_id = verified.filter(|_| user.is_some()).map(|v| v.session);
        if let Some(id) = &session_id {
            csrf = Csrf::bound_to(id);
        }
        if let Some(user) = &user {
            crate::http::request::note_user(user.id);
        }
        Ok(Session {
            session_id,
            expired: user.is_none(),
            user,
            csrf,
            https,
            client_ip,
            lang,
            path,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; dms_csrf=xyz ; b=2"),
        );
        assert_eq!(cookie(&headers, "dms_csrf").as_deref(), Some("xyz"));
        assert_eq!(cookie(&headers, "dms_session"), None);
    }

    #[test]
    fn the_language_is_the_account_s_then_the_cookie_s_then_the_browser_s() {
        let mut headers = HeaderMap::new();
        assert_eq!(request_lang(&headers, false, None), Lang::Fr);
        headers.insert(
            header::ACCEPT_LANGUAGE,
            HeaderValue::from_static("en-US,en;q=0.8"),
        );
        assert_eq!(request_lang(&headers, false, None), Lang::En);
        headers.insert(header::COOKIE, HeaderValue::from_static("dms_lang=fr"));
        assert_eq!(request_lang(&headers, false, None), Lang::Fr);
        // Over HTTPS only the `__Host-` cookie counts.
        assert_eq!(request_lang(&headers, true, None), Lang::En);
        assert_eq!(request_lang(&headers, false, Some("en")), Lang::En);
        assert_eq!(request_lang(&headers, false, Some("xx")), Lang::Fr);
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "ab"));
    }
}
