//! The exporter's datagrams through Weir's own decoder: every field each format carries comes back, sequence
//! numbers show no gap, templates and sampling are announced and applied, datagrams fit the MTU.

use std::net::{IpAddr, Ipv6Addr};

use weir_flow::codes::{direction, end_reason, etype, forwarding, proto};
use weir_flow::{Field, FlowBatch, FlowRecord, ipv4};
use weir_proto::netflow::Aggregation;
use weir_proto::{Counters, Decoder, Dialect, DomainKey};

use super::elements::Dialect as TemplateDialect;
use super::*;
use crate::sampling::Sampling;

/// The probe's address, as collectors see it.
pub(super) const EXPORTER: [u8; 4] = [192, 0, 2, 7];
/// When the collector receives the datagrams.
const RECEIVED: u64 = 1_700_000_100_000_000_000;
/// Export time: on a millisecond, not on a second (v9 headers round to seconds).
pub(super) const NOW: u64 = 1_700_000_000_250_000_000;
/// The probe started an hour before.
pub(super) const START: u64 = NOW - 3_600_000_000_000;

const MS: u64 = 1_000_000;
const SECOND: u64 = 1_000_000_000;

/// An IPv4 TCP flow with every exported column set, to millisecond times, in ranges every format holds.
pub(super) fn flow4(i: u16) -> FlowRecord {
    let [hi, lo] = i.to_be_bytes();
    FlowRecord {
        etype: etype::IPV4,
        flow_start: NOW - 60 * SECOND + u64::from(i) * MS,
        flow_end: NOW - 2 * SECOND - u64::from(i) * MS,
        in_if: 3,
        out_if: 100 + u32::from(i),
        flow_direction: direction::INGRESS,
        forwarding_status: forwarding::FORWARDED,
        proto: proto::TCP,
        src_addr: ipv4([10, 1, hi, lo]),
        dst_addr: ipv4([192, 0, 2, 200]),
        next_hop: ipv4([10, 255, 0, 1]),
        bgp_next_hop: ipv4([198, 51, 100, 1]),
        src_port: 40_000 + i,
        dst_port: 443,
        src_mask: 16,
        dst_mask: 24,
        tos: 0x28,
        tcp_flags: 0x1b,
        vlan: 42,
        src_mac: 0x0011_2233_4455,
        dst_mac: 0x0066_7788_99aa,
        src_as: 64_512,
        dst_as: 13_335,
        flow_end_reason: end_reason::IDLE_TIMEOUT,
        bytes: 1500 * (u64::from(i) + 1),
        packets: u64::from(i) + 1,
        flows: 1,
        ..FlowRecord::default()
    }
}

/// An IPv6 flow like [`flow4`].
pub(super) fn flow6(i: u16) -> FlowRecord {
    let addr = |s: &str| s.parse::<Ipv6Addr>().unwrap();
    FlowRecord {
        etype: etype::IPV6,
        src_addr: addr(&format!("2001:db8::{i:x}")),
        dst_addr: addr("2001:db8:ffff::1"),
        next_hop: addr("fe80::1"),
        bgp_next_hop: addr("2001:db8:beef::1"),
        src_mask: 48,
        dst_mask: 64,
        ..flow4(i)
    }
}

/// An ICMP flow: type 3, code 4, no ports.
fn icmp4(i: u16) -> FlowRecord {
    FlowRecord {
        proto: proto::ICMP,
        src_port: 0,
        dst_port: 0,
        tcp_flags: 0,
        icmp_type: 3,
        icmp_code: 4,
        ..flow4(i)
    }
}

/// Every field v9 and IPFIX records can carry.
fn all_fields() -> Vec<Field> {
    vec![
        Field::flow_start,
        Field::flow_end,
        Field::in_if,
        Field::out_if,
        Field::flow_direction,
        Field::forwarding_status,
        Field::etype,
        Field::proto,
        Field::src_addr,
        Field::dst_addr,
        Field::next_hop,
        Field::bgp_next_hop,
        Field::src_port,
        Field::dst_port,
        Field::src_mask,
        Field::dst_mask,
        Field::tos,
        Field::tcp_flags,
        Field::icmp_type,
        Field::icmp_code,
        Field::vlan,
        Field::src_mac,
        Field::dst_mac,
        Field::src_as,
        Field::dst_as,
        Field::flow_end_reason,
        Field::bytes,
        Field::packets,
        Field::flows,
    ]
}

