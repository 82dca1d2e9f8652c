//! The migration CLI (`cargo run -p migration -- up`): its arguments, the
//! dispatch of each command to the runner; `report` prints the outcomes.
//! `src/main.rs` only calls [`main`].
//!
//! Exit codes: 0 success; 1 a failed check, a refused operation or an error;
//! 2 a usage error (unknown command, option or revision).
//!
//! `--format json` prints one JSON document on standard output instead of
//! the lines for people (errors too); the keys are listed in the README.

mod report;

use std::process::ExitCode;
use std::time::Duration;

use crate::bookkeeping;
use crate::lock::{self, MigrationLock};
use crate::runner::{self, DownTarget, Error, Options, StampTarget, Target};
use crate::{REVISIONS, Rev};
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use sea_orm::DbBackend;
use serde_json::{Value, json};

use report::{
    edited_documents, history, history_documents, label, outcome_document, report_edited,
};

/// How the CLI answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    /// Lines for people.
    Human,
    /// One JSON document on standard output (keys: see the README).
    Json,
}

#[derive(Parser)]
#[command(name = "migration")]
struct Cli {
    /// Database URL; else DATABASE_URL from the environment or a .env file;
    /// else the embedded SQLite file dms.db.
    #[arg(
        short = 'u',
        long = "database-url",
        env = "DATABASE_URL",
        global = true
    )]
    database_url: Option<String>,

    /// Seconds to wait for another migration of the same database to finish.
    #[arg(long, default_value_t = 60, global = true, value_name = "SECONDS")]
    lock_timeout: u64,

    /// Output: lines for people, or one JSON document on standard output.
    #[arg(long, value_enum, default_value_t = Format::Human, global = true)]
    format: Format,

    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone, Copy)]
struct Guard {
    /// Drop tables and columns even when they hold rows.
    #[arg(long)]
    force: bool,
    /// Show the plan (revisions, rows that would be lost) and change nothing.
    #[arg(long)]
    dry_run: bool,
}

impl Guard {
    fn options(self, allow_edited: bool) -> Options {
        Options {
            force: self.force,
            dry_run: self.dry_run,
            allow_edited,
        }
    }
}

impl From<Guard> for Options {
    fn from(g: Guard) -> Self {
        g.options(false)
    }
}

#[derive(Subcommand)]
enum Command {
    /// Apply pending revisions (all, or the next N)
    Up {
        #[arg(short = 'n', long = "num")]
        num: Option<u32>,
        #[command(flatten)]
        guard: Guard,
        /// Upgrade even when an applied revision was edited after it was applied
        #[arg(long)]
        allow_edited: bool,
    },
    /// Roll back applied revisions (the last one, or the last N)
    Down {
        #[arg(short = 'n', long = "num", default_value_t = 1)]
        num: u32,
        #[command(flatten)]
        guard: Guard,
    },
    /// List the revisions and whether each is applied (exit 1 when an applied one was edited since)
    Status,
    /// Drop every table of the database, then apply every revision
    Fresh {
        #[command(flatten)]
        guard: Guard,
    },
    /// Roll back every revision, then apply them all again
    Refresh {
        #[command(flatten)]
        guard: Guard,
    },
    /// Roll back every revision
    Reset {
        #[command(flatten)]
        guard: Guard,
    },
    /// Print the revision the database is at
    Current,
    /// List the chain, oldest first, with what is applied and when
    History {
        /// Also describe each revision and what its downgrade drops
        #[arg(short, long)]
        verbose: bool,
    },
    /// Apply revisions up to TARGET: head, +N, or a revision id (or unique prefix)
    Upgrade {
        target: String,
        /// Print the SQL it would run on an empty database of the URL's backend; connect to nothing
        #[arg(long)]
        sql: bool,
        #[command(flatten)]
        guard: Guard,
        /// Upgrade even when an applied revision was edited after it was applied
        #[arg(long)]
        allow_edited: bool,
    },
    /// Roll back to TARGET: -N, base, or a revision id (or unique prefix) that stays applied
    Downgrade {
        #[arg(allow_hyphen_values = true)]
        target: String,
        /// Print the SQL it would run on a database of the URL's backend at head; connect to nothing
        #[arg(long)]
        sql: bool,
        #[command(flatten)]
        guard: Guard,
    },
    /// Record TARGET (a revision id, head or base) as applied, without running its DDL
    Stamp { target: String },
    /// Compare the live schema with what the code expects at the recorded revision, and the applied revisions with their checksums (exit 1 on differences)
    Check,
}

/// A command with its targets resolved to revisions of the chain.
enum Action {
    Upgrade(Target, Options, bool),
    Downgrade(DownTarget, Options, bool),
    Refresh(Options),
    Reset(Options),
    Fresh(Options),
    Stamp(StampTarget),
    Status,
    Current,
    History { verbose: bool },
    Check,
}

