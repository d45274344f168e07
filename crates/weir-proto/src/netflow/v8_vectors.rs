//! Hex vectors for every NetFlow v8 aggregation scheme: each parses to the expected records, is consumed
//! whole, encodes back to the same bytes, decodes to flows carrying only the scheme's keys, and those flows
//! encode back to the same records.

use std::net::Ipv4Addr;

use weir_flow::{ExtraField, FlowRecord, extra_fields, ipv4};

use super::clock::ExportClock;
use super::testing::{EXPORTER, RECEIVED, counters, decode_all, hex, roundtrip};
use super::v8::{Aggregation, V8Header, V8Packet, V8Records, v8_datagrams};
use super::v8_schemes::*;
use crate::error::{DecodeError, ErrorKind};
use crate::stats::Dialect;

/// Uptime 10 000 000 ms at 2023-11-16T01:01:52Z, sequence 100, engine 1/2, scheme `SS`, layout version 2.
const HEADER: &str = "0008 0001 00989680 65556a00 00000000 00000064 01 02 SS 02 00000000";

/// 3 flows, 10 packets, 1000 bytes, from 10 s to 1 s before the export.
const TOTALS: &str = "00000003 0000000a 000003e8 00986f70 00989298";

const EXPORT: u64 = 1_700_096_512_000_000_000;

fn clock() -> ExportClock {
    ExportClock {
        sys_uptime: 10_000_000,
        unix_secs: 1_700_096_512,
        unix_nsecs: 0,
    }
}

fn header(aggregation: Aggregation) -> V8Header {
    V8Header {
        clock: clock(),
        flow_sequence: 100,
        engine_type: 1,
        engine_id: 2,
        aggregation,
        agg_version: 2,
        reserved: 0,
    }
}

fn totals() -> AggregateTotals {
    AggregateTotals {
        flows: 3,
        packets: 10,
        octets: 1000,
        first: 9_990_000,
        last: 9_999_000,
    }
}

const SRC_NET: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 0);
const DST_NET: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 0);
const SRC_HOST: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
const DST_HOST: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 1);
const ROUTER_SC: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 254);

/// The columns every decoded flow has, plus the aggregate's totals.
fn aggregate_flow() -> FlowRecord {
    FlowRecord {
        flows: 3,
        packets: 10,
        bytes: 1000,
        flow_start: EXPORT - 10_000_000_000,
        flow_end: EXPORT - 1_000_000_000,
        ..catalyst_flow()
    }
}

/// The columns every decoded flow has, with a Catalyst record's counters (no flow count).
fn catalyst_flow() -> FlowRecord {
    FlowRecord {
        time_received: RECEIVED,
        exporter_addr: ipv4(EXPORTER),
        observation_domain: 0x0102,
        sampling_rate: 1,
        etype: 0x0800,
        flows: 1,
        packets: 10,
        bytes: 1000,
        flow_start: EXPORT - 10_000_000_000,
        flow_end: EXPORT - 1_000_000_000,
        ..FlowRecord::default()
    }
}

/// One vector: the scheme, the record's hex, the records it parses to, and the flow it decodes to.
struct Vector {
    scheme: Aggregation,
    record: &'static str,
    records: V8Records,
    flow: FlowRecord,
}

