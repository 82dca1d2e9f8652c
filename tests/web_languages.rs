//! The pages in French and in English, on every backend: the language of
//! a request (the account's preference, else the switch's cookie, else
//! `Accept-Language`, else French), the header's switch (stored on the
//! account when signed in, in a cookie otherwise), every page rendered in
//! both languages without a raw key or placeholder, and a case's documents
//! (CBA, PV) in the case's language.

use std::io::Cursor;

use calamine::Reader;
use dms::auth::Role;
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement};
use testkit::web::{WebClient, untranslated};
use testkit::{TestServer, TestUser, expect_json};
use testkit_db::TestDb;

testkit::server_tests!(
    accept_language_picks_the_pages_language,
    the_switch_keeps_a_visitor_s_choice_in_a_cookie,
    the_switch_keeps_a_visitor_s_choice_in_a_host_cookie_over_https,
    the_switch_stores_the_choice_on_the_account,
    every_page_renders_whole_in_both_languages,
    a_case_s_documents_follow_its_language,
);

/// Whether `body` is a page in `lang` (its `lang` attribute).
fn in_lang(body: &str, lang: &str) -> bool {
    body.contains(&format!("<html lang=\"{lang}\">"))
}

async fn signed_in(server: &TestServer, role: Role) -> (TestUser, WebClient) {
    let user = server.user(role).await;
    let mut web = WebClient::new(&server.base);
    web.sign_in(&user.username, "Password123!").await;
    (user, web)
}

/// The language stored on account `id`.
async fn stored_language(server: &TestServer, id: i32) -> Option<String> {
    let db = &server.state().db;
    let backend = db.get_database_backend();
    let sql = match backend {
        sea_orm::DbBackend::Postgres => "SELECT language FROM users WHERE id = $1",
        _ => "SELECT language FROM users WHERE id = ?",
    };
    let row = db
        .query_one_raw(Statement::from_sql_and_values(backend, sql, [id.into()]))
        .await
        .expect("query")
        .expect("row");
    row.try_get::<Option<String>>("", "language")
        .expect("language")
}

async fn accept_language_picks_the_pages_language(db: TestDb) {
    let server = TestServer::start(db).await;
    let mut web = WebClient::new(&server.base);
    let page = web.get("/connexion").await;
    assert!(in_lang(&page.body, "fr"), "French without a preference");
    assert!(page.body.contains("Se connecter"));
    web.extra
        .push(("accept-language", "en-GB,en;q=0.9,fr;q=0.5".into()));
    let page = web.get("/connexion").await;
    assert!(in_lang(&page.body, "en"), "{}", page.body);
    assert!(page.body.contains(">Sign in<"), "{}", page.body);
    assert!(!page.body.contains("Se connecter"));
    // A language the pages do not speak: French.
    web.extra = vec![("accept-language", "de-DE,pt".into())];
    let page = web.get("/connexion").await;
    assert!(in_lang(&page.body, "fr"));
    server.shutdown().await;
}

