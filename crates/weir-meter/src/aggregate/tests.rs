use std::net::{IpAddr, Ipv6Addr};
use std::time::Duration;

use proptest::prelude::*;
use weir_flow::codes::{end_reason, etype, proto};
use weir_flow::{FlowBatch, FlowRecord, ip, ipv4};
use weir_proto::Decoder;
use weir_proto::netflow::{ExportClock, V8Header, v8_datagrams};
use weir_proto::template::FieldSpec;
use weir_proto::template::export::{ExportBuilder, Format};

use super::*;
use crate::routes::RoutingTable;

const SEC: u64 = 1_000_000_000;
/// A time flows happen around, on a whole millisecond so that NetFlow's millisecond stamps keep it.
const T0: u64 = 1_700_000_000 * SEC;

fn addr(s: &str) -> Ipv6Addr {
    ip(s.parse::<IpAddr>().expect("an address"))
}

/// A flow as the main cache hands it over, annotated by the routing table: every field a scheme may keep
/// is set, and some no scheme keeps.
fn flow() -> FlowRecord {
    FlowRecord {
        flow_start: T0,
        flow_end: T0 + 2 * SEC,
        etype: etype::IPV4,
        sampling_rate: 1,
        in_if: 3,
        out_if: 7,
        src_addr: addr("10.1.2.3"),
        dst_addr: addr("192.0.2.77"),
        src_mask: 16,
        dst_mask: 24,
        src_as: 64512,
        dst_as: 64999,
        src_port: 40000,
        dst_port: 443,
        proto: proto::TCP,
        tos: 0x28,
        tcp_flags: 0x1b,
        vlan: 10,
        src_mac: 0x0200_0000_0001,
        dst_mac: 0x0200_0000_0002,
        next_hop: addr("192.0.2.1"),
        bgp_next_hop: addr("198.51.100.9"),
        packets: 10,
        bytes: 1500,
        flows: 1,
        flow_end_reason: end_reason::IDLE_TIMEOUT,
        ..FlowRecord::default()
    }
}

fn cache(config: AggregateConfig) -> AggregationCache {
    AggregationCache::new(config).expect("a valid configuration")
}

fn rows(batch: &FlowBatch) -> Vec<FlowRecord> {
    (0..batch.len()).filter_map(|i| batch.row(i)).collect()
}

/// A change to a flow, by the name of what it changes.
type Change = (&'static str, fn(&mut FlowRecord));

/// Changes to a flow, one field at a time.
const CHANGES: &[Change] = &[
    ("src host", |f| f.src_addr = addr("10.1.200.1")),
    ("src prefix", |f| f.src_addr = addr("10.2.2.3")),
    ("src mask", |f| f.src_mask = 17),
    ("dst host", |f| f.dst_addr = addr("192.0.2.78")),
    ("dst prefix", |f| f.dst_addr = addr("192.0.3.77")),
    ("dst mask", |f| f.dst_mask = 25),
    ("src as", |f| f.src_as = 1),
    ("dst as", |f| f.dst_as = 2),
    ("in if", |f| f.in_if = 4),
    ("out if", |f| f.out_if = 8),
    ("tos", |f| f.tos = 0),
    ("proto", |f| f.proto = proto::UDP),
    ("src port", |f| f.src_port = 40001),
    ("dst port", |f| f.dst_port = 80),
    ("bgp next hop", |f| f.bgp_next_hop = addr("198.51.100.10")),
    ("next hop", |f| f.next_hop = addr("192.0.2.2")),
    ("tcp flags", |f| f.tcp_flags = 0x02),
    ("vlan", |f| f.vlan = 11),
    ("macs", |f| f.src_mac = 0x0200_0000_0099),
    ("etype", |f| {
        f.etype = etype::IPV6;
        f.src_addr = addr("2001:db8::1");
    }),
    ("sampling rate", |f| f.sampling_rate = 100),
];

/// The changes that make a flow go to another aggregate than [`flow`]'s under `scheme`.
fn splitting(scheme: Scheme) -> Vec<&'static str> {
    CHANGES
        .iter()
        .filter(|(_, change)| {
            let mut c = cache(AggregateConfig::new(scheme));
            let mut out: Vec<FlowRecord> = Vec::new();
            let mut other = flow();
            change(&mut other);
            c.add(&flow(), &mut out);
            c.add(&other, &mut out);
            c.len() == 2
        })
        .map(|(name, _)| *name)
        .collect()
}