/// A collector: one decoder, the flows it decoded, the datagrams it got.
pub(super) struct Collector {
    decoder: Decoder,
    pub batch: FlowBatch,
    pub datagrams: Vec<Vec<u8>>,
    /// Flow records decoded from each datagram.
    pub records: Vec<usize>,
}

impl Collector {
    pub fn new() -> Self {
        Collector {
            decoder: Decoder::default(),
            batch: FlowBatch::new(),
            datagrams: Vec::new(),
            records: Vec::new(),
        }
    }

    /// Decodes one datagram, which must be well formed.
    pub fn take(&mut self, d: &[u8]) {
        let o = self
            .decoder
            .decode(IpAddr::from(EXPORTER), RECEIVED, d, &mut self.batch);
        assert_eq!(o.error, None, "datagram {}", self.datagrams.len());
        self.datagrams.push(d.to_vec());
        self.records.push(o.records);
    }

    pub fn flows(&self) -> Vec<FlowRecord> {
        (0..self.batch.len()).filter_map(|i| self.batch.row(i)).collect()
    }

    pub fn counters(&self, dialect: Dialect, domain: u32) -> Counters {
        let key = DomainKey {
            exporter: IpAddr::from(EXPORTER),
            dialect,
            domain,
        };
        self.decoder
            .domains()
            .find(|(k, _)| **k == key)
            .map(|(_, d)| d.counters.clone())
            .unwrap_or_else(|| panic!("no domain {key:?}"))
    }
}

/// What a collector adds to every flow.
fn received(flow: FlowRecord, domain: u32, sampling_rate: u32) -> FlowRecord {
    FlowRecord {
        time_received: RECEIVED,
        exporter_addr: ipv4(EXPORTER),
        observation_domain: domain,
        sampling_rate,
        ..flow
    }
}

fn exporter(config: ExportConfig) -> Exporter {
    Exporter::new(config, START).unwrap()
}

/// Exports `flows` at `now` and flushes, into `c`.
fn export_all(e: &mut Exporter, flows: &[FlowRecord], now: u64, c: &mut Collector) {
    e.export(flows, now, &mut |d| c.take(d));
    e.flush(now, &mut |d| c.take(d));
}

fn be16(d: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([d[at], d[at + 1]])
}

fn be32(d: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([d[at], d[at + 1], d[at + 2], d[at + 3]])
}

/// The set ids of a v9 or IPFIX datagram, in order.
fn set_ids(d: &[u8]) -> Vec<u16> {
    let mut at = if be16(d, 0) == 9 { 20 } else { 16 };
    let mut ids = Vec::new();
    while at + 4 <= d.len() {
        ids.push(be16(d, at));
        at += usize::from(be16(d, at + 2)).max(4);
    }
    ids
}

