//! Decoding into a FlowBatch through the [`Decoder`](crate::Decoder), with the counters it moves.

use std::net::Ipv4Addr;

use weir_flow::codes::{direction, etype, forwarding};
use weir_flow::{FlowRecord, extra_fields, ipv4};

use super::vectors::{tcpdump_expanded, v2_datagram, v4_datagram};
use super::{decode_all, fixture};
use crate::error::{DecodeError, ErrorKind};
use crate::packet::hex;
use crate::sflow::*;
use crate::stats::{Dialect, DomainKey};

const RECEIVED: u64 = 1_700_000_000_000_000_000;

/// A v5 datagram with the given samples.
fn datagram(sequence: u32, uptime_ms: u32, samples: Vec<Sample>) -> Vec<u8> {
    let header = Header {
        version: 5,
        agent: "192.0.2.1".parse().unwrap(),
        sub_agent_id: 3,
        sequence,
        uptime_ms,
    };
    Datagram { header, samples }.encode().unwrap()
}

fn flow_sample(sequence: u32, drops: u32, records: Vec<FlowData>) -> Sample {
    Sample::Flow(FlowSample {
        head: FlowSampleHead {
            expanded: false,
            sequence,
            source: SourceId { kind: 0, index: 1 },
            sampling_rate: 1000,
            sample_pool: sequence * 1000,
            drops,
            input: Interface { format: 0, value: 1 },
            output: Interface { format: 0, value: 2 },
        },
        records,
    })
}

fn raw(header: Vec<u8>, frame_length: u32) -> FlowData {
    FlowData::RawHeader(SampledHeader {
        protocol: HeaderProtocol::ETHERNET,
        frame_length,
        stripped: 4,
        header,
    })
}

