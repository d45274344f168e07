//! The probe's side thread: SIGINT/SIGTERM stop it (the cache is then flushed and exported), and with
//! `--http` it serves `show ip cache flow` at `/cache`, the entries at `/cache/verbose`, and `/metrics`.
//!
//! The cache belongs to the packet loop, which must not wait for a lock per packet; a page is asked for
//! over a channel and the loop writes it between two batches of packets.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use crossbeam_channel::{Receiver, Sender, bounded};
use weir_meter::stats::show_cache;

use super::cache::MainCache;
use super::input::PacketSource;
use super::pipeline::{Pipeline, lock};
use super::report;
use crate::exposition::CONTENT_TYPE;

/// A page the packet loop writes.
#[derive(Debug, Clone, Copy)]
enum Page {
    Cache,
    Verbose,
    Metrics,
}

#[derive(Debug)]
struct Request {
    page: Page,
    reply: Sender<String>,
}

/// The HTTP side, as the packet loop sees it.
#[derive(Debug)]
pub struct Server {
    requests: Receiver<Request>,
}

/// Longest a request waits for the packet loop before it gets a 503.
const ANSWER_WITHIN: Duration = Duration::from_secs(5);

impl Server {
    /// Writes the pages asked for since the last call.
    pub fn answer(&self, cache: &mut MainCache, pipeline: &Mutex<Pipeline>, source: &mut PacketSource) {
        while let Ok(request) = self.requests.try_recv() {
            // The statistics first: with shards they are asked of threads that may wait for the pipeline.
            let page = match (request.page, cache.stats()) {
                (_, None) => "the cache's threads have stopped\n".to_owned(),
                (Page::Cache, Some(stats)) => show_cache(&stats),
                (Page::Verbose, Some(_)) => cache
                    .entries()
                    .unwrap_or_else(|| "the entries are listed with --threads 1 only\n".to_owned()),
                (Page::Metrics, Some(stats)) => report::metrics(&stats, &lock(pipeline), &source.stats()),
            };
            let _ = request.reply.send(page);
        }
    }
}

/// Starts the side thread: with `signals`, SIGINT and SIGTERM set `stop` (else whoever catches them
/// does); with `addr`, the HTTP server runs too.
pub fn start(
    addr: Option<SocketAddr>,
    stop: Arc<AtomicBool>,
    signals: bool,
) -> anyhow::Result<Option<Server>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the side thread")?;
    let (tx, rx) = bounded::<Request>(16);
    let listener = match addr {
        Some(addr) => {
            let listener = runtime
                .block_on(tokio::net::TcpListener::bind(addr))
                .with_context(|| format!("cannot listen on {addr} for HTTP"))?;
            tracing::info!("serving /cache, /cache/verbose and /metrics on http://{addr}");
            Some(listener)
        }
        None => None,
    };
    std::thread::Builder::new()
        .name("probe-side".into())
        .spawn(move || {
            runtime.block_on(async move {
                if let Some(listener) = listener {
                    let app = Router::new()
                        .route("/cache", get(cache))
                        .route("/cache/verbose", get(verbose))
                        .route("/metrics", get(metrics))
                        .route("/healthz", get(|| async { "ok\n" }))
                        .with_state(tx);
                    tokio::spawn(async move {
                        if let Err(e) = axum::serve(listener, app).await {
                            tracing::error!("HTTP server stopped: {e}");
                        }
                    });
                }
                if signals {
                    stopped().await;
                    stop.store(true, Ordering::Relaxed);
                } else {
                    std::future::pending::<()>().await;
                }
            });
        })
        .context("cannot start the side thread")?;
    Ok(addr.map(|_| Server { requests: rx }))
}

/// Waits for SIGINT or SIGTERM.
async fn stopped() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

async fn ask(requests: Sender<Request>, page: Page) -> impl IntoResponse {
    let (reply, answer) = bounded(1);
    let text = tokio::task::spawn_blocking(move || {
        requests
            .send_timeout(Request { page, reply }, ANSWER_WITHIN)
            .ok()?;
        answer.recv_timeout(ANSWER_WITHIN).ok()
    })
    .await
    .ok()
    .flatten();
    let content_type = match page {
        Page::Metrics => CONTENT_TYPE,
        _ => "text/plain; charset=utf-8",
    };
    match text {
        Some(text) => (StatusCode::OK, [(header::CONTENT_TYPE, content_type)], text),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "the probe did not answer in time\n".to_owned(),
        ),
    }
}

async fn cache(State(tx): State<Sender<Request>>) -> impl IntoResponse {
    ask(tx, Page::Cache).await
}

async fn verbose(State(tx): State<Sender<Request>>) -> impl IntoResponse {
    ask(tx, Page::Verbose).await
}

async fn metrics(State(tx): State<Sender<Request>>) -> impl IntoResponse {
    ask(tx, Page::Metrics).await
}
