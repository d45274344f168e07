//! `weir serve`: the collector. Receives export datagrams, decodes them and writes the flows as NDJSON
//! (until the store exists), with counters on `/metrics`.
//!
//! ```text
//! UDP ──> receiver (sockets × readers) ──RawBatch──> decoder shards ──FlowBatch──> sink (NDJSON)
//!              └── drops counted                      └── counters published ──> /metrics
//! ```
//! Every queue is bounded. Readers never wait: they drop (and count) what a full queue cannot take.
//! Shards wait for the sink, so a slow output shows as `queue_full` drops, not as unbounded memory.

mod config;
mod http;
mod kernel_drops;
mod metrics;
mod queue;
mod receiver;
mod shard;
mod sink;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use anyhow::Context as _;
use clap::Args;
use crossbeam_channel::bounded;
use tokio::signal::unix::{SignalKind, signal};
use tracing::{info, warn};

pub use config::{Cidr, Output, ServeConfig};
use metrics::Metrics;
use receiver::{DropReason, Reader};
use shard::{Shard, ShardState};
use sink::{Sink, SinkStats};

/// Arguments of `weir serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// UDP address to receive export datagrams on; repeat for several. Any port takes NetFlow, IPFIX and
    /// sFlow alike. Default: 0.0.0.0:2055, 0.0.0.0:4739 and 0.0.0.0:6343.
    #[arg(long = "listen", value_name = "ADDR:PORT")]
    listen: Vec<SocketAddr>,
    /// Where to write flows as NDJSON, appending; `-` for standard output.
    #[arg(long, value_name = "FILE|-", default_value = "weir-data/flows.ndjson")]
    output: Output,
    /// Accept datagrams only from exporters in this prefix (e.g. 192.0.2.0/24); repeat for several.
    /// Default: accept every exporter.
    #[arg(long = "allow", value_name = "CIDR")]
    allow: Vec<Cidr>,
    /// Address of the HTTP listener for /metrics and /healthz.
    #[arg(
        long,
        value_name = "ADDR:PORT",
        default_value = "127.0.0.1:8080",
        conflicts_with = "no_http"
    )]
    http: SocketAddr,
    /// Do not start the HTTP listener.
    #[arg(long)]
    no_http: bool,
    /// Sockets and reader threads per listen address. Default: one per core.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    readers: Option<u16>,
    /// Decoder threads. Default: one per core.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    shards: Option<u16>,
}

impl ServeArgs {
    /// The configuration these arguments ask for.
    fn config(&self) -> ServeConfig {
        let mut c = ServeConfig::default();
        if !self.listen.is_empty() {
            c.listen.clone_from(&self.listen);
        }
        c.output = self.output.clone();
        c.allow.clone_from(&self.allow);
        c.http = (!self.no_http).then_some(self.http);
        if let Some(n) = self.readers {
            c.readers = n.into();
        }
        if let Some(n) = self.shards {
            c.shards = n.into();
        }
        c
    }
}

/// Flow batches waiting for the sink.
const SINK_QUEUE: usize = 64;

