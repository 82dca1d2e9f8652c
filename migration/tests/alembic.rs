//! Alembic parity: the runbook's commands, `alembic_version` in step,
//! adoption of databases Alembic managed, the migration lock, crash safety
//! and the data-loss guard, through the CLI as operators run it.

use std::process::Stdio;
use std::time::Instant;

use migration::{HEAD, REVISIONS};
use sea_orm::DatabaseConnection;
use testkit_db::{
    Backend, TestDb, assert_ok, assert_one_line_error, cli, column_strings, command, count, exec,
    reference, schema, stdout,
};

/// `current`'s answer at head.
fn at_head() -> String {
    format!("{HEAD} (head)")
}

/// The id of the revision `back` places below head.
fn below_head(back: usize) -> &'static str {
    REVISIONS[REVISIONS.len() - 1 - back].id
}

/// Runs the CLI on `db`.
fn cli_on(db: &TestDb, args: &[&str]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let mut all = vec!["-u", db.url.as_str()];
    all.extend_from_slice(args);
    cli(dir.path(), &all, &[])
}

/// Runs the CLI on `db` and returns stdout, asserting success.
fn run(db: &TestDb, args: &[&str]) -> String {
    let out = cli_on(db, args);
    assert_ok(&out);
    stdout(&out)
}

async fn alembic_version(conn: &DatabaseConnection) -> Vec<String> {
    column_strings(conn, "SELECT version_num FROM alembic_version").await
}

async fn assert_head_schema(db: &TestDb, conn: &DatabaseConnection) {
    let expected = schema::parse_reference(&reference(&format!("schema_postgres_{HEAD}.txt")));
    let actual = schema::introspect(conn).await.expect("introspect");
    let diff = schema::diff(db.backend.db_backend(), &expected, &actual);
    assert!(diff.is_empty(), "{:?}:\n{}", db.backend, diff.join("\n"));
}

/// Seed rows exist exactly once.
async fn assert_seeded_once(conn: &DatabaseConnection) {
    for (table, rows) in [
        ("procurement_categories", 6),
        ("purchase_categories", 10),
        ("procurement_thresholds", 3),
        ("roles", 3),
        ("users", 1),
    ] {
        assert_eq!(count(conn, table).await, rows, "{table}");
    }
}

fn last_line(text: &str) -> &str {
    text.lines().last().unwrap_or_default()
}

async fn runbook_commands(db: TestDb) {
    assert_eq!(last_line(&run(&db, &["current"])), "base");
    run(&db, &["upgrade", "+1"]);
    assert_eq!(last_line(&run(&db, &["current"])), "002_add_couche_a");
    run(&db, &["upgrade", "003"]);
    assert_eq!(
        last_line(&run(&db, &["current"])),
        "003_add_procurement_extensions"
    );
    run(&db, &["upgrade", "head"]);
    assert_eq!(last_line(&run(&db, &["current"])), at_head());
    let conn = db.connect().await;
    assert_eq!(alembic_version(&conn).await, [HEAD]);

    let history = run(&db, &["history"]);
    let lines: Vec<&str> = history.lines().skip(1).collect();
    assert_eq!(lines.len(), REVISIONS.len(), "{history}");
    assert!(
        lines[0].starts_with("<base> -> 002_add_couche_a, applied 20"),
        "{history}"
    );
    assert!(
        lines[REVISIONS.len() - 1].contains(&format!("{HEAD} (head, current), applied")),
        "{history}"
    );
    let verbose = run(&db, &["history", "--verbose"]);
    assert!(
        verbose.contains("downgrade drops: tables extractions"),
        "{verbose}"
    );

    run(&db, &["downgrade", "-1"]);
    assert_eq!(alembic_version(&conn).await, [below_head(1)]);
    run(&db, &["downgrade", "002_add_couche_a"]);
    assert_eq!(last_line(&run(&db, &["current"])), "002_add_couche_a");
    assert_eq!(alembic_version(&conn).await, ["002_add_couche_a"]);
    run(&db, &["downgrade", "base"]);
    assert_eq!(last_line(&run(&db, &["current"])), "base");
    assert!(alembic_version(&conn).await.is_empty(), "no row at base");

    // stamp records without running DDL.
    run(&db, &["stamp", "head"]);
    assert_eq!(last_line(&run(&db, &["current"])), at_head());
    assert_eq!(alembic_version(&conn).await, [HEAD]);
    assert!(
        !schema::introspect(&conn)
            .await
            .unwrap()
            .tables
            .contains_key("users")
    );
    run(&db, &["stamp", "base"]);
    assert_eq!(last_line(&run(&db, &["current"])), "base");
    assert!(alembic_version(&conn).await.is_empty());
    run(&db, &["upgrade", "head"]);
    assert_head_schema(&db, &conn).await;
}

