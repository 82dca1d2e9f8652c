//! The web pages over HTTP against the real server, on every backend: the
//! session cookie's flags, CSRF refusals, what each role sees and may do,
//! uploads refused in words, the analysis and the decision on the case
//! page, and the administrator's page and API.

use dms::auth::Role;
use reqwest::StatusCode;
use serde_json::json;
use testkit::web::WebClient;
use testkit::{TestServer, expect_detail, expect_json, pdf_bytes};
use testkit_db::TestDb;

testkit::server_tests!(
    pages_need_a_session,
    sign_in_sets_a_strict_http_only_session_cookie,
    session_cookie_is_secure_behind_https,
    https_is_believed_from_trusted_proxies_only,
    the_seeded_admin_changes_the_password_before_anything_else,
    csrf_tokens_are_bound_to_the_session,
    forms_without_the_csrf_token_are_refused,
    officer_creates_a_case_and_sees_its_reference,
    officer_writes_only_to_own_cases,
    viewer_sees_no_write_control_and_is_refused,
    uploads_are_grouped_by_supplier_and_refusals_said_in_words,
    a_document_is_withdrawn_from_the_case_page,
    decision_lands_in_the_memory_timeline_and_search,
    case_page_before_an_analysis_says_so_and_offers_no_download,
    case_page_shows_the_criteria_and_each_suppliers_gaps,
    analysis_refusals_are_said_in_words,
    case_page_says_the_analysis_waits_and_refreshes_until_it_ran,
    decision_shows_on_the_page_with_the_pv_that_includes_it,
    case_list_searches_filters_and_pages,
    admin_page_changes_roles_and_active_flags,
    users_api_is_admin_only,
    assets_are_served_from_the_binary,
);

/// A new user of `role`, signed in through the sign-in form.
async fn signed_in(server: &TestServer, role: Role) -> (testkit::TestUser, WebClient) {
    let user = server.user(role).await;
    let mut web = WebClient::new(&server.base);
    web.sign_in(&user.username, "Password123!").await;
    (user, web)
}

async fn officer_client(server: &TestServer) -> (testkit::TestUser, WebClient) {
    signed_in(server, Role::ProcurementOfficer).await
}

async fn pages_need_a_session(db: TestDb) {
    let server = TestServer::start(db).await;
    let mut web = WebClient::new(&server.base);
    for path in ["/", "/dossiers", "/dossiers/nouveau", "/admin/utilisateurs"] {
        let page = web.get(path).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(page.location(), "/connexion", "{path}");
    }
    let page = web.get("/connexion").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<html lang=\"fr\">"));
    assert!(
        page.body
            .contains("<label for=\"username\">Identifiant</label>")
    );
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    // A forged session cookie is no session, and is removed.
    web.cookies
        .insert("dms_session".into(), "not.a.token".into());
    let page = web.get("/dossiers").await;
    assert_eq!(page.location(), "/connexion?expiree=1");
    assert!(!web.cookies.contains_key("dms_session"));
    server.shutdown().await;
}

/// The administrator's password once an operator changed it (`dms user
/// set-password admin`): the seeded one only opens the password form.
const ADMIN_PASSWORD: &str = "Admin-changed-2026";

async fn change_admin_password(server: &TestServer) {
    dms::auth::set_password(&server.state().db, "admin", ADMIN_PASSWORD)
        .await
        .expect("admin password");
}

async fn sign_in_sets_a_strict_http_only_session_cookie(db: TestDb) {
    let server = TestServer::start(db).await;
    change_admin_password(&server).await;
    let mut web = WebClient::new(&server.base);
    let page = web.get("/connexion").await;
    let csrf_cookie = page.set_cookie("dms_csrf").expect("CSRF cookie");
    assert!(csrf_cookie.contains("HttpOnly") && csrf_cookie.contains("SameSite=Strict"));
    let csrf = web.csrf();
    assert!(
        page.body
            .contains(&format!("name=\"csrf\" value=\"{csrf}\""))
    );

    let wrong = web.post_sign_in("admin", "nope-nope", &csrf).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("Identifiant ou mot de passe incorrect"));
    assert!(wrong.set_cookie("dms_session").is_none());

    let page = web.post_sign_in("admin", ADMIN_PASSWORD, &csrf).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), "/dossiers");
    let cookie = page.set_cookie("dms_session").expect("session cookie");
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=28800"] {
        assert!(cookie.contains(flag), "{flag} in {cookie}");
    }
    assert!(
        !cookie.contains("Secure"),
        "plain http: no Secure flag ({cookie})"
    );
    // The cookie holds the API's own token: it opens the API too.
    let token = web.cookies["dms_session"].clone();
    let me = expect_json(server.get(Some(&token), "/auth/me").await, StatusCode::OK).await;
    assert_eq!(me["username"], "admin");

    let list = web.get("/dossiers").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains("admin"));
    // Signing out (with the session's form token) removes the cookie and
    // ends the session on the server: a copy of the token is refused.
    assert_eq!(
        web.post("/deconnexion", &[("csrf", &csrf)]).await.status,
        StatusCode::FORBIDDEN,
        "the signed-out token is no good once signed in"
    );
    let csrf = web.csrf();
    let out = web.post("/deconnexion", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(out.set_cookie("dms_session").unwrap().contains("Max-Age=0"));
    assert_eq!(web.get("/dossiers").await.status, StatusCode::SEE_OTHER);
    assert_eq!(
        server.get(Some(&token), "/auth/me").await.status(),
        StatusCode::UNAUTHORIZED,
        "the copied token ended with the session"
    );
    server.shutdown().await;
}

async fn session_cookie_is_secure_behind_https(db: TestDb) {
    // X-Forwarded-Proto is believed from a trusted proxy only.
    let server = TestServer::start_with(db, |c| {
        c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap(), "::1/128".parse().unwrap()];
    })
    .await;
    change_admin_password(&server).await;
    let mut web = WebClient::new(&server.base);
    web.extra.push(("x-forwarded-proto", "https".into()));
    let page = web.get("/connexion").await;
    // Over HTTPS: `__Host-` cookies (this host, this path only) and HSTS.
    assert!(
        page.set_cookie("__Host-dms_csrf")
            .unwrap()
            .contains("Secure")
    );
    assert!(page.set_cookie("dms_csrf").is_none());
    assert_eq!(
        page.headers["strict-transport-security"],
        "max-age=31536000; includeSubDomains"
    );
    let csrf = web.csrf();
    let page = web.post_sign_in("admin", ADMIN_PASSWORD, &csrf).await;
    let cookie = page
        .set_cookie("__Host-dms_session")
        .expect("session cookie");
    assert!(
        cookie.contains("; Secure") && cookie.contains("Path=/"),
        "{cookie}"
    );
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    assert!(!cookie.contains("Domain"), "{cookie}");
    let page = web.get("/dossiers").await;
    assert_eq!(
        page.status,
        StatusCode::OK,
        "the __Host- session is read back"
    );
    server.shutdown().await;
}

