//! Connections: the accept loop behind [`super::serve`], with the bounds a
//! server on the network needs against slow and idle clients.
//!
//! - At most [`ConnLimits::max_connections`] connections at once: past the
//!   cap, new connections wait in the listen queue until one closes (they
//!   are not refused, and those already open are served as usual).
//! - A request head (request line and headers) must arrive whole within
//!   [`ConnLimits::header_timeout`] of its first byte, or the connection is
//!   closed: a client sending its head a byte at a time holds nothing. A
//!   new connection has as long to start sending it.
//! - A connection kept alive after an answer that sends nothing for
//!   [`ConnLimits::idle_timeout`] is closed.
//! - A request body that stalls (no byte for [`ConnLimits::body_timeout`]
//!   while the handler waits for it) is answered 408 and the connection
//!   closed. It is a pause, not a total: a 50 MiB upload on a slow line
//!   goes through as long as it keeps moving.
//!
//! On shutdown the loop stops accepting, idle connections close, and
//! requests in flight finish.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderValue, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::time::{Instant, Sleep};
use tower_service::Service;

use super::problem::Problem;

/// The bounds on connections (see the module's documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnLimits {
    pub header_timeout: Duration,
    pub body_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_connections: usize,
}

impl Default for ConnLimits {
    fn default() -> Self {
        ConnLimits {
            header_timeout: Duration::from_secs(15),
            body_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            max_connections: 512,
        }
    }
}

/// Serves `app` on `listener` within `limits` until `shutdown` resolves;
/// requests in flight then finish before this returns.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    // The head's deadline is kept by `Timed` below (from its first byte,
    // not from the end of the previous answer, which is the idle timeout).
    http.timer(TokioTimer::new())
        .header_read_timeout(None)
        .keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            () = &mut shutdown => break,
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
        };
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let watch = Arc::new(Watch::new());
        let io = TokioIo::new(Timed::new(stream, watch.clone(), limits));
        let app = app.clone();
        let service = hyper::service::service_fn(move |req| {
            handle(app.clone(), peer, watch.clone(), limits.body_timeout, req)
        });
        let connection = graceful.watch(http.serve_connection(io, service));
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(%peer, error = %e, "connection ended");
            }
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// What to do when `accept` fails: a connection that went away before it
/// was accepted is nobody's concern; anything else (out of descriptors) is
/// logged, and the loop waits a little before accepting again.
async fn accept_failed(e: io::Error) {
    if matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "cannot accept a connection");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// One request: the client's address for the handlers, a body that answers
/// 408 when it stalls, and an answer whose end starts the idle timeout.
async fn handle(
    mut app: Router,
    peer: SocketAddr,
    watch: Arc<Watch>,
    body_timeout: Duration,
    mut req: Request<Incoming>,
) -> Result<Response, Infallible> {
    watch.request_started();
    let answered = Answered(watch);
    req.extensions_mut().insert(ConnectInfo(peer));
    let stalled = Arc::new(AtomicBool::new(false));
    let req = req.map(|body| Body::new(StallingBody::new(body, body_timeout, stalled.clone())));
    let response = match app.call(req).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    let response = if stalled.load(Ordering::Relaxed) {
        Problem::new(
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "The request body stalled: nothing received for {} s",
                body_timeout.as_secs_f32()
            ),
        )
        .with_header(header::CONNECTION, HeaderValue::from_static("close"))
        .into_response()
    } else {
        response
    };
    Ok(response.map(|body| {
        Body::new(AnswerBody {
            inner: body,
            _answered: answered,
        })
    }))
}

/// What a connection is doing, as its timeouts see it.
struct Watch(Mutex<Activity>);

struct Activity {
    /// Requests whose answer is not yet sent.
    in_flight: u32,
    /// When the first byte of the next request's head arrived.
    head_since: Option<Instant>,
    /// When the connection opened or its last answer was sent.
    idle_since: Instant,
    /// Whether an answer was sent (a kept-alive connection): until then,
    /// the wait for the first request is bounded by the header timeout.
    answered: bool,
    /// The read that waits while an answer is sent, woken when it is (its
    /// idle deadline starts then).
    reader: Option<Waker>,
}

/// Which deadline applies while the connection waits to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Waiting {
    Idle,
    Head,
}