async fn unknown_revisions_are_refused(db: TestDb) {
    run(&db, &["up"]);
    for args in [
        &["upgrade", "999_future"][..],
        &["downgrade", "nope"],
        &["stamp", "zzz"],
        &["upgrade", "+x"],
    ] {
        let out = cli_on(&db, args);
        assert_one_line_error(&out, 2, "unknown revision");
        assert!(testkit_db::stderr(&out).contains(&migration::revision::known()));
    }
    // A database ahead of this binary is refused, never migrated.
    let conn = db.connect().await;
    exec(
        &conn,
        "INSERT INTO seaql_migrations (version, applied_at) VALUES ('999_future', 0)",
    )
    .await;
    for args in [&["up"][..], &["down"], &["current"], &["stamp", "head"]] {
        assert_one_line_error(
            &cli_on(&db, args),
            1,
            "'999_future', which this binary does not know",
        );
    }
    assert_eq!(
        count(&conn, "seaql_migrations").await,
        REVISIONS.len() as i64 + 1
    );
    assert_head_schema(&db, &conn).await;
}

async fn alembic_version_names_unknown_revision(db: TestDb) {
    let conn = db.connect().await;
    exec(
        &conn,
        "CREATE TABLE alembic_version (version_num varchar(32) NOT NULL PRIMARY KEY)",
    )
    .await;
    exec(&conn, "INSERT INTO alembic_version VALUES ('001_initial')").await;
    let out = cli_on(&db, &["up"]);
    assert_one_line_error(&out, 1, "alembic_version names revision '001_initial'");
    assert!(
        !schema::introspect(&conn)
            .await
            .unwrap()
            .tables
            .contains_key("cases")
    );
}

/// A hand-made Alembic database at 004 (production's head) on any backend:
/// adopted at 004, 002 to 004 not re-run, only what follows applied.
async fn adoption_records_without_rerunning(db: TestDb) {
    run(&db, &["upgrade", "004"]);
    let conn = db.connect().await;
    // Make it look like Alembic's: no SeaORM bookkeeping, and markers a
    // re-run would undo. Seeding is insert-if-absent, so a changed row
    // alone would survive a re-run: seed rows of 003 and 004 are removed
    // too, which re-running either revision would put back.
    exec(&conn, "DROP TABLE seaql_migrations").await;
    exec(
        &conn,
        "UPDATE users SET hashed_password = 'legacy' WHERE username = 'admin'",
    )
    .await;
    exec(
        &conn,
        "DELETE FROM procurement_thresholds WHERE procedure_type = 'RFQ'",
    )
    .await;
    exec(
        &conn,
        "DELETE FROM purchase_categories WHERE code = 'CONSTR'",
    )
    .await;
    exec(&conn, "DELETE FROM roles WHERE name = 'viewer'").await;
    let out = run(&db, &["up"]);
    assert_adopted_at(&out, "004_users_rbac");
    assert_eq!(
        count(&conn, "seaql_migrations").await,
        REVISIONS.len() as i64
    );
    assert_eq!(
        column_strings(&conn, "SELECT hashed_password FROM users").await,
        ["legacy"]
    );
    for (table, key, removed) in [
        ("procurement_thresholds", "procedure_type", "RFQ"),
        ("purchase_categories", "code", "CONSTR"),
        ("roles", "name", "viewer"),
    ] {
        let left =
            column_strings(&conn, &format!("SELECT {key} FROM {table} ORDER BY {key}")).await;
        assert!(
            !left.iter().any(|k| k == removed) && !left.is_empty(),
            "{table}: {removed} is back ({left:?}): a revision at or below 004 re-ran"
        );
    }
}

