//! The migration CLI: `cargo run -p migration -- up`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use migration::runner;

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

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply pending revisions (all, or the next N)
    Up {
        #[arg(short = 'n', long = "num")]
        num: Option<u32>,
    },
    /// Roll back applied revisions (the last one, or the last N)
    Down {
        #[arg(short = 'n', long = "num", default_value_t = 1)]
        num: u32,
    },
    /// List the revisions and whether each is applied
    Status,
    /// Drop every table of the database, then apply every revision
    Fresh,
    /// Roll back every revision, then apply them all again
    Refresh,
    /// Roll back every revision
    Reset,
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
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), runner::Error> {
    let url = cli
        .database_url
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| migration::DEFAULT_DATABASE_URL.to_owned());
    let db = migration::connect(&url).await?;
    println!("database: {}", runner::redact(&url));
    match cli.command {
        Command::Up { num } => report("applied", runner::up(&db, num).await?),
        Command::Down { num } => report("rolled back", runner::down(&db, Some(num)).await?),
        Command::Status => {
            for (name, applied) in runner::status(&db).await? {
                let state = if applied { "applied" } else { "pending" };
                println!("{name:<34} {state}");
            }
        }
        Command::Fresh => {
            runner::fresh(&db).await?;
            println!("dropped every table and applied every revision");
        }
        Command::Refresh => {
            runner::refresh(&db).await?;
            println!("rolled back and re-applied every revision");
        }
        Command::Reset => {
            runner::reset(&db).await?;
            println!("rolled back every revision");
        }
    }
    Ok(())
}

fn report(verb: &str, names: Vec<String>) {
    if names.is_empty() {
        println!("nothing to do");
    }
    for name in names {
        println!("{verb} {name}");
    }
}
