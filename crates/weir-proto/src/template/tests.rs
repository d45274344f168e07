//! Behaviour of the template cache through the decoder: held data, expiry, withdrawal, redefinition,
//! limits, normalisation, options, and the export builder.

use std::net::IpAddr;

use proptest::prelude::*;
use weir_flow::{FlowBatch, FlowRecord, extra_fields, ipv4};

use crate::decoder::{Decoder, Limits};
use crate::error::{DecodeError, ErrorKind};
use crate::ipfix::{self, Message};
use crate::stats::Dialect;
use crate::template::export::{ExportBuilder, ExportError, Format};
use crate::template::testing::{EXPORTER, counters};
use crate::template::{FieldSpec, OptionsTemplateRecord, Set, TemplateRecord, VARIABLE_LENGTH};
use crate::v9;

const T0: u64 = 1_700_000_000_000_000_000;

fn ex() -> IpAddr {
    EXPORTER.parse().unwrap()
}

fn msg(seq: u32, sets: Vec<Set>) -> Vec<u8> {
    let header = ipfix::Header {
        version: 10,
        export_time: 1_700_000_000,
        sequence: seq,
        observation_domain: 1,
    };
    Message { header, sets }.encode()
}

fn templates(records: Vec<TemplateRecord>) -> Set {
    Set::Templates {
        records,
        padding: vec![],
    }
}

fn tpl(id: u16, fields: &[(u16, u16)]) -> Set {
    templates(vec![TemplateRecord {
        id,
        fields: fields.iter().map(|&(i, l)| FieldSpec::new(i, l)).collect(),
    }])
}

fn options(id: u16, scope: &[(u16, u16)], fields: &[(u16, u16)]) -> Set {
    let spec = |f: &[(u16, u16)]| f.iter().map(|&(i, l)| FieldSpec::new(i, l)).collect();
    Set::OptionsTemplates {
        records: vec![OptionsTemplateRecord {
            id,
            scope_fields: spec(scope),
            fields: spec(fields),
        }],
        padding: vec![],
    }
}

fn data(id: u16, bytes: &[u8]) -> Set {
    Set::Data {
        id,
        bytes: bytes.to_vec(),
    }
}

/// Template 256: sourceIPv4Address (4), octetDeltaCount (4).
const SRC_BYTES: &[(u16, u16)] = &[(8, 4), (1, 4)];

fn run(d: &mut Decoder, out: &mut FlowBatch, at: u64, datagram: &[u8]) -> crate::Outcome {
    d.decode(ex(), at, datagram, out)
}

#[test]
fn data_before_its_template_in_the_same_message_is_decoded_late() {
    let (mut d, mut out) = (Decoder::default(), FlowBatch::new());
    let m = msg(
        0,
        vec![data(256, &[10, 0, 0, 1, 0, 0, 0, 100]), tpl(256, SRC_BYTES)],
    );
    let o = run(&mut d, &mut out, T0, &m);
    assert_eq!((o.records, o.error), (1, None));
    assert_eq!(
        (out.cols.src_addr[0], out.cols.bytes[0]),
        (ipv4([10, 0, 0, 1]), 100)
    );
    let c = counters(&d, Dialect::Ipfix, 1);
    assert_eq!(
        (c.records, c.late_records, c.pending_sets, c.templates),
        (1, 1, 0, 1)
    );
}

#[test]
fn data_from_an_earlier_message_waits_for_its_template() {
    let (mut d, mut out) = (Decoder::default(), FlowBatch::new());
    let o = run(
        &mut d,
        &mut out,
        T0,
        &msg(
            0,
            vec![data(256, &[10, 0, 0, 1, 0, 0, 0, 100, 10, 0, 0, 2, 0, 0, 0, 7])],
        ),
    );
    assert_eq!(o.records, 0);
    assert_eq!(counters(&d, Dialect::Ipfix, 1).pending_sets, 1);
    let o = run(&mut d, &mut out, T0 + 1, &msg(0, vec![tpl(256, SRC_BYTES)]));
    assert_eq!(o.records, 2);
    // Held records keep the receive time of the datagram that carried them.
    assert_eq!(out.cols.time_received, [T0, T0]);
    let c = counters(&d, Dialect::Ipfix, 1);
    assert_eq!((c.records, c.late_records, c.pending_sets), (2, 2, 0));
    // The held message's records are unknown to the sequence check: no loss is counted for them.
    assert_eq!(c.lost_records, 0);
}

