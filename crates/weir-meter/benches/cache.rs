//! Packets through the meter and its main cache, one core: the probe's hot path after parsing.
//!
//! `cargo bench -p weir-meter --bench cache`. Flows are picked uniformly at random (the worst case for
//! memory locality) or from a small hot set; packets are 200 ns apart on the packet clock, so the ager
//! polls every 5 million packets, and the inactive timeout is an hour, so no flow times out however many
//! times the measured batch is repeated (it leaves about a third of the million flows out, which would
//! otherwise go idle after 15 s of packet time).

#![allow(clippy::unwrap_used)]

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use weir_flow::codes::{etype, proto};
use weir_flow::{FlowRecord, ipv4};
use weir_meter::cache::CacheConfig;
use weir_meter::meter::Meter;
use weir_meter::packet::Packet;
use weir_meter::sampling::Sampling;
use weir_proto::packet::Summary;

/// Packets per measured batch.
const BATCH: usize = 1 << 20;

/// Flow numbers of `BATCH` packets over `flows` flows, from a fixed-seed generator.
fn sequence(flows: u32) -> Vec<u32> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    (0..BATCH)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % u64::from(flows)) as u32
        })
        .collect()
}

fn bench_cache(c: &mut Criterion) {
    let mut group = c.benchmark_group("meter");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.sample_size(10);
    for flows in [10_000u32, 1_000_000] {
        let config = CacheConfig {
            entries: flows as usize * 6 / 5,
            inactive_ns: 3600 * 1_000_000_000,
            ..CacheConfig::default()
        };
        let mut meter = Meter::new(config, Sampling::Off).unwrap();
        let order = sequence(flows);
        let summary = Summary {
            ip_len: 576,
            l3_offset: Some(14),
            ..Summary::default()
        };
        let mut rec = FlowRecord {
            etype: etype::IPV4,
            proto: proto::TCP,
            dst_port: 443,
            tcp_flags: 0x10,
            ..FlowRecord::default()
        };
        let mut ts = 1_700_000_000_000_000_000u64;
        // Fill the cache first, so the measured packets find their flows there.
        for f in 0..flows {
            rec.src_addr = ipv4((0x0a00_0000 | f).to_be_bytes());
            rec.dst_addr = ipv4((0xc000_0000 | (f * 7919) & 0xffff).to_be_bytes());
            rec.src_port = (f % 50_000) as u16 + 1024;
            ts += 200;
            meter.packet(&Packet::new(ts, &rec, &summary, 590));
        }
        group.bench_function(BenchmarkId::new("uniform_flows", flows), |b| {
            b.iter(|| {
                for &f in &order {
                    rec.src_addr = ipv4((0x0a00_0000 | f).to_be_bytes());
                    rec.dst_addr = ipv4((0xc000_0000 | (f * 7919) & 0xffff).to_be_bytes());
                    rec.src_port = (f % 50_000) as u16 + 1024;
                    ts += 200;
                    meter.packet(&Packet::new(ts, black_box(&rec), &summary, 590));
                }
                meter.expired().clear();
            })
        });
        assert!(
            meter.stats().v4.active >= flows as usize * 99 / 100,
            "the cache kept its flows"
        );
    }
    group.finish();
}

criterion_group!(benches, bench_cache);
criterion_main!(benches);
