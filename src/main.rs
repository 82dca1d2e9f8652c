//! The `dms` binary: `serve` runs the server (the API and the pages);
//! `user create` and `user set-password` manage accounts; `backup` and
//! `restore` copy the data out and back; `storage migrate` moves the files
//! into a bucket; `verify` checks the ledger. Thin: parse, then call the
//! library.

use std::io::{BufRead, IsTerminal};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use dms::analysis::queue::QueueConfig;
use dms::auth::{NewUser, Role};
use dms::db::MigratePolicy;
use dms::http::conn::ConnLimits;
use dms::http::limits::LimitConfig;
use dms::http::metrics::MetricsAccess;
use dms::server::Config;

/// mimalloc instead of glibc's malloc: the server allocates and frees many
/// small buffers per request (JSON, rows, headers), where glibc's
/// consolidation showed as a sixth of the server's CPU under load.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "dms",
    version,
    about = "Decision Memory System: the procurement committees' server"
)]
struct Cli {
    /// Database URL (sqlite://, postgres://, mysql://). Also read from
    /// DATABASE_URL and .env; default: the embedded SQLite file dms.db.
    #[arg(
        short = 'u',
        long = "database-url",
        env = "DATABASE_URL",
        global = true,
        hide_env_values = true
    )]
    database_url: Option<String>,

    /// Log lines as text, or one JSON object per line (`json`).
    #[arg(long, env = "DMS_LOG_FORMAT", global = true, default_value = "text", value_parser = ["text", "json"])]
    log_format: String,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API (default 0.0.0.0:5000).
    Serve(ServeArgs),
    /// Manage user accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Copy the database and every stored file into DEST, with a manifest
    /// of their hashes, while the server runs (README "Backups").
    Backup(BackupArgs),
    /// Put a backup back as DATABASE_URL's SQLite file and the data
    /// directory, after checking every hash (stop the server first).
    Restore(RestoreArgs),
    /// Manage where the files are stored.
    #[command(subcommand)]
    Storage(StorageCommand),
    /// Verify the ledger: every chain's hashes, the rows and stored files
    /// against what it recorded. Exit 0 intact, 1 findings, 2 errors.
    Verify(VerifyArgs),
}

#[derive(Subcommand)]
enum StorageCommand {
    /// Copy the data directory's files into a bucket, verifying every
    /// object's SHA-256 (then serve with DMS_STORAGE_URL set to it).
    Migrate {
        /// The bucket: s3://bucket/prefix (endpoint and credentials from
        /// the AWS_* variables).
        #[arg(long)]
        to: String,
        /// The data directory to copy.
        #[arg(long, env = "DMS_DATA_DIR", default_value = "data")]
        data_dir: PathBuf,
    },
}

#[derive(clap::Args)]
struct BackupArgs {
    /// A new (or empty) directory to write the backup into.
    dest: PathBuf,
    /// Where uploaded and generated files live.
    #[arg(long, env = "DMS_DATA_DIR", default_value = "data")]
    data_dir: PathBuf,
    /// Copy only the stored files and the manifest (PostgreSQL, MariaDB:
    /// their database is dumped with pg_dump or mariadb-dump).
    #[arg(long)]
    files_only: bool,
}

#[derive(clap::Args)]
struct RestoreArgs {
    /// A directory written by `dms backup`.
    src: PathBuf,
    /// Where uploaded and generated files live.
    #[arg(long, env = "DMS_DATA_DIR", default_value = "data")]
    data_dir: PathBuf,
    /// Replace a database or data directory that is not empty.
    #[arg(long)]
    force: bool,
}