/// `up`'s output adopted the database at `at` and applied exactly the
/// revisions after it.
fn assert_adopted_at(out: &str, at: &str) {
    assert!(
        out.contains(&format!(
            "adopted the Alembic database at {at} (recorded, not re-run)"
        )),
        "{out}"
    );
    let position = REVISIONS
        .iter()
        .position(|e| e.id == at)
        .expect("a revision");
    for (i, entry) in REVISIONS.iter().enumerate() {
        let applied = out.contains(&format!("applied {}", entry.id));
        assert_eq!(applied, i > position, "{}: {out}", entry.id);
    }
}

/// Every table of a dump: its name and column list, from the COPY lines.
fn dump_tables(dump: &str) -> Vec<(String, String)> {
    dump.lines()
        .filter_map(|l| l.strip_prefix("COPY public."))
        .filter_map(|l| l.split_once(" FROM stdin;"))
        .filter_map(|(head, _)| head.split_once(' '))
        .map(|(table, cols)| (table.to_owned(), cols.trim_matches(['(', ')']).to_owned()))
        .filter(|(table, _)| table != "alembic_version")
        .collect()
}

/// Every row of every dumped table, as text, in a stable order.
async fn dump_rows(conn: &DatabaseConnection, tables: &[(String, String)]) -> Vec<String> {
    let mut rows = Vec::new();
    for (table, columns) in tables {
        let sql = format!(
            "SELECT '{table}: ' || row_to_json(t)::text FROM (SELECT {columns} FROM {table}) t ORDER BY 1"
        );
        rows.extend(column_strings(conn, &sql).await);
    }
    rows
}

async fn adopt_dump(at: &str) {
    let file = format!("alembic_db_{at}.sql");
    let Some(db) = TestDb::new(Backend::Postgres).await else {
        return;
    };
    let dump = reference(&format!("fixtures/{file}"));
    let status = std::process::Command::new("psql")
        .args(["-q", "-v", "ON_ERROR_STOP=1", "-d", &db.url, "-f"])
        .arg(testkit_db::reference_path(&format!("fixtures/{file}")))
        .stdout(Stdio::null())
        .status()
        .expect("psql");
    assert!(status.success(), "loading {file} failed");
    let conn = db.connect().await;
    let tables = dump_tables(&dump);
    assert!(tables.len() >= 15, "{tables:?}");
    let before = dump_rows(&conn, &tables).await;
    assert!(before.len() >= 20, "the dump has rows: {before:?}");

    let out = run(&db, &["up"]);
    assert_adopted_at(&out, at);
    assert_eq!(last_line(&run(&db, &["current"])), at_head());
    run(&db, &["check"]);
    assert_head_schema(&db, &conn).await;
    assert_eq!(alembic_version(&conn).await, [HEAD]);
    assert_eq!(
        dump_rows(&conn, &tables).await,
        before,
        "a row of the dump changed"
    );
    let snapshot = schema::postgres_snapshot(&conn).await.unwrap();
    let reference: Vec<String> = reference(&format!("schema_postgres_{HEAD}.txt"))
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(snapshot, reference);
}

#[tokio::test]
async fn adopts_the_alembic_dump_at_003() {
    adopt_dump("003_add_procurement_extensions").await;
}

#[tokio::test]
async fn adopts_the_alembic_dump_at_004() {
    adopt_dump("004_users_rbac").await;
}