/// The aggregate of [`flow`] alone under `scheme`.
fn aggregate_of_one(scheme: Scheme) -> FlowRecord {
    let mut c = cache(AggregateConfig::new(scheme));
    let mut out: Vec<FlowRecord> = Vec::new();
    c.add(&flow(), &mut out);
    c.flush(&mut out);
    let mut got = out.clone();
    assert_eq!(got.len(), 1);
    got.remove(0)
}

/// What every aggregate of [`flow`] holds besides its scheme's keys.
fn totals() -> FlowRecord {
    FlowRecord {
        flow_start: T0,
        flow_end: T0 + 2 * SEC,
        etype: etype::IPV4,
        sampling_rate: 1,
        packets: 10,
        bytes: 1500,
        flows: 1,
        flow_end_reason: end_reason::FORCED_END,
        ..FlowRecord::default()
    }
}

/// Changes every scheme splits on: another network layer, another sampling rate.
const ALWAYS: [&str; 2] = ["etype", "sampling rate"];

fn check_scheme(scheme: Scheme, splits: &[&str], record: FlowRecord) {
    let want: Vec<_> = splits.iter().chain(&ALWAYS).copied().collect();
    assert_eq!(splitting(scheme), want, "{scheme}");
    assert_eq!(aggregate_of_one(scheme), record, "{scheme}");
}

#[test]
fn as_scheme_keys_on_ases_and_interfaces() {
    check_scheme(
        Scheme::As,
        &["src as", "dst as", "in if", "out if"],
        FlowRecord {
            src_as: 64512,
            dst_as: 64999,
            in_if: 3,
            out_if: 7,
            ..totals()
        },
    );
}

#[test]
fn as_tos_scheme_keys_on_ases_interfaces_and_tos() {
    check_scheme(
        Scheme::AsTos,
        &["src as", "dst as", "in if", "out if", "tos"],
        FlowRecord {
            src_as: 64512,
            dst_as: 64999,
            in_if: 3,
            out_if: 7,
            tos: 0x28,
            ..totals()
        },
    );
}

#[test]
fn bgp_nexthop_tos_scheme_keys_on_ases_interfaces_tos_and_bgp_next_hop() {
    check_scheme(
        Scheme::BgpNextHopTos,
        &["src as", "dst as", "in if", "out if", "tos", "bgp next hop"],
        FlowRecord {
            src_as: 64512,
            dst_as: 64999,
            in_if: 3,
            out_if: 7,
            tos: 0x28,
            bgp_next_hop: addr("198.51.100.9"),
            ..totals()
        },
    );
}

#[test]
fn destination_prefix_scheme_keys_on_masked_destination_as_and_output_interface() {
    check_scheme(
        Scheme::DestinationPrefix,
        &["dst prefix", "dst mask", "dst as", "out if"],
        FlowRecord {
            dst_addr: addr("192.0.2.0"),
            dst_mask: 24,
            dst_as: 64999,
            out_if: 7,
            ..totals()
        },
    );
}

#[test]
fn destination_prefix_tos_scheme_adds_the_tos() {
    check_scheme(
        Scheme::DestinationPrefixTos,
        &["dst prefix", "dst mask", "dst as", "out if", "tos"],
        FlowRecord {
            dst_addr: addr("192.0.2.0"),
            dst_mask: 24,
            dst_as: 64999,
            out_if: 7,
            tos: 0x28,
            ..totals()
        },
    );
}

/// The prefix matrix's keys of [`flow`].
fn matrix() -> FlowRecord {
    FlowRecord {
        src_addr: addr("10.1.0.0"),
        src_mask: 16,
        dst_addr: addr("192.0.2.0"),
        dst_mask: 24,
        in_if: 3,
        out_if: 7,
        ..totals()
    }
}

