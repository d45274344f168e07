//! What the probe tells about itself: a summary on stderr at the end, and `/metrics` while it runs.

use std::fmt::Write as _;
use std::io::{self, Write};

use weir_meter::meter::MeterStats;

use super::input::InputStats;
use super::input::ParseErrorKind;
use super::pipeline::{Pipeline, Stream};

/// The end-of-run summary: packets read and parsed, flows, and what each stream sent.
pub fn summary(
    w: &mut impl Write,
    stats: &MeterStats,
    pipeline: &Pipeline,
    input: &InputStats,
) -> io::Result<()> {
    writeln!(
        w,
        "{} packets read ({} bytes), {} parsed, {} not IP, {} cut by the snap length, {} parse errors, {} filtered out",
        input.packets,
        input.bytes,
        input.parsed,
        input.non_ip,
        input.snapped,
        input.error_total(),
        input.filtered
    )?;
    if let Some((packet, e)) = &input.last_error {
        writeln!(w, "  last parse error: packet {packet}: {e}")?;
    }
    if input.kernel_drops + input.interface_drops > 0 {
        writeln!(
            w,
            "  dropped before the probe: {} by the kernel, {} by the interface",
            input.kernel_drops, input.interface_drops
        )?;
    }
    let added = stats.v4.counters.added + stats.wide.counters.added;
    writeln!(w, "{} flows created, {} expired", added, pipeline.flows)?;
    let streams = pipeline
        .main
        .iter()
        .chain(pipeline.aggregations.iter().map(|a| &a.stream));
    for s in streams {
        let c = s.counters();
        writeln!(
            w,
            "{}: {} flows in {} datagrams ({} bytes), {} IPv6 flows skipped, templates sent {} times",
            s.name, c.flows, c.datagrams, c.bytes, c.skipped_ipv6, c.template_sends
        )?;
        for (spec, addr, d) in s.destinations.counters() {
            writeln!(
                w,
                "  to {spec} ({addr}): {} datagrams, {} errors",
                d.datagrams,
                d.errors()
            )?;
        }
    }
    Ok(())
}

fn counter(out: &mut String, name: &str, help: &str, rows: &[(String, u64)]) {
    let _ = writeln!(
        out,
        "# HELP weir_probe_{name} {help}\n# TYPE weir_probe_{name} counter"
    );
    for (labels, value) in rows {
        let _ = writeln!(out, "weir_probe_{name}{labels} {value}");
    }
}

fn gauge(out: &mut String, name: &str, help: &str, rows: &[(String, u64)]) {
    let _ = writeln!(
        out,
        "# HELP weir_probe_{name} {help}\n# TYPE weir_probe_{name} gauge"
    );
    for (labels, value) in rows {
        let _ = writeln!(out, "weir_probe_{name}{labels} {value}");
    }
}

