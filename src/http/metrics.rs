//! What operators scrape: `GET /metrics` in the Prometheus text format.
//! Requests by route template and status, their latency, the database
//! pool, the analysis queue and its runs, upload bytes and storage errors.
//!
//! Closed unless configured: the route answers 404 (as an unknown path)
//! unless the request carries `Authorization: Bearer <DMS_METRICS_TOKEN>`
//! or comes from a client inside `DMS_METRICS_NETWORKS` (the client's
//! address as [`super::client`] decides it, behind trusted proxies too).
//!
//! A registry per server (the `prometheus` crate), not a process-wide
//! recorder: two servers in one process (the tests) keep their own counts.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http_body::{Frame, SizeHint};
use ipnet::IpNet;
use prometheus::{
    HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};
use sea_orm::{DatabaseConnection, DbBackend};

use super::problem::Problem;
use crate::state::AppState;

/// Who may read `/metrics` (nobody when both are empty).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MetricsAccess {
    /// `DMS_METRICS_TOKEN`: a scraper presenting it as a bearer token.
    pub token: Option<String>,
    /// `DMS_METRICS_NETWORKS`: clients inside these networks.
    pub networks: Vec<IpNet>,
}

/// The server's metrics.
pub struct Metrics {
    registry: Registry,
    access: MetricsAccess,
    requests: IntCounterVec,
    latency: HistogramVec,
    upload_bytes: IntCounter,
    storage_errors: IntCounter,
    pool_open: IntGauge,
    pool_idle: IntGauge,
    pool_max: IntGauge,
    analysis_running: IntGauge,
    analysis_waiting: IntGauge,
    analysis_runs: HistogramVec,
}

fn registered<T: prometheus::core::Collector + Clone + 'static>(
    registry: &Registry,
    metric: Result<T, prometheus::Error>,
) -> Result<T, crate::Error> {
    let metric = metric.map_err(|e| crate::Error::Internal(format!("metrics: {e}")))?;
    registry
        .register(Box::new(metric.clone()))
        .map_err(|e| crate::Error::Internal(format!("metrics: {e}")))?;
    Ok(metric)
}

/// Latency buckets, in seconds: from a cached read to a long upload.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Analysis run buckets, in seconds.
const RUN_BUCKETS: &[f64] = &[0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0];

impl Metrics {
    pub fn new(access: MetricsAccess) -> Result<Metrics, crate::Error> {
        let registry = Registry::new();
        let r = &registry;
        Ok(Metrics {
            requests: registered(
                r,
                IntCounterVec::new(
                    Opts::new(
                        "dms_http_requests_total",
                        "HTTP requests answered, by method, route template and status",
                    ),
                    &["method", "route", "status"],
                ),
            )?,
            latency: registered(
                r,
                HistogramVec::new(
                    HistogramOpts::new(
                        "dms_http_request_duration_seconds",
                        "Time to answer a request (until the response head), by method and route template",
                    )
                    .buckets(LATENCY_BUCKETS.to_vec()),
                    &["method", "route"],
                ),
            )?,
            upload_bytes: registered(
                r,
                IntCounter::new(
                    "dms_upload_bytes_total",
                    "Bytes of multipart request bodies (uploads) received",
                ),
            )?,
            storage_errors: registered(
                r,
                IntCounter::new(
                    "dms_storage_errors_total",
                    "Requests failed by the file storage (a file that could not be read or written)",
                ),
            )?,
            pool_open: registered(
                r,
                IntGauge::new(
                    "dms_db_pool_connections",
                    "Database connections open in the pool",
                ),
            )?,
            pool_idle: registered(
                r,
                IntGauge::new(
                    "dms_db_pool_idle_connections",
                    "Database connections open and idle",
                ),
            )?,
            pool_max: registered(
                r,
                IntGauge::new(
                    "dms_db_pool_max_connections",
                    "The most connections the pool opens",
                ),
            )?,
            analysis_running: registered(
                r,
                IntGauge::new("dms_analysis_running", "Analyses running on this server"),
            )?,
            analysis_waiting: registered(
                r,
                IntGauge::new(
                    "dms_analysis_queued",
                    "Analyses waiting for a worker on this server",
                ),
            )?,
            analysis_runs: registered(
                r,
                HistogramVec::new(
                    HistogramOpts::new(
                        "dms_analysis_run_duration_seconds",
                        "Analysis runs, by outcome (done, failed), and how long they took",
                    )
                    .buckets(RUN_BUCKETS.to_vec()),
                    &["outcome"],
                ),
            )?,
            registry,
            access,
        })
    }

