//! Uploads over HTTP: production's checks (file name, magic bytes, 50 MiB,
//! 500 MiB per case), the case's rules (one DAO, offers after the DAO, one
//! per supplier and type, lots of the same case), the rows and files
//! written, the quota under 50 concurrent uploads, and recovery after a
//! crash.

use dms::auth::Role;
use entity::{artifacts, audits, cases, documents, offers};
use reqwest::StatusCode;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, Statement, TransactionTrait,
};
use serde_json::{Value, json};
use testkit::{TestServer, docx_bytes, expect_detail, expect_json, ooxml, pdf_bytes, xlsx_bytes};
use testkit_db::lock_waits::Lock;
use testkit_db::{Backend, TestDb};

testkit::server_tests!(
    dao_upload_stores_file_rows_and_audit,
    second_dao_is_409_also_under_concurrency,
    offer_rules_before_dao_duplicates_and_lots,
    hostile_names_and_non_documents_are_refused,
    too_large_file_is_413_and_leaves_nothing,
    quota_holds_under_50_concurrent_uploads,
    legacy_upload_route_has_the_same_checks,
    owner_rules_on_uploads,
    crash_leftovers_are_removed_at_start,
);

fn pdf_of_size(size: usize) -> Vec<u8> {
    let mut bytes = pdf_bytes("padding");
    bytes.resize(size, b' ');
    bytes
}

async fn dao_upload_stores_file_rows_and_audit(db: TestDb) {
    let server = TestServer::start(db).await;
    let officer = server.user(Role::ProcurementOfficer).await;
    let case = server.create_case(&officer, "DAO", "Uploads").await;
    let id = case["id"].as_str().unwrap();
    let bytes = pdf_bytes("Dossier d'appel d'offres");
    let res = server
        .upload(
            Some(&officer.token),
            &format!("/api/cases/{id}/upload-dao"),
            "dao.pdf",
            bytes.clone(),
            &[],
        )
        .await;
    let body = expect_json(res, StatusCode::OK).await;
    assert_eq!(body["filename"], "dao.pdf");
    assert_eq!(body["status"], "uploaded");
    let artifact_id = body["artifact_id"].as_str().unwrap();

    let db = &server.state().db;
    let artifact = artifacts::Entity::find_by_id(artifact_id)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(artifact.kind, "dao");
    assert_eq!(artifact.created_by, Some(officer.id));
    assert!(
        artifact.path.starts_with(&format!("uploads/{id}/dao_")),
        "{}",
        artifact.path
    );
    assert!(
        !artifact.path.contains("dao.pdf"),
        "the stored name is the server's (D-14)"
    );
    let stored = std::fs::read(server.data_dir.path().join(&artifact.path)).unwrap();
    assert_eq!(stored, bytes, "the file is stored byte for byte");
    let meta: Value = serde_json::from_str(artifact.meta_json.as_deref().unwrap()).unwrap();
    assert_eq!(meta["original_filename"], "dao.pdf");
    assert_eq!(meta["size_bytes"], bytes.len());
    assert_eq!(meta["mime_type"], "application/pdf");
    use sha2::Digest;
    assert_eq!(meta["hash"], hex::encode(sha2::Sha256::digest(&bytes)));
    assert_eq!(meta["uploaded_by"], officer.id);
    let case_row = cases::Entity::find_by_id(id)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(case_row.total_upload_size, Some(bytes.len() as i64));
    let audit = audits::Entity::find()
        .filter(audits::Column::CaseId.eq(id))
        .filter(audits::Column::Action.eq("upload_dao"))
        .one(db)
        .await
        .unwrap();
    assert!(
        audit.is_some_and(|a| a.user_id == Some(officer.id.to_string())),
        "an audit row for the write"
    );
    // No temporary file stays.
    assert_eq!(
        std::fs::read_dir(server.data_dir.path().join("tmp"))
            .unwrap()
            .count(),
        0
    );
}