async fn the_seeded_admin_changes_the_password_before_anything_else(db: TestDb) {
    let server = TestServer::start(db).await;
    let mut web = WebClient::new(&server.base);
    web.get("/connexion").await;
    let csrf = web.csrf();
    let page = web.post_sign_in("admin", "Admin123!", &csrf).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("id=\"password-change\""),
        "{}",
        page.body
    );
    assert!(page.set_cookie("dms_session").is_none(), "no session yet");
    assert_eq!(web.get("/dossiers").await.status, StatusCode::SEE_OTHER);
    let change = |current: &'static str, new: &'static str, confirm: &'static str| {
        [
            ("username", "admin"),
            ("current", current),
            ("new_password", new),
            ("confirm", confirm),
        ]
    };
    for (fields, why) in [
        (
            change("Admin123!", "Another-9", "Another-8"),
            "confirmation differs",
        ),
        (
            change("Admin123!", "Admin123!", "Admin123!"),
            "the seeded one again",
        ),
        (change("Admin123!", "short", "short"), "too short"),
    ] {
        let csrf = web.csrf();
        let mut form: Vec<(&str, &str)> = fields.to_vec();
        form.push(("csrf", &csrf));
        let page = web.post("/connexion/mot-de-passe", &form).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{why}");
        assert!(page.set_cookie("dms_session").is_none(), "{why}");
    }
    let csrf = web.csrf();
    let mut form: Vec<(&str, &str)> = change("wrong-current", "Another-9", "Another-9").to_vec();
    form.push(("csrf", &csrf));
    let page = web.post("/connexion/mot-de-passe", &form).await;
    assert_eq!(
        page.status,
        StatusCode::UNAUTHORIZED,
        "the current password is checked"
    );
    let csrf = web.csrf();
    let mut form: Vec<(&str, &str)> = change("Admin123!", "Another-9", "Another-9").to_vec();
    form.push(("csrf", &csrf));
    let page = web.post("/connexion/mot-de-passe", &form).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert!(page.set_cookie("dms_session").is_some());
    assert_eq!(web.get("/dossiers").await.status, StatusCode::OK);
    // The seeded password opens nothing any more; the API keeps
    // production's behaviour for scripts with the new one.
    let res = server
        .http
        .post(server.url("/auth/token"))
        .form(&[("username", "admin"), ("password", "Admin123!")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    server.login("admin", "Another-9").await;
    server.shutdown().await;
}

async fn https_is_believed_from_trusted_proxies_only(db: TestDb) {
    let server = TestServer::start(db).await;
    let mut web = WebClient::new(&server.base);
    web.extra.push(("x-forwarded-proto", "https".into()));
    let page = web.get("/connexion").await;
    assert!(page.set_cookie("dms_csrf").is_some());
    assert!(!page.set_cookie("dms_csrf").unwrap().contains("Secure"));
    assert!(page.headers.get("strict-transport-security").is_none());
    server.shutdown().await;
}

async fn csrf_tokens_are_bound_to_the_session(db: TestDb) {
    let server = TestServer::start(db).await;
    let (officer, mut web) = officer_client(&server).await;
    let case = server.create_case(&officer, "RFQ", "Liée").await;
    let path = format!("/dossiers/{}/lots", case["id"].as_str().unwrap());
    // A second session of the same account, in another browser.
    let mut other = WebClient::new(&server.base);
    other.sign_in(&officer.username, "Password123!").await;
    let theirs = other.csrf();
    let mine = web.csrf();
    assert_ne!(mine, theirs, "each session has its own token");
    let page = web
        .post(&path, &[("lot_number", "L1"), ("csrf", &theirs)])
        .await;
    assert_eq!(
        page.status,
        StatusCode::FORBIDDEN,
        "another session's token"
    );
    // The signed-out cookie's token is no good once signed in either.
    let cookie_token = web.cookies.get("dms_csrf").cloned().unwrap_or_default();
    let page = web
        .post(&path, &[("lot_number", "L1"), ("csrf", &cookie_token)])
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let page = web
        .post(&path, &[("lot_number", "L1"), ("csrf", &mine)])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    server.shutdown().await;
}

async fn forms_without_the_csrf_token_are_refused(db: TestDb) {
    let server = TestServer::start(db).await;
    let mut web = WebClient::new(&server.base);
    web.get("/connexion").await;
    // Sign-in: no token, a wrong token.
    for csrf in [
        "",
        "0000000000000000000000000000000000000000000000000000000000000000",
    ] {
        let page = web.post_sign_in("admin", "Admin123!", csrf).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
        assert!(
            page.body.contains("Le formulaire a expiré"),
            "{}",
            page.body
        );
        assert!(page.set_cookie("dms_session").is_none());
    }
    // A token without its cookie (another site's page cannot read it).
    let csrf = web.csrf();
    let mut stranger = WebClient::new(&server.base);
    let page = stranger.post_sign_in("admin", "Admin123!", &csrf).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);

    let (_, mut officer) = officer_client(&server).await;
    let page = officer
        .post(
            "/dossiers",
            &[("case_type", "DAO"), ("title", "Sans jeton"), ("csrf", "x")],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let count = testkit_db::count(&server.state().db, "cases").await;
    assert_eq!(count, 0, "no case created without the token");
    // An upload without the token stores nothing.
    let created = {
        let csrf = officer.csrf();
        officer
            .post(
                "/dossiers",
                &[
                    ("case_type", "DAO"),
                    ("title", "Avec jeton"),
                    ("csrf", &csrf),
                ],
            )
            .await
    };
    let case_path = created.location().split('?').next().unwrap().to_owned();
    let form = reqwest::multipart::Form::new().text("csrf", "wrong").part(
        "file",
        reqwest::multipart::Part::bytes(pdf_bytes("DAO")).file_name("dao.pdf"),
    );
    let page = officer
        .post_multipart(&format!("{case_path}/fichiers/dao"), form, true)
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains("Le formulaire a expiré"));
    assert_eq!(testkit_db::count(&server.state().db, "artifacts").await, 0);
    server.shutdown().await;
}

