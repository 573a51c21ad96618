//! Connections: accepting them within a cap, closing slow and idle ones,
//! and shutting down without losing a request already being answered.
//!
//! Each connection is served by hyper's HTTP/1.1 server with a timer, so a
//! client must send a request's headers within the header timeout (hyper
//! starts it when the connection opens and again for each request), and a
//! connection without traffic is closed after the idle timeout. Past the
//! cap, a new connection gets `503` and is closed at once. On shutdown the
//! listener closes, every connection finishes the request it is answering
//! and closes, and the server waits for them (up to a bound).

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinSet;
use tower::ServiceExt;

use crate::log;

/// What a connection over the cap is told before it is closed.
const FULL: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nretry-after: 1\r\n\
content-type: application/json\r\ncontent-length: 74\r\nconnection: close\r\n\r\n\
{\"code\":\"OVERLOADED\",\"message\":\"too many connections; try again shortly\"}\n";

/// Connection limits `tessera-host serve` takes.
#[derive(clap::Args, Clone, Debug)]
pub struct ConnectionOptions {
    /// Seconds a client has to send a request's headers.
    #[arg(long, default_value_t = 10)]
    pub header_timeout_seconds: u64,
    /// Seconds a request's body (up to 16 KiB) has to arrive.
    #[arg(long, default_value_t = 10)]
    pub body_timeout_seconds: u64,
    /// Seconds a connection may stay open without traffic.
    #[arg(long, default_value_t = 60)]
    pub idle_timeout_seconds: u64,
    /// Connections served at once; more get 503 and are closed.
    #[arg(long, default_value_t = 1024)]
    pub max_connections: usize,
    /// Seconds to wait at shutdown for requests being answered.
    #[arg(long, default_value_t = 30)]
    pub shutdown_timeout_seconds: u64,
}

/// Serves `router` on `listener` until `shutdown` completes, then lets the
/// connections finish what they are answering.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    options: ConnectionOptions,
    shutdown: impl Future<Output = ()>,
) {
    let slots = Arc::new(Semaphore::new(options.max_connections.max(1)));
    let (stop, stopping) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of descriptors, most likely: wait rather than spin.
                    log::warn(format_args!("accept failed: {error}"));
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            connections.spawn(refuse(stream));
            continue;
        };
        let _ = stream.set_nodelay(true);
        connections.spawn(connection(
            stream,
            peer,
            router.clone(),
            options.clone(),
            stopping.clone(),
            slot,
        ));
    }
    drop(listener);
    let open = connections.len();
    log::info(format_args!(
        "shutting down: finishing the requests of {open} connection(s)"
    ));
    let _ = stop.send(true);
    let grace = Duration::from_secs(options.shutdown_timeout_seconds);
    let finished = tokio::time::timeout(grace, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if finished.is_err() {
        log::warn(format_args!(
            "shutdown: {} connection(s) still open after {grace:?}; closing them",
            connections.len()
        ));
    }
}

/// Tells a connection over the cap to come back later, and closes it.
async fn refuse(mut stream: TcpStream) {
    let _ = tokio::time::timeout(Duration::from_secs(1), stream.write_all(FULL)).await;
    let _ = stream.shutdown().await;
}

/// Serves one connection until it closes, times out, idles out or the
/// server stops.
async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    options: ConnectionOptions,
    mut stopping: watch::Receiver<bool>,
    _slot: OwnedSemaphorePermit,
) {
    let activity = Activity::new();
    let io = TokioIo::new(Watched {
        inner: stream,
        activity: activity.clone(),
    });
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        router.clone().oneshot(request)
    });
    let served = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(options.header_timeout_seconds.max(1)))
        .serve_connection(io, service);
    tokio::pin!(served);
    let idle = Duration::from_secs(options.idle_timeout_seconds.max(1));
    let mut closing = false;
    loop {
        tokio::select! {
            _ = served.as_mut() => break,
            _ = stopping.changed(), if !closing => {
                served.as_mut().graceful_shutdown();
                closing = true;
            }
            () = activity.idle_for(idle), if !closing => {
                served.as_mut().graceful_shutdown();
                closing = true;
            }
        }
    }
}

/// When a connection last moved bytes.
#[derive(Clone)]
struct Activity {
    origin: Instant,
    last_ms: Arc<AtomicU64>,
}

impl Activity {
    fn new() -> Self {
        Self {
            origin: Instant::now(),
            last_ms: Arc::new(AtomicU64::new(0)),
        }
    }

    fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn touch(&self) {
        self.last_ms.store(self.elapsed_ms(), Ordering::Relaxed);
    }

    /// Completes once no byte has moved for `idle`.
    async fn idle_for(&self, idle: Duration) {
        let idle_ms = u64::try_from(idle.as_millis()).unwrap_or(u64::MAX);
        loop {
            let quiet = self
                .elapsed_ms()
                .saturating_sub(self.last_ms.load(Ordering::Relaxed));
            if quiet >= idle_ms {
                return;
            }
            tokio::time::sleep(Duration::from_millis(idle_ms - quiet)).await;
        }
    }
}

/// A stream that records when bytes move through it.
struct Watched {
    inner: TcpStream,
    activity: Activity,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.touch();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_refusal_is_a_complete_response() {
        let text = std::str::from_utf8(FULL).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.contains(&format!("content-length: {}", body.len())));
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(json["code"], tessera_core::code::OVERLOADED);
    }
}