/// The probe's counters in Prometheus' text format.
pub fn metrics(stats: &MeterStats, pipeline: &Pipeline, input: &InputStats) -> String {
    let mut out = String::new();
    let one = |v: u64| vec![(String::new(), v)];
    counter(
        &mut out,
        "packets_total",
        "Packets read from the input.",
        &one(input.packets),
    );
    counter(
        &mut out,
        "bytes_total",
        "Bytes on the wire of the packets read.",
        &one(input.bytes),
    );
    counter(
        &mut out,
        "packets_non_ip_total",
        "Packets that were not IPv4 or IPv6.",
        &one(input.non_ip),
    );
    counter(
        &mut out,
        "packets_filtered_total",
        "Packets left out by the direction or BPF filter.",
        &one(input.filtered),
    );
    counter(
        &mut out,
        "packets_snapped_total",
        "Packets cut by the snap length.",
        &one(input.snapped),
    );
    counter(
        &mut out,
        "kernel_drops_total",
        "Packets the kernel dropped before the probe read them.",
        &one(input.kernel_drops),
    );
    let errors: Vec<(String, u64)> = ParseErrorKind::ALL
        .iter()
        .map(|k| (format!("{{kind=\"{}\"}}", k.as_str()), input.errors_of(*k)))
        .collect();
    counter(
        &mut out,
        "parse_errors_total",
        "Packets that could not be parsed, by kind.",
        &errors,
    );
    counter(
        &mut out,
        "packets_sampled_out_total",
        "IP packets the sampler left out.",
        &one(stats.counters.sampled_out),
    );
    let caches = [("ipv4", &stats.v4), ("wide", &stats.wide)];
    let per_cache = |f: &dyn Fn(&weir_meter::meter::CacheState) -> u64| -> Vec<(String, u64)> {
        caches
            .iter()
            .map(|(name, c)| (format!("{{cache=\"{name}\"}}"), f(c)))
            .collect()
    };
    gauge(
        &mut out,
        "cache_flows",
        "Flows in the cache now.",
        &per_cache(&|c| c.active as u64),
    );
    counter(
        &mut out,
        "cache_flows_added_total",
        "Flows created.",
        &per_cache(&|c| c.counters.added),
    );
    let mut expired = Vec::new();
    for (name, c) in caches {
        let k = &c.counters;
        for (reason, v) in [
            ("idle", k.expired_idle),
            ("active", k.expired_active),
            ("end_of_flow", k.expired_end),
            ("cache_full", k.expired_full),
            ("flushed", k.flushed),
        ] {
            expired.push((format!("{{cache=\"{name}\",reason=\"{reason}\"}}"), v));
        }
    }
    counter(
        &mut out,
        "cache_flows_expired_total",
        "Flows expired, by reason.",
        &expired,
    );
    counter(
        &mut out,
        "cache_ager_polls_total",
        "Walks of the cache by the ager.",
        &per_cache(&|c| c.counters.ager_polls),
    );
    counter(
        &mut out,
        "cache_emergency_polls_total",
        "Ager walks with emergency aging.",
        &per_cache(&|c| c.counters.emergency_polls),
    );
    let per_agg = |f: &dyn Fn(&weir_meter::aggregate::AggregateCounters) -> u64| -> Vec<(String, u64)> {
        pipeline
            .aggregations
            .iter()
            .map(|a| {
                (
                    format!("{{scheme=\"{}\"}}", a.cache.scheme().name()),
                    f(&a.counters()),
                )
            })
            .collect()
    };
    counter(
        &mut out,
        "aggregate_flows_total",
        "Flows added to an aggregation cache.",
        &per_agg(&|c| c.flows),
    );
    counter(
        &mut out,
        "aggregate_exported_total",
        "Aggregates exported.",
        &per_agg(&|c| c.exported()),
    );
    counter(
        &mut out,
        "aggregate_evicted_full_total",
        "Aggregates exported early, cache full.",
        &per_agg(&|c| c.evicted_full),
    );
    gauge(
        &mut out,
        "aggregate_entries",
        "Aggregates held now.",
        &per_agg(&|c| c.entries),
    );
    let streams: Vec<&Stream> = pipeline
        .main
        .iter()
        .chain(pipeline.aggregations.iter().map(|a| &a.stream))
        .collect();
    let per_stream = |f: &dyn Fn(&Stream) -> u64| -> Vec<(String, u64)> {
        streams
            .iter()
            .map(|s| (format!("{{stream=\"{}\"}}", s.name), f(s)))
            .collect()
    };
    counter(
        &mut out,
        "export_flows_total",
        "Flow records exported.",
        &per_stream(&|s| s.counters().flows),
    );
    counter(
        &mut out,
        "export_datagrams_total",
        "Export datagrams built.",
        &per_stream(&|s| s.counters().datagrams),
    );
    counter(
        &mut out,
        "export_bytes_total",
        "Bytes of export datagrams built.",
        &per_stream(&|s| s.counters().bytes),
    );
    counter(
        &mut out,
        "export_skipped_ipv6_total",
        "IPv6 flows a NetFlow v5 stream could not carry.",
        &per_stream(&|s| s.counters().skipped_ipv6),
    );
    let mut sent = Vec::new();
    let mut send_errors = Vec::new();
    for s in &streams {
        for (spec, _, d) in s.destinations.counters() {
            let labels = format!("{{stream=\"{}\",destination=\"{spec}\"}}", s.name);
            sent.push((labels.clone(), d.datagrams));
            send_errors.push((labels, d.errors()));
        }
    }
    counter(
        &mut out,
        "destination_datagrams_total",
        "Datagrams sent, per destination.",
        &sent,
    );
    counter(
        &mut out,
        "destination_errors_total",
        "Datagrams that could not be sent, per destination.",
        &send_errors,
    );
    out
}
