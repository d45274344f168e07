//! `show ip cache flow` and `show ip cache verbose flow`, printed the way IOS prints them, so an engineer
//! reads them without a manual. Where Weir counts more than IOS (emergency aging, the IPv6 cache, sampling)
//! the extra lines follow the IOS ones.

use std::fmt::Write;

use weir_flow::FlowRecord;

use super::sizes::BUCKETS;
use crate::meter::{CacheState, MeterStats};

/// The statistics as `show ip cache flow` prints them.
pub fn show_cache(stats: &MeterStats) -> String {
    let mut s = String::new();
    sizes(&mut s, stats);
    cache(&mut s, "IP Flow Switching Cache", &stats.v4, stats);
    if stats.wide.counters.added > 0 {
        cache(&mut s, "IPv6 and flexible-key Flow Cache", &stats.wide, stats);
    }
    let c = &stats.counters;
    let _ = writeln!(
        s,
        "  {} packets seen, {} not IP, {} left out by sampling ({})",
        c.packets, c.non_ip, c.sampled_out, stats.sampling
    );
    let _ = writeln!(
        s,
        "  {:.1} seconds of traffic since the statistics started\n",
        stats.elapsed_s
    );
    protocols(&mut s, stats);
    s
}

fn sizes(s: &mut String, stats: &MeterStats) {
    let total = stats.sizes.total();
    let _ = writeln!(s, "IP packet size distribution ({total} total packets):");
    let share = |n: u64| if total == 0 { 0.0 } else { n as f64 / total as f64 };
    for (bounds, counts) in [
        (&BUCKETS[..15], &stats.sizes.counts()[..15]),
        (&BUCKETS[15..], &stats.sizes.counts()[15..]),
    ] {
        let mut head = String::from("  ");
        let mut row = String::from("  ");
        for (&bound, &n) in bounds.iter().zip(counts) {
            let label = if bound == 32 {
                "1-32".to_owned()
            } else {
                bound.to_string()
            };
            let _ = write!(head, "{label:>5}");
            let _ = write!(row, "{:>5}", format!("{:.3}", share(n)).trim_start_matches('0'));
        }
        let _ = writeln!(s, "{head}\n{row}\n");
    }
}

fn cache(s: &mut String, title: &str, state: &CacheState, stats: &MeterStats) {
    let entries = stats.config.entries;
    let c = &state.counters;
    let _ = writeln!(
        s,
        "{title}, {} bytes ({:.1} bytes per entry)",
        (state.bytes_per_entry * entries as f64) as u64,
        state.bytes_per_entry
    );
    let _ = writeln!(
        s,
        "  {} active, {} inactive, {} added",
        state.active,
        entries - state.active,
        c.added
    );
    let _ = writeln!(
        s,
        "  {} ager polls ({} with emergency aging), {} times full, {} flows expired to make room",
        c.ager_polls, c.emergency_polls, c.full_events, c.expired_full
    );
    let _ = writeln!(
        s,
        "  {} expired idle, {} active timeout, {} ended by FIN/RST, {} flushed",
        c.expired_idle, c.expired_active, c.expired_end, c.flushed
    );
    let _ = writeln!(
        s,
        "  Active flows timeout in {}",
        duration(stats.config.active_ns)
    );
    let _ = writeln!(
        s,
        "  Inactive flows timeout in {}",
        duration(stats.config.inactive_ns)
    );
}

fn duration(ns: u64) -> String {
    let secs = ns / 1_000_000_000;
    if secs >= 60 && secs.is_multiple_of(60) {
        format!("{} minutes", secs / 60)
    } else {
        format!("{secs} seconds")
    }
}

fn protocols(s: &mut String, stats: &MeterStats) {
    let _ = writeln!(
        s,
        "Protocol         Total    Flows   Packets Bytes  Packets Active(Sec) Idle(Sec)"
    );
    let _ = writeln!(
        s,
        "--------         Flows     /Sec     /Flow  /Pkt     /Sec     /Flow     /Flow"
    );
    let per_sec = |n: u64| {
        if stats.elapsed_s > 0.0 {
            n as f64 / stats.elapsed_s
        } else {
            0.0
        }
    };
    let line = |s: &mut String, label: &str, r: &super::Row| {
        let flows = r.flows.max(1) as f64;
        let _ = writeln!(
            s,
            "{label:<16}{:>6} {:>8.1} {:>9} {:>5} {:>8.1} {:>9.1} {:>9.1}",
            r.flows,
            per_sec(r.flows),
            (r.packets as f64 / flows).round() as u64,
            r.bytes.checked_div(r.packets).unwrap_or(0),
            per_sec(r.packets),
            r.active_ns as f64 / flows / 1e9,
            r.idle_ns as f64 / flows / 1e9,
        );
    };
    for (category, row) in stats.protocols.rows() {
        line(s, category.label(), row);
    }
    line(s, "Total:", &stats.protocols.total());
}