async fn second_dao_is_409_also_under_concurrency(db: TestDb) {
    let server = TestServer::start(db).await;
    let officer = server.user(Role::ProcurementOfficer).await;
    let case = server.create_case(&officer, "DAO", "One DAO").await;
    let path = format!("/api/cases/{}/upload-dao", case["id"].as_str().unwrap());
    let attempts = (0..8).map(|i| {
        server.upload(
            Some(&officer.token),
            &path,
            "dao.pdf",
            pdf_bytes(&format!("DAO {i}")),
            &[],
        )
    });
    let statuses: Vec<StatusCode> = futures_util::future::join_all(attempts)
        .await
        .iter()
        .map(|r| r.status())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        1,
        "D-19: {statuses:?}"
    );
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::CONFLICT)
            .count(),
        7,
        "{statuses:?}"
    );
    let detail = expect_detail(
        server
            .upload(
                Some(&officer.token),
                &path,
                "dao.pdf",
                pdf_bytes("again"),
                &[],
            )
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert!(detail.contains("already uploaded"), "{detail}");
    let db = &server.state().db;
    let daos = artifacts::Entity::find()
        .filter(artifacts::Column::Kind.eq("dao"))
        .count(db)
        .await
        .unwrap();
    assert_eq!(daos, 1);
    let files = std::fs::read_dir(
        server
            .data_dir
            .path()
            .join("uploads")
            .join(case["id"].as_str().unwrap()),
    )
    .unwrap()
    .count();
    assert_eq!(files, 1, "refused uploads leave no file");
}

