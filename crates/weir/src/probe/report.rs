//! What the probe tells about itself: a summary on stderr at the end, and `/metrics` while it runs.

use std::io::{self, Write};

use weir_meter::aggregate::AggregateCounters;
use weir_meter::export::ExportCounters;
use weir_meter::meter::{CacheState, MeterStats};

use super::destinations::DestinationCounters;
use super::input::InputStats;
use super::input::ParseErrorKind;
use super::pipeline::{Pipeline, Stream};
use crate::exposition::Exposition;

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
    let expired = stats.v4.counters.expired() + stats.wide.counters.expired();
    writeln!(w, "{added} flows created, {expired} expired")?;
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
    if let Some(d) = &pipeline.deliver {
        writeln!(w, "{} flows handed to the collector in this process", d.delivered)?;
    }
    Ok(())
}

/// The probe's counters in Prometheus' text format.
pub fn metrics(stats: &MeterStats, pipeline: &Pipeline, input: &InputStats) -> String {
    let mut e = Exposition::with_capacity(8192);
    for (name, help, value) in [
        (
            "weir_probe_packets_total",
            "Packets read from the input.",
            input.packets,
        ),
        (
            "weir_probe_bytes_total",
            "Bytes on the wire of the packets read.",
            input.bytes,
        ),
        (
            "weir_probe_packets_non_ip_total",
            "Packets that were not IPv4 or IPv6.",
            input.non_ip,
        ),
        (
            "weir_probe_packets_filtered_total",
            "Packets left out by the direction or BPF filter.",
            input.filtered,
        ),
        (
            "weir_probe_packets_snapped_total",
            "Packets cut by the snap length.",
            input.snapped,
        ),
        (
            "weir_probe_kernel_drops_total",
            "Packets the kernel dropped before the probe read them.",
            input.kernel_drops,
        ),
        (
            "weir_probe_packets_sampled_out_total",
            "IP packets the sampler left out.",
            stats.counters.sampled_out,
        ),
    ] {
        e.single(name, "counter", help, value);
    }
    let name = "weir_probe_parse_errors_total";
    e.family(name, "counter", "Packets that could not be parsed, by kind.");
    for kind in ParseErrorKind::ALL {
        e.sample(name, &[("kind", kind.as_str())], input.errors_of(kind));
    }

    let caches = [("ipv4", &stats.v4), ("wide", &stats.wide)];
    let per_cache =
        |e: &mut Exposition, name: &str, kind: &str, help: &str, f: &dyn Fn(&CacheState) -> u64| {
            e.family(name, kind, help);
            for (cache, state) in caches {
                e.sample(name, &[("cache", cache)], f(state));
            }
        };
    per_cache(
        &mut e,
        "weir_probe_cache_flows",
        "gauge",
        "Flows in the cache now.",
        &|c| c.active as u64,
    );
    per_cache(
        &mut e,
        "weir_probe_cache_flows_added_total",
        "counter",
        "Flows created.",
        &|c| c.counters.added,
    );
    per_cache(
        &mut e,
        "weir_probe_cache_ager_polls_total",
        "counter",
        "Walks of the cache by the ager.",
        &|c| c.counters.ager_polls,
    );
    per_cache(
        &mut e,
        "weir_probe_cache_emergency_polls_total",
        "counter",
        "Ager walks with emergency aging.",
        &|c| c.counters.emergency_polls,
    );
    let name = "weir_probe_cache_flows_expired_total";
    e.family(name, "counter", "Flows expired, by reason.");
    for (cache, state) in caches {
        let k = &state.counters;
        for (reason, v) in [
            ("idle", k.expired_idle),
            ("active", k.expired_active),
            ("end_of_flow", k.expired_end),
            ("cache_full", k.expired_full),
            ("flushed", k.flushed),
        ] {
            e.sample(name, &[("cache", cache), ("reason", reason)], v);
        }
    }

    render_pipeline(&mut e, pipeline);
    e.into_string()
}

/// The pipeline's counters: aggregation caches, export streams and destinations, and the flows handed to a
/// collector in the process. `weir probe --serve` writes them into the collector's `/metrics` too.
pub fn render_pipeline(e: &mut Exposition, pipeline: &Pipeline) {
    let per_agg =
        |e: &mut Exposition, name: &str, kind: &str, help: &str, f: &dyn Fn(&AggregateCounters) -> u64| {
            e.family(name, kind, help);
            for a in &pipeline.aggregations {
                e.sample(name, &[("scheme", a.cache.scheme().name())], f(&a.counters()));
            }
        };
    per_agg(
        e,
        "weir_probe_aggregate_flows_total",
        "counter",
        "Flows added to an aggregation cache.",
        &|c| c.flows,
    );
    per_agg(
        e,
        "weir_probe_aggregate_exported_total",
        "counter",
        "Aggregates exported.",
        &|c| c.exported(),
    );
    per_agg(
        e,
        "weir_probe_aggregate_evicted_full_total",
        "counter",
        "Aggregates exported early, cache full.",
        &|c| c.evicted_full,
    );
    per_agg(
        e,
        "weir_probe_aggregate_entries",
        "gauge",
        "Aggregates held now.",
        &|c| c.entries,
    );

    let streams: Vec<&Stream> = pipeline
        .main
        .iter()
        .chain(pipeline.aggregations.iter().map(|a| &a.stream))
        .collect();
    let per_stream = |e: &mut Exposition, name: &str, help: &str, f: &dyn Fn(&ExportCounters) -> u64| {
        e.family(name, "counter", help);
        for s in &streams {
            e.sample(name, &[("stream", &s.name)], f(s.counters()));
        }
    };
    per_stream(
        e,
        "weir_probe_export_flows_total",
        "Flow records exported.",
        &|c| c.flows,
    );
    per_stream(
        e,
        "weir_probe_export_datagrams_total",
        "Export datagrams built.",
        &|c| c.datagrams,
    );
    per_stream(
        e,
        "weir_probe_export_bytes_total",
        "Bytes of export datagrams built.",
        &|c| c.bytes,
    );
    per_stream(
        e,
        "weir_probe_export_skipped_ipv6_total",
        "IPv6 flows a NetFlow v5 stream could not carry.",
        &|c| c.skipped_ipv6,
    );
    let per_destination =
        |e: &mut Exposition, name: &str, help: &str, f: &dyn Fn(&DestinationCounters) -> u64| {
            e.family(name, "counter", help);
            for s in &streams {
                for (spec, _, d) in s.destinations.counters() {
                    e.sample(name, &[("stream", &s.name), ("destination", spec)], f(d));
                }
            }
        };
    per_destination(
        e,
        "weir_probe_destination_datagrams_total",
        "Datagrams sent, per destination.",
        &|d| d.datagrams,
    );
    per_destination(
        e,
        "weir_probe_destination_errors_total",
        "Datagrams that could not be sent, per destination.",
        &|d| d.errors(),
    );
    if let Some(d) = &pipeline.deliver {
        e.single(
            "weir_probe_delivered_flows_total",
            "counter",
            "Flows handed to the collector in this process (--serve).",
            d.delivered,
        );
    }
}
