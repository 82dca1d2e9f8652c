//! The migration chain on every backend: schema, seed rows, idempotency,
//! downgrades that keep the decision memory, and atomic revisions.

mod common;

use common::{Backend, TestDb, count, exec, reference, schema};
use migration::runner::{self, Options};
use sea_orm::{ConnectionTrait, DatabaseConnection, QueryResult, Statement};
use serde_json::Value as Json;

const REF_002: &str = "schema_postgres_002_add_couche_a.txt";
const REF_003: &str = "schema_postgres_003_add_procurement_extensions.txt";
const REF_004: &str = "schema_postgres_004_users_rbac.txt";
const COUCHE_A: [&str; 6] = [
    "lots",
    "offers",
    "documents",
    "extractions",
    "analyses",
    "audits",
];
const COUCHE_B: [&str; 6] = [
    "cases",
    "artifacts",
    "memory_entries",
    "dao_criteria",
    "cba_template_schemas",
    "offer_extractions",
];

/// The schema a reference file describes.
fn expected(file: &str) -> schema::Schema {
    schema::parse_reference(&reference(file))
}

/// The schema left after a downgrade to base: 002 without Couche A.
fn expected_base() -> schema::Schema {
    let mut base = expected(REF_002);
    for table in COUCHE_A {
        base.tables.remove(table);
    }
    base
}

/// Asserts the live schema is `expected`; on PostgreSQL also that the
/// snapshot equals `reference_file` line for line, when one is given.
async fn assert_schema(
    db: &TestDb,
    conn: &DatabaseConnection,
    expected: &schema::Schema,
    reference_file: Option<&str>,
) {
    let actual = schema::introspect(conn).await.expect("introspect");
    let diff = schema::diff(db.backend.db_backend(), expected, &actual);
    assert!(
        diff.is_empty(),
        "{:?} schema differs from the reference:\n{}",
        db.backend,
        diff.join("\n")
    );
    if let (Backend::Postgres, Some(file)) = (db.backend, reference_file) {
        let lines = schema::postgres_snapshot(conn).await.expect("snapshot");
        let reference: Vec<String> = reference(file).lines().map(str::to_owned).collect();
        assert_eq!(lines, reference, "PostgreSQL snapshot differs from {file}");
    }
}

async fn migrate(conn: &DatabaseConnection, steps: Option<u32>) -> Vec<String> {
    runner::up(conn, steps).await.expect("up")
}

async fn rollback(conn: &DatabaseConnection, steps: u32) -> Vec<String> {
    runner::down(conn, Some(steps), &Options::force())
        .await
        .expect("down")
}

