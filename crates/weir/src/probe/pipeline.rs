//! Where expired flows go: the routing table's annotations, the aggregation caches, the export streams
//! and the NDJSON output.
//!
//! Everything runs on the packets' clock, so reading a capture file gives the same datagrams however fast
//! it is read. Export streams are built when the first packet gives the probe its start time (their
//! uptime's zero); their settings are checked before, when the probe starts.

use std::sync::{Mutex, MutexGuard, PoisonError};

use std::io::{self, Write};
use std::net::{IpAddr, Ipv6Addr};

use crossbeam_channel::Sender;
use weir_flow::{FlowBatch, FlowRecord};
use weir_meter::aggregate::{AggregateCounters, AggregationCache};
use weir_meter::export::{ExportConfig, ExportConfigError, ExportCounters, Exporter};
use weir_meter::routes::RoutingTable;

use super::destinations::Destinations;
use crate::flow_output::write_ndjson;

/// One export stream: its settings, its exporter, and where its datagrams go.
#[derive(Debug)]
pub struct Stream {
    /// What the stream is, for reports (`main`, `aggregate prefix`).
    pub name: String,
    config: ExportConfig,
    exporter: Exporter,
    /// Whether the exporter was rebuilt with the probe's start time, the zero of its uptime.
    started: bool,
    /// Where the datagrams go.
    pub destinations: Destinations,
}

impl Stream {
    /// A stream sending to `destinations`, after checking that `config` can be exported.
    pub fn new(
        name: String,
        config: ExportConfig,
        destinations: Destinations,
    ) -> Result<Self, ExportConfigError> {
        let exporter = Exporter::new(config.clone(), 0)?;
        Ok(Stream {
            name,
            config,
            exporter,
            started: false,
            destinations,
        })
    }

    fn export(&mut self, flows: &[FlowRecord], start_ns: u64, now_ns: u64) {
        if flows.is_empty() && !self.started {
            return;
        }
        if !self.started {
            // The same settings passed in `new`; only the start time differs.
            if let Ok(e) = Exporter::new(self.config.clone(), start_ns) {
                self.exporter = e;
            }
            self.started = true;
        }
        let destinations = &mut self.destinations;
        self.exporter
            .export(flows, now_ns, &mut |d| destinations.queue(d));
        destinations.flush();
    }

    fn tick(&mut self, now_ns: u64) {
        if self.started {
            let destinations = &mut self.destinations;
            self.exporter.tick(now_ns, &mut |d| destinations.queue(d));
            destinations.flush();
        }
    }

    fn flush(&mut self, now_ns: u64) {
        if self.started {
            let destinations = &mut self.destinations;
            self.exporter.flush(now_ns, &mut |d| destinations.queue(d));
            destinations.flush();
        }
    }

    /// What the exporter did.
    pub fn counters(&self) -> &ExportCounters {
        self.exporter.counters()
    }
}

/// An aggregation cache and the stream its aggregates go out on.
#[derive(Debug)]
pub struct Aggregation {
    /// The cache.
    pub cache: AggregationCache,
    /// Its export stream.
    pub stream: Stream,
    /// Aggregates the cache gave out, waiting to be exported.
    out: Vec<FlowRecord>,
}

impl Aggregation {
    /// An aggregation cache exporting on `stream`.
    pub fn new(cache: AggregationCache, stream: Stream) -> Self {
        Aggregation {
            cache,
            stream,
            out: Vec::new(),
        }
    }

    /// What the cache did.
    pub fn counters(&self) -> AggregateCounters {
        self.cache.counters()
    }

    fn export_out(&mut self, start_ns: u64, now_ns: u64) {
        self.stream.export(&self.out, start_ns, now_ns);
        self.out.clear();
    }
}

/// The main cache's flows handed to a collector in this process (`--serve`): into its store's queue as
/// if decoded from an exporter's datagram, without one.
#[derive(Debug)]
pub struct Delivery {
    /// The collector's queue; `None` once closed.
    flows: Option<Sender<FlowBatch>>,
    /// The exporter and observation domain the flows are stored as coming from.
    exporter: Ipv6Addr,
    domain: u32,
    /// Flows handed over.
    pub delivered: u64,
}