impl Action {
    /// Resolves the targets of `command`; an unknown one is an error here,
    /// before anything is touched.
    fn resolve(command: Command) -> Result<Action, Error> {
        Ok(match command {
            Command::Up {
                num,
                guard,
                allow_edited,
            } => Action::Upgrade(
                num.map_or(Target::Head, Target::Steps),
                guard.options(allow_edited),
                false,
            ),
            Command::Upgrade {
                target,
                sql,
                guard,
                allow_edited,
            } => Action::Upgrade(target.parse()?, guard.options(allow_edited), sql),
            Command::Down { num, guard } => {
                Action::Downgrade(DownTarget::Steps(num), guard.into(), false)
            }
            Command::Downgrade { target, sql, guard } => {
                Action::Downgrade(target.parse()?, guard.into(), sql)
            }
            Command::Refresh { guard } => Action::Refresh(guard.into()),
            Command::Reset { guard } => Action::Reset(guard.into()),
            Command::Fresh { guard } => Action::Fresh(guard.into()),
            Command::Stamp { target } => Action::Stamp(target.parse()?),
            Command::Status => Action::Status,
            Command::Current => Action::Current,
            Command::History { verbose } => Action::History { verbose },
            Command::Check => Action::Check,
        })
    }

    /// Whether the action may change the database, and so takes the lock.
    fn writes(&self) -> bool {
        match self {
            Action::Status | Action::Current | Action::History { .. } | Action::Check => false,
            Action::Upgrade(_, options, sql) | Action::Downgrade(_, options, sql) => {
                !options.dry_run && !sql
            }
            Action::Refresh(options) | Action::Reset(options) | Action::Fresh(options) => {
                !options.dry_run
            }
            Action::Stamp(_) => true,
        }
    }
}

/// The help's first line, from the chain itself.
fn about() -> String {
    let chain: Vec<&str> = REVISIONS.iter().map(|e| e.id).collect();
    format!(
        "Apply and roll back the DMS migration chain ({})",
        chain.join(" -> ")
    )
}

/// Whether the raw arguments ask for JSON (read before clap, so that a usage
/// error is answered in JSON too).
fn json_requested() -> bool {
    let args: Vec<String> = std::env::args().collect();
    args.iter().enumerate().any(|(i, a)| {
        a == "--format=json" || (a == "--format" && args.get(i + 1).is_some_and(|v| v == "json"))
    })
}

/// An error as the JSON document `{"error": ..., "hint": ...}`.
fn error_document(what: &str, hint: Option<&str>) -> Value {
    json!({ "error": what, "hint": hint })
}

fn print_json(document: &Value) {
    println!("{document}");
}

/// Runs the CLI on the process's arguments.
pub fn main() -> ExitCode {
    // A missing .env is normal; a malformed one is worth saying.
    if let Err(e) = dotenvy::dotenv()
        && !e.not_found()
    {
        let what = format!("cannot read .env: {e}");
        let hint = "fix or remove the .env file";
        if json_requested() {
            print_json(&error_document(&what, Some(hint)));
        } else {
            eprintln!("error: {what} ({hint})");
        }
        return ExitCode::from(2);
    }
    let matches = match Cli::command().about(about()).try_get_matches() {
        Ok(matches) => matches,
        Err(e) if e.use_stderr() && json_requested() => {
            let text = e.to_string();
            let what = text
                .lines()
                .next()
                .unwrap_or_default()
                .trim_start_matches("error: ");
            print_json(&error_document(what, Some("see --help")));
            return ExitCode::from(2);
        }
        Err(e) => e.exit(),
    };
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let format = cli.format;
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let what = format!("cannot start the async runtime: {e}");
            let hint = "check the system's limits";
            match format {
                Format::Json => print_json(&error_document(&what, Some(hint))),
                Format::Human => eprintln!("error: {what} ({hint})"),
            }
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            match format {
                Format::Json => {
                    let (what, hint) = e.parts();
                    print_json(&error_document(&what, hint.as_deref()));
                }
                Format::Human => eprintln!("error: {e}"),
            }
            ExitCode::from(e.exit_code())
        }
    }
}

async fn run(cli: Cli) -> Result<ExitCode, Error> {
    let url = cli
        .database_url
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| crate::DEFAULT_DATABASE_URL.to_owned());
    let format = cli.format;
    // Arguments first: a bad revision is reported before anything is touched.
    let action = Action::resolve(cli.command)?;

    // Offline SQL: no lock, no connection.
    let offline = match &action {
        Action::Upgrade(target, _, true) => {
            Some(runner::upgrade_sql(runner::backend_of(&url)?, target).await?)
        }
        Action::Downgrade(target, _, true) => {
            Some(runner::downgrade_sql(runner::backend_of(&url)?, target).await?)
        }
        _ => None,
    };
    if let Some(sql) = offline {
        match format {
            Format::Json => print_json(&json!({ "sql": sql })),
            Format::Human => print!("{sql}"),
        }
        return Ok(ExitCode::SUCCESS);
    }

    let timeout = Duration::from_secs(cli.lock_timeout);
    let waiting = || {
        let line = format!(
            "waiting for another migration of this database to finish (up to {} s)",
            timeout.as_secs()
        );
        // Standard output holds the one JSON document.
        match format {
            Format::Json => eprintln!("{line}"),
            Format::Human => println!("{line}"),
        }
    };
    let writes = action.writes();
    let sqlite = runner::backend_of(&url)? == DbBackend::Sqlite;
    // SQLite: the lock file before the database is opened.
    let file_lock = if writes && sqlite {
        Some(lock::for_sqlite_url(&url, timeout, waiting).await?)
    } else {
        None
    };
    let db = runner::connect(&url).await?;
    let lock = match file_lock {
        Some(lock) => lock,
        None if writes => lock::session(&db, timeout, waiting).await?,
        None => MigrationLock::None,
    };
    let database = runner::redact(&url);
    if format == Format::Human {
        println!("database: {database}");
    }
    let result = execute(&db, &url, action, format).await;
    lock.release(&db).await;
    let _ = db.close().await;
    let (code, document) = result?;
    if format == Format::Json {
        let mut document = document;
        if let Value::Object(map) = &mut document {
            map.insert("database".to_owned(), Value::from(database));
        }
        print_json(&document);
    }
    Ok(code)
}

