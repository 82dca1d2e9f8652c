//! The decision memory over HTTP: `POST /api/decide` (the entry, its audit
//! row, production's answer, validation and who may decide), `GET
//! /api/memory/{id}` (newest first, paginated, 404 for an unknown case) and
//! `GET /api/search_memory/{id}?q=` (values, never JSON keys).

use dms::auth::Role;
use entity::{audits, memory_entries};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use testkit::{TestServer, TestUser, expect_detail, expect_json};
use testkit_db::TestDb;

testkit::server_tests!(
    decide_records_an_entry_and_an_audit_row,
    decide_validates_and_checks_who_decides,
    memory_lists_newest_first_and_paginates,
    search_matches_values_not_keys,
);

fn decision(case_id: &str, supplier: &str, reason: &str) -> Value {
    json!({
        "case_id": case_id,
        "chosen_supplier": supplier,
        "decision_reason": reason,
        "next_action": "Notifier le fournisseur",
    })
}

async fn decide(server: &TestServer, user: &TestUser, body: &Value) -> Value {
    expect_json(
        server
            .post_json(Some(&user.token), "/api/decide", body)
            .await,
        StatusCode::OK,
    )
    .await
}

/// Inserts an entry as the analysis writes one, with a chosen `created_at`
/// so that the order is known.
async fn insert_entry(
    server: &TestServer,
    case_id: &str,
    entry_type: &str,
    content: &Value,
    created_at: &str,
) -> String {
    let id = uuid::Uuid::new_v4().to_string();
    memory_entries::Entity::insert(memory_entries::ActiveModel {
        id: sea_orm::ActiveValue::Set(id.clone()),
        case_id: sea_orm::ActiveValue::Set(case_id.to_owned()),
        entry_type: sea_orm::ActiveValue::Set(entry_type.to_owned()),
        content_json: sea_orm::ActiveValue::Set(content.to_string()),
        created_at: sea_orm::ActiveValue::Set(created_at.to_owned()),
    })
    .exec(&server.state().db)
    .await
    .expect("insert a memory entry");
    id
}

/// The decision entries of a case (the analysis wrote its own entry too).
async fn entries_of(server: &TestServer, case_id: &str) -> Vec<memory_entries::Model> {
    memory_entries::Entity::find()
        .filter(memory_entries::Column::CaseId.eq(case_id))
        .filter(memory_entries::Column::EntryType.eq("decision"))
        .all(&server.state().db)
        .await
        .expect("memory entries")
}