#[test]
fn prefix_scheme_keys_on_both_masked_prefixes_ases_and_interfaces() {
    check_scheme(
        Scheme::Prefix,
        &[
            "src prefix",
            "src mask",
            "dst prefix",
            "dst mask",
            "src as",
            "dst as",
            "in if",
            "out if",
        ],
        FlowRecord {
            src_as: 64512,
            dst_as: 64999,
            ..matrix()
        },
    );
}

#[test]
fn prefix_tos_scheme_adds_the_tos() {
    check_scheme(
        Scheme::PrefixTos,
        &[
            "src prefix",
            "src mask",
            "dst prefix",
            "dst mask",
            "src as",
            "dst as",
            "in if",
            "out if",
            "tos",
        ],
        FlowRecord {
            src_as: 64512,
            dst_as: 64999,
            tos: 0x28,
            ..matrix()
        },
    );
}

#[test]
fn prefix_port_scheme_keys_on_masked_prefixes_and_ports_without_ases() {
    check_scheme(
        Scheme::PrefixPort,
        &[
            "src prefix",
            "src mask",
            "dst prefix",
            "dst mask",
            "in if",
            "out if",
            "tos",
            "proto",
            "src port",
            "dst port",
        ],
        FlowRecord {
            tos: 0x28,
            proto: proto::TCP,
            src_port: 40000,
            dst_port: 443,
            ..matrix()
        },
    );
}

#[test]
fn protocol_port_scheme_keys_on_protocol_and_ports_only() {
    check_scheme(
        Scheme::ProtocolPort,
        &["proto", "src port", "dst port"],
        FlowRecord {
            proto: proto::TCP,
            src_port: 40000,
            dst_port: 443,
            ..totals()
        },
    );
}

#[test]
fn protocol_port_tos_scheme_adds_tos_and_interfaces() {
    check_scheme(
        Scheme::ProtocolPortTos,
        &["in if", "out if", "tos", "proto", "src port", "dst port"],
        FlowRecord {
            proto: proto::TCP,
            src_port: 40000,
            dst_port: 443,
            tos: 0x28,
            in_if: 3,
            out_if: 7,
            ..totals()
        },
    );
}

#[test]
fn source_prefix_scheme_keys_on_masked_source_as_and_input_interface() {
    check_scheme(
        Scheme::SourcePrefix,
        &["src prefix", "src mask", "src as", "in if"],
        FlowRecord {
            src_addr: addr("10.1.0.0"),
            src_mask: 16,
            src_as: 64512,
            in_if: 3,
            ..totals()
        },
    );
}

#[test]
fn source_prefix_tos_scheme_adds_the_tos() {
    check_scheme(
        Scheme::SourcePrefixTos,
        &["src prefix", "src mask", "src as", "in if", "tos"],
        FlowRecord {
            src_addr: addr("10.1.0.0"),
            src_mask: 16,
            src_as: 64512,
            in_if: 3,
            tos: 0x28,
            ..totals()
        },
    );
}

#[test]
fn icmp_type_and_code_aggregate_as_the_destination_port() {
    let icmp = |dst_port, icmp_type, icmp_code| FlowRecord {
        proto: proto::ICMP,
        src_port: 0,
        dst_port,
        icmp_type,
        icmp_code,
        ..flow()
    };
    let mut c = cache(AggregateConfig::new(Scheme::ProtocolPort));
    let mut out: Vec<FlowRecord> = Vec::new();
    c.add(&icmp(0, 3, 4), &mut out);
    c.add(&icmp(0x0304, 0, 0), &mut out);
    c.add(&icmp(0, 8, 0), &mut out);
    c.flush(&mut out);
    let got: Vec<_> = out
        .clone()
        .iter()
        .map(|r| (r.dst_port, r.icmp_type, r.icmp_code, r.flows))
        .collect();
    assert_eq!(got, [(0x0304, 3, 4, 2), (0x0800, 8, 0, 1)]);
}

