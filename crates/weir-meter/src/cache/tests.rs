//! Cache semantics, each by name, through the [`Meter`](crate::meter::Meter) on synthetic packets.

use weir_flow::codes::{end_reason, etype, proto};
use weir_flow::{FlowRecord, ipv4};
use weir_proto::packet::{Fragment, Summary};

use super::*;
use crate::meter::Meter;
use crate::packet::Packet;
use crate::sampling::Sampling;

const S: u64 = 1_000_000_000;
const FIN: u16 = 0x01;
const SYN: u16 = 0x02;
const RST: u16 = 0x04;
const ACK: u16 = 0x10;

fn tcp(host: u8, sport: u16, flags: u16) -> FlowRecord {
    FlowRecord {
        etype: etype::IPV4,
        src_addr: ipv4([10, 0, 0, host]),
        dst_addr: ipv4([192, 0, 2, 1]),
        src_port: sport,
        dst_port: 80,
        proto: proto::TCP,
        tcp_flags: flags,
        ..FlowRecord::default()
    }
}

fn sized(len: u32) -> Summary {
    Summary {
        ip_len: len,
        l3_offset: Some(14),
        ..Summary::default()
    }
}

fn meter(config: CacheConfig) -> Meter {
    Meter::new(config, Sampling::Off).unwrap()
}

fn feed(m: &mut Meter, ts_ns: u64, rec: &FlowRecord) {
    m.packet(&Packet::new(ts_ns, rec, &sized(100), 114));
}

fn take(m: &mut Meter) -> Vec<FlowRecord> {
    std::mem::take(m.expired())
}

#[test]
fn fin_ends_the_flow_after_counting_its_packet() {
    let mut m = meter(CacheConfig::default());
    feed(&mut m, S, &tcp(1, 1000, SYN));
    feed(&mut m, 2 * S, &tcp(1, 1000, ACK));
    assert!(take(&mut m).is_empty());
    feed(&mut m, 3 * S, &tcp(1, 1000, FIN | ACK));
    let out = take(&mut m);
    assert_eq!(out.len(), 1);
    let f = &out[0];
    assert_eq!((f.packets, f.bytes, f.tcp_flags), (3, 300, SYN | ACK | FIN));
    assert_eq!(
        (f.flow_start, f.flow_end, f.flow_end_reason),
        (S, 3 * S, end_reason::END_OF_FLOW)
    );
    assert_eq!(m.stats().v4.counters.expired_end, 1);
    assert_eq!(m.stats().v4.active, 0);
}

#[test]
fn rst_ends_the_flow_even_on_its_first_packet() {
    let mut m = meter(CacheConfig::default());
    feed(&mut m, S, &tcp(1, 1000, RST));
    let out = take(&mut m);
    assert_eq!(
        (out.len(), out[0].packets, out[0].flow_end_reason),
        (1, 1, end_reason::END_OF_FLOW)
    );
    // The next packet of the same key starts a new flow.
    feed(&mut m, 2 * S, &tcp(1, 1000, ACK));
    assert_eq!((m.stats().v4.active, m.stats().v4.counters.added), (1, 2));
}

#[test]
fn inactive_timeout_expires_idle_flows_on_the_packets_clock() {
    let mut m = meter(CacheConfig {
        inactive_ns: 15 * S,
        ..CacheConfig::default()
    });
    feed(&mut m, 100 * S, &tcp(1, 1000, ACK));
    feed(&mut m, 101 * S, &tcp(2, 1000, ACK));
    // 14.9 s after flow 1's last packet: nothing expires yet.
    feed(&mut m, 114 * S + S / 2, &tcp(3, 1000, ACK));
    assert!(take(&mut m).is_empty());
    // The ager's next poll after 115 s expires flow 1, not flow 2 (idle 14.2 s).
    feed(&mut m, 115 * S + S / 5, &tcp(3, 1000, ACK));
    let out = take(&mut m);
    assert_eq!(out.len(), 1);
    assert_eq!(
        (out[0].src_addr, out[0].flow_end_reason),
        (ipv4([10, 0, 0, 1]), end_reason::IDLE_TIMEOUT)
    );
    assert_eq!(
        (out[0].flow_end, out[0].time_received),
        (100 * S, 115 * S + S / 5)
    );
    // Ticks move the clock with no packets: a live probe's quiet link.
    m.tick(200 * S);
    assert_eq!(take(&mut m).len(), 2);
    assert_eq!(m.stats().v4.counters.expired_idle, 3);
}