/// Eight runs at once: while a lock is held, all eight wait (they overlap);
/// once it is released, the chain is applied once, and the database says so.
async fn eight_concurrent_runs(db: TestDb) {
    use std::io::{BufRead, BufReader, Read};
    let held = hold_lock(&db).await;
    let dir = tempfile::tempdir().unwrap();
    let mut children: Vec<_> = (0..8)
        .map(|_| {
            command(dir.path(), &["-u", &db.url, "up"], &[])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    // Each run says it waits before the lock is released.
    let mut readers = Vec::new();
    for child in &mut children {
        let mut reader = BufReader::new(child.stdout.take().expect("stdout"));
        let mut seen = String::new();
        while !seen.contains("waiting for another migration") {
            let mut line = String::new();
            let read = reader.read_line(&mut line).expect("read");
            assert!(read > 0, "a run ended without waiting: {seen}");
            seen.push_str(&line);
        }
        readers.push((reader, seen));
    }
    held.release().await;
    let mut all = String::new();
    for (child, (mut reader, seen)) in children.into_iter().zip(readers) {
        let mut rest = String::new();
        reader.read_to_string(&mut rest).expect("read");
        let out = child.wait_with_output().expect("wait");
        assert!(out.status.success(), "{}", testkit_db::stderr(&out));
        all.push_str(&seen);
        all.push_str(&rest);
    }
    for entry in REVISIONS {
        let applied = format!("applied {}", entry.id);
        assert_eq!(all.matches(&applied).count(), 1, "{all}");
    }
    assert_eq!(all.matches("nothing to do").count(), 7, "{all}");
    let conn = db.connect().await;
    // The database's own record: each revision once, at head.
    assert_eq!(
        count(&conn, "seaql_migrations").await,
        REVISIONS.len() as i64
    );
    assert_eq!(alembic_version(&conn).await, [HEAD]);
    assert_head_schema(&db, &conn).await;
    assert_seeded_once(&conn).await;
}

/// The migration lock, held as another process would hold it.
enum Held {
    File(std::fs::File),
    Session(DatabaseConnection),
}

impl Held {
    async fn release(self) {
        match self {
            Held::File(file) => drop(file),
            Held::Session(conn) => conn.close().await.unwrap(),
        }
    }
}

async fn hold_lock(db: &TestDb) -> Held {
    match db.backend {
        Backend::Sqlite => {
            let path = db.dir().unwrap().join("dms.db.migrate.lock");
            let file = std::fs::File::create(path).unwrap();
            file.lock().unwrap();
            Held::File(file)
        }
        Backend::Postgres | Backend::MySql => {
            let mut options = sea_orm::ConnectOptions::new(db.url.clone());
            options.max_connections(1);
            let conn = sea_orm::Database::connect(options).await.unwrap();
            let sql = match db.backend {
                Backend::Postgres => {
                    format!("SELECT pg_advisory_lock({})", migration::lock::PG_KEY)
                }
                _ => "SELECT GET_LOCK(CONCAT('dms_migrate:', DATABASE()), 10)".to_owned(),
            };
            exec(&conn, &sql).await;
            Held::Session(conn)
        }
    }
}

async fn lock_timeout_fails_clearly(db: TestDb) {
    let held = hold_lock(&db).await;
    let out = cli_on(&db, &["--lock-timeout", "1", "up"]);
    assert_one_line_error(&out, 1, "still holds the lock after 1 s");
    assert!(
        stdout(&out).contains("waiting for another migration"),
        "{}",
        stdout(&out)
    );
    held.release().await;
    // Released: the next run proceeds.
    run(&db, &["up"]);
}

/// A tiny deterministic generator: the kill moments differ per iteration and
/// a failure can be replayed.
fn jitter(seed: u64, i: u64) -> f64 {
    let x = seed
        .wrapping_add(i)
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    ((x >> 33) % 1000) as f64 / 1000.0
}

/// The seed rows by content (not by count), and whether the admin's
/// password is the seeded one.
async fn seed_content(db: &TestDb, conn: &DatabaseConnection) -> Vec<String> {
    let text = match db.backend {
        Backend::Postgres => "text",
        Backend::MySql => "char",
        Backend::Sqlite => "text",
    };
    let mut content = Vec::new();
    for (table, key, columns) in [
        (
            "procurement_categories",
            "code",
            &[
                "name_en",
                "name_fr",
                "threshold_usd",
                "requires_technical_eval",
                "min_suppliers",
            ][..],
        ),
        (
            "purchase_categories",
            "code",
            &["label", "is_high_risk", "requires_expert"],
        ),
        (
            "procurement_thresholds",
            "procedure_type",
            &[
                "min_amount_usd",
                "max_amount_usd",
                "min_suppliers",
                "description_en",
                "description_fr",
            ],
        ),
        ("roles", "name", &["description"]),
        (
            "users",
            "username",
            &["email", "full_name", "is_active", "is_superuser"],
        ),
    ] {
        for column in std::iter::once(&key).chain(columns) {
            let sql = format!(
                "SELECT COALESCE(CAST({column} AS {text}), 'NULL') FROM {table} ORDER BY {key}"
            );
            let values = column_strings(conn, &sql).await;
            content.push(format!("{table}.{column}: {}", values.join(" | ")));
        }
    }
    let hashes = column_strings(
        conn,
        "SELECT hashed_password FROM users WHERE username = 'admin'",
    )
    .await;
    let seeded = hashes
        .iter()
        .all(|h| migration::password::verify("Admin123!", h));
    content.push(format!("admin password seeded: {seeded}"));
    content
}

/// Where a database stands: its revision and its tables.
async fn standing(db: &TestDb) -> (String, Vec<String>) {
    let current = last_line(&run(db, &["current"])).to_owned();
    let conn = db.connect().await;
    let tables = schema::introspect(&conn)
        .await
        .expect("introspect")
        .tables
        .into_keys()
        .collect();
    let _ = conn.close().await;
    (current, tables)
}

/// `up`, `downgrade base` and `fresh`, each killed with SIGKILL at moments
/// spread over its own run: the next run completes the work, and the rows
/// are the seed's. Each kill is classified by what it left; for every
/// command, at least one SIGKILL must land while the run was changing the
/// database (neither where it started nor where it ends). A run that ended
/// before its kill must have ended well and where it should.
async fn killed_at_random_moments(first: TestDb) {
    use std::os::unix::process::ExitStatusExt;

    /// Kills spread over one run; more rounds only while none landed midway.
    const SPREAD: u64 = 7;
    const MAX_ATTEMPTS: u64 = 4 * SPREAD;
    /// `Child::kill`'s signal (its number on every Unix).
    const SIGKILL: i32 = 9;
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    run(&first, &["up"]);
    let reference_seed = seed_content(&first, &first.connect().await).await;
    let head = standing(&first).await;
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["up"][..],
        &["downgrade", "base", "--force"],
        &["fresh", "--force"],
    ] {
        let from_head = args[0] != "up";
        // How long this run takes here, to spread the kills over it.
        let Some(timed) = TestDb::new(first.backend).await else {
            return;
        };
        if from_head {
            run(&timed, &["up"]);
        }
        let start = standing(&timed).await;
        let started = Instant::now();
        run(&timed, args);
        let full = started.elapsed();
        let end = standing(&timed).await;
        let (mut killed, mut midway) = (0, 0);
        for i in 0..MAX_ATTEMPTS {
            if i >= SPREAD && midway > 0 {
                break;
            }
            let Some(db) = TestDb::new(first.backend).await else {
                return;
            };
            if from_head {
                run(&db, &["up"]);
            }
            let moment = (i % SPREAD) as f64 + jitter(seed, i);
            let delay = full.mul_f64(moment / SPREAD as f64);
            let mut all = vec!["-u", db.url.as_str()];
            all.extend_from_slice(args);
            let mut child = command(dir.path(), &all, &[])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn");
            tokio::time::sleep(delay).await;
            // Sent to the child even when it has just exited (not yet
            // reaped): the exit status tells which happened.
            child.kill().expect("SIGKILL sent");
            let status = child.wait().expect("the killed run's status");
            let left = standing(&db).await;
            let context = format!(
                "{args:?} killed after {delay:?} (seed {seed}), exit {status:?}, left {left:?}"
            );
            if status.signal() == Some(SIGKILL) {
                killed += 1;
                if left != start && left != end {
                    midway += 1;
                }
            } else {
                // It finished before the kill: then it finished well.
                assert!(status.success(), "{context}");
                assert_eq!(left, end, "{context}");
            }
            let out = cli(dir.path(), &all, &[]);
            assert!(
                out.status.success(),
                "{context}: {}",
                testkit_db::stderr(&out)
            );
            assert_eq!(standing(&db).await, end, "{context}");
            if end == head {
                let conn = db.connect().await;
                assert_head_schema(&db, &conn).await;
                assert_eq!(seed_content(&db, &conn).await, reference_seed, "{context}");
                assert_eq!(alembic_version(&conn).await, [HEAD], "{context}");
            }
        }
        assert!(
            midway > 0,
            "{args:?}: no SIGKILL landed while the run was changing the database \
             ({killed} SIGKILLs, seed {seed})"
        );
    }
}

async fn no_silent_data_loss(db: TestDb) {
    const AT_004: &str = "004_users_rbac";
    const AT_003: &str = "003_add_procurement_extensions";
    run(&db, &["up"]);
    let conn = db.connect().await;
    // Empty objects (seed rows aside): a downgrade proceeds.
    run(&db, &["downgrade", "base"]);
    run(&db, &["up"]);
    // The head revision holds no data yet: it rolls back freely.
    assert!(run(&db, &["down"]).contains(&format!("rolled back {HEAD}")));
    run(&db, &["up"]);

    // User data in what each revision's downgrade drops.
    exec(&conn, "INSERT INTO cases (id, case_type, title, created_at, owner_id, procedure_type) VALUES ('c1', 'DAO', 'Mopti', '2026', 1, 'devis_simple')").await;
    exec(
        &conn,
        "INSERT INTO lots (id, case_id, lot_number, created_at) VALUES ('l1', 'c1', '1', '2026')",
    )
    .await;
    exec(
        &conn,
        "INSERT INTO roles (name, created_at) VALUES ('auditor', '2026')",
    )
    .await;

    // Down to 004: nothing lost (005 and 006 hold none of it). Below:
    // 004's drops hold rows.
    run(&db, &["downgrade", "004"]);
    let out = cli_on(&db, &["down"]);
    assert_one_line_error(&out, 1, "refusing to drop data");
    let err = testkit_db::stderr(&out);
    assert!(
        err.contains("roles (1 rows)") && err.contains("cases.owner_id (1 rows)"),
        "{err}"
    );
    assert!(
        !err.contains("cases.total_upload_size"),
        "0 is the empty value: {err}"
    );
    for args in [
        &["downgrade", "base"][..],
        &["downgrade", "-1"],
        &["downgrade", "002"],
        &["reset"],
        &["refresh"],
        &["fresh"],
        &["down", "-n", "3"],
    ] {
        assert_one_line_error(&cli_on(&db, args), 1, "refusing to drop data");
    }
    assert_eq!(last_line(&run(&db, &["current"])), AT_004);
    assert_eq!(count(&conn, "roles").await, 4);

    // Dry runs show the plan, 003's and 002's drops included, and change nothing.
    for args in [
        &["downgrade", "base", "--dry-run"][..],
        &["reset", "--dry-run"],
        &["refresh", "--dry-run"],
    ] {
        let plan = run(&db, args);
        assert!(plan.contains(&format!(" {}\n", AT_004)), "{plan}");
        assert!(plan.contains("would drop lots (1 rows)"), "{plan}");
        assert!(
            plan.contains("would drop cases.procedure_type (1 rows)"),
            "{plan}"
        );
    }
    let plan = run(&db, &["fresh", "--dry-run"]);
    assert!(plan.contains("would drop cases (1 rows)"), "{plan}");
    assert!(plan.contains("would drop roles (1 rows)"), "{plan}");
    assert_eq!(count(&conn, "lots").await, 1, "a dry run changes nothing");
    assert_eq!(last_line(&run(&db, &["current"])), AT_004);

    let out = run(&db, &["down", "--force"]);
    assert!(out.contains("dropped roles (1 rows)"), "{out}");
    assert_eq!(last_line(&run(&db, &["current"])), AT_003);
    // 003's drops: a column with a value, and a seed row an operator retuned.
    exec(
        &conn,
        "UPDATE procurement_thresholds SET min_suppliers = 5 WHERE procedure_type = 'RFQ'",
    )
    .await;
    let out = cli_on(&db, &["down"]);
    assert_one_line_error(&out, 1, "cases.procedure_type (1 rows)");
    assert!(
        testkit_db::stderr(&out).contains("procurement_thresholds (1 rows)"),
        "{}",
        testkit_db::stderr(&out)
    );
    assert!(
        !testkit_db::stderr(&out).contains("procurement_categories"),
        "seed rows as seeded are not data"
    );
    assert_eq!(count(&conn, "cases").await, 1);
}

/// The seeded admin with a password an operator changed is data: `down`
/// of the revision that seeded it refuses without `--force`.
async fn changed_admin_password_is_data(db: TestDb) {
    run(&db, &["upgrade", "004"]);
    let conn = db.connect().await;
    let hash = migration::password::hash("Changed-2026!").expect("hash");
    exec(
        &conn,
        &format!("UPDATE users SET hashed_password = '{hash}' WHERE username = 'admin'"),
    )
    .await;
    let out = cli_on(&db, &["down"]);
    assert_one_line_error(&out, 1, "users (1 rows)");
    assert_eq!(count(&conn, "users").await, 1);
}

/// Runs an offline script: PostgreSQL's through psql, as operators pipe it;
/// the others statement by statement on one connection.
async fn apply_script(db: &TestDb, script: &str) {
    if db.backend == Backend::Postgres {
        use std::io::Write;
        let mut psql = std::process::Command::new("psql")
            .args(["-q", "-v", "ON_ERROR_STOP=1", "-d", &db.url])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("psql");
        psql.stdin
            .take()
            .unwrap()
            .write_all(script.as_bytes())
            .unwrap();
        let out = psql.wait_with_output().unwrap();
        assert!(out.status.success(), "psql: {}", testkit_db::stderr(&out));
        return;
    }
    let mut options = sea_orm::ConnectOptions::new(db.url.clone());
    options.max_connections(1);
    let conn = sea_orm::Database::connect(options).await.unwrap();
    for statement in script.lines().filter(|l| !l.trim().is_empty()) {
        exec(&conn, statement).await;
    }
    conn.close().await.unwrap();
}

async fn offline_sql_scripts(db: TestDb) {
    let up = run(&db, &["upgrade", "head", "--sql"]);
    assert!(up.contains("CREATE TABLE"), "{up}");
    apply_script(&db, &up).await;
    let conn = db.connect().await;
    assert_head_schema(&db, &conn).await;
    assert_seeded_once(&conn).await;
    assert_eq!(alembic_version(&conn).await, [HEAD]);
    assert_eq!(last_line(&run(&db, &["current"])), at_head());
    assert!(last_line(&run(&db, &["check"])).contains(&format!("matches {HEAD}")));
    if db.backend == Backend::Postgres {
        let snapshot = schema::postgres_snapshot(&conn).await.unwrap();
        let reference: Vec<String> = reference(&format!("schema_postgres_{HEAD}.txt"))
            .lines()
            .map(str::to_owned)
            .collect();
        assert_eq!(snapshot, reference);
    }

    let down = run(&db, &["downgrade", "base", "--sql"]);
    apply_script(&db, &down).await;
    assert_eq!(last_line(&run(&db, &["current"])), "base");
    assert!(last_line(&run(&db, &["check"])).contains("matches base"));
    assert!(
        !schema::introspect(&conn)
            .await
            .unwrap()
            .tables
            .contains_key("lots")
    );
}

#[test]
fn offline_sql_connects_to_nothing() {
    let dir = tempfile::tempdir().unwrap();
    for url in [
        "postgres://nobody@127.0.0.1:1/none",
        "mysql://nobody@127.0.0.1:1/none",
        "sqlite:///nonexistent/dir/dms.db",
    ] {
        let out = cli(dir.path(), &["-u", url, "upgrade", "003", "--sql"], &[]);
        assert_ok(&out);
        let script = stdout(&out);
        assert!(script.contains("procurement_categories"), "{script}");
        assert!(!script.contains("users"), "stops at 003: {script}");
        // Down to 004: 006's tables, then 005's indexes.
        let out = cli(dir.path(), &["-u", url, "downgrade", "004", "--sql"], &[]);
        assert_ok(&out);
        assert!(stdout(&out).contains("DROP INDEX"), "{}", stdout(&out));
        assert!(stdout(&out).contains("case_members"), "{}", stdout(&out));
    }
}

testkit_db::backend_tests!(
    offline_sql_scripts,
    runbook_commands,
    unknown_revisions_are_refused,
    alembic_version_names_unknown_revision,
    adoption_records_without_rerunning,
    eight_concurrent_runs,
    lock_timeout_fails_clearly,
    killed_at_random_moments,
    no_silent_data_loss,
    changed_admin_password_is_data,
);