#[test]
fn scheme_names_are_ciscos() {
    let names: Vec<_> = Scheme::ALL.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        names,
        [
            "as",
            "as-tos",
            "bgp-nexthop-tos",
            "destination-prefix",
            "destination-prefix-tos",
            "prefix",
            "prefix-port",
            "prefix-tos",
            "protocol-port",
            "protocol-port-tos",
            "source-prefix",
            "source-prefix-tos"
        ]
    );
    for s in Scheme::ALL {
        assert_eq!(s.name().parse::<Scheme>(), Ok(s));
    }
    assert_eq!(
        "full-flow".parse::<Scheme>(),
        Err(UnknownScheme("full-flow".into()))
    );
}

#[test]
fn minimum_mask_raises_shorter_route_masks() {
    let mut config = AggregateConfig::new(Scheme::Prefix);
    config.src_min_mask = 24;
    config.dst_min_mask = 20;
    let mut c = cache(config);
    let mut out: Vec<FlowRecord> = Vec::new();
    // Source route /16 is raised to /24, so these two split; destination /24 is longer than 20 and stays.
    c.add(&flow(), &mut out);
    c.add(
        &FlowRecord {
            src_addr: addr("10.1.9.9"),
            ..flow()
        },
        &mut out,
    );
    // No route at all (mask 0): the minimum still applies.
    c.add(
        &FlowRecord {
            dst_addr: addr("203.0.113.200"),
            dst_mask: 0,
            ..flow()
        },
        &mut out,
    );
    c.flush(&mut out);
    let got: Vec<_> = out
        .clone()
        .iter()
        .map(|r| (r.src_addr, r.src_mask, r.dst_addr, r.dst_mask))
        .collect();
    assert_eq!(
        got,
        [
            (addr("10.1.2.0"), 24, addr("192.0.2.0"), 24),
            (addr("10.1.9.0"), 24, addr("192.0.2.0"), 24),
            (addr("10.1.2.0"), 24, addr("203.0.112.0"), 20),
        ]
    );
}

#[test]
fn minimum_masks_only_for_schemes_that_keep_the_prefix() {
    let mut config = AggregateConfig::new(Scheme::DestinationPrefix);
    config.src_min_mask = 8;
    assert_eq!(
        AggregationCache::new(config).err(),
        Some(ConfigError::MaskWithoutPrefix {
            scheme: Scheme::DestinationPrefix,
            side: "source"
        })
    );
    let mut config = AggregateConfig::new(Scheme::SourcePrefix);
    config.src_min_mask = 129;
    assert_eq!(
        AggregationCache::new(config).err(),
        Some(ConfigError::MaskTooLong {
            side: "source",
            mask: 129
        })
    );
    let mut config = AggregateConfig::new(Scheme::As);
    config.entries = 0;
    assert_eq!(AggregationCache::new(config).err(), Some(ConfigError::Entries(0)));
    config.entries = MAX_ENTRIES + 1;
    assert_eq!(
        AggregationCache::new(config).err(),
        Some(ConfigError::Entries(MAX_ENTRIES + 1))
    );
}

#[test]
fn defaults_are_ciscos() {
    let config = AggregateConfig::new(Scheme::As);
    assert_eq!(config.entries, 4096);
    assert_eq!(config.inactive_timeout, Duration::from_secs(15));
    assert_eq!(config.active_timeout, Duration::from_secs(1800));
    assert_eq!((config.src_min_mask, config.dst_min_mask), (0, 0));
}

/// A flow to `port` that ended at `end` seconds after [`T0`].
fn at(port: u16, end: u64) -> FlowRecord {
    FlowRecord {
        dst_port: port,
        flow_start: T0 + end * SEC - SEC,
        flow_end: T0 + end * SEC,
        ..flow()
    }
}

#[test]
fn inactive_timeout_runs_on_the_flows_clock() {
    let mut c = cache(AggregateConfig::new(Scheme::ProtocolPort));
    let mut out: Vec<FlowRecord> = Vec::new();
    c.add(&at(80, 100), &mut out);
    c.add(&at(443, 105), &mut out);
    c.add(&at(80, 110), &mut out);
    c.expire(T0 + 119 * SEC, &mut out);
    assert!(out.is_empty());
    c.expire(T0 + 120 * SEC, &mut out);
    let got: Vec<_> = out
        .clone()
        .iter()
        .map(|r| (r.dst_port, r.flows, r.flow_end_reason))
        .collect();
    assert_eq!(got, [(443, 1, end_reason::IDLE_TIMEOUT)]);
    // A later flow moves the clock on by itself; expire(0) does not move it back.
    c.add(&at(22, 125), &mut out);
    c.expire(0, &mut out);
    let got: Vec<_> = out.clone().iter().map(|r| (r.dst_port, r.flows)).collect();
    assert_eq!(got, [(443, 1), (80, 2)]);
    let r = out.clone()[1];
    assert_eq!((r.flow_start, r.flow_end), (T0 + 99 * SEC, T0 + 110 * SEC));
    let counters = c.counters();
    assert_eq!(
        (
            counters.flows,
            counters.created,
            counters.expired_inactive,
            counters.entries
        ),
        (4, 3, 2, 1)
    );
}