impl Delivery {
    /// Hands flows to `flows`, stored as exported by `exporter` in observation domain `domain`.
    pub fn new(flows: Sender<FlowBatch>, exporter: IpAddr, domain: u32) -> Self {
        let exporter = match exporter {
            IpAddr::V4(a) => a.to_ipv6_mapped(),
            IpAddr::V6(a) => a,
        };
        Delivery {
            flows: Some(flows),
            exporter,
            domain,
            delivered: 0,
        }
    }

    /// Lets go of the collector's queue: its writer stops once every sender has, so the probe closes it
    /// when it is done, while its counters stay readable.
    pub fn close(&mut self) {
        self.flows = None;
    }

    /// Hands `flows` over, received at `now_ns` (when they expired, on the packets' clock), waiting while
    /// the collector's queue is full.
    fn send(&mut self, flows: &[FlowRecord], now_ns: u64) -> io::Result<()> {
        let stopped = || io::Error::other("the collector in this process has stopped taking flows");
        let queue = self.flows.as_ref().ok_or_else(stopped)?;
        let mut batch = FlowBatch::with_capacity(flows.len());
        for f in flows {
            batch.push(&FlowRecord {
                time_received: now_ns,
                exporter_addr: self.exporter,
                observation_domain: self.domain,
                ..*f
            });
        }
        queue.send(batch).map_err(|_| stopped())?;
        self.delivered += flows.len() as u64;
        Ok(())
    }
}

/// Everything expired flows pass through after the main cache.
pub struct Pipeline {
    /// Masks, ASes and next hops for the flows, when a routing table was given.
    pub routes: Option<RoutingTable>,
    /// The main cache's export streams.
    pub main: Vec<Stream>,
    /// The aggregation caches.
    pub aggregations: Vec<Aggregation>,
    /// Expired flows written as NDJSON, when asked for.
    pub output: Option<Box<dyn Write + Send>>,
    output_batch: FlowBatch,
    /// The collector the flows go to, with `--serve`.
    pub deliver: Option<Delivery>,
    /// When the ager of the aggregation caches and the exporters' timers last ran.
    last_tick_ns: u64,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("main", &self.main)
            .field("aggregations", &self.aggregations)
            .field("output", &self.output.is_some())
            .field("deliver", &self.deliver)
            .finish_non_exhaustive()
    }
}

/// The pipeline, locked. A panic on the pipeline's thread is reported when the thread is joined; what
/// the pipeline counted until then can still be read.
pub fn lock(pipeline: &Mutex<Pipeline>) -> MutexGuard<'_, Pipeline> {
    pipeline.lock().unwrap_or_else(PoisonError::into_inner)
}

/// How often, on the packets' clock, aggregation caches age and exporters check their timers.
const TICK_NS: u64 = 1_000_000_000;

impl Pipeline {
    /// A pipeline with these parts.
    pub fn new(
        routes: Option<RoutingTable>,
        main: Vec<Stream>,
        aggregations: Vec<Aggregation>,
        output: Option<Box<dyn Write + Send>>,
    ) -> Self {
        Pipeline {
            routes,
            main,
            aggregations,
            output,
            output_batch: FlowBatch::new(),
            deliver: None,
            last_tick_ns: 0,
        }
    }

    /// Whether anything takes the main cache's flows: an export stream, an aggregation cache, the NDJSON
    /// output or a collector. The routing table alone does not, as it only annotates flows for those.
    pub fn wants_flows(&self) -> bool {
        !self.main.is_empty()
            || !self.aggregations.is_empty()
            || self.output.is_some()
            || self.deliver.is_some()
    }

