//! The migration CLI as an operator uses it: the embedded default, the ways
//! to select a database, every command on every backend, and bad input.

use migration::REVISIONS;
use testkit_db::{Backend, TestDb, assert_ok, assert_one_line_error, cli, count, stderr, stdout};

/// The id of the revision `back` places below head.
fn below_head(back: usize) -> &'static str {
    REVISIONS[REVISIONS.len() - 1 - back].id
}

#[test]
fn up_on_the_embedded_default() {
    let dir = tempfile::tempdir().unwrap();
    let out = cli(dir.path(), &["up"], &[]);
    assert_ok(&out);
    assert!(dir.path().join("dms.db").is_file(), "dms.db not created");
    let text = stdout(&out);
    for entry in REVISIONS {
        assert!(text.contains(&format!("applied {}", entry.id)), "{text}");
    }
    let status = cli(dir.path(), &["status"], &[]);
    assert_ok(&status);
    assert_eq!(
        stdout(&status).matches("applied").count(),
        REVISIONS.len(),
        "{}",
        stdout(&status)
    );
    let again = cli(dir.path(), &["up"], &[]);
    assert_ok(&again);
    assert!(stdout(&again).contains("nothing to do"));
}

#[test]
fn database_url_from_dotenv_environment_and_flag() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".env"),
        "DATABASE_URL=sqlite://dotenv.db?mode=rwc\n",
    )
    .unwrap();
    assert_ok(&cli(dir.path(), &["up", "-n", "1"], &[]));
    assert!(dir.path().join("dotenv.db").is_file());

    let env = [("DATABASE_URL", "sqlite://env.db?mode=rwc")];
    assert_ok(&cli(dir.path(), &["up", "-n", "1"], &env));
    assert!(
        dir.path().join("env.db").is_file(),
        "the environment beats .env"
    );

    assert_ok(&cli(
        dir.path(),
        &["-u", "sqlite://flag.db?mode=rwc", "status"],
        &env,
    ));
    assert!(
        dir.path().join("flag.db").is_file(),
        "-u beats the environment"
    );
    assert!(!dir.path().join("dms.db").exists());
}

#[tokio::test]
async fn admin_password_from_the_environment() {
    let db = TestDb::new(Backend::Sqlite).await.unwrap();
    let dir = db.dir().unwrap();
    let out = cli(
        &dir,
        &["-u", &db.url, "up"],
        &[(migration::ADMIN_PASSWORD_ENV, "Mopti-2026!")],
    );
    assert_ok(&out);
    let conn = db.connect().await;
    let hash = testkit_db::column_strings(
        &conn,
        "SELECT hashed_password FROM users WHERE username = 'admin'",
    )
    .await;
    assert!(migration::password::verify("Mopti-2026!", &hash[0]));
    assert!(!migration::password::verify("Admin123!", &hash[0]));
}

#[test]
fn bad_urls_get_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    for (url, needle) in [
        ("postgres://", "malformed database URL"),
        ("not a url", "malformed database URL"),
        (
            "oracle://scott@db/orcl",
            "unsupported database URL scheme 'oracle'",
        ),
        (
            "postgres://postgres@127.0.0.1:1/dms",
            "cannot connect to postgres://postgres@127.0.0.1:1/dms: Connection refused",
        ),
        ("mysql://root@127.0.0.1:1/dms", "Connection refused"),
        ("postgres://u:s3cret@127.0.0.1:1/dms", "u:***@"),
        (
            "sqlite:///nonexistent/dir/dms.db?mode=rwc",
            "cannot take the migration lock file /nonexistent/dir/dms.db.migrate.lock",
        ),
        (
            "sqlite:///nonexistent/dir/dms.db?mode=rwc",
            "cannot take the migration lock file",
        ),
    ] {
        let out = cli(dir.path(), &["-u", url, "up"], &[]);
        assert_one_line_error(&out, 1, needle);
        assert!(
            !stderr(&out).contains("s3cret"),
            "password leaked: {}",
            stderr(&out)
        );
    }
}

/// A database missing on a running server: the server's own words, and
/// nothing of its internals (source file, line, routine).
#[test]
fn missing_database_is_named_without_server_detail() {
    let Ok(server) = std::env::var("DMS_TEST_POSTGRES_URL") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let url = format!("{}/dms_no_such_database", server.trim_end_matches('/'));
    let out = cli(dir.path(), &["-u", &url, "current"], &[]);
    assert_one_line_error(&out, 1, "database \"dms_no_such_database\" does not exist");
    assert!(!stderr(&out).contains(" line "), "{}", stderr(&out));
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    for args in [&["bogus"][..], &["up", "-n", "many"], &[]] {
        let out = cli(dir.path(), args, &[]);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
    }
    assert!(
        !dir.path().join("dms.db").exists(),
        "a usage error touched the database"
    );
}

async fn every_command(db: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let mut all = vec!["-u", db.url.as_str()];
        all.extend_from_slice(args);
        let out = cli(dir.path(), &all, &[]);
        assert_ok(&out);
        stdout(&out)
    };
    assert!(run(&["up", "-n", "1"]).contains("applied 002_add_couche_a"));
    let status = run(&["status"]);
    assert!(
        status.contains("002_add_couche_a") && status.contains("pending"),
        "{status}"
    );
    assert!(run(&["up"]).contains(&format!("applied {}", migration::HEAD)));
    assert!(run(&["down"]).contains(&format!("rolled back {}", migration::HEAD)));
    let out = run(&["down", "-n", "2"]);
    assert!(
        out.contains(&format!("rolled back {}", below_head(1)))
            && out.contains(&format!("rolled back {}", below_head(2))),
        "{out}"
    );
    assert_eq!(run(&["status"]).matches("pending").count(), 3);
    run(&["up"]);

    let conn = db.connect().await;
    testkit_db::exec(
        &conn,
        "INSERT INTO cases (id, case_type, title, created_at) VALUES ('c1', 'DAO', 't', '2026')",
    )
    .await;
    run(&["refresh"]);
    assert_eq!(
        count(&conn, "cases").await,
        1,
        "refresh keeps the decision memory"
    );
    run(&["reset"]);
    assert_eq!(
        count(&conn, "cases").await,
        1,
        "reset keeps the decision memory"
    );
    run(&["fresh", "--force"]);
    assert_eq!(count(&conn, "cases").await, 0);
    assert_eq!(run(&["status"]).matches("applied").count(), REVISIONS.len());
}

testkit_db::backend_tests!(every_command);