#[test]
fn active_timeout_exports_busy_aggregates() {
    let mut config = AggregateConfig::new(Scheme::ProtocolPort);
    config.active_timeout = Duration::from_secs(60);
    let mut c = cache(config);
    let mut out: Vec<FlowRecord> = Vec::new();
    for end in (0..=70).step_by(10) {
        c.add(&at(80, 100 + end), &mut out);
        c.expire(T0 + (100 + end) * SEC, &mut out);
    }
    // Made at 100 s, due at 160 s: exported with the flows up to then; the flow at 170 s starts another.
    let got: Vec<_> = out
        .clone()
        .iter()
        .map(|r| (r.flows, r.packets, r.flow_end, r.flow_end_reason))
        .collect();
    assert_eq!(got, [(7, 70, T0 + 160 * SEC, end_reason::ACTIVE_TIMEOUT)]);
    assert_eq!((c.len(), c.counters().expired_active), (1, 1));
}

#[test]
fn a_full_cache_exports_the_least_recently_updated_aggregate() {
    let mut config = AggregateConfig::new(Scheme::ProtocolPort);
    config.entries = 2;
    let mut c = cache(config);
    let mut out: Vec<FlowRecord> = Vec::new();
    c.add(&at(1, 10), &mut out);
    c.add(&at(2, 11), &mut out);
    c.add(&at(1, 12), &mut out);
    assert!(out.is_empty());
    c.add(&at(3, 13), &mut out);
    let got: Vec<_> = out
        .clone()
        .iter()
        .map(|r| (r.dst_port, r.flow_end_reason))
        .collect();
    assert_eq!(got, [(2, end_reason::LACK_OF_RESOURCES)]);
    c.add(&at(4, 14), &mut out);
    c.flush(&mut out);
    let got: Vec<_> = out
        .clone()
        .iter()
        .map(|r| (r.dst_port, r.flows, r.flow_end_reason))
        .collect();
    assert_eq!(
        got,
        [
            (2, 1, end_reason::LACK_OF_RESOURCES),
            (1, 2, end_reason::LACK_OF_RESOURCES),
            (3, 1, end_reason::FORCED_END),
            (4, 1, end_reason::FORCED_END),
        ]
    );
    let counters = c.counters();
    assert_eq!(
        (
            counters.flows,
            counters.created,
            counters.evicted_full,
            counters.flushed,
            counters.entries
        ),
        (5, 4, 2, 2, 0)
    );
    assert_eq!(counters.exported(), 4);
    assert!(c.is_empty());
}

#[test]
fn a_running_cache_allocates_nothing_more() {
    let mut config = AggregateConfig::new(Scheme::PrefixPort);
    config.entries = 64;
    let mut c = cache(config);
    let before = c.heap_bytes();
    assert!(before >= 64 * AggregationCache::entry_bytes());
    let mut out: Vec<FlowRecord> = Vec::new();
    for i in 0..100_000u64 {
        let f = FlowRecord {
            src_port: (i % 1000) as u16,
            dst_addr: ipv4((i as u32).to_be_bytes()),
            dst_mask: 32,
            ..at(1, 10 + i / 100)
        };
        c.add(&f, &mut out);
        if i % 997 == 0 {
            c.expire(f.flow_end, &mut out);
        }
    }
    assert_eq!(c.heap_bytes(), before);
    c.flush(&mut out);
    assert_eq!(c.heap_bytes(), before);
    assert_eq!(c.counters().exported(), out.len() as u64);
}

