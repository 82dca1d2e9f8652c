//! Confidential by default: a case is seen by its committee only (404 to
//! everyone else), its offers are sealed until the opening, read only after
//! the reader's declaration of impartiality; registration is closed unless
//! opened; a token ends with its session (sign-out, password change,
//! deactivation, "sign out everywhere"); sign-in limits cannot lock an
//! account out; lookalike names collide. On every backend.

use dms::auth::Role;
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use testkit::{TestServer, TestUser, expect_json, pdf_bytes};
use testkit_db::TestDb;

testkit::server_tests!(
    a_stranger_finds_nothing_of_another_officers_case,
    the_committee_is_managed_by_the_owner_and_audited,
    offers_are_sealed_until_the_opening_then_read_after_a_declaration,
    observers_read_the_case_but_never_the_offers,
    registration_is_closed_by_default,
    lookalike_usernames_are_refused_at_registration,
    forwarded_addresses_are_ignored_from_untrusted_peers,
    a_token_ends_with_its_session,
    wrong_passwords_from_one_client_do_not_lock_out_the_account,
    lookalike_suppliers_are_one_supplier,
    the_pv_lists_the_committee_and_their_declarations,
);

/// A case of `owner` with a DAO and one offer of ACME; `closing` sets its
/// opening date. Returns the case id and the offer's artifact id.
async fn case_with_offer(
    server: &TestServer,
    owner: &TestUser,
    closing: Option<&str>,
) -> (String, String) {
    let mut body = json!({"case_type": "DAO", "title": "Fournitures confidentielles"});
    if let Some(c) = closing {
        body["closing_date"] = json!(c);
    }
    let case = expect_json(
        server
            .post_json(Some(&owner.token), "/api/cases", body)
            .await,
        StatusCode::OK,
    )
    .await;
    let id = case["id"].as_str().expect("id").to_owned();
    server.upload_dao(owner, &id, "dao.docx").await;
    let offer = expect_json(
        server
            .upload(
                Some(&owner.token),
                &format!("/api/cases/{id}/upload-offer"),
                "offre.pdf",
                pdf_bytes("OFFRE ACME Montant total : 1.500.000 FCFA"),
                &[("supplier_name", "ACME SARL"), ("offer_type", "technique")],
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let artifact = offer["artifact_id"]
        .as_str()
        .unwrap_or_else(|| panic!("artifact id in {offer}"))
        .to_owned();
    (id, artifact)
}

async fn status(res: reqwest::Response) -> (StatusCode, Value) {
    let status = res.status();
    let body = res.json().await.unwrap_or(Value::Null);
    (status, body)
}

async fn add_member(server: &TestServer, by: &TestUser, case_id: &str, who: &TestUser, role: &str) {
    expect_json(
        server
            .post_json(
                Some(&by.token),
                &format!("/api/cases/{case_id}/members"),
                json!({"user_id": who.id, "role": role}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
}

async fn declare(server: &TestServer, who: &TestUser, case_id: &str) -> (StatusCode, Value) {
    status(
        server
            .post_json(
                Some(&who.token),
                &format!("/api/cases/{case_id}/declaration"),
                json!({"accept": true}),
            )
            .await,
    )
    .await
}

async fn a_stranger_finds_nothing_of_another_officers_case(db: TestDb) {
    let server = TestServer::start(db).await;
    let owner = server.user(Role::ProcurementOfficer).await;
    let stranger = server.user(Role::ProcurementOfficer).await;
    let viewer = server.user(Role::Viewer).await;
    let (id, artifact) = case_with_offer(&server, &owner, None).await;
    let own = server.create_case(&stranger, "RFQ", "Mine").await;

    for who in [&stranger, &viewer] {
        let token = Some(who.token.as_str());
        let res = server.get(token, "/api/cases").await;
        let total = res.headers()["x-total-count"].to_str().unwrap().to_owned();
        let list: Value = res.json().await.unwrap();
        let ids: Vec<&str> = list
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|c| c["id"].as_str())
            .collect();
        assert!(!ids.contains(&id.as_str()), "{} lists {id}", who.username);
        assert_eq!(
            total,
            ids.len().to_string(),
            "the count counts visible cases only"
        );
        for path in [
            format!("/api/cases/{id}"),
            format!("/api/cases/{id}/artifacts/{artifact}"),
            format!("/api/memory/{id}"),
            format!("/api/search_memory/{id}?q=acme"),
            format!("/api/download/{id}/output_cba"),
            format!("/api/cases/{id}/members"),
        ] {
            let (code, body) = status(server.get(token, &path).await).await;
            assert_eq!(
                code,
                StatusCode::NOT_FOUND,
                "{path} for {}: {body}",
                who.username
            );
            assert_eq!(
                body["detail"], "Case not found",
                "{path}: the same words as a missing case"
            );
        }
        // Writes too: the case does not exist for them.
        let (code, _) = status(
            server
                .post_json(token, "/api/analyze", json!({"case_id": id}))
                .await,
        )
        .await;
        assert_eq!(code, StatusCode::NOT_FOUND);
    }
    // The stranger's own case is listed for them, and counted.
    let res = server.get(Some(&stranger.token), "/api/cases").await;
    assert_eq!(res.headers()["x-total-count"], "1");
    let list: Value = res.json().await.unwrap();
    assert_eq!(list[0]["id"], own["id"]);
    // The owner and an administrator see it.
    for who in [&owner, &server.admin().await] {
        let res = server
            .get(Some(&who.token), &format!("/api/cases/{id}"))
            .await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    server.shutdown().await;
}

async fn the_committee_is_managed_by_the_owner_and_audited(db: TestDb) {
    let server = TestServer::start(db).await;
    let owner = server.user(Role::ProcurementOfficer).await;
    let evaluator = server.user(Role::ProcurementOfficer).await;
    let viewer = server.user(Role::Viewer).await;
    let (id, _) = case_with_offer(&server, &owner, None).await;
    let members = format!("/api/cases/{id}/members");

    // A viewer account can only observe.
    let (code, body) = status(
        server
            .post_json(
                Some(&owner.token),
                &members,
                json!({"user_id": viewer.id, "role": "evaluator"}),
            )
            .await,
    )
    .await;
    assert_eq!(code, StatusCode::BAD_REQUEST, "{body}");
    add_member(&server, &owner, &id, &evaluator, "evaluator").await;
    add_member(&server, &owner, &id, &viewer, "observer").await;
    let (code, _) = status(
        server
            .post_json(
                Some(&owner.token),
                &members,
                json!({"user_id": viewer.id, "role": "observer"}),
            )
            .await,
    )
    .await;
    assert_eq!(code, StatusCode::CONFLICT, "added twice");

    let listed = expect_json(
        server.get(Some(&evaluator.token), &members).await,
        StatusCode::OK,
    )
    .await;
    let roles: Vec<(i64, &str)> = listed["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["user_id"].as_i64().unwrap(), m["role"].as_str().unwrap()))
        .collect();
    assert_eq!(
        roles,
        [
            (i64::from(owner.id), "owner"),
            (i64::from(evaluator.id), "evaluator"),
            (i64::from(viewer.id), "observer")
        ]
    );
    // A member sees the case now, and is not a manager of it.
    assert_eq!(
        server
            .get(Some(&viewer.token), &format!("/api/cases/{id}"))
            .await
            .status(),
        StatusCode::OK
    );
    let (code, _) = status(
        server
            .post_json(
                Some(&evaluator.token),
                &members,
                json!({"username": owner.username, "role": "observer"}),
            )
            .await,
    )
    .await;
    assert_eq!(code, StatusCode::FORBIDDEN);

    // Removing: the member no longer sees the case.
    let res = server
        .http
        .delete(server.url(&format!("{members}/{}", viewer.id)))
        .bearer_auth(&owner.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        server
            .get(Some(&viewer.token), &format!("/api/cases/{id}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );

    // Every change is audited, by whom and on whom.
    let audits = entity::audits::Entity::find()
        .filter(entity::audits::Column::CaseId.eq(id.as_str()))
        .filter(entity::audits::Column::Action.is_in(["member_added", "member_removed"]))
        .all(&server.state().db)
        .await
        .unwrap();
    let actions: Vec<(&str, Option<&str>)> = audits
        .iter()
        .map(|a| (a.action.as_str(), a.user_id.as_deref()))
        .collect();
    let owner_id = owner.id.to_string();
    assert_eq!(actions.len(), 3, "{actions:?}");
    assert!(actions.iter().all(|(_, by)| *by == Some(owner_id.as_str())));
    assert_eq!(
        actions
            .iter()
            .filter(|(a, _)| *a == "member_removed")
            .count(),
        1
    );
    server.shutdown().await;
}

async fn offers_are_sealed_until_the_opening_then_read_after_a_declaration(db: TestDb) {
    let server = TestServer::start(db).await;
    let owner = server.user(Role::ProcurementOfficer).await;
    let evaluator = server.user(Role::ProcurementOfficer).await;
    let admin = server.admin().await;

    // An opening date to come: the offers cannot be opened yet.
    let (future, _) = case_with_offer(&server, &owner, Some("2999-12-31")).await;
    let (code, body) = status(
        server
            .post_json(
                Some(&owner.token),
                &format!("/api/cases/{future}/open"),
                json!({}),
            )
            .await,
    )
    .await;
    assert_eq!(code, StatusCode::CONFLICT, "{body}");

    // An opening date passed, not opened: sealed for everyone.
    let (id, offer) = case_with_offer(&server, &owner, Some("2020-01-01T10:00:00Z")).await;
    add_member(&server, &owner, &id, &evaluator, "evaluator").await;
    for who in [&owner, &admin, &evaluator] {
        let (code, body) = status(
            server
                .get(
                    Some(&who.token),
                    &format!("/api/cases/{id}/artifacts/{offer}"),
                )
                .await,
        )
        .await;
        assert_eq!(code, StatusCode::FORBIDDEN, "{}: {body}", who.username);
        let (code, _) = status(
            server
                .post_json(Some(&who.token), "/api/analyze", json!({"case_id": id}))
                .await,
        )
        .await;
        assert_eq!(code, StatusCode::FORBIDDEN, "analysis before the opening");
        // The file lists the offer by supplier and time of receipt only.
        let file = expect_json(
            server
                .get(Some(&who.token), &format!("/api/cases/{id}"))
                .await,
            StatusCode::OK,
        )
        .await;
        let offers = file["offers"].as_array().unwrap();
        assert_eq!(offers.len(), 1);
        assert_eq!(offers[0]["supplier_name"], "ACME SARL");
        assert!(offers[0]["submitted_at"].is_string());
        assert_eq!(offers[0]["documents"], json!([]));
        assert!(
            file["artifacts"]
                .as_array()
                .unwrap()
                .iter()
                .all(|a| a["kind"] != "offer"),
            "no offer file among the artifacts: {file}"
        );
    }
    // Only a manager opens, once, naming who was present.
    let open = format!("/api/cases/{id}/open");
    let (code, _) = status(
        server
            .post_json(Some(&evaluator.token), &open, json!({}))
            .await,
    )
    .await;
    assert_eq!(code, StatusCode::FORBIDDEN);
    let opening = expect_json(
        server
            .post_json(
                Some(&owner.token),
                &open,
                json!({"present": [owner.id, evaluator.id]}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(opening["opened_by"], owner.id);
    assert_eq!(opening["present"].as_array().unwrap().len(), 2);
    let (code, _) = status(server.post_json(Some(&owner.token), &open, json!({})).await).await;
    assert_eq!(code, StatusCode::CONFLICT, "opened once");
    // No offer can be added after the opening.
    let (code, _) = status(
        server
            .upload(
                Some(&owner.token),
                &format!("/api/cases/{id}/upload-offer"),
                "tard.pdf",
                pdf_bytes("OFFRE TARDIVE"),
                &[("supplier_name", "Late SA"), ("offer_type", "technique")],
            )
            .await,
    )
    .await;
    assert_eq!(code, StatusCode::CONFLICT);

    // Open, but nobody reads before declaring.
    let artifact = format!("/api/cases/{id}/artifacts/{offer}");
    for who in [&owner, &evaluator] {
        let (code, body) = status(server.get(Some(&who.token), &artifact).await).await;
        assert_eq!(code, StatusCode::FORBIDDEN, "{body}");
        assert!(
            body["detail"].as_str().unwrap().contains("declaration"),
            "{body}"
        );
        let (code, body) = declare(&server, who, &id).await;
        assert_eq!(code, StatusCode::OK, "{body}");
        assert!(body["declared_at"].is_string());
        let res = server.get(Some(&who.token), &artifact).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert!(res.bytes().await.unwrap().starts_with(b"%PDF"));
        let file = expect_json(
            server
                .get(Some(&who.token), &format!("/api/cases/{id}"))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(file["offers"][0]["documents"].as_array().unwrap().len(), 1);
    }
    // The declarations are kept with their time, for the PV's committee.
    let declared = entity::case_declarations::Entity::find()
        .filter(entity::case_declarations::Column::CaseId.eq(id.as_str()))
        .count(&server.state().db)
        .await
        .unwrap();
    assert_eq!(declared, 2);
    server.shutdown().await;
}

async fn observers_read_the_case_but_never_the_offers(db: TestDb) {
    let server = TestServer::start(db).await;
    let owner = server.user(Role::ProcurementOfficer).await;
    let observer = server.user(Role::Viewer).await;
    let id = server.analysed_case(&owner, &["ACME"]).await;
    add_member(&server, &owner, &id, &observer, "observer").await;
    let file = expect_json(
        server
            .get(Some(&observer.token), &format!("/api/cases/{id}"))
            .await,
        StatusCode::OK,
    )
    .await;
    let offer = entity::artifacts::Entity::find()
        .filter(entity::artifacts::Column::CaseId.eq(id.as_str()))
        .filter(entity::artifacts::Column::Kind.eq("offer"))
        .one(&server.state().db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(file["offers"][0]["documents"], json!([]));
    let (code, _) = status(
        server
            .get(
                Some(&observer.token),
                &format!("/api/cases/{id}/artifacts/{}", offer.id),
            )
            .await,
    )
    .await;
    assert_eq!(code, StatusCode::FORBIDDEN);
    // Even declared: an observer never reads an offer.
    let (code, _) = declare(&server, &observer, &id).await;
    assert_eq!(code, StatusCode::OK);
    let (code, _) = status(
        server
            .get(
                Some(&observer.token),
                &format!("/api/cases/{id}/artifacts/{}", offer.id),
            )
            .await,
    )
    .await;
    assert_eq!(code, StatusCode::FORBIDDEN);
    // The analysis' results and the PV are theirs to read.
    for kind in ["output_pv", "output_cba"] {
        let res = server
            .get(Some(&observer.token), &format!("/api/download/{id}/{kind}"))
            .await;
        assert_eq!(res.status(), StatusCode::OK, "{kind}");
    }
    assert_eq!(
        server
            .get(Some(&observer.token), &format!("/api/memory/{id}"))
            .await
            .status(),
        StatusCode::OK
    );
    // Refusing the declaration withdraws: the case is gone for them.
    let (code, body) = status(
        server
            .post_json(
                Some(&observer.token),
                &format!("/api/cases/{id}/declaration"),
                json!({"accept": false}),
            )
            .await,
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{body}");
    assert_eq!(
        server
            .get(Some(&observer.token), &format!("/api/cases/{id}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    server.shutdown().await;
}

async fn register(server: &TestServer, username: &str) -> (StatusCode, Value) {
    let email = format!("u{}@example.org", rand_suffix());
    status(
        server
            .post_json(
                None,
                "/auth/register",
                json!({"email": email, "username": username, "password": "Password123!"}),
            )
            .await,
    )
    .await
}

fn rand_suffix() -> u32 {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

async fn registration_is_closed_by_default(db: TestDb) {
    let closed = TestServer::start_with(db, |c| {
        c.open_registration = dms::server::Config::new("x").open_registration;
    })
    .await;
    let (code, body) = register(&closed, "newcomer").await;
    assert_eq!(code, StatusCode::FORBIDDEN, "{body}");
    let users = entity::users::Entity::find()
        .count(&closed.state().db)
        .await
        .unwrap();
    assert_eq!(users, 1, "only the seeded admin");
    closed.shutdown().await;
}

async fn lookalike_usernames_are_refused_at_registration(db: TestDb) {
    let server = TestServer::start(db).await;
    let (code, body) = register(&server, "newcomer").await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    assert_eq!(body["role_name"], "procurement_officer");
    for lookalike in [
        "Admin",
        "admin ",
        "\u{0430}dmin",
        "ADMIN",
        "NEWCOMER",
        "newc\u{043E}mer",
    ] {
        let (code, body) = register(&server, lookalike).await;
        assert!(
            code == StatusCode::CONFLICT || code == StatusCode::UNPROCESSABLE_ENTITY,
            "{lookalike:?} registered beside an existing account: {code} {body}"
        );
    }
    for hostile in ["adm\u{202E}nimda", "ad\u{200B}min2", "tab\there"] {
        let (code, body) = register(&server, hostile).await;
        assert_eq!(
            code,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{hostile:?}: {body}"
        );
    }
    server.shutdown().await;
}

async fn a_token_ends_with_its_session(db: TestDb) {
    let server = TestServer::start(db).await;
    let user = server.user(Role::ProcurementOfficer).await;
    let me = |token: String| {
        let server = &server;
        async move { server.get(Some(&token), "/auth/me").await.status() }
    };
    // Signing out ends the presented token only.
    let second = server.login(&user.username, "Password123!").await;
    let res = server
        .post_json(Some(&second), "/auth/logout", json!({}))
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(me(second.clone()).await, StatusCode::UNAUTHORIZED);
    assert_eq!(me(user.token.clone()).await, StatusCode::OK);

    // A password change ends every session.
    dms::auth::set_password(&server.state().db, &user.username, "Another-pass-9")
        .await
        .unwrap();
    assert_eq!(me(user.token.clone()).await, StatusCode::UNAUTHORIZED);
    let fresh = server.login(&user.username, "Another-pass-9").await;
    assert_eq!(me(fresh.clone()).await, StatusCode::OK);

    // An administrator's "sign out everywhere".
    let other = server.login(&user.username, "Another-pass-9").await;
    let admin = server.admin().await;
    let viewer = server.user(Role::Viewer).await;
    let refused = server
        .http
        .delete(server.url(&format!("/api/users/{}/sessions", user.id)))
        .bearer_auth(&viewer.token)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        me(fresh.clone()).await,
        StatusCode::OK,
        "a refused sign-out signed nobody out"
    );
    let res = server
        .http
        .delete(server.url(&format!("/api/users/{}/sessions", user.id)))
        .bearer_auth(&admin.token)
        .send()
        .await
        .unwrap();
    let body = expect_json(res, StatusCode::OK).await;
    assert_eq!(body["sessions_closed"], 2);
    assert_eq!(me(fresh).await, StatusCode::UNAUTHORIZED);
    assert_eq!(me(other).await, StatusCode::UNAUTHORIZED);

    // A deactivation ends the account's sessions too.
    let token = server.login(&user.username, "Another-pass-9").await;
    let res = server
        .http
        .patch(server.url(&format!("/api/users/{}", user.id)))
        .bearer_auth(&admin.token)
        .json(&json!({"is_active": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(me(token).await, StatusCode::UNAUTHORIZED);
    // Tokens are never cached.
    let res = server
        .http
        .post(server.url("/auth/token"))
        .form(&[("username", "admin"), ("password", "Admin123!")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["cache-control"], "no-store");
    server.shutdown().await;
}

async fn wrong_passwords_from_one_client_do_not_lock_out_the_account(db: TestDb) {
    let server = TestServer::start_with(db, |c| {
        c.limits = dms::http::limits::LimitConfig {
            login_per_username: 10,
            login_per_client: 30,
            ..testkit::relaxed_limits()
        };
        c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap(), "::1/128".parse().unwrap()];
    })
    .await;
    let attempt = |client: &'static str, password: &'static str| {
        let server = &server;
        async move {
            server
                .http
                .post(server.url("/auth/token"))
                .header("x-forwarded-for", client)
                .form(&[("username", "admin"), ("password", password)])
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    let mut statuses = Vec::new();
    for _ in 0..11 {
        statuses.push(attempt("203.0.113.66", "wrong-password").await);
    }
    assert_eq!(statuses[..10], [StatusCode::UNAUTHORIZED; 10]);
    assert_eq!(
        statuses[10],
        StatusCode::TOO_MANY_REQUESTS,
        "the attacking client is stopped"
    );
    // From another client, the right password still works.
    assert_eq!(attempt("198.51.100.7", "Admin123!").await, StatusCode::OK);
    server.shutdown().await;
}

async fn forwarded_addresses_are_ignored_from_untrusted_peers(db: TestDb) {
    // The attacker cannot pose as other clients without being a trusted proxy.
    let direct = TestServer::start_with(db, |c| {
        c.limits = dms::http::limits::LimitConfig {
            login_per_username: 3,
            login_per_client: 30,
            ..testkit::relaxed_limits()
        };
    })
    .await;
    let mut last = StatusCode::OK;
    for i in 0..4 {
        last = direct
            .http
            .post(direct.url("/auth/token"))
            .header("x-forwarded-for", format!("192.0.2.{i}"))
            .form(&[("username", "admin"), ("password", "wrong")])
            .send()
            .await
            .unwrap()
            .status();
    }
    assert_eq!(
        last,
        StatusCode::TOO_MANY_REQUESTS,
        "X-Forwarded-For ignored from an untrusted peer"
    );
    direct.shutdown().await;
}

async fn lookalike_suppliers_are_one_supplier(db: TestDb) {
    let server = TestServer::start(db).await;
    let owner = server.user(Role::ProcurementOfficer).await;
    let (id, _) = case_with_offer(&server, &owner, None).await;
    for lookalike in ["\u{0410}CME SARL", "acme  sarl", "ACME SARL\u{00A0}"] {
        let (code, body) = status(
            server
                .upload(
                    Some(&owner.token),
                    &format!("/api/cases/{id}/upload-offer"),
                    "offre2.pdf",
                    pdf_bytes("OFFRE BIS"),
                    &[("supplier_name", lookalike), ("offer_type", "technique")],
                )
                .await,
        )
        .await;
        assert_eq!(code, StatusCode::CONFLICT, "{lookalike:?}: {body}");
    }
    let (code, body) = status(
        server
            .upload(
                Some(&owner.token),
                &format!("/api/cases/{id}/upload-offer"),
                "offre3.pdf",
                pdf_bytes("OFFRE"),
                &[
                    ("supplier_name", "ACME\u{202E}LRAS"),
                    ("offer_type", "technique"),
                ],
            )
            .await,
    )
    .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    server.shutdown().await;
}

async fn the_pv_lists_the_committee_and_their_declarations(db: TestDb) {
    let server = TestServer::start(db).await;
    let owner = server.user(Role::ProcurementOfficer).await;
    let evaluator = server.user(Role::ProcurementOfficer).await;
    let observer = server.user(Role::Viewer).await;
    let (id, _) = case_with_offer(&server, &owner, None).await;
    add_member(&server, &owner, &id, &evaluator, "evaluator").await;
    add_member(&server, &owner, &id, &observer, "observer").await;
    let (code, signed) = declare(&server, &evaluator, &id).await;
    assert_eq!(code, StatusCode::OK);
    let res = server
        .post_json(
            Some(&evaluator.token),
            "/api/analyze",
            json!({"case_id": id}),
        )
        .await;
    expect_json(res, StatusCode::OK).await;
    let res = server
        .get(
            Some(&observer.token),
            &format!("/api/download/{id}/output_pv"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let text = analysis::docx_paragraphs("pv.docx", &res.bytes().await.unwrap())
        .unwrap()
        .join("\n");
    let declared_at = signed["declared_at"].as_str().unwrap();
    for (user, role) in [
        (&owner, "responsable du dossier"),
        (&evaluator, "évaluateur"),
        (&observer, "observateur"),
    ] {
        let line = text
            .lines()
            .find(|l| l.contains(&format!("Test {}", user.username)))
            .unwrap_or_else(|| panic!("{} not in the PV:\n{text}", user.username));
        assert!(line.contains(role), "{line}");
        if user.id == evaluator.id {
            assert!(line.contains(&format!("signée le {declared_at}")), "{line}");
        } else {
            assert!(line.contains("non signée"), "{line}");
        }
    }
    server.shutdown().await;
}

/// The embedded database file and a data directory the server creates are
/// its owner's only: offers are confidential to other local accounts too.
#[test]
fn the_database_file_and_the_data_directory_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("dms.db");
    migration::runner::create_private_sqlite_file(&format!("sqlite://{}?mode=rwc", file.display()));
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the database file: {mode:o}");
    // An existing file keeps the mode its owner gave it.
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).unwrap();
    migration::runner::create_private_sqlite_file(&format!("sqlite://{}?mode=rwc", file.display()));
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
    let data = dir.path().join("data");
    dms::storage::DataDir::open(&data).unwrap();
    let mode = std::fs::metadata(&data).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "the data directory: {mode:o}");
}