    /// Counts one answered request.
    pub fn request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        self.requests
            .with_label_values(&[method, route, &status.to_string()])
            .inc();
        self.latency
            .with_label_values(&[method, route])
            .observe(elapsed.as_secs_f64());
    }

    /// Counts a request that failed on the file storage.
    pub fn storage_error(&self) {
        self.storage_errors.inc();
    }

    /// Records one analysis run (the queue calls it as each run ends).
    pub fn analysis_run(&self, elapsed: Duration, done: bool) {
        self.analysis_runs
            .with_label_values(&[if done { "done" } else { "failed" }])
            .observe(elapsed.as_secs_f64());
    }

    /// `body`, counting its bytes as upload bytes as they are read.
    pub fn count_upload(&self, body: Body) -> Body {
        Body::new(Counted {
            inner: body,
            counter: self.upload_bytes.clone(),
        })
    }

    fn may_read(&self, parts: &axum::http::request::Parts, proxies: &[IpNet]) -> bool {
        if let Some(expected) = self.access.token.as_deref().filter(|t| !t.is_empty()) {
            let given = parts
                .headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::trim);
            if given.is_some_and(|g| same(g.as_bytes(), expected.as_bytes())) {
                return true;
            }
        }
        if self.access.networks.is_empty() {
            return false;
        }
        let client = super::client::client_ip(parts, proxies);
        self.access.networks.iter().any(|n| n.contains(&client))
    }

    /// The gauges read at scrape time (pool, queue), then the text.
    fn render(&self, db: &DatabaseConnection, queue: (usize, usize)) -> Result<String, String> {
        let (open, idle, max) = pool_use(db);
        self.pool_open.set(open);
        self.pool_idle.set(idle);
        self.pool_max.set(max);
        self.analysis_running.set(queue.0 as i64);
        self.analysis_waiting.set(queue.1 as i64);
        TextEncoder::new()
            .encode_to_string(&self.registry.gather())
            .map_err(|e| e.to_string())
    }
}

/// Compares without stopping at the first difference (a token guessed a
/// byte at a time learns nothing from the time taken).
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Connections open, idle, and the pool's maximum.
fn pool_use(db: &DatabaseConnection) -> (i64, i64, i64) {
    match db.get_database_backend() {
        DbBackend::Postgres => {
            let p = db.get_postgres_connection_pool();
            (
                i64::from(p.size()),
                p.num_idle() as i64,
                i64::from(p.options().get_max_connections()),
            )
        }
        DbBackend::MySql => {
            let p = db.get_mysql_connection_pool();
            (
                i64::from(p.size()),
                p.num_idle() as i64,
                i64::from(p.options().get_max_connections()),
            )
        }
        _ => {
            let p = db.get_sqlite_connection_pool();
            (
                i64::from(p.size()),
                p.num_idle() as i64,
                i64::from(p.options().get_max_connections()),
            )
        }
    }
}

/// `GET /metrics`: the text format to those allowed, 404 to anyone else.
pub async fn scrape(State(state): State<AppState>, request: Request) -> Response {
    let (parts, _) = request.into_parts();
    if !state.metrics.may_read(&parts, &state.trusted_proxies) {
        return Problem::new(StatusCode::NOT_FOUND, "Not Found").into_response();
    }
    match state.metrics.render(&state.db, state.analyses.load()) {
        Ok(text) => {
            let mut response = text.into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            );
            response
        }
        Err(e) => Problem::internal(format!("metrics: {e}")).into_response(),
    }
}

/// A request body counted as it is read.
struct Counted {
    inner: Body,
    counter: IntCounter,
}

impl http_body::Body for Counted {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled
            && let Some(data) = frame.data_ref()
        {
            self.counter.inc_by(data.len() as u64);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The queue's observer: each run's duration and outcome into `metrics`.
pub fn run_observer(metrics: &Arc<Metrics>) -> crate::analysis::queue::RunObserver {
    let metrics = metrics.clone();
    Arc::new(move |elapsed, done| metrics.analysis_run(elapsed, done))
}
