//! The web interface: pages rendered on the server, in French or English,
//! for the procurement officers, the committee and the administrator,
//! served by `dms serve` at `/` beside the API and over the same services.
//!
//! - `session`: the session cookie (the API's token) and CSRF protection;
//! - `render` and `templates/`: the pages, compiled into the binary;
//! - `i18n`: every text the pages show, from one Fluent catalogue per
//!   language (`locales/`); `format`: values (dates, amounts) written the
//!   way of the page's language; `language`: the header's switch;
//! - `respond`: redirects, refusal pages, answers to the pages' scripts;
//! - the handlers, one module a job: `sign_in`, `cases` (list, creation),
//!   `case_page` (the case, its lots, its memory), `upload`, `analysis`
//!   (running it, its results, downloads, the decision), `admin`;
//! - `static/`: the style sheet and two small scripts (upload progress and
//!   drag and drop; the analysis' busy state), also in the binary. Nothing
//!   is fetched from elsewhere.

mod admin;
mod analysis;
mod case_page;
mod cases;
mod committee;
mod format;
pub mod i18n;
mod language;
pub mod render;
mod respond;
pub mod session;
mod sign_in;
mod upload;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Path};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::state::AppState;

/// Form bodies of the pages are small; uploads count their own bytes.
const MAX_FORM_BODY: usize = 256 * 1024;

/// The routes of the pages and their assets.
pub fn routes() -> Router<AppState> {
    let forms = Router::new()
        .route("/", get(sign_in::home))
        .route("/connexion", get(sign_in::login_page).post(sign_in::login))
        .route(
            "/connexion/mot-de-passe",
            post(sign_in::change_seeded_password),
        )
        .route("/deconnexion", post(sign_in::logout))
        .route("/langue", post(language::switch))
        .route("/dossiers", get(cases::case_list).post(cases::create_case))
        .route("/dossiers/nouveau", get(cases::new_case))
        .route("/dossiers/{case_id}", get(case_page::case_page))
        .route("/dossiers/{case_id}/lots", post(case_page::add_lot))
        .route("/dossiers/{case_id}/comite", post(committee::add_member))
        .route(
            "/dossiers/{case_id}/comite/{user_id}/retirer",
            post(committee::remove_member),
        )
        .route("/dossiers/{case_id}/declaration", post(committee::declare))
        .route("/dossiers/{case_id}/ouverture", post(committee::open))
        .route("/dossiers/{case_id}/analyse", post(analysis::analyse))
        .route("/dossiers/{case_id}/decision", post(analysis::decide))
        .route(
            "/dossiers/{case_id}/telecharger/{kind}",
            get(analysis::download),
        )
        .route(
            "/dossiers/{case_id}/documents/{artifact_id}",
            get(analysis::document),
        )
        .route(
            "/dossiers/{case_id}/documents/{artifact_id}/retrait",
            post(upload::withdraw),
        )
        .route("/admin/utilisateurs", get(admin::users_page))
        .route("/admin/utilisateurs/{user_id}", post(admin::update_user))
        .route("/static/{file}", get(asset))
        .layer(DefaultBodyLimit::max(MAX_FORM_BODY));
    let uploads = Router::new()
        .route("/dossiers/{case_id}/fichiers/{kind}", post(upload::upload))
        .layer(DefaultBodyLimit::disable());
    forms.merge(uploads)
}

/// The assets, compiled in: name, content type, body.
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("static/app.css"),
    ),
    (
        "upload.js",
        "text/javascript; charset=utf-8",
        include_str!("static/upload.js"),
    ),
    (
        "analyse.js",
        "text/javascript; charset=utf-8",
        include_str!("static/analyse.js"),
    ),
];

async fn asset(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|(name, _, _)| *name == file) {
        Some((_, content_type, body)) => {
            let mut response = (StatusCode::OK, *body).into_response();
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
            headers.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            );
            headers.insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
            response
        }
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}
