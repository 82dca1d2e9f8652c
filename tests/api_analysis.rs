//! The analysis pipeline over HTTP with real documents (the analysis
//! crate's fixtures): uploads, analysis, rerun, downloads, decision, on
//! every backend.

use std::collections::BTreeMap;
use std::path::Path;

use analysis::fixtures;
use dms::auth::Role;
use entity::{
    analyses, artifacts, audits, cases, cba_template_schemas, dao_criteria, documents,
    memory_entries, offer_extractions, offers,
};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use testkit::{TestServer, expect_detail, expect_json};
use testkit_db::{Backend, TestDb};

testkit::server_tests!(
    case_goes_from_uploads_to_analysis_decision_and_download,
    a_bad_document_is_listed_and_the_run_completes,
    decisions_are_checked_against_the_analysis,
    decisions_are_rate_limited_per_user,
);

async fn case_goes_from_uploads_to_analysis_decision_and_download(db: TestDb) {
    let server = TestServer::start(db).await;
    let officer = server.user(Role::ProcurementOfficer).await;
    let id = server.fixture_case(&officer).await;

    let run = expect_json(server.analyze(&officer, &id).await, StatusCode::OK).await;
    assert_eq!(run["ok"], true);
    assert_eq!(run["raw_documents_count"], 7);
    assert_eq!(
        run["offers_count"], 3,
        "three suppliers, grouped from seven documents"
    );
    assert_eq!(run["output_cba_generated"], true);
    assert_eq!(
        run["downloads"]["pv"],
        format!("/api/download/{id}/output_pv")
    );
    let criteria_count = run["dao_criteria_count"].as_u64().unwrap();
    assert!(criteria_count >= 3, "{run}");
    let missing: Vec<&str> = run["warnings"]["suppliers_with_missing_data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        missing.iter().any(|s| s.contains("GAMMA")),
        "GAMMA has no price: {missing:?}"
    );
    let suppliers: Vec<&str> = run["analysis"]["suppliers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["supplier_name"].as_str().unwrap())
        .collect();
    assert!(
        suppliers
            .iter()
            .all(|s| !s.starts_with("[PAGE") && !s.starts_with("OFFER ")),
        "D-26/D-27: {suppliers:?}"
    );

    // The run is recorded: criteria, extractions, memory, analyses, audit.
    let db = &server.state().db;
    let count_criteria = || {
        dao_criteria::Entity::find()
            .filter(dao_criteria::Column::CaseId.eq(id.as_str()))
            .count(db)
    };
    assert_eq!(count_criteria().await.unwrap(), criteria_count);
    let extractions = || {
        offer_extractions::Entity::find()
            .filter(offer_extractions::Column::CaseId.eq(id.as_str()))
            .count(db)
    };
    assert_eq!(extractions().await.unwrap(), 7);
    assert_eq!(
        analyses::Entity::find()
            .filter(analyses::Column::CaseId.eq(id.as_str()))
            .count(db)
            .await
            .unwrap(),
        1
    );
    let audit = audits::Entity::find()
        .filter(audits::Column::Action.eq("analysis_run"))
        .count(db)
        .await
        .unwrap();
    assert_eq!(audit, 1);

    // A rerun replaces the first (D-23): same counts, one CBA, one PV.
    let rerun = expect_json(server.analyze(&officer, &id).await, StatusCode::OK).await;
    assert_eq!(rerun["dao_criteria_count"], run["dao_criteria_count"]);
    assert_eq!(count_criteria().await.unwrap(), criteria_count);
    assert_eq!(extractions().await.unwrap(), 7);
    let outputs = |kind: &'static str| {
        artifacts::Entity::find()
            .filter(artifacts::Column::CaseId.eq(id.as_str()))
            .filter(artifacts::Column::Kind.eq(kind))
            .all(db)
    };
    assert_eq!(outputs("output_cba").await.unwrap().len(), 1);
    assert_eq!(outputs("output_pv").await.unwrap().len(), 1);
    let extraction_entries = memory_entries::Entity::find()
        .filter(memory_entries::Column::CaseId.eq(id.as_str()))
        .filter(memory_entries::Column::EntryType.eq("extraction"))
        .count(db)
        .await
        .unwrap();
    assert_eq!(extraction_entries, 2, "each run is remembered");

    // Downloads: a viewer of the committee (an observer) may read; types,
    // disposition, ETag.
    let viewer = server.user(Role::Viewer).await;
    server.add_member(&officer, &id, &viewer, "observer").await;
    let res = server
        .get(
            Some(&viewer.token),
            &format!("/api/download/{id}/output_cba"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let disposition = res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        disposition.starts_with("attachment; filename=\"CBA_")
            && disposition.contains("filename*=UTF-8''"),
        "{disposition}"
    );
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    let workbook = res.bytes().await.unwrap().to_vec();
    let archive = zip::ZipArchive::new(std::io::Cursor::new(workbook)).expect("a workbook");
    assert!(
        archive
            .file_names()
            .any(|n| n.is_ok_and(|n| n == "xl/workbook.xml"))
    );
    let again = server
        .http
        .get(server.url(&format!("/api/download/{id}/output_cba")))
        .bearer_auth(&viewer.token)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(
        server
            .get(None, &format!("/api/download/{id}/output_cba"))
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let detail = expect_detail(
        server
            .get(Some(&viewer.token), &format!("/api/download/{id}/report"))
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(detail, "kind must be output_cba or output_pv");
    // An uploaded source can be downloaded by a reader too.
    let dao = outputs("dao").await.unwrap().remove(0);
    let res = server
        .get(
            Some(&viewer.token),
            &format!("/api/cases/{id}/artifacts/{}", dao.id),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.bytes().await.unwrap().to_vec(), fixtures::dao_docx());
    assert_eq!(
        server
            .get(
                Some(&viewer.token),
                &format!("/api/cases/{id}/artifacts/nope")
            )
            .await
            .status(),
        StatusCode::NOT_FOUND
    );

    // The viewer cannot analyse or decide.
    assert_eq!(
        server.analyze(&viewer, &id).await.status(),
        StatusCode::FORBIDDEN
    );

    // The decision: recorded, in a new PV, the earlier PV kept.
    let decision = json!({"case_id": id, "chosen_supplier": "alpha sarl", "decision_reason": "Offre complète et conforme", "next_action": "Notifier ALPHA"});
    let decided = expect_json(
        server
            .post_json(Some(&officer.token), "/api/decide", &decision)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(decided["ok"], true);
    assert_eq!(
        decided["decision"]["chosen_supplier"], "ALPHA SARL",
        "the name as the analysis wrote it"
    );
    assert_eq!(
        decided["pv_with_decision"],
        format!("/api/download/{id}/output_pv")
    );
    assert_eq!(
        outputs("output_pv").await.unwrap().len(),
        2,
        "every PV is kept"
    );
    let pv = server
        .get(
            Some(&viewer.token),
            &format!("/api/download/{id}/output_pv"),
        )
        .await
        .bytes()
        .await
        .unwrap()
        .to_vec();
    let paragraphs = analysis::docx_paragraphs("pv.docx", &pv).unwrap();
    assert!(
        paragraphs.iter().any(|p| p.contains("ALPHA SARL")),
        "{paragraphs:?}"
    );
    assert!(
        paragraphs
            .iter()
            .any(|p| p.contains("Offre complète et conforme")),
        "{paragraphs:?}"
    );
    let search = expect_json(
        server
            .get(
                Some(&viewer.token),
                &format!("/api/search_memory/{id}?q=notifier"),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(search["hits"].as_array().unwrap().len(), 1);
    assert_eq!(search["hits"][0]["entry_type"], "decision");
    // A new analysis replaces the analysis outputs but keeps the decided PV.
    expect_json(server.analyze(&officer, &id).await, StatusCode::OK).await;
    let pvs = outputs("output_pv").await.unwrap();
    assert_eq!(pvs.len(), 2);
    assert!(pvs.iter().any(|a| {
        a.meta_json
            .as_deref()
            .unwrap_or("")
            .contains("\"decision_included\":true")
    }));
}

/// Everything a run could change: every row of every table an analysis
/// writes or deletes (as JSON, sorted), every file of the data directory
/// with its bytes, and the bytes of both outputs as downloaded.
struct Snapshot {
    tables: BTreeMap<&'static str, Vec<String>>,
    files: BTreeMap<String, Vec<u8>>,
    downloads: BTreeMap<&'static str, (StatusCode, Vec<u8>)>,
}

/// Fails naming what `after` changed from `before` (row by row, file by
/// file: the bytes themselves are not printed).
fn assert_unchanged(before: &Snapshot, after: &Snapshot, what: &str) {
    for (table, rows) in &before.tables {
        assert_eq!(&after.tables[table], rows, "{what}: table {table} changed");
    }
    let names = |s: &Snapshot| s.files.keys().cloned().collect::<Vec<_>>();
    assert_eq!(
        names(after),
        names(before),
        "{what}: files added or removed"
    );
    for (name, bytes) in &before.files {
        assert!(after.files[name] == *bytes, "{what}: {name} changed");
    }
    for (kind, (status, bytes)) in &before.downloads {
        let (now_status, now_bytes) = &after.downloads[kind];
        assert_eq!(now_status, status, "{what}: {kind} download");
        assert!(
            now_bytes == bytes,
            "{what}: {kind} is not byte for byte the same"
        );
    }
}

async fn rows<E: EntityTrait>(db: &DatabaseConnection) -> Vec<String> {
    let mut rows: Vec<String> = E::find()
        .into_json()
        .all(db)
        .await
        .unwrap()
        .iter()
        .map(Value::to_string)
        .collect();
    rows.sort();
    rows
}

fn files_under(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_under(root, &path, out);
        } else {
            let name = path.strip_prefix(root).unwrap().display().to_string();
            out.insert(name, std::fs::read(&path).unwrap());
        }
    }
}

async fn snapshot(server: &TestServer, token: &str, case_id: &str) -> Snapshot {
    let db = &server.state().db;
    let tables = BTreeMap::from([
        ("analyses", rows::<analyses::Entity>(db).await),
        ("artifacts", rows::<artifacts::Entity>(db).await),
        ("audits", rows::<audits::Entity>(db).await),
        ("cases", rows::<cases::Entity>(db).await),
        (
            "cba_template_schemas",
            rows::<cba_template_schemas::Entity>(db).await,
        ),
        ("dao_criteria", rows::<dao_criteria::Entity>(db).await),
        ("documents", rows::<documents::Entity>(db).await),
        ("memory_entries", rows::<memory_entries::Entity>(db).await),
        (
            "offer_extractions",
            rows::<offer_extractions::Entity>(db).await,
        ),
        ("offers", rows::<offers::Entity>(db).await),
    ]);
    let mut files = BTreeMap::new();
    files_under(server.data_dir.path(), server.data_dir.path(), &mut files);
    let mut downloads = BTreeMap::new();
    for kind in ["output_cba", "output_pv"] {
        let res = server
            .get(Some(token), &format!("/api/download/{case_id}/{kind}"))
            .await;
        let status = res.status();
        downloads.insert(kind, (status, res.bytes().await.unwrap().to_vec()));
    }
    Snapshot {
        tables,
        files,
        downloads,
    }
}

/// Makes the next analysis fail inside its transaction, after it deleted
/// the previous run: the audit row the run writes last is refused by a
/// trigger. On PostgreSQL the trigger is deferred to the commit, so the
/// failure comes after the new outputs were written to disk too.
async fn fail_analyses_after_their_deletes(backend: Backend, db: &DatabaseConnection) {
    let statements: &[&str] = match backend {
        Backend::Sqlite => &["CREATE TRIGGER fail_analysis BEFORE INSERT ON audits \
              WHEN NEW.action = 'analysis_run' \
              BEGIN SELECT RAISE(ABORT, 'injected failure'); END"],
        Backend::Postgres => &[
            "CREATE FUNCTION fail_analysis() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$",
            "CREATE CONSTRAINT TRIGGER fail_analysis AFTER INSERT ON audits \
             DEFERRABLE INITIALLY DEFERRED FOR EACH ROW \
             WHEN (NEW.action = 'analysis_run') EXECUTE FUNCTION fail_analysis()",
        ],
        Backend::MySql => &[
            "CREATE TRIGGER fail_analysis BEFORE INSERT ON audits FOR EACH ROW \
              BEGIN IF NEW.action = 'analysis_run' THEN \
              SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'injected failure'; END IF; END",
        ],
    };
    for sql in statements {
        testkit_db::exec(db, sql).await;
    }
}

async fn a_bad_document_is_listed_and_the_run_completes(db: TestDb) {
    let backend = db.backend;
    let server = TestServer::start(db).await;
    let officer = server.user(Role::ProcurementOfficer).await;
    let id = server.fixture_case(&officer).await;
    let run = expect_json(server.analyze(&officer, &id).await, StatusCode::OK).await;
    let db = &server.state().db;

    // A run that fails after deleting the previous one's rows (a trigger
    // refuses its audit row) leaves everything as it was: every row, every
    // file, the outputs byte for byte; no memory entry, audit row or file
    // of its own.
    let previous = snapshot(&server, &officer.token, &id).await;
    assert_eq!(previous.downloads["output_cba"].0, StatusCode::OK);
    assert_eq!(previous.downloads["output_pv"].0, StatusCode::OK);
    let injected = server.db.connect().await;
    fail_analyses_after_their_deletes(backend, &injected).await;
    let res = server.analyze(&officer, &id).await;
    assert_eq!(
        res.status(),
        StatusCode::INTERNAL_SERVER_ERROR,
        "the injected failure: {}",
        res.text().await.unwrap_or_default()
    );
    assert_unchanged(
        &previous,
        &snapshot(&server, &officer.token, &id).await,
        "a run failed after its deletes",
    );
    let drop_trigger = match backend {
        Backend::Postgres => "DROP TRIGGER fail_analysis ON audits",
        _ => "DROP TRIGGER fail_analysis",
    };
    testkit_db::exec(&injected, drop_trigger).await;
    let before = offer_extractions::Entity::find()
        .filter(offer_extractions::Column::CaseId.eq(id.as_str()))
        .count(db)
        .await
        .unwrap();

    // A PDF whose body is garbage passes the magic-byte check but cannot be
    // read: the run completes with the other documents and lists it for
    // manual reading, with its reason (issue 15: one bad file no longer
    // blocks the case).
    let res = server
        .upload(
            Some(&officer.token),
            &format!("/api/cases/{id}/upload-offer"),
            "delta_offre.pdf",
            testkit::broken_pdf(),
            &[("supplier_name", "DELTA"), ("offer_type", "technique")],
        )
        .await;
    expect_json(res, StatusCode::OK).await;
    let again = expect_json(server.analyze(&officer, &id).await, StatusCode::OK).await;
    let listed = again["warnings"]["manual_review_documents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["filename"] == "delta_offre.pdf")
        .cloned()
        .unwrap_or_else(|| panic!("the file is listed: {}", again["warnings"]));
    assert_eq!(listed["cause"], "unreadable");
    assert!(
        listed["reason"].as_str().unwrap().contains("illisible"),
        "{listed}"
    );
    assert_eq!(again["dao_criteria_count"], run["dao_criteria_count"]);
    assert_eq!(
        again["raw_documents_count"].as_u64(),
        run["raw_documents_count"].as_u64().map(|n| n + 1)
    );

    // The new run replaced the previous one: one row more, for DELTA's
    // document, flagged.
    let after = offer_extractions::Entity::find()
        .filter(offer_extractions::Column::CaseId.eq(id.as_str()))
        .all(db)
        .await
        .unwrap();
    assert_eq!(after.len() as u64, before + 1);
    let delta = after
        .iter()
        .find(|e| e.supplier_name == "DELTA")
        .expect("DELTA's row");
    assert!(
        delta
            .extracted_data_json
            .contains("\"needs_manual_review\":true")
    );
    let criteria = dao_criteria::Entity::find()
        .filter(dao_criteria::Column::CaseId.eq(id.as_str()))
        .count(db)
        .await
        .unwrap();
    assert_eq!(Some(criteria), run["dao_criteria_count"].as_u64());
    assert_eq!(analyses::Entity::find().count(db).await.unwrap(), 2);
    let res = server
        .get(
            Some(&officer.token),
            &format!("/api/download/{id}/output_cba"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK, "the new outputs are served");

    // Missing pieces are the client's 400.
    let empty = server.create_case(&officer, "RFQ", "Vide").await;
    let detail = expect_detail(
        server
            .analyze(&officer, empty["id"].as_str().unwrap())
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(detail, "Missing DAO (upload kind=dao)");
    assert_eq!(
        expect_detail(
            server.analyze(&officer, "nope").await,
            StatusCode::NOT_FOUND
        )
        .await,
        "Case not found"
    );
    let res = server
        .post_json(Some(&officer.token), "/api/analyze", json!({}))
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let download = server
        .get(
            Some(&officer.token),
            &format!("/api/download/{}/output_pv", empty["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(download.status(), StatusCode::NOT_FOUND);
}

async fn decisions_are_checked_against_the_analysis(db: TestDb) {
    let server = TestServer::start(db).await;
    let officer = server.user(Role::ProcurementOfficer).await;
    let id = server.fixture_case(&officer).await;
    let decide = |supplier: &str, reason: &str| {
        server.post_json(
            Some(&officer.token),
            "/api/decide",
            json!({"case_id": id, "chosen_supplier": supplier, "decision_reason": reason, "next_action": "Notifier"}),
        )
    };
    // D-34: no decision before an analysis.
    let detail = expect_detail(decide("ALPHA SARL", "ok").await, StatusCode::CONFLICT).await;
    assert!(detail.contains("analysis"), "{detail}");
    expect_json(server.analyze(&officer, &id).await, StatusCode::OK).await;
    let detail = expect_detail(decide("OMEGA CORP", "ok").await, StatusCode::BAD_REQUEST).await;
    assert!(detail.contains("not among the offers analysed"), "{detail}");
    let out: Value = expect_json(
        decide("ALPHA SARL", "   ").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(out["detail"].is_array());
    let res = server
        .post_json(Some(&officer.token), "/api/decide", json!({"case_id": id}))
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let other = server.user(Role::ProcurementOfficer).await;
    let res = server
        .post_json(Some(&other.token), "/api/decide", json!({"case_id": id, "chosen_supplier": "ALPHA SARL", "decision_reason": "r", "next_action": "n"}))
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND, "not of the committee");
    let db = &server.state().db;
    let decisions = memory_entries::Entity::find()
        .filter(memory_entries::Column::EntryType.eq("decision"))
        .count(db)
        .await
        .unwrap();
    assert_eq!(decisions, 0, "no refused decision was recorded");
    expect_json(
        decide("GAMMA TRADING", "Seule offre dans le budget").await,
        StatusCode::OK,
    )
    .await;
}

async fn decisions_are_rate_limited_per_user(db: TestDb) {
    let server = TestServer::start_with(db, |c| c.limits.decide_per_user = 2).await;
    let officer = server.user(Role::ProcurementOfficer).await;
    let id = server.analysed_case(&officer, &["ALPHA SARL"]).await;
    let body = json!({"case_id": id, "chosen_supplier": "ALPHA SARL", "decision_reason": "Seule offre", "next_action": "Notifier"});
    let decide = |token: String| {
        let body = body.clone();
        let server = &server;
        async move { server.post_json(Some(&token), "/api/decide", body).await }
    };
    for _ in 0..2 {
        expect_json(decide(officer.token.clone()).await, StatusCode::OK).await;
    }
    let res = decide(officer.token.clone()).await;
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    let detail = expect_detail(res, StatusCode::TOO_MANY_REQUESTS).await;
    assert!(detail.contains("decisions"), "{detail}");
    // The page's form shares the budget: refused too, in words.
    let mut web = testkit::web::WebClient::new(&server.base);
    web.sign_in(&officer.username, "Password123!").await;
    web.get(&format!("/dossiers/{id}")).await;
    let csrf = web.csrf();
    let page = web
        .post(
            &format!("/dossiers/{id}/decision"),
            &[
                ("chosen_supplier", "ALPHA SARL"),
                ("decision_reason", "Seule offre"),
                ("next_action", "Notifier"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS, "{}", page.body);
    assert!(page.body.contains("patientez"), "{}", page.body);
    // Two decisions were recorded, no more; another user has their own budget.
    let decisions = memory_entries::Entity::find()
        .filter(memory_entries::Column::EntryType.eq("decision"))
        .count(&server.state().db)
        .await
        .unwrap();
    assert_eq!(decisions, 2);
    let admin = server.admin().await;
    expect_json(decide(admin.token.clone()).await, StatusCode::OK).await;
}
