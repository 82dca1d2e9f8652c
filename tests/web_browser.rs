//! The web interface in a real browser: Debian's headless Chromium driven
//! over WebDriver against the real server on a fresh SQLite database.
//! Each test saves a screenshot under `target/web-screenshots/`.
//!
//! Without /usr/bin/chromium and /usr/bin/chromedriver these tests are
//! skipped, except under `DMS_TEST_REQUIRE_ALL=1` (CI), where they fail.

mod common;
#[path = "common/server.rs"]
mod server;
mod web_common;

use common::{Backend, TestDb};
use dms::auth::Role;
use serde_json::json;
use server::{TestServer, pdf_bytes};
use web_common::webdriver::{Browser, ENTER, TAB, browser_available};

/// One browser at a time: the machine has two cores.
static ONE_BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The browser's turn and a server on a fresh SQLite database; `None`
/// (the test is skipped) when the browser is not installed.
async fn begin() -> Option<(tokio::sync::MutexGuard<'static, ()>, TestServer)> {
    if !browser_available() {
        return None;
    }
    let turn = ONE_BROWSER.lock().await;
    let db = TestDb::new(Backend::Sqlite).await.expect("sqlite");
    Some((turn, TestServer::start(db).await))
}

/// Writes `bytes` to `dir/name` and returns the path, for a file input.
fn file(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).expect("test file");
    path.display().to_string()
}

async fn sign_in(browser: &Browser, server: &TestServer, username: &str, password: &str) {
    browser.goto(&server.url("/connexion")).await;
    browser.type_into("#username", username).await;
    browser.type_into("#password", password).await;
    browser
        .click("form[action='/connexion'] button[type=submit]")
        .await;
    browser.wait("form.who").await;
}

/// Chooses `path` in the case page's `kind` upload form and sends it.
async fn send_file(browser: &Browser, kind: &str, path: &str) {
    browser.type_into(&format!("#file-{kind}"), path).await;
    browser
        .click(&format!(
            "form[action$='/fichiers/{kind}'] button[type=submit]"
        ))
        .await;
}

