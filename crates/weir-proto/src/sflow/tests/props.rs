//! Properties: arbitrary bytes never panic the decoder or the packet parser, and encoding a v5 datagram then
//! parsing it gives it back.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use proptest::collection::vec;
use proptest::prelude::*;
use weir_flow::{FlowBatch, FlowRecord};

use crate::packet;
use crate::sflow::*;
use crate::{Decoder, Limits};

fn addr() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(|a| IpAddr::V4(Ipv4Addr::from(a))),
        any::<[u8; 16]>().prop_map(|a| IpAddr::V6(Ipv6Addr::from(a))),
    ]
}

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..max)
}

/// A tag that is none of `known` (enterprise 0).
fn unknown_format(known: &'static [u32]) -> impl Strategy<Value = DataFormat> {
    any::<u32>().prop_filter_map("known format", move |f| {
        (!known.contains(&f)).then_some(DataFormat(f))
    })
}

const FLOW_FORMATS: &[u32] = &[1, 2, 3, 4, 1001, 1002, 1003, 1004, 1005];

fn flow_data() -> impl Strategy<Value = FlowData> {
    prop_oneof![
        (any::<u32>(), any::<u32>(), any::<u32>(), bytes(80)).prop_map(
            |(p, frame_length, stripped, header)| {
                FlowData::RawHeader(SampledHeader {
                    protocol: HeaderProtocol(p),
                    frame_length,
                    stripped,
                    header,
                })
            }
        ),
        (any::<u32>(), any::<[u8; 6]>(), any::<[u8; 6]>(), any::<u32>()).prop_map(
            |(length, src_mac, dst_mac, eth_type)| {
                FlowData::Ethernet(SampledEthernet {
                    length,
                    src_mac,
                    dst_mac,
                    eth_type,
                })
            }
        ),
        (any::<[u32; 6]>(), any::<[u8; 4]>(), any::<[u8; 4]>()).prop_map(|(w, s, d)| {
            FlowData::Ipv4(SampledIpv4 {
                length: w[0],
                protocol: w[1],
                src: s.into(),
                dst: d.into(),
                src_port: w[2],
                dst_port: w[3],
                tcp_flags: w[4],
                tos: w[5],
            })
        }),
        (any::<[u32; 6]>(), any::<[u8; 16]>(), any::<[u8; 16]>()).prop_map(|(w, s, d)| {
            FlowData::Ipv6(SampledIpv6 {
                length: w[0],
                protocol: w[1],
                src: s.into(),
                dst: d.into(),
                src_port: w[2],
                dst_port: w[3],
                tcp_flags: w[4],
                priority: w[5],
            })
        }),
        any::<[u32; 4]>().prop_map(|w| FlowData::Switch(ExtendedSwitch {
            src_vlan: w[0],
            src_priority: w[1],
            dst_vlan: w[2],
            dst_priority: w[3]
        })),
        (proptest::option::of(addr()), any::<u32>(), any::<u32>()).prop_map(|(next_hop, s, d)| {
            FlowData::Router(ExtendedRouter {
                next_hop,
                src_mask_len: s,
                dst_mask_len: d,
            })
        }),
        (
            proptest::option::of(addr()),
            any::<[u32; 4]>(),
            vec((any::<u32>(), vec(any::<u32>(), 0..5)), 0..4),
            vec(any::<u32>(), 0..5),
        )
            .prop_map(|(next_hop, w, path, communities)| {
                FlowData::Gateway(ExtendedGateway {
                    next_hop,
                    as_number: w[0],
                    src_as: w[1],
                    src_peer_as: w[2],
                    as_path: path
                        .into_iter()
                        .map(|(kind, asns)| AsPathSegment { kind, asns })
                        .collect(),
                    communities,
                    local_pref: w[3],
                })
            }),
        (any::<u32>(), bytes(10), any::<u32>(), bytes(10)).prop_map(|(sc, su, dc, du)| {
            FlowData::User(ExtendedUser {
                src_charset: sc,
                src_user: su,
                dst_charset: dc,
                dst_user: du,
            })
        }),
        (any::<u32>(), bytes(20), bytes(10)).prop_map(|(direction, url, host)| FlowData::Url(ExtendedUrl {
            direction,
            url,
            host
        })),
        (unknown_format(FLOW_FORMATS), bytes(20))
            .prop_map(|(format, data)| FlowData::Unknown(Opaque { format, data })),
    ]
}

fn counter_data() -> impl Strategy<Value = CounterData> {
    prop_oneof![
        (any::<[u32; 16]>(), any::<[u64; 3]>()).prop_map(|(w, h)| CounterData::Generic(IfCounters {
            if_index: w[0],
            if_type: w[1],
            if_speed: h[0],
            if_direction: w[2],
            if_status: w[3],
            in_octets: h[1],
            in_unicast: w[4],
            in_multicast: w[5],
            in_broadcast: w[6],
            in_discards: w[7],
            in_errors: w[8],
            in_unknown_protos: w[9],
            out_octets: h[2],
            out_unicast: w[10],
            out_multicast: w[11],
            out_broadcast: w[12],
            out_discards: w[13],
            out_errors: w[14],
            promiscuous: w[15],
        })),
        (unknown_format(&[1]), bytes(60))
            .prop_map(|(format, data)| CounterData::Unknown(Opaque { format, data })),
    ]
}