fn vectors() -> Vec<Vector> {
    let a = aggregate_flow();
    let c = catalyst_flow();
    vec![
        Vector {
            scheme: Aggregation::AS,
            record: "fde8 3b41 0003 0005",
            records: V8Records::As(vec![AsAggregate {
                totals: totals(),
                src_as: 65_000,
                dst_as: 15_169,
                input: 3,
                output: 5,
            }]),
            flow: FlowRecord {
                src_as: 65_000,
                dst_as: 15_169,
                in_if: 3,
                out_if: 5,
                ..a
            },
        },
        Vector {
            scheme: Aggregation::PROTO_PORT,
            record: "11 00 0000 0035 c350",
            records: V8Records::ProtoPort(vec![ProtoPortAggregate {
                totals: totals(),
                proto: 17,
                pad: 0,
                reserved: 0,
                src_port: 53,
                dst_port: 50_000,
            }]),
            flow: FlowRecord {
                proto: 17,
                src_port: 53,
                dst_port: 50_000,
                ..a
            },
        },
        Vector {
            scheme: Aggregation::SRC_PREFIX,
            record: "c6336400 18 00 fde8 0003 0000",
            records: V8Records::SrcPrefix(vec![SrcPrefixAggregate {
                totals: totals(),
                src_prefix: SRC_NET,
                src_mask: 24,
                pad: 0,
                src_as: 65_000,
                input: 3,
                reserved: 0,
            }]),
            flow: FlowRecord {
                src_addr: ipv4(SRC_NET.octets()),
                src_mask: 24,
                src_as: 65_000,
                in_if: 3,
                ..a
            },
        },
        Vector {
            scheme: Aggregation::DST_PREFIX,
            record: "cb007100 1a 00 3b41 0005 0000",
            records: V8Records::DstPrefix(vec![DstPrefixAggregate {
                totals: totals(),
                dst_prefix: DST_NET,
                dst_mask: 26,
                pad: 0,
                dst_as: 15_169,
                output: 5,
                reserved: 0,
            }]),
            flow: FlowRecord {
                dst_addr: ipv4(DST_NET.octets()),
                dst_mask: 26,
                dst_as: 15_169,
                out_if: 5,
                ..a
            },
        },
        Vector {
            scheme: Aggregation::PREFIX,
            record: "c6336400 cb007100 1a 18 0000 fde8 3b41 0003 0005",
            records: V8Records::Prefix(vec![PrefixAggregate {
                totals: totals(),
                src_prefix: SRC_NET,
                dst_prefix: DST_NET,
                dst_mask: 26,
                src_mask: 24,
                reserved: 0,
                src_as: 65_000,
                dst_as: 15_169,
                input: 3,
                output: 5,
            }]),
            flow: FlowRecord {
                src_addr: ipv4(SRC_NET.octets()),
                dst_addr: ipv4(DST_NET.octets()),
                src_mask: 24,
                dst_mask: 26,
                src_as: 65_000,
                dst_as: 15_169,
                in_if: 3,
                out_if: 5,
                ..a
            },
        },
        Vector {
            scheme: Aggregation::DESTINATION_ONLY,
            record: "cb007101 0000000a 000003e8 00986f70 00989298 0005 28 48 00000002 c00002fe",
            records: V8Records::DestinationOnly(vec![DestOnlyFlow {
                dst_addr: DST_HOST,
                packets: 10,
                octets: 1000,
                first: 9_990_000,
                last: 9_999_000,
                output: 5,
                tos: 0x28,
                marked_tos: 0x48,
                extra_packets: 2,
                router_sc: ROUTER_SC,
            }]),
            flow: FlowRecord {
                dst_addr: ipv4(DST_HOST.octets()),
                out_if: 5,
                tos: 0x28,
                ..c
            },
        },
        Vector {
            scheme: Aggregation::SOURCE_DESTINATION,
            record: "cb007101 c6336401 0000000a 000003e8 00986f70 00989298 0005 0003 28 48 0000 00000002 c00002fe",
            records: V8Records::SourceDestination(vec![SrcDstFlow {
                dst_addr: DST_HOST,
                src_addr: SRC_HOST,
                packets: 10,
                octets: 1000,
                first: 9_990_000,
                last: 9_999_000,
                output: 5,
                input: 3,
                tos: 0x28,
                marked_tos: 0x48,
                reserved: 0,
                extra_packets: 2,
                router_sc: ROUTER_SC,
            }]),
            flow: FlowRecord {
                src_addr: ipv4(SRC_HOST.octets()),
                dst_addr: ipv4(DST_HOST.octets()),
                in_if: 3,
                out_if: 5,
                tos: 0x28,
                ..c
            },
        },
        Vector {
            scheme: Aggregation::FULL_FLOW,
            record: "cb007101 c6336401 0050 c350 0000000a 000003e8 00986f70 00989298 0005 0003 28 06 48 00 00000002 c00002fe",
            records: V8Records::FullFlow(vec![FullFlow {
                dst_addr: DST_HOST,
                src_addr: SRC_HOST,
                dst_port: 80,
                src_port: 50_000,
                packets: 10,
                octets: 1000,
                first: 9_990_000,
                last: 9_999_000,
                output: 5,
                input: 3,
                tos: 0x28,
                proto: 6,
                marked_tos: 0x48,
                reserved: 0,
                extra_packets: 2,
                router_sc: ROUTER_SC,
            }]),
            flow: FlowRecord {
                src_addr: ipv4(SRC_HOST.octets()),
                dst_addr: ipv4(DST_HOST.octets()),
                src_port: 50_000,
                dst_port: 80,
                proto: 6,
                in_if: 3,
                out_if: 5,
                tos: 0x28,
                ..c
            },
        },
        Vector {
            scheme: Aggregation::AS_TOS,
            record: "fde8 3b41 0003 0005 28 00 0000",
            records: V8Records::AsTos(vec![AsTosAggregate {
                totals: totals(),
                src_as: 65_000,
                dst_as: 15_169,
                input: 3,
                output: 5,
                tos: 0x28,
                pad: 0,
                reserved: 0,
            }]),
            flow: FlowRecord {
                src_as: 65_000,
                dst_as: 15_169,
                in_if: 3,
                out_if: 5,
                tos: 0x28,
                ..a
            },
        },
        Vector {
            scheme: Aggregation::PROTO_PORT_TOS,
            record: "01 28 0000 0000 0303 0003 0005",
            records: V8Records::ProtoPortTos(vec![ProtoPortTosAggregate {
                totals: totals(),
                proto: 1,
                tos: 0x28,
                reserved: 0,
                src_port: 0,
                dst_port: 0x0303,
                input: 3,
                output: 5,
            }]),
            flow: FlowRecord {
                proto: 1,
                tos: 0x28,
                dst_port: 0x0303,
                icmp_type: 3,
                icmp_code: 3,
                in_if: 3,
                out_if: 5,
                ..a
            },
        },
        Vector {
            scheme: Aggregation::SRC_PREFIX_TOS,
            record: "c6336400 18 28 fde8 0003 0000",
            records: V8Records::SrcPrefixTos(vec![SrcPrefixTosAggregate {
                totals: totals(),
                src_prefix: SRC_NET,
                src_mask: 24,
                tos: 0x28,
                src_as: 65_000,
                input: 3,
                reserved: 0,
            }]),
            flow: FlowRecord {
                src_addr: ipv4(SRC_NET.octets()),
                src_mask: 24,
                tos: 0x28,
                src_as: 65_000,
                in_if: 3,
                ..a
            },
        },
        Vector {
            scheme: Aggregation::DST_PREFIX_TOS,
            record: "cb007100 1a 28 3b41 0005 0000",
            records: V8Records::DstPrefixTos(vec![DstPrefixTosAggregate {
                totals: totals(),
                dst_prefix: DST_NET,
                dst_mask: 26,
                tos: 0x28,
                dst_as: 15_169,
                output: 5,
                reserved: 0,
            }]),
            flow: FlowRecord {
                dst_addr: ipv4(DST_NET.octets()),
                dst_mask: 26,
                tos: 0x28,
                dst_as: 15_169,
                out_if: 5,
                ..a
            },
        },
        Vector {
            scheme: Aggregation::PREFIX_TOS,
            record: "c6336400 cb007100 1a 18 28 00 fde8 3b41 0003 0005",
            records: V8Records::PrefixTos(vec![PrefixTosAggregate {
                totals: totals(),
                src_prefix: SRC_NET,
                dst_prefix: DST_NET,
                dst_mask: 26,
                src_mask: 24,
                tos: 0x28,
                pad: 0,
                src_as: 65_000,
                dst_as: 15_169,
                input: 3,
                output: 5,
            }]),
            flow: FlowRecord {
                src_addr: ipv4(SRC_NET.octets()),
                dst_addr: ipv4(DST_NET.octets()),
                src_mask: 24,
                dst_mask: 26,
                tos: 0x28,
                src_as: 65_000,
                dst_as: 15_169,
                in_if: 3,
                out_if: 5,
                ..a
            },
        },
        Vector {
            scheme: Aggregation::PREFIX_PORT,
            record: "c6336400 cb007100 1a 18 28 06 c350 0050 0003 0005",
            records: V8Records::PrefixPort(vec![PrefixPortAggregate {
                totals: totals(),
                src_prefix: SRC_NET,
                dst_prefix: DST_NET,
                dst_mask: 26,
                src_mask: 24,
                tos: 0x28,
                proto: 6,
                src_port: 50_000,
                dst_port: 80,
                input: 3,
                output: 5,
            }]),
            flow: FlowRecord {
                src_addr: ipv4(SRC_NET.octets()),
                dst_addr: ipv4(DST_NET.octets()),
                src_mask: 24,
                dst_mask: 26,
                tos: 0x28,
                proto: 6,
                src_port: 50_000,
                dst_port: 80,
                in_if: 3,
                out_if: 5,
                ..a
            },
        },
    ]
}