#[test]
fn v5_round_trips_every_field_it_carries_and_skips_ipv6() {
    let mut config = ExportConfig::new(ExportFormat::V5);
    (config.engine_type, config.engine_id) = (1, 3);
    config.sampling = Sampling::Deterministic(100);
    let mut e = exporter(config);
    let mut flows: Vec<FlowRecord> = (0..64).map(flow4).collect();
    flows.push(icmp4(64));
    flows.insert(10, flow6(1));
    flows.push(flow6(2));
    let mut c = Collector::new();
    export_all(&mut e, &flows, NOW, &mut c);

    let counts: Vec<u16> = c.datagrams.iter().map(|d| be16(d, 2)).collect();
    assert_eq!(counts, [30, 30, 5]);
    let v4: Vec<FlowRecord> = flows.iter().copied().filter(|f| f.etype == etype::IPV4).collect();
    let expected: Vec<FlowRecord> = v4
        .iter()
        .map(|f| {
            let carried = FlowRecord {
                etype: etype::IPV4,
                flow_start: f.flow_start,
                flow_end: f.flow_end,
                in_if: f.in_if,
                out_if: f.out_if,
                proto: f.proto,
                src_addr: f.src_addr,
                dst_addr: f.dst_addr,
                next_hop: f.next_hop,
                src_port: f.src_port,
                // v5 carries ICMP type and code in the destination port.
                dst_port: f.dst_port | u16::from(f.icmp_type) << 8 | u16::from(f.icmp_code),
                icmp_type: f.icmp_type,
                icmp_code: f.icmp_code,
                src_mask: f.src_mask,
                dst_mask: f.dst_mask,
                tos: f.tos,
                tcp_flags: f.tcp_flags,
                src_as: f.src_as,
                dst_as: f.dst_as,
                bytes: f.bytes,
                packets: f.packets,
                flows: 1,
                ..FlowRecord::default()
            };
            received(carried, 0x0103, 100)
        })
        .collect();
    assert_eq!(c.flows(), expected);
    // Mode 1 (deterministic) in the top two bits, the interval in the other fourteen.
    assert!(c.datagrams.iter().all(|d| be16(d, 22) == 0x4000 | 100));
    let seqs: Vec<u32> = c.datagrams.iter().map(|d| be32(d, 16)).collect();
    assert_eq!(seqs, [0, 30, 60]);
    let k = c.counters(Dialect::NetflowV5, 0x0103);
    assert_eq!((k.records, k.sequence_gaps, k.restarts), (65, 0, 0));
    assert_eq!(
        *e.counters(),
        ExportCounters {
            datagrams: 3,
            bytes: c.datagrams.iter().map(|d| d.len() as u64).sum(),
            flows: 65,
            skipped_ipv6: 2,
            skipped_non_ip: 0,
            template_sends: 0,
        }
    );
}

#[test]
fn v8_sends_aggregates_up_to_the_schemes_maximum() {
    let mut config = ExportConfig::new(ExportFormat::V8(Aggregation::AS));
    config.engine_id = 2;
    let mut e = exporter(config);
    let aggregates: Vec<FlowRecord> = (0..60u16)
        .map(|i| FlowRecord {
            etype: etype::IPV4,
            flow_start: NOW - 30 * SECOND + u64::from(i) * MS,
            flow_end: NOW - SECOND,
            src_as: 64_500 + u32::from(i),
            dst_as: 15_169,
            in_if: 1,
            out_if: 2 + u32::from(i),
            flows: 3 + u64::from(i),
            packets: 100 + u64::from(i),
            bytes: 150_000 + u64::from(i),
            ..FlowRecord::default()
        })
        .collect();
    let mut c = Collector::new();
    export_all(&mut e, &aggregates, NOW, &mut c);
    let max = Aggregation::AS.max_per_datagram().unwrap();
    let counts: Vec<usize> = c.datagrams.iter().map(|d| usize::from(be16(d, 2))).collect();
    assert_eq!(counts, [max, 60 - max]);
    assert_eq!(c.datagrams[0][22], 1, "the scheme");
    let expected: Vec<FlowRecord> = aggregates.iter().map(|&a| received(a, 2, 1)).collect();
    assert_eq!(c.flows(), expected);
    let domain = u32::from(Aggregation::AS.0) << 16 | 2;
    let k = c.counters(Dialect::NetflowV8, domain);
    assert_eq!((k.records, k.sequence_gaps), (60, 0));
}

