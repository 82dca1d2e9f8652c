//! The ledger: a database untouched verifies clean; each tampering done
//! here through plain SQL or the file system is named by `verify`, on
//! every backend.

use dms::auth::Role;
use dms::ledger::{Options, Report};
use entity::{artifacts, cases, ledger_entries, memory_entries};
use reqwest::StatusCode;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
};
use serde_json::json;
use testkit::{TestServer, expect_json};
use testkit_db::{Backend, TestDb};

testkit::server_tests!(
    an_untouched_case_verifies_clean,
    a_changed_decision_reason_is_named,
    a_deleted_artifact_row_is_named,
    a_replaced_offer_file_is_named,
    a_deleted_stored_file_is_named,
    a_deleted_last_ledger_entry_is_named,
    two_swapped_entries_are_named,
    a_deleted_case_is_named,
    a_signed_pv_fingerprint_verifies_until_the_case_changes,
);

/// An analysed case with a decision; returns its id.
async fn decided_case(server: &TestServer) -> String {
    let officer = server.user(Role::ProcurementOfficer).await;
    let id = server
        .analysed_case(&officer, &["ALPHA SARL", "BETA SARL"])
        .await;
    expect_json(
        server
            .post_json(
                Some(&officer.token),
                "/api/decide",
                json!({"case_id": id, "chosen_supplier": "ALPHA SARL",
                       "decision_reason": "Moins disante", "next_action": "Notifier"}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    id
}

async fn verify(server: &TestServer) -> Report {
    dms::ledger::verify(
        &server.state().db,
        &server.state().data,
        &Options::default(),
        &|_| {},
    )
    .await
    .expect("verify runs")
}

/// Asserts one finding names `record` (a prefix) and says `what`.
fn assert_named(report: &Report, case_id: &str, record: &str, what: &str) {
    assert!(
        report.findings.iter().any(|f| f.record.starts_with(record)
            && f.what.contains(what)
            && f.case.as_deref().is_some()
            && f.to_string().contains(" of case ")),
        "no finding on {record} ({what}) of case {case_id}: {:#?}",
        report.findings
    );
}

async fn an_untouched_case_verifies_clean(db: TestDb) {
    let server = TestServer::start(db).await;
    decided_case(&server).await;
    let report = verify(&server).await;
    assert!(report.intact(), "{:#?}", report.findings);
    assert!(report.entries > 5, "{report:?}");
    assert!(report.files >= 5, "{report:?}");
}

async fn a_changed_decision_reason_is_named(db: TestDb) {
    let server = TestServer::start(db).await;
    let id = decided_case(&server).await;
    let db = &server.state().db;
    let decision = memory_entries::Entity::find()
        .filter(memory_entries::Column::CaseId.eq(id.as_str()))
        .filter(memory_entries::Column::EntryType.eq("decision"))
        .one(db)
        .await
        .unwrap()
        .unwrap();
    let changed = decision
        .content_json
        .replace("Moins disante", "Mieux disante");
    memory_entries::Entity::update_many()
        .col_expr(memory_entries::Column::ContentJson, Expr::value(changed))
        .filter(memory_entries::Column::Id.eq(decision.id.as_str()))
        .exec(db)
        .await
        .unwrap();
    let report = verify(&server).await;
    assert_named(
        &report,
        &id,
        &format!("memory_entries/{}", decision.id),
        "changed after it was recorded",
    );
}

async fn offer(db: &DatabaseConnection, case_id: &str) -> artifacts::Model {
    artifacts::Entity::find()
        .filter(artifacts::Column::CaseId.eq(case_id))
        .filter(artifacts::Column::Kind.eq("offer"))
        .one(db)
        .await
        .unwrap()
        .unwrap()
}

async fn a_deleted_artifact_row_is_named(db: TestDb) {
    let server = TestServer::start(db).await;
    let id = decided_case(&server).await;
    let db = &server.state().db;
    let pv = artifacts::Entity::find()
        .filter(artifacts::Column::CaseId.eq(id.as_str()))
        .filter(artifacts::Column::Kind.eq("output_pv"))
        .one(db)
        .await
        .unwrap()
        .unwrap();
    artifacts::Entity::delete_by_id(pv.id.as_str())
        .exec(db)
        .await
        .unwrap();
    let report = verify(&server).await;
    assert_named(
        &report,
        &id,
        &format!("artifacts/{}", pv.id),
        "deleted after it was recorded",
    );
}

async fn a_replaced_offer_file_is_named(db: TestDb) {
    let server = TestServer::start(db).await;
    let id = decided_case(&server).await;
    let offer = offer(&server.state().db, &id).await;
    let path = server.data_dir.path().join(&offer.path);
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 2;
    bytes[last] ^= 0x01;
    std::fs::write(&path, &bytes).unwrap();
    let report = verify(&server).await;
    assert_named(
        &report,
        &id,
        &format!("file/{}", offer.id),
        "differs from the one recorded",
    );
}

async fn a_deleted_stored_file_is_named(db: TestDb) {
    let server = TestServer::start(db).await;
    let id = decided_case(&server).await;
    let offer = offer(&server.state().db, &id).await;
    std::fs::remove_file(server.data_dir.path().join(&offer.path)).unwrap();
    let report = verify(&server).await;
    assert_named(&report, &id, &format!("file/{}", offer.id), "missing");
}

/// PostgreSQL refuses changes to the ledger (its trigger): the tamperer
/// disables it first, as a database owner could.
async fn unguard(db: &DatabaseConnection, backend: Backend) {
    if backend == Backend::Postgres {
        db.execute_unprepared(
            "ALTER TABLE ledger_entries DISABLE TRIGGER ledger_entries_append_only",
        )
        .await
        .unwrap();
    }
}

async fn case_entries(db: &DatabaseConnection, case_id: &str) -> Vec<ledger_entries::Model> {
    ledger_entries::Entity::find()
        .filter(ledger_entries::Column::Chain.eq(format!("case:{case_id}")))
        .order_by_asc(ledger_entries::Column::Seq)
        .all(db)
        .await
        .unwrap()
}

async fn a_deleted_last_ledger_entry_is_named(db: TestDb) {
    let backend = db.backend;
    let server = TestServer::start(db).await;
    let id = decided_case(&server).await;
    let db = &server.state().db;
    let last = case_entries(db, &id).await.pop().unwrap();
    // The trigger refuses it on PostgreSQL.
    if backend == Backend::Postgres {
        let refused = ledger_entries::Entity::delete_many()
            .filter(ledger_entries::Column::Chain.eq(last.chain.as_str()))
            .exec(db)
            .await;
        assert!(refused.is_err(), "the trigger refuses DELETE");
    }
    unguard(db, backend).await;
    ledger_entries::Entity::delete_many()
        .filter(ledger_entries::Column::Chain.eq(last.chain.as_str()))
        .filter(ledger_entries::Column::Seq.eq(last.seq))
        .exec(db)
        .await
        .unwrap();
    let report = verify(&server).await;
    assert_named(&report, &id, "ledger chain case:", "deleted from its end");
}

async fn two_swapped_entries_are_named(db: TestDb) {
    let backend = db.backend;
    let server = TestServer::start(db).await;
    let id = decided_case(&server).await;
    let db = &server.state().db;
    let entries = case_entries(db, &id).await;
    let (a, b) = (&entries[1], &entries[2]);
    unguard(db, backend).await;
    for (from, to) in [(a.seq, -1), (b.seq, a.seq), (-1, b.seq)] {
        ledger_entries::Entity::update_many()
            .col_expr(ledger_entries::Column::Seq, Expr::value(to))
            .filter(ledger_entries::Column::Chain.eq(a.chain.as_str()))
            .filter(ledger_entries::Column::Seq.eq(from))
            .exec(db)
            .await
            .unwrap();
    }
    let report = verify(&server).await;
    assert_named(&report, &id, "ledger entry ", "does not match its hash");
}

async fn a_deleted_case_is_named(db: TestDb) {
    let backend = db.backend;
    let server = TestServer::start(db).await;
    let id = decided_case(&server).await;
    let kept = decided_case(&server).await;
    let db = &server.state().db;
    unguard(db, backend).await;
    // The case, its rows (cascading), its chain and its head.
    ledger_entries::Entity::delete_many()
        .filter(ledger_entries::Column::Chain.eq(format!("case:{id}")))
        .exec(db)
        .await
        .unwrap();
    entity::ledger_heads::Entity::delete_by_id(format!("case:{id}"))
        .exec(db)
        .await
        .unwrap();
    for table in [
        "audits",
        "offer_extractions",
        "dao_criteria",
        "analyses",
        "memory_entries",
        "documents",
        "offers",
        "artifacts",
        "case_members",
    ] {
        db.execute_unprepared(&format!("DELETE FROM {table} WHERE case_id = '{id}'"))
            .await
            .unwrap();
    }
    // The case and its reference point at each other: unlink first.
    db.execute_unprepared(&format!("UPDATE cases SET ref_id = NULL WHERE id = '{id}'"))
        .await
        .unwrap();
    cases::Entity::delete_by_id(id.as_str())
        .exec(db)
        .await
        .unwrap();
    db.execute_unprepared(&format!(
        "DELETE FROM procurement_references WHERE case_id = '{id}'"
    ))
    .await
    .unwrap();
    let report = verify(&server).await;
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.record == format!("case {id}") && f.what.contains("chain is missing")),
        "{:#?}",
        report.findings
    );
    assert!(
        report.findings.iter().all(|f| !f.record.contains(&kept)),
        "the other case is intact: {:#?}",
        report.findings
    );
}

/// The ledger fingerprint printed on the case's newest PV.
async fn printed_fingerprint(server: &TestServer, token: &str, case_id: &str) -> String {
    let response = server
        .get(Some(token), &format!("/api/download/{case_id}/output_pv"))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = response.bytes().await.expect("the PV downloads");
    let paragraphs = analysis::docx_paragraphs("pv.docx", &bytes).expect("the PV reads");
    let line = paragraphs
        .iter()
        .find_map(|p| p.split("Empreinte du registre : ").nth(1))
        .unwrap_or_else(|| panic!("no ledger fingerprint in the PV: {paragraphs:#?}"));
    let fingerprint: String = line.chars().take(19).collect();
    assert!(
        fingerprint.len() == 19 && fingerprint.split('-').all(|g| g.len() == 4),
        "{line}"
    );
    fingerprint
}

async fn verify_expecting(server: &TestServer, case_id: &str, fingerprint: &str) -> Report {
    dms::ledger::verify(
        &server.state().db,
        &server.state().data,
        &Options {
            case: Some(case_id.to_owned()),
            expect: Some(fingerprint.to_owned()),
        },
        &|_| {},
    )
    .await
    .expect("verify runs")
}

async fn a_signed_pv_fingerprint_verifies_until_the_case_changes(db: TestDb) {
    let server = TestServer::start(db).await;
    let officer = server.user(Role::ProcurementOfficer).await;
    let id = server
        .analysed_case(&officer, &["ALPHA SARL", "BETA SARL"])
        .await;
    let decide = || {
        server.post_json(
            Some(&officer.token),
            "/api/decide",
            json!({"case_id": id, "chosen_supplier": "ALPHA SARL",
                   "decision_reason": "Moins disante", "next_action": "Notifier"}),
        )
    };
    expect_json(decide().await, StatusCode::OK).await;
    let fingerprint = printed_fingerprint(&server, &officer.token, &id).await;
    let report = verify_expecting(&server, &id, &fingerprint).await;
    assert!(report.intact(), "{:#?}", report.findings);

    expect_json(decide().await, StatusCode::OK).await;
    let report = verify_expecting(&server, &id, &fingerprint).await;
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.record.contains("decision_recorded")
                && f.what.contains("after the signed fingerprint")),
        "{:#?}",
        report.findings
    );
}
