//! `weir probe`: packets to flows like a router's NetFlow cache, exported in v5, v8, v9 and IPFIX.
//!
//! Packets come from a capture file or an interface ([`input`]), go through the main cache
//! (`weir_meter::meter`), and the flows it expires go through the routing table, the aggregation caches
//! and the export streams ([`pipeline`]). `--stats` prints `show ip cache flow` at the end, `--verbose` the
//! cache's entries first; while running, `--http` serves both and `/metrics`.
//!
//! With `--serve`, a collector (`weir serve`, with its store, API and web UI) runs in the same process and
//! the main cache's flows go straight into its store's queue: no export datagram is made, no UDP socket
//! can drop one, and a full queue holds the probe back instead of losing flows. The collector's settings
//! come from `--serve-config` (or its defaults); a signal stops both, the probe first, and the end of a
//! capture file stops the collector once every flow is in the store.

mod cache;
mod destinations;
mod http;
pub mod input;
mod options;
mod pipeline;
mod report;
mod shards;

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::Context as _;
use clap::Args;
use weir_flow::FlowRecord;
use weir_flow::codes::direction;
use weir_meter::aggregate::AggregationCache;
use weir_meter::cache::{CacheConfig, KeySet};
use weir_meter::export::{ExportConfig, ExportFormat, TemplateRefresh};
use weir_meter::packet::Packet;
use weir_meter::routes::RoutingTable;
use weir_meter::sampling::Sampling;
use weir_meter::stats::show_cache;

use crate::exposition::Exposition;
use crate::serve::metrics::Beside;
use crate::serve::{self, Listening, ServeArgs, StopBeside};
use cache::MainCache;
use destinations::Destinations;
use input::{InputArgs, Next, PacketSource};
use options::{AggregateSpec, Format, duration};
use pipeline::{Aggregation, Delivery, Pipeline, Stream, lock};