#[test]
fn a_packet_after_the_inactive_gap_starts_a_new_flow() {
    let mut m = meter(CacheConfig {
        inactive_ns: 15 * S,
        ager_interval_ns: 15 * S,
        ..CacheConfig::default()
    });
    feed(&mut m, 100 * S, &tcp(1, 1000, ACK));
    // The ager has not run for this flow yet, but the gap alone closes it.
    feed(&mut m, 116 * S, &tcp(1, 1000, ACK));
    let out = take(&mut m);
    assert_eq!(out.len(), 1);
    assert_eq!(
        (out[0].packets, out[0].flow_end_reason),
        (1, end_reason::IDLE_TIMEOUT)
    );
    assert_eq!(m.stats().v4.active, 1);
}

#[test]
fn active_timeout_splits_a_long_flow_into_consecutive_records() {
    let mut m = meter(CacheConfig {
        active_ns: 60 * S,
        ..CacheConfig::default()
    });
    for t in 0..=150 {
        feed(&mut m, (1000 + t) * S, &tcp(1, 1000, ACK));
    }
    m.flush();
    let out = take(&mut m);
    assert_eq!(out.len(), 3, "{out:?}");
    assert_eq!(out.iter().map(|f| f.packets).sum::<u64>(), 151);
    assert_eq!(out[0].flow_end_reason, end_reason::ACTIVE_TIMEOUT);
    assert_eq!(out[1].flow_end_reason, end_reason::ACTIVE_TIMEOUT);
    assert_eq!(out[2].flow_end_reason, end_reason::FORCED_END);
    // Each record starts where the previous one left off, so a collector can stitch them.
    for pair in out.windows(2) {
        assert!(pair[1].flow_start > pair[0].flow_end);
        assert_eq!(pair[1].flow_start - pair[0].flow_end, S);
    }
    assert!(out.iter().all(|f| f.flow_end - f.flow_start < 60 * S));
}

#[test]
fn a_packet_older_than_its_flow_brings_the_active_timeout_forward() {
    let mut m = meter(CacheConfig {
        active_ns: 20 * S,
        inactive_ns: 60 * S,
        ..CacheConfig::default()
    });
    // Eight flows from 1010 s; the first then gets a packet captured at 1005 s (reordered on the way).
    for host in 1..=8 {
        feed(&mut m, 1010 * S, &tcp(host, 1000, ACK));
    }
    feed(&mut m, 1005 * S, &tcp(1, 1000, ACK));
    // Another flow moves the clock on; the first flow gets no packet that would close it on arrival.
    for t in 1010..=1028 {
        feed(&mut m, t * S, &tcp(9, 1000, ACK));
    }
    let out = take(&mut m);
    assert_eq!(out.len(), 1, "{out:?}");
    let f = &out[0];
    assert_eq!(f.src_addr, ipv4([10, 0, 0, 1]));
    assert_eq!(
        (f.flow_start, f.flow_end_reason, f.time_received),
        (1005 * S, end_reason::ACTIVE_TIMEOUT, 1025 * S)
    );
}

#[test]
fn a_flush_hands_flows_over_oldest_first_a_few_thousand_at_a_time() {
    let mut m = meter(CacheConfig {
        entries: 20_000,
        ..CacheConfig::default()
    });
    // Ten thousand flows whose first packets come in an order unlike their slots'.
    for i in 0..10_000u64 {
        let t = 1000 * S + (i * 7919 % 10_000) * 1000;
        feed(&mut m, t, &tcp((i % 250) as u8, 1000 + (i / 250) as u16, ACK));
    }
    let mut handed = Vec::new();
    let mut sizes = Vec::new();
    m.flush_with(|flows| {
        sizes.push(flows.len());
        handed.append(flows);
        Ok::<(), ()>(())
    })
    .unwrap();
    assert_eq!(handed.len(), 10_000);
    assert!(sizes.len() > 1 && sizes.iter().all(|&n| n <= 4096), "{sizes:?}");
    assert!(handed.windows(2).all(|w| w[0].flow_start <= w[1].flow_start));
    assert!(handed.iter().all(|f| f.flow_end_reason == end_reason::FORCED_END));
    assert_eq!(m.stats().v4.active, 0);
    // The cache is whole again afterwards: a flow it held comes back as a new one.
    feed(&mut m, 2000 * S, &tcp(1, 1000, FIN));
    let out = take(&mut m);
    assert_eq!((out.len(), out[0].packets), (1, 1));
}