#[test]
fn held_data_expires_after_the_hold_time() {
    let limits = Limits {
        pending_hold_ns: 1000,
        ..Limits::default()
    };
    let (mut d, mut out) = (Decoder::new(limits), FlowBatch::new());
    run(&mut d, &mut out, T0, &msg(0, vec![data(300, &[1, 2, 3, 4])]));
    d.expire(T0 + 1000);
    assert_eq!(counters(&d, Dialect::Ipfix, 1).pending_sets, 1);
    d.expire(T0 + 1001);
    let c = counters(&d, Dialect::Ipfix, 1);
    assert_eq!((c.pending_sets, c.errors_of(ErrorKind::TemplateTimeout)), (0, 1));
    run(&mut d, &mut out, T0 + 2000, &msg(0, vec![tpl(300, &[(8, 4)])]));
    assert_eq!((out.len(), counters(&d, Dialect::Ipfix, 1).late_records), (0, 0));
}

#[test]
fn pending_data_is_capped_in_bytes() {
    let limits = Limits {
        max_pending_bytes: 100,
        ..Limits::default()
    };
    let (mut d, mut out) = (Decoder::new(limits), FlowBatch::new());
    let set = data(300, &[0xaa; 60]);
    run(&mut d, &mut out, T0, &msg(0, vec![set.clone(), set]));
    let c = counters(&d, Dialect::Ipfix, 1);
    assert_eq!((c.pending_sets, c.errors_of(ErrorKind::PendingOverflow)), (1, 1));
    let cache = d.domains().next().unwrap().1.template_cache().unwrap();
    assert_eq!((cache.pending_sets(), cache.pending_bytes()), (1, 60));
}

#[test]
fn withdrawal_removes_one_template_or_all() {
    let (mut d, mut out) = (Decoder::default(), FlowBatch::new());
    let setup = msg(
        0,
        vec![
            tpl(256, SRC_BYTES),
            tpl(257, &[(12, 4)]),
            options(258, &[(149, 4)], &[(160, 8)]),
        ],
    );
    run(&mut d, &mut out, T0, &setup);
    assert_eq!(counters(&d, Dialect::Ipfix, 1).templates, 3);
    run(
        &mut d,
        &mut out,
        T0,
        &msg(
            0,
            vec![templates(vec![TemplateRecord {
                id: 256,
                fields: vec![],
            }])],
        ),
    );
    assert_eq!(counters(&d, Dialect::Ipfix, 1).templates, 2);
    let o = run(
        &mut d,
        &mut out,
        T0,
        &msg(0, vec![data(256, &[10, 0, 0, 1, 0, 0, 0, 1])]),
    );
    assert_eq!(
        o.records, 0,
        "data for a withdrawn template waits for a new definition"
    );
    run(
        &mut d,
        &mut out,
        T0,
        &msg(
            0,
            vec![templates(vec![TemplateRecord {
                id: 2,
                fields: vec![],
            }])],
        ),
    );
    let cache = d.domains().next().unwrap().1.template_cache().unwrap();
    assert_eq!(
        (cache.templates(), cache.template_fields(258).map(|f| f.len())),
        (1, Some(2))
    );
    let withdraw_options = Set::OptionsTemplates {
        records: vec![OptionsTemplateRecord {
            id: 3,
            scope_fields: vec![],
            fields: vec![],
        }],
        padding: vec![],
    };
    run(&mut d, &mut out, T0, &msg(0, vec![withdraw_options]));
    assert_eq!(counters(&d, Dialect::Ipfix, 1).templates, 0);
}

#[test]
fn redefinition_replaces_the_template() {
    let (mut d, mut out) = (Decoder::default(), FlowBatch::new());
    run(&mut d, &mut out, T0, &msg(0, vec![tpl(256, SRC_BYTES)]));
    run(
        &mut d,
        &mut out,
        T0,
        &msg(0, vec![tpl(256, &[(12, 4)]), data(256, &[192, 0, 2, 7])]),
    );
    let r = out.row(0).unwrap();
    assert_eq!(
        (r.src_addr, r.dst_addr, r.bytes),
        (std::net::Ipv6Addr::UNSPECIFIED, ipv4([192, 0, 2, 7]), 0)
    );
    assert_eq!(counters(&d, Dialect::Ipfix, 1).templates, 1);
}