/// Arguments of `weir probe`.
#[derive(Debug, Clone, Args)]
pub struct ProbeArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Fields that make a flow: `traditional` (input interface, addresses, ports, protocol, ToS) or a
    /// comma-separated list of in_if, out_if, src_addr, dst_addr, src_port, dst_port, proto, tos, vlan,
    /// src_mac, dst_mac.
    #[arg(long, default_value = "traditional", value_parser = |s: &str| KeySet::parse(s).map_err(|e| e.to_string()))]
    key: KeySet,
    /// Most flows in the main cache (per address family).
    #[arg(long, default_value_t = 4096)]
    entries: usize,
    /// A flow with no packet for this long is expired.
    #[arg(long, default_value = "15s", value_parser = duration)]
    inactive: std::time::Duration,
    /// A flow alive this long is expired and continues in a new one.
    #[arg(long, default_value = "30m", value_parser = duration)]
    active: std::time::Duration,
    /// How often the ager walks the cache.
    #[arg(long, default_value = "1s", value_parser = duration)]
    ager_interval: std::time::Duration,
    /// Fill percentage above which emergency aging shortens the inactive timeout.
    #[arg(long, default_value_t = 90)]
    emergency_percent: u8,
    /// Packet sampling before the cache: `off`, `N` (deterministic 1 in N) or `random:N`.
    #[arg(long, default_value = "off")]
    sampling: Sampling,
    /// Interface index recorded as the flows' input interface.
    #[arg(long, default_value_t = 0)]
    in_if: u32,
    /// Interface index recorded as the flows' output interface.
    #[arg(long, default_value_t = 0)]
    out_if: u32,
    /// Direction recorded in the flows: the probe watches traffic entering (`ingress`) or leaving (`egress`).
    #[arg(long, default_value = "ingress", value_parser = ["ingress", "egress"])]
    flow_direction: String,
    /// Send the main cache's flows to this collector (`host:port`); repeat for more.
    #[arg(long = "export", value_name = "HOST:PORT")]
    export: Vec<String>,
    /// Export format of the main cache.
    #[arg(long, value_enum, default_value_t = Format::V9)]
    format: Format,
    /// NetFlow v9 source id, IPFIX observation domain, v5 engine id (low 8 bits).
    #[arg(long, default_value_t = 0)]
    source_id: u32,
    /// Send v9/IPFIX templates again after this many export packets (0: only by time).
    #[arg(long)]
    template_packets: Option<u32>,
    /// Send v9/IPFIX templates again after this long.
    #[arg(long, value_parser = duration)]
    template_timeout: Option<std::time::Duration>,
    /// Source address of export datagrams.
    #[arg(long)]
    export_source: Option<IpAddr>,
    /// Routing table file (`prefix/len AS next-hop` per line) for masks, ASes and next hops.
    #[arg(long, value_name = "FILE")]
    routes: Option<PathBuf>,
    /// An aggregation cache: `SCHEME[,entries=N][,inactive=DUR][,active=DUR][,src-mask=N][,dst-mask=N]
    /// [,format=v8|v9|ipfix][,export=HOST:PORT]...`; repeat for more.
    #[arg(long = "aggregate", value_name = "SPEC")]
    aggregate: Vec<AggregateSpec>,
    /// Write expired flows as NDJSON to this file (`-` for stdout), as `weir serve` writes them.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Print the cache statistics (`show ip cache flow`) at the end.
    #[arg(long)]
    stats: bool,
    /// With `--stats`: list the flows still in the cache at the end, before they are flushed
    /// (`show ip cache verbose flow`).
    #[arg(long, requires = "stats")]
    verbose: bool,
    /// Threads counting packets into the main cache, each with its share of the entries and the flows
    /// whose key hashes to it (the packet loop reads and parses on a thread of its own).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    threads: u16,
    /// Serve `/cache`, `/cache/verbose` and `/metrics` on this address while running.
    #[arg(long, value_name = "ADDR")]
    http: Option<SocketAddr>,
    /// Hand the main cache's flows straight to a collector started in this process (`weir serve`: its
    /// store, API and web UI, and its own listeners), without export datagrams. Flows are stored at the
    /// time they expired on the packets' clock, from the exporter `--export-source` (default 127.0.0.1)
    /// with the observation domain `--source-id`.
    #[arg(long)]
    serve: bool,
    /// The collector's settings file, as for `weir serve --config`. Default: `weir serve`'s defaults.
    #[arg(long, value_name = "FILE", requires = "serve")]
    serve_config: Option<PathBuf>,
}

impl ProbeArgs {
    fn cache_config(&self) -> CacheConfig {
        CacheConfig {
            entries: self.entries,
            inactive_ns: self.inactive.as_nanos() as u64,
            active_ns: self.active.as_nanos() as u64,
            ager_interval_ns: self.ager_interval.as_nanos() as u64,
            emergency_percent: self.emergency_percent,
            key: self.key,
            in_if: self.in_if,
            out_if: self.out_if,
            direction: if self.flow_direction == "egress" {
                direction::EGRESS
            } else {
                direction::INGRESS
            },
        }
    }

    fn export_config(&self, format: ExportFormat, domain: u32) -> ExportConfig {
        let mut config = ExportConfig::new(format);
        config.domain = domain;
        config.engine_id = domain as u8;
        config.engine_type = (domain >> 8) as u8;
        config.sampling = self.sampling;
        let mut refresh: TemplateRefresh = config.refresh;
        if let Some(packets) = self.template_packets {
            refresh.packets = (packets > 0).then_some(packets);
        }
        if let Some(t) = self.template_timeout {
            refresh.interval_ns = t.as_nanos() as u64;
        }
        config.refresh = refresh;
        config
    }
}

fn export_format(format: Format, scheme: Option<weir_meter::aggregate::Scheme>) -> ExportFormat {
    match (format, scheme.and_then(|s| s.v8())) {
        (Format::V5, _) => ExportFormat::V5,
        (Format::V8, Some(agg)) => ExportFormat::V8(agg),
        (Format::V9 | Format::V8, _) => ExportFormat::V9,
        (Format::Ipfix, _) => ExportFormat::Ipfix,
    }
}