#[test]
fn a_full_cache_expires_its_oldest_flows_first() {
    let config = CacheConfig {
        entries: 128,
        emergency_percent: 99,
        ..CacheConfig::default()
    };
    let mut m = meter(config);
    // 128 flows, each last seen at a different time; flow 5 is refreshed last of all.
    for i in 0..128u16 {
        feed(&mut m, S + u64::from(i) * 1000, &tcp(1, 2000 + i, ACK));
    }
    feed(&mut m, S + 200_000, &tcp(1, 2005, ACK));
    assert!(take(&mut m).is_empty());
    // Flow 129 finds the cache full: 1/64 of it (2 flows) goes, the two least recently seen.
    feed(&mut m, S + 300_000, &tcp(2, 9999, ACK));
    let out = take(&mut m);
    let ports: Vec<u16> = out.iter().map(|f| f.src_port).collect();
    assert_eq!(ports, [2000, 2001]);
    assert!(
        out.iter()
            .all(|f| f.flow_end_reason == end_reason::LACK_OF_RESOURCES)
    );
    let stats = m.stats();
    assert_eq!(
        (
            stats.v4.counters.full_events,
            stats.v4.counters.expired_full,
            stats.v4.active
        ),
        (1, 2, 127)
    );
    // The next evictions skip flow 5, seen recently.
    for i in 0..4u16 {
        feed(&mut m, S + 400_000 + u64::from(i), &tcp(3, 3000 + i, ACK));
    }
    let ports: Vec<u16> = take(&mut m).iter().map(|f| f.src_port).collect();
    assert_eq!(ports, [2002, 2003, 2004, 2006]);
}

#[test]
fn emergency_aging_shortens_the_inactive_timeout_as_the_cache_fills() {
    let config = CacheConfig {
        entries: 100,
        emergency_percent: 80,
        inactive_ns: 60 * S,
        ..CacheConfig::default()
    };
    let mut m = meter(config);
    // 95 flows: 15 above the threshold of 80, out of 20, leaves a quarter of the timeout: 15 s.
    for i in 0..95u16 {
        feed(&mut m, 10 * S, &tcp(1, 1000 + i, ACK));
    }
    for i in 0..10u16 {
        feed(&mut m, 20 * S, &tcp(1, 1000 + i, ACK));
    }
    assert!(take(&mut m).is_empty());
    // At 26 s the 85 flows idle for 16 s go; the 10 refreshed at 20 s stay.
    m.tick(26 * S);
    let out = take(&mut m);
    assert_eq!(out.len(), 85);
    assert!(out.iter().all(|f| f.flow_end_reason == end_reason::IDLE_TIMEOUT));
    let stats = m.stats();
    assert_eq!((stats.v4.active, stats.v4.counters.expired_full), (10, 0));
    assert!(stats.v4.counters.emergency_polls >= 1);
    // Below the threshold again, the full timeout applies.
    m.tick(70 * S);
    assert!(take(&mut m).is_empty());
    m.tick(81 * S);
    assert_eq!(take(&mut m).len(), 10);
}