/// v9 and IPFIX: IPv4, IPv6 and ICMP flows with every field, sampled, in several calls.
fn round_trip(format: ExportFormat, sampling: Sampling, dialect: Dialect) {
    let mut config = ExportConfig::new(format);
    config.domain = 77;
    config.fields = Some(all_fields());
    config.sampling = sampling;
    let mut e = exporter(config);
    let flows: Vec<FlowRecord> = (0..50)
        .map(|i| match i % 5 {
            0 => flow6(i),
            1 => icmp4(i),
            _ => flow4(i),
        })
        .collect();
    let mut c = Collector::new();
    for (n, chunk) in flows.chunks(7).enumerate() {
        e.export(chunk, NOW + n as u64 * 100 * MS, &mut |d| c.take(d));
    }
    e.flush(NOW + SECOND, &mut |d| c.take(d));

    let key = |f: &FlowRecord| (f.src_addr, f.src_port, f.proto);
    let mut got = c.flows();
    got.sort_by_key(key);
    let mut expected: Vec<FlowRecord> = flows.iter().map(|&f| received(f, 77, sampling.rate())).collect();
    expected.sort_by_key(key);
    assert_eq!(got.len(), expected.len());
    for (g, w) in got.iter().zip(&expected) {
        assert_eq!(g, w, "{format:?}");
    }
    let k = c.counters(dialect, 77);
    // Two data templates and the options template, once: the refresh is not due yet.
    assert_eq!(
        (
            k.records,
            k.templates,
            k.options_records,
            k.sequence_gaps,
            k.restarts
        ),
        (50, 3, 1, 0, 0),
        "{format:?}"
    );
    assert_eq!(e.counters().flows, 50);
    assert_eq!(e.counters().template_sends, 1);
}

#[test]
fn v9_round_trips_every_field_with_random_sampling_announced() {
    round_trip(
        ExportFormat::V9,
        Sampling::Random { n: 10, seed: 1 },
        Dialect::NetflowV9,
    );
}

#[test]
fn ipfix_round_trips_every_field_with_deterministic_sampling_announced() {
    round_trip(ExportFormat::Ipfix, Sampling::Deterministic(1000), Dialect::Ipfix);
}

#[test]
fn unsampled_streams_announce_no_options_and_carry_no_sampler() {
    for format in [ExportFormat::V9, ExportFormat::Ipfix] {
        let mut e = exporter(ExportConfig::new(format));
        let mut c = Collector::new();
        export_all(&mut e, &[flow4(1), flow6(2)], NOW, &mut c);
        assert_eq!(
            set_ids(&c.datagrams[0]),
            [if format == ExportFormat::V9 { 0 } else { 2 }, 256, 257]
        );
        assert!(c.flows().iter().all(|f| f.sampling_rate == 1), "{format:?}");
    }
}

#[test]
fn interface_names_go_out_in_options_data_and_name_the_records_interfaces() {
    for (format, dialect) in [
        (ExportFormat::V9, Dialect::NetflowV9),
        (ExportFormat::Ipfix, Dialect::Ipfix),
    ] {
        let mut config = ExportConfig::new(format);
        config.sampling = Sampling::Deterministic(100);
        config.interface_names = vec![(3, "xe-0/0/3".into()), (101, "HundredGigE0/0/0/1".into())];
        let mut e = exporter(config);
        let mut c = Collector::new();
        export_all(&mut e, &[flow4(1), flow6(0)], NOW, &mut c);
        let (template_set, options_set) = if format == ExportFormat::V9 {
            (0, 1)
        } else {
            (2, 3)
        };
        assert_eq!(
            set_ids(&c.datagrams[0]),
            [template_set, options_set, 258, options_set, 259, 256, 257],
            "{format:?}"
        );
        for f in c.flows() {
            assert_eq!(c.batch.str(f.in_if_name), "xe-0/0/3", "{format:?}");
            let out = if f.out_if == 101 { "HundredGigE0/0/0/1" } else { "" };
            assert_eq!(c.batch.str(f.out_if_name), out, "{format:?}");
            assert_eq!(f.sampling_rate, 100);
        }
        let k = c.counters(dialect, 0);
        assert_eq!(
            (k.records, k.templates, k.options_records, k.sequence_gaps),
            (2, 4, 3, 0),
            "{format:?}"
        );
        // The next datagram's sequence number counts the options records too (IPFIX) or the datagram (v9).
        export_all(&mut e, &[flow4(2)], NOW + SECOND, &mut c);
        assert_eq!(c.counters(dialect, 0).sequence_gaps, 0, "{format:?}");
    }
}

