//! Starting the server: its configuration, the checks at start (schema,
//! data directory, signing key, seeded password) and the listener. `dms
//! serve` and the tests both start it through [`start`].

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::analysis::queue::{AnalysisQueue, QueueConfig};
use crate::app::router;
use crate::db::{MigratePolicy, StartError};
use crate::http::conn::ConnLimits;
use crate::http::limits::{LimitConfig, Limiters};
use crate::http::metrics::{Metrics, MetricsAccess, run_observer};
use crate::state::AppState;
use crate::storage::{Bucket, DataDir, Storage};
use crate::token::{KeySource, Keys};

/// Everything `serve` is configured with.
#[derive(Clone, Debug)]
pub struct Config {
    pub database_url: String,
    pub bind: SocketAddr,
    pub data_dir: PathBuf,
    /// `DMS_STORAGE_URL` (`s3://bucket/prefix`): the files in a bucket;
    /// `None` keeps them in the data directory.
    pub storage_url: Option<String>,
    /// Settings of the bucket that override the `AWS_*` variables
    /// (object_store's keys: `aws_endpoint`, `aws_access_key_id`, ...).
    pub storage_options: Vec<(String, String)>,
    /// `DMS_JWT_SECRET` (or `JWT_SECRET`); `None` uses the key file.
    pub jwt_secret: Option<String>,
    pub token_lifetime: Duration,
    pub open_registration: bool,
    pub migrate: MigratePolicy,
    pub limits: LimitConfig,
    /// Reverse proxies whose `X-Forwarded-For`/`-Proto` are believed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// How long a request waits for a database connection before a 503.
    pub db_acquire_timeout: Duration,
    /// Analyses at once and waiting (`DMS_ANALYSIS_WORKERS`, `DMS_ANALYSIS_QUEUE`).
    pub analysis_queue: QueueConfig,
    /// Timeouts of slow and idle clients, and the cap on connections.
    pub connections: ConnLimits,
    /// Who may read `GET /metrics` (`DMS_METRICS_TOKEN`,
    /// `DMS_METRICS_NETWORKS`); nobody by default.
    pub metrics: MetricsAccess,
}

impl Config {
    /// The defaults of `dms serve` for a database URL.
    pub fn new(database_url: impl Into<String>) -> Self {
        Config {
            database_url: database_url.into(),
            bind: SocketAddr::from(([0, 0, 0, 0], 5000)),
            data_dir: PathBuf::from("data"),
            storage_url: None,
            storage_options: Vec::new(),
            jwt_secret: None,
            token_lifetime: crate::token::DEFAULT_LIFETIME,
            open_registration: false,
            trusted_proxies: Vec::new(),
            migrate: MigratePolicy::Refuse,
            limits: LimitConfig::default(),
            db_acquire_timeout: Duration::from_secs(5),
            analysis_queue: QueueConfig::default(),
            connections: ConnLimits::default(),
            metrics: MetricsAccess::default(),
        }
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Start(#[from] StartError),
    #[error("{0}")]
    Setup(#[from] crate::Error),
    #[error(
        "cannot listen on {addr}: {source} (is another server using the port? set --bind, DMS_BIND or PORT)"
    )]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("the server stopped: {0}")]
    Io(#[from] std::io::Error),
}

/// A server that is listening.
pub struct Running {
    pub addr: SocketAddr,
    pub state: AppState,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// Stops accepting, lets requests in flight finish, and waits.
    pub async fn shutdown(mut self) -> Result<(), ServeError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.wait().await
    }

    /// Waits until the server stops (after `shutdown` or a signal).
    pub async fn wait(&mut self) -> Result<(), ServeError> {
        match (&mut self.task).await {
            Ok(result) => Ok(result?),
            Err(e) => Err(ServeError::Setup(crate::Error::Internal(format!(
                "server task: {e}"
            )))),
        }
    }
}

