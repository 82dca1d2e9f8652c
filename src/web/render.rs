//! Rendering pages: the templates (compiled into the binary, HTML
//! autoescaped), the `t` function that gives them their texts, and the
//! headers every page carries.

use std::sync::LazyLock;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use minijinja::{Environment, Error as TemplateError, ErrorKind, State, Value, context};
use serde_json::json;

use super::i18n::Lang;
use super::session::Session;

/// Every template, by name (the file name under `src/web/templates/`).
pub const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("templates/base.html")),
    ("login.html", include_str!("templates/login.html")),
    ("password.html", include_str!("templates/password.html")),
    ("cases.html", include_str!("templates/cases.html")),
    ("new_case.html", include_str!("templates/new_case.html")),
    ("case.html", include_str!("templates/case.html")),
    ("admin.html", include_str!("templates/admin.html")),
    ("error.html", include_str!("templates/error.html")),
];

static ENV: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    // `.html` templates are HTML-escaped (minijinja's default for the name).
    for (name, source) in TEMPLATES {
        if let Err(e) = env.add_template(name, source) {
            tracing::error!(template = name, error = %e, "template does not compile");
        }
    }
    // `t("key")` in the page's language (the context's `lang`): a key
    // without a text fails the page rather than show the key.
    env.add_function(
        "t",
        |state: &State, key: &str| -> Result<String, TemplateError> {
            let lang = state
                .lookup("lang")
                .and_then(|l| l.as_str().and_then(Lang::from_tag))
                .unwrap_or_default();
            lang.lookup(key).map(str::to_owned).ok_or_else(|| {
                TemplateError::new(
                    ErrorKind::UndefinedError,
                    format!("no text for key {key:?}"),
                )
            })
        },
    );
    env
});

/// The security headers of every page: scripts and styles from this
/// server only (no inline script), no framing, forms posted here only.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

/// Renders `template` with `data` (as `page`), the user, the CSRF token,
/// the language and the page's own address (for the language switch).
pub fn page(
    session: &Session,
    status: StatusCode,
    template: &str,
    data: serde_json::Value,
) -> Response {
    let user = session.user.as_ref().map(|u| {
        json!({
            "id": u.id,
            "username": u.username,
            "full_name": u.full_name,
            "role": u.role().name(),
            "is_admin": u.is_admin(),
            "can_create": u.can_create_cases(),
        })
    });
    let ctx = context! {
        user => Value::from_serialize(&user),
        csrf => session.csrf.token.clone(),
        lang => session.lang.tag(),
        langs => Lang::ALL.map(Lang::tag),
        here => session.path.clone(),
        page => Value::from_serialize(&data),
    };
    match render(template, ctx) {
        Ok(html) => session.finish(html_response(status, html)),
        Err(e) => {
            tracing::error!(template, error = %e, "rendering a page failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal error: a page could not be rendered",
            )
                .into_response()
        }
    }
}

/// Renders `template` with `ctx` to text.
pub fn render(template: &str, ctx: Value) -> Result<String, TemplateError> {
    ENV.get_template(template)?.render(ctx)
}

pub fn html_response(status: StatusCode, html: String) -> Response {
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `t("key")` of every template has a text in every language,
    /// and every template compiles (a missing key would fail the page only
    /// when rendered).
    #[test]
    fn templates_compile_and_name_only_known_texts() {
        for (name, source) in TEMPLATES {
            assert!(ENV.get_template(name).is_ok(), "{name} does not compile");
            for lang in Lang::ALL {
                for quote in ['"', '\''] {
                    let open = format!("t({quote}");
                    for (i, _) in source.match_indices(&open) {
                        let rest = &source[i + open.len()..];
                        let key = &rest[..rest.find(quote).unwrap_or(0)];
                        // `t("role." ~ user.role)`: a prefix some keys share.
                        let known = if key.ends_with('.') {
                            lang.keys().any(|k| k.starts_with(key))
                        } else {
                            lang.lookup(key).is_some()
                        };
                        assert!(known, "{name} ({lang:?}): no text for {key:?}");
                    }
                }
            }
        }
    }
}