/// The whole datagram of a vector.
fn datagram(v: &Vector) -> Vec<u8> {
    let totals = if v.scheme.0 >= 6 && v.scheme.0 <= 8 {
        ""
    } else {
        TOTALS
    };
    hex(&format!(
        "{} {totals} {}",
        HEADER.replace("SS", &format!("{:02x}", v.scheme.0)),
        v.record
    ))
}

#[test]
fn every_scheme_has_a_vector() {
    let schemes: Vec<_> = vectors().iter().map(|v| v.scheme).collect();
    assert_eq!(schemes, Aggregation::ALL);
    assert_eq!(Aggregation::ALL.len(), 14);
}

#[test]
fn every_scheme_parses_encodes_and_consumes_its_vector() {
    for v in vectors() {
        let bytes = datagram(&v);
        assert_eq!(
            Some(bytes.len() - V8Packet::HEADER_LEN),
            v.scheme.record_len(),
            "{}",
            v.scheme
        );
        let expected = V8Packet {
            header: header(v.scheme),
            records: v.records,
        };
        roundtrip(&bytes, &expected, V8Packet::read, V8Packet::write);
    }
}

#[test]
fn every_scheme_decodes_only_its_keys() {
    for v in vectors() {
        let (decoder, batch, outcomes) = decode_all(&[&datagram(&v)]);
        assert_eq!(outcomes[0].error, None, "{}", v.scheme);
        let mut flow = batch.row(0).expect("one flow");
        let kept: Vec<_> = extra_fields(batch.blob(flow.extra_fields)).collect();
        if v.scheme.0 >= 6 && v.scheme.0 <= 8 {
            assert_eq!(
                kept,
                [ExtraField {
                    enterprise: 0,
                    id: 43,
                    value: &ROUTER_SC.octets()
                }],
                "{}",
                v.scheme
            );
        } else {
            assert!(kept.is_empty(), "{}", v.scheme);
        }
        flow.extra_fields = weir_flow::Blob::EMPTY;
        assert_eq!(flow, v.flow, "{}", v.scheme);
        let c = counters(&decoder, Dialect::NetflowV8, u32::from(v.scheme.0) << 16 | 0x0102);
        assert_eq!(
            (c.datagrams, c.records, c.total_errors()),
            (1, 1, 0),
            "{}",
            v.scheme
        );
    }
}

