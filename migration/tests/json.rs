//! `--format json`: every command prints one JSON document on standard
//! output, with the keys the README documents, errors included, and the
//! exit codes of the human output.

use std::collections::BTreeSet;

use migration::{HEAD, REVISIONS, checksum::TABLE};
use serde_json::Value;
use testkit_db::{TestDb, cli, stderr, stdout};

/// The keys of a `status` revision, an `edited` entry, a `history` revision
/// and an operation's outcome (README, "Output for scripts").
const STATUS: &[&str] = &["database", "revisions", "edited", "unrecorded_checksums"];
const STATUS_REVISION: &[&str] = &["id", "applied", "checksum", "edited"];
const EDITED: &[&str] = &["revision", "recorded", "renders", "message"];
const CURRENT: &[&str] = &["database", "current", "head", "at_head"];
const HISTORY: &[&str] = &["database", "revisions"];
const HISTORY_REVISION: &[&str] = &[
    "id",
    "parent",
    "description",
    "applied",
    "applied_at",
    "recorded_by_alembic",
    "head",
    "current",
    "drops",
    "indexes",
];
const CHECK: &[&str] = &[
    "database",
    "revision",
    "ok",
    "schema_matches",
    "differences",
    "edited",
    "unrecorded_checksums",
];
const OUTCOME: &[&str] = &[
    "database",
    "action",
    "dry_run",
    "revisions",
    "adopted",
    "checksums_recorded",
    "edited",
    "losses",
    "dropped_every_table",
];
const LOSS: &[&str] = &["table", "column", "rows"];
const STAMP: &[&str] = &["database", "stamped"];
const ERROR: &[&str] = &["error", "hint"];

/// Runs the CLI with `--format json` on `url`: the exit code and the one
/// JSON document it printed (the whole of standard output).
fn json(url: &str, args: &[&str]) -> (i32, Value) {
    let dir = tempfile::tempdir().unwrap();
    let mut all = vec!["-u", url, "--format", "json"];
    all.extend_from_slice(args);
    let out = cli(dir.path(), &all, &[]);
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 1, "{args:?}: one document: {text}");
    let document = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {text} / {}", stderr(&out)));
    (out.status.code().unwrap_or(-1), document)
}

fn keys(value: &Value) -> BTreeSet<&str> {
    value
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {value}"))
        .keys()
        .map(String::as_str)
        .collect()
}

fn assert_keys(value: &Value, expected: &[&str]) {
    assert_eq!(
        keys(value),
        expected.iter().copied().collect(),
        "keys of {value}"
    );
}

/// Asserts success and the keys; returns the document.
fn ok(url: &str, args: &[&str], expected: &[&str]) -> Value {
    let (code, document) = json(url, args);
    assert_eq!(code, 0, "{args:?}: {document}");
    assert_keys(&document, expected);
    document
}

fn ids(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {value}"))
        .iter()
        .map(|v| v.as_str().expect("an id"))
        .collect()
}

