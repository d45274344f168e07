//! Codec vectors, each with the three checks: the parsed value is the expected one, every byte was consumed,
//! and encoding gives the same bytes back.

use std::net::{IpAddr, Ipv4Addr};

use super::{fixture, udp_payloads};
use crate::error::DecodeError;
use crate::packet::hex;
use crate::sflow::*;

fn check(bytes: &[u8], expected: &Datagram) {
    assert_eq!(&Datagram::parse(bytes).unwrap(), expected);
    let mut longer = bytes.to_vec();
    longer.extend([0; 4]);
    assert_eq!(
        Datagram::parse(&longer),
        Err(DecodeError::TrailingBytes {
            offset: bytes.len(),
            count: 4
        })
    );
    assert_eq!(expected.encode().unwrap(), bytes);
}

fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}

fn opaque(format: DataFormat, data: &[u8]) -> Opaque {
    Opaque {
        format,
        data: data.to_vec(),
    }
}

#[test]
fn goflow2_flow_sample_with_a_raw_header() {
    let bytes = fixture("goflow2/sflow_sflow_TestSFlowDecode_0.bin");
    let header = bytes[0x5c..0x5c + 78].to_vec();
    let expected = Datagram {
        header: Header {
            version: 5,
            agent: v4(172, 16, 0, 17),
            sub_agent_id: 1,
            sequence: 426,
            uptime_ms: 0x67ee_aa01,
        },
        samples: vec![Sample::Flow(FlowSample {
            head: FlowSampleHead {
                expanded: false,
                sequence: 6,
                source: SourceId { kind: 0, index: 1043 },
                sampling_rate: 2048,
                sample_pool: 0x3000,
                drops: 0,
                input: Interface {
                    format: 0,
                    value: 1194,
                },
                output: Interface {
                    format: 0,
                    value: 1043,
                },
            },
            records: vec![FlowData::RawHeader(SampledHeader {
                protocol: HeaderProtocol::ETHERNET,
                frame_length: 82,
                stripped: 4,
                header,
            })],
        })],
    };
    check(&bytes, &expected);
}

/// tcpdump's `sflow_expanded.out`: an expanded flow sample with raw header, gateway and router records.
pub(super) fn tcpdump_expanded() -> (Vec<u8>, Datagram) {
    let bytes = udp_payloads(&fixture("tcpdump/sflow_expanded.pcap")).remove(0);
    let header = bytes[0x68..0x68 + 122].to_vec();
    let hop = Some(v4(54, 54, 54, 54));
    let expected = Datagram {
        header: Header {
            version: 5,
            agent: v4(49, 49, 49, 49),
            sub_agent_id: 0,
            sequence: 115_694_180,
            uptime_ms: 3_465_002_224,
        },
        samples: vec![Sample::Flow(FlowSample {
            head: FlowSampleHead {
                expanded: true,
                sequence: 2_170_480_284,
                source: SourceId {
                    kind: 0,
                    index: 11001,
                },
                sampling_rate: 1000,
                sample_pool: 1_521_799_520,
                drops: 0,
                input: Interface {
                    format: 0,
                    value: 29001,
                },
                output: Interface {
                    format: 0,
                    value: 1_285_816_721,
                },
            },
            records: vec![
                FlowData::RawHeader(SampledHeader {
                    protocol: HeaderProtocol::ETHERNET,
                    frame_length: 126,
                    stripped: 4,
                    header,
                }),
                FlowData::Gateway(ExtendedGateway {
                    next_hop: hop,
                    as_number: 28976,
                    src_as: 203_476,
                    src_peer_as: 203_476,
                    as_path: vec![AsPathSegment {
                        kind: as_path::AS_SEQUENCE,
                        asns: vec![8218, 29605, 203_361],
                    }],
                    communities: vec![0x201a_0065, 0x71f1_0064, 0x71f1_c350, 0x71f1_c9fa],
                    local_pref: 100,
                }),
                FlowData::Router(ExtendedRouter {
                    next_hop: hop,
                    src_mask_len: 32,
                    dst_mask_len: 22,
                }),
            ],
        })],
    };
    (bytes, expected)
}