/// Flows of many kinds, annotated by a routing table, as the main cache would hand them over.
fn traffic() -> Vec<FlowRecord> {
    let routes = RoutingTable::parse(
        "routes.txt",
        b"10.0.0.0/8 64500 192.0.2.1 198.51.100.1\n\
          10.1.0.0/16 64501 192.0.2.2 198.51.100.2\n\
          172.16.0.0/12 64502 192.0.2.3 198.51.100.3\n\
          192.0.2.0/24 64503 - 198.51.100.4\n\
          2001:db8::/32 64504 - 2001:db8::ffff\n",
    )
    .expect("the table parses");
    let mut flows = Vec::new();
    for i in 0..400u32 {
        let [a, b, c, d] = i.to_be_bytes();
        let mut f = FlowRecord {
            flow_start: T0 + u64::from(i) * 7_000_000,
            flow_end: T0 + u64::from(i) * 11_000_000,
            etype: etype::IPV4,
            sampling_rate: 1,
            src_addr: ipv4([10, c % 3, d, 1]),
            dst_addr: ipv4([[172, 192, 10, 8][usize::from(d % 4)], 16 + b, c, d]),
            in_if: u32::from(d % 3),
            out_if: u32::from(d % 5),
            proto: [proto::TCP, proto::UDP, proto::ICMP][usize::from(d % 3)],
            src_port: u16::from(d % 7),
            dst_port: [80, 443, 0][usize::from(d % 3)],
            icmp_type: if d % 3 == 2 { d % 4 } else { 0 },
            tos: (d % 2) * 0x20,
            packets: u64::from(i) + 1,
            bytes: u64::from(i) * 100 + 40,
            flows: 1,
            ..FlowRecord::default()
        };
        let _ = a;
        routes.annotate(&mut f);
        flows.push(f);
    }
    let mut v6 = flows[0];
    v6.etype = etype::IPV6;
    v6.src_addr = addr("2001:db8::1");
    v6.dst_addr = addr("2001:db8::2");
    routes.annotate(&mut v6);
    flows.push(v6);
    flows
}

/// The aggregates of [`traffic`] under `scheme`, as flushed.
fn aggregates(scheme: Scheme) -> Vec<FlowRecord> {
    let mut c = cache(AggregateConfig::new(scheme));
    let mut out: Vec<FlowRecord> = Vec::new();
    for f in traffic() {
        c.add(&f, &mut out);
    }
    c.flush(&mut out);
    out.clone()
}

/// Decodes `datagrams` and puts back what the wire does not carry (the collector's columns, the end reason),
/// so the result compares with the aggregates.
fn decode(datagrams: &[Vec<u8>]) -> Vec<FlowRecord> {
    let mut decoder = Decoder::default();
    let mut batch = FlowBatch::new();
    for d in datagrams {
        let outcome = decoder.decode(IpAddr::from([192, 0, 2, 10]), T0 + 3600 * SEC, d, &mut batch);
        assert_eq!(outcome.error, None);
    }
    rows(&batch)
        .into_iter()
        .map(|r| FlowRecord {
            time_received: 0,
            exporter_addr: Ipv6Addr::UNSPECIFIED,
            observation_domain: 0,
            flow_end_reason: end_reason::FORCED_END,
            ..r
        })
        .collect()
}

/// Asserts that two lists of records are equal, showing the first difference rather than both lists.
fn assert_same(got: &[FlowRecord], want: &[FlowRecord], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: records");
    if let Some(i) = (0..got.len()).find(|&i| got[i] != want[i]) {
        panic!(
            "{what}: record {i} differs:\n got {:?}\nwant {:?}",
            got[i], want[i]
        );
    }
}