#[derive(clap::Args)]
struct VerifyArgs {
    /// Where uploaded and generated files live.
    #[arg(long, env = "DMS_DATA_DIR", default_value = "data")]
    data_dir: PathBuf,
    /// The bucket the files are in, when they are (s3://bucket/prefix).
    #[arg(long, env = "DMS_STORAGE_URL")]
    storage_url: Option<String>,
    /// Verify one case (its id or reference) and the global chain.
    #[arg(long)]
    case: Option<String>,
    /// With --case: the fingerprint printed on a signed PV.
    #[arg(long, requires = "case")]
    expect: Option<String>,
    /// text (one line per finding) or json.
    #[arg(long, default_value = "text", value_parser = ["text", "json"])]
    format: String,
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Address to listen on (default 0.0.0.0:5000, or 0.0.0.0:$PORT).
    #[arg(long, env = "DMS_BIND")]
    bind: Option<SocketAddr>,
    /// Port, as production's runbook passes it (used when --bind is not).
    #[arg(long, env = "PORT", hide = true)]
    port: Option<u16>,
    /// Where uploaded and generated files live.
    #[arg(long, env = "DMS_DATA_DIR", default_value = "data")]
    data_dir: PathBuf,
    /// Keep the files in a bucket (s3://bucket/prefix) instead of the data
    /// directory; endpoint, region and credentials from the AWS_* variables.
    #[arg(long, env = "DMS_STORAGE_URL")]
    storage_url: Option<String>,
    /// Migrate a server database to head before serving (the embedded
    /// SQLite file is always migrated).
    #[arg(long)]
    migrate: bool,
    /// Let anyone register a procurement_officer account (closed by default).
    #[arg(long, env = "DMS_OPEN_REGISTRATION", default_value_t = false, action = clap::ArgAction::Set)]
    open_registration: bool,
    /// Reverse proxies (addresses or networks, comma-separated) whose
    /// X-Forwarded-For and X-Forwarded-Proto headers are believed.
    #[arg(long, env = "DMS_TRUSTED_PROXIES")]
    trusted_proxies: Option<String>,
    /// Token lifetime in minutes.
    #[arg(long, env = "DMS_TOKEN_MINUTES", default_value_t = 480)]
    token_minutes: u64,
    /// Login attempts per minute for one username.
    #[arg(long, env = "DMS_LOGIN_LIMIT_PER_USERNAME", default_value_t = LimitConfig::default().login_per_username)]
    login_limit_per_username: u32,
    /// Login attempts per minute from one client address.
    #[arg(long, env = "DMS_LOGIN_LIMIT_PER_CLIENT", default_value_t = LimitConfig::default().login_per_client)]
    login_limit_per_client: u32,
    /// Case creations per minute for one user.
    #[arg(long, env = "DMS_CASE_LIMIT", default_value_t = LimitConfig::default().create_case_per_user)]
    case_limit: u32,
    /// Uploads per minute for one user.
    #[arg(long, env = "DMS_UPLOAD_LIMIT", default_value_t = LimitConfig::default().upload_per_user)]
    upload_limit: u32,
    /// Analyses asked for per minute by one user.
    #[arg(long, env = "DMS_ANALYZE_LIMIT", default_value_t = LimitConfig::default().analyze_per_user)]
    analyze_limit: u32,
    /// Analyses run at once (default: the number of cores).
    #[arg(long, env = "DMS_ANALYSIS_WORKERS")]
    analysis_workers: Option<usize>,
    /// Analyses that may wait for a worker (default: 4 per worker).
    #[arg(long, env = "DMS_ANALYSIS_QUEUE")]
    analysis_queue: Option<usize>,
    /// Decisions per minute for one user.
    #[arg(long, env = "DMS_DECIDE_LIMIT", default_value_t = LimitConfig::default().decide_per_user)]
    decide_limit: u32,
    /// Self-registrations per minute from one client address.
    #[arg(long, env = "DMS_REGISTER_LIMIT", default_value_t = LimitConfig::default().register_per_client)]
    register_limit: u32,
    /// Seconds a client has to send a request's head (line and headers),
    /// from its first byte; a new connection, to start sending one.
    #[arg(long, env = "DMS_HEADER_TIMEOUT", default_value_t = ConnLimits::default().header_timeout.as_secs())]
    header_timeout: u64,
    /// Seconds a request body may pause (no byte received) before a 408.
    #[arg(long, env = "DMS_BODY_TIMEOUT", default_value_t = ConnLimits::default().body_timeout.as_secs())]
    body_timeout: u64,
    /// Seconds a connection kept alive after an answer may wait for the
    /// next request.
    #[arg(long, env = "DMS_IDLE_TIMEOUT", default_value_t = ConnLimits::default().idle_timeout.as_secs())]
    idle_timeout: u64,
    /// Connections open at once; more wait until one closes.
    #[arg(long, env = "DMS_MAX_CONNECTIONS", default_value_t = ConnLimits::default().max_connections)]
    max_connections: usize,
    /// Clients (addresses or networks, comma-separated) that may read
    /// GET /metrics without the token (DMS_METRICS_TOKEN, a bearer token,
    /// read from the environment only).
    #[arg(long, env = "DMS_METRICS_NETWORKS")]
    metrics_networks: Option<String>,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account; the password is read from the terminal or standard input.
    Create {
        #[arg(long)]
        username: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        full_name: Option<String>,
        /// admin, procurement_officer or viewer.
        #[arg(long, default_value = "procurement_officer", value_parser = ["admin", "procurement_officer", "viewer"])]
        role: String,
    },
    /// Set a user's password, read from the terminal or standard input.
    SetPassword { username: String },
}