#[test]
fn sequence_numbers_count_what_each_version_counts() {
    let flows: Vec<FlowRecord> = (0..100).map(flow4).collect();
    for format in [ExportFormat::V5, ExportFormat::V9, ExportFormat::Ipfix] {
        let mut config = ExportConfig::new(format);
        config.sampling = Sampling::Deterministic(4);
        let mut e = exporter(config);
        let mut c = Collector::new();
        export_all(&mut e, &flows, NOW, &mut c);
        assert!(c.datagrams.len() > 2, "{format:?}");
        let at = match format {
            ExportFormat::V5 => 16,
            ExportFormat::V9 => 12,
            _ => 8,
        };
        let got: Vec<u32> = c.datagrams.iter().map(|d| be32(d, at)).collect();
        // v5: flows before; v9: datagrams before; IPFIX: data records before, the first datagram's
        // options record included.
        let want: Vec<u32> = (0..c.datagrams.len())
            .map(|i| match format {
                ExportFormat::V9 => i as u32,
                ExportFormat::Ipfix if i > 0 => c.records[..i].iter().sum::<usize>() as u32 + 1,
                _ => c.records[..i].iter().sum::<usize>() as u32,
            })
            .collect();
        assert_eq!(got, want, "{format:?}");
    }
}

#[test]
fn v9_refreshes_templates_every_n_datagrams() {
    let mut config = ExportConfig::new(ExportFormat::V9);
    config.refresh.packets = Some(3);
    config.sampling = Sampling::Deterministic(2);
    let mut e = exporter(config);
    let mut c = Collector::new();
    let flows: Vec<FlowRecord> = (0..400).map(flow4).collect();
    export_all(&mut e, &flows, NOW, &mut c);
    let n = c.datagrams.len();
    assert!(n >= 7, "{n} datagrams");
    let with_templates: Vec<usize> = c
        .datagrams
        .iter()
        .enumerate()
        .filter(|(_, d)| set_ids(d)[0] == 0)
        .map(|(i, _)| i)
        .collect();
    let every_third: Vec<usize> = (0..n).step_by(3).collect();
    assert_eq!(with_templates, every_third);
    let sends = every_third.len() as u64;
    assert_eq!(e.counters().template_sends, sends);
    // The decoder counts each template once (refreshes change nothing), and every options record.
    let k = c.counters(Dialect::NetflowV9, 0);
    assert_eq!((k.templates, k.options_records, k.sequence_gaps), (3, sends, 0));
}

#[test]
fn templates_are_resent_on_time_alone_when_no_flow_comes() {
    let mut e = exporter(ExportConfig::new(ExportFormat::Ipfix));
    let mut c = Collector::new();
    e.tick(NOW, &mut |d| c.take(d));
    assert_eq!(c.datagrams.len(), 1, "templates go out at start");
    assert_eq!(set_ids(&c.datagrams[0]), [2]);
    e.tick(NOW + 599 * SECOND, &mut |d| c.take(d));
    assert_eq!(c.datagrams.len(), 1);
    e.tick(NOW + 600 * SECOND, &mut |d| c.take(d));
    assert_eq!(c.datagrams.len(), 2, "600 s later");
    // A flow waiting for its datagram takes the templates along instead.
    e.export(&[flow4(1)], NOW + 1199 * SECOND, &mut |d| c.take(d));
    e.tick(NOW + 1200 * SECOND, &mut |d| c.take(d));
    assert_eq!(c.datagrams.len(), 3);
    assert_eq!(set_ids(&c.datagrams[2]), [2, 256]);
    assert_eq!(e.counters().template_sends, 3);
    assert_eq!(c.counters(Dialect::Ipfix, 0).sequence_gaps, 0);
}

#[test]
fn v9_templates_refresh_after_thirty_minutes_by_default() {
    let mut e = exporter(ExportConfig::new(ExportFormat::V9));
    let mut c = Collector::new();
    export_all(&mut e, &[flow4(1)], NOW, &mut c);
    export_all(&mut e, &[flow4(2)], NOW + 1799 * SECOND, &mut c);
    export_all(&mut e, &[flow4(3)], NOW + 1800 * SECOND, &mut c);
    let carried: Vec<bool> = c.datagrams.iter().map(|d| set_ids(d)[0] == 0).collect();
    assert_eq!(carried, [true, false, true]);
}