async fn decide_records_an_entry_and_an_audit_row(db: TestDb) {
    let server = TestServer::start(db).await;
    let officer = server.user(Role::ProcurementOfficer).await;
    let id = server
        .analysed_case(&officer, &["ACME Sarl", "Beta", "Gamma"])
        .await;
    let id = id.as_str();

    let body = json!({
        "case_id": id,
        "chosen_supplier": "  ACME Sarl ",
        "decision_reason": " Offre la mieux disante ",
        "next_action": "Notifier ",
    });
    let answer = decide(&server, &officer, &body).await;
    assert_eq!(answer["ok"], true);
    assert_eq!(answer["case_id"], id);
    assert_eq!(
        answer["pv_with_decision"],
        format!("/api/download/{id}/output_pv")
    );

    let entries = entries_of(&server, id).await;
    assert_eq!(entries.len(), 1, "one decision entry");
    let entry = &entries[0];
    assert_eq!(entry.entry_type, "decision");
    let content: Value = serde_json::from_str(&entry.content_json).expect("content is JSON");
    assert_eq!(content["chosen_supplier"], "ACME Sarl", "trimmed");
    assert_eq!(content["decision_reason"], "Offre la mieux disante");
    assert_eq!(content["next_action"], "Notifier");
    assert_eq!(content["human_final"], true);
    assert!(content["decided_at"].is_string());

    let audit = audits::Entity::find()
        .filter(audits::Column::CaseId.eq(id))
        .filter(audits::Column::Action.eq("decision_recorded"))
        .all(&server.state().db)
        .await
        .expect("audits");
    assert_eq!(audit.len(), 1, "one audit row for the decision");
    assert_eq!(audit[0].user_id, Some(officer.id.to_string()));

    // Deciding again appends (production: each call adds one entry); the
    // memory route shows the newest first.
    decide(&server, &officer, &decision(id, "Beta", "Seconde analyse")).await;
    assert_eq!(entries_of(&server, id).await.len(), 2);
    let memory = expect_json(
        server
            .get(Some(&officer.token), &format!("/api/memory/{id}"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(memory["memory"][0]["content"]["chosen_supplier"], "Beta");
    assert_eq!(
        memory["memory"][1]["content"]["chosen_supplier"],
        "ACME Sarl"
    );

    // An admin decides on any case.
    let admin = server.admin().await;
    decide(&server, &admin, &decision(id, "Gamma", "Arbitrage")).await;
    assert_eq!(entries_of(&server, id).await.len(), 3);
}

async fn decide_validates_and_checks_who_decides(db: TestDb) {
    let server = TestServer::start(db).await;
    let owner = server.user(Role::ProcurementOfficer).await;
    let other = server.user(Role::ProcurementOfficer).await;
    let viewer = server.user(Role::Viewer).await;
    let case = server.create_case(&owner, "RFQ", "Validation").await;
    let id = case["id"].as_str().unwrap();
    server.add_member(&owner, id, &viewer, "observer").await;

    for field in ["chosen_supplier", "decision_reason", "next_action"] {
        let mut body = decision(id, "ACME", "Prix");
        body[field] = json!("   ");
        let detail = expect_detail(
            server
                .post_json(Some(&owner.token), "/api/decide", &body)
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert!(detail.contains(field), "{field}: {detail}");

        let mut body = decision(id, "ACME", "Prix");
        body.as_object_mut().unwrap().remove(field);
        expect_detail(
            server
                .post_json(Some(&owner.token), "/api/decide", &body)
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let res = server
        .http
        .post(server.url("/api/decide"))
        .bearer_auth(&owner.token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    expect_detail(res, StatusCode::UNPROCESSABLE_ENTITY).await;

    let unknown = decision("no-such-case", "ACME", "Prix");
    let detail = expect_detail(
        server
            .post_json(Some(&owner.token), "/api/decide", &unknown)
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(detail, "Case not found");

    let body = decision(id, "ACME", "Prix");
    let detail = expect_detail(
        server
            .post_json(Some(&other.token), "/api/decide", &body)
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(
        detail, "Case not found",
        "not of the committee: no such case"
    );
    expect_detail(
        server
            .post_json(Some(&viewer.token), "/api/decide", &body)
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let res = server.post_json(None, "/api/decide", &body).await;
    assert_eq!(
        res.headers().get("www-authenticate").unwrap(),
        "Bearer",
        "D-12: deciding needs a token"
    );
    assert_eq!(
        expect_detail(res, StatusCode::UNAUTHORIZED).await,
        "Not authenticated"
    );

    // Nothing refused left an entry or an audit row.
    assert!(entries_of(&server, id).await.is_empty());
    let audit = audits::Entity::find()
        .filter(audits::Column::CaseId.eq(id))
        .filter(audits::Column::Action.eq("decision_recorded"))
        .all(&server.state().db)
        .await
        .unwrap();
    assert!(audit.is_empty());
}

async fn memory_lists_newest_first_and_paginates(db: TestDb) {
    let server = TestServer::start(db).await;
    let officer = server.user(Role::ProcurementOfficer).await;
    let viewer = server.user(Role::Viewer).await;
    let case = server.create_case(&officer, "DAO", "Mémoire").await;
    let id = case["id"].as_str().unwrap();
    server.add_member(&officer, id, &viewer, "observer").await;
    let other = server.create_case(&officer, "DAO", "Autre").await;
    let other_id = other["id"].as_str().unwrap();

    // Two old extractions (inserted out of order), then three decisions
    // made later: newest first is decisions 3, 2, 1, then extraction B, A.
    let b = insert_entry(
        &server,
        id,
        "extraction",
        &json!({"supplier_name": "B"}),
        "2025-02-01T10:00:00.000000",
    )
    .await;
    let a = insert_entry(
        &server,
        id,
        "extraction",
        &json!({"supplier_name": "A"}),
        "2025-01-01T10:00:00.000000",
    )
    .await;
    insert_entry(
        &server,
        other_id,
        "extraction",
        &json!({"supplier_name": "elsewhere"}),
        "2025-03-01T10:00:00.000000",
    )
    .await;
    for n in 1..=3 {
        insert_entry(
            &server,
            id,
            "decision",
            &json!({"chosen_supplier": format!("S{n}"), "decision_reason": "r", "human_final": true}),
            &format!("2026-01-0{n}T10:00:00.000000"),
        )
        .await;
    }

    let res = server
        .get(Some(&viewer.token), &format!("/api/memory/{id}"))
        .await;
    assert_eq!(res.headers().get("x-total-count").unwrap(), "5");
    let body = expect_json(res, StatusCode::OK).await;
    assert_eq!(body["case_id"], id);
    let memory = body["memory"].as_array().unwrap();
    let order: Vec<&str> = memory
        .iter()
        .map(|e| {
            e["content"]["chosen_supplier"]
                .as_str()
                .or(e["content"]["supplier_name"].as_str())
                .unwrap()
        })
        .collect();
    assert_eq!(order, ["S3", "S2", "S1", "B", "A"]);
    assert_eq!(memory[3]["id"], b.as_str());
    assert_eq!(memory[4]["id"], a.as_str());
    // Production's entry shape: the raw JSON string and the parsed content.
    let entry = &memory[4];
    assert_eq!(entry["case_id"], id);
    assert_eq!(entry["entry_type"], "extraction");
    assert_eq!(entry["created_at"], "2025-01-01T10:00:00.000000");
    let raw: Value = serde_json::from_str(entry["content_json"].as_str().unwrap()).unwrap();
    assert_eq!(raw, entry["content"]);
    let times: Vec<&str> = memory
        .iter()
        .map(|e| e["created_at"].as_str().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");

    // Pages of two: every entry once, in the same order, total on each.
    let mut paged = Vec::new();
    for offset in [0, 2, 4, 6] {
        let res = server
            .get(
                Some(&viewer.token),
                &format!("/api/memory/{id}?limit=2&offset={offset}"),
            )
            .await;
        assert_eq!(res.headers().get("x-total-count").unwrap(), "5");
        let page = expect_json(res, StatusCode::OK).await;
        let page = page["memory"].as_array().unwrap().clone();
        assert_eq!(page.len(), [2, 2, 1, 0][offset / 2], "offset {offset}");
        paged.extend(page.into_iter().map(|e| e["id"].clone()));
    }
    let all: Vec<Value> = memory.iter().map(|e| e["id"].clone()).collect();
    assert_eq!(paged, all);

    for bad in ["limit=0", "limit=501", "limit=abc", "offset=-1"] {
        expect_detail(
            server
                .get(Some(&viewer.token), &format!("/api/memory/{id}?{bad}"))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let detail = expect_detail(
        server
            .get(Some(&viewer.token), "/api/memory/no-such-case")
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(detail, "Case not found");
    expect_detail(
        server.get(None, &format!("/api/memory/{id}")).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
}

async fn search(server: &TestServer, user: &TestUser, case_id: &str, q: &str) -> Value {
    let res = server
        .http
        .get(server.url(&format!("/api/search_memory/{case_id}")))
        .query(&[("q", q)])
        .bearer_auth(&user.token)
        .send()
        .await
        .expect("search");
    expect_json(res, StatusCode::OK).await
}

fn hit_ids(body: &Value) -> Vec<String> {
    body["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .map(|h| h["id"].as_str().expect("hit id").to_owned())
        .collect()
}

async fn search_matches_values_not_keys(db: TestDb) {
    let server = TestServer::start(db).await;
    let officer = server.user(Role::ProcurementOfficer).await;
    let viewer = server.user(Role::Viewer).await;
    let case = server.create_case(&officer, "DAO", "Recherche").await;
    let id = case["id"].as_str().unwrap();
    server.add_member(&officer, id, &viewer, "observer").await;
    let other = server.create_case(&officer, "DAO", "Autre").await;
    let other_id = other["id"].as_str().unwrap();

    let extraction = insert_entry(
        &server,
        id,
        "extraction",
        &json!({
            "supplier_name": "Beta Corp",
            "fields": {"price": 1234.5, "notes": ["Livraison sous 30 jours"]},
        }),
        "2025-01-01T10:00:00.000000",
    )
    .await;
    let explained = insert_entry(
        &server,
        id,
        "decision",
        &json!({"chosen_supplier": "Beta Corp", "decision_reason": "Best supplier on price"}),
        "2025-01-02T10:00:00.000000",
    )
    .await;
    // Same words in another case: never found from this one.
    insert_entry(
        &server,
        other_id,
        "decision",
        &json!({"chosen_supplier": "ACME", "decision_reason": "supplier"}),
        "2025-01-03T10:00:00.000000",
    )
    .await;
    // A decision as `/api/decide` writes it (deciding needs an analysis,
    // which tests/api_analysis.rs covers).
    let acme = insert_entry(
        &server,
        id,
        "decision",
        &json!({"chosen_supplier": "ACME Industries", "decision_reason": "Moins cher",
                "next_action": "Notifier le fournisseur", "human_final": true}),
        "2025-01-04T10:00:00.000000",
    )
    .await;

    // Every entry of the case has a key containing "supplier"; only the one
    // whose value says it is found (production matched them all: §10.2).
    let body = search(&server, &viewer, id, "supplier").await;
    assert_eq!(hit_ids(&body), [explained.as_str()]);
    assert_eq!(body["q"], "supplier");

    let body = search(&server, &viewer, id, "  AcMe ").await;
    assert_eq!(body["case_id"], id);
    assert_eq!(body["q"], "acme", "trimmed and lower-cased");
    assert_eq!(hit_ids(&body), [acme.as_str()]);
    let hit = &body["hits"][0];
    assert_eq!(hit["entry_type"], "decision");
    assert!(hit["created_at"].is_string());
    assert_eq!(hit["preview"]["chosen_supplier"], "ACME Industries");

    // Newest first; nested values, numbers and array items count.
    assert_eq!(
        hit_ids(&search(&server, &viewer, id, "beta corp").await),
        [explained.as_str(), extraction.as_str()]
    );
    assert_eq!(
        hit_ids(&search(&server, &viewer, id, "30 JOURS").await),
        [extraction.as_str()]
    );
    assert_eq!(
        hit_ids(&search(&server, &viewer, id, "1234.5").await),
        [extraction.as_str()]
    );
    // Keys and JSON punctuation are not searched.
    for q in [
        "chosen_supplier",
        "decision_reason",
        "notes",
        "\": \"",
        "{",
        ",",
    ] {
        assert_eq!(
            hit_ids(&search(&server, &viewer, id, q).await),
            Vec::<String>::new(),
            "q={q:?}"
        );
    }

    // Empty q: no hits (and no q key, as production); missing q: 422.
    for q in ["", "   "] {
        let body = search(&server, &viewer, id, q).await;
        assert_eq!(body, json!({"case_id": id, "hits": []}), "q={q:?}");
    }
    expect_detail(
        server
            .get(Some(&viewer.token), &format!("/api/search_memory/{id}"))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let detail = expect_detail(
        server
            .get(
                Some(&viewer.token),
                "/api/search_memory/no-such-case?q=acme",
            )
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(detail, "Case not found");
    expect_detail(
        server
            .get(None, &format!("/api/search_memory/{id}?q=acme"))
            .await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
}