#[test]
fn decoded_aggregates_encode_back_to_the_same_datagram() {
    for v in vectors() {
        let (_, batch, _) = decode_all(&[&datagram(&v)]);
        let flows: Vec<_> = (0..batch.len()).filter_map(|i| batch.row(i)).collect();
        let built = v8_datagrams(&header(v.scheme), &flows).expect("a known scheme");
        assert_eq!(
            (built.datagrams.len(), built.skipped, built.next_sequence),
            (1, 0, 101),
            "{}",
            v.scheme
        );
        let mut expected = datagram(&v);
        if v.scheme.0 >= 6 && v.scheme.0 <= 8 {
            // marked ToS, extra packets and the router shortcut have no column a flow carries back.
            let end = expected.len();
            expected[end - 4..].fill(0);
            expected[end - 8..end - 4].fill(0);
            let marked = match v.scheme {
                Aggregation::DESTINATION_ONLY => end - 9,
                Aggregation::SOURCE_DESTINATION => end - 11,
                _ => end - 10,
            };
            expected[marked] = 0;
        }
        assert_eq!(built.datagrams[0], expected, "{}", v.scheme);
    }
}

#[test]
fn rejects_an_unknown_aggregation_at_its_offset() {
    let v = &vectors()[0];
    let mut bytes = datagram(v);
    bytes[22] = 15;
    let (decoder, batch, outcomes) = decode_all(&[&bytes]);
    assert_eq!(
        outcomes[0].error,
        Some(DecodeError::BadValue {
            offset: 22,
            what: "v8 aggregation",
            value: 15
        })
    );
    assert!(batch.is_empty());
    // The header never named a domain: the error is on the exporter's domain 0.
    let c = counters(&decoder, Dialect::NetflowV8, 0);
    assert_eq!(
        (c.datagrams, c.errors_of(ErrorKind::BadValue), c.records),
        (1, 1, 0)
    );
    assert_eq!(Aggregation(15).to_string(), "0x0f");
    assert_eq!(Aggregation::PREFIX_PORT.to_string(), "prefix-port");
}

