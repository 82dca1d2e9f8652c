//! `/api/cases` over HTTP: creation with its procurement reference and
//! suggested procedure, validation, the list (pagination, filters, total),
//! the detail, lots, and reference numbering under concurrent creation.

use std::collections::BTreeSet;

use dms::auth::Role;
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, TransactionTrait};
use serde_json::{Value, json};
use testkit::{TestServer, expect_detail, expect_json, pdf_bytes};
use testkit_db::lock_waits::Lock;
use testkit_db::{Backend, TestDb};

testkit::server_tests!(
    create_answers_200_with_the_case_and_its_reference,
    create_validates_its_fields,
    list_is_paginated_filtered_and_counted,
    detail_has_lots_offers_reference_and_relative_paths,
    detail_checks_the_token_and_the_user_on_every_request,
    lots_are_created_and_unique_per_case,
    concurrent_creation_numbers_references_without_gap_or_duplicate,
);

async fn create_answers_200_with_the_case_and_its_reference(db: TestDb) {
    let server = TestServer::start(db).await;
    let officer = server.user(Role::ProcurementOfficer).await;
    let year = chrono::Utc::now().format("%Y").to_string();
    let body = json!({
        "case_type": " dao ", "title": "  Fournitures de bureau  ", "lot": "Lot 1",
        "estimated_value": 25000.5, "closing_date": "2030-01-31", "procedure_type": "devis_formel",
        "category_code": "FOURNITURES", "purchase_category_code": "GENERIC"
    });
    let case = expect_json(
        server
            .post_json(Some(&officer.token), "/api/cases", &body)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(case["case_type"], "DAO");
    assert_eq!(
        case["title"], "Fournitures de bureau",
        "D-41: the stored, trimmed title is answered"
    );
    assert_eq!(case["lot"], "Lot 1");
    assert_eq!(case["status"], "open");
    assert_eq!(case["owner_id"], officer.id);
    assert_eq!(case["estimated_value"], 25000.5);
    assert_eq!(case["closing_date"], "2030-01-31T23:59:59");
    assert_eq!(case["procedure_type"], "devis_formel");
    assert!(case["category_id"].is_string() && case["purchase_category_id"].is_string());
    assert_eq!(case["ref_number"], format!("DAO-{year}-0001"));
    assert_eq!(case["reference"]["sequence"], 1);
    assert_eq!(case["ref_id"], case["reference"]["id"]);
    assert_eq!(
        case["suggested_procedure"]["procedure_type"], "RFP",
        "25 000 USD is in the RFP range"
    );
    assert_eq!(case["suggested_procedure"]["min_suppliers"], 5);

    for (value, procedure) in [
        (0.0, "RFQ"),
        (10000.0, "RFQ"),
        (10000.5, "RFP"),
        (100000.0, "RFP"),
        (2_000_000.0, "DAO"),
    ] {
        let body = json!({"case_type": "RFQ", "title": "t", "estimated_value": value});
        let case = expect_json(
            server
                .post_json(Some(&officer.token), "/api/cases", &body)
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(
            case["suggested_procedure"]["procedure_type"], procedure,
            "{value}"
        );
    }
    let body = json!({"case_type": "RFP", "title": "no value"});
    let case = expect_json(
        server
            .post_json(Some(&officer.token), "/api/cases", &body)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(case["suggested_procedure"], Value::Null);
    assert_eq!(
        case["ref_number"],
        format!("RFP-{year}-0001"),
        "numbered per type"
    );
    // An RFQ was created five times above.
    let body = json!({"case_type": "RFQ", "title": "sixth"});
    let case = expect_json(
        server
            .post_json(Some(&officer.token), "/api/cases", &body)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(case["ref_number"], format!("RFQ-{year}-0006"));

    // Without a token: 401 (D-12); a viewer cannot create.
    let body = json!({"case_type": "DAO", "title": "x"});
    assert_eq!(
        server.post_json(None, "/api/cases", &body).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let viewer = server.user(Role::Viewer).await;
    expect_detail(
        server
            .post_json(Some(&viewer.token), "/api/cases", &body)
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
}

async fn create_validates_its_fields(db: TestDb) {
    let server = TestServer::start(db).await;
    let officer = server.user(Role::ProcurementOfficer).await;
    let detail = expect_detail(
        server
            .post_json(
                Some(&officer.token),
                "/api/cases",
                &json!({"case_type": "XYZ", "title": "t"}),
            )
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(detail, "case_type must be DAO, RFQ or RFP");
    for body in [
        json!({"title": "missing type"}),
        json!({"case_type": "DAO"}),
        json!({"case_type": "DAO", "title": "   "}),
        json!({"case_type": "DAO", "title": "t", "estimated_value": -1}),
        json!({"case_type": "DAO", "title": "t", "estimated_value": "abc"}),
        json!({"case_type": "DAO", "title": "t", "closing_date": "tomorrow"}),
        json!({"case_type": "DAO", "title": "t", "procedure_type": "gre_a_gre"}),
        json!({"case_type": "DAO", "title": "t", "category_code": "NOPE"}),
        json!({"case_type": "DAO", "title": "t", "purchase_category_code": "NOPE"}),
        json!({"case_type": 7, "title": "t"}),
    ] {
        let res = server
            .post_json(Some(&officer.token), "/api/cases", &body)
            .await;
        let out = expect_json(res, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert!(out["detail"].is_array(), "{body}: {out}");
    }
    // A body over the cap is refused without a server error.
    let huge = json!({"case_type": "DAO", "title": "x".repeat(2 * 1024 * 1024)});
    let res = server
        .post_json(Some(&officer.token), "/api/cases", &huge)
        .await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // Nothing was created by the refused requests.
    let list = server.get(Some(&officer.token), "/api/cases").await;
    assert_eq!(list.headers()["x-total-count"], "0");
}

async fn list_is_paginated_filtered_and_counted(db: TestDb) {
    let server = TestServer::start(db).await;
    let officer = server.user(Role::ProcurementOfficer).await;
    let other = server.user(Role::ProcurementOfficer).await;
    let viewer = server.user(Role::Viewer).await;
    let mut ids = Vec::new();
    for i in 0..7 {
        let case_type = if i % 2 == 0 { "DAO" } else { "RFQ" };
        let owner = if i < 5 { &officer } else { &other };
        ids.push(
            server
                .create_case(owner, case_type, &format!("case {i}"))
                .await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let newest_first: Vec<String> = ids.iter().rev().cloned().collect();
    // A viewer on no committee lists nothing; an administrator, everything.
    let res = server.get(Some(&viewer.token), "/api/cases").await;
    assert_eq!(res.headers()["x-total-count"], "0");
    assert_eq!(expect_json(res, StatusCode::OK).await, json!([]));
    let admin = server.admin().await;

    let res = server.get(Some(&admin.token), "/api/cases").await;
    assert_eq!(res.headers()["x-total-count"], "7");
    let all = expect_json(res, StatusCode::OK).await;
    let got: Vec<String> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(got, newest_first, "newest first");

    let mut paged = Vec::new();
    for offset in [0, 3, 6] {
        let res = server
            .get(
                Some(&admin.token),
                &format!("/api/cases?limit=3&offset={offset}"),
            )
            .await;
        assert_eq!(res.headers()["x-total-count"], "7");
        let page = expect_json(res, StatusCode::OK).await;
        paged.extend(
            page.as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].as_str().unwrap().to_owned()),
        );
    }
    assert_eq!(paged, newest_first, "pages neither overlap nor skip");

    let res = server
        .get(Some(&admin.token), "/api/cases?case_type=rfq")
        .await;
    assert_eq!(res.headers()["x-total-count"], "3");
    let res = server
        .get(Some(&officer.token), "/api/cases?mine=true")
        .await;
    assert_eq!(res.headers()["x-total-count"], "5");
    let mine = expect_json(res, StatusCode::OK).await;
    assert!(
        mine.as_array()
            .unwrap()
            .iter()
            .all(|c| c["owner_id"] == officer.id)
    );
    let res = server
        .get(Some(&officer.token), "/api/cases?status=closed")
        .await;
    assert_eq!(res.headers()["x-total-count"], "0");

    for bad in [
        "limit=0",
        "limit=501",
        "limit=abc",
        "offset=-1",
        "mine=maybe",
    ] {
        let res = server
            .get(Some(&viewer.token), &format!("/api/cases?{bad}"))
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    assert_eq!(
        server.get(None, "/api/cases").await.status(),
        StatusCode::UNAUTHORIZED,
        "D-12"
    );
}

async fn detail_has_lots_offers_reference_and_relative_paths(db: TestDb) {
    let server = TestServer::start(db).await;
    let officer = server.user(Role::ProcurementOfficer).await;
    let case = server.create_case(&officer, "DAO", "Detail").await;
    let id = case["id"].as_str().unwrap();
    let lot = expect_json(
        server
            .post_json(
                Some(&officer.token),
                &format!("/api/cases/{id}/lots"),
                &json!({"lot_number": "1"}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let dao = server
        .upload(
            Some(&officer.token),
            &format!("/api/cases/{id}/upload-dao"),
            "dao.pdf",
            pdf_bytes("DAO"),
            &[],
        )
        .await;
    expect_json(dao, StatusCode::OK).await;
    let offer = server
        .upload(
            Some(&officer.token),
            &format!("/api/cases/{id}/upload-offer"),
            "offre.pdf",
            pdf_bytes("Offre"),
            &[
                ("supplier_name", "ACME SARL"),
                ("offer_type", "technique"),
                ("lot_id", lot["id"].as_str().unwrap()),
            ],
        )
        .await;
    expect_json(offer, StatusCode::OK).await;

    // A viewer on no committee finds nothing; an administrator reads it all.
    let viewer = server.user(Role::Viewer).await;
    assert_eq!(
        expect_detail(
            server
                .get(Some(&viewer.token), &format!("/api/cases/{id}"))
                .await,
            StatusCode::NOT_FOUND
        )
        .await,
        "Case not found"
    );
    let admin = server.admin().await;
    let detail = expect_json(
        server
            .get(Some(&admin.token), &format!("/api/cases/{id}"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(detail["case"]["id"], id);
    assert_eq!(detail["case"]["owner_id"], officer.id);
    assert_eq!(detail["reference"]["ref_number"], case["ref_number"]);
    assert_eq!(detail["lots"][0]["lot_number"], "1");
    assert_eq!(detail["offers"][0]["supplier_name"], "ACME SARL");
    assert_eq!(detail["offers"][0]["documents"][0]["filename"], "offre.pdf");
    let artifacts = detail["artifacts"].as_array().unwrap();
    assert_eq!(artifacts.len(), 2);
    assert_eq!(artifacts[0]["kind"], "offer", "newest first");
    for a in artifacts {
        let path = a["path"].as_str().unwrap();
        assert!(
            path.starts_with(&format!("uploads/{id}/")),
            "relative path: {path}"
        );
        assert!(!path.contains(server.data_dir.path().to_str().unwrap()));
    }
    let doc_path = detail["offers"][0]["documents"][0]["path"]
        .as_str()
        .unwrap();
    assert!(doc_path.starts_with("uploads/"), "{doc_path}");
    assert_eq!(detail["memory"], json!([]));
    assert_eq!(detail["dao_criteria"], json!([]));

    let missing = server
        .get(Some(&viewer.token), "/api/cases/no-such-case")
        .await;
    assert_eq!(
        expect_detail(missing, StatusCode::NOT_FOUND).await,
        "Case not found"
    );
    assert_eq!(
        server.get(None, &format!("/api/cases/{id}")).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

async fn lots_are_created_and_unique_per_case(db: TestDb) {
    let server = TestServer::start(db).await;
    let officer = server.user(Role::ProcurementOfficer).await;
    let case = server.create_case(&officer, "DAO", "Lots").await;
    let path = format!("/api/cases/{}/lots", case["id"].as_str().unwrap());
    let body = json!({"lot_number": "A", "description": "Papeterie", "estimated_value": 1200.5, "category_code": "FOURNITURES"});
    let lot = expect_json(
        server.post_json(Some(&officer.token), &path, &body).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(lot["lot_number"], "A");
    assert_eq!(lot["description"], "Papeterie");
    assert!(lot["category_id"].is_string());
    // Concurrent creations of one number: one wins.
    let attempts =
        (0..6).map(|_| server.post_json(Some(&officer.token), &path, json!({"lot_number": "B"})));
    let statuses: Vec<StatusCode> = futures_util::future::join_all(attempts)
        .await
        .iter()
        .map(|r| r.status())
        .collect();
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::CREATED)
            .count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::CONFLICT)
            .count(),
        5,
        "{statuses:?}"
    );
    assert_eq!(
        server
            .post_json(Some(&officer.token), &path, &json!({"lot_number": ""}))
            .await
            .status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // Another officer does not see the case; a member cannot change it.
    let other = server.user(Role::ProcurementOfficer).await;
    let res = server
        .post_json(Some(&other.token), &path, &json!({"lot_number": "C"}))
        .await;
    assert_eq!(
        expect_detail(res, StatusCode::NOT_FOUND).await,
        "Case not found"
    );
    let case_id = path
        .trim_start_matches("/api/cases/")
        .trim_end_matches("/lots");
    let res = server
        .post_json(
            Some(&officer.token),
            &format!("/api/cases/{case_id}/members"),
            &json!({"user_id": other.id, "role": "evaluator"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = server
        .post_json(Some(&other.token), &path, &json!({"lot_number": "C"}))
        .await;
    assert_eq!(
        expect_detail(res, StatusCode::FORBIDDEN).await,
        "Only the case's owner or an administrator can change this case"
    );
    let res = server
        .post_json(
            Some(&officer.token),
            "/api/cases/nope/lots",
            &json!({"lot_number": "C"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

async fn concurrent_creation_numbers_references_without_gap_or_duplicate(db: TestDb) {
    const CREATIONS: usize = 30;
    let backend = db.backend;
    // While the test holds the numbering lock, the requests beyond the
    // pool's size queue for a connection: give them time for it.
    let server = TestServer::start_with(db, |c| {
        c.db_acquire_timeout = std::time::Duration::from_secs(120)
    })
    .await;
    let officers = [
        server.user(Role::ProcurementOfficer).await,
        server.user(Role::ProcurementOfficer).await,
        server.admin().await,
    ];
    // PostgreSQL: the test holds the advisory lock creations take their
    // numbers under (src/cases/create.rs), so that every request is in
    // flight at once, and shows they all queued behind it; without that
    // lock they would not wait, and the test fails. SQLite runs one writer
    // at a time; MariaDB has no such lock (a lost race is a unique
    // violation, retried): there the outcome alone is checked.
    let (holder, watcher) = (server.db.connect().await, server.db.connect().await);
    let held = match backend {
        Backend::Postgres => Some((
            "SELECT pg_advisory_xact_lock(hashtext('dms_reference:DAO:' \
             || EXTRACT(YEAR FROM now() AT TIME ZONE 'UTC')::int))",
            Lock::Advisory,
        )),
        Backend::MySql | Backend::Sqlite => None,
    };
    let held = match held {
        Some((sql, lock)) => {
            let tx = holder.begin().await.unwrap();
            tx.execute_unprepared(sql).await.unwrap();
            Some((tx, lock))
        }
        None => None,
    };
    let creations: Vec<_> = (0..CREATIONS)
        .map(|i| {
            let (http, url) = (server.http.clone(), server.url("/api/cases"));
            let token = officers[i % 3].token.clone();
            tokio::spawn(async move {
                http.post(url)
                    .bearer_auth(token)
                    .json(&json!({"case_type": "DAO", "title": format!("c{i}")}))
                    .send()
                    .await
                    .expect("request")
            })
        })
        .collect();
    if let Some((tx, lock)) = held {
        // Every connection of the server's pool waits on the lock (the
        // other requests wait for a connection), and no request answered.
        let in_tx = testkit_db::lock_waits::pool_size(&server.state().db).min(CREATIONS as i64);
        testkit_db::lock_waits::until_waiting(
            &watcher,
            lock,
            in_tx,
            || creations.iter().filter(|c| !c.is_finished()).count(),
            CREATIONS,
        )
        .await;
        tx.commit().await.unwrap();
    }
    let creations = creations
        .into_iter()
        .map(|c| async { c.await.expect("task") });
    let responses = futures_util::future::join_all(creations).await;
    let mut numbers = BTreeSet::new();
    for res in responses {
        let case = expect_json(res, StatusCode::OK).await;
        assert!(
            numbers.insert(case["reference"]["sequence"].as_i64().unwrap()),
            "duplicate: {case}"
        );
    }
    assert_eq!(
        numbers,
        (1..=CREATIONS as i64).collect::<BTreeSet<i64>>(),
        "gapless 1..=30"
    );
    let list = server
        .get(Some(&officers[2].token), "/api/cases?limit=500")
        .await;
    assert_eq!(
        list.headers()["x-total-count"],
        "30",
        "every creation is one case"
    );
}

/// The detail reads the caller's user on the connection of its case file
/// (src/http/cases.rs): still no token 401, a bad token 401, a user
/// deactivated after its token was issued 400, an unknown case 404, and
/// the user is read again on every request.
async fn detail_checks_the_token_and_the_user_on_every_request(db: TestDb) {
    let server = TestServer::start(db).await;
    let officer = server.user(Role::ProcurementOfficer).await;
    let case = server.create_case(&officer, "DAO", "Auth").await;
    let path = format!("/api/cases/{}", case["id"].as_str().unwrap());

    let detail = expect_detail(server.get(None, &path).await, StatusCode::UNAUTHORIZED).await;
    assert_eq!(detail, "Not authenticated");
    let detail = expect_detail(
        server.get(Some("not-a-token"), &path).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(detail, "Could not validate credentials");
    expect_detail(
        server
            .get(Some(&officer.token), "/api/cases/no-such-case")
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let file = expect_json(
        server.get(Some(&officer.token), &path).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(file["case"]["id"], case["id"]);

    server.deactivate(&officer).await;
    let detail = expect_detail(
        server.get(Some(&officer.token), &path).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(detail, "Inactive user");
}
