//! Decoding template-based data: IPFIX and NetFlow v9 data sets with a typical 20-field IPv4 template into
//! a `FlowBatch`. Reports records per second (`cargo bench -p weir-proto --bench templates`).

use std::hint::black_box;
use std::net::IpAddr;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use weir_flow::{FlowBatch, FlowRecord, ipv4};
use weir_proto::Decoder;
use weir_proto::template::FieldSpec;
use weir_proto::template::export::{ExportBuilder, Format};

/// Records per datagram: what fits in a 1500-byte MTU with this 72-byte record.
const PER_DATAGRAM: usize = 19;
/// Datagrams decoded per iteration.
const DATAGRAMS: usize = 64;

/// A typical router template: addresses, ports, protocol, ToS, flags, interfaces, counters, times, next
/// hop, masks, AS numbers, direction and VLAN.
fn fields(start: u16, end: u16, time_len: u16) -> Vec<FieldSpec> {
    [
        (8, 4),
        (12, 4),
        (7, 2),
        (11, 2),
        (4, 1),
        (5, 1),
        (6, 1),
        (10, 4),
        (14, 4),
        (1, 8),
        (2, 8),
        (start, time_len),
        (end, time_len),
        (15, 4),
        (9, 1),
        (13, 1),
        (16, 4),
        (17, 4),
        (61, 1),
        (58, 2),
    ]
    .into_iter()
    .map(|(id, len)| FieldSpec::new(id, len))
    .collect()
}

fn records(n: usize) -> Vec<FlowRecord> {
    let now = 1_700_000_000_000_000_000u64;
    (0..n)
        .map(|i| FlowRecord {
            src_addr: ipv4([10, 0, (i >> 8) as u8, i as u8]),
            dst_addr: ipv4([192, 0, 2, i as u8]),
            src_port: 1024 + i as u16,
            dst_port: 443,
            proto: 6,
            tcp_flags: 0x18,
            in_if: 3,
            out_if: 7,
            bytes: 1500 * i as u64,
            packets: i as u64 + 1,
            flow_start: now - 30_000_000_000,
            flow_end: now - 1_000_000_000,
            next_hop: ipv4([192, 0, 2, 254]),
            src_mask: 24,
            dst_mask: 24,
            src_as: 64500,
            dst_as: 64501,
            flow_direction: 1,
            vlan: 100,
            ..FlowRecord::default()
        })
        .collect()
}

fn datagrams(format: Format) -> (Vec<u8>, Vec<Vec<u8>>) {
    let now = 1_700_000_000_000_000_000u64;
    let f = match format {
        Format::Ipfix => fields(152, 153, 8),
        Format::V9 => fields(22, 21, 4),
    };
    let mut b = ExportBuilder::new(format, 1, 256, f).expect("a template of exportable fields");
    let templates = b.datagram(&[], now, 3_600_000, true);
    let recs = records(PER_DATAGRAM);
    let data = (0..DATAGRAMS)
        .map(|_| b.datagram(&recs, now, 3_600_000, false))
        .collect();
    (templates, data)
}

fn bench(c: &mut Criterion) {
    let exporter: IpAddr = "192.0.2.1".parse().expect("a valid address");
    let mut group = c.benchmark_group("templates");
    group.throughput(Throughput::Elements((PER_DATAGRAM * DATAGRAMS) as u64));
    for (name, format) in [("ipfix_20_fields", Format::Ipfix), ("v9_20_fields", Format::V9)] {
        let (templates, data) = datagrams(format);
        let mut decoder = Decoder::default();
        let mut out = FlowBatch::with_capacity(PER_DATAGRAM * DATAGRAMS);
        decoder.decode(exporter, 1, &templates, &mut out);
        group.bench_function(name, |b| {
            b.iter(|| {
                out.clear();
                for d in &data {
                    let o = decoder.decode(exporter, 2, black_box(d), &mut out);
                    debug_assert!(o.error.is_none());
                }
                assert_eq!(out.len(), PER_DATAGRAM * DATAGRAMS);
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