fn main() -> ExitCode {
    // A malformed .env is reported by the values it would have given.
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    let log = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("DMS_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr);
    if cli.log_format == "json" {
        // One object per line, the event's fields at its top level.
        log.json()
            .flatten_event(true)
            .with_current_span(false)
            .init();
    } else {
        log.init();
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Command::Verify(args) = cli.command {
        let url = database_url(cli.database_url);
        return match runtime.block_on(verify(url, args)) {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::from(1),
            Err(message) => {
                eprintln!("error: {message}");
                ExitCode::from(2)
            }
        };
    }
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn database_url(given: Option<String>) -> String {
    given
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| migration::DEFAULT_DATABASE_URL.to_owned())
}

async fn run(cli: Cli) -> Result<(), String> {
    let url = database_url(cli.database_url);
    match cli.command {
        Command::Serve(args) => serve(url, args).await,
        Command::User(command) => user(url, command).await,
        Command::Backup(args) => backup(url, args).await,
        Command::Restore(args) => restore(url, args).await,
        Command::Storage(command) => storage(command).await,
        Command::Verify(_) => Err("verify runs from main".into()),
    }
}

async fn backup(url: String, args: BackupArgs) -> Result<(), String> {
    let options = dms::backup::BackupOptions {
        database_url: url,
        data_dir: args.data_dir,
        dest: args.dest,
        files_only: args.files_only,
    };
    let backup = dms::backup::backup(&options)
        .await
        .map_err(|e| e.to_string())?;
    let manifest = &backup.manifest;
    let database = match &manifest.database {
        Some(db) => format!("the database ({} bytes) and ", db.size),
        None => String::new(),
    };
    println!(
        "backed up {database}{} files ({} bytes) into {}",
        manifest.files.len(),
        manifest.file_bytes(),
        backup.dest.display()
    );
    match backup.incomplete() {
        Some(e) => Err(e.to_string()),
        None => Ok(()),
    }
}

async fn restore(url: String, args: RestoreArgs) -> Result<(), String> {
    let options = dms::backup::RestoreOptions {
        database_url: url,
        data_dir: args.data_dir,
        src: args.src,
        force: args.force,
    };
    let restored = dms::backup::restore(options)
        .await
        .map_err(|e| e.to_string())?;
    let manifest = &restored.manifest;
    if let (Some(path), Some(db)) = (&restored.database, &manifest.database) {
        println!(
            "restored the database ({} bytes, SHA-256 {}) to {}",
            db.size,
            db.sha256,
            path.display()
        );
    } else {
        println!(
            "this backup holds no database (restore the {} dump with its own tool)",
            manifest.source_database
        );
    }
    println!(
        "restored {} files ({} bytes) to {}, as backed up at {}",
        manifest.files.len(),
        manifest.file_bytes(),
        restored.data_dir.display(),
        manifest.created_at
    );
    if !manifest.missing.is_empty() {
        println!(
            "{} files the database names were already missing when it was backed up (see the manifest)",
            manifest.missing.len()
        );
    }
    Ok(())
}

/// `dms verify`: whether the ledger and the database agree; prints one
/// line per finding (or the report as JSON), progress on a terminal.
async fn verify(url: String, args: VerifyArgs) -> Result<bool, String> {
    dms::db::ensure_schema(&url, MigratePolicy::Refuse)
        .await
        .map_err(|e| e.to_string())?;
    let db = dms::db::connect(&url, Duration::from_secs(10))
        .await
        .map_err(|e| e.to_string())?;
    let local = dms::storage::DataDir::open(&args.data_dir).map_err(|e| e.to_string())?;
    let data = match args.storage_url.as_deref().filter(|u| !u.is_empty()) {
        Some(url) => dms::storage::Storage::in_bucket(
            local,
            dms::storage::Bucket::open(url, &[]).map_err(|e| e.to_string())?,
        ),
        None => dms::storage::Storage::local(local),
    };
    let options = dms::ledger::Options {
        case: args.case,
        expect: args.expect,
    };
    let terminal = std::io::stderr().is_terminal();
    let progress = |n: u64| {
        if terminal {
            eprint!("\rverifying: {n} ledger entries");
        }
    };
    let report = dms::ledger::verify(&db, &data, &options, &progress)
        .await
        .map_err(|e| e.to_string())?;
    if terminal {
        eprintln!();
    }
    if args.format == "json" {
        let json = serde_json::json!({"intact": report.intact(), "report": report});
        println!("{json}");
    } else {
        for finding in &report.findings {
            println!("{finding}");
        }
        println!(
            "{}: {} ledger entries in {} chains, {} files, {} findings",
            if report.intact() {
                "intact"
            } else {
                "NOT intact"
            },
            report.entries,
            report.chains,
            report.files,
            report.findings.len()
        );
    }
    Ok(report.intact())
}

async fn serve(url: String, args: ServeArgs) -> Result<(), String> {
    let mut config = Config::new(url);
    config.bind = args
        .bind
        .unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], args.port.unwrap_or(5000))));
    config.data_dir = args.data_dir;
    config.storage_url = args.storage_url.filter(|u| !u.trim().is_empty());
    config.jwt_secret = std::env::var("DMS_JWT_SECRET")
        .ok()
        .or_else(|| std::env::var("JWT_SECRET").ok())
        .filter(|s| !s.is_empty());
    config.token_lifetime = Duration::from_secs(args.token_minutes.max(1) * 60);
    config.open_registration = args.open_registration;
    config.trusted_proxies = match args.trusted_proxies.as_deref() {
        Some(text) => dms::http::client::parse_proxies(text)
            .map_err(|e| format!("DMS_TRUSTED_PROXIES: {e}"))?,
        None => Vec::new(),
    };
    config.metrics = MetricsAccess {
        token: std::env::var("DMS_METRICS_TOKEN")
            .ok()
            .filter(|s| !s.trim().is_empty()),
        networks: match args.metrics_networks.as_deref() {
            Some(text) => dms::http::client::parse_proxies(text)
                .map_err(|e| format!("DMS_METRICS_NETWORKS: {e}"))?,
            None => Vec::new(),
        },
    };
    config.migrate = if args.migrate {
        MigratePolicy::Migrate
    } else {
        MigratePolicy::Refuse
    };
    config.limits = LimitConfig {
        login_per_username: args.login_limit_per_username,
        login_per_client: args.login_limit_per_client,
        create_case_per_user: args.case_limit,
        upload_per_user: args.upload_limit,
        analyze_per_user: args.analyze_limit,
        decide_per_user: args.decide_limit,
        register_per_client: args.register_limit,
    };
    let workers = args
        .analysis_workers
        .unwrap_or(QueueConfig::default().workers)
        .max(1);
    config.analysis_queue = QueueConfig {
        workers,
        capacity: args.analysis_queue.unwrap_or(4 * workers),
    };
    let seconds = |s: u64| Duration::from_secs(s.max(1));
    config.connections = ConnLimits {
        header_timeout: seconds(args.header_timeout),
        body_timeout: seconds(args.body_timeout),
        idle_timeout: seconds(args.idle_timeout),
        max_connections: args.max_connections.max(1),
    };
    let mut running = dms::server::start(config, shutdown_signal())
        .await
        .map_err(|e| e.to_string())?;
    running.wait().await.map_err(|e| e.to_string())
}

