//! The migration chain on every backend: schema, seed rows, idempotency,
//! downgrades that keep the decision memory, and atomic revisions.

use std::collections::BTreeSet;

use migration::runner::{self, Options, Target};
use migration::{REVISIONS, Rev};
use sea_orm::{ConnectionTrait, DatabaseConnection, QueryResult, Statement};
use serde_json::Value as Json;
use testkit_db::{Backend, TestDb, column_strings, count, exec, reference, schema};

const REF_002: &str = "schema_postgres_002_add_couche_a.txt";

/// The reference file of the schema at revision `id`.
fn ref_of(id: &str) -> String {
    format!("schema_postgres_{id}.txt")
}

/// The reference file of the schema at head.
fn ref_head() -> String {
    ref_of(migration::HEAD)
}
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

async fn migrate(conn: &DatabaseConnection, steps: Option<u32>) -> Vec<&'static str> {
    runner::up(conn, steps).await.expect("up")
}

async fn rollback(conn: &DatabaseConnection, steps: u32) -> Vec<&'static str> {
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
    for entry in REVISIONS {
        assert_eq!(migrate(&conn, Some(1)).await, [entry.id]);
        let file = ref_of(entry.id);
        assert_schema(&db, &conn, &expected(&file), Some(&file)).await;
    }
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
    assert_schema(&db, &conn, &expected(&ref_head()), Some(&ref_head())).await;
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
    assert_eq!(migrate(&conn, None).await.len(), REVISIONS.len());
    assert_schema(&db, &conn, &expected(&ref_head()), Some(&ref_head())).await;

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
    // A column added again comes last: PostgreSQL's order shows it (as `check` does).
    let mut readded = expected(&ref_head());
    if let Some(cases) = readded.tables.get_mut("cases") {
        cases.order.retain(|c| c != "closing_date");
        cases.order.push("closing_date".to_owned());
    }
    assert_schema(&db, &conn, &readded, None).await;
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
    let all = REVISIONS.len() as u32;
    assert_eq!(rollback(&conn, all).await.len(), REVISIONS.len());
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
    for (i, entry) in REVISIONS.iter().enumerate().rev() {
        assert_eq!(rollback(&conn, 1).await, [entry.id]);
        match i.checked_sub(1).map(|p| ref_of(REVISIONS[p].id)) {
            Some(file) => assert_schema(&db, &conn, &expected(&file), Some(&file)).await,
            None => assert_schema(&db, &conn, &expected_base(), None).await,
        }
    }
    assert!(
        rollback(&conn, 1).await.is_empty(),
        "nothing left to roll back"
    );
    migrate(&conn, None).await;
    assert_schema(&db, &conn, &expected(&ref_head()), Some(&ref_head())).await;
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

    let all = REVISIONS.len() as u32;
    assert_eq!(rollback(&conn, all).await.len(), REVISIONS.len());
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
    assert_schema(&db, &conn, &expected(&ref_head()), Some(&ref_head())).await;
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
    let want: Vec<(&str, bool)> = REVISIONS
        .iter()
        .enumerate()
        .map(|(i, e)| (e.id, i == 0))
        .collect();
    assert_eq!(status, want);
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
    assert_schema(&db, &conn, &expected(&ref_head()), Some(&ref_head())).await;
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
    assert_schema(&db, &conn, &expected(&ref_head()), Some(&ref_head())).await;
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
    assert_schema(&db, &conn, &expected(&ref_head()), Some(&ref_head())).await;
    assert_eq!(
        count(&conn, "cases").await,
        0,
        "fresh starts from an empty database"
    );
    assert_eq!(count(&conn, "users").await, 1);
}

/// Each revision's declaration (what its downgrade drops, the indexes it
/// adds) is what its upgrade really adds: the guard and the messages read
/// the declaration, so it must not drift from the code.
async fn each_revision_declares_what_it_adds(db: TestDb) {
    let conn = db.connect().await;
    let mut before = schema::introspect(&conn).await.expect("introspect");
    for (i, entry) in REVISIONS.iter().enumerate() {
        migrate(&conn, Some(1)).await;
        let after = schema::introspect(&conn).await.expect("introspect");
        let added_tables: BTreeSet<&str> = after
            .tables
            .keys()
            .filter(|t| !before.tables.contains_key(*t))
            .map(String::as_str)
            .collect();
        let mut declared: BTreeSet<&str> = entry.drops.tables.iter().map(|(t, _)| *t).collect();
        // The base's downgrade keeps the decision memory on purpose.
        if i == 0 {
            declared.extend(COUCHE_B);
        }
        assert_eq!(added_tables, declared, "tables of {}", entry.id);
        let mut added_columns = BTreeSet::new();
        let mut added_indexes = BTreeSet::new();
        for (name, table) in &after.tables {
            let Some(old) = before.tables.get(name) else {
                continue;
            };
            for column in table
                .columns
                .keys()
                .filter(|c| !old.columns.contains_key(*c))
            {
                added_columns.insert((name.clone(), column.clone()));
            }
            for index in table
                .indexes
                .keys()
                .filter(|i| !old.indexes.contains_key(*i))
            {
                added_indexes.insert(index.clone());
            }
        }
        let declared: BTreeSet<(String, String)> = entry
            .drops
            .columns
            .iter()
            .map(|(t, c, _)| ((*t).to_owned(), (*c).to_owned()))
            .collect();
        assert_eq!(added_columns, declared, "columns of {}", entry.id);
        for (table, column) in entry.indexes {
            let name = migration::revision::index_name(table, column);
            assert!(added_indexes.contains(&name), "{} adds no {name}", entry.id);
        }
        before = after;
    }
}