/// Checks the schema, opens the pool, the data directory and the key, and
/// starts listening. The server stops on `signal` or [`Running::shutdown`].
pub async fn start(
    config: Config,
    signal: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<Running, ServeError> {
    crate::db::ensure_schema(&config.database_url, config.migrate).await?;
    let db = crate::db::connect(&config.database_url, config.db_acquire_timeout).await?;
    let data = DataDir::open(&config.data_dir)?;
    let (keys, source) = Keys::load(
        config.jwt_secret.as_deref(),
        data.root(),
        config.token_lifetime,
    )?;
    match source {
        KeySource::Environment => tracing::info!("token signing key: from the environment"),
        KeySource::ExistingFile => {
            tracing::info!(file = %data.root().join(crate::token::KEY_FILE).display(), "token signing key: from the key file")
        }
        KeySource::NewFile => {
            tracing::warn!(file = %data.root().join(crate::token::KEY_FILE).display(), "token signing key: none configured, generated one and kept it in this file (mode 0600); set DMS_JWT_SECRET to manage it yourself")
        }
    }
    let data = match &config.storage_url {
        Some(url) => {
            let bucket = Bucket::open(url, &config.storage_options)?;
            tracing::info!(url = bucket.url(), "files: in the bucket");
            Storage::in_bucket(data, bucket)
        }
        None => Storage::local(data),
    };
    // The first start after revision 007 adopts the cases that predate
    // the ledger (once: later, a case without a chain is a finding).
    crate::ledger::adopt(&db, &data).await?;
    let swept = crate::uploads::sweep_orphans(&db, &data).await?;
    if swept > 0 {
        tracing::warn!(files = swept, "removed files left by interrupted requests");
    }
    crate::auth::reserve_name_keys(&db).await?;
    if crate::auth::admin_has_seeded_password(&db).await? {
        tracing::warn!(
            "the account 'admin' still has the seeded password 'Admin123!': change it now with `dms user set-password admin`"
        );
    }
    if config.open_registration {
        tracing::info!(
            "self-registration is open (anyone can create a procurement_officer account); set DMS_OPEN_REGISTRATION=false to close it"
        );
    }
    let data = Arc::new(data);
    let limits = Limiters::new(db.clone(), config.limits);
    let metrics = Arc::new(Metrics::new(config.metrics.clone())?);
    let state = AppState {
        analyses: AnalysisQueue::observed(
            db.clone(),
            data.clone(),
            config.analysis_queue,
            Some(run_observer(&metrics)),
        ),
        db,
        data,
        keys,
        limits,
        open_registration: config.open_registration,
        trusted_proxies: config.trusted_proxies.clone().into(),
        metrics,
    };
    let listener = TcpListener::bind(config.bind)
        .await
        .map_err(|source| ServeError::Bind {
            addr: config.bind,
            source,
        })?;
    let addr = listener.local_addr()?;
    crate::app::spawn_housekeeping(&state);
    spawn_sweep(&state);
    let (stop, stopped) = oneshot::channel::<()>();
    let shutdown = async move {
        tokio::select! {
            () = signal => {},
            _ = stopped => {},
        }
        tracing::info!("shutting down: finishing the requests in flight");
    };
    let app = router(state.clone());
    let task = tokio::spawn(crate::http::serve(
        listener,
        app,
        config.connections,
        shutdown,
    ));
    tracing::info!(%addr, "DMS listening");
    Ok(Running {
        addr,
        state,
        stop: Some(stop),
        task,
    })
}

/// Sweeps the storage every hour: with several instances, one may run for
/// months while another's crash leaves files behind.
fn spawn_sweep(state: &AppState) {
    let db = state.db.clone();
    let data = state.data.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(crate::storage::ORPHAN_AGE);
        every.tick().await;
        loop {
            every.tick().await;
            match crate::uploads::sweep_orphans(&db, &data).await {
                Ok(0) => {}
                Ok(n) => tracing::warn!(files = n, "removed files left by interrupted requests"),
                Err(e) => tracing::warn!(error = %e, "sweeping the storage failed"),
            }
        }
    });
}