async fn rows(conn: &DatabaseConnection, sql: &str) -> Vec<QueryResult> {
    conn.query_all_raw(Statement::from_string(conn.get_database_backend(), sql))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

async fn one_string(conn: &DatabaseConnection, sql: &str) -> Option<String> {
    rows(conn, sql)
        .await
        .first()
        .and_then(|r| r.try_get_by_index::<Option<String>>(0).expect("text"))
}

async fn has_table(conn: &DatabaseConnection, table: &str) -> bool {
    let tables = schema::introspect(conn).await.expect("introspect").tables;
    tables.contains_key(table)
}

/// A decimal or float column as f64, whatever the backend stores.
fn number(row: &QueryResult, column: &str) -> Option<f64> {
    if let Ok(v) = row.try_get::<Option<f64>>("", column) {
        return v;
    }
    let d: Option<sea_orm::prelude::Decimal> = row.try_get("", column).expect("number");
    d.map(|d| d.to_string().parse().expect("decimal"))
}

/// A JSON column, whether the backend returns JSON or text.
fn json(row: &QueryResult, column: &str) -> Json {
    if let Ok(v) = row.try_get::<Json>("", column) {
        return v;
    }
    let text: String = row.try_get("", column).expect("json text");
    serde_json::from_str(&text).expect("json")
}

fn seed(table: &str) -> Vec<serde_json::Map<String, Json>> {
    let data: Json = serde_json::from_str(&reference("seed_data.json")).expect("seed json");
    data[table]
        .as_array()
        .expect("seed table")
        .iter()
        .map(|r| r.as_object().expect("row").clone())
        .collect()
}

async fn schema_after_each_revision(db: TestDb) {
    let conn = db.connect().await;
    assert_eq!(migrate(&conn, Some(1)).await, ["002_add_couche_a"]);
    assert_schema(&db, &conn, &expected(REF_002), Some(REF_002)).await;
    assert_eq!(
        migrate(&conn, Some(1)).await,
        ["003_add_procurement_extensions"]
    );
    assert_schema(&db, &conn, &expected(REF_003), Some(REF_003)).await;
    assert_eq!(migrate(&conn, None).await, ["004_users_rbac"]);
    assert_schema(&db, &conn, &expected(REF_004), Some(REF_004)).await;
    assert!(
        migrate(&conn, None).await.is_empty(),
        "head has nothing pending"
    );
    let status = runner::status(&conn).await.expect("status");
    assert!(status.iter().all(|(_, applied)| *applied), "{status:?}");
}

async fn seed_rows_match_reference(db: TestDb) {
    let conn = db.connect().await;
    migrate(&conn, None).await;

    let categories = rows(&conn, "SELECT * FROM procurement_categories").await;
    assert_eq!(categories.len(), seed("procurement_categories").len());
    for want in seed("procurement_categories") {
        let row = categories
            .iter()
            .find(|r| r.try_get::<String>("", "code").ok().as_deref() == want["code"].as_str())
            .unwrap_or_else(|| panic!("category {} missing", want["code"]));
        assert_eq!(
            Some(row.try_get::<String>("", "id").unwrap()),
            want["id"].as_str().map(str::to_owned)
        );
        assert_eq!(
            row.try_get::<String>("", "name_en").unwrap(),
            want["name_en"].as_str().unwrap()
        );
        assert_eq!(
            row.try_get::<String>("", "name_fr").unwrap(),
            want["name_fr"].as_str().unwrap()
        );
        assert_eq!(number(row, "threshold_usd"), want["threshold_usd"].as_f64());
        assert_eq!(
            row.try_get::<bool>("", "requires_technical_eval").unwrap(),
            want["requires_technical_eval"].as_bool().unwrap()
        );
        assert_eq!(
            i64::from(row.try_get::<i32>("", "min_suppliers").unwrap()),
            want["min_suppliers"].as_i64().unwrap()
        );
        assert!(!row.try_get::<String>("", "created_at").unwrap().is_empty());
    }

    let purchase = rows(&conn, "SELECT * FROM purchase_categories").await;
    assert_eq!(purchase.len(), 10);
    for want in seed("purchase_categories") {
        let row = purchase
            .iter()
            .find(|r| r.try_get::<String>("", "code").ok().as_deref() == want["code"].as_str())
            .unwrap_or_else(|| panic!("purchase category {} missing", want["code"]));
        assert_eq!(
            row.try_get::<String>("", "id").unwrap(),
            want["id"].as_str().unwrap()
        );
        assert_eq!(
            row.try_get::<String>("", "label").unwrap(),
            want["label"].as_str().unwrap()
        );
        assert_eq!(
            row.try_get::<bool>("", "is_high_risk").unwrap(),
            want["is_high_risk"].as_bool().unwrap()
        );
        assert_eq!(
            row.try_get::<bool>("", "requires_expert").unwrap(),
            want["requires_expert"].as_bool().unwrap()
        );
        assert_eq!(
            json(row, "specific_rules_json"),
            want["specific_rules_json"]
        );
    }

    let thresholds = rows(&conn, "SELECT * FROM procurement_thresholds").await;
    assert_eq!(thresholds.len(), 3);
    for want in seed("procurement_thresholds") {
        let row = thresholds
            .iter()
            .find(|r| {
                r.try_get::<String>("", "procedure_type").ok().as_deref()
                    == want["procedure_type"].as_str()
            })
            .unwrap_or_else(|| panic!("threshold {} missing", want["procedure_type"]));
        assert_eq!(
            number(row, "min_amount_usd"),
            want["min_amount_usd"].as_f64()
        );
        assert_eq!(
            number(row, "max_amount_usd"),
            want["max_amount_usd"].as_f64()
        );
        assert_eq!(
            i64::from(row.try_get::<i32>("", "min_suppliers").unwrap()),
            want["min_suppliers"].as_i64().unwrap()
        );
        assert_eq!(
            row.try_get::<Option<String>>("", "description_en")
                .unwrap()
                .as_deref(),
            want["description_en"].as_str()
        );
        assert_eq!(
            row.try_get::<Option<String>>("", "description_fr")
                .unwrap()
                .as_deref(),
            want["description_fr"].as_str()
        );
    }

    let roles = rows(&conn, "SELECT name, description FROM roles").await;
    assert_eq!(roles.len(), 3);
    for want in seed("roles") {
        assert!(
            roles
                .iter()
                .any(
                    |r| r.try_get::<String>("", "name").ok().as_deref() == want["name"].as_str()
                        && r.try_get::<Option<String>>("", "description")
                            .ok()
                            .flatten()
                            .as_deref()
                            == want["description"].as_str()
                ),
            "role {} missing",
            want["name"]
        );
    }

    let users = rows(
        &conn,
        "SELECT u.*, r.name AS role_name FROM users u JOIN roles r ON r.id = u.role_id",
    )
    .await;
    assert_eq!(users.len(), 1);
    let (user, want) = (&users[0], &seed("users")[0]);
    for field in ["email", "username", "full_name"] {
        assert_eq!(
            user.try_get::<String>("", field).unwrap(),
            want[field].as_str().unwrap()
        );
    }
    assert_eq!(
        user.try_get::<bool>("", "is_active").unwrap(),
        want["is_active"].as_bool().unwrap()
    );
    assert_eq!(
        user.try_get::<bool>("", "is_superuser").unwrap(),
        want["is_superuser"].as_bool().unwrap()
    );
    assert_eq!(
        user.try_get::<String>("", "role_name").unwrap(),
        want["role"].as_str().unwrap()
    );
    let hash: String = user.try_get("", "hashed_password").unwrap();
    let clear = want["password"].as_str().unwrap();
    assert!(
        hash.starts_with("$argon2id$"),
        "not an argon2id PHC hash: {hash}"
    );
    assert!(!hash.contains(clear), "the password is stored in clear");
    assert!(
        migration::password::verify(clear, &hash),
        "the default password does not verify"
    );
    assert!(!migration::password::verify("wrong", &hash));
}

async fn admin_role_is_found_by_name(db: TestDb) {
    let conn = db.connect().await;
    migrate(&conn, Some(2)).await;
    // Roles that existed before 004 take the first ids: the admin must still
    // get the admin role.
    let id = match db.backend {
        Backend::Postgres => "id serial PRIMARY KEY",
        Backend::MySql => "id int AUTO_INCREMENT PRIMARY KEY",
        Backend::Sqlite => "id integer PRIMARY KEY AUTOINCREMENT",
    };
    exec(&conn, &format!("CREATE TABLE roles ({id}, name varchar(50) NOT NULL UNIQUE, description text NULL, created_at text NOT NULL)")).await;
    exec(
        &conn,
        "INSERT INTO roles (name, created_at) VALUES ('auditor', '2026-01-01T00:00:00')",
    )
    .await;
    exec(
        &conn,
        "INSERT INTO roles (name, created_at) VALUES ('viewer', '2026-01-01T00:00:00')",
    )
    .await;
    migrate(&conn, None).await;
    let role = one_string(
        &conn,
        "SELECT r.name FROM users u JOIN roles r ON r.id = u.role_id WHERE u.username = 'admin'",
    )
    .await;
    assert_eq!(role.as_deref(), Some("admin"));
    assert_eq!(
        count(&conn, "roles").await,
        4,
        "auditor kept, viewer not duplicated"
    );
}

async fn seeding_never_overwrites(db: TestDb) {
    let conn = db.connect().await;
    migrate(&conn, None).await;
    exec(
        &conn,
        "UPDATE users SET hashed_password = 'changed-by-operator' WHERE username = 'admin'",
    )
    .await;
    exec(
        &conn,
        "UPDATE procurement_thresholds SET min_suppliers = 9 WHERE procedure_type = 'RFQ'",
    )
    .await;
    exec(
        &conn,
        "DELETE FROM procurement_categories WHERE code = 'IT'",
    )
    .await;
    // Re-run 003 and 004 over their own objects.
    exec(
        &conn,
        "DELETE FROM seaql_migrations WHERE version <> '002_add_couche_a'",
    )
    .await;
    migrate(&conn, None).await;
    assert_eq!(
        one_string(
            &conn,
            "SELECT hashed_password FROM users WHERE username = 'admin'"
        )
        .await
        .as_deref(),
        Some("changed-by-operator")
    );
    let min: i32 = rows(
        &conn,
        "SELECT min_suppliers FROM procurement_thresholds WHERE procedure_type = 'RFQ'",
    )
    .await[0]
        .try_get_by_index(0)
        .unwrap();
    assert_eq!(min, 9);
    assert_eq!(
        count(&conn, "procurement_categories").await,
        6,
        "a missing seed row comes back"
    );
    assert_eq!(count(&conn, "purchase_categories").await, 10);
    assert_eq!(count(&conn, "procurement_thresholds").await, 3);
    assert_eq!(count(&conn, "roles").await, 3);
    assert_eq!(count(&conn, "users").await, 1);
}

/// `cases` as someone created it by hand, in the backend's own DDL.
fn hand_made_cases(backend: Backend) -> &'static str {
    match backend {
        Backend::MySql => {
            "CREATE TABLE cases (id varchar(255) NOT NULL PRIMARY KEY, case_type text NOT NULL, title text NOT NULL, lot text NULL, created_at text NOT NULL, status text NOT NULL DEFAULT 'draft')"
        }
        _ => {
            "CREATE TABLE cases (id text NOT NULL PRIMARY KEY, case_type text NOT NULL, title text NOT NULL, lot text NULL, created_at text NOT NULL, status text NOT NULL DEFAULT 'draft')"
        }
    }
}