#[test]
fn refuses_templates_beyond_the_per_domain_limit() {
    let limits = Limits {
        max_templates_per_domain: 4,
        ..Limits::default()
    };
    let (mut d, mut out) = (Decoder::new(limits), FlowBatch::new());
    for id in 256..266 {
        let o = run(&mut d, &mut out, T0, &msg(0, vec![tpl(id, SRC_BYTES)]));
        if id >= 260 {
            assert!(matches!(
                o.error,
                Some(DecodeError::LimitReached {
                    what: "templates",
                    limit: 4,
                    offset: 20
                })
            ));
        }
    }
    let c = counters(&d, Dialect::Ipfix, 1);
    assert_eq!((c.templates, c.errors_of(ErrorKind::LimitReached)), (4, 6));
    // A known id may still be redefined.
    let o = run(&mut d, &mut out, T0, &msg(0, vec![tpl(257, &[(12, 4)])]));
    assert_eq!(o.error, None);
}

#[test]
fn refuses_field_count_bombs_before_reading_fields() {
    let (mut d, mut out) = (Decoder::default(), FlowBatch::new());
    // A field count of 60000 in a 12-byte template record: over the limit, refused by the count alone.
    let mut m = msg(0, vec![tpl(256, SRC_BYTES)]);
    m[22..24].copy_from_slice(&60_000u16.to_be_bytes());
    let o = run(&mut d, &mut out, T0, &m);
    assert_eq!(
        o.error,
        Some(DecodeError::LimitReached {
            offset: 20,
            what: "template fields",
            limit: 512
        })
    );
    // Within the limit, but more than the set holds.
    m[22..24].copy_from_slice(&300u16.to_be_bytes());
    let o = run(&mut d, &mut out, T0, &m);
    assert!(
        matches!(
            o.error,
            Some(DecodeError::BadTemplate {
                offset: 20,
                template_id: 256,
                ..
            })
        ),
        "{o:?}"
    );
    let c = counters(&d, Dialect::Ipfix, 1);
    assert_eq!(
        (
            c.templates,
            c.errors_of(ErrorKind::LimitReached),
            c.errors_of(ErrorKind::BadTemplate)
        ),
        (0, 1, 1)
    );
}

#[test]
fn refuses_zero_length_and_oversized_records() {
    let (mut d, mut out) = (Decoder::default(), FlowBatch::new());
    let o = run(
        &mut d,
        &mut out,
        T0,
        &msg(0, vec![tpl(256, &[(8, 0), (12, 0)]), data(256, &[0; 8])]),
    );
    assert_eq!(
        o.error,
        Some(DecodeError::BadTemplate {
            offset: 20,
            template_id: 256,
            reason: "zero-length record"
        })
    );
    assert_eq!(out.len(), 0);
    let v9 = v9::Packet {
        header: v9::Header {
            version: 9,
            count: 1,
            sys_uptime: 0,
            unix_secs: 0,
            sequence: 0,
            source_id: 0,
        },
        flowsets: vec![tpl(256, &[(8, 65535), (1, 65535)])],
    }
    .encode();
    let o = run(&mut d, &mut out, T0, &v9);
    assert_eq!(
        o.error,
        Some(DecodeError::BadTemplate {
            offset: 24,
            template_id: 256,
            reason: "record longer than a datagram"
        })
    );
    assert_eq!(counters(&d, Dialect::NetflowV9, 0).templates, 0);
}

#[test]
fn a_bad_set_is_counted_and_the_next_sets_still_decode() {
    let (mut d, mut out) = (Decoder::default(), FlowBatch::new());
    let m = msg(
        0,
        vec![
            data(7, &[0; 4]),
            tpl(256, &[(8, 0)]),
            tpl(257, SRC_BYTES),
            data(257, &[10, 0, 0, 1, 0, 0, 0, 9]),
        ],
    );
    let o = run(&mut d, &mut out, T0, &m);
    assert_eq!(
        o.error,
        Some(DecodeError::BadValue {
            offset: 16,
            what: "set id",
            value: 7
        })
    );
    assert_eq!(o.records, 1);
    let c = counters(&d, Dialect::Ipfix, 1);
    assert_eq!(
        (
            c.errors_of(ErrorKind::BadValue),
            c.errors_of(ErrorKind::BadTemplate),
            c.records
        ),
        (1, 1, 1)
    );
}