/// The application's entry point: `pending` lists what `upgrade` applies,
/// with a pool of several connections as an application has.
async fn application_upgrade_and_pending(db: TestDb) {
    let pool = sea_orm::Database::connect(&db.url).await.expect("pool");
    let all: Vec<&str> = REVISIONS.iter().map(|e| e.id).collect();
    assert_eq!(migration::pending(&pool).await.expect("pending"), all);
    let outcome = migration::upgrade(&pool, Target::Head)
        .await
        .expect("upgrade");
    assert_eq!(outcome.revisions, all);
    assert!(migration::pending(&pool).await.expect("pending").is_empty());
    assert_eq!(
        column_strings(&pool, "SELECT version_num FROM alembic_version").await,
        [migration::HEAD]
    );
    let again = migration::upgrade(&pool, Target::Head)
        .await
        .expect("again");
    assert!(again.revisions.is_empty());
    assert_schema(&db, &pool, &expected(&ref_head()), Some(&ref_head())).await;
}

testkit_db::backend_tests!(
    each_revision_declares_what_it_adds,
    application_upgrade_and_pending,
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

/// `check` on PostgreSQL sees a key generated `BY DEFAULT` where production
/// has `ALWAYS`, and a column out of production's order; 005 converges the
/// identity kind (the order stays reported: a column cannot move).
#[tokio::test]
async fn postgres_check_sees_identity_kind_and_column_order() {
    let Some(db) = TestDb::migrated(Backend::Postgres).await else {
        return;
    };
    let conn = db.connect().await;
    let check = async || runner::check(&conn, &db.url).await.expect("check").1;
    assert_eq!(check().await, Vec::<String>::new());

    // What the earlier 004 built: identity BY DEFAULT, upload size last.
    exec(
        &conn,
        "ALTER TABLE users ALTER COLUMN id SET GENERATED BY DEFAULT",
    )
    .await;
    exec(&conn, "ALTER TABLE cases DROP COLUMN total_upload_size").await;
    exec(
        &conn,
        "ALTER TABLE cases ADD COLUMN total_upload_size bigint DEFAULT 0",
    )
    .await;
    let differences = check().await;
    assert_eq!(differences.len(), 2, "{differences:?}");
    assert!(differences.contains(
        &"column users.id: expected integer not null default <identity always>, found integer not null default <identity by default>".to_owned()
    ), "{differences:?}");
    assert!(
        differences
            .iter()
            .any(|d| d.starts_with("column order cases: expected (")
                && d.ends_with("procedure_type, owner_id, language, total_upload_size)")),
        "{differences:?}"
    );

    // 005 again (it is the revision that normalises): the identity converges.
    let normalises = Rev::find("005_add_fk_indexes").expect("005");
    let below = Rev::all().nth(normalises.index() - 1).expect("004");
    runner::downgrade(
        &conn,
        &runner::DownTarget::Revision(below),
        &Options::default(),
    )
    .await
    .expect("downgrade");
    migrate(&conn, None).await;
    let differences = check().await;
    assert_eq!(differences.len(), 1, "{differences:?}");
    assert!(differences[0].starts_with("column order cases"));
}

async fn explain(conn: &DatabaseConnection, sql: &str) -> String {
    exec(conn, "ANALYZE").await;
    column_strings(conn, &format!("EXPLAIN {sql}"))
        .await
        .join("\n")
}

/// The revision before the one that indexes `offers.case_id`.
fn before_offers_index() -> Rev {
    let adds = Rev::all()
        .find(|r| r.entry().indexes.contains(&("offers", "case_id")))
        .expect("a revision indexes offers.case_id");
    Rev::all()
        .nth(adds.index() - 1)
        .expect("a revision before it")
}

/// Loading a case's offers reads them by index once 005 is applied, where
/// it scanned the whole table before, with 100 000 offers over 1 000 cases.
/// The index is built concurrently here: the database is in use.
#[tokio::test]
async fn postgres_case_file_reads_offers_by_index() {
    let Some(db) = TestDb::new(Backend::Postgres).await else {
        return;
    };
    let conn = db.connect().await;
    let before = before_offers_index();
    runner::upgrade(&conn, &Target::Revision(before), &Options::default())
        .await
        .expect("upgrade");
    exec(
        &conn,
        "INSERT INTO cases (id, case_type, title, created_at) \
         SELECT 'case-' || g, 'DAO', 'Case ' || g, '2026-01-01' FROM generate_series(1, 1000) g",
    )
    .await;
    exec(
        &conn,
        "INSERT INTO offers (id, case_id, supplier_name, offer_type, submitted_at, created_at) \
         SELECT 'offer-' || g, 'case-' || (g % 1000 + 1), 'Supplier', 'technique', '2026-01-02', '2026-01-02' \
         FROM generate_series(1, 100000) g",
    )
    .await;
    assert_eq!(count(&conn, "offers").await, 100_000);
    let query = "SELECT * FROM offers WHERE case_id = 'case-42'";
    let plan = explain(&conn, query).await;
    assert!(plan.contains("Seq Scan on offers"), "{plan}");

    migrate(&conn, None).await;
    let plan = explain(&conn, query).await;
    assert!(!plan.contains("Seq Scan"), "{plan}");
    assert!(plan.contains("Index Scan"), "{plan}");
    assert!(plan.contains("idx_offers_case_id"), "{plan}");
    // Built concurrently, and valid.
    let invalid = column_strings(
        &conn,
        "SELECT c.relname::text FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
         WHERE NOT i.indisvalid",
    )
    .await;
    assert!(invalid.is_empty(), "{invalid:?}");
}

/// A `CREATE INDEX CONCURRENTLY` that a killed run left invalid is dropped
/// and built again by the next run.
#[tokio::test]
async fn postgres_invalid_index_is_rebuilt() {
    let Some(db) = TestDb::migrated(Backend::Postgres).await else {
        return;
    };
    let conn = db.connect().await;
    let below = before_offers_index();
    runner::downgrade(
        &conn,
        &runner::DownTarget::Revision(below),
        &Options::default(),
    )
    .await
    .expect("downgrade");
    // An invalid index as a killed build leaves it: marked invalid by hand.
    exec(&conn, "CREATE INDEX idx_offers_case_id ON offers (case_id)").await;
    exec(
        &conn,
        "UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'idx_offers_case_id'::regclass",
    )
    .await;
    migrate(&conn, None).await;
    let valid = column_strings(
        &conn,
        "SELECT i.indisvalid::text FROM pg_index i \
         WHERE i.indexrelid = 'idx_offers_case_id'::regclass",
    )
    .await;
    assert_eq!(valid, ["true"]);
    assert_schema(&db, &conn, &expected(&ref_head()), Some(&ref_head())).await;
}

/// The reference form parses into the model the readers fill.
#[test]
fn reference_lines_parse_into_the_model() {
    let schema = schema::parse_reference(
        "table users\n  column users.id integer not null default <generated>\n  \
         column users.email varchar(320) not null\n  column users.role_id integer not null\n  \
         foreign users: FOREIGN KEY (role_id) REFERENCES roles(id) ON DELETE CASCADE\n  \
         primary users: PRIMARY KEY (id)\n  unique users: UNIQUE (email)\n  \
         index users(email) unique\n  index users(role_id) idx_users_role\n",
    );
    let users = &schema.tables["users"];
    assert_eq!(users.columns["id"].default.as_deref(), Some("<generated>"));
    assert_eq!(users.columns["email"].ty, "varchar(320)");
    assert!(!users.columns["email"].nullable);
    assert_eq!(users.primary_key, ["id"]);
    assert!(users.uniques.contains(&vec!["email".to_owned()]));
    assert_eq!(users.indexes["idx_users_role"], ["role_id"]);
    let fk = users.foreign_keys.iter().next().unwrap();
    assert!(fk.on_delete_cascade && fk.ref_table == "roles");

    let mysql = schema::expected_for(sea_orm::DbBackend::MySql, &schema);
    assert_eq!(mysql.tables["users"].columns["role_id"].ty, "int");
    let mut changed = mysql.clone();
    changed.tables.get_mut("users").unwrap().indexes.clear();
    assert_eq!(
        migration::inspect::diff(&mysql, &changed),
        ["index users.idx_users_role: missing"]
    );
}