/// Builds every part from the arguments, refusing bad settings before the first packet.
fn build(args: &ProbeArgs) -> anyhow::Result<(MainCache, Arc<Mutex<Pipeline>>)> {
    args.cache_config().validate().context("main cache")?;
    anyhow::ensure!(
        args.format != Format::V8,
        "--format v8 is for aggregation caches (--aggregate SCHEME,format=v8)"
    );
    let routes = match &args.routes {
        Some(path) => {
            let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
            Some(RoutingTable::parse(&path.display().to_string(), &bytes)?)
        }
        None => None,
    };
    let mut main = Vec::new();
    if !args.export.is_empty() {
        let destinations = Destinations::open(&args.export, args.export_source)?;
        let config = args.export_config(export_format(args.format, None), args.source_id);
        main.push(Stream::new("main".into(), config, destinations).context("main cache export")?);
    }
    let mut aggregations = Vec::new();
    for (i, spec) in args.aggregate.iter().enumerate() {
        let name = format!("aggregate {}", spec.config.scheme.name());
        let destinations =
            Destinations::open(&spec.export, args.export_source).with_context(|| name.clone())?;
        // Each aggregation cache numbers its own exports, in its own v9/IPFIX domain.
        let config = args.export_config(
            export_format(spec.format, Some(spec.config.scheme)),
            args.source_id + 1 + i as u32,
        );
        let stream = Stream::new(name.clone(), config, destinations).with_context(|| name.clone())?;
        let cache = AggregationCache::new(spec.config).with_context(|| name.clone())?;
        aggregations.push(Aggregation::new(cache, stream));
    }
    let output: Option<Box<dyn Write + Send>> = match &args.output {
        None => None,
        Some(p) if p.as_os_str() == "-" => Some(Box::new(BufWriter::new(io::stdout()))),
        Some(p) => {
            let file = File::create(p).with_context(|| format!("cannot create {}", p.display()))?;
            Some(Box::new(BufWriter::with_capacity(1 << 20, file)))
        }
    };
    let pipeline = Pipeline::new(routes, main, aggregations, output);
    // With nowhere to send flows, the cache only counts them. The collector of `--serve` takes them, once
    // it has started.
    let records = pipeline.wants_flows() || args.serve;
    let pipeline = Arc::new(Mutex::new(pipeline));
    let meter = MainCache::new(
        usize::from(args.threads),
        args.cache_config(),
        args.sampling,
        records,
        &pipeline,
    )
    .context("main cache")?;
    Ok((meter, pipeline))
}

/// Packets between two hand-overs of expired flows to the pipeline.
const HANDOVER: u32 = 4096;

/// Runs the probe until the capture file ends or the probe is stopped; with `--serve`, beside a collector.
pub fn run(args: &ProbeArgs) -> anyhow::Result<()> {
    if !args.serve {
        let (cache, pipeline) = build(args)?;
        let source = PacketSource::open(&args.input)?;
        return meter(args, cache, &pipeline, source, Stop::OnSignal);
    }
    let serve = ServeArgs::with_config(args.serve_config.clone());
    // Whatever can be refused is refused before the collector starts. The packet source stays on the
    // thread that opens it (a live socket's ring is not `Send`): it is opened here to be checked, and
    // again on the probe's thread.
    let (cache, pipeline) = build(args)?;
    drop(PacketSource::open(&args.input)?);
    let exporter = args.export_source.unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
    let args = args.clone();
    let outcome: Arc<Mutex<Option<anyhow::Result<()>>>> = Arc::default();
    let result = Arc::clone(&outcome);
    serve::run_beside(
        &serve,
        move |listening: &Listening| -> anyhow::Result<StopBeside> {
            let delivery = Delivery::new(listening.flows.clone(), exporter, args.source_id);
            lock(&pipeline).deliver = Some(delivery);
            let metrics = PipelineMetrics(Arc::clone(&pipeline));
            let _ = listening.metrics.beside.set(Arc::new(metrics));
            let stop = Arc::new(AtomicBool::new(false));
            let (finished, flag) = (Arc::clone(&listening.finished), Arc::clone(&stop));
            let done = Arc::clone(&pipeline);
            let probe = std::thread::Builder::new()
                .name("probe".into())
                .spawn(move || {
                    let r = PacketSource::open(&args.input)
                        .map_err(anyhow::Error::from)
                        .and_then(|source| meter(&args, cache, &pipeline, source, Stop::OnFlag(flag)));
                    *result.lock().unwrap_or_else(PoisonError::into_inner) = Some(r);
                    finished.notify_one();
                })
                .context("cannot start the probe's thread")?;
            Ok(Box::new(move || {
                stop.store(true, Ordering::Relaxed);
                if probe.join().is_err() {
                    tracing::error!("The probe's thread panicked.");
                }
                // The collector's writer stops once nothing can send it flows; `/metrics` keeps the pipeline.
                if let Some(d) = &mut lock(&done).deliver {
                    d.close();
                }
            }))
        },
    )?;
    let outcome = outcome.lock().unwrap_or_else(PoisonError::into_inner).take();
    outcome.unwrap_or_else(|| Err(anyhow::anyhow!("the probe's thread panicked")))
}