async fn every_command_in_json(db: TestDb) {
    let url = db.url.as_str();
    let all: Vec<&str> = REVISIONS.iter().map(|e| e.id).collect();

    let current = ok(url, &["current"], CURRENT);
    assert_eq!(current["current"], Value::Null);
    assert_eq!(current["head"], HEAD);
    assert_eq!(current["at_head"], false);

    let plan = ok(url, &["up", "--dry-run"], OUTCOME);
    assert_eq!(plan["dry_run"], true);
    assert_eq!(ids(&plan["revisions"]), all);
    assert_eq!(ok(url, &["current"], CURRENT)["current"], Value::Null);

    let up = ok(url, &["up", "-n", "2"], OUTCOME);
    assert_eq!(up["action"], "applied");
    assert_eq!(up["dry_run"], false);
    assert_eq!(ids(&up["revisions"]), all[..2]);
    assert_eq!(up["adopted"], Value::Null);
    assert_eq!(up["database"], url);
    let up = ok(url, &["upgrade", "head"], OUTCOME);
    assert_eq!(ids(&up["revisions"]), all[2..]);

    let status = ok(url, &["status"], STATUS);
    let revisions = status["revisions"].as_array().unwrap();
    assert_eq!(revisions.len(), REVISIONS.len());
    for revision in revisions {
        assert_keys(revision, STATUS_REVISION);
        assert_eq!(revision["applied"], true);
        assert_eq!(revision["edited"], false);
        assert_eq!(revision["checksum"].as_str().map(str::len), Some(64));
    }
    assert_eq!(status["edited"], Value::Array(vec![]));

    let current = ok(url, &["current"], CURRENT);
    assert_eq!(current["current"], HEAD);
    assert_eq!(current["at_head"], true);

    let history = ok(url, &["history"], HISTORY);
    let revisions = history["revisions"].as_array().unwrap();
    assert_eq!(revisions.len(), REVISIONS.len());
    for (i, revision) in revisions.iter().enumerate() {
        assert_keys(revision, HISTORY_REVISION);
        assert_eq!(revision["id"], all[i]);
        assert_eq!(revision["applied"], true);
        assert!(
            revision["applied_at"]
                .as_str()
                .is_some_and(|t| t.ends_with('Z'))
        );
        assert_keys(&revision["drops"], &["tables", "columns"]);
    }
    assert_eq!(revisions[0]["parent"], Value::Null);
    assert_eq!(revisions[1]["parent"], all[0]);
    assert_eq!(revisions[REVISIONS.len() - 1]["head"], true);
    assert_eq!(revisions[REVISIONS.len() - 1]["current"], true);

    let check = ok(url, &["check"], CHECK);
    assert_eq!(check["ok"], true);
    assert_eq!(check["revision"], HEAD);
    assert_eq!(check["differences"], Value::Array(vec![]));

    // The data-loss plan lists what would go, and changes nothing.
    let conn = db.connect().await;
    testkit_db::exec(
        &conn,
        "INSERT INTO permissions (name, resource, action) VALUES ('p', 'r', 'a')",
    )
    .await;
    let plan = ok(url, &["downgrade", "base", "--dry-run"], OUTCOME);
    assert_eq!(plan["action"], "rolled back");
    let losses = plan["losses"].as_array().unwrap();
    assert!(!losses.is_empty(), "{plan}");
    for loss in losses {
        assert_keys(loss, LOSS);
    }
    for args in [
        &["fresh", "--dry-run"][..],
        &["refresh", "--dry-run"],
        &["reset", "--dry-run"],
    ] {
        assert_eq!(ok(url, args, OUTCOME)["dry_run"], true);
    }
    let down = ok(url, &["down"], OUTCOME);
    assert_eq!(ids(&down["revisions"]), [HEAD]);
    let down = ok(url, &["downgrade", "-1"], OUTCOME);
    assert_eq!(down["revisions"].as_array().unwrap().len(), 1);

    ok(url, &["up"], OUTCOME);
    let stamped = ok(url, &["stamp", "head"], STAMP);
    assert_eq!(stamped["stamped"], HEAD);

    // A refused operation: exit 1, the error as JSON.
    let (code, refused) = json(url, &["downgrade", "base"]);
    assert_eq!(code, 1);
    assert_keys(&refused, ERROR);
    assert!(
        refused["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("refusing to drop data: ")),
        "{refused}"
    );
    assert!(
        refused["hint"]
            .as_str()
            .is_some_and(|h| h.contains("--force")),
        "{refused}"
    );

    // An edited revision: check and status exit 1 and say which.
    testkit_db::exec(
        &conn,
        &format!("UPDATE {TABLE} SET checksum = 'x' WHERE version = '{HEAD}'"),
    )
    .await;
    let (code, check) = json(url, &["check"]);
    assert_eq!(code, 1, "{check}");
    assert_keys(&check, CHECK);
    assert_eq!(check["ok"], false);
    assert_eq!(check["schema_matches"], true);
    let edited = check["edited"].as_array().unwrap();
    assert_eq!(edited.len(), 1);
    assert_keys(&edited[0], EDITED);
    assert_eq!(edited[0]["revision"], HEAD);
    assert_eq!(edited[0]["recorded"], "x");
    let (code, status) = json(url, &["status"]);
    assert_eq!(code, 1);
    assert_keys(&status, STATUS);
    let (code, refused) = json(url, &["up"]);
    assert_eq!(code, 1);
    assert_keys(&refused, ERROR);
    let allowed = ok(url, &["up", "--allow-edited"], OUTCOME);
    assert_eq!(allowed["edited"].as_array().map(Vec::len), Some(1));

    // Offline SQL, in a document too.
    let (code, sql) = json(url, &["upgrade", "head", "--sql"]);
    assert_eq!(code, 0);
    assert_keys(&sql, &["sql"]);
    assert!(
        sql["sql"]
            .as_str()
            .is_some_and(|s| s.contains("CREATE TABLE"))
    );
}

testkit_db::backend_tests!(every_command_in_json);

/// An unreachable database, a bad URL, an unknown revision or option: one
/// JSON document on standard output, the human exit codes.
#[test]
fn errors_are_json_documents() {
    for url in [
        "postgres://postgres@127.0.0.1:1/dms",
        "mysql://root@127.0.0.1:1/dms",
    ] {
        for args in [
            &["status"][..],
            &["current"],
            &["history"],
            &["check"],
            &["up"],
            &["down"],
            &["up", "--dry-run"],
        ] {
            let (code, document) = json(url, args);
            assert_eq!(code, 1, "{args:?}");
            assert_keys(&document, ERROR);
            let error = document["error"].as_str().unwrap();
            assert!(error.starts_with("cannot connect to "), "{error}");
            assert!(error.contains("Connection refused"), "{error}");
            assert!(
                document["hint"]
                    .as_str()
                    .is_some_and(|h| h.starts_with("check DATABASE_URL")),
                "{document}"
            );
        }
    }
    let (code, document) = json("oracle://scott@db/orcl", &["status"]);
    assert_eq!(code, 1);
    assert_keys(&document, ERROR);
    let (code, document) = json("sqlite://unused.db?mode=rwc", &["upgrade", "999_future"]);
    assert_eq!(code, 2);
    assert!(
        document["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("unknown revision '999_future'")),
        "{document}"
    );
    let (code, document) = json("sqlite://unused.db?mode=rwc", &["bogus"]);
    assert_eq!(code, 2);
    assert_keys(&document, ERROR);
}