#[test]
fn reduced_size_and_repeated_elements() {
    let (mut d, mut out) = (Decoder::default(), FlowBatch::new());
    // octetDeltaCount in 3 bytes, packetDeltaCount in 1, ports in 1 and 2; sourceIPv4Address twice.
    let t = tpl(256, &[(1, 3), (2, 1), (7, 1), (11, 2), (8, 4), (8, 4)]);
    run(
        &mut d,
        &mut out,
        T0,
        &msg(
            0,
            vec![
                t,
                data(256, &[1, 0, 0, 9, 80, 1, 187, 10, 0, 0, 1, 10, 0, 0, 2, 0]),
            ],
        ),
    );
    let r = out.row(0).unwrap();
    assert_eq!((r.bytes, r.packets, r.src_port, r.dst_port), (65_536, 9, 80, 443));
    assert_eq!(
        r.src_addr,
        ipv4([10, 0, 0, 1]),
        "the first occurrence fills the column"
    );
    let extras: Vec<_> = extra_fields(out.blob(r.extra_fields))
        .map(|e| (e.enterprise, e.id, e.value.to_vec()))
        .collect();
    assert_eq!(extras, [(0, 8, vec![10, 0, 0, 2])]);
}

#[test]
fn normalises_codes_and_times() {
    let (mut d, mut out) = (Decoder::default(), FlowBatch::new());
    let ntp_secs = 1_700_000_000u64 + 2_208_988_800;
    let t = tpl(
        256,
        &[
            (89, 1),
            (61, 1),
            (14, 1),
            (60, 1),
            (32, 2),
            (154, 8),
            (157, 8),
            (150, 4),
        ],
    );
    // Dropped, egress, out_if 6, IPv6, ICMP echo request.
    let mut bytes = vec![0x80, 1, 6, 6, 8, 0];
    bytes.extend_from_slice(&(ntp_secs << 32 | 0x8000_0000).to_be_bytes()); // flowStartMicroseconds, +0.5 s
    bytes.extend_from_slice(&(ntp_secs << 32 | 0x4000_0000).to_be_bytes()); // flowEndNanoseconds, +0.25 s
    bytes.extend_from_slice(&1_699_999_990u32.to_be_bytes()); // flowStartSeconds: a second start, kept
    run(&mut d, &mut out, T0, &msg(0, vec![t, data(256, &bytes)]));
    let r = out.row(0).unwrap();
    assert_eq!(
        (r.forwarding_status, r.out_if, r.flow_direction),
        (0x80, 0, 2),
        "dropped flows leave no interface"
    );
    assert_eq!((r.etype, r.icmp_type, r.icmp_code), (0x86dd, 8, 0));
    assert_eq!(r.flow_start, 1_700_000_000_500_000_000);
    assert_eq!(r.flow_end, 1_700_000_000_250_000_000);
    let extras: Vec<u16> = extra_fields(out.blob(r.extra_fields)).map(|e| e.id).collect();
    assert_eq!(extras, [150]);
}

#[test]
fn icmp_type_and_code_come_from_the_destination_port_when_not_sent() {
    let (mut d, mut out) = (Decoder::default(), FlowBatch::new());
    // protocolIdentifier, destinationTransportPort: ICMP echo request (8/0) and port unreachable (3/3).
    let t = tpl(256, &[(4, 1), (11, 2)]);
    run(
        &mut d,
        &mut out,
        T0,
        &msg(0, vec![t, data(256, &[1, 8, 0, 1, 3, 3, 17, 0, 53])]),
    );
    let got: Vec<_> = (0..3)
        .map(|i| out.row(i).unwrap())
        .map(|r| (r.icmp_type, r.icmp_code))
        .collect();
    assert_eq!(got, [(8, 0), (3, 3), (0, 0)]);
}

#[test]
fn delta_microseconds_count_back_from_the_export_time() {
    let (mut d, mut out) = (Decoder::default(), FlowBatch::new());
    let t = tpl(256, &[(158, 4), (159, 4)]);
    run(
        &mut d,
        &mut out,
        T0,
        &msg(0, vec![t, data(256, &[0, 0x0f, 0x42, 0x40, 0, 0, 0, 0])]),
    );
    let r = out.row(0).unwrap();
    assert_eq!(
        (r.flow_start, r.flow_end),
        (1_699_999_999_000_000_000, 1_700_000_000_000_000_000)
    );
    assert_eq!(r.etype, 0, "no address family, no etype");
}