#[test]
fn tcpdump_expanded_flow_sample_with_gateway_and_router() {
    let (mut bytes, expected) = tcpdump_expanded();
    // The agent left bytes in the two bytes of XDR padding after the 122-byte header; the encoder writes
    // zeros there, as XDR says.
    assert_eq!(bytes[0x68 + 122..0x68 + 124], [0x00, 0x64]);
    bytes[0x68 + 123] = 0;
    check(&bytes, &expected);
}

fn drop_datagram(records: Vec<FlowData>) -> Datagram {
    Datagram {
        header: Header {
            version: 5,
            agent: v4(192, 168, 119, 184),
            sub_agent_id: 100_000,
            sequence: 3,
            uptime_ms: 12414,
        },
        samples: vec![Sample::Discarded(DiscardedPacket {
            head: DiscardHead {
                sequence: 2,
                source: SourceId { kind: 0, index: 1 },
                drops: 256,
                input: 1,
                output: 2,
                reason: DropReason(1),
            },
            records,
        })],
    }
}

#[test]
fn goflow2_discarded_packets() {
    let bytes = fixture("goflow2/sflow_sflow_TestSFlowDecodeDropEgressQueue_0.bin");
    check(
        &bytes,
        &drop_datagram(vec![FlowData::Unknown(opaque(
            DataFormat::EXTENDED_EGRESS_QUEUE,
            &[0, 0, 0, 42],
        ))]),
    );

    let bytes = fixture("goflow2/sflow_sflow_TestSFlowDecodeDropExtendedACL_0.bin");
    let acl = hex("0000002a 00000004 666f6f21 00000002");
    check(
        &bytes,
        &drop_datagram(vec![FlowData::Unknown(opaque(DataFormat::EXTENDED_ACL, &acl))]),
    );
}

#[test]
fn reads_a_datagram_that_ends_without_padding() {
    // goflow2's vector ends on a 10-byte record: neither it nor its sample is padded to four bytes.
    let bytes = fixture("goflow2/sflow_sflow_TestSFlowDecodeDropExtendedFunction_0.bin");
    let expected = drop_datagram(vec![FlowData::Unknown(opaque(
        DataFormat::EXTENDED_FUNCTION,
        &hex("00000006 666f6f626172"),
    ))]);
    assert_eq!(Datagram::parse(&bytes).unwrap(), expected);
    // The encoding is the padded one: sample length 52, record padded.
    let mut padded = bytes.clone();
    padded[0x23] = 0x34;
    padded.extend([0, 0]);
    check(&padded, &expected);
}

#[test]
fn v5_flow_records_and_unknown_formats() {
    let bytes = hex(
        "00000005 00000002 20010db8000000000000000000000001 00000007 0000000a 000003e8 00000002
         00000001 000000d4
           00000011 00000005 00000064 00001000 00000000 00000005 40000102 00000006
           00000002 00000018 000005ee 0011223344550000 66778899aabb0000 00000800
           00000003 00000020 000005dc 00000006 c0000201 c6336401 0000d431 00000050 00000012 00000000
           000003e9 00000010 0000000a 00000003 00000014 00000000
           000003ec 00000014 0000006a 00000003 626f6200 00000000 00000000
           000003ed 00000020 00000002 0000000e 474554202f20485454502f312e310000 00000001 78000000
           00009007 00000005 0102030405000000
         00000009 00000004 deadbeef",
    );
    let expected = Datagram {
        header: Header {
            version: 5,
            agent: "2001:db8::1".parse().unwrap(),
            sub_agent_id: 7,
            sequence: 10,
            uptime_ms: 1000,
        },
        samples: vec![
            Sample::Flow(FlowSample {
                head: FlowSampleHead {
                    expanded: false,
                    sequence: 17,
                    source: SourceId { kind: 0, index: 5 },
                    sampling_rate: 100,
                    sample_pool: 4096,
                    drops: 0,
                    input: Interface { format: 0, value: 5 },
                    output: Interface {
                        format: 1,
                        value: 258,
                    },
                },
                records: vec![
                    FlowData::Ethernet(SampledEthernet {
                        length: 1518,
                        src_mac: [0x00, 0x11, 0x22, 0x33, 0x44, 0x55],
                        dst_mac: [0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb],
                        eth_type: 0x0800,
                    }),
                    FlowData::Ipv4(SampledIpv4 {
                        length: 1500,
                        protocol: 6,
                        src: Ipv4Addr::new(192, 0, 2, 1),
                        dst: Ipv4Addr::new(198, 51, 100, 1),
                        src_port: 54321,
                        dst_port: 80,
                        tcp_flags: 0x12,
                        tos: 0,
                    }),
                    FlowData::Switch(ExtendedSwitch {
                        src_vlan: 10,
                        src_priority: 3,
                        dst_vlan: 20,
                        dst_priority: 0,
                    }),
                    FlowData::User(ExtendedUser {
                        src_charset: 106,
                        src_user: b"bob".to_vec(),
                        dst_charset: 0,
                        dst_user: vec![],
                    }),
                    FlowData::Url(ExtendedUrl {
                        direction: 2,
                        url: b"GET / HTTP/1.1".to_vec(),
                        host: b"x".to_vec(),
                    }),
                    FlowData::Unknown(opaque(DataFormat::new(9, 7), &[1, 2, 3, 4, 5])),
                ],
            }),
            Sample::Unknown(opaque(DataFormat(9), &[0xde, 0xad, 0xbe, 0xef])),
        ],
    };
    check(&bytes, &expected);
}