/// The flows in the cache as `show ip cache verbose flow` lists them: two lines per flow, ports in hex,
/// interfaces by index.
pub fn show_entries(flows: impl Iterator<Item = FlowRecord>, now_ns: u64) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "SrcIf          SrcIPaddress    DstIf          DstIPaddress    Pr TOS Flgs  Pkts"
    );
    let _ = writeln!(
        s,
        "Port Msk AS                    Port Msk AS    NextHop              B/Pk  Active"
    );
    for f in flows {
        let _ = writeln!(
            s,
            "{:<14} {:<15} {:<14} {:<15} {:02X} {:02X}  {:02X} {:>7}",
            format!("if{}", f.in_if),
            addr(&f.src_addr),
            format!("if{}", f.out_if),
            addr(&f.dst_addr),
            f.proto,
            f.tos,
            f.tcp_flags & 0xff,
            f.packets
        );
        let _ = writeln!(
            s,
            "{:04X} /{:<2} {:<18} {:04X} /{:<2} {:<6} {:<15} {:>9} {:>7.1}",
            f.src_port,
            f.src_mask,
            f.src_as,
            f.dst_port,
            f.dst_mask,
            f.dst_as,
            if f.next_hop.is_unspecified() && f.etype == weir_flow::codes::etype::IPV4 {
                "0.0.0.0".to_owned()
            } else {
                addr(&f.next_hop)
            },
            f.bytes.checked_div(f.packets).unwrap_or(0),
            now_ns.saturating_sub(f.flow_start) as f64 / 1e9
        );
    }
    s
}

fn addr(a: &std::net::Ipv6Addr) -> String {
    match a.to_ipv4_mapped() {
        Some(v4) => v4.to_string(),
        None => a.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::CacheConfig;
    use crate::meter::Meter;
    use crate::sampling::Sampling;
    use weir_flow::codes::{etype, proto};
    use weir_flow::ipv4;
    use weir_proto::packet::Summary;

    use crate::packet::Packet;

    const S: u64 = 1_000_000_000;

    fn meter_with_traffic() -> Meter {
        let mut m = Meter::new(CacheConfig::default(), Sampling::Off).unwrap();
        let web = FlowRecord {
            etype: etype::IPV4,
            src_addr: ipv4([10, 0, 0, 1]),
            dst_addr: ipv4([192, 0, 2, 1]),
            src_port: 1024,
            dst_port: 80,
            proto: proto::TCP,
            tcp_flags: 0x10,
            ..FlowRecord::default()
        };
        let dns = FlowRecord {
            src_port: 5353,
            dst_port: 53,
            proto: proto::UDP,
            tcp_flags: 0,
            ..web
        };
        for t in 0..4 {
            m.packet(&Packet::new(
                t * S,
                &web,
                &Summary {
                    ip_len: 1500,
                    ..Summary::default()
                },
                1514,
            ));
        }
        m.packet(&Packet::new(
            2 * S,
            &dns,
            &Summary {
                ip_len: 60,
                ..Summary::default()
            },
            74,
        ));
        (4..=40).for_each(|t| m.tick(t * S));
        m.packet(&Packet::new(
            40 * S,
            &web,
            &Summary {
                ip_len: 40,
                ..Summary::default()
            },
            54,
        ));
        m
    }

    #[test]
    fn show_cache_prints_sizes_cache_state_and_the_protocol_table() {
        let mut m = meter_with_traffic();
        let out = show_cache(&m.stats());
        assert!(
            out.starts_with("IP packet size distribution (6 total packets):\n"),
            "{out}"
        );
        // 1500-byte packets: 4 of 6 in the 1536 bucket; one of 60 bytes, one of 40, in the 64 bucket.
        assert!(out.contains("   1-32   64   96"), "{out}");
        assert!(out.contains("\n   .000 .333 .000"), "{out}");
        assert!(out.contains(" .000 .000 .000 .000 .667 .000"), "{out}");
        assert!(out.contains("  1 active, 4095 inactive, 3 added\n"), "{out}");
        assert!(
            out.contains("  Active flows timeout in 30 minutes\n  Inactive flows timeout in 15 seconds\n")
        );
        // The web flow (3 s of packets, idle 15..16 s at expiry) and the DNS flow expired.
        let www = out.lines().find(|l| l.starts_with("TCP-WWW")).unwrap();
        let fields: Vec<&str> = www.split_whitespace().collect();
        assert_eq!(&fields[..5], ["TCP-WWW", "1", "0.0", "4", "1500"], "{www}");
        assert_eq!((fields[6], fields[7]), ("3.0", "15.0"), "{www}");
        let dns = out.lines().find(|l| l.starts_with("UDP-DNS")).unwrap();
        assert!(dns.split_whitespace().nth(1) == Some("1"), "{dns}");
        assert!(
            out.lines()
                .any(|l| l.starts_with("Total:") && l.split_whitespace().nth(1) == Some("2"))
        );
    }

    #[test]
    fn verbose_listing_shows_each_flow_in_two_lines_with_hex_ports() {
        let mut m = meter_with_traffic();
        let now = m.now_ns();
        let out = show_entries(m.snapshot(), now);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 4, "{out}");
        assert!(
            lines[2].starts_with(
                "if0            10.0.0.1        if0            192.0.2.1       06 00  10       1"
            )
        );
        assert!(
            lines[3].starts_with("0400 /0  0                  0050 /0  0"),
            "{}",
            lines[3]
        );
    }
}
