//! `weir serve`: the collector. Receives export datagrams, and IPFIX messages over TCP, decodes them and
//! keeps the flows in the embedded store (and, if asked, a copy as NDJSON), with counters on `/metrics`.
//!
//! ```text
//! UDP ──> receiver (sockets × readers) ──RawBatch──> decoder shards ──FlowBatch──> sink ──> store (Parquet)
//!              └── drops counted              ▲       └── counters ──> /metrics       └──> NDJSON copy
//! TCP ──> acceptor ──> connection threads ────┘ (IPFIX messages, framed; wait when the queue is full)
//!                                                      upkeep thread: merges parts, applies retention
//! ```
//! Every queue is bounded. UDP readers never wait: they drop (and count) what a full queue cannot take.
//! TCP connections stop reading instead, which TCP turns into backpressure on the exporter. Shards wait
//! for the sink, so a slow output shows as `queue_full` drops, not as unbounded memory.

mod config;
mod config_file;
mod http;
mod kernel_drops;
pub mod metrics;
mod queue;
mod receiver;
mod shard;
mod sink;
mod tcp_connection;
mod tcp_listener;
mod ui;
pub(crate) mod upkeep;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;
use crossbeam_channel::{Sender, bounded};
use tokio::signal::unix::{SignalKind, signal};
use tracing::{info, warn};
use weir_flow::FlowBatch;
use weir_query::backend::Backend;
use weir_query::plan::Table;
use weir_store::engine::{Embedded, EngineConfig};
use weir_store::{Store, StoreConfig};

use crate::api::Api;
use crate::api::auth::Auth;
pub use config::{Cidr, Output, ServeConfig};
use config_file::ConfigError;
pub use config_file::example as config_example;
use metrics::Metrics;
use receiver::{DropReason, Reader};
use shard::{Shard, ShardState};
use sink::{Outputs, Sink, SinkStats};
use tcp_listener::{Acceptor, ConnectionSlots, TcpStats};

/// Arguments of `weir serve`.
#[derive(Debug, Clone, Default, Args)]
pub struct ServeArgs {
    /// UDP address to receive export datagrams on; repeat for several. Any port takes NetFlow, IPFIX and
    /// sFlow alike. Default: 0.0.0.0:2055, 0.0.0.0:4739 and 0.0.0.0:6343.
    #[arg(long = "listen", value_name = "ADDR:PORT")]
    listen: Vec<SocketAddr>,
    /// TCP address to receive IPFIX messages on (RFC 7011 section 10.4); repeat for several.
    /// Default: 0.0.0.0:4739.
    #[arg(long = "listen-tcp", value_name = "ADDR:PORT", conflicts_with = "no_tcp")]
    listen_tcp: Vec<SocketAddr>,
    /// Do not listen on TCP.
    #[arg(long)]
    no_tcp: bool,
    /// TCP connections open at once, over every TCP address; more are refused. Default: 256.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    tcp_max_connections: Option<u32>,
    /// Seconds a TCP connection may stay silent before it is closed. Default: 600.
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    tcp_idle_timeout: Option<u64>,
    /// Settings file (TOML); `weir config example` prints one with every key and its default. Flags given
    /// here win over the file.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The store's directory. Default: weir-data.
    #[arg(long, value_name = "DIR", conflicts_with = "no_store")]
    data: Option<PathBuf>,
    /// Keep no store: flows are only counted, and written as NDJSON if --output says where.
    #[arg(long)]
    no_store: bool,
    /// Also write every flow as NDJSON to this file, appending; `-` for standard output. Default: none.
    #[arg(long, value_name = "FILE|-")]
    output: Option<Output>,
    /// Accept datagrams only from exporters in this prefix (e.g. 192.0.2.0/24); repeat for several.
    /// Default: accept every exporter.
    #[arg(long = "allow", value_name = "CIDR")]
    allow: Vec<Cidr>,
    /// Address of the HTTP listener for /metrics and /healthz. Default: 127.0.0.1:8080.
    #[arg(long, value_name = "ADDR:PORT", conflicts_with = "no_http")]
    http: Option<SocketAddr>,
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
    /// The defaults, laid over by the settings file `config` if given: what a collector started by
    /// another command (`weir probe --serve`) runs with.
    pub fn with_config(config: Option<PathBuf>) -> Self {
        ServeArgs {
            config,
            ..ServeArgs::default()
        }
    }

