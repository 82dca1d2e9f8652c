//! A case's documents over their life: the type each file earns from its
//! content (and is served with, as an attachment nothing may run), the
//! files refused for what else they are (legacy formats, polyglots), and
//! documents withdrawn or replaced so that one bad file never blocks a case.

use dms::auth::Role;
use entity::{artifacts, audits, cases, offers};
use reqwest::StatusCode;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter,
};
use serde_json::{Value, json};
use testkit::{
    TestServer, TestUser, broken_pdf, docx_bytes, expect_detail, expect_json, pdf_bytes,
};
use testkit_db::TestDb;

testkit::server_tests!(
    a_file_is_typed_and_served_by_its_content,
    legacy_formats_and_polyglots_are_refused,
    a_poisoned_case_recovers_after_its_bad_file_is_withdrawn,
    a_replaced_offer_keeps_its_supplier_and_its_history,
    withdrawals_follow_the_case_rules,
    a_withdrawn_offer_stays_sealed,
    generated_documents_count_against_the_quota,
    a_pv_keeps_only_the_template_parts_it_uses,
);

async fn new_case(server: &TestServer, owner: &TestUser, closing: Option<&str>) -> String {
    let mut body = json!({"case_type": "DAO", "title": "Documents"});
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
    case["id"].as_str().expect("id").to_owned()
}

async fn upload_offer(
    server: &TestServer,
    owner: &TestUser,
    case_id: &str,
    supplier: &str,
    bytes: Vec<u8>,
) -> reqwest::Response {
    server
        .upload(
            Some(&owner.token),
            &format!("/api/cases/{case_id}/upload-offer"),
            "offre.pdf",
            bytes,
            &[("supplier_name", supplier), ("offer_type", "technique")],
        )
        .await
}

async fn withdraw(
    server: &TestServer,
    who: &TestUser,
    case_id: &str,
    artifact_id: &str,
    body: Value,
) -> reqwest::Response {
    server
        .post_json(
            Some(&who.token),
            &format!("/api/cases/{case_id}/artifacts/{artifact_id}/withdraw"),
            body,
        )
        .await
}

async fn replace(
    server: &TestServer,
    who: &TestUser,
    case_id: &str,
    artifact_id: &str,
    bytes: Vec<u8>,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    server
        .upload(
            Some(&who.token),
            &format!("/api/cases/{case_id}/artifacts/{artifact_id}/replace"),
            "nouveau.pdf",
            bytes,
            fields,
        )
        .await
}

fn header<'a>(res: &'a reqwest::Response, name: &str) -> &'a str {
    res.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

async fn a_file_is_typed_and_served_by_its_content(db: TestDb) {
    let server = TestServer::start(db).await;
    let owner = server.user(Role::ProcurementOfficer).await;
    let id = new_case(&server, &owner, None).await;
    // A real PDF under a name Windows would run: accepted as the PDF it is.
    let res = server
        .upload(
            Some(&owner.token),
            &format!("/api/cases/{id}/upload-dao"),
            "prix.hta",
            pdf_bytes("Dossier d'appel d'offres"),
            &[],
        )
        .await;
    let body = expect_json(res, StatusCode::OK).await;
    // Production's contract: the answer names the client's file.
    assert_eq!(body["filename"], "prix.hta");
    let artifact = body["artifact_id"].as_str().expect("artifact id");
    let row = artifacts::Entity::find_by_id(artifact)
        .one(&server.state().db)
        .await
        .unwrap()
        .expect("row");
    assert!(row.path.ends_with(".pdf"), "stored as {}", row.path);

    let res = server
        .get(
            Some(&owner.token),
            &format!("/api/cases/{id}/artifacts/{artifact}"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "content-type"), "application/pdf");
    let disposition = header(&res, "content-disposition");
    assert!(
        disposition.starts_with("attachment;") && disposition.contains("filename=\"prix.pdf\""),
        "{disposition}"
    );
    assert!(!disposition.contains("hta"), "{disposition}");
    assert_eq!(header(&res, "x-content-type-options"), "nosniff");
    let csp = header(&res, "content-security-policy");
    assert!(
        csp.contains("sandbox") && csp.contains("default-src 'none'"),
        "{csp}"
    );
}