/// A v4 datagram: a flow sample with a header, switch, gateway (segments, communities) and URL records, and a
/// VLAN counter sample.
pub(super) fn v4_datagram() -> (Vec<u8>, Datagram) {
    let bytes = hex("00000004 00000001 0a000001 00000064 00002710 00000002
         00000001 00000001 01000002 00000200 00000400 00000000 00000003 80000002
           00000001 00000001 0000004a 00000010 ffffffffffff 001122334455 0806 0001
           00000003
           00000001 00000014 00000000 00000014 00000000
           00000003 0000fde8 00000000 00000000 00000001 00000001 00000002 0000fde9 0000fdea
                    00000001 fde80064 00000064
           00000005 00000001 00000003 61626300
         00000002 00000005 00000003 0000001e 00000007
           00000014 0000000000001000 00000001 00000002 00000003 00000004");
    let expected = Datagram {
        header: Header {
            version: 4,
            agent: v4(10, 0, 0, 1),
            sub_agent_id: 0,
            sequence: 100,
            uptime_ms: 10000,
        },
        samples: vec![
            Sample::Flow(FlowSample {
                head: FlowSampleHead {
                    expanded: false,
                    sequence: 1,
                    source: SourceId { kind: 1, index: 2 },
                    sampling_rate: 512,
                    sample_pool: 1024,
                    drops: 0,
                    input: Interface { format: 0, value: 3 },
                    output: Interface { format: 2, value: 2 },
                },
                records: vec![
                    FlowData::RawHeader(SampledHeader {
                        protocol: HeaderProtocol::ETHERNET,
                        frame_length: 74,
                        stripped: 0,
                        header: hex("ffffffffffff 001122334455 0806 0001"),
                    }),
                    FlowData::Switch(ExtendedSwitch {
                        src_vlan: 20,
                        src_priority: 0,
                        dst_vlan: 20,
                        dst_priority: 0,
                    }),
                    FlowData::Gateway(ExtendedGateway {
                        next_hop: None,
                        as_number: 65000,
                        src_as: 0,
                        src_peer_as: 0,
                        as_path: vec![AsPathSegment {
                            kind: as_path::AS_SET,
                            asns: vec![65001, 65002],
                        }],
                        communities: vec![0xfde8_0064],
                        local_pref: 100,
                    }),
                    FlowData::Url(ExtendedUrl {
                        direction: 1,
                        url: b"abc".to_vec(),
                        host: vec![],
                    }),
                ],
            }),
            Sample::Counter(CounterSample {
                head: CounterSampleHead {
                    expanded: false,
                    sequence: 5,
                    source: SourceId { kind: 0, index: 3 },
                    sampling_interval: 30,
                },
                records: vec![CounterData::Unknown(opaque(
                    DataFormat(7),
                    &hex("00000014 0000000000001000 00000001 00000002 00000003 00000004"),
                ))],
            }),
        ],
    };
    (bytes, expected)
}

#[test]
fn v4_samples_have_no_lengths() {
    let (bytes, expected) = v4_datagram();
    check(&bytes, &expected);
}

/// A v2 datagram: IPv4 packet data, router record, and a gateway whose AS path is a flat list.
pub(super) fn v2_datagram() -> (Vec<u8>, Datagram) {
    let bytes = hex("00000002 00000001 c0000202 00000001 00000002 00000001
         00000001 00000009 00000004 00000001 00000009 00000000 00000004 00000006
           00000002 00000028 00000011 0a000001 0a000002 00000035 00000035 00000000 00000000
           00000002
           00000002 00000001 0a0000fe 00000018 00000010
           00000003 00000064 000000c8 0000012c 00000002 00000190 000001f4");
    let expected = Datagram {
        header: Header {
            version: 2,
            agent: v4(192, 0, 2, 2),
            sub_agent_id: 0,
            sequence: 1,
            uptime_ms: 2,
        },
        samples: vec![Sample::Flow(FlowSample {
            head: FlowSampleHead {
                expanded: false,
                sequence: 9,
                source: SourceId { kind: 0, index: 4 },
                sampling_rate: 1,
                sample_pool: 9,
                drops: 0,
                input: Interface { format: 0, value: 4 },
                output: Interface { format: 0, value: 6 },
            },
            records: vec![
                FlowData::Ipv4(SampledIpv4 {
                    length: 40,
                    protocol: 17,
                    src: Ipv4Addr::new(10, 0, 0, 1),
                    dst: Ipv4Addr::new(10, 0, 0, 2),
                    src_port: 53,
                    dst_port: 53,
                    tcp_flags: 0,
                    tos: 0,
                }),
                FlowData::Router(ExtendedRouter {
                    next_hop: Some(v4(10, 0, 0, 254)),
                    src_mask_len: 24,
                    dst_mask_len: 16,
                }),
                FlowData::Gateway(ExtendedGateway {
                    next_hop: None,
                    as_number: 100,
                    src_as: 200,
                    src_peer_as: 300,
                    as_path: vec![AsPathSegment {
                        kind: as_path::AS_SEQUENCE,
                        asns: vec![400, 500],
                    }],
                    communities: vec![],
                    local_pref: 0,
                }),
            ],
        })],
    };
    (bytes, expected)
}

#[test]
fn v2_gateways_have_a_flat_as_path() {
    let (bytes, expected) = v2_datagram();
    check(&bytes, &expected);
}

#[test]
fn rejects_what_the_layouts_cannot_skip() {
    // A v4 sample type other than flow or counter has no length to skip it by.
    let bytes = hex("00000004 00000001 0a000001 00000001 00000002 00000001 00000003 00000000");
    assert_eq!(
        Datagram::parse(&bytes),
        Err(DecodeError::BadValue {
            offset: 24,
            what: "sample type",
            value: 3
        })
    );
    // An unknown agent address type.
    let bytes = hex("00000005 00000003 00000000");
    assert_eq!(
        Datagram::parse(&bytes),
        Err(DecodeError::BadValue {
            offset: 4,
            what: "agent address type",
            value: 3
        })
    );
    // A sample count the datagram cannot hold.
    let bytes = hex("00000005 00000001 0a000001 00000000 00000001 00000002 00000100");
    assert_eq!(
        Datagram::parse(&bytes),
        Err(DecodeError::BadLength {
            offset: 24,
            what: "sample count",
            value: 256
        })
    );
    // A record longer than its sample.
    let bytes = hex("00000005 00000001 0a000001 00000000 00000001 00000002 00000001
         00000001 00000028 00000001 00000001 00000001 00000001 00000000 00000001 00000002 00000001
         000003e9 00000010 00000001");
    assert_eq!(
        Datagram::parse(&bytes),
        Err(DecodeError::Truncated {
            offset: 76,
            needed: 16,
            available: 0
        })
    );
    assert_eq!(
        Datagram::parse(&hex("00000003")),
        Err(DecodeError::UnknownVersion {
            offset: 0,
            version: 3
        })
    );
}

#[test]
fn refuses_to_encode_what_the_version_cannot_say() {
    let (_, mut d) = v4_datagram();
    d.header.sub_agent_id = 1;
    assert!(d.encode().is_err());
    let (_, mut d) = v2_datagram();
    if let Sample::Flow(f) = &mut d.samples[0] {
        f.head.source.index = 1 << 24;
    }
    assert_eq!(
        d.encode(),
        Err(EncodeError::NotRepresentable {
            what: "compact source id",
            value: 1 << 24
        })
    );
    let (_, mut d) = v2_datagram();
    d.samples.push(Sample::Unknown(opaque(DataFormat(9), &[])));
    assert!(d.encode().is_err());
}