#[test]
fn holds_a_partial_datagram_until_the_hold_time() {
    let mut e = exporter(ExportConfig::new(ExportFormat::V5));
    let mut c = Collector::new();
    e.export(&(0..5).map(flow4).collect::<Vec<_>>(), NOW, &mut |d| c.take(d));
    e.export(&[flow4(5)], NOW + SECOND / 2, &mut |d| c.take(d));
    e.tick(NOW + SECOND - 1, &mut |d| c.take(d));
    assert_eq!(
        (c.datagrams.len(), e.pending()),
        (0, 6),
        "a later flow does not restart the wait"
    );
    e.tick(NOW + SECOND, &mut |d| c.take(d));
    assert_eq!((c.datagrams.len(), e.pending()), (1, 0));
    assert_eq!(be16(&c.datagrams[0], 2), 6);

    let mut config = ExportConfig::new(ExportFormat::V5);
    config.max_hold_ns = 0;
    let mut e = exporter(config);
    let mut sent = 0;
    e.export(&[flow4(1)], NOW, &mut |_| sent += 1);
    assert_eq!((sent, e.pending()), (1, 0), "no hold: sent at once");
}

#[test]
fn datagrams_fill_the_mtu_and_never_pass_it() {
    for (format, mtu, transport) in [
        (ExportFormat::V9, 576, Transport::Ipv4),
        (ExportFormat::Ipfix, 1500, Transport::Ipv6),
        (ExportFormat::Ipfix, 9000, Transport::Ipv4),
        (ExportFormat::V5, 1280, Transport::Ipv6),
    ] {
        let mut config = ExportConfig::new(format);
        if format.has_templates() {
            config.fields = Some(all_fields());
            config.sampling = Sampling::Deterministic(8);
        }
        (config.mtu, config.transport) = (mtu, transport);
        let mut e = exporter(config);
        let flows: Vec<FlowRecord> = (0..2000)
            .map(|i| if i % 3 == 0 { flow6(i) } else { flow4(i) })
            .collect();
        let mut c = Collector::new();
        export_all(&mut e, &flows, NOW, &mut c);
        let room = mtu - transport.overhead();
        assert!(c.datagrams.iter().all(|d| d.len() <= room), "{format:?} {mtu}");
        // Every datagram but the last is full: the next record would not have fit (IPv6 records, the
        // largest, are a third of the flows, so a full datagram has less room left than one of them).
        let largest = match format {
            ExportFormat::V5 => 48,
            _ => {
                let dialect = if format == ExportFormat::V9 {
                    TemplateDialect::V9
                } else {
                    TemplateDialect::Ipfix
                };
                let v6 = elements::template_fields(&all_fields(), dialect, Family::V6)
                    .unwrap()
                    .0;
                let sampler = announce::sampler_field(dialect);
                4 + v6
                    .iter()
                    .chain([&sampler])
                    .map(|f| usize::from(f.length))
                    .sum::<usize>()
                    + 3
            }
        };
        for d in &c.datagrams[..c.datagrams.len() - 1] {
            assert!(d.len() + largest > room, "{format:?} {mtu}: {} bytes", d.len());
        }
        assert_eq!(c.flows().len() as u64, e.counters().flows);
    }
}

#[test]
fn uptime_wraps_after_49_days_and_flows_keep_their_times() {
    // Up 2^32 ms and 5 s: the uptime has wrapped to 5000, and the flows started before the wrap.
    let start = NOW - ((1u64 << 32) + 5000) * MS;
    for (format, dialect) in [
        (ExportFormat::V5, Dialect::NetflowV5),
        (ExportFormat::V9, Dialect::NetflowV9),
    ] {
        let mut e = Exporter::new(ExportConfig::new(format), start).unwrap();
        let mut c = Collector::new();
        let flows = [flow4(1), flow4(2)];
        export_all(&mut e, &flows, NOW, &mut c);
        let d = &c.datagrams[0];
        let uptime = be32(d, 4);
        // v9 names the next whole second: 750 ms after NOW.
        let want = if format == ExportFormat::V5 { 5000 } else { 5750 };
        assert_eq!(uptime, want, "{format:?}");
        let got = c.flows();
        for (g, f) in got.iter().zip(&flows) {
            assert_eq!(
                (g.flow_start, g.flow_end),
                (f.flow_start, f.flow_end),
                "{format:?}"
            );
        }
        assert_eq!(c.counters(dialect, 0).restarts, 0);
    }
}