async fn up_succeeds_when_objects_exist(db: TestDb) {
    let conn = db.connect().await;
    exec(&conn, hand_made_cases(db.backend)).await;
    exec(&conn, "INSERT INTO cases (id, case_type, title, created_at) VALUES ('hand', 'DAO', 'Made by hand', '2026-01-01')").await;
    migrate(&conn, None).await;
    assert_schema(&db, &conn, &expected(REF_004), Some(REF_004)).await;
    assert_eq!(
        one_string(&conn, "SELECT title FROM cases WHERE id = 'hand'")
            .await
            .as_deref(),
        Some("Made by hand")
    );

    // Everything exists: forget the bookkeeping (both tools') and run the
    // whole chain again.
    exec(&conn, "DELETE FROM seaql_migrations").await;
    exec(&conn, "DELETE FROM alembic_version").await;
    assert_eq!(migrate(&conn, None).await.len(), 3);
    assert_schema(&db, &conn, &expected(REF_004), Some(REF_004)).await;

    // Some objects are missing: a re-run puts back only those.
    exec(
        &conn,
        "DELETE FROM seaql_migrations WHERE version <> '002_add_couche_a'",
    )
    .await;
    let drop_index = match db.backend {
        Backend::MySql => "DROP INDEX idx_procref_year ON procurement_references",
        _ => "DROP INDEX idx_procref_year",
    };
    exec(&conn, drop_index).await;
    exec(&conn, "ALTER TABLE cases DROP COLUMN closing_date").await;
    migrate(&conn, None).await;
    assert_schema(&db, &conn, &expected(REF_004), Some(REF_004)).await;
    assert_eq!(count(&conn, "users").await, 1);
}