/// The pipeline's counters in the collector's `/metrics` (`--serve`); the cache's are on the probe's own
/// `--http`, since only the packet loop can read them.
#[derive(Debug)]
struct PipelineMetrics(Arc<Mutex<Pipeline>>);

impl Beside for PipelineMetrics {
    fn render(&self, e: &mut Exposition) {
        report::render_pipeline(e, &lock(&self.0));
    }
}

/// What stops the packet loop besides the end of a capture file.
enum Stop {
    /// SIGINT or SIGTERM, caught by the probe.
    OnSignal,
    /// This flag, set by whoever catches the signals.
    OnFlag(Arc<AtomicBool>),
}

/// The packet loop: reads `source` into `cache` until it ends or is stopped, then expires every flow into
/// the pipeline and reports.
fn meter(
    args: &ProbeArgs,
    mut cache: MainCache,
    pipeline: &Arc<Mutex<Pipeline>>,
    mut source: PacketSource,
    stop: Stop,
) -> anyhow::Result<()> {
    let (stop, signals) = match stop {
        Stop::OnSignal => (Arc::new(AtomicBool::new(false)), true),
        Stop::OnFlag(flag) => (flag, false),
    };
    let server = http::start(args.http, Arc::clone(&stop), signals)?;
    let mut rec = FlowRecord::default();
    let mut since_handover = 0u32;
    let result = loop {
        let next = match source.next(&mut rec, |rec, p| {
            Packet::new(p.ts_ns, rec, &p.summary, p.wire_len)
        }) {
            Ok(next) => next,
            Err(e) => break Err(e),
        };
        match next {
            Next::Packet(p) => {
                cache.packet(&p);
                since_handover += 1;
                if since_handover < HANDOVER {
                    continue;
                }
            }
            Next::Idle { now_ns } => cache.tick(now_ns),
            Next::End => break Ok(()),
        }
        since_handover = 0;
        cache.hand_over(pipeline)?;
        if let Some(server) = &server {
            server.answer(&mut cache, pipeline, &mut source);
        }
        if stop.load(Ordering::Relaxed) {
            break Ok(());
        }
    };
    // Whatever happened to the input, the flows counted so far are exported.
    let mut out = io::stdout().lock();
    if args.verbose {
        match cache.entries() {
            Some(entries) => write!(out, "{entries}")?,
            None => tracing::warn!("--verbose lists the cache of one thread only; run with --threads 1"),
        }
    }
    let stats = cache.finish(pipeline)?;
    if args.stats {
        write!(out, "{}", show_cache(&stats))?;
    }
    report::summary(&mut io::stderr().lock(), &stats, &lock(pipeline), &source.stats())?;
    result.map_err(anyhow::Error::from)
}