#[test]
fn flexible_key_sets_merge_what_they_leave_out() {
    let key = KeySet::parse("src_addr,dst_addr,proto").unwrap();
    let mut m = meter(CacheConfig {
        key,
        ..CacheConfig::default()
    });
    for port in [1000, 1001, 1002] {
        feed(&mut m, S, &tcp(1, port, ACK));
    }
    feed(&mut m, S, &tcp(2, 1000, ACK));
    m.flush();
    let mut out = take(&mut m);
    out.sort_by_key(|f| f.src_addr);
    assert_eq!(out.iter().map(|f| f.packets).collect::<Vec<_>>(), [3, 1]);
    // Ports are not part of the key: they are not reported.
    assert_eq!(
        (out[0].src_port, out[0].dst_port, out[0].proto),
        (0, 0, proto::TCP)
    );

    // A key with MACs and VLAN uses the wide layout, IPv4 or not.
    let key = KeySet::parse("src_mac,vlan").unwrap();
    let mut m = meter(CacheConfig {
        key,
        ..CacheConfig::default()
    });
    feed(
        &mut m,
        S,
        &FlowRecord {
            src_mac: 0xaa,
            vlan: 10,
            ..tcp(1, 1, ACK)
        },
    );
    feed(
        &mut m,
        S,
        &FlowRecord {
            src_mac: 0xaa,
            vlan: 10,
            ..tcp(2, 2, ACK)
        },
    );
    feed(
        &mut m,
        S,
        &FlowRecord {
            src_mac: 0xaa,
            vlan: 11,
            ..tcp(2, 2, ACK)
        },
    );
    let stats = m.stats();
    assert_eq!((stats.wide.active, stats.v4.active), (2, 0));
}

#[test]
fn ipv6_flows_go_to_their_own_cache_and_keep_their_addresses() {
    let mut m = meter(CacheConfig::default());
    let v6 = FlowRecord {
        etype: etype::IPV6,
        src_addr: "2001:db8::1".parse().unwrap(),
        dst_addr: "2001:db8::2".parse().unwrap(),
        ..tcp(1, 1000, ACK)
    };
    feed(&mut m, S, &v6);
    feed(&mut m, S, &tcp(1, 1000, ACK));
    let stats = m.stats();
    assert_eq!((stats.v4.active, stats.wide.active), (1, 1));
    m.flush();
    let out = take(&mut m);
    let six = out.iter().find(|f| f.etype == etype::IPV6).unwrap();
    assert_eq!((six.src_addr, six.dst_addr), (v6.src_addr, v6.dst_addr));
}

#[test]
fn non_ip_frames_are_counted_and_left_out() {
    let mut m = meter(CacheConfig::default());
    let arp = FlowRecord {
        etype: etype::ARP,
        ..FlowRecord::default()
    };
    feed(&mut m, S, &arp);
    assert_eq!((m.counters().packets, m.counters().non_ip), (1, 1));
    assert_eq!(m.stats().v4.counters.added, 0);
}

#[test]
fn sampling_keeps_one_packet_in_n_and_marks_the_rate() {
    let mut m = Meter::new(CacheConfig::default(), Sampling::Deterministic(4)).unwrap();
    for _ in 0..100 {
        feed(&mut m, S, &tcp(1, 1000, ACK));
    }
    m.flush();
    let out = take(&mut m);
    assert_eq!((out[0].packets, out[0].sampling_rate), (25, 4));
    assert_eq!((m.counters().packets, m.counters().sampled_out), (100, 75));
    assert_eq!(m.stats().sizes.total(), 25);
}

#[test]
fn non_first_fragments_count_in_the_fragment_rows() {
    let mut m = meter(CacheConfig::default());
    let frag = Summary {
        fragment: Some(Fragment {
            id: 7,
            offset: 185,
            more: false,
        }),
        ..sized(600)
    };
    m.packet(&Packet::new(
        S,
        &FlowRecord {
            src_port: 0,
            dst_port: 0,
            ..tcp(1, 0, 0)
        },
        &frag,
        614,
    ));
    m.flush();
    let stats = m.stats();
    assert_eq!(stats.protocols.row(crate::stats::Category::TcpFrag).flows, 1);
    assert_eq!(stats.sizes.counts()[18], 1);
}