/// An Ethernet/IPv4/TCP header as agents cut it.
fn tcp_header() -> Vec<u8> {
    hex("001122334455 66778899aabb 0800
         4500 05dc 0000 4000 40 06 0000 0a000001 0a000002
         c350 01bb 00000001 00000000 5018 ffff 0000 0000")
}

#[test]
fn decodes_a_sampled_header_into_one_flow() {
    let (d, batch, outcomes) = decode_all(&[fixture("goflow2/sflow_sflow_TestSFlowDecode_0.bin")]);
    assert_eq!((outcomes[0].records, &outcomes[0].error), (1, &None));
    let r = batch.row(0).unwrap();
    let expected = FlowRecord {
        time_received: RECEIVED,
        flow_start: RECEIVED,
        flow_end: RECEIVED,
        exporter_addr: ipv4([192, 0, 2, 10]),
        observation_domain: 1,
        sampling_rate: 2048,
        in_if: 1194,
        out_if: 1043,
        flow_direction: direction::EGRESS,
        etype: etype::IPV4,
        proto: 1,
        src_addr: ipv4([172, 16, 32, 254]),
        dst_addr: ipv4([172, 16, 32, 241]),
        icmp_type: 8,
        vlan: 32,
        src_mac: 0xffab_cdef_ab64,
        dst_mac: 0x00ff_1234_351b,
        bytes: 60,
        packets: 1,
        flows: 1,
        ..FlowRecord::default()
    };
    assert_eq!(r, expected);
    let (key, dom) = d.domains().next().unwrap();
    assert_eq!(
        key,
        &DomainKey {
            exporter: "192.0.2.10".parse().unwrap(),
            dialect: Dialect::Sflow,
            domain: 1
        }
    );
    assert_eq!(
        (
            dom.counters.datagrams,
            dom.counters.records,
            dom.counters.total_errors()
        ),
        (1, 1, 0)
    );
    assert_eq!(dom.counters.bytes, 172);
}

#[test]
fn applies_gateway_and_router_records() {
    let (bytes, _) = tcpdump_expanded();
    let (d, batch, _) = decode_all(&[bytes]);
    let r = batch.row(0).unwrap();
    assert_eq!(
        (r.src_addr, r.dst_addr),
        (ipv4([52, 52, 52, 52]), ipv4([53, 53, 53, 53]))
    );
    assert_eq!(
        (r.src_port, r.dst_port, r.tcp_flags, r.tos, r.vlan),
        (22, 52237, 0x18, 0x08, 809)
    );
    assert_eq!(
        (r.in_if, r.out_if, r.flow_direction),
        (29001, 1_285_816_721, direction::UNKNOWN)
    );
    assert_eq!(
        (r.next_hop, r.bgp_next_hop),
        (ipv4([54, 54, 54, 54]), ipv4([54, 54, 54, 54]))
    );
    assert_eq!(
        (r.src_mask, r.dst_mask, r.src_as, r.dst_as),
        (32, 22, 203_476, 203_361)
    );
    assert_eq!(batch.list(r.dst_as_path), &[8218, 29605, 203_361]);
    assert_eq!(
        batch.list(r.dst_communities),
        &[0x201a_0065, 0x71f1_0064, 0x71f1_c350, 0x71f1_c9fa]
    );
    assert_eq!((r.bytes, r.sampling_rate, r.observation_domain), (104, 1000, 0));
    assert_eq!(d.domains().next().unwrap().1.counters.records, 1);
}

#[test]
fn discarded_packets_become_dropped_flows() {
    let files = ["EgressQueue", "ExtendedACL", "ExtendedFunction"]
        .map(|f| fixture(&format!("goflow2/sflow_sflow_TestSFlowDecodeDrop{f}_0.bin")));
    let (d, batch, outcomes) = decode_all(&files);
    assert!(outcomes.iter().all(|o| o.records == 1 && o.error.is_none()));
    let r = batch.row(0).unwrap();
    // Reason 1 (host unreachable) has no IPFIX equivalent: dropped, reason kept aside.
    assert_eq!(
        (r.forwarding_status, r.in_if, r.out_if),
        (forwarding::DROPPED, 1, 0)
    );
    assert_eq!(
        (r.flow_direction, r.packets, r.bytes, r.sampling_rate),
        (direction::INGRESS, 1, 0, 1)
    );
    let extra: Vec<_> = extra_fields(batch.blob(r.extra_fields))
        .map(|f| (f.enterprise, f.id, f.value))
        .collect();
    assert_eq!(
        extra,
        [
            (SFLOW_ENTERPRISE, EXTRA_DROP_REASON, &[0, 0, 0, 1][..]),
            (SFLOW_ENTERPRISE, 1036, &[0, 0, 0, 42])
        ]
    );
    let r = batch.row(2).unwrap();
    let extra: Vec<_> = extra_fields(batch.blob(r.extra_fields))
        .map(|f| (f.id, f.value.to_vec()))
        .collect();
    assert_eq!(extra[1], (1038, hex("00000006 666f6f626172")));
    let dom = d.domains().next().unwrap().1;
    // The same sample sequence number three times: reordered, nothing lost; drops did not grow.
    assert_eq!(
        (
            dom.counters.records,
            dom.counters.lost_records,
            dom.counters.datagrams
        ),
        (3, 0, 3)
    );
}

#[test]
fn maps_drop_reasons_to_forwarding_status_and_counts_skipped_formats() {
    let bytes = hex("00000005 00000001 c0000201 00000000 00000001 00000002 00000002
         00000001 00000038 00000001 00000005 00000001 00000001 00000000 00000005 40000101 00000001
           000003e9 00000010 00000000 00000000 0000000b 00000000
         00009001 00000000");
    let (d, batch, outcomes) = decode_all(&[bytes]);
    assert_eq!(outcomes[0].error, None);
    let r = batch.row(0).unwrap();
    // Reason 257 (TTL exceeded) is IPFIX's "bad TTL" (9); the switch record's source VLAN is 0, so the
    // destination VLAN is taken.
    assert_eq!(
        (r.forwarding_status, r.out_if, r.vlan, r.extra_fields),
        (forwarding::DROPPED | 9, 0, 11, weir_flow::Blob::EMPTY)
    );
    let dom = d.domains().next().unwrap().1;
    let st = dom.sflow_state().unwrap();
    assert_eq!((st.skipped_samples(), st.skipped_records()), (1, 0));
}

#[test]
fn v4_and_v2_datagrams_become_flows() {
    let (d, batch, outcomes) = decode_all(&[v4_datagram().0, v2_datagram().0]);
    assert!(outcomes.iter().all(|o| o.error.is_none()));
    let arp = batch.row(0).unwrap();
    assert_eq!(
        (arp.etype, arp.dst_mac, arp.src_mac),
        (etype::ARP, 0xffff_ffff_ffff, 0x0011_2233_4455)
    );
    // 74 bytes on the wire, 14 of them Ethernet header: no IP length to take.
    assert_eq!(
        (arp.bytes, arp.vlan, arp.in_if, arp.out_if, arp.sampling_rate),
        (60, 20, 3, 0, 512)
    );
    assert_eq!((arp.dst_as, arp.flow_direction), (65002, direction::UNKNOWN));
    assert_eq!(batch.list(arp.dst_as_path), &[65001, 65002]);
    assert_eq!(batch.list(arp.dst_communities), &[0xfde8_0064]);
    let udp = batch.row(1).unwrap();
    assert_eq!(
        (udp.etype, udp.proto, udp.src_port, udp.bytes),
        (etype::IPV4, 17, 53, 40)
    );
    assert_eq!(
        (udp.next_hop, udp.src_mask, udp.dst_mask),
        (ipv4([10, 0, 0, 254]), 24, 16)
    );
    assert_eq!(
        (udp.src_as, udp.dst_as, udp.flow_direction),
        (200, 500, direction::INGRESS)
    );
    assert_eq!(batch.list(udp.dst_as_path), &[400, 500]);
    let total = |f: fn(&crate::Counters) -> u64| d.domains().map(|(_, dom)| f(&dom.counters)).sum::<u64>();
    assert_eq!(
        (
            total(|c| c.records),
            total(|c| c.counter_samples),
            total(|c| c.datagrams)
        ),
        (2, 1, 2)
    );
}

#[test]
fn estimates_lost_samples_from_sequences_and_drops() {
    let one = |seq, drops| flow_sample(seq, drops, vec![raw(tcp_header(), 1518)]);
    let datagrams = [
        datagram(1, 3_600_000, vec![one(10, 0)]),
        datagram(2, 3_601_000, vec![one(11, 0), one(14, 2)]),
        datagram(4, 3_602_000, vec![one(15, 2)]),
        // Uptime went back: the agent restarted, its sample numbers start over.
        datagram(1, 10, vec![one(1, 0)]),
        datagram(2, 20, vec![one(2, 0)]),
    ];
    let (d, batch, _) = decode_all(&datagrams);
    assert_eq!(batch.len(), 6);
    let c = &d.domains().next().unwrap().1.counters;
    assert_eq!(
        (c.records, c.lost_records, c.sequence_gaps, c.restarts),
        (6, 2 + 2, 1, 1)
    );
    let st = d.domains().next().unwrap().1.sflow_state().unwrap();
    let (key, s) = st.sources().next().unwrap();
    assert_eq!(
        key,
        &SourceKey {
            kind: SampleKind::Flow,
            source: SourceId { kind: 0, index: 1 }
        }
    );
    assert_eq!((s.sequence, s.sample_pool, s.samples, s.lost), (2, 2000, 2, 0));
    let r = batch.row(0).unwrap();
    assert_eq!(
        (r.bytes, r.tcp_flags, r.dst_port, r.flow_direction),
        (1500, 0x18, 443, direction::INGRESS)
    );
}

#[test]
fn keeps_the_latest_interface_counters() {
    let counters = |seq, octets| {
        Sample::Counter(CounterSample {
            head: CounterSampleHead {
                expanded: true,
                sequence: seq,
                source: SourceId { kind: 0, index: 7 },
                sampling_interval: 0,
            },
            records: vec![
                CounterData::Generic(IfCounters {
                    if_index: 7,
                    in_octets: octets,
                    ..IfCounters::default()
                }),
                CounterData::Unknown(Opaque {
                    format: DataFormat(2),
                    data: vec![0; 52],
                }),
            ],
        })
    };
    let (d, batch, _) = decode_all(&[
        datagram(1, 1, vec![counters(1, 100)]),
        datagram(2, 2, vec![counters(2, 300)]),
    ]);
    assert!(batch.is_empty());
    let dom = d.domains().next().unwrap().1;
    assert_eq!((dom.counters.counter_samples, dom.counters.records), (2, 0));
    let latest = dom
        .sflow_state()
        .unwrap()
        .interface(SourceId { kind: 0, index: 7 }, 7)
        .unwrap();
    assert_eq!(
        (latest.counters.in_octets, latest.sequence, latest.received),
        (300, 2, RECEIVED)
    );
}

#[test]
fn keeps_flows_decoded_before_an_error() {
    let mut bytes = datagram(
        1,
        1,
        vec![
            flow_sample(1, 0, vec![raw(tcp_header(), 100)]),
            flow_sample(2, 0, vec![]),
        ],
    );
    bytes.truncate(bytes.len() - 8);
    let (d, batch, outcomes) = decode_all(&[bytes]);
    assert_eq!(batch.len(), 1);
    assert!(
        matches!(outcomes[0].error, Some(DecodeError::Truncated { .. })),
        "{:?}",
        outcomes[0].error
    );
    let c = &d.domains().next().unwrap().1.counters;
    assert_eq!(
        (c.records, c.errors_of(ErrorKind::Truncated), c.datagrams),
        (1, 1, 1)
    );
}

#[test]
fn counts_malformed_sampled_headers_and_keeps_the_flow() {
    // An IPv4 header length of 16 bytes: the MACs are kept, the error is counted, the flow is kept with the
    // frame length less the FCS and the Ethernet header.
    let bad = hex("001122334455 66778899aabb 0800 4400 0040 0000 0000 40 06 0000 0a000001 0a000002");
    let (d, batch, outcomes) = decode_all(&[datagram(1, 1, vec![flow_sample(1, 0, vec![raw(bad, 82)])])]);
    assert_eq!((outcomes[0].records, &outcomes[0].error), (1, &None));
    let r = batch.row(0).unwrap();
    assert_eq!(
        (r.src_mac, r.etype, r.src_addr, r.bytes),
        (0x6677_8899_aabb, etype::IPV4, std::net::Ipv6Addr::UNSPECIFIED, 78)
    );
    let c = &d.domains().next().unwrap().1.counters;
    assert_eq!((c.records, c.errors_of(ErrorKind::BadLength)), (1, 1));
}

#[test]
fn sampled_ip_records_stand_in_for_headers() {
    let ip = FlowData::Ipv4(SampledIpv4 {
        length: 576,
        protocol: 17,
        src: Ipv4Addr::new(198, 51, 100, 7),
        dst: Ipv4Addr::new(203, 0, 113, 9),
        src_port: 123,
        dst_port: 123,
        tcp_flags: 0,
        tos: 0x10,
    });
    let router = FlowData::Router(ExtendedRouter {
        next_hop: None,
        src_mask_len: 24,
        dst_mask_len: 8,
    });
    let (_, batch, _) = decode_all(&[datagram(1, 1, vec![flow_sample(1, 0, vec![ip, router])])]);
    let r = batch.row(0).unwrap();
    assert_eq!(
        (r.etype, r.proto, r.tos, r.bytes, r.next_hop),
        (etype::IPV4, 17, 0x10, 576, std::net::Ipv6Addr::UNSPECIFIED)
    );
    assert_eq!((r.src_addr, r.dst_mask), (ipv4([198, 51, 100, 7]), 8));
}
