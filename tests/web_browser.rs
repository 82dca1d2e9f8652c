//! The web interface in a real browser: Debian's headless Chromium driven
//! over WebDriver against the real server on a fresh SQLite database.
//! Each test saves a screenshot under `target/web-screenshots/`. The
//! officer's whole flow runs once in French and once in English (switched
//! from the header's FR | EN control), its texts read from the catalogue.
//!
//! Without /usr/bin/chromium and /usr/bin/chromedriver these tests are
//! skipped, except under `DMS_TEST_REQUIRE_ALL=1` (CI), where they fail.

use dms::auth::Role;
use dms::web::i18n::Lang;
use serde_json::json;
use testkit::web::untranslated;
use testkit::webdriver::{Browser, ENTER, TAB, browser_available};
use testkit::{TestServer, pdf_bytes};
use testkit_db::{Backend, TestDb};

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

/// Fetches a download link of the page through the browser (its session
/// cookie) and checks it is an Office document of `content_type`.
async fn check_download(browser: &Browser, href: &str, content_type: &str) {
    let got = browser.fetch(href).await;
    assert_eq!(got["status"], 200, "{href}: {got}");
    assert_eq!(got["type"], content_type, "{href}: {got}");
    assert_eq!(got["head"], "PK", "{href} is an OOXML zip: {got}");
    assert!(got["size"].as_u64().unwrap_or(0) > 1000, "{href}: {got}");
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

/// The visible text of the package card of `supplier`, and how many of its
/// parts are marked as gaps with a visible colour and border.
async fn package_card(browser: &Browser, supplier: &str) -> (String, u64) {
    let card = browser
        .eval(
            "var name = arguments[0];
             var card = Array.from(document.querySelectorAll('#packages > li'))
               .find(function (li) { return li.querySelector('h4').innerText === name; });
             if (!card) { return null; }
             var marked = Array.from(card.querySelectorAll('.gap')).filter(function (g) {
               var style = getComputedStyle(g);
               return style.backgroundColor !== 'rgba(0, 0, 0, 0)' && parseFloat(style.borderLeftWidth) > 0;
             }).length;
             return {text: card.innerText, marked: marked};",
            vec![json!(supplier)],
        )
        .await;
    assert!(card.is_object(), "no package card for {supplier}");
    (
        card["text"].as_str().unwrap_or_default().to_owned(),
        card["marked"].as_u64().unwrap_or(0),
    )
}

/// Switches the pages to `lang` with the header's FR | EN control and
/// waits for the page to come back in it.
async fn switch_to(browser: &Browser, lang: Lang) {
    browser
        .click(&format!("form.lang-switch button[value='{}']", lang.tag()))
        .await;
    browser
        .wait(&format!("html[lang='{}'] form.who", lang.tag()))
        .await;
}

/// The page shown is in `lang`, with no raw catalogue key and no unfilled
/// placeholder (`{ $name }`, a template's `{{`), in its markup or in its
/// visible text. (A bare `{` may show: the memory lists stored JSON.)
async fn assert_whole(browser: &Browser, lang: Lang, what: &str) {
    let page = browser
        .eval(
            "return {lang: document.documentElement.lang,
                     html: document.documentElement.outerHTML,
                     text: document.body.innerText};",
            vec![],
        )
        .await;
    assert_eq!(page["lang"], lang.tag(), "{what}: the page's language");
    let html = page["html"].as_str().unwrap_or_default();
    let raw = untranslated(html);
    assert!(raw.is_empty(), "{what}: {raw:?}");
    let text = page["text"].as_str().unwrap_or_default();
    let raw = untranslated(text);
    assert!(raw.is_empty(), "{what}: {raw:?} shows in {text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn officer_takes_a_case_from_creation_to_decision_in_french() {
    officer_flow(Lang::Fr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn officer_takes_a_case_from_creation_to_decision_in_english() {
    officer_flow(Lang::En).await;
}

/// The officer's flow in `lang`, chosen in the header's FR | EN control
/// (headless Chromium asks for English pages: the French run switches too).
async fn officer_flow(lang: Lang) {
    let Some((_one, server)) = begin().await else {
        return;
    };
    let t = |key: &str| lang.text(key);
    let officer = server.user(Role::ProcurementOfficer).await;
    let files = tempfile::tempdir().expect("dir");
    let browser = Browser::start(1100, 900).await;

    sign_in(&browser, &server, &officer.username, "Password123!").await;
    switch_to(&browser, lang).await;
    assert_whole(&browser, lang, "case list").await;
    browser.click("a[href='/dossiers/nouveau']").await;
    browser.wait("#title").await;
    assert_whole(&browser, lang, "new case form").await;
    browser.select("#case_type", "DAO").await;
    browser
        .type_into("#title", "Fourniture de kits scolaires à Mopti")
        .await;
    browser.type_into("#estimated_value", "45 000").await;
    browser
        .click("form[action='/dossiers'] button[type=submit]")
        .await;
    let created = browser.wait_text("#created", t("case.created")).await;
    let year = chrono::Utc::now().format("%Y").to_string();
    assert!(created.contains(&format!("DAO-{year}-0001")), "{created}");
    assert!(!browser.text("#procedure").await.is_empty());
    assert_whole(&browser, lang, "new case page").await;

    browser.type_into("#lot_number", "Lot 1").await;
    browser.type_into("#lot_description", "Kits élèves").await;
    browser
        .click("form[action$='/lots'] button[type=submit]")
        .await;
    browser.wait_text("#lots", "Kits élèves").await;
    // Before an analysis: said so, nothing to download, no decision yet.
    browser.wait("#no-analysis").await;
    assert_eq!(browser.count("a[href*='/telecharger/']").await, 0);
    browser.wait("#decision-needs-analysis").await;

    // The analysis tests' real documents, through the page's file inputs.
    send_file(
        &browser,
        "dao",
        &file(&files, "dao_kits.docx", &analysis::fixtures::dao_docx()),
    )
    .await;
    browser.wait_text("#dao-file", "dao_kits.docx").await;
    let offers = analysis::fixtures::offers();
    for offer in &offers {
        browser.clear("#supplier_name").await;
        browser
            .type_into("#supplier_name", offer.supplier_name)
            .await;
        browser.select("#offer_type", offer.offer_type).await;
        send_file(
            &browser,
            "offer",
            &file(&files, offer.filename, &offer.bytes),
        )
        .await;
        browser.wait_text("#suppliers", offer.filename).await;
    }
    assert_eq!(
        browser.count("#suppliers h4.supplier").await,
        3,
        "seven documents of three suppliers"
    );
    let alpha = browser.text("#suppliers > li:first-child").await;
    assert!(
        alpha.contains("alpha_technique.docx") && alpha.contains("alpha_admin.docx"),
        "{alpha}"
    );
    for (kind, name, bytes) in testkit::fixture_templates() {
        send_file(&browser, kind, &file(&files, name, &bytes)).await;
        // (The list, not the form's progress: it changes once the page is new.)
        browser.wait_text("#templates", name).await;
    }

    // The analysis, with its busy state while it runs (the click's submit
    // handler runs before `click()` returns).
    let busy = browser
        .eval(
            "var button = document.querySelector('form[data-analyse] button[type=submit]');
             button.click();
             var status = document.getElementById('analyse-status');
             return {disabled: button.disabled, said: status.innerText,
                     live: status.getAttribute('aria-live')};",
            vec![],
        )
        .await;
    assert_eq!(busy["disabled"], true, "{busy}");
    assert_eq!(busy["live"], "polite", "{busy}");
    assert!(
        busy["said"]
            .as_str()
            .unwrap_or_default()
            .starts_with(t("analysis.running")),
        "{busy}"
    );
    browser.wait_text("#flash", t("case.analysis_done")).await;
    browser
        .wait_text("#analysis-run", t("analysis.run_at"))
        .await;
    assert_whole(&browser, lang, "analysed case page").await;
    let criteria = browser.text("#criteria").await;
    assert!(
        criteria.contains("Capacité technique et expérience"),
        "{criteria}"
    );
    assert!(browser.count("#criteria tbody tr").await >= 3);
    assert_eq!(browser.count("#packages > li").await, 3);
    let (gamma, marked) = package_card(&browser, "GAMMA TRADING").await;
    let missing = |part: &str| format!("{} : {}", t(part), t("package.missing"));
    assert!(
        gamma.contains(&missing("package.part.technical")),
        "{gamma}"
    );
    assert!(gamma.contains(t("package.missing_fields")), "{gamma}");
    assert!(marked >= 2, "GAMMA's gaps are marked: {marked}");
    let (beta, _) = package_card(&browser, "BETA SERVICES").await;
    assert!(beta.contains(&missing("package.part.admin")), "{beta}");
    let (alpha, marked) = package_card(&browser, "ALPHA SARL").await;
    assert_eq!(marked, 0, "ALPHA is complete: {alpha}");

    // The CBA and the PV, downloaded with the session.
    for (kind, content_type) in [("output_cba", XLSX), ("output_pv", DOCX)] {
        let link = browser
            .eval(
                "var a = document.querySelector(\"#downloads a[href$='/telecharger/\" + arguments[0] + \"']\");
                 return a ? a.href : null;",
                vec![json!(kind)],
            )
            .await;
        let href = link.as_str().unwrap_or_else(|| panic!("no {kind} link"));
        check_download(&browser, href, content_type).await;
    }

    // The decision, on an analysed supplier only.
    let choices = browser
        .eval(
            "return Array.from(document.querySelectorAll('#chosen_supplier option')).map(function (o) { return o.value; });",
            vec![],
        )
        .await;
    assert_eq!(
        choices,
        json!(["ALPHA SARL", "BETA SERVICES", "GAMMA TRADING"])
    );
    browser.select("#chosen_supplier", "ALPHA SARL").await;
    browser
        .type_into("#decision_reason", "Offre complète, la moins disante")
        .await;
    browser
        .type_into("#next_action", "Notifier l'attribution")
        .await;
    browser
        .click("form[action$='/decision'] button[type=submit]")
        .await;
    browser.wait_text("#decision-current", "ALPHA SARL").await;
    let pv = browser
        .eval(
            "return document.getElementById('decision-pv').href;",
            vec![],
        )
        .await;
    check_download(&browser, pv.as_str().unwrap_or_default(), DOCX).await;
    browser
        .wait_text("#timeline", "Offre complète, la moins disante")
        .await;

    // The memory, searched.
    browser.type_into("#memory-q", "moins disante").await;
    browser.click("#memoire form button[type=submit]").await;
    // The search is a new page: wait for it, not for the old page's timeline.
    wait_url(&browser, "q=moins").await;
    browser.wait_text("#timeline", "ALPHA SARL").await;
    browser.type_into("#memory-q", " introuvable").await;
    browser.click("#memoire form button[type=submit]").await;
    browser.wait("#no-hit").await;
    browser.click("#memoire form a").await;
    browser.wait("#timeline").await;
    assert_whole(&browser, lang, "decided case page").await;

    // The page stays light (before documents) and renders without script.
    let size = browser
        .eval("return document.documentElement.outerHTML.length;", vec![])
        .await
        .as_u64()
        .unwrap_or(u64::MAX);
    assert!(size < 100 * 1024, "case page is {size} bytes");
    browser
        .full_screenshot(&format!("officer_case_page_{}", lang.tag()), 1100)
        .await;
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
    // An observer of the committee: the case is theirs to read.
    server
        .add_member(&officer, case["id"].as_str().unwrap(), &viewer, "observer")
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
    // Those zeros are counts, not swallowed errors: an invalid selector or
    // a page whose script throws is an error, never "no such element".
    let invalid = browser.try_count("main form[").await;
    assert!(invalid.is_err(), "an invalid selector counted {invalid:?}");
    let thrown = browser
        .try_eval("throw new Error('broken page');", vec![])
        .await;
    assert!(thrown.is_err(), "a throwing script answered {thrown:?}");
    assert_eq!(browser.try_count("#read-only").await, Ok(1));
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
    // The analysis, still without a DAO: refused in words in its status.
    browser
        .click("form[data-analyse] button[type=submit]")
        .await;
    let said = browser
        .wait_text("#analyse-status", "Téléversez d'abord le DAO")
        .await;
    assert!(said.starts_with("Refusé"), "{said}");
    let enabled = browser
        .eval(
            "return !document.querySelector('form[data-analyse] button').disabled;",
            vec![],
        )
        .await;
    assert_eq!(enabled, json!(true), "the button can be used again");
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
    server
        .upload_dao(
            &officer,
            &case_id,
            "dossier_appel_offres_vehicules_tout_terrain.docx",
        )
        .await;
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
    let res = server.analyze(&officer, &case_id).await;
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
        if name == "mobile_case_page" {
            browser.wait("#packages").await;
            // The criteria table fits too (its scroll box is a last resort).
            let fits = browser
                .eval(
                    "var t = document.getElementById('criteria');
                     return t.scrollWidth <= t.parentElement.clientWidth;",
                    vec![],
                )
                .await;
            assert_eq!(fits, json!(true), "the criteria table is cut at 390 px");
        }
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
    // The operator changed the seeded password first (the seeded one only
    // opens the password form).
    dms::auth::set_password(&server.state().db, "admin", "Admin-changed-2026")
        .await
        .expect("admin password");
    let browser = Browser::start(1100, 900).await;
    browser.goto(&server.url("/connexion")).await;
    browser.wait("#username").await;
    assert_eq!(
        browser.focused().await,
        "username",
        "the sign-in form has the focus"
    );
    browser
        .keys(&format!("admin{TAB}Admin-changed-2026{ENTER}"))
        .await;
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

/// A committee member declares impartiality in the page, then reads an
/// offer only after the opening: before it, the page lists the offer by
/// supplier and time of receipt and its file answers 403; after it, the
/// file is there. The committee section is saved as `docs/committee.png`'s
/// source (`target/web-screenshots/committee_section.png`).
#[tokio::test]
async fn a_member_declares_then_reads_an_offer_only_after_the_opening() {
    let Some((_one, server)) = begin().await else {
        return;
    };
    let owner = server.user(Role::ProcurementOfficer).await;
    let evaluator = server.user(Role::ProcurementOfficer).await;
    let observer = server.user(Role::Viewer).await;
    let token = Some(owner.token.as_str());
    let case = server
        .post_json(
            token,
            "/api/cases",
            json!({"case_type": "DAO", "title": "Forages Kayes", "closing_date": "2020-01-01T10:00:00Z"}),
        )
        .await;
    let case: serde_json::Value = case.json().await.expect("case");
    let id = case["id"].as_str().expect("id").to_owned();
    server.upload_dao(&owner, &id, "dao.docx").await;
    let offer: serde_json::Value = server
        .upload(
            token,
            &format!("/api/cases/{id}/upload-offer"),
            "offre_acme.pdf",
            pdf_bytes("OFFRE ACME Montant total : 1.500.000 FCFA"),
            &[("supplier_name", "ACME SARL"), ("offer_type", "technique")],
        )
        .await
        .json()
        .await
        .expect("offer");
    let offer_id = offer["artifact_id"].as_str().expect("artifact").to_owned();
    server
        .add_member(&owner, &id, &evaluator, "evaluator")
        .await;
    server.add_member(&owner, &id, &observer, "observer").await;

    let browser = Browser::start(1100, 900).await;
    sign_in(&browser, &server, &evaluator.username, "Password123!").await;
    let page = format!("/dossiers/{id}");
    browser.goto(&server.url(&page)).await;
    browser.wait("#comite").await;
    assert_eq!(
        browser.count("#sealed").await,
        1,
        "sealed until the opening"
    );
    assert!(
        !browser.text("#suppliers").await.contains("offre_acme.pdf"),
        "no file name before the opening"
    );
    let document = format!("{page}/documents/{offer_id}");
    assert_eq!(browser.fetch(&document).await["status"], 403);

    // The declaration, in one click.
    browser.wait("#declaration").await;
    browser
        .click("#declaration button[name=choice][value=signer]")
        .await;
    browser.wait_text("#flash", "Déclaration").await;
    assert_eq!(browser.count("#declaration").await, 0, "signed once");
    assert!(browser.text("#members").await.contains("signée le"));
    // Declared, but the offers are still sealed.
    assert_eq!(browser.fetch(&document).await["status"], 403);

    // The owner opens the offers (after the opening date), naming who was there.
    let res = server
        .post_json(
            token,
            &format!("/api/cases/{id}/open"),
            json!({"present": [owner.id, evaluator.id]}),
        )
        .await;
    assert_eq!(res.status(), reqwest::StatusCode::OK);
    browser.goto(&server.url(&page)).await;
    browser.wait("#opening").await;
    assert_eq!(browser.count("#sealed").await, 0);
    assert!(browser.text("#suppliers").await.contains("offre_acme.pdf"));
    let file = browser.fetch(&document).await;
    assert_eq!(file["status"], 200, "{file}");
    assert_eq!(file["head"], "%P", "the offer's PDF");
    browser.full_screenshot("committee_section", 1100).await;
}

/// Waits until the browser's address holds `needle` (a navigation done).
async fn wait_url(browser: &Browser, needle: &str) {
    for _ in 0..200 {
        if browser.url().await.contains(needle) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the address never held {needle}: {}", browser.url().await);
}