    /// Keeps the store in `dir` unless `--data` or `--no-store` say otherwise (a store `--config` names
    /// included).
    pub fn default_data(&mut self, dir: &std::path::Path) {
        if self.data.is_none() && !self.no_store {
            self.data = Some(dir.to_owned());
        }
    }

    /// The configuration these arguments ask for: the defaults, then the file, then the flags.
    fn config(&self) -> Result<ServeConfig, ConfigError> {
        let mut c = ServeConfig::default();
        if let Some(path) = &self.config {
            config_file::load(path, &mut c)?;
        }
        if !self.listen.is_empty() {
            c.listen.clone_from(&self.listen);
        }
        if self.no_tcp {
            c.listen_tcp.clear();
        } else if !self.listen_tcp.is_empty() {
            c.listen_tcp.clone_from(&self.listen_tcp);
        }
        if let Some(n) = self.tcp_max_connections {
            c.tcp_max_connections = n as usize;
        }
        if let Some(secs) = self.tcp_idle_timeout {
            c.tcp_idle_timeout = Duration::from_secs(secs);
        }
        if let Some(dir) = &self.data {
            c.store
                .get_or_insert_with(StoreConfig::default)
                .dir
                .clone_from(dir);
        }
        if self.no_store {
            c.store = None;
        }
        if self.output.is_some() {
            c.output.clone_from(&self.output);
        }
        if !self.allow.is_empty() {
            c.allow.clone_from(&self.allow);
        }
        if let Some(addr) = self.http {
            c.http = Some(addr);
        }
        if self.no_http {
            c.http = None;
        }
        if let Some(n) = self.readers {
            c.readers = n.into();
        }
        if let Some(n) = self.shards {
            c.shards = n.into();
        }
        Ok(c)
    }
}

/// The settings of a `weir serve --config` file laid over the defaults, for other commands that need them.
pub fn load_config(path: &std::path::Path) -> Result<ServeConfig, ConfigError> {
    let mut c = ServeConfig::default();
    config_file::load(path, &mut c)?;
    Ok(c)
}

/// The API over the store's files (which the store has created by now) and the collector's counters.
fn api(config: &ServeConfig, metrics: Arc<Metrics>) -> anyhow::Result<Api> {
    let Some(store) = &config.store else {
        return Ok(Api::new(None, Table::defaults(), metrics, config.api.clone()));
    };
    let engine = EngineConfig {
        time_limit: config.api.query_time_limit,
        ..EngineConfig::default()
    };
    let embedded = Embedded::with_config(&store.dir, engine, store.tables.clone())
        .with_context(|| format!("cannot open the store in {} for queries", store.dir.display()))?;
    let backend: Arc<dyn Backend> = Arc::new(embedded);
    Ok(Api::new(
        Some(backend),
        store.tables.clone(),
        metrics,
        config.api.clone(),
    ))
}

/// Flow batches waiting for the sink.
const SINK_QUEUE: usize = 64;

/// Runs `weir serve` until SIGINT or SIGTERM, then drains the queues, flushes the output and returns.
pub fn run(args: &ServeArgs) -> anyhow::Result<()> {
    run_beside(args, |_| Ok(Box::new(|| {})))
}

/// The addresses a started collector listens on, for what runs beside it.
#[derive(Debug, Clone)]
pub struct Listening {
    /// The UDP addresses, as bound (port 0 asked for is the port the system chose).
    pub udp: Vec<SocketAddr>,
    /// The HTTP address, as bound.
    pub http: Option<SocketAddr>,
    /// The collector's counters, where what runs beside adds its own.
    pub metrics: Arc<Metrics>,
    /// The store's queue: flows sent here are stored as if decoded from a datagram, without one.
    pub flows: Sender<FlowBatch>,
    /// Notified when what runs beside has ended on its own (a capture file read to its end): the
    /// collector then stops as on a signal.
    pub finished: Arc<tokio::sync::Notify>,
}