#[test]
fn v8_datagrams_carry_every_v8_scheme_and_decode_back_to_the_same_aggregates() {
    for scheme in Scheme::ALL {
        let Some(aggregation) = scheme.v8() else {
            continue;
        };
        let aggregates = aggregates(scheme);
        let header = V8Header {
            clock: ExportClock::at(T0 + 60 * SEC, 3_600_000),
            flow_sequence: 0,
            engine_type: 0,
            engine_id: 0,
            aggregation,
            agg_version: 2,
            reserved: 0,
        };
        let built = v8_datagrams(&header, &aggregates).expect("a known scheme");
        // IPv6 aggregates have no v8 layout: they are the ones left out.
        let v4: Vec<_> = aggregates
            .iter()
            .copied()
            .filter(|a| a.etype == etype::IPV4)
            .collect();
        assert_eq!(built.skipped, aggregates.len() - v4.len(), "{scheme}");
        assert!(
            v4.len() > 1 && built.skipped == 1,
            "{scheme}: {} aggregates",
            v4.len()
        );
        assert_same(&decode(&built.datagrams), &v4, scheme.name());
        assert_eq!(
            v4.iter().map(|a| a.packets).sum::<u64>(),
            traffic()
                .iter()
                .filter(|f| f.etype == etype::IPV4)
                .map(|f| f.packets)
                .sum::<u64>()
        );
    }
}

#[test]
fn bgp_nexthop_tos_aggregates_go_out_in_ipfix_and_decode_back() {
    let aggregates: Vec<_> = aggregates(Scheme::BgpNextHopTos)
        .into_iter()
        .filter(|a| a.etype == etype::IPV4)
        .collect();
    assert!(aggregates.len() > 1);
    let fields = [
        (3, 8),
        (2, 8),
        (1, 8),
        (152, 8),
        (153, 8),
        (16, 4),
        (17, 4),
        (10, 4),
        (14, 4),
        (5, 1),
        (18, 4),
        (256, 2),
    ]
    .map(|(id, len)| FieldSpec::new(id, len))
    .to_vec();
    let mut builder = ExportBuilder::new(Format::Ipfix, 0, 256, fields).expect("exportable fields");
    let datagram = builder.datagram(&aggregates, T0 + 60 * SEC, 3_600_000, true);
    // Aggregates of flows without a route have no BGP next hop, which the 4-byte field can only say as 0.0.0.0.
    let none = ipv4([0, 0, 0, 0]);
    let decoded: Vec<_> = decode(&[datagram])
        .into_iter()
        .map(|r| FlowRecord {
            bgp_next_hop: if r.bgp_next_hop == none {
                Ipv6Addr::UNSPECIFIED
            } else {
                r.bgp_next_hop
            },
            ..r
        })
        .collect();
    assert!(aggregates.iter().any(|a| a.bgp_next_hop.is_unspecified()));
    assert_same(&decoded, &aggregates, "bgp-nexthop-tos");
}

proptest! {
    #[test]
    fn aggregates_keep_every_flow_packet_and_byte(
        scheme in prop::sample::select(Scheme::ALL.to_vec()),
        entries in 1usize..8,
        flows in prop::collection::vec((any::<u8>(), 0u64..1000, 0u64..100_000, 0u64..600), 0..200),
    ) {
        let mut config = AggregateConfig::new(scheme);
        config.entries = entries;
        let mut c = cache(config);
        let mut out: Vec<FlowRecord> = Vec::new();
        let mut fed = FlowRecord::default();
        for &(d, packets, bytes, end) in &flows {
            let f = FlowRecord {
                dst_addr: ipv4([10, 0, d % 4, d]),
                dst_mask: d % 33,
                dst_port: u16::from(d % 5),
                tos: d % 2,
                packets,
                bytes,
                ..at(1, end)
            };
            fed.flows += 1;
            fed.packets += packets;
            fed.bytes += bytes;
            c.add(&f, &mut out);
            if d % 16 == 0 {
                c.expire(f.flow_end, &mut out);
            }
            prop_assert!(c.len() <= entries);
        }
        c.flush(&mut out);
        let got = out.clone();
        prop_assert_eq!(got.iter().map(|r| r.flows).sum::<u64>(), fed.flows);
        prop_assert_eq!(got.iter().map(|r| r.packets).sum::<u64>(), fed.packets);
        prop_assert_eq!(got.iter().map(|r| r.bytes).sum::<u64>(), fed.bytes);
        prop_assert_eq!(c.counters().exported(), got.len() as u64);
        prop_assert!(got.iter().all(|r| r.flow_start <= r.flow_end));
    }
}