/// Whether the page scrolls sideways at the current width.
async fn scroll_width(browser: &Browser) -> u64 {
    browser
        .eval("return document.scrollingElement.scrollWidth;", vec![])
        .await
        .as_u64()
        .unwrap_or(u64::MAX)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn officer_takes_a_case_from_creation_to_decision() {
    let Some((_one, server)) = begin().await else {
        return;
    };
    let officer = server.user(Role::ProcurementOfficer).await;
    let files = tempfile::tempdir().expect("dir");
    let browser = Browser::start(1100, 900).await;

    sign_in(&browser, &server, &officer.username, "Password123!").await;
    browser.click("a[href='/dossiers/nouveau']").await;
    browser.select("#case_type", "DAO").await;
    browser
        .type_into("#title", "Construction d'un forage à Kati")
        .await;
    browser.type_into("#estimated_value", "45 000").await;
    browser
        .click("form[action='/dossiers'] button[type=submit]")
        .await;
    let created = browser.wait_text("#created", "Dossier créé").await;
    let year = chrono::Utc::now().format("%Y").to_string();
    assert!(created.contains(&format!("DAO-{year}-0001")), "{created}");
    assert!(
        browser.text("#procedure").await.contains("RFP")
            || !browser.text("#procedure").await.is_empty()
    );

    browser.type_into("#lot_number", "Lot 1").await;
    browser
        .type_into("#lot_description", "Forage et équipement")
        .await;
    browser
        .click("form[action$='/lots'] button[type=submit]")
        .await;
    browser.wait_text("#lots", "Forage et équipement").await;

    // The DAO, then offers: the page's script sends them with progress.
    send_file(
        &browser,
        "dao",
        &file(&files, "dao_forage.pdf", &pdf_bytes("DAO forage")),
    )
    .await;
    browser.wait_text("#dao-file", "dao_forage.pdf").await;

    for (supplier, offer_type, name) in [
        ("Foraco Mali", "technique", "foraco_tech.pdf"),
        ("Foraco Mali", "financiere", "foraco_fin.pdf"),
        ("Sahel Forages", "technique", "sahel_tech.pdf"),
    ] {
        browser.type_into("#supplier_name", supplier).await;
        browser.select("#offer_type", offer_type).await;
        send_file(&browser, "offer", &file(&files, name, &pdf_bytes(supplier))).await;
        browser.wait_text("#suppliers", name).await;
    }
    assert_eq!(
        browser.count("#suppliers h4.supplier").await,
        2,
        "grouped by supplier"
    );
    let foraco = browser.text("#suppliers > li:first-child").await;
    assert!(
        foraco.contains("foraco_tech.pdf") && foraco.contains("foraco_fin.pdf"),
        "{foraco}"
    );

    // The analysis, then the decision on an analysed supplier.
    browser
        .click("form[action$='/analyse'] button[type=submit]")
        .await;
    browser.wait_text("#flash", "Analyse terminée").await;
    browser.select("#chosen_supplier", "Foraco Mali").await;
    browser
        .type_into("#decision_reason", "Offre conforme la moins disante")
        .await;
    browser
        .type_into("#next_action", "Notifier l'attribution")
        .await;
    browser
        .click("form[action$='/decision'] button[type=submit]")
        .await;
    browser
        .wait_text("#timeline", "Offre conforme la moins disante")
        .await;

    browser.type_into("#memory-q", "moins disante").await;
    browser.click("#memoire form button[type=submit]").await;
    browser.wait_text("#timeline", "Foraco Mali").await;
    browser.type_into("#memory-q", " introuvable").await;
    browser.click("#memoire form button[type=submit]").await;
    browser.wait("#no-hit").await;
    browser.click("#memoire form a").await;
    browser.wait("#timeline").await;

    // The page stays light (before documents) and renders without script.
    let size = browser
        .eval("return document.documentElement.outerHTML.length;", vec![])
        .await
        .as_u64()
        .unwrap_or(u64::MAX);
    assert!(size < 100 * 1024, "case page is {size} bytes");
    browser.full_screenshot("officer_case_page", 1100).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viewer_sees_the_case_read_only() {
    let Some((_one, server)) = begin().await else {
        return;
    };
    let officer = server.user(Role::ProcurementOfficer).await;
    let viewer = server.user(Role::Viewer).await;
    let case = server
        .create_case(&officer, "RFQ", "Fournitures de bureau")
        .await;
    let browser = Browser::start(1100, 900).await;
    sign_in(&browser, &server, &viewer.username, "Password123!").await;
    assert_eq!(browser.count("a[href='/dossiers/nouveau']").await, 0);
    browser
        .click(&format!(
            "a[href='/dossiers/{}']",
            case["id"].as_str().unwrap()
        ))
        .await;
    browser.wait_text("#read-only", "Lecture seule").await;
    assert_eq!(
        browser.count("main form[method=post]").await,
        0,
        "no write control"
    );
    assert_eq!(browser.count("input[type=file]").await, 0);
    browser.screenshot("viewer_case_page").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_upload_is_said_in_words() {
    let Some((_one, server)) = begin().await else {
        return;
    };
    let officer = server.user(Role::ProcurementOfficer).await;
    let case = server
        .create_case(&officer, "DAO", "Réhabilitation d'école")
        .await;
    let files = tempfile::tempdir().expect("dir");
    let browser = Browser::start(1100, 900).await;
    sign_in(&browser, &server, &officer.username, "Password123!").await;
    browser
        .goto(&server.url(&format!("/dossiers/{}", case["id"].as_str().unwrap())))
        .await;
    // A text file named like a PDF.
    send_file(
        &browser,
        "dao",
        &file(&files, "dao.pdf", b"ceci n'est pas un PDF"),
    )
    .await;
    let said = browser
        .wait_text("form[action$='/fichiers/dao'] .progress", "Refusé")
        .await;
    assert!(said.contains("Type de fichier non reconnu"), "{said}");
    // An offer before the DAO.
    browser.type_into("#supplier_name", "BTP Sahel").await;
    send_file(
        &browser,
        "offer",
        &file(&files, "offre.pdf", &pdf_bytes("offre")),
    )
    .await;
    let said = browser
        .wait_text("form[action$='/fichiers/offer'] .progress", "Refusé")
        .await;
    assert!(said.contains("d'abord le DAO"), "{said}");
    browser.screenshot("refused_upload").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_scrolls_sideways_at_390_px() {
    let Some((_one, server)) = begin().await else {
        return;
    };
    let officer = server.user(Role::ProcurementOfficer).await;
    let case = server
        .create_case(
            &officer,
            "DAO",
            "Acquisition de véhicules tout-terrain pour les directions régionales",
        )
        .await;
    let case_id = case["id"].as_str().unwrap().to_owned();
    let res = server
        .upload(
            Some(&officer.token),
            &format!("/api/cases/{case_id}/upload-dao"),
            "dossier_appel_offres_vehicules_tout_terrain.pdf",
            pdf_bytes("DAO"),
            &[],
        )
        .await;
    assert!(res.status().is_success());
    let res = server
        .upload(
            Some(&officer.token),
            &format!("/api/cases/{case_id}/upload-offer"),
            "offre_technique_societe_generale_automobiles.pdf",
            pdf_bytes("offre"),
            &[
                (
                    "supplier_name",
                    "Société Générale d'Automobiles de l'Afrique de l'Ouest",
                ),
                ("offer_type", "technique"),
            ],
        )
        .await;
    assert!(res.status().is_success());
    let res = server
        .post_json(
            Some(&officer.token),
            "/api/analyze",
            json!({"case_id": case_id}),
        )
        .await;
    assert!(res.status().is_success());
    let res = server
        .post_json(
            Some(&officer.token),
            "/api/decide",
            &json!({"case_id": case_id, "chosen_supplier": "Société Générale d'Automobiles de l'Afrique de l'Ouest", "decision_reason": "Seule offre conforme", "next_action": "Notifier"}),
        )
        .await;
    assert!(res.status().is_success());

    let browser = Browser::start(390, 844).await;
    let width = browser.eval("return window.innerWidth;", vec![]).await;
    assert_eq!(width, json!(390), "the window is 390 px wide");
    browser.goto(&server.url("/connexion")).await;
    browser.wait("#username").await;
    assert!(scroll_width(&browser).await <= 390, "sign-in page");
    sign_in(&browser, &server, &officer.username, "Password123!").await;
    for (path, name) in [
        ("/dossiers".to_owned(), "mobile_case_list"),
        ("/dossiers/nouveau".to_owned(), "mobile_new_case"),
        (format!("/dossiers/{case_id}"), "mobile_case_page"),
    ] {
        browser.goto(&server.url(&path)).await;
        browser.wait("main h1").await;
        let scroll = scroll_width(&browser).await;
        browser.full_screenshot(name, 390).await;
        assert!(scroll <= 390, "{path} scrolls sideways: {scroll} px");
        browser.set_window(390, 844).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_and_case_forms_work_with_the_keyboard_alone() {
    let Some((_one, server)) = begin().await else {
        return;
    };
    let browser = Browser::start(1100, 900).await;
    browser.goto(&server.url("/connexion")).await;
    browser.wait("#username").await;
    assert_eq!(
        browser.focused().await,
        "username",
        "the sign-in form has the focus"
    );
    browser.keys(&format!("admin{TAB}Admin123!{ENTER}")).await;
    browser.wait("form.who").await;
    assert!(browser.url().await.ends_with("/dossiers"));

    browser.goto(&server.url("/dossiers/nouveau")).await;
    browser.wait("#title").await;
    // Skip link, then into the form: type, title, value, then Enter.
    browser.keys(TAB).await;
    assert_eq!(browser.focused().await, "A", "the skip link comes first");
    browser.keys(ENTER).await;
    browser.keys(TAB).await;
    assert_eq!(browser.focused().await, "case_type");
    browser
        .keys(&format!("R{TAB}Papeterie au clavier{TAB}2500{ENTER}"))
        .await;
    let created = browser.wait_text("#created", "Dossier créé").await;
    let year = chrono::Utc::now().format("%Y").to_string();
    assert!(created.contains(&format!("RFQ-{year}-0001")), "{created}");
    browser.screenshot("keyboard_created_case").await;
}