async fn offer_rules_before_dao_duplicates_and_lots(db: TestDb) {
    let server = TestServer::start(db).await;
    let officer = server.user(Role::ProcurementOfficer).await;
    let case = server.create_case(&officer, "DAO", "Offers").await;
    let other_case = server.create_case(&officer, "DAO", "Other").await;
    let id = case["id"].as_str().unwrap();
    let offer_path = format!("/api/cases/{id}/upload-offer");
    let offer = |supplier: &str, offer_type: &str, lot: Option<&str>| {
        let mut fields = vec![
            ("supplier_name", supplier.to_owned()),
            ("offer_type", offer_type.to_owned()),
        ];
        if let Some(lot) = lot {
            fields.push(("lot_id", lot.to_owned()));
        }
        let fields: Vec<(&str, String)> = fields;
        let path = offer_path.clone();
        let token = officer.token.clone();
        let server = &server;
        async move {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            server
                .upload(
                    Some(&token),
                    &path,
                    "offre.pdf",
                    pdf_bytes("Offre"),
                    &fields,
                )
                .await
        }
    };
    let detail = expect_detail(
        offer("ACME", "technique", None).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(detail.contains("before DAO"), "{detail}");
    expect_json(
        server
            .upload(
                Some(&officer.token),
                &format!("/api/cases/{id}/upload-dao"),
                "dao.docx",
                docx_bytes("DAO"),
                &[],
            )
            .await,
        StatusCode::OK,
    )
    .await;

    let body = expect_json(offer("ACME SARL", "technique", None).await, StatusCode::OK).await;
    assert_eq!(body["supplier_name"], "ACME SARL");
    assert_eq!(body["offer_type"], "technique");
    assert_eq!(body["is_late"], false);
    assert_eq!(body["lot_id"], Value::Null);
    // Same supplier and type (ignoring case and spacing): 409.
    let detail = expect_detail(
        offer("acme  sarl", "technique", None).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert!(detail.contains("already uploaded"), "{detail}");
    // Another type of the same supplier is fine.
    expect_json(offer("ACME SARL", "financiere", None).await, StatusCode::OK).await;
    // D-20: pattern characters are plain characters, not wildcards.
    expect_json(offer("ACME%", "technique", None).await, StatusCode::OK).await;
    expect_json(offer("AC_E SARL", "technique", None).await, StatusCode::OK).await;
    expect_json(
        offer("Quote \"Q\" \\ Ltd", "technique", None).await,
        StatusCode::OK,
    )
    .await;
    expect_detail(
        offer("Quote \"Q\" \\ Ltd", "technique", None).await,
        StatusCode::CONFLICT,
    )
    .await;
    // A SQL-looking name is just a name.
    expect_json(
        offer("x'); DROP TABLE cases; --", "technique", None).await,
        StatusCode::OK,
    )
    .await;

    // Lots: unknown → 404, another case's → 400, this case's → 200.
    let detail = expect_detail(
        offer("LOTCO", "technique", Some("no-such-lot")).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert!(detail.contains("not found"), "{detail}");
    let foreign = expect_json(
        server
            .post_json(
                Some(&officer.token),
                &format!("/api/cases/{}/lots", other_case["id"].as_str().unwrap()),
                json!({"lot_number": "1"}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let detail = expect_detail(
        offer("LOTCO", "technique", foreign["id"].as_str()).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(detail.contains("does not belong"), "{detail}");
    let lot = expect_json(
        server
            .post_json(
                Some(&officer.token),
                &format!("/api/cases/{id}/lots"),
                json!({"lot_number": "1"}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let body = expect_json(
        offer("LOTCO", "technique", lot["id"].as_str()).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(body["lot_id"], lot["id"]);
    // Bad fields.
    assert_eq!(
        offer("ACME", "pricing", None).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        offer("   ", "technique", None).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let res = server
        .upload(
            Some(&officer.token),
            &offer_path,
            "offre.pdf",
            pdf_bytes("x"),
            &[("offer_type", "technique")],
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "supplier_name missing"
    );

    // Every accepted offer is one offers row with its document.
    let db = &server.state().db;
    let offers = offers::Entity::find()
        .filter(offers::Column::CaseId.eq(id))
        .all(db)
        .await
        .unwrap();
    assert_eq!(offers.len(), 7);
    for offer in &offers {
        let docs = documents::Entity::find()
            .filter(documents::Column::OfferId.eq(offer.id.as_str()))
            .all(db)
            .await
            .unwrap();
        assert_eq!(docs.len(), 1, "{}", offer.supplier_name);
        assert!(offer.file_hash.as_deref().is_some_and(|h| h.len() == 64));
    }

    // A late offer: the closing date has passed.
    cases::ActiveModel {
        id: Set(id.to_owned()),
        closing_date: Set(Some("2020-01-01T00:00:00".into())),
        ..Default::default()
    }
    .update(db)
    .await
    .unwrap();
    let body = expect_json(offer("LATECO", "technique", None).await, StatusCode::OK).await;
    assert_eq!(body["is_late"], true);
}

async fn hostile_names_and_non_documents_are_refused(db: TestDb) {
    let server = TestServer::start(db).await;
    let officer = server.user(Role::ProcurementOfficer).await;
    let case = server.create_case(&officer, "DAO", "Hostile").await;
    let path = format!("/api/cases/{}/upload-dao", case["id"].as_str().unwrap());
    for name in [
        "../../../etc/passwd",
        "..",
        "a/b.pdf",
        "a\\b.pdf",
        ".hidden.pdf",
        "_x.pdf",
        "my file.pdf",
        "offre_société.pdf",
        "",
    ] {
        let res = server
            .upload(Some(&officer.token), &path, name, pdf_bytes("x"), &[])
            .await;
        let status = res.status();
        let detail = expect_detail(res, status).await;
        assert!(
            status == StatusCode::BAD_REQUEST && detail.starts_with("Invalid filename")
                || status == StatusCode::UNPROCESSABLE_ENTITY,
            "{name:?}: {status} {detail}"
        );
    }
    let cases_and_details: [(&str, Vec<u8>, &str); 5] = [
        (
            "fake.pdf",
            b"MZ\x90\x00 this is an executable".to_vec(),
            "Invalid file type",
        ),
        (
            "plain.pdf",
            b"just some text that is not a document".to_vec(),
            "Unable to determine file type",
        ),
        (
            "archive.docx",
            ooxml(&[("evil/payload.txt", "x")]),
            "Invalid file type: application/zip",
        ),
        (
            "image.pdf",
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR".to_vec(),
            "Invalid file type: image/png",
        ),
        ("empty.pdf", Vec::new(), "Unable to determine file type"),
    ];
    for (name, bytes, expected) in cases_and_details {
        let detail = expect_detail(
            server
                .upload(Some(&officer.token), &path, name, bytes, &[])
                .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert!(detail.starts_with(expected), "{name}: {detail}");
    }
    // Templates must be of their kind.
    let legacy = format!("/api/upload/{}/pv_template", case["id"].as_str().unwrap());
    let detail = expect_detail(
        server
            .upload(Some(&officer.token), &legacy, "pv.xlsx", xlsx_bytes(), &[])
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(detail.contains("docx"), "{detail}");
    // Nothing was stored by any refusal.
    let db = &server.state().db;
    assert_eq!(artifacts::Entity::find().count(db).await.unwrap(), 0);
    let row = cases::Entity::find_by_id(case["id"].as_str().unwrap())
        .one(db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.total_upload_size, Some(0));
    assert!(
        !server
            .data_dir
            .path()
            .join("uploads")
            .join(case["id"].as_str().unwrap())
            .exists()
    );
}

async fn too_large_file_is_413_and_leaves_nothing(db: TestDb) {
    let server = TestServer::start(db).await;
    let officer = server.user(Role::ProcurementOfficer).await;
    let case = server.create_case(&officer, "DAO", "Large").await;
    let path = format!("/api/cases/{}/upload-dao", case["id"].as_str().unwrap());
    // Exactly 50 MiB passes; one byte more does not.
    let limit = 52_428_800;
    let res = server
        .upload(
            Some(&officer.token),
            &path,
            "big.pdf",
            pdf_of_size(limit + 1),
            &[],
        )
        .await;
    let detail = expect_detail(res, StatusCode::PAYLOAD_TOO_LARGE).await;
    assert!(detail.contains("too large"), "{detail}");
    assert_eq!(
        std::fs::read_dir(server.data_dir.path().join("tmp"))
            .unwrap()
            .count(),
        0,
        "no temporary file stays"
    );
    let body = expect_json(
        server
            .upload(
                Some(&officer.token),
                &path,
                "big.pdf",
                pdf_of_size(limit),
                &[],
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(body["status"], "uploaded");
}

async fn quota_holds_under_50_concurrent_uploads(db: TestDb) {
    const UPLOADS: usize = 50;
    let backend = db.backend;
    // While the test holds the case row, the uploads beyond the pool's
    // size queue for a connection: give them time for it.
    let server = TestServer::start_with(db, |c| {
        c.db_acquire_timeout = std::time::Duration::from_secs(120)
    })
    .await;
    let officer = server.user(Role::ProcurementOfficer).await;
    let case = server.create_case(&officer, "DAO", "Quota").await;
    let id = case["id"].as_str().unwrap();
    expect_json(
        server
            .upload(
                Some(&officer.token),
                &format!("/api/cases/{id}/upload-dao"),
                "dao.pdf",
                pdf_bytes("DAO"),
                &[],
            )
            .await,
        StatusCode::OK,
    )
    .await;
    // The case already holds close to its quota: 50 uploads of 1 MiB
    // race for the last 10.5 MiB (the rule is the same as for 50 large
    // files, without writing gigabytes in a test).
    let db = &server.state().db;
    let already: i64 = 524_288_000 - 11 * 1024 * 1024 + 512 * 1024;
    cases::ActiveModel {
        id: Set(id.to_owned()),
        total_upload_size: Set(Some(already)),
        ..Default::default()
    }
    .update(db)
    .await
    .unwrap();
    let dao_size = already;
    let size = 1024 * 1024;
    let body = pdf_of_size(size);
    let path = format!("/api/cases/{id}/upload-offer");
    // PostgreSQL and MariaDB: the test locks the case row, which every
    // upload locks before its quota's conditional update, so that the
    // uploads are all inside
    // their transaction at once (or queued for a connection), and shows
    // they wait there before it lets them go. A quota read and written in
    // two steps would then lose updates. SQLite runs one writer at a time.
    let (holder, watcher) = (server.db.connect().await, server.db.connect().await);
    let held = match backend {
        Backend::Postgres | Backend::MySql => {
            let tx = holder.begin().await.unwrap();
            tx.execute_raw(Statement::from_sql_and_values(
                tx.get_database_backend(),
                match backend {
                    Backend::Postgres => "SELECT id FROM cases WHERE id = $1 FOR UPDATE",
                    _ => "SELECT id FROM cases WHERE id = ? FOR UPDATE",
                },
                [id.into()],
            ))
            .await
            .unwrap();
            Some(tx)
        }
        Backend::Sqlite => None,
    };
    let uploads: Vec<_> = (0..UPLOADS)
        .map(|i| {
            let form = reqwest::multipart::Form::new()
                .text("supplier_name", format!("Supplier {i}"))
                .text("offer_type", "financiere")
                .part(
                    "file",
                    reqwest::multipart::Part::bytes(body.clone()).file_name("offre.pdf"),
                );
            let request = server
                .http
                .post(server.url(&path))
                .bearer_auth(&officer.token)
                .multipart(form);
            tokio::spawn(async move { request.send().await.expect("upload").status() })
        })
        .collect();
    if let Some(tx) = held {
        let in_tx = testkit_db::lock_waits::pool_size(&server.state().db).min(UPLOADS as i64);
        testkit_db::lock_waits::until_waiting(
            &watcher,
            // Every write to a case starts by locking its row (the
            // committee's check and the quota in one transaction).
            Lock::Row("SELECT %FROM %cases%FOR UPDATE%"),
            in_tx,
            || uploads.iter().filter(|u| !u.is_finished()).count(),
            UPLOADS,
        )
        .await;
        tx.commit().await.unwrap();
    }
    let uploads = uploads
        .into_iter()
        .map(|u| async { u.await.expect("task") });
    let statuses = futures_util::future::join_all(uploads).await;
    let accepted = statuses.iter().filter(|s| **s == StatusCode::OK).count() as i64;
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::PAYLOAD_TOO_LARGE)
        .count() as i64;
    assert_eq!(
        accepted + refused,
        UPLOADS as i64,
        "only 200 or 413: {statuses:?}"
    );
    assert_eq!(
        accepted,
        (524_288_000 - dao_size) / size as i64,
        "the quota is filled, never passed"
    );
    let row = cases::Entity::find_by_id(id)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    let total = row.total_upload_size.unwrap();
    assert_eq!(
        total,
        dao_size + accepted * size as i64,
        "the stored total is the sum of accepted sizes"
    );
    assert!(total <= 524_288_000);
    assert_eq!(
        offers::Entity::find()
            .filter(offers::Column::CaseId.eq(id))
            .count(db)
            .await
            .unwrap() as i64,
        accepted
    );
    let files = std::fs::read_dir(server.data_dir.path().join("uploads").join(id))
        .unwrap()
        .count() as i64;
    assert_eq!(
        files,
        accepted + 1,
        "one file per accepted upload, none for the refused"
    );
    let detail = expect_detail(
        server
            .upload(
                Some(&officer.token),
                &path,
                "offre.pdf",
                pdf_of_size(size),
                &[("supplier_name", "Late"), ("offer_type", "financiere")],
            )
            .await,
        StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await;
    assert!(detail.starts_with("Case quota exceeded"), "{detail}");
}

async fn legacy_upload_route_has_the_same_checks(db: TestDb) {
    let server = TestServer::start(db).await;
    let officer = server.user(Role::ProcurementOfficer).await;
    let case = server.create_case(&officer, "DAO", "Legacy").await;
    let id = case["id"].as_str().unwrap();
    let res = server
        .upload(
            None,
            &format!("/api/upload/{id}/dao"),
            "dao.pdf",
            pdf_bytes("x"),
            &[],
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::UNAUTHORIZED,
        "D-12/D-13: no anonymous upload"
    );
    let detail = expect_detail(
        server
            .upload(
                Some(&officer.token),
                &format!("/api/upload/{id}/photo"),
                "a.pdf",
                pdf_bytes("x"),
                &[],
            )
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(
        detail,
        "kind must be one of ['cba_template', 'dao', 'offer', 'pv_template']"
    );
    let body = expect_json(
        server
            .upload(
                Some(&officer.token),
                &format!("/api/upload/{id}/DAO"),
                "dao.pdf",
                pdf_bytes("x"),
                &[],
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(body["ok"], true);
    assert!(
        body["filename"].as_str().unwrap().starts_with("dao_"),
        "the stored name"
    );
    // One DAO per case here too (D-19).
    let res = server
        .upload(
            Some(&officer.token),
            &format!("/api/upload/{id}/dao"),
            "dao2.pdf",
            pdf_bytes("y"),
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    // Templates, several allowed.
    for _ in 0..2 {
        expect_json(
            server
                .upload(
                    Some(&officer.token),
                    &format!("/api/upload/{id}/cba_template"),
                    "cba.xlsx",
                    xlsx_bytes(),
                    &[],
                )
                .await,
            StatusCode::OK,
        )
        .await;
    }
    expect_json(
        server
            .upload(
                Some(&officer.token),
                &format!("/api/upload/{id}/pv_template"),
                "pv.docx",
                docx_bytes("PV {{CASE_ID}}"),
                &[],
            )
            .await,
        StatusCode::OK,
    )
    .await;
    // An offer without a supplier is a file of the case; with one, an offer.
    expect_json(
        server
            .upload(
                Some(&officer.token),
                &format!("/api/upload/{id}/offer"),
                "offre_alpha.pdf",
                pdf_bytes("x"),
                &[],
            )
            .await,
        StatusCode::OK,
    )
    .await;
    expect_json(
        server
            .upload(
                Some(&officer.token),
                &format!("/api/upload/{id}/offer"),
                "offre.pdf",
                pdf_bytes("x"),
                &[("supplier_name", "BETA"), ("offer_type", "technique")],
            )
            .await,
        StatusCode::OK,
    )
    .await;
    expect_detail(
        server
            .upload(
                Some(&officer.token),
                &format!("/api/upload/{id}/offer"),
                "offre.pdf",
                pdf_bytes("x"),
                &[("supplier_name", "beta"), ("offer_type", "technique")],
            )
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    // Size limit on this route too (D-13).
    let res = server
        .upload(
            Some(&officer.token),
            &format!("/api/upload/{id}/offer"),
            "big.pdf",
            pdf_of_size(52_428_801),
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

async fn owner_rules_on_uploads(db: TestDb) {
    let server = TestServer::start(db).await;
    let owner = server.user(Role::ProcurementOfficer).await;
    let other = server.user(Role::ProcurementOfficer).await;
    let viewer = server.user(Role::Viewer).await;
    let admin = server.admin().await;
    let case = server.create_case(&owner, "DAO", "Owned").await;
    let path = format!("/api/cases/{}/upload-dao", case["id"].as_str().unwrap());
    // Not of the committee: the case does not exist for them.
    let detail = expect_detail(
        server
            .upload(Some(&other.token), &path, "dao.pdf", pdf_bytes("x"), &[])
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(detail, "Case not found");
    // An observer of the committee cannot write to it.
    server
        .add_member(&owner, case["id"].as_str().unwrap(), &viewer, "observer")
        .await;
    expect_detail(
        server
            .upload(Some(&viewer.token), &path, "dao.pdf", pdf_bytes("x"), &[])
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(
        server
            .upload(None, &path, "dao.pdf", pdf_bytes("x"), &[])
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let missing = server
        .upload(
            Some(&admin.token),
            "/api/cases/no-such/upload-dao",
            "dao.pdf",
            pdf_bytes("x"),
            &[],
        )
        .await;
    assert_eq!(
        expect_detail(missing, StatusCode::NOT_FOUND).await,
        "Case not found"
    );
    // The admin may upload to anyone's case.
    let body = expect_json(
        server
            .upload(Some(&admin.token), &path, "dao.pdf", pdf_bytes("x"), &[])
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(body["artifact_id"].is_string());
}

async fn crash_leftovers_are_removed_at_start(db: TestDb) {
    let mut server = TestServer::start(db).await;
    let officer = server.user(Role::ProcurementOfficer).await;
    let case = server.create_case(&officer, "DAO", "Crash").await;
    let id = case["id"].as_str().unwrap();
    let body = expect_json(
        server
            .upload(
                Some(&officer.token),
                &format!("/api/cases/{id}/upload-dao"),
                "dao.pdf",
                pdf_bytes("x"),
                &[],
            )
            .await,
        StatusCode::OK,
    )
    .await;
    // What a crash can leave: a half-received body, and a file moved into
    // place whose transaction never committed, two hours ago; the same an
    // instant old may be another instance's upload (a shared data
    // directory): they stay.
    let data = server.data_dir.path().to_owned();
    let dead = data.join("tmp").join("dead.part");
    std::fs::write(&dead, b"partial").unwrap();
    let orphan = data.join("uploads").join(id).join("offer_orphan.pdf");
    std::fs::write(&orphan, pdf_bytes("orphan")).unwrap();
    for old in [&dead, &orphan] {
        std::fs::File::options()
            .write(true)
            .open(old)
            .unwrap()
            .set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(7200))
            .unwrap();
    }
    let young_part = data.join("tmp").join("young.part");
    std::fs::write(&young_part, b"partial").unwrap();
    let young = data.join("uploads").join(id).join("offer_young.pdf");
    std::fs::write(&young, pdf_bytes("young")).unwrap();
    server.restart().await;
    assert!(!orphan.exists(), "the file no row names is removed");
    assert!(!dead.exists(), "the old body is removed");
    assert!(young.exists() && young_part.exists(), "young files stay");
    std::fs::remove_file(&young).unwrap();
    std::fs::remove_file(&young_part).unwrap();
    // Every artifact still points to its file.
    let db = &server.state().db;
    for artifact in artifacts::Entity::find().all(db).await.unwrap() {
        assert!(data.join(&artifact.path).exists(), "{}", artifact.path);
    }
    assert!(body["artifact_id"].is_string());
}
