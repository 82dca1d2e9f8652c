//! Offline SQL (`upgrade --sql`, `downgrade --sql`): the revisions run
//! against a recording connection instead of a database, and the statements
//! they would execute are printed for the backend of the URL's scheme.
//!
//! Without a database, the lookups that make revisions idempotent are
//! answered from the assumed starting point: an upgrade starts from an empty
//! database (nothing of the revisions exists yet), a downgrade from one at
//! head (everything exists, foreign keys carry their conventional names).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use sea_orm::{
    DatabaseConnection, DatabaseConnectionType, DbBackend, DbErr, ExecResult, MockDatabase,
    MockDatabaseConnection, MockDatabaseTrait, MockExecResult, QueryResult, Statement, Transaction,
    Value,
};

/// Records every statement; answers lookups as if the revisions' objects
/// did (`present`) or did not exist. Its results are built by SeaORM's own
/// `MockDatabase`, one statement at a time.
#[derive(Debug)]
struct Recorder {
    backend: DbBackend,
    statements: Arc<Mutex<Vec<String>>>,
    present: bool,
}

impl Recorder {
    /// Records a statement. A poisoned list is not written to: `render`
    /// then fails, so a partial script is never printed.
    fn push(&self, sql: String) {
        if let Ok(mut statements) = self.statements.lock() {
            statements.push(sql);
        }
    }

    /// The answer to a lookup, as rows of named values.
    fn answer(&self, statement: &Statement) -> Vec<BTreeMap<String, Value>> {
        let sql = statement.sql.as_str();
        // SchemaManager's has_table / has_column / has_index probes.
        const PROBES: [&str; 3] = ["has_table", "has_column", "has_index"];
        if PROBES.iter().any(|probe| sql.contains(probe)) {
            // At head, MySQL has no index of its own for a foreign key that
            // an `idx_*` index serves (it drops it when that index is made).
            let own_fk_index = strings(statement).iter().any(|v| v.ends_with("_fkey"));
            let present = self.present && !(sql.contains("has_index") && own_fk_index);
            let row = PROBES
                .iter()
                .map(|k| ((*k).to_owned(), Value::Bool(Some(present))))
                .collect();
            return vec![row];
        }
        // The foreign keys of a column (schema_ops::foreign_keys_on).
        if sql.contains("table_constraints") && self.present {
            let values = strings(statement);
            if let [table, column] = values.as_slice() {
                let name = format!("{table}_{column}_fkey");
                return vec![BTreeMap::from([("name".to_owned(), Value::from(name))])];
            }
        }
        Vec::new()
    }
}

/// The string values bound to a statement, in order.
fn strings(statement: &Statement) -> Vec<String> {
    statement
        .values
        .iter()
        .flat_map(|v| v.0.iter())
        .filter_map(|v| match v {
            Value::String(Some(s)) => Some(s.to_string()),
            _ => None,
        })
        .collect()
}

impl MockDatabaseTrait for Recorder {
    fn execute(&mut self, _counter: usize, statement: Statement) -> Result<ExecResult, DbErr> {
        self.push(statement.to_string());
        MockDatabase::new(self.backend)
            .append_exec_results([MockExecResult {
                last_insert_id: 0,
                rows_affected: 1,
            }])
            .execute(0, statement)
    }

    fn query(&mut self, _counter: usize, statement: Statement) -> Result<Vec<QueryResult>, DbErr> {
        let rows = self.answer(&statement);
        MockDatabase::new(self.backend)
            .append_query_results([rows])
            .query(0, statement)
    }

    fn begin(&mut self) {
        self.push("BEGIN".to_owned());
    }

    fn commit(&mut self) {
        self.push("COMMIT".to_owned());
    }

    fn rollback(&mut self) {
        self.push("ROLLBACK".to_owned());
    }

    fn drain_transaction_log(&mut self) -> Vec<Transaction> {
        Vec::new()
    }

    fn get_database_backend(&self) -> DbBackend {
        self.backend
    }

    fn ping(&self) -> Result<(), DbErr> {
        Ok(())
    }
}

tokio::task_local! {
    /// Set while revisions are rendered for their checksums (see
    /// [`canonical`]).
    static CANONICAL: ();
}

/// Runs `work` (a rendering on a recording connection) so that what a
/// revision draws at run time does not enter its SQL: the seed rows' time
/// stamps read [`CANONICAL_TIME`], the seeded password hash is
/// [`CANONICAL_HASH`] (and argon2 does not run). A checksum is then a
/// function of the revision's code and the backend only.
pub async fn canonical<F: std::future::Future>(work: F) -> F::Output {
    CANONICAL.scope((), work).await
}

/// Whether the current task renders for a checksum.
pub fn is_canonical() -> bool {
    CANONICAL.try_with(|_| ()).is_ok()
}

/// The time stamp seed rows carry in a checksum's rendering.
pub const CANONICAL_TIME: &str = "1970-01-01T00:00:00.000000";

/// The password hash the seeded user carries in a checksum's rendering (not
/// a PHC string: it can never verify a password).
pub const CANONICAL_HASH: &str = "<argon2id hash of the seeded password>";

/// A recording connection for `backend` and the statements it will hold.
pub fn recorder(
    backend: DbBackend,
    present: bool,
) -> (DatabaseConnection, Arc<Mutex<Vec<String>>>) {
    let statements = Arc::new(Mutex::new(Vec::new()));
    let recorder = Recorder {
        backend,
        statements: statements.clone(),
        present,
    };
    let conn = DatabaseConnectionType::MockDatabaseConnection(Arc::new(
        MockDatabaseConnection::new(recorder),
    ))
    .into();
    (conn, statements)
}

/// The recorded statements as a script, one statement a line.
pub fn render(statements: &Arc<Mutex<Vec<String>>>) -> Result<String, crate::runner::Error> {
    let statements = statements.lock().map_err(|_| {
        DbErr::Custom("the SQL recorder failed while recording; the script is incomplete".into())
    })?;
    Ok(statements
        .iter()
        .map(|s| format!("{};\n", s.trim_end_matches(';')))
        .collect())
}
