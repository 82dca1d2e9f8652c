//! Checksums of applied revisions: recorded with each revision, the same
//! whichever way 005's indexes were built, recorded once for databases
//! applied before checksums were kept and for adopted Alembic databases; a
//! revision edited after it was applied (through an edited chain given to
//! the runner, never by changing a real file) is reported by `check` and
//! `status` and refused by `up` unless `--allow-edited`.

use std::process::Stdio;

use migration::checksum::{self, TABLE};
use migration::revision::{Drops, Entry, Revision, Steps};
use migration::runner::{self, Error, Options, Target};
use migration::{REVISIONS, Rev};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};
use sea_orm_migration::SchemaManager;
use testkit_db::{
    Backend, TestDb, assert_ok, assert_one_line_error, cli, column_strings, exec, stderr, stdout,
};

/// The revision the tests edit: production's head.
const EDITED_ID: &str = "004_users_rbac";

/// 004 as if someone had changed its code after it was applied.
#[derive(Default)]
struct Edited004;

#[async_trait::async_trait]
impl Steps for Edited004 {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("CREATE TABLE edited_after_apply (id integer)")
            .await?;
        Ok(())
    }
    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }
}

impl Revision for Edited004 {
    const ID: &'static str = EDITED_ID;
    const DESCRIPTION: &'static str = "004, edited";
    const DROPS: Drops = Drops::NOTHING;
}

/// A checksum no rendering has: what a database records for 004 in the
/// tests of accepted checksums.
const OLD_CHECKSUM: &str = "0000000000000000000000000000000000000000000000000000000000000004";

/// 004 edited, declaring [`OLD_CHECKSUM`] as a rendering it had before.
#[derive(Default)]
struct Accepting004;

#[async_trait::async_trait]
impl Steps for Accepting004 {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        Edited004.up(manager).await
    }
    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }
}

impl Revision for Accepting004 {
    const ID: &'static str = EDITED_ID;
    const DESCRIPTION: &'static str = "004, edited, accepting its old checksum";
    const DROPS: Drops = Drops::NOTHING;
    const ACCEPTED_CHECKSUMS: &'static [&'static str] = &[OLD_CHECKSUM];
}

/// The chain with 004 replaced by `edited`.
fn chain_with(edited: Entry) -> Vec<Entry> {
    let mut chain = REVISIONS.to_vec();
    let position = REVISIONS
        .iter()
        .position(|e| e.id == EDITED_ID)
        .expect("004 is in the chain");
    chain[position] = edited;
    chain
}

fn cli_on(db: &TestDb, args: &[&str]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let mut all = vec!["-u", db.url.as_str()];
    all.extend_from_slice(args);
    cli(dir.path(), &all, &[])
}

fn run(db: &TestDb, args: &[&str]) -> String {
    let out = cli_on(db, args);
    assert_ok(&out);
    stdout(&out)
}

/// The recorded checksums, `(version, checksum)`, ordered by version.
async fn recorded(conn: &DatabaseConnection) -> Vec<(String, String)> {
    let versions = column_strings(conn, &format!("SELECT version FROM {TABLE} ORDER BY 1")).await;
    let checksums = column_strings(
        conn,
        &format!("SELECT checksum FROM {TABLE} ORDER BY version"),
    )
    .await;
    versions.into_iter().zip(checksums).collect()
}

/// What the code renders for every revision of the chain on `db`'s backend.
async fn rendered(db: &TestDb) -> Vec<(String, String)> {
    let mut all = Vec::new();
    for entry in REVISIONS {
        let sum = checksum::of(db.backend.db_backend(), entry).await.unwrap();
        all.push((entry.id.to_owned(), sum));
    }
    all
}

async fn checksum_of_004(db: &TestDb) -> String {
    let entry = Rev::find(EDITED_ID).unwrap().entry();
    checksum::of(db.backend.db_backend(), entry).await.unwrap()
}

/// Every revision records the checksum its code renders, in the same run;
/// 005 applied on a database in use (its indexes built concurrently on
/// PostgreSQL) records the same one as on an empty database.
async fn each_revision_records_its_checksum(db: TestDb) {
    run(&db, &["upgrade", "004"]);
    let conn = db.connect().await;
    let so_far = rendered(&db).await;
    assert_eq!(recorded(&conn).await, so_far[..3]);
    let out = run(&db, &["up"]);
    assert!(!out.contains("recorded the checksums"), "{out}");
    assert_eq!(recorded(&conn).await, rendered(&db).await);
    assert!(run(&db, &["check"]).contains("the schema matches"));

    // Rolling back forgets the checksum; applying again records it.
    run(&db, &["down"]);
    assert_eq!(recorded(&conn).await.len(), REVISIONS.len() - 1);
    run(&db, &["up"]);
    assert_eq!(recorded(&conn).await, rendered(&db).await);
}

