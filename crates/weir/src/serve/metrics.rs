//! `/metrics`: the collector's counters in the Prometheus text exposition format ([`crate::exposition`]).
//! The per-exporter counters are the [`Counters`] snapshots the shards publish.

use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};

use crossbeam_channel::Receiver;
use weir_flow::FlowBatch;
use weir_proto::{Counters, DomainKey, ErrorKind};

use super::http::HttpStats;
use super::kernel_drops;
use super::queue::QueueRx;
use super::receiver::{DropReason, ListenerStats};
use super::shard::ShardState;
use weir_store::StoreStats;

use super::sink::SinkStats;
use super::tcp_listener::{CloseReason, RefuseReason, TcpDropReason, TcpStats};
use crate::exposition::Exposition;

/// Everything `/metrics` reports, shared with the pipeline.
#[derive(Debug)]
pub struct Metrics {
    /// Per listen address.
    pub listeners: Vec<Arc<ListenerStats>>,
    /// Per TCP listen address.
    pub tcp: Vec<Arc<TcpStats>>,
    /// Per decoder shard: its queue (to read its depth) and its published counters.
    pub shards: Vec<(QueueRx, Arc<ShardState>)>,
    /// The sink's queue and counters.
    pub sink: (Receiver<FlowBatch>, Arc<SinkStats>),
    /// The store's counters, if there is a store.
    pub store: Option<Arc<StoreStats>>,
    /// The HTTP listener's counters.
    pub http: Arc<HttpStats>,
    /// The counters of what runs beside the collector (`weir demo`'s exporters), once it has started.
    pub beside: OnceLock<Arc<dyn Beside>>,
}

/// Counters of something that runs beside the collector, written into its `/metrics`.
pub trait Beside: std::fmt::Debug + Send + Sync {
    /// Writes the counters.
    fn render(&self, e: &mut Exposition);
}

impl Metrics {
    /// A collector with nothing: no listeners, shards or store, for tests of what reads the counters.
    #[cfg(test)]
    pub fn empty() -> Arc<Metrics> {
        let (_tx, rx) = crossbeam_channel::bounded(1);
        Arc::new(Metrics {
            listeners: vec![],
            tcp: vec![],
            shards: vec![],
            sink: (rx, Arc::default()),
            store: None,
            http: Arc::default(),
            beside: OnceLock::new(),
        })
    }

    /// Every export domain's counters as last published, sorted by exporter, dialect and domain.
    pub fn domains(&self) -> Vec<(DomainKey, Counters)> {
        let mut domains: Vec<(DomainKey, Counters)> =
            self.shards.iter().flat_map(|(_, s)| s.counters()).collect();
        domains.sort_by_key(|(k, _)| *k);
        domains
    }
}

/// Help text of each of the store's counters and gauges, by their name in [`StoreStats::values`].
const STORE_HELP: &[(&str, &str)] = &[
    ("flows_appended", "Flows handed to the store."),
    (
        "flows_acknowledged",
        "Flows durable on disk (fsync'd) in the raw table.",
    ),
    (
        "dropped_buffer_full",
        "Flows dropped because the store's buffer was full (disk full or too slow).",
    ),
    (
        "dropped_invalid",
        "Flows dropped because they could not be converted to columns.",
    ),
    (
        "dropped_at_close",
        "Flows still buffered when the store closed and the last flush failed.",
    ),
    ("parts_written", "Files written by flushes, raw and rollups."),
    ("merges", "Merged files written."),
    ("bytes_written", "Bytes of every file written, parts and merges."),
    (
        "files_deleted_retention",
        "Files deleted for being older than their table's retention.",
    ),
    ("files_quarantined", "Unreadable files moved to quarantine."),
    (
        "flush_errors",
        "Flushes that failed (their flows stay buffered and are retried).",
    ),
    (
        "maintenance_errors",
        "Merges or retention runs that failed (retried at the next run).",
    ),
    ("stalled", "1 while writes are refused for lack of disk space."),
    (
        "buffer_flows",
        "Flows held in memory, buffered or being written, not yet on disk.",
    ),
];

/// The store's values that are gauges; the rest are counters.
const STORE_GAUGES: [&str; 2] = ["stalled", "buffer_flows"];