impl Watch {
    fn new() -> Self {
        Watch(Mutex::new(Activity {
            in_flight: 0,
            head_since: None,
            idle_since: Instant::now(),
            answered: false,
            reader: None,
        }))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Activity> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn bytes_received(&self) {
        let mut a = self.lock();
        if a.in_flight == 0 && a.head_since.is_none() {
            a.head_since = Some(Instant::now());
        }
    }

    fn request_started(&self) {
        let mut a = self.lock();
        a.in_flight += 1;
        a.head_since = None;
    }

    fn answer_sent(&self) {
        let reader = {
            let mut a = self.lock();
            a.in_flight = a.in_flight.saturating_sub(1);
            a.idle_since = Instant::now();
            a.answered = true;
            a.reader.take()
        };
        if let Some(reader) = reader {
            reader.wake();
        }
    }

    /// The deadline of the current wait, if one applies (none while a
    /// request is being answered: its body has its own timeout; the
    /// `reader` is woken when the answer is sent).
    fn deadline(&self, limits: &ConnLimits, reader: &Waker) -> Option<(Instant, Waiting)> {
        let mut a = self.lock();
        if a.in_flight > 0 {
            a.reader = Some(reader.clone());
            None
        } else if let Some(since) = a.head_since {
            Some((since + limits.header_timeout, Waiting::Head))
        } else if a.answered {
            Some((a.idle_since + limits.idle_timeout, Waiting::Idle))
        } else {
            Some((a.idle_since + limits.header_timeout, Waiting::Idle))
        }
    }
}

/// Marks the answer sent when its body is dropped (written whole, or the
/// connection gone).
struct Answered(Arc<Watch>);

impl Drop for Answered {
    fn drop(&mut self) {
        self.0.answer_sent();
    }
}

/// An answer's body, carrying its [`Answered`] mark.
struct AnswerBody {
    inner: Body,
    _answered: Answered,
}

impl http_body::Body for AnswerBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.get_mut().inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A request body that fails, and says so, when no byte arrives for
/// `timeout` while it is being read.
struct StallingBody {
    inner: Incoming,
    timeout: Duration,
    /// Set while a read waits; `None` when no read waits.
    sleep: Option<Pin<Box<Sleep>>>,
    waiting: bool,
    stalled: Arc<AtomicBool>,
}

impl StallingBody {
    fn new(inner: Incoming, timeout: Duration, stalled: Arc<AtomicBool>) -> Self {
        StallingBody {
            inner,
            timeout,
            sleep: None,
            waiting: false,
            stalled,
        }
    }
}

impl http_body::Body for StallingBody {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                this.waiting = false;
                Poll::Ready(frame.map(|f| f.map_err(Into::into)))
            }
            Poll::Pending => {
                let deadline = Instant::now() + this.timeout;
                let sleep = this
                    .sleep
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
                if !this.waiting {
                    sleep.as_mut().reset(deadline);
                    this.waiting = true;
                }
                if sleep.as_mut().poll(cx).is_ready() {
                    this.waiting = false;
                    this.stalled.store(true, Ordering::Relaxed);
                    return Poll::Ready(Some(Err(Box::new(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the request body stalled",
                    )))));
                }
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A connection's socket with the idle and head deadlines (see [`Watch`]):
/// a read that waits past the deadline ends the connection.
struct Timed {
    inner: TcpStream,
    watch: Arc<Watch>,
    limits: ConnLimits,
    sleep: Pin<Box<Sleep>>,
    armed: Option<Instant>,
}

impl Timed {
    fn new(inner: TcpStream, watch: Arc<Watch>, limits: ConnLimits) -> Self {
        Timed {
            inner,
            watch,
            limits,
            sleep: Box::pin(tokio::time::sleep(Duration::ZERO)),
            armed: None,
        }
    }
}

impl AsyncRead for Timed {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    this.watch.bytes_received();
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => {
                let Some((deadline, waiting)) = this.watch.deadline(&this.limits, cx.waker())
                else {
                    return Poll::Pending;
                };
                if this.armed != Some(deadline) {
                    this.sleep.as_mut().reset(deadline);
                    this.armed = Some(deadline);
                }
                if this.sleep.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                match waiting {
                    // The end of the stream: the connection closes quietly.
                    Waiting::Idle => Poll::Ready(Ok(())),
                    Waiting::Head => Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the request head did not arrive in time",
                    ))),
                }
            }
        }
    }
}

impl AsyncWrite for Timed {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}