async fn down_succeeds_when_objects_are_gone(db: TestDb) {
    let conn = db.connect().await;
    migrate(&conn, None).await;
    for table in [
        "audits",
        "analyses",
        "role_permissions",
        "procurement_thresholds",
    ] {
        exec(&conn, &format!("DROP TABLE {table}")).await;
    }
    assert_eq!(rollback(&conn, 3).await.len(), 3);
    assert_schema(&db, &conn, &expected_base(), None).await;
    // Couche A already gone and 002 recorded again: its downgrade still succeeds.
    exec(
        &conn,
        "INSERT INTO seaql_migrations (version, applied_at) VALUES ('002_add_couche_a', 0)",
    )
    .await;
    assert_eq!(rollback(&conn, 1).await, ["002_add_couche_a"]);
    assert_schema(&db, &conn, &expected_base(), None).await;
}

async fn downgrades_are_exact_inverses(db: TestDb) {
    let conn = db.connect().await;
    migrate(&conn, None).await;
    assert_eq!(rollback(&conn, 1).await, ["004_users_rbac"]);
    assert_schema(&db, &conn, &expected(REF_003), Some(REF_003)).await;
    assert_eq!(rollback(&conn, 1).await, ["003_add_procurement_extensions"]);
    assert_schema(&db, &conn, &expected(REF_002), Some(REF_002)).await;
    assert_eq!(rollback(&conn, 1).await, ["002_add_couche_a"]);
    assert_schema(&db, &conn, &expected_base(), None).await;
    assert!(
        rollback(&conn, 1).await.is_empty(),
        "nothing left to roll back"
    );
    migrate(&conn, None).await;
    assert_schema(&db, &conn, &expected(REF_004), Some(REF_004)).await;
}