async fn officer_creates_a_case_and_sees_its_reference(db: TestDb) {
    let server = TestServer::start(db).await;
    let (officer, mut web) = officer_client(&server).await;
    let form = web.get("/dossiers/nouveau").await;
    assert_eq!(form.status, StatusCode::OK);
    for label in [
        "case_type",
        "title",
        "estimated_value",
        "closing_date",
        "category_code",
        "purchase_category_code",
    ] {
        assert!(
            form.body.contains(&format!("<label for=\"{label}\">")),
            "label for {label}"
        );
    }
    assert!(form.body.contains("Seuils de procédure"));
    let csrf = web.csrf();
    // A refused value is said, and what was typed is kept.
    let bad = web
        .post(
            "/dossiers",
            &[
                ("case_type", "DAO"),
                ("title", "Ciment"),
                ("estimated_value", "douze"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("Valeur estimée"), "{}", bad.body);
    assert!(bad.body.contains("value=\"Ciment\""));

    let page = web
        .post(
            "/dossiers",
            &[
                ("case_type", "DAO"),
                ("title", "Fourniture de ciment <b>gras</b>"),
                ("estimated_value", "150 000,00"),
                ("closing_date", "2031-12-31"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let location = page.location().to_owned();
    assert!(location.ends_with("?ok=cree"), "{location}");
    let case = web.get(&location).await;
    assert_eq!(case.status, StatusCode::OK);
    let year = chrono::Utc::now().format("%Y");
    assert!(
        case.body.contains(&format!("DAO-{year}-0001")),
        "reference shown"
    );
    assert!(case.body.contains("Dossier créé"));
    assert!(
        case.body
            .contains("Fourniture de ciment &lt;b&gt;gras&lt;&#x2f;b&gt;")
            || case
                .body
                .contains("Fourniture de ciment &lt;b&gt;gras&lt;/b&gt;"),
        "escaped title"
    );
    assert!(!case.body.contains("<b>gras</b>"));
    assert!(
        case.body.contains("id=\"procedure\""),
        "the thresholds' procedure is shown"
    );
    assert!(case.body.contains("150\u{a0}000,00 USD"));
    // With an opening date, the offers are sealed: the page says so, and
    // offers the owner the opening instead of the analysis.
    assert!(
        case.body.contains("id=\"sealed\""),
        "sealed until the opening"
    );
    assert!(
        !case.body.contains("/analyse\""),
        "no analysis before the opening"
    );
    assert!(
        case.body.contains("id=\"open-offers\""),
        "the owner may open them"
    );
    assert!(
        case.body.len() < 100 * 1024,
        "case page is {} bytes",
        case.body.len()
    );
    // The case is the officer's.
    let rows = expect_json(
        server
            .get(Some(&officer.token), "/api/cases?mine=true")
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(rows.as_array().unwrap().len(), 1);
    assert_eq!(rows[0]["closing_date"], "2031-12-31T23:59:59");
    server.shutdown().await;
}

async fn officer_writes_only_to_own_cases(db: TestDb) {
    let server = TestServer::start(db).await;
    let (owner, mut owner_web) = officer_client(&server).await;
    let (other, mut other_web) = officer_client(&server).await;
    let case = server.create_case(&owner, "RFQ", "Papier").await;
    let path = format!("/dossiers/{}", case["id"].as_str().unwrap());
    // Outside the committee, the case does not exist; an evaluator of it
    // reads it without the owner's controls.
    assert_eq!(other_web.get(&path).await.status, StatusCode::NOT_FOUND);
    server
        .add_member(&owner, case["id"].as_str().unwrap(), &other, "evaluator")
        .await;

    let mine = owner_web.get(&path).await;
    assert!(mine.body.contains(&format!("action=\"{path}/lots\"")));
    assert!(
        mine.body
            .contains(&format!("action=\"{path}/fichiers/dao\""))
    );
    assert!(!mine.body.contains("id=\"read-only\""));

    let theirs = other_web.get(&path).await;
    assert_eq!(theirs.status, StatusCode::OK);
    assert!(theirs.body.contains("id=\"read-only\""));
    assert!(!theirs.body.contains("/lots\""), "no lot form");
    assert!(!theirs.body.contains("/fichiers/"), "no upload form");
    assert!(!theirs.body.contains("/decision\""), "no decision form");
    // Posting anyway is refused, in words.
    let csrf = other_web.csrf();
    let page = other_web
        .post(
            &format!("{path}/lots"),
            &[("lot_number", "1"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(
        page.body.contains("Seul le responsable du dossier"),
        "{}",
        page.body
    );
    // The owner adds a lot.
    let csrf = owner_web.csrf();
    let page = owner_web
        .post(
            &format!("{path}/lots"),
            &[
                ("lot_number", "Lot 1"),
                ("description", "Papier A4"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let again = owner_web
        .post(
            &format!("{path}/lots"),
            &[("lot_number", "Lot 1"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(again.body.contains("existe déjà"));
    let page = owner_web.get(&path).await;
    assert!(page.body.contains("Lot 1") && page.body.contains("Papier A4"));
    server.shutdown().await;
}

async fn viewer_sees_no_write_control_and_is_refused(db: TestDb) {
    let server = TestServer::start(db).await;
    let officer = server.user(Role::ProcurementOfficer).await;
    let viewer = server.user(Role::Viewer).await;
    let case = server.create_case(&officer, "DAO", "Ordinateurs").await;
    let path = format!("/dossiers/{}", case["id"].as_str().unwrap());
    server
        .add_member(&officer, case["id"].as_str().unwrap(), &viewer, "observer")
        .await;
    let mut web = WebClient::new(&server.base);
    web.sign_in(&viewer.username, "Password123!").await;

    let list = web.get("/dossiers").await;
    assert!(list.body.contains("Ordinateurs"));
    assert!(!list.body.contains("/dossiers/nouveau"), "no new-case link");
    assert!(!list.body.contains("/admin/"));
    let page = web.get(&path).await;
    assert!(page.body.contains("id=\"read-only\""));
    for control in ["/lots\"", "/fichiers/", "/decision\"", "upload.js"] {
        assert!(!page.body.contains(control), "viewer sees {control}");
    }
    let form = web.get("/dossiers/nouveau").await;
    assert_eq!(form.status, StatusCode::FORBIDDEN);
    assert!(form.body.contains("lecteur"));
    let csrf = web.csrf();
    let page = web
        .post(
            "/dossiers",
            &[("case_type", "DAO"), ("title", "x"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains("lecteur"));
    let form = web.upload_form(&[], "dao.pdf", pdf_bytes("DAO"));
    let page = web
        .post_multipart(&format!("{path}/fichiers/dao"), form, true)
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let body: serde_json::Value = serde_json::from_str(&page.body).unwrap();
    assert_eq!(body["ok"], false);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("Seul le responsable"),
        "{body}"
    );
    let page = web.get("/admin/utilisateurs").await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    server.shutdown().await;
}

async fn uploads_are_grouped_by_supplier_and_refusals_said_in_words(db: TestDb) {
    let server = TestServer::start(db).await;
    let (officer, mut web) = officer_client(&server).await;
    let case = server.create_case(&officer, "DAO", "Routes").await;
    let path = format!("/dossiers/{}", case["id"].as_str().unwrap());

    // An offer before the DAO is refused (JSON for the page's script).
    let form = web.upload_form(
        &[("supplier_name", "SOGEA"), ("offer_type", "technique")],
        "t.pdf",
        pdf_bytes("T"),
    );
    let page = web
        .post_multipart(&format!("{path}/fichiers/offer"), form, true)
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(
        page.body.contains("Téléversez d'abord le DAO"),
        "{}",
        page.body
    );

    // The DAO, without the script: a redirect back to the page.
    let form = web.upload_form(&[], "dao.pdf", pdf_bytes("DAO"));
    let page = web
        .post_multipart(&format!("{path}/fichiers/dao"), form, false)
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(page.location(), format!("{path}?ok=fichier#documents"));
    // A second DAO, without the script: a page that says why.
    let form = web.upload_form(&[], "dao2.pdf", pdf_bytes("DAO 2"));
    let page = web
        .post_multipart(&format!("{path}/fichiers/dao"), form, false)
        .await;
    assert_eq!(page.status, StatusCode::CONFLICT);
    assert!(page.body.contains("Ce dossier a déjà son DAO"));
    // A text file is not a document.
    let form = web.upload_form(&[], "cba.xlsx", b"just some text, not a workbook".to_vec());
    let page = web
        .post_multipart(&format!("{path}/fichiers/cba_template"), form, true)
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(
        page.body.contains("Type de fichier non reconnu"),
        "{}",
        page.body
    );

    for (supplier, offer_type) in [
        ("SOGEA Satom", "technique"),
        ("sogea satom", "financiere"),
        ("Razel", "technique"),
    ] {
        let form = web.upload_form(
            &[("supplier_name", supplier), ("offer_type", offer_type)],
            "offre.pdf",
            pdf_bytes(supplier),
        );
        let page = web
            .post_multipart(&format!("{path}/fichiers/offer"), form, true)
            .await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.body.contains("\"ok\":true"));
    }
    // A duplicate piece.
    let form = web.upload_form(
        &[("supplier_name", "Razel"), ("offer_type", "technique")],
        "o.pdf",
        pdf_bytes("R2"),
    );
    let page = web
        .post_multipart(&format!("{path}/fichiers/offer"), form, true)
        .await;
    assert_eq!(page.status, StatusCode::CONFLICT);
    assert!(page.body.contains("doublon"));

    let page = web.get(&path).await;
    assert_eq!(
        page.body.matches("<h4 class=\"supplier\">").count(),
        2,
        "two suppliers"
    );
    assert!(page.body.contains("offre technique") && page.body.contains("offre financière"));
    assert!(page.body.contains("id=\"dao-file\""));
    server.shutdown().await;
}

async fn a_document_is_withdrawn_from_the_case_page(db: TestDb) {
    let server = TestServer::start(db).await;
    let (officer, mut web) = officer_client(&server).await;
    let case = server.create_case(&officer, "DAO", "Retraits").await;
    let path = format!("/dossiers/{}", case["id"].as_str().unwrap());
    let form = web.upload_form(&[], "prix.hta", pdf_bytes("DAO"));
    let page = web
        .post_multipart(&format!("{path}/fichiers/dao"), form, false)
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    // A polyglot is refused in words.
    let mut polyglot = pdf_bytes("x");
    polyglot.extend_from_slice(b"<script>alert(1)</script>");
    let form = web.upload_form(&[], "cba.pdf", polyglot);
    let page = web
        .post_multipart(&format!("{path}/fichiers/cba_template"), form, true)
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.body.contains("Fichier refusé"), "{}", page.body);

    let page = web.get(&path).await;
    let end = page.body.find("/retrait\"").expect("a withdraw form") + "/retrait".len();
    let start = page.body[..end].rfind("action=\"").expect("its action") + "action=\"".len();
    let action = page.body[start..end].to_owned();
    let artifact = action
        .rsplit('/')
        .nth(1)
        .expect("artifact id in the form")
        .to_owned();
    // The page's download of the file: typed by its content, not runnable.
    let file = web.get(&format!("{path}/documents/{artifact}")).await;
    assert_eq!(file.status, StatusCode::OK);
    let header = |name: &str| {
        file.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    assert_eq!(header("x-content-type-options"), "nosniff");
    assert!(header("content-security-policy").contains("sandbox"));
    assert!(header("content-disposition").contains("prix.pdf"));

    // No reason: refused in words, nothing withdrawn.
    let csrf = web.csrf();
    let page = web.post(&action, &[("csrf", &csrf), ("reason", "")]).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("Indiquez le motif"), "{}", page.body);
    let csrf = web.csrf();
    let page = web
        .post(&action, &[("csrf", &csrf), ("reason", "Mauvais fichier")])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(page.location(), format!("{path}?ok=retrait#documents"));
    let page = web.get(page.location()).await;
    assert!(!page.body.contains("id=\"dao-file\""), "the DAO is gone");
    let withdrawn = between(&page.body, "id=\"withdrawn\"", "</ul>");
    assert!(
        withdrawn.contains("prix.hta") && withdrawn.contains("Mauvais fichier"),
        "{withdrawn}"
    );
    // The DAO can be sent again.
    assert!(page.body.contains("/fichiers/dao\""));
    server.shutdown().await;
}

async fn decision_lands_in_the_memory_timeline_and_search(db: TestDb) {
    let server = TestServer::start(db).await;
    let (officer, mut web) = officer_client(&server).await;
    // Deciding needs an analysis of the offers.
    let case_id = server.analysed_case(&officer, &["Foraco"]).await;
    let path = format!("/dossiers/{case_id}");
    let csrf = web.csrf();
    // An empty reason is refused and named.
    let page = web
        .post(
            &format!("{path}/decision"),
            &[
                ("chosen_supplier", "Foraco"),
                ("decision_reason", " "),
                ("next_action", "Notifier"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("Motif de la décision"), "{}", page.body);
    let page = web
        .post(
            &format!("{path}/decision"),
            &[
                ("chosen_supplier", "Foraco"),
                ("decision_reason", "Meilleur rapport qualité-prix"),
                ("next_action", "Notifier le fournisseur"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let page = web.get(&format!("{path}?ok=decision")).await;
    assert!(page.body.contains("Décision enregistrée"));
    assert!(page.body.contains("id=\"timeline\""));
    assert!(page.body.contains("Meilleur rapport qualité-prix"));
    let hit = web.get(&format!("{path}?q=qualit%C3%A9")).await;
    assert!(hit.body.contains("Foraco"));
    let miss = web.get(&format!("{path}?q=introuvable")).await;
    assert!(miss.body.contains("id=\"no-hit\""));
    server.shutdown().await;
}

/// The text of `body` from the first `from` to the next `to` (both kept
/// out); panics when either is missing.
fn between<'a>(body: &'a str, from: &str, to: &str) -> &'a str {
    let start = body
        .find(from)
        .unwrap_or_else(|| panic!("no {from:?} in the page"))
        + from.len();
    let len = body[start..]
        .find(to)
        .unwrap_or_else(|| panic!("no {to:?} after {from:?}"));
    &body[start..start + len]
}

/// The card of `supplier` in the list of supplier packages.
fn package_card<'a>(body: &'a str, supplier: &str) -> &'a str {
    let packages = between(body, "<ul class=\"packages\" id=\"packages\"", "\n  </ul>");
    packages
        .split("<li class=\"card package")
        .find(|card| card.contains(&format!("<h4>{supplier}</h4>")))
        .unwrap_or_else(|| panic!("no package card for {supplier}: {packages}"))
}

/// The form controls of `body` that no `<label for>` names.
fn unlabelled_controls(body: &str) -> Vec<String> {
    let mut found = Vec::new();
    for tag in ["<input", "<select", "<textarea"] {
        for (i, _) in body.match_indices(tag) {
            let element = &body[i..i + body[i..].find('>').unwrap_or(0)];
            if element.contains("type=\"hidden\"") {
                continue;
            }
            let id = element
                .split("id=\"")
                .nth(1)
                .and_then(|rest| rest.split('"').next());
            if !id.is_some_and(|id| body.contains(&format!("<label for=\"{id}\">"))) {
                found.push(element.to_owned());
            }
        }
    }
    found
}

/// The options of the decision form's supplier list.
fn decision_choices(body: &str) -> Vec<String> {
    between(body, "<select id=\"chosen_supplier\"", "</select>")
        .split("<option value=\"")
        .skip(1)
        .map(|o| o.split('"').next().unwrap_or_default().to_owned())
        .collect()
}

/// The fixture case of `officer`, analysed with the page's form (without
/// script: a redirect back to the analysis); its id and page path.
async fn analysed_through_the_page(
    server: &TestServer,
    officer: &testkit::TestUser,
    web: &mut WebClient,
) -> (String, String) {
    let case_id = server.fixture_case(officer).await;
    let path = format!("/dossiers/{case_id}");
    let csrf = web.csrf();
    let run = web
        .post(&format!("{path}/analyse"), &[("csrf", &csrf)])
        .await;
    assert_eq!(run.status, StatusCode::SEE_OTHER, "{}", run.body);
    assert_eq!(run.location(), format!("{path}?ok=analyse#analyse"));
    (case_id, path)
}

async fn case_page_before_an_analysis_says_so_and_offers_no_download(db: TestDb) {
    let server = TestServer::start(db).await;
    let (officer, mut web) = officer_client(&server).await;
    let case_id = server.fixture_case(&officer).await;
    let page = web.get(&format!("/dossiers/{case_id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("id=\"no-analysis\""), "no analysis yet");
    assert!(page.body.contains("Aucune analyse pour l&#x27;instant"));
    for absent in [
        "/telecharger/output_cba",
        "/telecharger/output_pv",
        "id=\"criteria\"",
        "id=\"packages\"",
        "id=\"chosen_supplier\"",
    ] {
        assert!(!page.body.contains(absent), "{absent} before any analysis");
    }
    assert!(
        page.body.contains("id=\"decision-needs-analysis\""),
        "the decision form explains that an analysis comes first"
    );
    // The analysis form, its busy-state script and its status region.
    assert!(page.body.contains(&format!(
        "action=\"/dossiers/{case_id}/analyse\" data-analyse"
    )));
    assert!(
        page.body
            .contains("<p id=\"analyse-status\" role=\"status\" aria-live=\"polite\">")
    );
    assert!(page.body.contains("/static/analyse.js"));
    assert_eq!(unlabelled_controls(&page.body), Vec::<String>::new());
    server.shutdown().await;
}

async fn case_page_shows_the_criteria_and_each_suppliers_gaps(db: TestDb) {
    let server = TestServer::start(db).await;
    let (officer, mut web) = officer_client(&server).await;
    let (case_id, path) = analysed_through_the_page(&server, &officer, &mut web).await;
    // An offer that comes after the run is listed, but not analysed.
    let res = server
        .upload(
            Some(&officer.token),
            &format!("/api/cases/{case_id}/upload-offer"),
            "delta_technique.pdf",
            pdf_bytes("OFFRE TECHNIQUE DELTA BTP"),
            &[("supplier_name", "DELTA BTP"), ("offer_type", "technique")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    let page = web.get(&format!("{path}?ok=analyse")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Analyse terminée"));
    assert!(page.body.contains("id=\"analysis-run\""), "when it ran");
    assert!(!page.body.contains("id=\"no-analysis\""));

    // The criteria table: a caption, headed columns, one row per criterion.
    let table = between(&page.body, "<table id=\"criteria\"", "</table>");
    assert!(table.contains("<caption id=\"criteria-caption\">"));
    let head = between(table, "<thead>", "</thead>");
    assert_eq!(head.matches("<th scope=\"col\"").count(), 4, "{head}");
    for column in ["Catégorie", "Critère", "Pondération", "Éliminatoire"] {
        assert!(
            head.contains(&format!(">{column}</th>")),
            "{column}: {head}"
        );
    }
    let criteria = testkit_db::count(&server.state().db, "dao_criteria").await;
    assert!(criteria >= 3);
    assert_eq!(table.matches("<th scope=\"row\">").count() as i64, criteria);
    assert!(
        table.contains("<th scope=\"row\">Capacité technique et expérience</th><td>50\u{a0}%</td>"),
        "{table}"
    );
    assert!(
        table.contains("Oui (critère essentiel)"),
        "the essential criterion: {table}"
    );
    assert!(
        page.body.contains("class=\"table-scroll\""),
        "the table scrolls, not the page"
    );

    // One card per analysed supplier; the gaps are marked and said.
    assert_eq!(page.body.matches("<li class=\"card package").count(), 3);
    let gamma = package_card(&page.body, "GAMMA TRADING");
    assert!(gamma.starts_with(" has-gaps\""), "{gamma}");
    assert!(gamma.contains("<li class=\"gap\"><span aria-hidden=\"true\">⚠ </span>Offre technique : <strong>MANQUANTE</strong></li>"), "{gamma}");
    let missing = between(gamma, "class=\"gap missing-fields\"", "</p>");
    assert!(
        missing.contains("Données manquantes") && missing.contains("Prix total"),
        "{missing}"
    );
    let beta = package_card(&page.body, "BETA SERVICES");
    assert!(
        beta.contains("Pièces administratives : <strong>MANQUANTE</strong>"),
        "{beta}"
    );
    assert!(beta.contains("Offre technique : présente"), "{beta}");
    let alpha = package_card(&page.body, "ALPHA SARL");
    assert!(!alpha.contains("class=\"gap"), "ALPHA is complete: {alpha}");
    assert!(alpha.contains("<strong>complet</strong>"), "{alpha}");
    assert!(
        alpha.contains("2.000.000 FCFA"),
        "the extracted price: {alpha}"
    );

    // The decision names only analysed suppliers, not the late uploader.
    assert!(between(&page.body, "id=\"suppliers\"", "id=\"analyse\"").contains("DELTA BTP"));
    assert_eq!(
        decision_choices(&page.body),
        ["ALPHA SARL", "BETA SERVICES", "GAMMA TRADING"]
    );

    // The outputs are offered, and are what they say.
    for (kind, content_type) in [
        (
            "output_cba",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        (
            "output_pv",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
    ] {
        let link = format!("{path}/telecharger/{kind}");
        assert!(
            page.body.contains(&format!("href=\"{link}\" download")),
            "{kind} link"
        );
        let file = web.get(&link).await;
        assert_eq!(file.status, StatusCode::OK, "{kind}");
        assert_eq!(file.headers["content-type"], content_type);
        assert!(
            file.headers["content-disposition"]
                .to_str()
                .unwrap()
                .starts_with("attachment;")
        );
        assert!(file.body.starts_with("PK"), "{kind} is an OOXML zip");
    }
    assert!(
        page.body.len() < 100 * 1024,
        "case page is {} bytes",
        page.body.len()
    );
    assert_eq!(unlabelled_controls(&page.body), Vec::<String>::new());
    server.shutdown().await;
}

async fn case_page_says_the_analysis_waits_and_refreshes_until_it_ran(db: TestDb) {
    use dms::analysis::queue::{JobState, QueueConfig};
    let server = TestServer::start_with(db, |c| {
        c.analysis_queue = QueueConfig {
            workers: 1,
            capacity: 1,
        }
    })
    .await;
    let (officer, mut web) = officer_client(&server).await;
    let busy = server.fixture_case(&officer).await;
    let waiting = server.fixture_case(&officer).await;
    let other = server.fixture_case(&officer).await;
    let csrf = web.csrf();

    // The test holds the first case's row (on SQLite, the write lock): its
    // analysis takes the one worker and cannot finish until the test lets go.
    let own = server.db.connect().await;
    let held = dms::db::begin_write(&own).await.expect("begin");
    dms::cases::lock(&held, &busy).await.expect("lock");
    let first = {
        let http = server.http.clone();
        let url = server.url("/api/analyze");
        let (token, id) = (officer.token.clone(), busy.clone());
        tokio::spawn(async move {
            http.post(url)
                .bearer_auth(token)
                .json(&json!({"case_id": id}))
                .send()
                .await
                .expect("analyze")
        })
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !matches!(
        server.state().analyses.of_case(&busy),
        Some(JobState::Running)
    ) {
        assert!(
            std::time::Instant::now() < deadline,
            "the run never started"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    // "Analyser" on a busy server: back to the page at once, which says
    // the analysis waits and refreshes itself.
    let path = format!("/dossiers/{waiting}");
    let posted = web
        .post(&format!("{path}/analyse"), &[("csrf", &csrf)])
        .await;
    assert_eq!(posted.status, StatusCode::SEE_OTHER, "{}", posted.body);
    assert_eq!(posted.location(), format!("{path}#analyse"));
    let page = web.get(&path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("Analyse en attente — 0 avant vous"),
        "{}",
        between(&page.body, "<section id=\"analyse\"", "</section>")
    );
    assert!(page.body.contains(&format!(
        "<meta http-equiv=\"refresh\" content=\"5; url=/dossiers/{waiting}#analyse\">"
    )));
    let running = web.get(&format!("/dossiers/{busy}")).await;
    assert!(
        running.body.contains("Analyse en cours"),
        "{}",
        running.body
    );
    assert!(running.body.contains("http-equiv=\"refresh\""));
    // The queue is full: said in words, nothing queued.
    let full = web
        .post(&format!("/dossiers/{other}/analyse"), &[("csrf", &csrf)])
        .await;
    assert_eq!(full.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(full.body.contains("Trop d&#x27;analyses"), "{}", full.body);
    // The page's script is told the same, as JSON.
    web.extra.push(("accept", "application/json".into()));
    let answer = web
        .post(&format!("{path}/analyse"), &[("csrf", &csrf)])
        .await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.body);
    let body: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
    assert_eq!(body["ok"], true);
    assert_eq!(body["next"], format!("{path}#analyse"));
    web.extra.clear();

    // The test lets go: both runs finish, and the page shows the run, no
    // longer the wait, and stops refreshing.
    held.rollback().await.expect("release");
    assert_eq!(first.await.expect("request").status(), StatusCode::OK);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while matches!(
        server.state().analyses.of_case(&waiting),
        Some(JobState::Queued { .. } | JobState::Running)
    ) {
        assert!(
            std::time::Instant::now() < deadline,
            "the queued run never ran"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let page = web.get(&path).await;
    assert!(page.body.contains("id=\"analysis-run\""), "the run shows");
    assert!(!page.body.contains("id=\"analysis-job\""));
    assert!(!page.body.contains("http-equiv=\"refresh\""));
    server.shutdown().await;
}

async fn analysis_refusals_are_said_in_words(db: TestDb) {
    let server = TestServer::start(db).await;
    let (officer, mut web) = officer_client(&server).await;
    let case = server.create_case(&officer, "DAO", "Cantines").await;
    let case_id = case["id"].as_str().unwrap().to_owned();
    let path = format!("/dossiers/{case_id}/analyse");
    let csrf = web.csrf();

    // Without the script: a page that says why, with the way back.
    let page = web.post(&path, &[("csrf", &csrf)]).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(
        page.body.contains("Téléversez d&#x27;abord le DAO"),
        "{}",
        page.body
    );
    assert!(page.body.contains(&format!("href=\"/dossiers/{case_id}\"")));
    // The page's script gets the same refusal as JSON.
    web.extra.push(("accept", "application/json".into()));
    let answer = web.post(&path, &[("csrf", &csrf)]).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    let body: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
    assert_eq!(body["ok"], false);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("Téléversez d'abord le DAO"),
        "{body}"
    );
    let answer = web.post(&path, &[("csrf", "wrong")]).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert!(answer.body.contains("Le formulaire a expiré"));

    server.upload_dao(&officer, &case_id, "dao.docx").await;
    let answer = web.post(&path, &[("csrf", &csrf)]).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(
        answer.body.contains("Téléversez au moins une offre"),
        "{}",
        answer.body
    );

    // A PDF whose body is garbage no longer blocks the case: the analysis
    // completes and the page lists the file for manual reading, with why.
    let res = server
        .upload(
            Some(&officer.token),
            &format!("/api/cases/{case_id}/upload-offer"),
            "offre_illisible.pdf",
            testkit::broken_pdf(),
            &[("supplier_name", "EPSILON"), ("offer_type", "technique")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let answer = web.post(&path, &[("csrf", &csrf)]).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    web.extra.clear();
    let page = web.get(&format!("/dossiers/{case_id}")).await;
    assert!(page.body.contains("Documents à lire par une personne"));
    assert!(page.body.contains("offre_illisible.pdf"), "{}", page.body);
    assert!(
        page.body.contains("illisible ou endommagé"),
        "{}",
        page.body
    );

    // A viewer may not run it: an observer is told why, anyone outside
    // the committee finds no case.
    let (viewer, mut viewer_web) = signed_in(&server, Role::Viewer).await;
    let csrf = viewer_web.csrf();
    let page = viewer_web.post(&path, &[("csrf", &csrf)]).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    server
        .add_member(&officer, &case_id, &viewer, "observer")
        .await;
    let page = viewer_web.post(&path, &[("csrf", &csrf)]).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains("observateur"), "{}", page.body);
    assert_eq!(testkit_db::count(&server.state().db, "analyses").await, 1);
    server.shutdown().await;
}

async fn decision_shows_on_the_page_with_the_pv_that_includes_it(db: TestDb) {
    let server = TestServer::start(db).await;
    let (officer, mut web) = officer_client(&server).await;
    let (case_id, path) = analysed_through_the_page(&server, &officer, &mut web).await;
    let csrf = web.csrf();
    let decision = |supplier| {
        [
            ("chosen_supplier", supplier),
            ("decision_reason", "Offre complète et conforme"),
            ("next_action", "Notifier l'attribution"),
            ("csrf", csrf.as_str()),
        ]
    };
    // A supplier the analysis did not see is refused, in words.
    let page = web
        .post(&format!("{path}/decision"), &decision("DELTA BTP"))
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(
        page.body
            .contains("ne fait pas partie des offres analysées"),
        "{}",
        page.body
    );

    let page = web
        .post(&format!("{path}/decision"), &decision("ALPHA SARL"))
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(page.location(), format!("{path}?ok=decision#decision"));
    // A new run afterwards replaces the plain PV, not the decided one.
    let res = server.analyze(&officer, &case_id).await;
    assert_eq!(res.status(), StatusCode::OK);

    let page = web.get(&path).await;
    let shown = between(&page.body, "id=\"decision-current\"", "</section>");
    assert!(
        shown.contains("<strong id=\"decision-supplier\">ALPHA SARL</strong>"),
        "{shown}"
    );
    assert!(shown.contains("Offre complète et conforme"));
    let pv_link = between(shown, "<a id=\"decision-pv\" href=\"", "\"");
    assert!(
        pv_link.starts_with(&format!("{path}/documents/")),
        "{pv_link}"
    );
    let pv = web.get(pv_link).await;
    assert_eq!(pv.status, StatusCode::OK);
    assert_eq!(
        pv.headers["content-type"],
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    );
    assert!(pv.body.starts_with("PK"));
    let pv_id = pv_link.rsplit('/').next().unwrap();
    let decided = testkit_db::column_strings(
        &server.state().db,
        &format!("SELECT meta_json FROM artifacts WHERE id = '{pv_id}'"),
    )
    .await;
    assert!(
        decided[0].contains("\"decision_included\":true"),
        "{decided:?}"
    );
    assert_eq!(
        web.get(&format!("{path}/documents/nope")).await.status,
        StatusCode::NOT_FOUND
    );

    // A viewer of the committee sees the decision and its PV, and no form.
    let (viewer, mut viewer_web) = signed_in(&server, Role::Viewer).await;
    server
        .add_member(&officer, &case_id, &viewer, "observer")
        .await;
    let page = viewer_web.get(&path).await;
    assert!(page.body.contains("id=\"decision-current\""));
    assert!(page.body.contains(pv_link));
    assert!(!page.body.contains("id=\"chosen_supplier\""));
    assert_eq!(viewer_web.get(pv_link).await.status, StatusCode::OK);
    server.shutdown().await;
}

async fn case_list_searches_filters_and_pages(db: TestDb) {
    let server = TestServer::start(db).await;
    let (officer, mut web) = officer_client(&server).await;
    let other = server.user(Role::ProcurementOfficer).await;
    for i in 0..22 {
        server
            .create_case(&officer, "RFQ", &format!("Fournitures {i:02}"))
            .await;
    }
    // Another officer's case, which the officer observes.
    let theirs = server
        .create_case(&other, "DAO", "Véhicules 100%_tout-terrain")
        .await;
    server
        .add_member(&other, theirs["id"].as_str().unwrap(), &officer, "observer")
        .await;
    // And one the officer is not of the committee of: never listed.
    server.create_case(&other, "DAO", "Confidentiel").await;

    let page = web.get("/dossiers").await;
    assert!(page.body.contains("23 dossier(s)"));
    assert!(page.body.contains("Page 1 / 2"));
    assert!(page.body.contains("href=\"/dossiers?page=2\""));
    let page = web.get("/dossiers?page=2").await;
    assert_eq!(page.body.matches("<li>").count(), 3);

    let page = web.get("/dossiers?q=v%C3%A9hicules").await;
    assert!(
        page.body.contains("1 dossier(s)"),
        "search is case-insensitive"
    );
    let page = web.get("/dossiers?q=100%25_").await;
    assert!(page.body.contains("1 dossier(s)"), "wildcards are literal");
    let page = web.get("/dossiers?q=s%25").await;
    assert!(page.body.contains("0 dossier(s)"));
    let year = chrono::Utc::now().format("%Y");
    let page = web.get(&format!("/dossiers?q=dao-{year}-0001")).await;
    assert!(page.body.contains("1 dossier(s)"), "search by reference");
    let page = web.get("/dossiers?type=DAO").await;
    assert!(page.body.contains("1 dossier(s)"));
    let page = web.get("/dossiers?mine=1&type=RFQ&q=fournitures").await;
    assert!(page.body.contains("22 dossier(s)"));
    assert!(
        page.body
            .contains("href=\"/dossiers?q=fournitures&amp;type=RFQ&amp;mine=1&amp;page=2\""),
        "filters kept across pages"
    );
    let page = web.get("/dossiers?statut=closed").await;
    assert!(page.body.contains("0 dossier(s)"));
    let page = web.get("/dossiers?page=zzz").await;
    assert_eq!(page.status, StatusCode::OK);
    server.shutdown().await;
}

async fn admin_page_changes_roles_and_active_flags(db: TestDb) {
    let server = TestServer::start(db).await;
    change_admin_password(&server).await;
    let officer = server.user(Role::ProcurementOfficer).await;
    let mut web = WebClient::new(&server.base);
    web.sign_in("admin", ADMIN_PASSWORD).await;
    let page = web.get("/admin/utilisateurs").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(&officer.username));
    assert!(
        page.body
            .contains(&format!("<label for=\"role-{}\">", officer.id))
    );
    let csrf = web.csrf();
    let path = format!("/admin/utilisateurs/{}", officer.id);
    let page = web
        .post(&path, &[("role", "viewer"), ("csrf", &csrf)])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    // The unticked box deactivates: the account's sessions end with it.
    let me = expect_json(
        server.get(Some(&officer.token), "/auth/me").await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(me["detail"], "Could not validate credentials");
    assert!(
        !testkit_db::column_strings(
            &server.state().db,
            &format!(
                "SELECT username FROM users WHERE id = {} AND is_active = {}",
                officer.id,
                if server.db.backend == testkit_db::Backend::Postgres {
                    "false"
                } else {
                    "0"
                }
            ),
        )
        .await
        .is_empty(),
        "unticked box deactivates"
    );
    let page = web
        .post(
            &path,
            &[("role", "viewer"), ("is_active", "1"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let token = server.login(&officer.username, "Password123!").await;
    let me = expect_json(server.get(Some(&token), "/auth/me").await, StatusCode::OK).await;
    assert_eq!(me["role_name"], "viewer");
    // The admin cannot lock themselves out.
    let page = web
        .post(
            "/admin/utilisateurs/1",
            &[("role", "viewer"), ("is_active", "1"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(page.status, StatusCode::CONFLICT);
    assert!(page.body.contains("propre rôle"));
    let page = web
        .post(&path, &[("role", "viewer"), ("is_active", "1")])
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "CSRF");
    server.shutdown().await;
}

async fn users_api_is_admin_only(db: TestDb) {
    let server = TestServer::start(db).await;
    let admin = server.admin().await;
    let officer = server.user(Role::ProcurementOfficer).await;
    let viewer = server.user(Role::Viewer).await;
    for user in [&officer, &viewer] {
        let detail = expect_detail(
            server.get(Some(&user.token), "/api/users").await,
            StatusCode::FORBIDDEN,
        )
        .await;
        assert_eq!(detail, "Administrator role required");
        let res = server
            .http
            .patch(server.url(&format!("/api/users/{}", user.id)))
            .bearer_auth(&user.token)
            .json(&json!({"role": "admin"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
    }
    assert_eq!(
        server.get(None, "/api/users").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let users = expect_json(
        server.get(Some(&admin.token), "/api/users").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(users.as_array().unwrap().len(), 3);
    assert_eq!(users[0]["username"], "admin");

    let patch = |id: i32, body: serde_json::Value| {
        server
            .http
            .patch(server.url(&format!("/api/users/{id}")))
            .bearer_auth(&admin.token)
            .json(&body)
            .send()
    };
    let user = expect_json(
        patch(viewer.id, json!({"role": "procurement_officer"}))
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(user["role_name"], "procurement_officer");
    assert_eq!(user["is_active"], true);
    let user = expect_json(
        patch(viewer.id, json!({"is_active": false})).await.unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(user["is_active"], false);
    // A deactivation ends the account's sessions: its token is refused.
    assert_eq!(
        server.get(Some(&viewer.token), "/auth/me").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        patch(viewer.id, json!({"role": "king"}))
            .await
            .unwrap()
            .status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        patch(viewer.id, json!({"colour": "red"}))
            .await
            .unwrap()
            .status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        patch(9999, json!({"is_active": true}))
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
    let detail = expect_detail(
        patch(1, json!({"is_active": false})).await.unwrap(),
        StatusCode::CONFLICT,
    )
    .await;
    assert!(detail.contains("your own"), "{detail}");
    // Demoting the seeded superuser... by another admin removes the superuser flag.
    expect_json(
        patch(officer.id, json!({"role": "admin"})).await.unwrap(),
        StatusCode::OK,
    )
    .await;
    let officer_token = server.login(&officer.username, "Password123!").await;
    let res = server
        .http
        .patch(server.url("/api/users/1"))
        .bearer_auth(&officer_token)
        .json(&json!({"role": "viewer"}))
        .send()
        .await
        .unwrap();
    let seeded = expect_json(res, StatusCode::OK).await;
    assert_eq!(seeded["role_name"], "viewer");
    assert_eq!(seeded["is_superuser"], false);
    assert_eq!(
        server.get(Some(&admin.token), "/api/users").await.status(),
        StatusCode::FORBIDDEN
    );
    server.shutdown().await;
}

async fn assets_are_served_from_the_binary(db: TestDb) {
    let server = TestServer::start(db).await;
    let mut web = WebClient::new(&server.base);
    let css = web.get("/static/app.css").await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(
        css.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    let js = web.get("/static/upload.js").await;
    assert_eq!(js.status, StatusCode::OK);
    assert!(js.body.contains("XMLHttpRequest"));
    let js = web.get("/static/analyse.js").await;
    assert_eq!(js.status, StatusCode::OK);
    assert!(
        js.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    assert!(js.body.contains("aria-busy"));
    assert_eq!(
        web.get("/static/nope.js").await.status,
        StatusCode::NOT_FOUND
    );
    let login = web.get("/connexion").await;
    assert!(
        !login.body.contains("http://") && !login.body.contains("https://"),
        "nothing from elsewhere"
    );
    server.shutdown().await;
}