async fn storage(command: StorageCommand) -> Result<(), String> {
    match command {
        StorageCommand::Migrate { to, data_dir } => {
            let copied = dms::storage::migrate(&data_dir, &to)
                .await
                .map_err(|e| e.to_string())?;
            println!(
                "copied {} files ({} bytes) to {to}, every SHA-256 verified",
                copied.files, copied.bytes
            );
            Ok(())
        }
    }
}

/// Resolves on SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

async fn user(url: String, command: UserCommand) -> Result<(), String> {
    dms::db::ensure_schema(&url, MigratePolicy::Refuse)
        .await
        .map_err(|e| e.to_string())?;
    let db = dms::db::connect(&url, Duration::from_secs(10))
        .await
        .map_err(|e| e.to_string())?;
    match command {
        UserCommand::Create {
            username,
            email,
            full_name,
            role,
        } => {
            let password = read_password("Password for the new account: ")?;
            let role = Role::parse(&role).ok_or("unknown role")?;
            let user = dms::auth::create_user(
                &db,
                NewUser {
                    email,
                    username,
                    password,
                    full_name,
                    role,
                },
            )
            .await
            .map_err(|e| e.to_string())?;
            println!(
                "created user {} (id {}, role {})",
                user.username, user.id, user.role_name
            );
        }
        UserCommand::SetPassword { username } => {
            let password = read_password(&format!("New password for {username}: "))?;
            dms::auth::set_password(&db, &username, &password)
                .await
                .map_err(|e| e.to_string())?;
            println!("password of {username} changed");
        }
    }
    Ok(())
}

/// Reads a password from the terminal (not echoed) or, when standard input
/// is not a terminal, its first line. Never from an argument.
fn read_password(prompt: &str) -> Result<String, String> {
    let password = if std::io::stdin().is_terminal() {
        rpassword::prompt_password(prompt).map_err(|e| format!("cannot read the password: {e}"))?
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    };
    if password.is_empty() {
        return Err(
            "no password given (type it at the prompt or pipe it on standard input)".into(),
        );
    }
    Ok(password)
}