/// Stops what runs beside the collector.
pub type StopBeside = Box<dyn FnOnce()>;

/// Runs `weir serve` with `beside` (`weir demo`'s exporters, `weir probe --serve`'s probe) started once
/// every socket is bound and every thread runs, and stopped as soon as a signal comes or it says it has
/// finished, before the collector stops reading: what it sent is collected, and it sends nothing to closed
/// sockets.
pub fn run_beside(
    args: &ServeArgs,
    beside: impl FnOnce(&Listening) -> anyhow::Result<StopBeside>,
) -> anyhow::Result<()> {
    let config = Arc::new(args.config()?);
    if let Some(addr) = config.exposed_without_auth() {
        anyhow::bail!(
            "the HTTP listener {addr} would be reachable from other hosts with no credentials: add API \
             tokens or users to the configuration ([[http.tokens]], [[http.users]]; `weir config token` and \
             `weir config password` make them), or listen on a loopback address (--http 127.0.0.1:8080)"
        );
    }
    let ndjson = match &config.output {
        Some(o) => Some(sink::open(o).with_context(|| format!("cannot open the output {o}"))?),
        None => None,
    };
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
    let mut tcp_listeners = Vec::new();
    for &addr in &config.listen_tcp {
        let l = tcp_listener::bind(addr).with_context(|| format!("cannot listen on TCP {addr}"))?;
        let stats = Arc::new(TcpStats::new(l.local_addr()?));
        info!(
            addr = %stats.addr,
            max_connections = config.tcp_max_connections,
            "Listening for IPFIX over TCP."
        );
        tcp_listeners.push((l, stats));
    }

    // Everything that can fail is set up before any thread starts.
    let http_listener = match config.http {
        Some(addr) => {
            let listener = runtime
                .block_on(tokio::net::TcpListener::bind(addr))
                .with_context(|| format!("cannot listen on HTTP {addr}"))?;
            info!(
                addr = %listener.local_addr()?,
                auth = config.auth.required(),
                "Serving the web UI, the API, /metrics and /healthz."
            );
            Some(listener)
        }
        None => None,
    };

    // The store is opened last of all that can fail, since opening it repairs what a crash left.
    let store = match &config.store {
        Some(c) => {
            let (store, recovery) = Store::open(c.clone())
                .with_context(|| format!("cannot open the store in {}", c.dir.display()))?;
            sink::log_recovery(&c.dir, &recovery);
            Some(store)
        }
        None => None,
    };
    let store_stats = store.as_ref().map(Store::stats);
    let (upkeep_stop, upkeep_stopped) = bounded::<()>(1);
    let upkeep = match &store {
        Some(store) => Some(upkeep::spawn(store.maintenance(), upkeep_stopped)?),
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
    .spawn(Outputs { store, ndjson })?;
    match &config.output {
        Some(output) => info!(output = %output, "Writing a copy of every flow as NDJSON."),
        None if config.store.is_none() => {
            warn!("No store and no output: flows are decoded and counted, not kept.");
        }
        None => {}
    }

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
    let beside_flows = sink_tx.clone();
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
    let tcp_stats: Vec<_> = tcp_listeners.iter().map(|(_, s)| s.clone()).collect();
    let slots = ConnectionSlots::new(config.tcp_max_connections);
    for (listener, stats) in tcp_listeners {
        let acceptor = Acceptor {
            listener,
            stats: stats.clone(),
            slots: slots.clone(),
            shards: shard_queues.clone(),
            config: config.clone(),
            stop: stop.clone(),
        };
        readers.push(acceptor.spawn(format!("weir-tcp-{}", stats.addr.port()))?);
    }
    drop(shard_queues);

    let metrics = Arc::new(Metrics {
        listeners: listener_stats.clone(),
        tcp: tcp_stats.clone(),
        shards: shard_views,
        sink: (sink_rx, sink_stats.clone()),
        store: store_stats,
        http: Arc::default(),
        beside: OnceLock::new(),
    });
    let (http_stop, http_stopped) = tokio::sync::oneshot::channel::<()>();
    let finished = Arc::new(tokio::sync::Notify::new());
    let listening = Listening {
        udp: listener_stats.iter().map(|l| l.addr).collect(),
        http: http_listener.as_ref().and_then(|l| l.local_addr().ok()),
        metrics: metrics.clone(),
        flows: beside_flows,
        finished: finished.clone(),
    };
    let http_task = match http_listener {
        Some(listener) => {
            let api = api(&config, metrics.clone())?;
            let app = http::app(metrics, api, Arc::new(Auth::new(config.auth.clone())));
            Some(runtime.spawn(http::serve(listener, app, async {
                let _ = http_stopped.await;
            })))
        }
        None => None,
    };

    let stop_beside = beside(&listening)?;
    // The sink stops once every sender of flows is gone: what runs beside keeps its own until stopped.
    drop(listening);
    let cause = runtime.block_on(async {
        tokio::select! {
            _ = sigterm.recv() => "SIGTERM",
            _ = sigint.recv() => "SIGINT",
            _ = finished.notified() => "the end of the input",
        }
    });
    info!(cause, "Stopping: draining queues and flushing the output.");
    stop_beside();
    stop.store(true, Ordering::Relaxed);
    for h in readers.into_iter().chain(shards) {
        if h.join().is_err() {
            warn!("A collector thread panicked.");
        }
    }
    if sink.join().is_err() {
        warn!("The flow writer panicked.");
    }
    let _ = upkeep_stop.send(());
    if let Some(h) = upkeep
        && h.join().is_err()
    {
        warn!("The store's upkeep thread panicked.");
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
    let tcp_messages: u64 = tcp_stats.iter().map(|l| l.messages.load(Ordering::Relaxed)).sum();
    info!(
        datagrams = received,
        dropped,
        tcp_messages,
        kernel_dropped,
        flows = sink_stats.flows.load(Ordering::Relaxed),
        write_errors = sink_stats.errors.load(Ordering::Relaxed),
        "Stopped."
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        serve: ServeArgs,
    }

    fn config(args: &[&str]) -> Result<ServeConfig, clap::Error> {
        Cli::try_parse_from(std::iter::once("serve").chain(args.iter().copied()))
            .map(|c| c.serve.config().unwrap())
    }

    #[test]
    fn listens_on_tcp_by_default_and_takes_the_tcp_options() {
        let default = config(&[]).unwrap();
        assert_eq!(
            default.listen_tcp,
            ["0.0.0.0:4739".parse::<SocketAddr>().unwrap()]
        );
        assert_eq!(default.tcp_max_connections, 256);
        assert_eq!(default.tcp_idle_timeout, Duration::from_secs(600));
        let c = config(&[
            "--listen-tcp",
            "127.0.0.1:4739",
            "--listen-tcp",
            "[::1]:9995",
            "--tcp-max-connections",
            "8",
            "--tcp-idle-timeout",
            "30",
        ])
        .unwrap();
        assert_eq!(c.listen_tcp.len(), 2);
        assert_eq!(c.tcp_max_connections, 8);
        assert_eq!(c.tcp_idle_timeout, Duration::from_secs(30));
        assert!(config(&["--no-tcp"]).unwrap().listen_tcp.is_empty());
        assert_eq!(
            config(&["--listen", "127.0.0.1:2055"]).unwrap().listen_tcp,
            default.listen_tcp,
            "UDP addresses leave TCP's alone"
        );
    }

    #[test]
    fn rejects_contradictory_or_zero_tcp_options() {
        assert!(config(&["--no-tcp", "--listen-tcp", "127.0.0.1:4739"]).is_err());
        assert!(config(&["--tcp-max-connections", "0"]).is_err());
        assert!(config(&["--tcp-idle-timeout", "0"]).is_err());
    }
}