/// A revision whose code changed after it was applied: the runner, given
/// the edited chain, reports it and refuses to upgrade unless allowed.
async fn edited_chain_is_reported_and_refused(db: TestDb) {
    run(&db, &["upgrade", "004"]);
    let conn = db.connect().await;
    let edited = chain_with(Entry::of::<Edited004>());
    let original = checksum_of_004(&db).await;
    let now = checksum::of(db.backend.db_backend(), &Entry::of::<Edited004>())
        .await
        .unwrap();
    assert_ne!(original, now);

    let verification = runner::verify(&conn, &edited).await.unwrap();
    assert_eq!(verification.edited.len(), 1, "{verification:?}");
    let report = verification.edited[0].to_string();
    assert_eq!(
        report,
        format!(
            "{EDITED_ID} was applied with checksum {original}; the revision now renders {now} (edited after it was applied?)"
        )
    );
    assert!(verification.unrecorded.is_empty());
    // The real chain finds nothing to say.
    assert_eq!(
        runner::verify(&conn, REVISIONS).await.unwrap(),
        Default::default()
    );

    let refused = runner::upgrade_against(&conn, &edited, &Target::Head, &Options::default())
        .await
        .expect_err("up on top of an edited revision");
    assert!(
        matches!(&refused, Error::Edited(e) if e.len() == 1),
        "{refused}"
    );
    let message = refused.to_string();
    assert!(message.contains(&report), "{message}");
    assert!(message.contains("--allow-edited"), "{message}");
    assert_eq!(
        run(&db, &["current"]).lines().last(),
        Some(EDITED_ID),
        "nothing was applied"
    );

    let allowed = Options {
        allow_edited: true,
        ..Options::default()
    };
    let outcome = runner::upgrade_against(&conn, &edited, &Target::Head, &allowed)
        .await
        .unwrap();
    assert_eq!(outcome.edited.len(), 1);
    assert_eq!(outcome.revisions.len(), REVISIONS.len() - 3);
}

/// The CLI on a database whose recorded checksum is not what the code
/// renders: `check` and `status` name the revision and exit 1, `up` refuses
/// with one line naming it, `up --allow-edited` proceeds; a revision that
/// declares the recorded checksum as accepted is not reported.
async fn cli_reports_and_refuses_an_edited_revision(db: TestDb) {
    run(&db, &["upgrade", "004"]);
    let conn = db.connect().await;
    exec(
        &conn,
        &format!("UPDATE {TABLE} SET checksum = '{OLD_CHECKSUM}' WHERE version = '{EDITED_ID}'"),
    )
    .await;
    let now = checksum_of_004(&db).await;
    let line = format!(
        "{EDITED_ID} was applied with checksum {OLD_CHECKSUM}; the revision now renders {now} (edited after it was applied?)"
    );

    let check = cli_on(&db, &["check"]);
    assert_eq!(check.status.code(), Some(1), "{}", stderr(&check));
    assert!(stdout(&check).contains(&line), "{}", stdout(&check));
    assert!(stdout(&check).contains("the schema matches 004_users_rbac"));
    assert_one_line_error(&check, 1, "1 applied revision(s) render other SQL");

    let status = cli_on(&db, &["status"]);
    assert!(stdout(&status).contains(&line), "{}", stdout(&status));
    assert_one_line_error(&status, 1, "render other SQL");

    let up = cli_on(&db, &["up"]);
    assert_one_line_error(&up, 1, &line);
    assert!(stderr(&up).contains("--allow-edited"), "{}", stderr(&up));
    assert!(
        run(&db, &["current"]).ends_with(&format!("{EDITED_ID}\n")),
        "refused: nothing applied"
    );
    let dry = cli_on(&db, &["up", "--dry-run"]);
    assert_one_line_error(&dry, 1, "refusing to migrate on top of an edited revision");

    let allowed = run(&db, &["up", "--allow-edited"]);
    assert!(allowed.contains(&format!("allowed: {line}")), "{allowed}");
    assert!(allowed.contains(&format!("applied {}", migration::HEAD)));
    // What was applied stays recorded: the next run still says so.
    assert_eq!(cli_on(&db, &["check"]).status.code(), Some(1));

    // A revision that declares the recorded checksum as its own.
    let accepting = chain_with(Entry::of::<Accepting004>());
    let verification = runner::verify(&conn, &accepting).await.unwrap();
    assert!(verification.edited.is_empty(), "{verification:?}");
}