/// Runs `action`; prints its lines for people when `format` is human, and
/// returns the exit code with the JSON document (printed by the caller).
async fn execute(
    db: &sea_orm::DatabaseConnection,
    url: &str,
    action: Action,
    format: Format,
) -> Result<(ExitCode, Value), Error> {
    let human = format == Format::Human;
    let document = match action {
        Action::Upgrade(target, options, _) => {
            let outcome = runner::upgrade(db, &target, &options).await?;
            outcome_document(&outcome, "applied", false, human)
        }
        Action::Downgrade(target, options, _) => {
            let outcome = runner::downgrade(db, &target, &options).await?;
            outcome_document(&outcome, "rolled back", false, human)
        }
        Action::Refresh(options) => outcome_document(
            &runner::refresh(db, &options).await?,
            "re-ran",
            false,
            human,
        ),
        Action::Reset(options) => outcome_document(
            &runner::reset(db, &options).await?,
            "rolled back",
            false,
            human,
        ),
        Action::Fresh(options) => {
            let outcome = runner::fresh(db, &options).await?;
            if !outcome.dry_run && human {
                println!("dropped every table");
            }
            outcome_document(&outcome, "applied", !outcome.dry_run, human)
        }
        Action::Stamp(target) => {
            runner::stamp(db, target).await?;
            let stamped = match target {
                StampTarget::Base => None,
                StampTarget::Revision(rev) => Some(rev.id()),
            };
            if human {
                println!("stamped {}", stamped.unwrap_or("base"));
            }
            json!({ "stamped": stamped })
        }
        Action::Status => {
            let states = bookkeeping::states(db).await?;
            let verification = runner::verify(db, REVISIONS).await?;
            let recorded = bookkeeping::read(db).await?.checksums;
            if human {
                for state in &states {
                    let mark = if state.applied_at.is_some() {
                        "applied"
                    } else {
                        "pending"
                    };
                    println!("{:<34} {mark}", state.name());
                }
            }
            let revisions: Vec<Value> = states
                .iter()
                .map(|s| {
                    json!({
                        "id": s.name(),
                        "applied": s.applied_at.is_some(),
                        "checksum": recorded.get(s.name()),
                        "edited": verification.edited.iter().any(|e| e.revision == s.name()),
                    })
                })
                .collect();
            let code = report_edited(&verification, human);
            return Ok((
                code,
                json!({
                    "revisions": revisions,
                    "edited": edited_documents(&verification.edited),
                    "unrecorded_checksums": verification.unrecorded,
                }),
            ));
        }
        Action::Current => {
            let states = bookkeeping::states(db).await?;
            let current = bookkeeping::current(&states);
            if human {
                println!("{}", label(current));
            }
            json!({
                "current": current.map(Rev::id),
                "head": crate::HEAD,
                "at_head": current == Some(Rev::head()),
            })
        }
        Action::History { verbose } => {
            let states = bookkeeping::states(db).await?;
            if human {
                history(&states, verbose);
            }
            json!({ "revisions": history_documents(&states) })
        }
        Action::Check => {
            let (revision, differences) = runner::check(db, url).await?;
            let verification = runner::verify(db, REVISIONS).await?;
            let at = revision.map_or("base", Rev::id);
            let mut code = ExitCode::SUCCESS;
            if !differences.is_empty() {
                code = ExitCode::FAILURE;
                if human {
                    for line in &differences {
                        println!("{line}");
                    }
                    eprintln!(
                        "error: the schema differs from what {at} expects in {} place(s), listed above (upgrade, downgrade or repair the database)",
                        differences.len()
                    );
                }
            } else if human {
                println!("the schema matches {at}");
            }
            if report_edited(&verification, human) == ExitCode::FAILURE {
                code = ExitCode::FAILURE;
            }
            return Ok((
                code,
                json!({
                    "revision": revision.map(Rev::id),
                    "ok": code == ExitCode::SUCCESS,
                    "schema_matches": differences.is_empty(),
                    "differences": differences,
                    "edited": edited_documents(&verification.edited),
                    "unrecorded_checksums": verification.unrecorded,
                }),
            ));
        }
    };
    Ok((ExitCode::SUCCESS, document))
}