    /// Takes the flows the main cache expired (and clears them), at `now_ns` on the packets' clock, for a
    /// probe that started at `start_ns`.
    pub fn take(&mut self, expired: &mut Vec<FlowRecord>, start_ns: u64, now_ns: u64) -> io::Result<()> {
        if let Some(routes) = &self.routes {
            expired.iter_mut().for_each(|f| routes.annotate(f));
        }
        for agg in &mut self.aggregations {
            for f in expired.iter() {
                agg.cache.add(f, &mut agg.out);
            }
        }
        for stream in &mut self.main {
            stream.export(expired, start_ns, now_ns);
        }
        if let Some(w) = &mut self.output
            && !expired.is_empty()
        {
            self.output_batch.clear();
            self.output_batch.extend(expired);
            write_ndjson(w, &self.output_batch)?;
        }
        if let Some(d) = &mut self.deliver
            && !expired.is_empty()
        {
            d.send(expired, now_ns)?;
        }
        expired.clear();
        if now_ns >= self.last_tick_ns + TICK_NS {
            self.last_tick_ns = now_ns;
            for agg in &mut self.aggregations {
                agg.cache.expire(now_ns, &mut agg.out);
                agg.stream.tick(now_ns);
            }
            self.main.iter_mut().for_each(|s| s.tick(now_ns));
        }
        for agg in &mut self.aggregations {
            if !agg.out.is_empty() {
                agg.export_out(start_ns, now_ns);
            }
        }
        Ok(())
    }

    /// At the end: the aggregation caches give out everything, and every stream sends what it holds.
    pub fn finish(&mut self, start_ns: u64, now_ns: u64) -> io::Result<()> {
        for agg in &mut self.aggregations {
            agg.cache.flush(&mut agg.out);
            agg.export_out(start_ns, now_ns);
            agg.stream.flush(now_ns);
        }
        self.main.iter_mut().for_each(|s| s.flush(now_ns));
        if let Some(w) = &mut self.output {
            w.flush()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use crossbeam_channel::bounded;
    use weir_flow::ipv4;

    use super::*;
    use crate::exposition::Exposition;
    use crate::probe::report::render_pipeline;

    #[test]
    fn delivered_flows_come_from_the_probe_received_when_they_expired_and_are_counted() {
        let (tx, rx) = bounded(4);
        let mut pipeline = Pipeline::new(None, Vec::new(), Vec::new(), None);
        pipeline.deliver = Some(Delivery::new(tx, IpAddr::V4(Ipv4Addr::new(192, 0, 2, 9)), 3));
        assert!(pipeline.wants_flows());
        let flow = FlowRecord {
            src_addr: ipv4([10, 0, 0, 1]),
            flow_end: 5_000,
            packets: 2,
            bytes: 120,
            ..FlowRecord::default()
        };
        let mut expired = vec![flow, flow];
        pipeline.take(&mut expired, 1_000, 7_000).unwrap();
        assert!(expired.is_empty());
        let batch = rx.try_recv().unwrap();
        assert_eq!(batch.len(), 2);
        let row = batch.row(0).unwrap();
        assert_eq!(row.exporter_addr, ipv4([192, 0, 2, 9]));
        assert_eq!((row.observation_domain, row.time_received), (3, 7_000));
        assert_eq!((row.src_addr, row.packets, row.bytes), (flow.src_addr, 2, 120));
        let mut e = Exposition::with_capacity(1024);
        render_pipeline(&mut e, &pipeline);
        assert!(e.into_string().contains("weir_probe_delivered_flows_total 2\n"));
        // A collector that has stopped taking flows is an error, not a silent loss.
        drop(rx);
        let mut expired = vec![flow];
        assert!(pipeline.take(&mut expired, 1_000, 8_000).is_err());
        // Closed, the delivery lets go of the queue and keeps its count.
        let (tx, rx) = bounded::<FlowBatch>(1);
        let mut d = Delivery::new(tx, IpAddr::V4(Ipv4Addr::LOCALHOST), 0);
        d.close();
        assert!(rx.recv().is_err(), "no sender is left");
    }
}