/// One row in every table, through every foreign key.
async fn write_one_of_everything(conn: &DatabaseConnection) {
    for sql in [
        "INSERT INTO cases (id, case_type, title, lot, created_at, status, category_id, purchase_category_id, estimated_value, procedure_type, owner_id, total_upload_size) SELECT 'c1', 'DAO', 'Fournitures médicales Mopti', 'LOT 1', '2026-02-10T09:00:00', 'open', 'cat_equipmed', 'cat_health', 75000.50, 'appel_offres_ouvert', id, 3072 FROM users WHERE username = 'admin'",
        "INSERT INTO procurement_references (id, case_id, ref_type, ref_number, year, sequence, created_at) VALUES ('r1', 'c1', 'DAO', 'DAO-2026-001', 2026, 1, '2026-02-10T09:00:00')",
        "UPDATE cases SET ref_id = 'r1' WHERE id = 'c1'",
        "INSERT INTO artifacts (id, case_id, kind, filename, path, uploaded_at, meta_json, created_by) SELECT 'a1', 'c1', 'dao', 'dao.pdf', 'data/dao.pdf', '2026-02-10T09:05:00', '{}', id FROM users WHERE username = 'admin'",
        "INSERT INTO memory_entries VALUES ('m1', 'c1', 'decision', '{\"chosen_supplier\": \"ACME SARL\"}', '2026-02-20T16:00:00')",
        "INSERT INTO dao_criteria (id, case_id, categorie, critere_nom, description, ponderation, type_reponse, ordre_affichage, created_at) VALUES ('d1', 'c1', 'technique', 'Conformité technique', 'Respect des spécifications', 60, 'score', 1, '2026-02-10T09:10:00')",
        "INSERT INTO cba_template_schemas (id, case_id, template_name, structure_json, created_at) VALUES ('t1', 'c1', 'CBA', '{}', '2026-02-10T09:00:00')",
        "INSERT INTO offer_extractions (id, case_id, artifact_id, supplier_name, extracted_data_json, created_at) VALUES ('x1', 'c1', 'a1', 'ACME SARL', '{}', '2026-02-12T14:00:00')",
        "INSERT INTO lots (id, case_id, lot_number, description, estimated_value, created_at, category_id) VALUES ('l1', 'c1', '1', 'Consommables', 40000, '2026-02-10T09:00:00', 'cat_equipmed')",
        "INSERT INTO offers VALUES ('o1', 'c1', 'ACME SARL', 'technique', 'ab12', '2026-02-12T14:00:00', '2026-02-12T14:00:00')",
        "INSERT INTO documents VALUES ('doc1', 'c1', 'o1', 'offre.pdf', 'data/offre.pdf', '2026-02-12T14:00:00')",
        "INSERT INTO extractions VALUES ('e1', 'c1', 'a1', 'criteria', '{}', 0.9, '2026-02-12T14:00:00')",
        "INSERT INTO analyses VALUES ('an1', 'c1', 'cba', '{}', '2026-02-13T14:00:00')",
        "INSERT INTO audits VALUES ('au1', 'c1', '1', 'create', NULL, '{}', '2026-02-10T09:00:00')",
    ] {
        exec(conn, sql).await;
    }
}