/// A per-domain metric: name, type, help, and how to read it from [`Counters`].
type DomainMetric = (&'static str, &'static str, &'static str, fn(&Counters) -> u64);

const DOMAIN_METRICS: &[DomainMetric] = &[
    (
        "weir_exporter_datagrams_total",
        "counter",
        "Datagrams received from the exporter domain.",
        |c| c.datagrams,
    ),
    (
        "weir_exporter_bytes_total",
        "counter",
        "Bytes of datagrams received from the exporter domain.",
        |c| c.bytes,
    ),
    (
        "weir_exporter_records_total",
        "counter",
        "Flow records decoded.",
        |c| c.records,
    ),
    (
        "weir_exporter_options_records_total",
        "counter",
        "Options data records decoded.",
        |c| c.options_records,
    ),
    (
        "weir_exporter_counter_samples_total",
        "counter",
        "sFlow counter samples decoded.",
        |c| c.counter_samples,
    ),
    (
        "weir_exporter_templates",
        "gauge",
        "Templates and options templates known.",
        |c| c.templates,
    ),
    (
        "weir_exporter_pending_sets",
        "gauge",
        "Data sets held until their template comes.",
        |c| c.pending_sets,
    ),
    (
        "weir_exporter_late_records_total",
        "counter",
        "Records decoded after their template came.",
        |c| c.late_records,
    ),
    (
        "weir_exporter_sequence_gaps_total",
        "counter",
        "Times the sequence number jumped forward.",
        |c| c.sequence_gaps,
    ),
    (
        "weir_exporter_lost_records_total",
        "counter",
        "Records estimated lost before reaching Weir.",
        |c| c.lost_records,
    ),
    (
        "weir_exporter_restarts_total",
        "counter",
        "Times the exporter restarted.",
        |c| c.restarts,
    ),
];

impl Metrics {
    /// Every metric, as the text format.
    pub fn render(&self) -> String {
        let mut e = Exposition::with_capacity(4096);
        self.render_receiver(&mut e);
        self.render_tcp(&mut e);
        self.render_exporters(&mut e);
        let (queue, sink) = &self.sink;
        e.family("weir_sink_flows_total", "counter", "Flows written to the output.");
        e.sample("weir_sink_flows_total", &[], sink.flows.load(Ordering::Relaxed));
        e.family(
            "weir_sink_errors_total",
            "counter",
            "Failed writes to the output.",
        );
        e.sample("weir_sink_errors_total", &[], sink.errors.load(Ordering::Relaxed));
        e.family(
            "weir_sink_queue_depth",
            "gauge",
            "Flow batches waiting for the writer.",
        );
        e.sample("weir_sink_queue_depth", &[], queue.len() as u64);
        if let Some(store) = &self.store {
            render_store(&mut e, store);
        }
        self.render_http(&mut e);
        if let Some(beside) = self.beside.get() {
            beside.render(&mut e);
        }
        e.into_string()
    }

    fn render_receiver(&self, e: &mut Exposition) {
        let addrs: Vec<String> = self.listeners.iter().map(|l| l.addr.to_string()).collect();
        let each =
            |e: &mut Exposition, name: &str, kind: &str, help: &str, f: &dyn Fn(&ListenerStats) -> u64| {
                e.family(name, kind, help);
                for (l, a) in self.listeners.iter().zip(&addrs) {
                    e.sample(name, &[("listener", a)], f(l));
                }
            };
        each(
            e,
            "weir_receiver_datagrams_total",
            "counter",
            "Datagrams read from the socket.",
            &|l| l.datagrams.load(Ordering::Relaxed),
        );
        each(
            e,
            "weir_receiver_bytes_total",
            "counter",
            "Bytes of datagrams read from the socket.",
            &|l| l.bytes.load(Ordering::Relaxed),
        );
        each(
            e,
            "weir_receiver_errors_total",
            "counter",
            "Failed socket reads.",
            &|l| l.errors.load(Ordering::Relaxed),
        );
        each(
            e,
            "weir_receiver_buffer_bytes",
            "gauge",
            "Receive buffer the kernel granted each socket.",
            &|l| l.recv_buffer,
        );
        let kernel = kernel_drops::drops_by_inode();
        each(
            e,
            "weir_receiver_kernel_drops_total",
            "counter",
            "Datagrams the kernel dropped because the socket's receive buffer was full.",
            &|l| l.inodes.iter().filter_map(|i| kernel.get(i)).sum(),
        );
        e.family(
            "weir_receiver_drops_total",
            "counter",
            "Datagrams dropped by the receiver, by reason.",
        );
        for (l, a) in self.listeners.iter().zip(&addrs) {
            for r in DropReason::ALL {
                e.sample(
                    "weir_receiver_drops_total",
                    &[("listener", a), ("reason", r.as_str())],
                    l.drops_of(r),
                );
            }
        }
        let shard_gauge = |e: &mut Exposition, name: &str, help: &str, f: &dyn Fn(&QueueRx) -> usize| {
            e.family(name, "gauge", help);
            for (i, (queue, _)) in self.shards.iter().enumerate() {
                e.sample(name, &[("shard", &i.to_string())], f(queue) as u64);
            }
        };
        shard_gauge(
            e,
            "weir_decoder_queue_depth",
            "Datagram batches waiting for the decoder shard.",
            &|q| q.len(),
        );
        shard_gauge(
            e,
            "weir_decoder_queue_capacity",
            "Datagram batches the decoder shard's queue holds.",
            &|q| q.capacity(),
        );
        shard_gauge(
            e,
            "weir_decoder_queue_bytes",
            "Bytes of datagrams queued for the decoder shard.",
            &|q| q.bytes(),
        );
    }

    fn render_tcp(&self, e: &mut Exposition) {
        let addrs: Vec<String> = self.tcp.iter().map(|l| l.addr.to_string()).collect();
        let each = |e: &mut Exposition, name: &str, kind: &str, help: &str, f: &dyn Fn(&TcpStats) -> u64| {
            e.family(name, kind, help);
            for (l, a) in self.tcp.iter().zip(&addrs) {
                e.sample(name, &[("listener", a)], f(l));
            }
        };
        let by_reason = |e: &mut Exposition,
                         name: &str,
                         help: &str,
                         f: &dyn Fn(&TcpStats) -> Vec<(&'static str, u64)>| {
            e.family(name, "counter", help);
            for (l, a) in self.tcp.iter().zip(&addrs) {
                for (reason, n) in f(l) {
                    e.sample(name, &[("listener", a), ("reason", reason)], n);
                }
            }
        };
        let load = |c: &std::sync::atomic::AtomicU64| c.load(Ordering::Relaxed);
        each(
            e,
            "weir_tcp_connections",
            "gauge",
            "IPFIX connections open.",
            &|l| load(&l.open),
        );
        each(
            e,
            "weir_tcp_connections_total",
            "counter",
            "IPFIX connections accepted.",
            &|l| load(&l.accepted),
        );
        by_reason(
            e,
            "weir_tcp_refused_total",
            "IPFIX connections refused, by reason.",
            &|l| RefuseReason::ALL.map(|r| (r.as_str(), l.refused_of(r))).to_vec(),
        );
        each(
            e,
            "weir_tcp_accept_errors_total",
            "counter",
            "Failed accepts.",
            &|l| load(&l.accept_errors),
        );
        each(
            e,
            "weir_tcp_messages_total",
            "counter",
            "IPFIX messages received over TCP.",
            &|l| load(&l.messages),
        );
        each(
            e,
            "weir_tcp_bytes_total",
            "counter",
            "Bytes read from IPFIX connections.",
            &|l| load(&l.bytes),
        );
        each(
            e,
            "weir_tcp_framing_errors_total",
            "counter",
            "Streams that could not be split into IPFIX messages (each closes its connection).",
            &|l| load(&l.framing_errors),
        );
        each(
            e,
            "weir_tcp_queue_waits_total",
            "counter",
            "Times a connection stopped reading because its decoder queue was full.",
            &|l| load(&l.queue_waits),
        );
        by_reason(
            e,
            "weir_tcp_closes_total",
            "IPFIX connections closed, by reason.",
            &|l| CloseReason::ALL.map(|r| (r.as_str(), l.closes_of(r))).to_vec(),
        );
        by_reason(
            e,
            "weir_tcp_drops_total",
            "IPFIX messages received over TCP and lost, by reason.",
            &|l| TcpDropReason::ALL.map(|r| (r.as_str(), l.drops_of(r))).to_vec(),
        );
    }

    fn render_http(&self, e: &mut Exposition) {
        let name = "weir_http_responses_total";
        e.family(name, "counter", "HTTP responses, by status class.");
        for (class, n) in HttpStats::CLASSES.iter().zip(self.http.responses_by_class()) {
            e.sample(name, &[("class", class)], n);
        }
        let name = "weir_http_refusals_total";
        e.family(
            name,
            "counter",
            "HTTP requests refused for want of valid credentials or of the admin role, or from an address \
             locked out, by reason.",
        );
        for (reason, n) in HttpStats::REFUSALS.iter().zip(self.http.refusals_by_reason()) {
            e.sample(name, &[("reason", reason)], n);
        }
        let name = "weir_http_lockouts_total";
        e.family(
            name,
            "counter",
            "Client addresses locked out for sending wrong credentials too often.",
        );
        e.sample(name, &[], self.http.lockouts());
    }

    fn render_exporters(&self, e: &mut Exposition) {
        fn with(l: &[String; 3]) -> [(&'static str, &str); 3] {
            [("exporter", &l[0]), ("dialect", &l[1]), ("domain", &l[2])]
        }
        let domains = self.domains();
        let labels: Vec<[String; 3]> = domains
            .iter()
            .map(|(k, _)| {
                [
                    k.exporter.to_string(),
                    k.dialect.as_str().to_owned(),
                    k.domain.to_string(),
                ]
            })
            .collect();
        for &(name, kind, help, read) in DOMAIN_METRICS {
            e.family(name, kind, help);
            for ((_, c), l) in domains.iter().zip(&labels) {
                e.sample(name, &with(l), read(c));
            }
        }
        let name = "weir_exporter_errors_total";
        e.family(name, "counter", "Decode errors, by kind.");
        for ((_, c), l) in domains.iter().zip(&labels) {
            for kind in ErrorKind::ALL {
                let [a, b, d] = with(l);
                e.sample(name, &[a, b, d, ("kind", kind.as_str())], c.errors_of(kind));
            }
        }
    }
}

/// The store's counters as `weir_store_*`.
fn render_store(e: &mut Exposition, store: &StoreStats) {
    for (key, value) in store.values() {
        let help = STORE_HELP.iter().find(|(k, _)| *k == key).map_or("", |(_, h)| h);
        let (kind, name) = if STORE_GAUGES.contains(&key) {
            ("gauge", format!("weir_store_{key}"))
        } else {
            ("counter", format!("weir_store_{key}_total"))
        };
        e.family(&name, kind, help);
        e.sample(&name, &[], value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serve::queue::queue;
    use crossbeam_channel::bounded;
    use std::sync::atomic::AtomicU64;
    use weir_proto::Dialect;

    #[test]
    fn renders_receiver_exporter_and_sink_counters() {
        let listener = ListenerStats {
            addr: "0.0.0.0:2055".parse().unwrap(),
            datagrams: AtomicU64::new(12),
            bytes: AtomicU64::new(3400),
            drops: [AtomicU64::new(2), AtomicU64::new(0), AtomicU64::new(1)],
            errors: AtomicU64::new(0),
            recv_buffer: 425_984,
            inodes: vec![],
        };
        let (_tx, rx) = queue(8, 1 << 20);
        let state = Arc::new(ShardState::default());
        let mut c = Counters {
            datagrams: 10,
            records: 300,
            templates: 2,
            ..Counters::default()
        };
        c.error(ErrorKind::Truncated);
        let key = DomainKey {
            exporter: "192.0.2.1".parse().unwrap(),
            dialect: Dialect::Ipfix,
            domain: 7,
        };
        state.publish(vec![(key, c)]);
        let (_stx, srx) = bounded::<FlowBatch>(4);
        let sink = Arc::new(SinkStats::default());
        sink.flows.store(300, Ordering::Relaxed);
        let tcp = TcpStats::new("0.0.0.0:4739".parse().unwrap());
        tcp.open.store(2, Ordering::Relaxed);
        tcp.accepted.store(5, Ordering::Relaxed);
        tcp.refused(RefuseReason::Limit);
        tcp.messages.store(40, Ordering::Relaxed);
        tcp.framing_errors.store(1, Ordering::Relaxed);
        tcp.closed(CloseReason::Framing);
        tcp.closed(CloseReason::Idle);
        tcp.closed(CloseReason::Idle);
        tcp.dropped(TcpDropReason::Incomplete, 1);
        let m = Metrics {
            listeners: vec![Arc::new(listener)],
            tcp: vec![Arc::new(tcp)],
            shards: vec![(rx, state)],
            sink: (srx, sink),
            store: Some(Arc::new(StoreStats::default())),
            http: Arc::default(),
            beside: OnceLock::new(),
        };
        let text = m.render();
        for line in [
            "# TYPE weir_receiver_datagrams_total counter",
            "weir_receiver_datagrams_total{listener=\"0.0.0.0:2055\"} 12",
            "weir_receiver_drops_total{listener=\"0.0.0.0:2055\",reason=\"queue_full\"} 2",
            "weir_receiver_drops_total{listener=\"0.0.0.0:2055\",reason=\"oversize\"} 1",
            "weir_receiver_buffer_bytes{listener=\"0.0.0.0:2055\"} 425984",
            "weir_receiver_kernel_drops_total{listener=\"0.0.0.0:2055\"} 0",
            "weir_decoder_queue_capacity{shard=\"0\"} 8",
            "# TYPE weir_tcp_connections gauge",
            "weir_tcp_connections{listener=\"0.0.0.0:4739\"} 2",
            "weir_tcp_connections_total{listener=\"0.0.0.0:4739\"} 5",
            "weir_tcp_refused_total{listener=\"0.0.0.0:4739\",reason=\"limit\"} 1",
            "weir_tcp_refused_total{listener=\"0.0.0.0:4739\",reason=\"not_allowed\"} 0",
            "weir_tcp_messages_total{listener=\"0.0.0.0:4739\"} 40",
            "weir_tcp_framing_errors_total{listener=\"0.0.0.0:4739\"} 1",
            "weir_tcp_closes_total{listener=\"0.0.0.0:4739\",reason=\"framing\"} 1",
            "weir_tcp_closes_total{listener=\"0.0.0.0:4739\",reason=\"idle\"} 2",
            "weir_tcp_closes_total{listener=\"0.0.0.0:4739\",reason=\"shutdown\"} 0",
            "weir_tcp_drops_total{listener=\"0.0.0.0:4739\",reason=\"incomplete\"} 1",
            "weir_tcp_queue_waits_total{listener=\"0.0.0.0:4739\"} 0",
            "weir_decoder_queue_bytes{shard=\"0\"} 0",
            "weir_exporter_records_total{exporter=\"192.0.2.1\",dialect=\"ipfix\",domain=\"7\"} 300",
            "# TYPE weir_exporter_templates gauge",
            "weir_exporter_templates{exporter=\"192.0.2.1\",dialect=\"ipfix\",domain=\"7\"} 2",
            "weir_exporter_errors_total{exporter=\"192.0.2.1\",dialect=\"ipfix\",domain=\"7\",kind=\"truncated\"} 1",
            "weir_sink_flows_total 300",
            "# TYPE weir_store_flows_acknowledged_total counter",
            "weir_store_flows_acknowledged_total 0",
            "# TYPE weir_store_stalled gauge",
            "weir_store_stalled 0",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line:?} in\n{text}");
        }
        for (key, _) in StoreStats::default().values() {
            assert!(
                STORE_HELP.iter().any(|(k, _)| *k == key),
                "no help for the store's {key}"
            );
        }
        // Every sample line belongs to the family declared above it.
        let mut family = "";
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                family = rest.split(' ').next().unwrap();
            } else if !line.starts_with('#') {
                assert!(line.starts_with(family), "{line} outside its family {family}");
            }
        }
    }
}
