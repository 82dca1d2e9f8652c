//! The web pages over HTTP against the real server, on every backend: the
//! session cookie's flags, CSRF refusals, what each role sees and may do,
//! uploads refused in words, and the administrator's page and API.

mod common;
#[path = "common/server.rs"]
mod server;
mod web_common;

use common::TestDb;
use dms::auth::Role;
use reqwest::StatusCode;
use serde_json::json;
use server::{TestServer, expect_detail, expect_json, pdf_bytes};
use web_common::WebClient;

server_tests!(
    pages_need_a_session,
    sign_in_sets_a_strict_http_only_session_cookie,
    session_cookie_is_secure_behind_https,
    forms_without_the_csrf_token_are_refused,
    officer_creates_a_case_and_sees_its_reference,
    officer_writes_only_to_own_cases,
    viewer_sees_no_write_control_and_is_refused,
    uploads_are_grouped_by_supplier_and_refusals_said_in_words,
    decision_lands_in_the_memory_timeline_and_search,
    case_list_searches_filters_and_pages,
    admin_page_changes_roles_and_active_flags,
    users_api_is_admin_only,
    assets_are_served_from_the_binary,
);

async fn officer_client(server: &TestServer) -> (server::TestUser, WebClient) {
    let officer = server.user(Role::ProcurementOfficer).await;
    let mut web = WebClient::new(&server.base);
    web.sign_in(&officer.username, "Password123!").await;
    (officer, web)
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

async fn sign_in_sets_a_strict_http_only_session_cookie(db: TestDb) {
    let server = TestServer::start(db).await;
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

    let page = web.post_sign_in("admin", "Admin123!", &csrf).await;
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
    // Signing out removes the cookie.
    let out = web.post("/deconnexion", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(out.set_cookie("dms_session").unwrap().contains("Max-Age=0"));
    assert_eq!(web.get("/dossiers").await.status, StatusCode::SEE_OTHER);
    server.shutdown().await;
}

async fn session_cookie_is_secure_behind_https(db: TestDb) {
    let server = TestServer::start(db).await;
    let mut web = WebClient::new(&server.base);
    web.extra.push(("x-forwarded-proto", "https".into()));
    let page = web.get("/connexion").await;
    assert!(page.set_cookie("dms_csrf").unwrap().contains("Secure"));
    let csrf = web.csrf();
    let page = web.post_sign_in("admin", "Admin123!", &csrf).await;
    let cookie = page.set_cookie("dms_session").expect("session cookie");
    assert!(cookie.contains("; Secure"), "{cookie}");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
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
    let count = common::count(&server.state().db, "cases").await;
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
    assert_eq!(common::count(&server.state().db, "artifacts").await, 0);
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
    assert!(
        case.body.contains("action=\"/dossiers/") && case.body.contains("/analyse\""),
        "the owner sees the analysis button"
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
    let (_, mut other_web) = officer_client(&server).await;
    let case = server.create_case(&owner, "RFQ", "Papier").await;
    let path = format!("/dossiers/{}", case["id"].as_str().unwrap());

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
        page.body.contains("appartient à un autre agent"),
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
    assert!(body["message"].as_str().unwrap().contains("lecteur"));
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

async fn case_list_searches_filters_and_pages(db: TestDb) {
    let server = TestServer::start(db).await;
    let (officer, mut web) = officer_client(&server).await;
    let other = server.user(Role::ProcurementOfficer).await;
    for i in 0..22 {
        server
            .create_case(&officer, "RFQ", &format!("Fournitures {i:02}"))
            .await;
    }
    server
        .create_case(&other, "DAO", "Véhicules 100%_tout-terrain")
        .await;

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
    let officer = server.user(Role::ProcurementOfficer).await;
    let mut web = WebClient::new(&server.base);
    web.sign_in("admin", "Admin123!").await;
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
    let me = expect_json(
        server.get(Some(&officer.token), "/auth/me").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(me["detail"], "Inactive user", "unticked box deactivates");
    let page = web
        .post(
            &path,
            &[("role", "viewer"), ("is_active", "1"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let me = expect_json(
        server.get(Some(&officer.token), "/auth/me").await,
        StatusCode::OK,
    )
    .await;
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
    assert_eq!(
        server.get(Some(&viewer.token), "/auth/me").await.status(),
        StatusCode::BAD_REQUEST
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