/// Runs `weir serve` until SIGINT or SIGTERM, then drains the queues, flushes the output and returns.
pub fn run(args: &ServeArgs) -> anyhow::Result<()> {
    let config = Arc::new(args.config());
    let output =
        sink::open(&config.output).with_context(|| format!("cannot open the output {}", config.output))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("weir-http")
        .enable_all()
        .build()
        .context("cannot start the HTTP runtime")?;
    // Signals are caught from here on, so that a stop during start-up still shuts down cleanly.
    let (sigterm, sigint) =
        runtime.block_on(async { (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) });
    let mut sigterm = sigterm.context("cannot catch SIGTERM")?;
    let mut sigint = sigint.context("cannot catch SIGINT")?;

    let mut listeners = Vec::new();
    for &addr in &config.listen {
        let l = receiver::bind(addr, config.readers, config.recv_buffer)
            .with_context(|| format!("cannot listen on UDP {addr}"))?;
        info!(
            addr = %l.stats.addr,
            sockets = l.sockets.len(),
            recv_buffer = l.stats.recv_buffer,
            "Listening for export datagrams."
        );
        listeners.push(l);
    }

    // Everything that can fail is set up before any thread starts.
    let http_listener = match config.http {
        Some(addr) => {
            let listener = runtime
                .block_on(tokio::net::TcpListener::bind(addr))
                .with_context(|| format!("cannot listen on HTTP {addr}"))?;
            info!(addr = %listener.local_addr()?, "Serving /metrics and /healthz.");
            Some(listener)
        }
        None => None,
    };

    let stop = Arc::new(AtomicBool::new(false));
    let (sink_tx, sink_rx) = bounded(SINK_QUEUE);
    let (recycle_tx, recycle_rx) = bounded(SINK_QUEUE);
    let sink_stats = Arc::new(SinkStats::default());
    let sink = Sink {
        input: sink_rx.clone(),
        recycle: recycle_tx,
        stats: sink_stats.clone(),
    }
    .spawn(output)?;
    info!(output = %config.output, "Writing flows as NDJSON.");

    let mut shard_queues = Vec::new();
    let mut shard_views = Vec::new();
    let mut shards = Vec::new();
    for i in 0..config.shards {
        let (tx, rx) = queue::queue(config.queue_batches, config.queue_bytes);
        let state = Arc::new(ShardState::default());
        let shard = Shard {
            input: rx.clone(),
            output: sink_tx.clone(),
            recycled: recycle_rx.clone(),
            state: state.clone(),
            limits: config.limits.clone(),
        };
        shards.push(shard.spawn(format!("weir-shard-{i}"))?);
        shard_queues.push(tx);
        shard_views.push((rx, state));
    }
    drop(sink_tx);

    let listener_stats: Vec<_> = listeners.iter().map(|l| l.stats.clone()).collect();
    let mut readers: Vec<JoinHandle<()>> = Vec::new();
    for l in listeners {
        for (i, socket) in l.sockets.into_iter().enumerate() {
            let reader = Reader {
                socket,
                stats: l.stats.clone(),
                shards: shard_queues.clone(),
                config: config.clone(),
                stop: stop.clone(),
            };
            readers.push(reader.spawn(format!("weir-recv-{}-{i}", l.stats.addr.port()))?);
        }
    }
    drop(shard_queues);

    let metrics = Arc::new(Metrics {
        listeners: listener_stats.clone(),
        shards: shard_views,
        sink: (sink_rx, sink_stats.clone()),
    });
    let (http_stop, http_stopped) = tokio::sync::oneshot::channel::<()>();
    let http_task = http_listener.map(|listener| {
        runtime.spawn(http::serve(listener, metrics, async {
            let _ = http_stopped.await;
        }))
    });

    let signal_name = runtime.block_on(async {
        tokio::select! {
            _ = sigterm.recv() => "SIGTERM",
            _ = sigint.recv() => "SIGINT",
        }
    });
    info!(
        signal = signal_name,
        "Stopping: draining queues and flushing the output."
    );
    stop.store(true, Ordering::Relaxed);
    for h in readers.into_iter().chain(shards) {
        if h.join().is_err() {
            warn!("A collector thread panicked.");
        }
    }
    if sink.join().is_err() {
        warn!("The flow writer panicked.");
    }
    let _ = http_stop.send(());
    if let Some(task) = http_task {
        match runtime.block_on(task) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => warn!(error = %e, "The HTTP listener failed."),
            Err(e) => warn!(error = %e, "The HTTP listener panicked."),
        }
    }
    let received: u64 = listener_stats
        .iter()
        .map(|l| l.datagrams.load(Ordering::Relaxed))
        .sum();
    let dropped: u64 = listener_stats
        .iter()
        .flat_map(|l| DropReason::ALL.map(|r| l.drops_of(r)))
        .sum();
    let kernel = kernel_drops::drops_by_inode();
    let kernel_dropped: u64 = listener_stats
        .iter()
        .flat_map(|l| l.inodes.iter().filter_map(|i| kernel.get(i)))
        .sum();
    info!(
        datagrams = received,
        dropped,
        kernel_dropped,
        flows = sink_stats.flows.load(Ordering::Relaxed),
        write_errors = sink_stats.errors.load(Ordering::Relaxed),
        "Stopped."
    );
    Ok(())
}