#[test]
fn selectors_have_their_own_rates() {
    let (mut d, mut out) = (Decoder::default(), FlowBatch::new());
    let opts = options(300, &[(302, 2)], &[(304, 1), (305, 4), (306, 4)]);
    let sel = |id: u8, space: u8| [0, id, 1, 0, 0, 0, 1, 0, 0, 0, space];
    let mut rates = sel(1, 9).to_vec();
    rates.extend_from_slice(&sel(2, 99));
    run(&mut d, &mut out, T0, &msg(0, vec![opts, data(300, &rates)]));
    let t = tpl(256, &[(8, 4), (302, 2)]);
    let flows = [10, 0, 0, 1, 0, 1, 10, 0, 0, 2, 0, 2, 10, 0, 0, 3, 0, 3];
    run(
        &mut d,
        &mut out,
        T0,
        &msg(
            2,
            vec![
                t,
                tpl(257, &[(8, 4)]),
                data(256, &flows),
                data(257, &[10, 0, 0, 4]),
            ],
        ),
    );
    assert_eq!(
        out.cols.sampling_rate,
        [10, 100, 1, 1],
        "unknown selector and no default: 1"
    );
    assert_eq!(counters(&d, Dialect::Ipfix, 1).options_records, 2);
}

#[test]
fn v9_sampler_options_and_interface_names_apply_to_flows() {
    let (mut d, mut out) = (Decoder::default(), FlowBatch::new());
    let header = v9::Header {
        version: 9,
        count: 0,
        sys_uptime: 10_000,
        unix_secs: 1_700_000_000,
        sequence: 0,
        source_id: 5,
    };
    let sampler = options(300, &[(1, 4)], &[(48, 1), (49, 1), (50, 4)]);
    let names = options(301, &[(2, 4)], &[(82, 8)]);
    let t = tpl(256, &[(10, 2), (48, 1), (22, 4), (21, 4)]);
    let packet = v9::Packet {
        header,
        flowsets: vec![
            sampler,
            names,
            t,
            data(300, &[0, 0, 0, 0, 4, 2, 0, 0, 0, 64]),
            data(301, b"\0\0\0\x03xe-0/0/1"),
            data(256, &[0, 3, 4, 0, 0, 0x03, 0xe8, 0, 0, 0x23, 0x28]),
        ],
    };
    let o = run(&mut d, &mut out, T0, &packet.encode());
    assert_eq!((o.records, o.error), (1, None));
    let r = out.row(0).unwrap();
    assert_eq!(
        (r.sampling_rate, r.in_if, out.str(r.in_if_name)),
        (64, 3, "xe-0/0/1")
    );
    // Uptime 1 s and 9 s, in a packet sent at uptime 10 s.
    assert_eq!(
        (r.flow_start, r.flow_end),
        (1_699_999_991_000_000_000, 1_699_999_999_000_000_000)
    );
    assert_eq!(counters(&d, Dialect::NetflowV9, 5).options_records, 2);
}

#[test]
fn ipfix_sequence_gaps_count_lost_records() {
    let (mut d, mut out) = (Decoder::default(), FlowBatch::new());
    run(
        &mut d,
        &mut out,
        T0,
        &msg(0, vec![tpl(256, SRC_BYTES), data(256, &[0; 16])]),
    );
    run(&mut d, &mut out, T0, &msg(2, vec![data(256, &[0; 8])]));
    run(&mut d, &mut out, T0, &msg(10, vec![data(256, &[0; 8])]));
    let c = counters(&d, Dialect::Ipfix, 1);
    assert_eq!((c.records, c.sequence_gaps, c.lost_records), (4, 1, 7));
}

fn sample_records() -> Vec<FlowRecord> {
    (0..3u8)
        .map(|i| FlowRecord {
            src_addr: ipv4([10, 0, 0, i]),
            dst_addr: ipv4([192, 0, 2, i]),
            src_port: 1000 + u16::from(i),
            dst_port: 443,
            proto: 6,
            tcp_flags: 0x1b,
            in_if: 3,
            out_if: 4,
            bytes: 1_000_000 * u64::from(i) + 40,
            packets: u64::from(i) + 1,
            flow_start: T0 - 5_000_000_000,
            flow_end: T0 - 1_000_000_000,
            src_mac: 0x0011_2233_4455,
            vlan: 42,
            flow_direction: 2,
            ..FlowRecord::default()
        })
        .collect()
}