/// A database applied before checksums were kept gets them on the next
/// `up`, said once; `status` and `check` list them as unrecorded until then
/// and do not fail for it.
async fn checksums_recorded_once_for_older_databases(db: TestDb) {
    run(&db, &["up"]);
    let conn = db.connect().await;
    exec(&conn, &format!("DROP TABLE {TABLE}")).await;
    let ids: Vec<&str> = REVISIONS.iter().map(|e| e.id).collect();

    let check = run(&db, &["--format", "json", "check"]);
    let check: serde_json::Value = serde_json::from_str(&check).unwrap();
    assert_eq!(check["unrecorded_checksums"], serde_json::json!(ids));
    assert_eq!(check["ok"], true);
    assert_ok(&cli_on(&db, &["status"]));

    let out = run(&db, &["up"]);
    assert!(
        out.contains(&format!(
            "recorded the checksums of {} (revisions that ran before checksums were kept)",
            ids.join(", ")
        )),
        "{out}"
    );
    assert!(out.contains("nothing to do"), "{out}");
    assert_eq!(recorded(&conn).await, rendered(&db).await);
    let again = run(&db, &["up"]);
    assert!(
        !again.contains("recorded the checksums"),
        "said once: {again}"
    );
}

/// A hand-made Alembic database (no SeaORM bookkeeping, no checksums) on
/// any backend: adoption records the checksums of what Alembic applied.
async fn adoption_records_checksums(db: TestDb) {
    run(&db, &["upgrade", "004"]);
    let conn = db.connect().await;
    exec(&conn, "DROP TABLE seaql_migrations").await;
    exec(&conn, &format!("DROP TABLE {TABLE}")).await;
    let out = run(&db, &["up"]);
    assert!(out.contains("adopted the Alembic database at 004_users_rbac"));
    assert!(
        out.contains("recorded the checksums of 002_add_couche_a, 003_add_procurement_extensions, 004_users_rbac (revisions"),
        "{out}"
    );
    assert_eq!(recorded(&conn).await, rendered(&db).await);
    assert_ok(&cli_on(&db, &["check"]));
}

/// Production's dump at 004, adopted: every revision gets its checksum,
/// and `check` (schema and checksums) passes.
#[tokio::test]
async fn adopted_production_dump_gets_its_checksums() {
    let Some(db) = TestDb::new(Backend::Postgres).await else {
        return;
    };
    let status = std::process::Command::new("psql")
        .args(["-q", "-v", "ON_ERROR_STOP=1", "-d", &db.url, "-f"])
        .arg(testkit_db::reference_path(
            "fixtures/alembic_db_004_users_rbac.sql",
        ))
        .stdout(Stdio::null())
        .status()
        .expect("psql");
    assert!(status.success(), "loading the dump failed");
    let conn = db.connect().await;
    let out = run(&db, &["up"]);
    assert!(
        out.contains("adopted the Alembic database at 004_users_rbac"),
        "{out}"
    );
    assert!(
        out.contains("recorded the checksums of 002_add_couche_a, 003_add_procurement_extensions, 004_users_rbac"),
        "{out}"
    );
    assert_eq!(recorded(&conn).await, rendered(&db).await);
    let check = run(&db, &["check"]);
    assert!(check.contains("the schema matches"), "{check}");
    assert!(!run(&db, &["up"]).contains("recorded the checksums"));
}

/// The offline script records the checksums too, so a database built from
/// it passes `check` and needs no backfill.
async fn offline_script_records_checksums(db: TestDb) {
    let script = run(&db, &["upgrade", "head", "--sql"]);
    for (id, sum) in rendered(&db).await {
        assert!(script.contains(&id) && script.contains(&sum), "{id} {sum}");
    }
}

testkit_db::backend_tests!(
    each_revision_records_its_checksum,
    edited_chain_is_reported_and_refused,
    cli_reports_and_refuses_an_edited_revision,
    checksums_recorded_once_for_older_databases,
    adoption_records_checksums,
    offline_script_records_checksums,
);
