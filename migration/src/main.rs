//! The migration CLI: `cargo run -p migration -- up`.
//!
//! Exit codes: 0 success; 1 a failed check, a refused operation or an error;
//! 2 a usage error (unknown command, option or revision).

use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use migration::bookkeeping::{self, RevisionState};
use migration::runner::{self, DownTarget, Error, Options, Outcome, UpTarget};

#[derive(Parser)]
#[command(
    name = "migration",
    about = "Apply and roll back the DMS migration chain (002_add_couche_a -> 003_add_procurement_extensions -> 004_users_rbac)"
)]
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

impl Command {
    /// Whether the command may change the database, and so takes the lock.
    fn writes(&self) -> bool {
        match self {
            Command::Status | Command::Current | Command::History { .. } | Command::Check => false,
            Command::Upgrade { sql: true, .. } | Command::Downgrade { sql: true, .. } => false,
            Command::Up { guard, .. }
            | Command::Down { guard, .. }
            | Command::Fresh { guard }
            | Command::Refresh { guard }
            | Command::Reset { guard }
            | Command::Upgrade { guard, .. }
            | Command::Downgrade { guard, .. } => !guard.dry_run,
            Command::Stamp { .. } => true,
        }
    }
}

fn main() -> ExitCode {
    // A missing .env is normal; a malformed one is worth saying.
    if let Err(e) = dotenvy::dotenv()
        && !e.not_found()
    {
        eprintln!("error: cannot read .env: {e} (fix or remove the .env file)");
        return ExitCode::from(2);
    }
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
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
    let up_target = match &cli.command {
        Command::Upgrade { target, .. } => Some(target.parse::<UpTarget>()?),
        _ => None,
    };
    let down_target = match &cli.command {
        Command::Downgrade { target, .. } => Some(target.parse::<DownTarget>()?),
        _ => None,
    };
    let stamp_target = match &cli.command {
        Command::Stamp { target } if target == "base" => Some(None),
        Command::Stamp { target } if target == "head" => bookkeeping::chain().pop().map(Some),
        Command::Stamp { target } => Some(Some(runner::resolve(target)?)),
        _ => None,
    };

    // Offline SQL: no lock, no connection.
    match (&cli.command, &up_target, &down_target) {
        (Command::Upgrade { sql: true, .. }, Some(target), _) => {
            print!(
                "{}",
                runner::upgrade_sql(runner::backend_of(&url)?, target).await?
            );
            return Ok(ExitCode::SUCCESS);
        }
        (Command::Downgrade { sql: true, .. }, _, Some(target)) => {
            print!(
                "{}",
                runner::downgrade_sql(runner::backend_of(&url)?, target).await?
            );
            return Ok(ExitCode::SUCCESS);
        }
        _ => {}
    }

    let lock = if cli.command.writes() {
        let timeout = cli.lock_timeout;
        Some(
            migration::lock::acquire(&url, Duration::from_secs(timeout), || {
                println!(
                    "waiting for another migration of this database to finish (up to {timeout} s)"
                )
            })
            .await?,
        )
    } else {
        None
    };
    let db = migration::connect(&url).await?;
    println!("database: {}", runner::redact(&url));

    match cli.command {
        Command::Up { num, guard } => {
            let target = num.map_or(UpTarget::Head, UpTarget::Steps);
            report(
                &runner::upgrade(&db, &target, &guard.into()).await?,
                "applied",
            );
        }
        Command::Upgrade { guard, .. } => {
            let target = up_target.unwrap_or(UpTarget::Head);
            report(
                &runner::upgrade(&db, &target, &guard.into()).await?,
                "applied",
            );
        }
        Command::Down { num, guard } => {
            let outcome = runner::downgrade(&db, &DownTarget::Steps(num), &guard.into()).await?;
            report(&outcome, "rolled back");
        }
        Command::Downgrade { guard, .. } => {
            let target = down_target.unwrap_or(DownTarget::Steps(1));
            report(
                &runner::downgrade(&db, &target, &guard.into()).await?,
                "rolled back",
            );
        }
        Command::Refresh { guard } => {
            report(&runner::refresh(&db, &guard.into()).await?, "re-ran");
        }
        Command::Reset { guard } => {
            report(&runner::reset(&db, &guard.into()).await?, "rolled back");
        }
        Command::Fresh { guard } => {
            let outcome = runner::fresh(&db, &guard.into()).await?;
            if !outcome.dry_run {
                println!("dropped every table");
            }
            report(&outcome, "applied");
        }
        Command::Stamp { .. } => {
            let target = stamp_target.flatten();
            runner::stamp(&db, target.as_deref()).await?;
            println!("stamped {}", target.as_deref().unwrap_or("base"));
        }
        Command::Status => {
            for state in bookkeeping::states(&db).await? {
                let mark = if state.applied_at.is_some() {
                    "applied"
                } else {
                    "pending"
                };
                println!("{:<34} {mark}", state.name);
            }
        }
        Command::Current => {
            let states = bookkeeping::states(&db).await?;
            println!("{}", label(bookkeeping::current(&states), &states));
        }
        Command::History { verbose } => history(&bookkeeping::states(&db).await?, verbose),
        Command::Check => {
            let (revision, differences) = runner::check(&db, &url).await?;
            let at = revision.as_deref().unwrap_or("base");
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
    if let Some(lock) = lock {
        lock.release().await;
    }
    Ok(ExitCode::SUCCESS)
}

/// `004_users_rbac (head)`, `003_add_procurement_extensions`, or `base`.
fn label(current: Option<&str>, states: &[RevisionState]) -> String {
    match current {
        None => "base".to_owned(),
        Some(name) if states.last().is_some_and(|s| s.name == name) => format!("{name} (head)"),
        Some(name) => name.to_owned(),
    }
}

fn history(states: &[RevisionState], verbose: bool) {
    let current = bookkeeping::current(states);
    for (i, state) in states.iter().enumerate() {
        let parent = if i == 0 {
            "<base>"
        } else {
            states[i - 1].name.as_str()
        };
        let applied = match state.applied_at {
            None => "pending".to_owned(),
            Some(0) => "applied (recorded by Alembic)".to_owned(),
            Some(at) => format!("applied {}", migration::format_unix_time(at)),
        };
        let mut marks = Vec::new();
        if i + 1 == states.len() {
            marks.push("head");
        }
        if current == Some(state.name.as_str()) {
            marks.push("current");
        }
        let marks = if marks.is_empty() {
            String::new()
        } else {
            format!(" ({})", marks.join(", "))
        };
        println!("{parent} -> {}{marks}, {applied}", state.name);
        if verbose {
            println!("    {}", migration::description(&state.name));
            println!(
                "    downgrade drops: {}",
                migration::downgrade_summary(&state.name)
            );
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
