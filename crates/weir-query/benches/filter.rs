//! The filter language's two costs: parsing and checking a filter (once per query), and evaluating a compiled
//! filter on one flow (once per flow in live views and detection). `cargo bench -p weir-query`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use weir_flow::codes::etype;
use weir_flow::{FlowBatch, FlowRecord, ipv4};
use weir_query::filter;

/// Filters from simple to busy: (name, text).
const FILTERS: &[(&str, &str)] = &[
    ("port", "port 443"),
    (
        "nfdump",
        "proto tcp and dst port in [80, 443] and not src net 10.0.0.0/8",
    ),
    (
        "strings",
        "dst_country in [JP, US, DE] and app != dns and dst_domain ~ \"*.example.com\"",
    ),
    ("rates", "bps > 1M or (pps > 1k and bpp < 100)"),
    (
        "prefixes",
        "dst ip in [192.0.2.0/24 198.51.100.0/24 203.0.113.0/24 10.0.0.0/8 172.16.0.0/12 2001:db8::/32]",
    ),
];

/// A web flow that passes most of the filters above, so that evaluation goes through every test.
fn web_flow(b: &mut FlowBatch) -> FlowRecord {
    FlowRecord {
        flow_start: 1_709_294_400_000_000_000,
        flow_end: 1_709_294_402_000_000_000,
        etype: etype::IPV4,
        proto: 6,
        src_addr: ipv4([192, 168, 1, 10]),
        dst_addr: ipv4([93, 184, 216, 34]),
        src_port: 51000,
        dst_port: 443,
        tcp_flags: 0x1b,
        dst_country: b.intern("US"),
        dst_domain: b.intern("www.example.com"),
        app: b.intern("https"),
        bytes: 150_000,
        packets: 120,
        flows: 1,
        ..FlowRecord::default()
    }
}

fn parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse");
    for &(name, text) in FILTERS {
        group.bench_function(name, |b| b.iter(|| filter::parse(black_box(text))));
    }
    group.finish();
}

fn matches(c: &mut Criterion) {
    let mut batch = FlowBatch::new();
    let flow = web_flow(&mut batch);
    let mut group = c.benchmark_group("matches");
    for &(name, text) in FILTERS {
        let f = filter::parse(text).expect("bench filter");
        group.bench_function(name, |b| b.iter(|| f.matches(black_box(&flow), &batch)));
    }
    group.finish();
}

criterion_group!(benches, parse, matches);
criterion_main!(benches);