#[test]
fn records_carry_the_configured_interfaces_and_direction() {
    let config = CacheConfig {
        in_if: 3,
        out_if: 7,
        direction: weir_flow::codes::direction::EGRESS,
        ..CacheConfig::default()
    };
    let mut m = meter(config);
    feed(&mut m, S, &tcp(1, 1000, ACK));
    m.flush();
    let f = take(&mut m)[0];
    assert_eq!((f.in_if, f.out_if, f.flow_direction, f.flows), (3, 7, 2, 1));
    // Keys hold no interfaces: keyed on them (the wide cache, for out_if) or not, a record has the
    // configured ones, and they split no flow.
    let mut m = meter(CacheConfig {
        key: KeySet::parse("in_if,out_if,src_addr").unwrap(),
        ..config
    });
    feed(&mut m, S, &tcp(1, 1000, ACK));
    feed(&mut m, 2 * S, &tcp(1, 2000, ACK));
    m.flush();
    let out = take(&mut m);
    assert_eq!(m.stats().wide.counters.added, 1);
    assert_eq!(
        (out.len(), out[0].in_if, out[0].out_if, out[0].packets),
        (1, 3, 7, 2)
    );
    assert_eq!(out[0].src_addr, ipv4([10, 0, 0, 1]));
}

#[test]
fn without_records_expired_flows_are_only_counted() {
    let mut m = meter(CacheConfig::default());
    m.keep_records(false);
    feed(&mut m, S, &tcp(1, 1000, ACK));
    feed(&mut m, S, &tcp(2, 1000, FIN));
    feed(&mut m, 2 * S, &tcp(1, 1000, ACK));
    feed(&mut m, 30 * S, &tcp(3, 1000, ACK));
    assert!(take(&mut m).is_empty());
    let stats = m.stats();
    assert_eq!(
        (stats.v4.counters.expired_end, stats.v4.counters.expired_idle),
        (1, 1)
    );
    m.flush();
    assert!(take(&mut m).is_empty());
    let stats = m.stats();
    assert_eq!(stats.v4.counters.expired(), 3);
    let www = stats.protocols.row(crate::stats::Category::TcpWww);
    // Host 1's flow: two packets a second apart, expired idle 15 s after its last.
    assert_eq!((www.flows, www.packets, www.bytes), (3, 4, 400));
    assert_eq!(stats.protocols.total().active_ns, S);
}

#[test]
fn without_records_the_statistics_are_those_with_records() {
    let mut with = meter(CacheConfig::default());
    let mut without = meter(CacheConfig::default());
    without.keep_records(false);
    for i in 0..2000u64 {
        let flags = if i % 97 == 0 { FIN } else { ACK };
        let rec = tcp((i % 250) as u8, 1000 + (i / 250 % 5) as u16, flags);
        for m in [&mut with, &mut without] {
            feed(m, S + i * S / 50, &rec);
        }
    }
    with.flush();
    without.flush();
    let (a, b) = (with.stats(), without.stats());
    assert_eq!(a.protocols, b.protocols);
    assert_eq!(a.v4.counters, b.v4.counters);
    assert!(b.v4.counters.expired_idle > 0 && b.v4.counters.flushed > 0);
    assert_eq!(take(&mut with).len() as u64, a.v4.counters.expired());
    assert!(take(&mut without).is_empty());
    // The emptied cache takes flows again.
    assert_eq!(b.v4.active, 0);
    feed(&mut without, 60 * S, &tcp(1, 1000, ACK));
    feed(&mut without, 61 * S, &tcp(1, 1000, ACK));
    let stats = without.stats();
    assert_eq!(
        (stats.v4.active, stats.v4.counters.added),
        (1, a.v4.counters.added + 1)
    );
}

#[test]
fn an_ipv4_entry_is_one_cache_line() {
    assert_eq!(size_of::<entry::Entry<V4Key>>(), 64);
    assert_eq!(align_of::<entry::Entry<V4Key>>(), 64);
    assert_eq!(size_of::<entry::Entry<WideKey>>(), 104);
}

#[test]
fn an_entry_with_its_index_takes_under_90_bytes_ipv4_and_128_ipv6() {
    let mut m = meter(CacheConfig {
        entries: 1 << 20,
        ..CacheConfig::default()
    });
    let stats = m.stats();
    assert!(stats.v4.bytes_per_entry < 90.0, "{}", stats.v4.bytes_per_entry);
    assert!(stats.v4.bytes_per_entry > 64.0, "{}", stats.v4.bytes_per_entry);
    assert!(
        stats.wide.bytes_per_entry < 128.0,
        "{}",
        stats.wide.bytes_per_entry
    );
}
