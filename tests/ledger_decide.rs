//! The decision against the run it was checked with, and generated PVs
//! whose metadata cannot be read, on every backend.

use dms::auth::Role;
use entity::{artifacts, memory_entries};
use reqwest::StatusCode;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Statement,
    TransactionTrait,
};
use serde_json::json;
use testkit::{TestServer, expect_json};
use testkit_db::lock_waits::Lock;
use testkit_db::{Backend, TestDb};

testkit::server_tests!(
    a_run_finishing_before_a_decision_is_written_is_the_run_it_is_checked_against,
    a_pv_whose_metadata_cannot_be_read_is_kept_by_the_next_run,
);

/// The id of the offer artifact of `supplier` in case `case_id`.
async fn offer_of(server: &TestServer, case_id: &str, supplier: &str) -> String {
    artifacts::Entity::find()
        .filter(artifacts::Column::CaseId.eq(case_id))
        .filter(artifacts::Column::Kind.eq("offer"))
        .all(&server.state().db)
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.meta_json.as_deref().unwrap_or("").contains(supplier))
        .map(|a| a.id)
        .expect("the supplier's offer")
}

async fn a_run_finishing_before_a_decision_is_written_is_the_run_it_is_checked_against(db: TestDb) {
    let backend = db.backend;
    let server = TestServer::start(db).await;
    let officer = server.user(Role::ProcurementOfficer).await;
    // Run 1 analysed ALPHA and BETA; BETA's offer is then withdrawn, so the
    // next run has ALPHA only.
    let id = server
        .analysed_case(&officer, &["ALPHA SARL", "BETA SARL"])
        .await;
    let beta = offer_of(&server, &id, "BETA SARL").await;
    expect_json(
        server
            .post_json(
                Some(&officer.token),
                &format!("/api/cases/{id}/artifacts/{beta}/withdraw"),
                json!({"reason": "Offre retirée par le fournisseur"}),
            )
            .await,
        StatusCode::OK,
    )
    .await;

    // PostgreSQL and MariaDB: the test holds the case's row lock, lets the
    // second run reach it (its extraction done, its write waiting), then
    // the decision for BETA (checked, before this fix, against run 1). Row
    // lock waiters are served in order: the run writes first. SQLite has
    // one writer at a time and no lock a test can watch: both go at once.
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
                [id.clone().into()],
            ))
            .await
            .unwrap();
            Some(tx)
        }
        Backend::Sqlite => None,
    };
    let lock = Lock::Row("SELECT %FROM %cases%FOR UPDATE%");
    let run = {
        let request = server
            .http
            .post(server.url("/api/analyze"))
            .bearer_auth(&officer.token)
            .json(&json!({"case_id": id}));
        tokio::spawn(async move { request.send().await.expect("analyze").status() })
    };
    if held.is_some() {
        testkit_db::lock_waits::until_waiting(&watcher, lock, 1, || !run.is_finished() as usize, 1)
            .await;
    }
    let decision = {
        let request = server
            .http
            .post(server.url("/api/decide"))
            .bearer_auth(&officer.token)
            .json(&json!({
                "case_id": id,
                "chosen_supplier": "BETA SARL",
                "decision_reason": "Meilleure offre",
                "next_action": "Notifier",
            }));
        tokio::spawn(async move {
            let res = request.send().await.expect("decide");
            (res.status(), res.text().await.unwrap_or_default())
        })
    };
    if let Some(tx) = held {
        testkit_db::lock_waits::until_waiting(
            &watcher,
            lock,
            2,
            || usize::from(!run.is_finished()) + usize::from(!decision.is_finished()),
            2,
        )
        .await;
        tx.commit().await.unwrap();
    }
    assert_eq!(run.await.unwrap(), StatusCode::OK, "the second run");
    let (status, body) = decision.await.unwrap();

    let db = &server.state().db;
    let decisions = memory_entries::Entity::find()
        .filter(memory_entries::Column::CaseId.eq(id.as_str()))
        .filter(memory_entries::Column::EntryType.eq("decision"))
        .all(db)
        .await
        .unwrap();
    let runs = memory_entries::Entity::find()
        .filter(memory_entries::Column::CaseId.eq(id.as_str()))
        .filter(memory_entries::Column::EntryType.eq("extraction"))
        .all(db)
        .await
        .unwrap();
    let second_run = runs.iter().map(|r| r.created_at.as_str()).max().unwrap();
    match status {
        StatusCode::BAD_REQUEST => {
            assert!(body.contains("not among the offers analysed"), "{body}");
            assert!(decisions.is_empty(), "a refused decision is not recorded");
        }
        StatusCode::OK => {
            // Only possible when the decision wrote before the second run:
            // then BETA was among the offers of the run it was checked with.
            assert_ne!(backend, Backend::Postgres, "the run held the lock first");
            assert_ne!(backend, Backend::MySql, "the run held the lock first");
            assert_eq!(decisions.len(), 1);
            assert!(
                decisions[0].created_at.as_str() <= second_run,
                "a decision for BETA written after the run without BETA: {body}"
            );
        }
        other => panic!("the decision answered {other}: {body}"),
    }
    if backend != Backend::Sqlite {
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "checked against the run current when it is written: {body}"
        );
    }
}

async fn a_pv_whose_metadata_cannot_be_read_is_kept_by_the_next_run(db: TestDb) {
    let server = TestServer::start(db).await;
    let officer = server.user(Role::ProcurementOfficer).await;
    let id = server
        .analysed_case(&officer, &["ALPHA SARL", "BETA SARL"])
        .await;
    let db = &server.state().db;
    let pvs = || {
        artifacts::Entity::find()
            .filter(artifacts::Column::CaseId.eq(id.as_str()))
            .filter(artifacts::Column::Kind.eq("output_pv"))
            .all(db)
    };
    let [pv] = <[artifacts::Model; 1]>::try_from(pvs().await.unwrap()).unwrap();
    // Unreadable, then missing: neither says the PV holds no decision.
    for meta in [Some("{not json"), None] {
        artifacts::Entity::update_many()
            .col_expr(artifacts::Column::MetaJson, Expr::value(meta))
            .filter(artifacts::Column::Id.eq(pv.id.as_str()))
            .exec(db)
            .await
            .unwrap();
        expect_json(server.analyze(&officer, &id).await, StatusCode::OK).await;
        let after = pvs().await.unwrap();
        assert_eq!(after.len(), 2, "the old PV beside the new one");
        assert!(after.iter().any(|a| a.id == pv.id), "the PV row is kept");
        let file = server.data_dir.path().join(&pv.path);
        assert!(file.is_file(), "the PV's file is kept: {}", file.display());
        // The new run's PV says it holds no decision: the next run replaces it.
        artifacts::Entity::delete_many()
            .filter(artifacts::Column::CaseId.eq(id.as_str()))
            .filter(artifacts::Column::Kind.eq("output_pv"))
            .filter(artifacts::Column::Id.ne(pv.id.as_str()))
            .exec(db)
            .await
            .unwrap();
    }
    assert_eq!(
        artifacts::Entity::find()
            .filter(artifacts::Column::CaseId.eq(id.as_str()))
            .count(db)
            .await
            .unwrap(),
        5,
        "DAO, two offers, one CBA, the kept PV"
    );
}
