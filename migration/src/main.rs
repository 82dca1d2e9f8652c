//! The migration CLI: `cargo run -p migration -- up`.
//!
//! Exit codes: 0 success; 1 a failed check, a refused operation or an error;
//! 2 a usage error (unknown command, option or revision).

use std::process::ExitCode;
use std::time::Duration;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use migration::bookkeeping::{self, RevisionState};
use migration::lock::{self, MigrationLock};
use migration::runner::{self, DownTarget, Error, Options, Outcome, StampTarget, Target};
use migration::{REVISIONS, Rev};
use sea_orm::DbBackend;

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

impl From<Guard> for Options {
    fn from(g: Guard) -> Self {
        Options {
            force: g.force,
            dry_run: g.dry_run,
        }
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
    },
    /// Roll back applied revisions (the last one, or the last N)
    Down {
        #[arg(short = 'n', long = "num", default_value_t = 1)]
        num: u32,
        #[command(flatten)]
        guard: Guard,
    },
    /// List the revisions and whether each is applied
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
    /// Compare the live schema with what the code expects at the recorded revision (exit 1 on differences)
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
            Command::Up { num, guard } => {
                Action::Upgrade(num.map_or(Target::Head, Target::Steps), guard.into(), false)
            }
            Command::Upgrade { target, sql, guard } => {
                Action::Upgrade(target.parse()?, guard.into(), sql)
            }
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

fn main() -> ExitCode {
    // A missing .env is normal; a malformed one is worth saying.
    if let Err(e) = dotenvy::dotenv()
        && !e.not_found()
    {
        eprintln!("error: cannot read .env: {e} (fix or remove the .env file)");
        return ExitCode::from(2);
    }
    let matches = Cli::command().about(about()).get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e} (check the system's limits)");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

async fn run(cli: Cli) -> Result<ExitCode, Error> {
    let url = cli
        .database_url
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| migration::DEFAULT_DATABASE_URL.to_owned());
    // Arguments first: a bad revision is reported before anything is touched.
    let action = Action::resolve(cli.command)?;

    // Offline SQL: no lock, no connection.
    match &action {
        Action::Upgrade(target, _, true) => {
            print!(
                "{}",
                runner::upgrade_sql(runner::backend_of(&url)?, target).await?
            );
            return Ok(ExitCode::SUCCESS);
        }
        Action::Downgrade(target, _, true) => {
            print!(
                "{}",
                runner::downgrade_sql(runner::backend_of(&url)?, target).await?
            );
            return Ok(ExitCode::SUCCESS);
        }
        _ => {}
    }

    let timeout = Duration::from_secs(cli.lock_timeout);
    let waiting = || {
        println!(
            "waiting for another migration of this database to finish (up to {} s)",
            timeout.as_secs()
        )
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
    println!("database: {}", runner::redact(&url));
    let result = execute(&db, &url, action).await;
    lock.release(&db).await;
    let _ = db.close().await;
    result
}

async fn execute(
    db: &sea_orm::DatabaseConnection,
    url: &str,
    action: Action,
) -> Result<ExitCode, Error> {
    match action {
        Action::Upgrade(target, options, _) => {
            report(&runner::upgrade(db, &target, &options).await?, "applied");
        }
        Action::Downgrade(target, options, _) => {
            report(
                &runner::downgrade(db, &target, &options).await?,
                "rolled back",
            );
        }
        Action::Refresh(options) => report(&runner::refresh(db, &options).await?, "re-ran"),
        Action::Reset(options) => report(&runner::reset(db, &options).await?, "rolled back"),
        Action::Fresh(options) => {
            let outcome = runner::fresh(db, &options).await?;
            if !outcome.dry_run {
                println!("dropped every table");
            }
            report(&outcome, "applied");
        }
        Action::Stamp(target) => {
            runner::stamp(db, target).await?;
            match target {
                StampTarget::Base => println!("stamped base"),
                StampTarget::Revision(rev) => println!("stamped {rev}"),
            }
        }
        Action::Status => {
            for state in bookkeeping::states(db).await? {
                let mark = if state.applied_at.is_some() {
                    "applied"
                } else {
                    "pending"
                };
                println!("{:<34} {mark}", state.name());
            }
        }
        Action::Current => {
            let states = bookkeeping::states(db).await?;
            println!("{}", label(bookkeeping::current(&states)));
        }
        Action::History { verbose } => history(&bookkeeping::states(db).await?, verbose),
        Action::Check => {
            let (revision, differences) = runner::check(db, url).await?;
            let at = revision.map_or("base", Rev::id);
            if !differences.is_empty() {
                for line in &differences {
                    println!("{line}");
                }
                eprintln!(
                    "error: the schema differs from what {at} expects in {} place(s), listed above (upgrade, downgrade or repair the database)",
                    differences.len()
                );
                return Ok(ExitCode::FAILURE);
            }
            println!("the schema matches {at}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `005_add_fk_indexes (head)`, `003_add_procurement_extensions`, or `base`.
fn label(current: Option<Rev>) -> String {
    match current {
        None => "base".to_owned(),
        Some(rev) if rev == Rev::head() => format!("{rev} (head)"),
        Some(rev) => rev.id().to_owned(),
    }
}

fn history(states: &[RevisionState], verbose: bool) {
    let current = bookkeeping::current(states);
    for (i, state) in states.iter().enumerate() {
        let parent = match i.checked_sub(1).and_then(|p| states.get(p)) {
            None => "<base>",
            Some(previous) => previous.name(),
        };
        let applied = match state.applied_at {
            None => "pending".to_owned(),
            Some(0) => "applied (recorded by Alembic)".to_owned(),
            Some(at) => format!("applied {}", migration::format_unix_time(at)),
        };
        let mut marks = Vec::new();
        if state.rev == Rev::head() {
            marks.push("head");
        }
        if current == Some(state.rev) {
            marks.push("current");
        }
        let marks = if marks.is_empty() {
            String::new()
        } else {
            format!(" ({})", marks.join(", "))
        };
        println!("{parent} -> {}{marks}, {applied}", state.name());
        if verbose {
            let entry = state.rev.entry();
            println!("    {}", entry.description);
            println!("    downgrade drops: {}", entry.drops.summary());
            if !entry.indexes.is_empty() {
                let names: Vec<String> = entry
                    .indexes
                    .iter()
                    .map(|(t, c)| migration::revision::index_name(t, c))
                    .collect();
                println!("    adds indexes: {}", names.join(", "));
            }
        }
    }
}

fn report(outcome: &Outcome, verb: &str) {
    if let Some(rev) = &outcome.adopted {
        println!("adopted the Alembic database at {rev} (recorded, not re-run)");
    }
    let prefix = if outcome.dry_run { "would have " } else { "" };
    if outcome.revisions.is_empty() {
        println!("nothing to do");
    }
    for name in &outcome.revisions {
        println!("{prefix}{verb} {name}");
    }
    for loss in &outcome.losses {
        let verb = if outcome.dry_run {
            "would drop"
        } else {
            "dropped"
        };
        println!("{verb} {loss}");
    }
}