async fn the_switch_keeps_a_visitor_s_choice_in_a_cookie(db: TestDb) {
    let server = TestServer::start(db).await;
    let mut web = WebClient::new(&server.base);
    let page = web.get("/connexion").await;
    assert!(
        page.body.contains("action=\"/langue\""),
        "the header's switch"
    );
    // Without the form's token: refused, nothing stored.
    let refused = web
        .post("/langue", &[("lang", "en"), ("back", "/connexion")])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.set_cookie("dms_lang").is_none());
    let csrf = web.csrf();
    let bad = web
        .post(
            "/langue",
            &[("lang", "xx"), ("back", "/connexion"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.set_cookie("dms_lang").is_none());

    let switched = web
        .post(
            "/langue",
            &[
                ("lang", "en"),
                ("back", "/connexion?expiree=1"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(switched.status, StatusCode::SEE_OTHER, "{}", switched.body);
    assert_eq!(switched.location(), "/connexion?expiree=1");
    let cookie = switched.set_cookie("dms_lang").expect("language cookie");
    assert!(
        cookie.contains("SameSite=Lax") && cookie.contains("Path=/"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "plain HTTP: {cookie}");
    let page = web.get("/connexion").await;
    assert!(in_lang(&page.body, "en"));
    // The cookie wins over the browser's own language.
    web.extra.push(("accept-language", "fr".into()));
    let page = web.get("/connexion").await;
    assert!(in_lang(&page.body, "en"));
    // Back to French; an address elsewhere is never gone back to.
    let csrf = web.csrf();
    let switched = web
        .post(
            "/langue",
            &[
                ("lang", "fr"),
                ("back", "//evil.example/x"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(switched.location(), "/");
    let page = web.get("/connexion").await;
    assert!(in_lang(&page.body, "fr"));
    server.shutdown().await;
}

async fn the_switch_keeps_a_visitor_s_choice_in_a_host_cookie_over_https(db: TestDb) {
    let server = TestServer::start_with(db, |c| {
        c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap(), "::1/128".parse().unwrap()];
    })
    .await;
    let mut web = WebClient::new(&server.base);
    web.extra.push(("x-forwarded-proto", "https".into()));
    web.get("/connexion").await;
    let csrf = web.csrf();
    let switched = web
        .post(
            "/langue",
            &[("lang", "en"), ("back", "/connexion"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(switched.status, StatusCode::SEE_OTHER, "{}", switched.body);
    let cookie = switched
        .set_cookie("__Host-dms_lang")
        .expect("__Host- cookie over HTTPS");
    assert!(
        cookie.contains("; Secure") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(switched.set_cookie("dms_lang").is_none());
    let page = web.get("/connexion").await;
    assert!(in_lang(&page.body, "en"));
    server.shutdown().await;
}

async fn the_switch_stores_the_choice_on_the_account(db: TestDb) {
    let server = TestServer::start(db).await;
    let (user, mut web) = signed_in(&server, Role::ProcurementOfficer).await;
    let page = web.get("/dossiers").await;
    assert!(in_lang(&page.body, "fr"));
    assert_eq!(stored_language(&server, user.id).await, None);
    // A token from another browser is refused and stores nothing.
    let mut other = WebClient::new(&server.base);
    other.get("/connexion").await;
    let foreign = other.csrf();
    let refused = web
        .post(
            "/langue",
            &[("lang", "en"), ("back", "/dossiers"), ("csrf", &foreign)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(stored_language(&server, user.id).await, None);

    let csrf = web.csrf();
    let switched = web
        .post(
            "/langue",
            &[("lang", "en"), ("back", "/dossiers"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(switched.status, StatusCode::SEE_OTHER, "{}", switched.body);
    assert_eq!(switched.location(), "/dossiers");
    assert!(
        switched.set_cookie("dms_lang").is_none(),
        "on the account, not a cookie"
    );
    assert_eq!(
        stored_language(&server, user.id).await.as_deref(),
        Some("en")
    );
    let page = web.get("/dossiers").await;
    assert!(in_lang(&page.body, "en"));
    assert!(page.body.contains(">Cases<"), "{}", page.body);

    // Another browser, asking for French: the account's choice wins once
    // signed in there.
    let mut elsewhere = WebClient::new(&server.base);
    elsewhere.extra.push(("accept-language", "fr-FR".into()));
    let page = elsewhere.get("/connexion").await;
    assert!(in_lang(&page.body, "fr"));
    elsewhere.sign_in(&user.username, "Password123!").await;
    let page = elsewhere.get("/dossiers").await;
    assert!(
        in_lang(&page.body, "en"),
        "the account's preference follows it"
    );
    server.shutdown().await;
}

/// Every page of the interface, in both languages: whole (no key, no
/// placeholder shown raw), in the language asked for, and refusals said in
/// it too.
async fn every_page_renders_whole_in_both_languages(db: TestDb) {
    let server = TestServer::start(db).await;
    let admin_user = server.user(Role::Admin).await;
    let officer = server.user(Role::ProcurementOfficer).await;
    let case_id = server.fixture_case(&officer).await;
    let res = server.analyze(&officer, &case_id).await;
    expect_json(res, StatusCode::OK).await;
    let decided = server
        .post_json(
            Some(&officer.token),
            "/api/decide",
            &serde_json::json!({
                "case_id": case_id,
                "chosen_supplier": "ALPHA SARL",
                "decision_reason": "Conforme",
                "next_action": "Notifier",
            }),
        )
        .await;
    expect_json(decided, StatusCode::OK).await;
    for (lang, accept, marker) in [("fr", "fr", "Dossiers"), ("en", "en-US", "Cases")] {
        let mut anonymous = WebClient::new(&server.base);
        anonymous.extra.push(("accept-language", accept.into()));
        let mut owner = WebClient::new(&server.base);
        owner.extra.push(("accept-language", accept.into()));
        owner.sign_in(&officer.username, "Password123!").await;
        let mut admin = WebClient::new(&server.base);
        admin.extra.push(("accept-language", accept.into()));
        admin.sign_in(&admin_user.username, "Password123!").await;
        let case = format!("/dossiers/{case_id}");
        let mut pages = vec![
            ("anonymous", anonymous.get("/connexion").await),
            ("anonymous", anonymous.get("/connexion?expiree=1").await),
            ("owner", owner.get("/dossiers").await),
            ("owner", owner.get("/dossiers?q=Kits&statut=open").await),
            ("owner", owner.get("/dossiers/nouveau").await),
            ("owner", owner.get(&case).await),
            ("owner", owner.get(&format!("{case}?q=ALPHA")).await),
            ("owner", owner.get(&format!("{case}?ok=decision")).await),
            ("owner", owner.get("/dossiers/no-such-case").await),
            ("admin", admin.get("/admin/utilisateurs").await),
            ("admin", admin.get(&case).await),
        ];
        // Refusals: a form's field, a service's typed refusal.
        let csrf = owner.csrf();
        pages.push((
            "owner",
            owner
                .post(
                    "/dossiers",
                    &[("case_type", "DAO"), ("title", " "), ("csrf", &csrf)],
                )
                .await,
        ));
        pages.push((
            "owner",
            owner
                .post(
                    &format!("{case}/decision"),
                    &[
                        ("chosen_supplier", "NOBODY"),
                        ("decision_reason", "x"),
                        ("next_action", "y"),
                        ("csrf", &csrf),
                    ],
                )
                .await,
        ));
        for (who, page) in &pages {
            assert!(
                page.status.is_success() || page.status.is_client_error(),
                "{lang} {who}: {} {}",
                page.status,
                page.body
            );
            assert!(in_lang(&page.body, lang), "{lang} {who}: {}", page.body);
            let raw = untranslated(&page.body);
            assert!(raw.is_empty(), "{lang} {who}: {raw:?} in {}", page.body);
        }
        assert!(pages[2].1.body.contains(marker), "{lang}");
        let refusal = &pages[pages.len() - 1].1.body;
        let expected = match lang {
            "fr" => "ne fait pas partie des offres analysées",
            _ => "is not among the offers analysed",
        };
        assert!(refusal.contains(expected), "{lang}: {refusal}");
        assert!(
            !refusal.contains("is not among the offers analysed") || lang == "en",
            "no English detail in brackets on a French page: {refusal}"
        );
    }
    server.shutdown().await;
}

/// The sheet names of a workbook.
fn sheets(xlsx: Vec<u8>) -> Vec<String> {
    let workbook = calamine::Xlsx::new(Cursor::new(xlsx)).expect("calamine opens the CBA");
    workbook.sheet_names().to_vec()
}

/// Creates a case through the form with documents in `language`, uploads
/// the fixture's DAO and offers, runs the analysis from the page, and
/// returns the case's page path.
async fn analysed_in(
    server: &TestServer,
    officer: &TestUser,
    web: &mut WebClient,
    language: &str,
) -> String {
    let csrf = web.csrf();
    let created = web
        .post(
            "/dossiers",
            &[
                ("case_type", "DAO"),
                ("title", "Kits scolaires"),
                ("language", language),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let path = created
        .location()
        .split('?')
        .next()
        .unwrap_or_default()
        .to_owned();
    let case_id = path.trim_start_matches("/dossiers/").to_owned();
    server.upload_dao(officer, &case_id, "dao_kits.docx").await;
    for offer in analysis::fixtures::offers() {
        let res = server
            .upload(
                Some(&officer.token),
                &format!("/api/cases/{case_id}/upload-offer"),
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
    let csrf = web.csrf();
    let run = web
        .post(&format!("{path}/analyse"), &[("csrf", &csrf)])
        .await;
    assert_eq!(run.status, StatusCode::SEE_OTHER, "{}", run.body);
    path
}

async fn a_case_s_documents_follow_its_language(db: TestDb) {
    let server = TestServer::start(db).await;
    let officer = server.user(Role::ProcurementOfficer).await;
    let mut web = WebClient::new(&server.base);
    web.sign_in(&officer.username, "Password123!").await;
    let form = web.get("/dossiers/nouveau").await;
    assert!(
        form.body.contains("name=\"language\""),
        "the form offers a language"
    );
    assert!(
        form.body.contains("<option value=\"fr\" selected>"),
        "French by default"
    );

    let english = analysed_in(&server, &officer, &mut web, "en").await;
    let page = web.get(&english).await;
    assert!(
        page.body.contains("<dd id=\"language\">anglais</dd>"),
        "{}",
        page.body
    );
    let bytes = web
        .get_bytes(&format!("{english}/telecharger/output_cba"))
        .await;
    assert_eq!(
        sheets(bytes),
        [
            "General Information",
            "Deposit Register",
            "Technical Analysis",
            "Financial Analysis",
            "Summary"
        ]
    );
    let pv = web
        .get_bytes(&format!("{english}/telecharger/output_pv"))
        .await;
    let paragraphs = analysis::docx_paragraphs("pv.docx", &pv).expect("docx");
    assert_eq!(paragraphs[0], "Minutes — Decision Memory System");
    assert!(paragraphs.iter().all(|p| !p.contains("NON DÉCIDÉ")));

    // A French case (the default, and every case the API creates).
    let french = analysed_in(&server, &officer, &mut web, "").await;
    let bytes = web
        .get_bytes(&format!("{french}/telecharger/output_cba"))
        .await;
    assert_eq!(
        sheets(bytes),
        [
            "Info Générales",
            "Registre Dépôt",
            "Analyse Technique",
            "Analyse Financière",
            "Synthèse"
        ]
    );
    let pv = web
        .get_bytes(&format!("{french}/telecharger/output_pv"))
        .await;
    let paragraphs = analysis::docx_paragraphs("pv.docx", &pv).expect("docx");
    assert_eq!(paragraphs[0], "Procès-Verbal — Decision Memory System");
    // A language the documents are not written in is refused, in words.
    let csrf = web.csrf();
    let bad = web
        .post(
            "/dossiers",
            &[
                ("case_type", "DAO"),
                ("title", "X"),
                ("language", "de"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    assert!(bad.body.contains("Langue des documents"), "{}", bad.body);
    server.shutdown().await;
}