#[test]
fn export_builder_round_trips_through_the_decoder() {
    let fields = |start: u16, end: u16, len: u16| {
        [
            (8, 4),
            (12, 4),
            (7, 2),
            (11, 2),
            (4, 1),
            (6, 1),
            (10, 4),
            (14, 4),
            (1, 4),
            (2, 8),
            (56, 6),
            (58, 2),
            (61, 1),
        ]
        .into_iter()
        .chain([(start, len), (end, len)])
        .map(|(i, l)| FieldSpec::new(i, l))
        .collect::<Vec<_>>()
    };
    for (format, f, dialect, domain) in [
        (Format::Ipfix, fields(152, 153, 8), Dialect::Ipfix, 7),
        (Format::V9, fields(22, 21, 4), Dialect::NetflowV9, 7),
    ] {
        let mut b = ExportBuilder::new(format, domain, 400, f)
            .unwrap()
            .with_sampling(50);
        let recs = sample_records();
        let first = b.datagram(&recs, T0, 3_600_000, true);
        let second = b.datagram(&recs[..1], T0 + 1_000_000_000, 3_601_000, false);
        let (mut d, mut out) = (Decoder::default(), FlowBatch::new());
        assert_eq!(run(&mut d, &mut out, T0, &first).error, None);
        assert_eq!(run(&mut d, &mut out, T0, &second).error, None);
        assert_eq!(out.len(), 4);
        for (i, want) in recs.iter().chain(&recs[..1]).enumerate() {
            let got = out.row(i).unwrap();
            let expected = FlowRecord {
                time_received: T0,
                exporter_addr: weir_flow::ip(ex()),
                observation_domain: domain,
                sampling_rate: 50,
                etype: 0x0800,
                flows: 1,
                ..*want
            };
            assert_eq!(got, expected, "{format:?} record {i}");
        }
        let c = counters(&d, dialect, domain);
        assert_eq!(
            (c.records, c.options_records, c.sequence_gaps, c.templates),
            (4, 1, 0, 2),
            "{format:?}"
        );
    }
}

#[test]
fn export_builder_refuses_fields_it_cannot_fill() {
    assert_eq!(
        ExportBuilder::new(Format::Ipfix, 0, 256, vec![FieldSpec::new(95, 4)]).unwrap_err(),
        ExportError::UnsupportedField { id: 95 }
    );
    assert_eq!(
        ExportBuilder::new(Format::V9, 0, 256, vec![FieldSpec::new(8, 16)]).unwrap_err(),
        ExportError::BadLength { id: 8, length: 16 }
    );
    assert_eq!(
        ExportBuilder::new(Format::V9, 0, 256, vec![FieldSpec::new(8, VARIABLE_LENGTH)]).unwrap_err(),
        ExportError::UnsupportedField { id: 8 }
    );
    assert_eq!(
        ExportBuilder::new(Format::V9, 0, 255, vec![]).unwrap_err(),
        ExportError::BadTemplateId(255)
    );
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(version in prop_oneof![Just(9u8), Just(10u8)], body in proptest::collection::vec(any::<u8>(), 0..600)) {
        let mut datagram = vec![0, version];
        datagram.extend_from_slice(&body);
        let (mut d, mut out) = (Decoder::default(), FlowBatch::new());
        let o = run(&mut d, &mut out, T0, &datagram);
        prop_assert_eq!(o.records, out.len());
        let _ = v9::Packet::parse(&datagram);
        let _ = Message::parse(&datagram);
        d.expire(u64::MAX);
    }

    #[test]
    fn mutated_messages_never_panic(flips in proptest::collection::vec((0usize..400, any::<u8>()), 1..8)) {
        let recs = sample_records();
        let fields = [(8, 4), (12, 4), (1, 8), (152, 8)].map(|(i, l)| FieldSpec::new(i, l)).to_vec();
        let mut b = ExportBuilder::new(Format::Ipfix, 1, 256, fields).unwrap().with_sampling(10);
        let mut m = b.datagram(&recs, T0, 1000, true);
        for (at, v) in flips {
            let len = m.len();
            m[at % len] = v;
        }
        let (mut d, mut out) = (Decoder::default(), FlowBatch::new());
        run(&mut d, &mut out, T0, &m);
        run(&mut d, &mut out, T0, &m);
        if let Ok(parsed) = Message::parse(&m) {
            prop_assert_eq!(parsed.encode(), m);
        }
    }
}