#[test]
fn v9_headers_name_one_instant_in_seconds_and_uptime() {
    let mut e = exporter(ExportConfig::new(ExportFormat::V9));
    let mut c = Collector::new();
    export_all(&mut e, &[flow4(1)], NOW, &mut c);
    let d = &c.datagrams[0];
    let (uptime, secs) = (u64::from(be32(d, 4)), u64::from(be32(d, 8)));
    assert_eq!(secs * SECOND, NOW.next_multiple_of(SECOND));
    assert_eq!(START + uptime * MS, secs * SECOND);
}

#[test]
fn non_ip_flows_are_skipped_and_counted() {
    let arp = FlowRecord {
        etype: etype::ARP,
        ..FlowRecord::default()
    };
    for format in [ExportFormat::V5, ExportFormat::Ipfix] {
        let mut e = exporter(ExportConfig::new(format));
        let mut c = Collector::new();
        export_all(&mut e, &[arp, flow4(1)], NOW, &mut c);
        assert_eq!(c.flows().len(), 1);
        assert_eq!((e.counters().skipped_non_ip, e.counters().flows), (1, 1));
    }
}

#[test]
fn refuses_configs_it_cannot_honour() {
    let with = |format, f: fn(&mut ExportConfig)| {
        let mut c = ExportConfig::new(format);
        f(&mut c);
        Exporter::new(c, START).unwrap_err()
    };
    use ExportConfigError as E;
    assert_eq!(
        with(ExportFormat::V8(Aggregation(15)), |_| {}),
        E::UnknownAggregation(15)
    );
    assert_eq!(
        with(ExportFormat::V5, |c| c.fields = Some(vec![Field::bytes])),
        E::FieldsWithFixedLayout
    );
    assert_eq!(
        with(ExportFormat::V5, |c| c.interface_names =
            vec![(1, "ge-0/0/0".into())]),
        E::InterfaceNamesWithFixedLayout
    );
    assert_eq!(
        with(ExportFormat::V9, |c| c.engine_id = 1),
        E::EngineWithTemplates
    );
    assert_eq!(
        with(ExportFormat::V5, |c| c.domain = 9),
        E::DomainWithoutTemplates(9)
    );
    assert_eq!(
        with(ExportFormat::V5, |c| c.sampling = Sampling::Deterministic(20_000)),
        E::V5SamplingInterval(20_000)
    );
    assert_eq!(
        with(ExportFormat::V8(Aggregation::AS), |c| c.sampling =
            Sampling::Deterministic(10)),
        E::V8Sampling
    );
    assert_eq!(
        with(ExportFormat::Ipfix, |c| c.sampling = Sampling::Deterministic(0)),
        E::ZeroSamplingInterval
    );
    assert_eq!(
        with(ExportFormat::V9, |c| c.refresh.packets = Some(0)),
        E::ZeroRefreshPackets
    );
    assert_eq!(
        with(ExportFormat::Ipfix, |c| c.refresh.interval_ns = 0),
        E::ZeroRefreshInterval
    );
    assert_eq!(with(ExportFormat::V9, |c| c.fields = Some(vec![])), E::NoFields);
    assert_eq!(
        with(ExportFormat::Ipfix, |c| c.fields = Some(vec![Field::app])),
        E::FieldNotExportable {
            field: "app",
            why: "it is set by the collector or by enrichment, not observed by the probe"
        }
    );
    assert_eq!(with(ExportFormat::V5, |c| c.mtu = 70_000), E::MtuTooLarge(70_000));
    assert_eq!(
        with(ExportFormat::V5, |c| c.mtu = 99),
        E::MtuTooSmall {
            mtu: 99,
            needed: 28 + 24 + 48
        }
    );
    let small = with(ExportFormat::V9, |c| c.mtu = 200);
    assert!(
        matches!(small, E::MtuTooSmall { mtu: 200, needed } if needed > 200),
        "{small}"
    );
}