#[test]
fn keeps_one_sequence_per_scheme() {
    let as_scheme = datagram(&vectors()[0]);
    let prefix = datagram(&vectors()[4]);
    // Both caches start at 100; as one sequence this would look like reordering or loss.
    let mut as_next = as_scheme.clone();
    as_next[19] = 101;
    let (decoder, batch, outcomes) = decode_all(&[&as_scheme, &prefix, &as_next]);
    assert!(outcomes.iter().all(|o| o.error.is_none()));
    assert_eq!(batch.len(), 3);
    let as_domain = counters(&decoder, Dialect::NetflowV8, 1 << 16 | 0x0102);
    let prefix_domain = counters(&decoder, Dialect::NetflowV8, 5 << 16 | 0x0102);
    assert_eq!(
        (as_domain.records, as_domain.sequence_gaps, as_domain.restarts),
        (2, 0, 0)
    );
    assert_eq!((prefix_domain.records, prefix_domain.sequence_gaps), (1, 0));
    assert!(batch.cols.observation_domain.iter().all(|&d| d == 0x0102));
}

#[test]
fn keeps_the_records_before_trailing_bytes() {
    let mut bytes = datagram(&vectors()[0]);
    bytes.extend_from_slice(&[0; 28]);
    let (decoder, batch, outcomes) = decode_all(&[&bytes]);
    assert_eq!(
        outcomes[0].error,
        Some(DecodeError::TrailingBytes {
            offset: 56,
            count: 28
        })
    );
    assert_eq!((outcomes[0].records, batch.len()), (1, 1));
    let c = counters(&decoder, Dialect::NetflowV8, 1 << 16 | 0x0102);
    assert_eq!((c.records, c.errors_of(ErrorKind::TrailingBytes)), (1, 1));
}

#[test]
fn refuses_to_encode_mismatched_or_unknown_schemes() {
    let v = vectors().swap_remove(0);
    let packet = V8Packet {
        header: header(Aggregation::PREFIX),
        records: v.records,
    };
    assert_eq!(
        packet.write(&mut Vec::new()),
        Err(super::EncodeError::AggregationMismatch {
            header: 5,
            records: 1
        })
    );
    assert_eq!(
        v8_datagrams(&header(Aggregation(0)), &[v.flow]),
        Err(super::EncodeError::UnknownAggregation(0))
    );
}

#[test]
fn splits_aggregates_at_the_scheme_maximum() {
    let flow = vectors()[0].flow;
    let flows = vec![flow; 52];
    let built = v8_datagrams(&header(Aggregation::AS), &flows).expect("a known scheme");
    let counts: Vec<_> = built
        .datagrams
        .iter()
        .map(|d| u16::from_be_bytes([d[2], d[3]]))
        .collect();
    assert_eq!(counts, [51, 1]);
    assert_eq!(built.datagrams[1][16..20], 151u32.to_be_bytes());
    assert_eq!(built.next_sequence, 152);
    let (_, batch, outcomes) = decode_all(&built.datagrams.iter().map(Vec::as_slice).collect::<Vec<_>>());
    assert!(outcomes.iter().all(|o| o.error.is_none()));
    assert_eq!(batch.len(), 52);
}

#[test]
fn record_sizes_are_the_documented_ones_and_maxima_fit_a_1500_byte_mtu() {
    let sizes: Vec<_> = Aggregation::ALL.iter().filter_map(|s| s.record_len()).collect();
    assert_eq!(sizes, [28, 28, 32, 32, 40, 32, 40, 44, 32, 32, 32, 32, 40, 40]);
    // 1500 bytes less the IPv4 and UDP headers.
    for s in Aggregation::ALL {
        let (len, max) = (s.record_len().unwrap_or(0), s.max_per_datagram().unwrap_or(0));
        assert!(V8Packet::HEADER_LEN + max * len <= 1472, "{s}");
        assert!(
            V8Packet::HEADER_LEN + (max + 1) * len > 1456,
            "{s}: room for another record"
        );
    }
    assert_eq!(Aggregation(0).record_len(), None);
}
