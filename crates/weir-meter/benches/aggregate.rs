//! Flows into an aggregation cache, as they leave the main cache: the cost of `add` per flow for a scheme
//! that keys on little (protocol-port) and on much (prefix-port), with the cache at Cisco's default 4096
//! entries, busy enough that it is full and making room on nearly every flow in the second case.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use weir_flow::{FlowRecord, ipv4};
use weir_meter::aggregate::{AggregateConfig, AggregationCache, Scheme};

/// Flows to 65,536 destinations over a few hundred ports, with masks as the routing table gives them.
fn flows(n: u32) -> Vec<FlowRecord> {
    (0..n)
        .map(|i| {
            let h = i.wrapping_mul(0x9e37_79b9);
            FlowRecord {
                flow_start: 1_700_000_000_000_000_000 + u64::from(i) * 1_000_000,
                flow_end: 1_700_000_000_000_000_000 + u64::from(i) * 1_000_000 + 500_000_000,
                etype: 0x0800,
                sampling_rate: 1,
                in_if: h % 4,
                out_if: (h >> 2) % 8,
                src_addr: ipv4([10, (h >> 8) as u8, (h >> 16) as u8, 1]),
                dst_addr: ipv4([172, 16, (h >> 24) as u8, (h >> 4) as u8]),
                src_mask: 16,
                dst_mask: 24,
                proto: 6,
                src_port: 1024 + (h % 300) as u16,
                dst_port: [80, 443, 53, 22][(h >> 3) as usize % 4],
                packets: 10,
                bytes: 5000,
                flows: 1,
                ..FlowRecord::default()
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    const N: u32 = 65_536;
    let input = flows(N);
    let mut g = c.benchmark_group("aggregate");
    g.throughput(Throughput::Elements(u64::from(N)));
    for scheme in [Scheme::ProtocolPort, Scheme::PrefixPort] {
        let mut cache = AggregationCache::new(AggregateConfig::new(scheme)).expect("default settings");
        let mut out: Vec<FlowRecord> = Vec::with_capacity(N as usize);
        g.bench_function(format!("add_{scheme}"), |b| {
            b.iter(|| {
                out.clear();
                for f in &input {
                    cache.add(black_box(f), &mut out);
                }
                out.len()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