fn source(expanded: bool) -> impl Strategy<Value = SourceId> {
    let (kinds, indexes) = if expanded {
        (u32::MAX, u32::MAX)
    } else {
        (0xff, 0x00ff_ffff)
    };
    (0..=kinds, 0..=indexes).prop_map(|(kind, index)| SourceId { kind, index })
}

fn interface(expanded: bool) -> impl Strategy<Value = Interface> {
    let (formats, values) = if expanded {
        (u32::MAX, u32::MAX)
    } else {
        (3, 0x3fff_ffff)
    };
    (0..=formats, 0..=values).prop_map(|(format, value)| Interface { format, value })
}

fn sample() -> impl Strategy<Value = Sample> {
    let flow = any::<bool>().prop_flat_map(|expanded| {
        (
            source(expanded),
            interface(expanded),
            interface(expanded),
            any::<[u32; 4]>(),
            vec(flow_data(), 0..5),
        )
            .prop_map(move |(source, input, output, w, records)| {
                Sample::Flow(FlowSample {
                    head: FlowSampleHead {
                        expanded,
                        sequence: w[0],
                        source,
                        sampling_rate: w[1],
                        sample_pool: w[2],
                        drops: w[3],
                        input,
                        output,
                    },
                    records,
                })
            })
    });
    let counter = any::<bool>().prop_flat_map(|expanded| {
        (source(expanded), any::<u32>(), vec(counter_data(), 0..4)).prop_map(
            move |(source, sequence, records)| {
                Sample::Counter(CounterSample {
                    head: CounterSampleHead {
                        expanded,
                        sequence,
                        source,
                        sampling_interval: 0,
                    },
                    records,
                })
            },
        )
    });
    let discarded =
        (source(true), any::<[u32; 5]>(), vec(flow_data(), 0..4)).prop_map(|(source, w, records)| {
            Sample::Discarded(DiscardedPacket {
                head: DiscardHead {
                    sequence: w[0],
                    source,
                    drops: w[1],
                    input: w[2],
                    output: w[3],
                    reason: DropReason(w[4]),
                },
                records,
            })
        });
    let unknown = (unknown_format(&[1, 2, 3, 4, 5]), bytes(30))
        .prop_map(|(format, data)| Sample::Unknown(Opaque { format, data }));
    prop_oneof![flow, counter, discarded, unknown]
}

fn datagram() -> impl Strategy<Value = Datagram> {
    (addr(), any::<[u32; 3]>(), vec(sample(), 0..5)).prop_map(|(agent, w, samples)| Datagram {
        header: Header {
            version: 5,
            agent,
            sub_agent_id: w[0],
            sequence: w[1],
            uptime_ms: w[2],
        },
        samples,
    })
}

proptest! {
    #[test]
    fn encoding_then_parsing_gives_the_datagram_back(d in datagram()) {
        let bytes = d.encode().unwrap();
        prop_assert_eq!(bytes.len() % 4, 0);
        prop_assert_eq!(Datagram::parse(&bytes).unwrap(), d);
    }

    #[test]
    fn decoding_a_valid_datagram_makes_a_flow_per_flow_sample(d in datagram()) {
        let bytes = d.encode().unwrap();
        let flows = d.samples.iter().filter(|s| matches!(s, Sample::Flow(_) | Sample::Discarded(_))).count();
        let mut batch = FlowBatch::new();
        let o = Decoder::default().decode("192.0.2.1".parse().unwrap(), 1, &bytes, &mut batch);
        prop_assert_eq!(o.error, None);
        prop_assert_eq!((o.records, batch.len()), (flows, flows));
    }

    #[test]
    fn arbitrary_bytes_never_panic(version in prop_oneof![Just(2u8), Just(4), Just(5)], body in bytes(600)) {
        let mut bytes = vec![0, 0, 0, version];
        bytes.extend(body);
        let _ = Datagram::parse(&bytes);
        let limits = Limits { max_domains_per_exporter: 4, ..Limits::default() };
        let mut decoder = Decoder::new(limits);
        let mut batch = FlowBatch::new();
        let o = decoder.decode("192.0.2.1".parse().unwrap(), 1, &bytes, &mut batch);
        prop_assert_eq!(o.records, batch.len());
    }

    #[test]
    fn mutated_datagrams_never_panic(d in datagram(), at in any::<usize>(), to in any::<u8>(), cut in any::<usize>()) {
        let mut bytes = d.encode().unwrap();
        let n = bytes.len();
        bytes[at % n] = to;
        bytes.truncate(cut % (n + 1));
        let _ = Datagram::parse(&bytes);
        let mut batch = FlowBatch::new();
        let o = Decoder::default().decode("192.0.2.1".parse().unwrap(), 1, &bytes, &mut batch);
        prop_assert_eq!(o.records, batch.len());
    }

    #[test]
    fn the_packet_parser_never_panics(b in bytes(200), start in 0usize..4) {
        let mut rec = FlowRecord::default();
        let _ = packet::parse_ethernet(&b, &mut rec);
        let _ = packet::parse_ip(&b, &mut rec);
        let _ = packet::parse_mpls(&b, &mut rec);
        // Headers that look right up to a point: IPv4, IPv6, VLAN-tagged frames with random tails.
        for head in [&[0x45u8][..], &[0x60], &[0x4f], &[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x81, 0, 0, 1, 0x86, 0xdd, 0x60]] {
            let mut p = head.to_vec();
            p.extend(&b[start.min(b.len())..]);
            let _ = packet::parse_ip(&p, &mut rec);
            let _ = packet::parse_ethernet(&p, &mut rec);
        }
    }
}