/// A legacy Word file: the OLE header and Word's signature at 512.
fn legacy_doc() -> Vec<u8> {
    let mut bytes = vec![0u8; 2048];
    bytes[..8].copy_from_slice(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]);
    bytes[512..516].copy_from_slice(&[0xEC, 0xA5, 0xC1, 0x00]);
    bytes
}

/// A Word document carrying an HTA part stored uncompressed.
fn docx_with_stored_hta() -> Vec<u8> {
    use std::io::Write;
    let base = docx_bytes("Offre");
    let mut source = zip::ZipArchive::new(std::io::Cursor::new(base)).expect("docx");
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for i in 0..source.len() {
        let entry = source.by_index_raw(i).expect("entry");
        out.raw_copy_file(entry).expect("copy");
    }
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    out.start_file("docProps/app.hta", stored).expect("entry");
    out.write_all(b"<HTA:APPLICATION ID=\"x\"><script>new ActiveXObject('WScript.Shell')</script>")
        .expect("write");
    out.finish().expect("zip").into_inner()
}

async fn legacy_formats_and_polyglots_are_refused(db: TestDb) {
    let server = TestServer::start(db).await;
    let owner = server.user(Role::ProcurementOfficer).await;
    let id = new_case(&server, &owner, None).await;
    let path = format!("/api/cases/{id}/upload-dao");

    let detail = expect_detail(
        server
            .upload(Some(&owner.token), &path, "ancien.doc", legacy_doc(), &[])
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(
        detail.starts_with("Invalid file type: application/")
            && detail.contains("legacy .doc and .xls"),
        "{detail}"
    );

    let mut pdf_hta = pdf_bytes("Offre");
    pdf_hta.extend_from_slice(
        b"\n<HTA:APPLICATION WINDOWSTATE=\"minimize\">\n<script language=\"VBScript\">CreateObject(\"WScript.Shell\").Run \"calc\"</script>\n",
    );
    let mut pdf_html = pdf_bytes("Offre");
    pdf_html.extend_from_slice(b"\n<!DOCTYPE html><HTML><body onload=alert(1)></body></HTML>\n");
    for (name, bytes, marker) in [
        ("offre.pdf", pdf_hta, "<hta:"),
        ("offre2.pdf", pdf_html, "<!doctype html"),
        ("offre.docx", docx_with_stored_hta(), "<hta:"),
    ] {
        let detail = expect_detail(
            server
                .upload(Some(&owner.token), &path, name, bytes, &[])
                .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert!(
            detail.starts_with("Refused file") && detail.contains(marker),
            "{name}: {detail}"
        );
    }
    // Nothing of any refusal was kept.
    let db = &server.state().db;
    assert_eq!(artifacts::Entity::find().count(db).await.unwrap(), 0);
    assert!(!server.data_dir.path().join("uploads").join(&id).exists());
    // The same documents without their passengers are accepted.
    let res = server
        .upload(
            Some(&owner.token),
            &path,
            "dao.docx",
            docx_bytes("Offre"),
            &[],
        )
        .await;
    expect_json(res, StatusCode::OK).await;
}

async fn a_poisoned_case_recovers_after_its_bad_file_is_withdrawn(db: TestDb) {
    let server = TestServer::start(db).await;
    let owner = server.user(Role::ProcurementOfficer).await;
    let id = new_case(&server, &owner, None).await;
    // A damaged DAO passes the magic-byte check.
    let dao = expect_json(
        server
            .upload(
                Some(&owner.token),
                &format!("/api/cases/{id}/upload-dao"),
                "dao.pdf",
                broken_pdf(),
                &[],
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let bad = dao["artifact_id"].as_str().expect("id").to_owned();
    let res = upload_offer(
        &server,
        &owner,
        &id,
        "ACME SARL",
        pdf_bytes("OFFRE TECHNIQUE ACME Montant total : 1.500.000 FCFA"),
    )
    .await;
    expect_json(res, StatusCode::OK).await;
    let run = expect_json(server.analyze(&owner, &id).await, StatusCode::OK).await;
    assert_eq!(run["dao_criteria_count"], 0, "{run}");
    let reviewed = run["warnings"]["manual_review_documents"].to_string();
    assert!(reviewed.contains(&bad), "{reviewed}");
    // A second DAO is refused while the bad one is the case's DAO.
    let res = server
        .upload(
            Some(&owner.token),
            &format!("/api/cases/{id}/upload-dao"),
            "dao.docx",
            analysis::fixtures::dao_docx(),
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);

    let withdrawn = expect_json(
        withdraw(
            &server,
            &owner,
            &id,
            &bad,
            json!({"reason": "Fichier endommagé, renvoyé par le service"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(withdrawn["status"], "withdrawn");
    assert_eq!(withdrawn["kind"], "withdrawn_dao");
    server.upload_dao(&owner, &id, "dao.docx").await;
    let run = expect_json(server.analyze(&owner, &id).await, StatusCode::OK).await;
    assert!(
        run["dao_criteria_count"].as_u64().unwrap_or(0) > 0,
        "the new DAO is read: {run}"
    );
    let reviewed = run["warnings"]["manual_review_documents"].to_string();
    assert!(
        !reviewed.contains(&bad),
        "the withdrawn DAO is not read: {reviewed}"
    );

    // Kept in the history: its row, its file and the audit of who and why.
    let db = &server.state().db;
    let row = artifacts::Entity::find_by_id(bad.as_str())
        .one(db)
        .await
        .unwrap()
        .expect("kept");
    assert_eq!(row.kind, "withdrawn_dao");
    let meta: Value = serde_json::from_str(row.meta_json.as_deref().unwrap_or("{}")).unwrap();
    assert_eq!(
        meta["withdrawal_reason"],
        "Fichier endommagé, renvoyé par le service"
    );
    assert_eq!(meta["withdrawn_by"], owner.id);
    assert!(server.data_dir.path().join(&row.path).is_file());
    let audit = audits::Entity::find()
        .filter(audits::Column::CaseId.eq(id.as_str()))
        .filter(audits::Column::Action.eq("withdraw_dao"))
        .one(db)
        .await
        .unwrap()
        .expect("audited");
    assert_eq!(audit.user_id, Some(owner.id.to_string()));
    assert!(
        audit
            .new_value
            .as_deref()
            .unwrap_or("")
            .contains("Fichier endommag"),
        "{audit:?}"
    );
    // The case file lists it as withdrawn; its file can still be read.
    let file = expect_json(
        server
            .get(Some(&owner.token), &format!("/api/cases/{id}"))
            .await,
        StatusCode::OK,
    )
    .await;
    let kinds = file["artifacts"].to_string();
    assert!(kinds.contains("withdrawn_dao"), "{kinds}");
    let res = server
        .get(
            Some(&owner.token),
            &format!("/api/cases/{id}/artifacts/{bad}"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
}

async fn a_replaced_offer_keeps_its_supplier_and_its_history(db: TestDb) {
    let server = TestServer::start(db).await;
    let owner = server.user(Role::ProcurementOfficer).await;
    let id = new_case(&server, &owner, None).await;
    server.upload_dao(&owner, &id, "dao.docx").await;
    let first = expect_json(
        upload_offer(&server, &owner, &id, "ACME SARL", broken_pdf()).await,
        StatusCode::OK,
    )
    .await;
    let old = first["artifact_id"].as_str().expect("id").to_owned();
    // A reason is required.
    let res = replace(
        &server,
        &owner,
        &id,
        &old,
        pdf_bytes("OFFRE TECHNIQUE ACME"),
        &[],
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // A replacement is checked like an upload: a polyglot is refused and
    // the old offer stays.
    let mut polyglot = pdf_bytes("x");
    polyglot.extend_from_slice(b"<script>alert(1)</script>");
    let res = replace(
        &server,
        &owner,
        &id,
        &old,
        polyglot,
        &[("reason", "Version lisible")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let db = &server.state().db;
    assert_eq!(
        artifacts::Entity::find_by_id(old.as_str())
            .one(db)
            .await
            .unwrap()
            .expect("row")
            .kind,
        "offer"
    );

    let body = expect_json(
        replace(
            &server,
            &owner,
            &id,
            &old,
            pdf_bytes("OFFRE TECHNIQUE ACME Montant total : 1.500.000 FCFA"),
            &[("reason", "Version lisible envoyée par le fournisseur")],
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(body["replaces"], old.as_str());
    assert_eq!(body["supplier_name"], "ACME SARL");
    assert_eq!(body["kind"], "offer");
    let new = body["artifact_id"].as_str().expect("id").to_owned();
    // One offer of that supplier and type, the new file.
    let rows = offers::Entity::find()
        .filter(offers::Column::CaseId.eq(id.as_str()))
        .all(db)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].supplier_name, "ACME SARL");
    let old_row = artifacts::Entity::find_by_id(old.as_str())
        .one(db)
        .await
        .unwrap()
        .expect("kept");
    assert_eq!(old_row.kind, "withdrawn_offer");
    assert!(old_row.meta_json.as_deref().unwrap_or("").contains(&new));
    let run = expect_json(server.analyze(&owner, &id).await, StatusCode::OK).await;
    let sources = run.to_string();
    assert!(
        !sources.contains(&old),
        "the withdrawn offer is not read: {run}"
    );
    // Replacing the new one by itself again works; the withdrawn one cannot be.
    let res = replace(
        &server,
        &owner,
        &id,
        &old,
        pdf_bytes("x"),
        &[("reason", "encore")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

async fn withdrawals_follow_the_case_rules(db: TestDb) {
    let server = TestServer::start(db).await;
    let owner = server.user(Role::ProcurementOfficer).await;
    let stranger = server.user(Role::ProcurementOfficer).await;
    let observer = server.user(Role::ProcurementOfficer).await;
    let id = new_case(&server, &owner, None).await;
    server.add_member(&owner, &id, &observer, "observer").await;
    let dao = expect_json(
        server
            .upload(
                Some(&owner.token),
                &format!("/api/cases/{id}/upload-dao"),
                "dao.docx",
                analysis::fixtures::dao_docx(),
                &[],
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let dao = dao["artifact_id"].as_str().expect("id").to_owned();
    let reason = json!({"reason": "erreur"});
    // The case's existence is confidential.
    let res = withdraw(&server, &stranger, &id, &dao, reason.clone()).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // Only whoever manages the case withdraws.
    let res = withdraw(&server, &observer, &id, &dao, reason.clone()).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // A reason is required, and plain text.
    for body in [
        json!({}),
        json!({"reason": "  "}),
        json!({"reason": "x".repeat(1001)}),
        json!({"reason": "a\u{0}b"}),
    ] {
        let res = withdraw(&server, &owner, &id, &dao, body.clone()).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    }
    // Unknown, generated and already withdrawn documents are not found.
    let res = withdraw(&server, &owner, &id, "no-such-id", reason.clone()).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = upload_offer(&server, &owner, &id, "ACME", pdf_bytes("OFFRE ACME")).await;
    expect_json(res, StatusCode::OK).await;
    expect_json(server.analyze(&owner, &id).await, StatusCode::OK).await;
    let db = &server.state().db;
    let output = artifacts::Entity::find()
        .filter(artifacts::Column::CaseId.eq(id.as_str()))
        .filter(artifacts::Column::Kind.eq("output_cba"))
        .one(db)
        .await
        .unwrap()
        .expect("output");
    let res = withdraw(&server, &owner, &id, &output.id, reason.clone()).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    expect_json(
        withdraw(&server, &owner, &id, &dao, reason.clone()).await,
        StatusCode::OK,
    )
    .await;
    let res = withdraw(&server, &owner, &id, &dao, reason).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // Without a DAO the next analysis says so; nothing reads the old one.
    let detail = expect_detail(server.analyze(&owner, &id).await, StatusCode::BAD_REQUEST).await;
    assert!(detail.starts_with("Missing DAO"), "{detail}");
}

async fn a_withdrawn_offer_stays_sealed(db: TestDb) {
    let server = TestServer::start(db).await;
    let owner = server.user(Role::ProcurementOfficer).await;
    // Opening date passed, offers not opened yet: sealed.
    let id = new_case(&server, &owner, Some("2020-01-01T10:00:00Z")).await;
    server.upload_dao(&owner, &id, "dao.docx").await;
    let offer = expect_json(
        upload_offer(&server, &owner, &id, "ACME SARL", pdf_bytes("OFFRE ACME")).await,
        StatusCode::OK,
    )
    .await;
    let first = offer["artifact_id"].as_str().expect("id").to_owned();
    // A bidder may withdraw before the opening.
    expect_json(
        withdraw(
            &server,
            &owner,
            &id,
            &first,
            json!({"reason": "Retrait demandé par le soumissionnaire"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    // Withdrawn, the offer is as sealed as the others.
    let res = server
        .get(
            Some(&owner.token),
            &format!("/api/cases/{id}/artifacts/{first}"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let file = expect_json(
        server
            .get(Some(&owner.token), &format!("/api/cases/{id}"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(
        !file["artifacts"].to_string().contains(&first),
        "{}",
        file["artifacts"]
    );
    // After the opening, no offer can be withdrawn any more.
    let second = expect_json(
        upload_offer(&server, &owner, &id, "BETA SA", pdf_bytes("OFFRE BETA")).await,
        StatusCode::OK,
    )
    .await;
    let second = second["artifact_id"].as_str().expect("id").to_owned();
    expect_json(
        server
            .post_json(
                Some(&owner.token),
                &format!("/api/cases/{id}/open"),
                json!({}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let detail = expect_detail(
        withdraw(
            &server,
            &owner,
            &id,
            &second,
            json!({"reason": "trop tard"}),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert!(detail.contains("opened"), "{detail}");
}

/// The bytes the case's stored files take on disk, by kind.
fn stored_bytes(server: &TestServer, rows: &[artifacts::Model], kinds: &[&str]) -> i64 {
    rows.iter()
        .filter(|a| kinds.contains(&a.kind.as_str()))
        .map(|a| {
            std::fs::metadata(server.data_dir.path().join(&a.path))
                .map(|m| m.len() as i64)
                .unwrap_or_else(|e| panic!("{}: {e}", a.path))
        })
        .sum()
}

async fn used(server: &TestServer, case_id: &str) -> i64 {
    cases::Entity::find_by_id(case_id)
        .one(&server.state().db)
        .await
        .unwrap()
        .expect("case")
        .total_upload_size
        .unwrap_or(0)
}

async fn generated_documents_count_against_the_quota(db: TestDb) {
    let server = TestServer::start(db).await;
    let owner = server.user(Role::ProcurementOfficer).await;
    let id = server.fixture_case(&owner).await;
    let db = &server.state().db;
    let rows = || async {
        artifacts::Entity::find()
            .filter(artifacts::Column::CaseId.eq(id.as_str()))
            .all(db)
            .await
            .unwrap()
    };
    let uploads = stored_bytes(
        &server,
        &rows().await,
        &["dao", "offer", "cba_template", "pv_template"],
    );
    assert_eq!(used(&server, &id).await, uploads);
    // A run's CBA and PV count; a second run replaces them, space and all.
    for _ in 0..2 {
        expect_json(server.analyze(&owner, &id).await, StatusCode::OK).await;
        let all = rows().await;
        let outputs = stored_bytes(&server, &all, &["output_cba", "output_pv"]);
        assert!(outputs > 0);
        assert_eq!(used(&server, &id).await, uploads + outputs);
    }
    // Every decision keeps its PV: it counts.
    let supplier = {
        let run = expect_json(server.analyze(&owner, &id).await, StatusCode::OK).await;
        run["analysis"]["suppliers"][0]["supplier_name"]
            .as_str()
            .expect("a supplier")
            .to_owned()
    };
    let decision = json!({
        "case_id": id,
        "chosen_supplier": supplier,
        "decision_reason": "Mieux-disant",
        "next_action": "Notifier",
    });
    expect_json(
        server
            .post_json(Some(&owner.token), "/api/decide", decision.clone())
            .await,
        StatusCode::OK,
    )
    .await;
    let all = rows().await;
    let outputs = stored_bytes(&server, &all, &["output_cba", "output_pv"]);
    assert_eq!(all.iter().filter(|a| a.kind == "output_pv").count(), 2);
    assert_eq!(used(&server, &id).await, uploads + outputs);

    // A case whose files fill its quota gets no more generated documents:
    // a decision (its PV) and a first run are refused, and nothing of
    // either is kept. (A run that replaces a run needs no more space.)
    let fresh = server.fixture_case(&owner).await;
    for case_id in [&id, &fresh] {
        let mut case: cases::ActiveModel = cases::Entity::find_by_id(case_id.as_str())
            .one(db)
            .await
            .unwrap()
            .expect("case")
            .into();
        case.total_upload_size = Set(Some(524_288_000 - 10));
        case.update(db).await.unwrap();
    }
    let before = server.snapshot().await;
    let detail = expect_detail(
        server
            .post_json(Some(&owner.token), "/api/decide", decision)
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert!(detail.starts_with("Case quota exceeded"), "{detail}");
    let detail = expect_detail(server.analyze(&owner, &fresh).await, StatusCode::CONFLICT).await;
    assert!(detail.starts_with("Case quota exceeded"), "{detail}");
    if let Some(change) = before.difference(&server.snapshot().await) {
        panic!("a refused run or decision changed {change}");
    }
}

/// A Word template with a part nothing refers to (as a template edited
/// over the years carries), of `junk` bytes that do not compress.
fn template_with_unused_part(junk: usize) -> Vec<u8> {
    use std::io::Write;
    let base = analysis::fixtures::pv_template_docx();
    let mut source = zip::ZipArchive::new(std::io::Cursor::new(base)).expect("docx");
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for i in 0..source.len() {
        out.raw_copy_file(source.by_index_raw(i).expect("entry"))
            .expect("copy");
    }
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    out.start_file("word/media/unused.bin", stored)
        .expect("entry");
    let mut state = 0x2545_f491_u32;
    let noise: Vec<u8> = (0..junk)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state as u8
        })
        .collect();
    out.write_all(&noise).expect("write");
    out.finish().expect("zip").into_inner()
}

async fn a_pv_keeps_only_the_template_parts_it_uses(db: TestDb) {
    let server = TestServer::start(db).await;
    let owner = server.user(Role::ProcurementOfficer).await;
    let id = server.analysed_case(&owner, &["ACME"]).await;
    let template = template_with_unused_part(4 << 20);
    let res = server
        .upload(
            Some(&owner.token),
            &format!("/api/upload/{id}/pv_template"),
            "pv.docx",
            template.clone(),
            &[],
        )
        .await;
    expect_json(res, StatusCode::OK).await;
    expect_json(server.analyze(&owner, &id).await, StatusCode::OK).await;
    let res = server
        .get(Some(&owner.token), &format!("/api/download/{id}/output_pv"))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let pv = res.bytes().await.unwrap().to_vec();
    assert!(
        pv.len() < template.len() / 4,
        "PV of {} bytes from a template of {}",
        pv.len(),
        template.len()
    );
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(pv)).expect("the PV is a package");
    let names: Vec<String> = archive
        .file_names()
        .filter_map(|n| n.ok().map(|n| n.into_owned()))
        .collect();
    assert!(
        !names.iter().any(|n| n == "word/media/unused.bin"),
        "{names:?}"
    );
    // What the document refers to is kept, and the PV reads as one.
    for part in [
        "[Content_Types].xml",
        "_rels/.rels",
        "word/document.xml",
        "word/_rels/document.xml.rels",
        "word/styles.xml",
    ] {
        assert!(names.iter().any(|n| n == part), "{part} in {names:?}");
    }
    let mut xml = String::new();
    std::io::Read::read_to_string(
        &mut archive.by_name("word/document.xml").expect("document"),
        &mut xml,
    )
    .unwrap();
    assert!(xml.contains("ACME"), "the PV names the supplier");
}