async fn downgrade_to_base_keeps_decision_memory(db: TestDb) {
    let conn = db.connect().await;
    migrate(&conn, None).await;
    write_one_of_everything(&conn).await;

    assert_eq!(rollback(&conn, 3).await.len(), 3);
    for table in COUCHE_B {
        assert_eq!(count(&conn, table).await, 1, "{table} lost its rows");
    }
    for table in COUCHE_A {
        assert!(
            !has_table(&conn, table).await,
            "{table} survived the downgrade"
        );
    }
    assert_eq!(
        one_string(&conn, "SELECT title FROM cases WHERE id = 'c1'")
            .await
            .as_deref(),
        Some("Fournitures médicales Mopti")
    );
    assert_eq!(
        one_string(
            &conn,
            "SELECT content_json FROM memory_entries WHERE case_id = 'c1'"
        )
        .await
        .as_deref(),
        Some("{\"chosen_supplier\": \"ACME SARL\"}")
    );

    migrate(&conn, None).await;
    assert_schema(&db, &conn, &expected(REF_004), Some(REF_004)).await;
    for table in COUCHE_B {
        assert_eq!(count(&conn, table).await, 1, "{table} lost its rows");
    }
    let case = &rows(&conn, "SELECT * FROM cases WHERE id = 'c1'").await[0];
    for column in [
        "category_id",
        "purchase_category_id",
        "ref_id",
        "procedure_type",
        "closing_date",
    ] {
        assert_eq!(
            case.try_get::<Option<String>>("", column).unwrap(),
            None,
            "cases.{column}"
        );
    }
    assert_eq!(case.try_get::<Option<i32>>("", "owner_id").unwrap(), None);
    assert_eq!(number(case, "estimated_value"), None);
    assert_eq!(case.try_get::<String>("", "status").unwrap(), "open");
    let artifact = &rows(&conn, "SELECT created_by FROM artifacts WHERE id = 'a1'").await[0];
    assert_eq!(
        artifact.try_get::<Option<i32>>("", "created_by").unwrap(),
        None
    );
}

