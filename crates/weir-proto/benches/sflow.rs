//! sFlow decoding throughput: datagrams of seven flow samples, each with a 128-byte Ethernet/IPv4/TCP header,
//! extended switch and router records (the shape switches send), decoded into a FlowBatch; and the packet
//! header parser alone.
//!
//! `cargo bench -p weir-proto --bench sflow`; throughput is in flow samples (or packets) per second.

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use weir_flow::{FlowBatch, FlowRecord};
use weir_proto::Decoder;
use weir_proto::packet;
use weir_proto::sflow::{
    Datagram, ExtendedRouter, ExtendedSwitch, FlowData, FlowSample, FlowSampleHead, Header, HeaderProtocol,
    Interface, Sample, SampledHeader, SourceId,
};

const SAMPLES: u32 = 7;

/// A 128-byte cut of a 1518-byte frame: Ethernet, 802.1Q, IPv4, TCP with options, payload.
fn header(i: u32) -> Vec<u8> {
    let mut h = vec![
        0x00, 0x1b, 0x21, 0x3c, 0x4d, 0x5e, 0x00, 0x1c, 0x73, 0x01, 0x02, 0x03, 0x81, 0x00, 0x00, 0x64,
    ];
    h.extend([
        0x08, 0x00, 0x45, 0x00, 0x05, 0xd8, 0x12, 0x34, 0x40, 0x00, 0x3f, 0x06, 0x00, 0x00,
    ]);
    h.extend([10, 1, (i >> 8) as u8, i as u8, 192, 0, 2, (i % 200) as u8]);
    h.extend((40000 + i as u16).to_be_bytes());
    h.extend([
        0x01, 0xbb, 0, 0, 0, 1, 0, 0, 0, 1, 0x80, 0x10, 0x01, 0xf5, 0, 0, 0, 0,
    ]);
    h.extend([1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2]);
    h.resize(128, 0xab);
    h
}

fn datagram(seq: u32) -> Vec<u8> {
    let samples = (0..SAMPLES)
        .map(|i| {
            Sample::Flow(FlowSample {
                head: FlowSampleHead {
                    expanded: false,
                    sequence: seq * SAMPLES + i,
                    source: SourceId { kind: 0, index: 3 },
                    sampling_rate: 4096,
                    sample_pool: (seq * SAMPLES + i) * 4096,
                    drops: 0,
                    input: Interface { format: 0, value: 3 },
                    output: Interface { format: 0, value: 7 },
                },
                records: vec![
                    FlowData::RawHeader(SampledHeader {
                        protocol: HeaderProtocol::ETHERNET,
                        frame_length: 1522,
                        stripped: 4,
                        header: header(seq * SAMPLES + i),
                    }),
                    FlowData::Switch(ExtendedSwitch {
                        src_vlan: 100,
                        src_priority: 0,
                        dst_vlan: 200,
                        dst_priority: 0,
                    }),
                    FlowData::Router(ExtendedRouter {
                        next_hop: Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 254))),
                        src_mask_len: 16,
                        dst_mask_len: 24,
                    }),
                ],
            })
        })
        .collect();
    let header = Header {
        version: 5,
        agent: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
        sub_agent_id: 0,
        sequence: seq,
        uptime_ms: seq,
    };
    Datagram { header, samples }.encode().expect("a valid datagram")
}

fn decode(c: &mut Criterion) {
    let datagrams: Vec<Vec<u8>> = (0..1024).map(datagram).collect();
    let exporter = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
    let mut decoder = Decoder::default();
    let mut batch = FlowBatch::with_capacity(8192);
    let mut i = 0;
    let mut group = c.benchmark_group("sflow");
    group.throughput(Throughput::Elements(u64::from(SAMPLES)));
    group.bench_function("decode 7 flow samples", |b| {
        b.iter(|| {
            if batch.len() >= 7000 {
                batch.clear();
            }
            let d = &datagrams[i % datagrams.len()];
            i += 1;
            black_box(decoder.decode(exporter, 1_700_000_000_000_000_000, d, &mut batch));
        })
    });
    group.finish();
}

fn parse_packet(c: &mut Criterion) {
    let packets: Vec<Vec<u8>> = (0..64).map(header).collect();
    let mut i = 0;
    let mut group = c.benchmark_group("packet");
    group.throughput(Throughput::Elements(1));
    group.bench_function("ethernet/vlan/ipv4/tcp", |b| {
        b.iter(|| {
            let mut rec = FlowRecord::default();
            let p = &packets[i % packets.len()];
            i += 1;
            black_box(packet::parse_ethernet(black_box(p), &mut rec).ok());
            black_box(rec.src_port)
        })
    });
    group.finish();
}

criterion_group!(benches, decode, parse_packet);
criterion_main!(benches);