async fn failed_revision_is_not_half_applied(db: TestDb) {
    let conn = db.connect().await;
    migrate(&conn, Some(1)).await;
    exec(&conn, "INSERT INTO cases (id, case_type, title, created_at) VALUES ('c1', 'DAO', 'Kept', '2026-01-01')").await;
    // A hand-made procurement_thresholds without the columns 003 seeds: 003
    // creates its other tables and columns, then fails on the seed rows.
    exec(
        &conn,
        "CREATE TABLE procurement_thresholds (id integer NOT NULL PRIMARY KEY)",
    )
    .await;
    let err = runner::up(&conn, None)
        .await
        .expect_err("003 must fail")
        .to_string();
    assert!(err.contains("003_add_procurement_extensions"), "{err}");
    assert!(!err.contains('\n'), "one line: {err}");
    let status = runner::status(&conn).await.unwrap();
    assert_eq!(
        status,
        [
            ("002_add_couche_a".to_owned(), true),
            ("003_add_procurement_extensions".to_owned(), false),
            ("004_users_rbac".to_owned(), false),
        ]
    );
    assert_eq!(count(&conn, "cases").await, 1);
    match db.backend {
        // Transactional DDL: nothing of 003 is left.
        Backend::Postgres | Backend::Sqlite => {
            assert!(err.contains("nothing of it was kept"), "{err}");
            let mut actual = schema::introspect(&conn).await.expect("introspect");
            assert!(actual.tables.remove("procurement_thresholds").is_some());
            let diff = schema::diff(db.backend.db_backend(), &expected(REF_002), &actual);
            assert!(
                diff.is_empty(),
                "003 left objects behind:\n{}",
                diff.join("\n")
            );
        }
        // MySQL commits DDL as it goes: the re-run completes the revision.
        Backend::MySql => assert!(err.contains("run again"), "{err}"),
    }
    exec(&conn, "DROP TABLE procurement_thresholds").await;
    migrate(&conn, None).await;
    assert_schema(&db, &conn, &expected(REF_004), Some(REF_004)).await;
    assert_eq!(count(&conn, "procurement_categories").await, 6);
    assert_eq!(count(&conn, "procurement_thresholds").await, 3);
}

async fn refresh_reset_and_fresh(db: TestDb) {
    let conn = db.connect().await;
    migrate(&conn, None).await;
    exec(&conn, "INSERT INTO cases (id, case_type, title, created_at) VALUES ('c1', 'DAO', 'Kept', '2026-01-01')").await;

    runner::refresh(&conn, &Options::force())
        .await
        .expect("refresh");
    assert_schema(&db, &conn, &expected(REF_004), Some(REF_004)).await;
    assert_eq!(
        count(&conn, "cases").await,
        1,
        "refresh keeps the decision memory"
    );

    runner::reset(&conn, &Options::force())
        .await
        .expect("reset");
    assert_schema(&db, &conn, &expected_base(), None).await;
    assert!(!has_table(&conn, "seaql_migrations").await);
    assert_eq!(
        count(&conn, "cases").await,
        1,
        "reset keeps the decision memory"
    );

    runner::fresh(&conn, &Options::force())
        .await
        .expect("fresh");
    assert_schema(&db, &conn, &expected(REF_004), Some(REF_004)).await;
    assert_eq!(
        count(&conn, "cases").await,
        0,
        "fresh starts from an empty database"
    );
    assert_eq!(count(&conn, "users").await, 1);
}

backend_tests!(
    schema_after_each_revision,
    seed_rows_match_reference,
    admin_role_is_found_by_name,
    seeding_never_overwrites,
    up_succeeds_when_objects_exist,
    down_succeeds_when_objects_are_gone,
    downgrades_are_exact_inverses,
    downgrade_to_base_keeps_decision_memory,
    failed_revision_is_not_half_applied,
    refresh_reset_and_fresh,
);

/// SeaORM's own `Migrator::down` on SQLite keeps foreign keys on: rebuilding
/// `cases` there would cascade into the decision memory, so it must refuse.
#[tokio::test]
async fn sqlite_rebuild_refuses_with_foreign_keys_on() {
    use migration::{Migrator, MigratorTrait};
    let db = TestDb::new(Backend::Sqlite).await.expect("sqlite");
    let conn = db.connect().await;
    migrate(&conn, None).await;
    write_one_of_everything(&conn).await;
    let err = Migrator::down(&conn, Some(1))
        .await
        .expect_err("must refuse");
    assert!(err.to_string().contains("foreign keys on"), "{err}");
    for table in COUCHE_B {
        assert_eq!(count(&conn, table).await, 1, "{table} lost its rows");
    }
}
