//! Filters from nfdump's syntax and on schema columns, each run over the same nine flows: the flows listed
//! must match, and every other flow must not. The filter's canonical print must select the same flows.

use std::net::Ipv6Addr;

use weir_flow::codes::etype;
use weir_flow::{FlowBatch, FlowRecord, ipv4};
use weir_query::filter;

/// 2024-03-01T12:00:00Z.
const T0: u64 = 1_709_294_400_000_000_000;
const MS: u64 = 1_000_000;

fn v6(s: &str) -> Ipv6Addr {
    s.parse().expect("test address")
}

/// The sample flows, by name, and the batch that holds their strings and lists.
fn flows() -> (FlowBatch, Vec<(&'static str, FlowRecord)>) {
    let mut b = FlowBatch::new();
    let mac_a = 0x0011_2233_4455;
    let mac_b = 0x00aa_bbcc_ddee;
    let web = FlowRecord {
        flow_start: T0,
        flow_end: T0 + 2_000 * MS,
        exporter_addr: ipv4([192, 0, 2, 1]),
        sampling_rate: 1,
        in_if: 3,
        out_if: 7,
        in_if_name: b.intern("xe-0/0/1"),
        out_if_name: b.intern("xe-0/0/7"),
        etype: etype::IPV4,
        proto: 6,
        src_addr: ipv4([10, 1, 2, 3]),
        dst_addr: ipv4([93, 184, 216, 34]),
        src_port: 51000,
        dst_port: 443,
        src_mask: 16,
        dst_mask: 24,
        tcp_flags: 0x1b,
        vlan: 100,
        src_mac: mac_a,
        dst_mac: mac_b,
        next_hop: ipv4([198, 51, 100, 1]),
        bgp_next_hop: ipv4([198, 51, 100, 254]),
        dst_as: 15133,
        dst_as_path: b.push_list(&[3356, 15133]),
        dst_communities: b.push_list(&[65000 << 16 | 100, 3356 << 16 | 2]),
        dst_country: b.intern("US"),
        dst_as_name: b.intern("EDGECAST"),
        dst_domain: b.intern("www.example.com"),
        app: b.intern("https"),
        bytes: 150_000,
        packets: 120,
        flows: 1,
        ..FlowRecord::default()
    };
    let dns = FlowRecord {
        flow_start: T0,
        flow_end: T0,
        exporter_addr: ipv4([192, 0, 2, 2]),
        sampling_rate: 1,
        in_if: 4,
        out_if: 7,
        in_if_name: b.intern("ge-0/0/4"),
        etype: etype::IPV4,
        proto: 17,
        src_addr: ipv4([192, 168, 1, 10]),
        dst_addr: ipv4([8, 8, 8, 8]),
        src_port: 33000,
        dst_port: 53,
        src_mask: 24,
        vlan: 200,
        src_mac: 0x0011_2233_4466,
        dst_mac: mac_b,
        next_hop: ipv4([198, 51, 100, 1]),
        dst_as: 15169,
        dst_as_path: b.push_list(&[15169]),
        dst_country: b.intern("US"),
        dst_as_name: b.intern("GOOGLE"),
        dst_domain: b.intern("dns.google"),
        app: b.intern("dns"),
        bytes: 70,
        packets: 1,
        flows: 1,
        ..FlowRecord::default()
    };
    let syn = FlowRecord {
        flow_start: T0 + 5_000 * MS,
        flow_end: T0 + 5_000 * MS,
        exporter_addr: ipv4([192, 0, 2, 1]),
        sampling_rate: 1,
        in_if: 7,
        out_if: 3,
        etype: etype::IPV4,
        proto: 6,
        src_addr: ipv4([203, 0, 113, 9]),
        dst_addr: ipv4([10, 1, 2, 3]),
        src_port: 40000,
        dst_port: 22,
        src_mask: 24,
        dst_mask: 16,
        tcp_flags: 0x02,
        vlan: 100,
        src_mac: mac_b,
        dst_mac: mac_a,
        src_as: 64512,
        src_country: b.intern("CN"),
        threat: b.intern("scanner"),
        bytes: 40,
        packets: 1,
        flows: 1,
        ..FlowRecord::default()
    };
    let ping = FlowRecord {
        flow_start: T0,
        flow_end: T0 + 1_000 * MS,
        exporter_addr: ipv4([192, 0, 2, 1]),
        sampling_rate: 1,
        in_if: 3,
        out_if: 7,
        etype: etype::IPV4,
        proto: 1,
        src_addr: ipv4([10, 1, 2, 3]),
        dst_addr: ipv4([1, 1, 1, 1]),
        tos: 184,
        icmp_type: 8,
        icmp_code: 0,
        dst_as: 13335,
        dst_country: b.intern("AU"),
        bytes: 84,
        packets: 1,
        flows: 1,
        ..FlowRecord::default()
    };
    let v6web = FlowRecord {
        flow_start: T0,
        flow_end: T0 + 10_000 * MS,
        exporter_addr: v6("2001:db8::ff"),
        sampling_rate: 1,
        in_if: 3,
        out_if: 7,
        etype: etype::IPV6,
        proto: 6,
        src_addr: v6("2001:db8::10"),
        dst_addr: v6("2606:2800:220:1::1"),
        src_port: 52000,
        dst_port: 443,
        src_mask: 64,
        dst_mask: 48,
        tcp_flags: 0x18,
        src_mac: mac_a,
        next_hop: v6("2001:db8::1"),
        bgp_next_hop: v6("2001:db8:ffff::1"),
        dst_as: 15133,
        dst_as_path: b.push_list(&[174, 15133]),
        dst_country: b.intern("US"),
        dst_domain: b.intern("www.example.com"),
        app: b.intern("https"),
        bytes: 1_200_000,
        packets: 900,
        flows: 1,
        ..FlowRecord::default()
    };
    let icmp6 = FlowRecord {
        flow_start: T0,
        flow_end: T0,
        exporter_addr: v6("2001:db8::ff"),
        sampling_rate: 1,
        in_if: 7,
        out_if: 3,
        etype: etype::IPV6,
        proto: 58,
        src_addr: v6("2606:4700::1111"),
        dst_addr: v6("2001:db8::10"),
        icmp_type: 129,
        src_as: 13335,
        src_country: b.intern("US"),
        bytes: 104,
        packets: 1,
        flows: 1,
        ..FlowRecord::default()
    };
    let bulk = FlowRecord {
        flow_start: T0,
        flow_end: T0 + 60_000 * MS,
        exporter_addr: ipv4([192, 0, 2, 2]),
        sampling_rate: 100,
        in_if: 5,
        out_if: 6,
        in_if_name: b.intern("et-1/0/0"),
        etype: etype::IPV4,
        proto: 17,
        src_addr: ipv4([10, 9, 9, 9]),
        dst_addr: ipv4([172, 16, 5, 5]),
        src_port: 5001,
        dst_port: 5001,
        src_mask: 8,
        dst_mask: 12,
        tos: 0x28,
        vlan: 100,
        app: b.intern("iperf"),
        bytes: 5_000_000_000,
        packets: 3_500_000,
        flows: 10,
        ..FlowRecord::default()
    };
    let arp = FlowRecord {
        flow_start: T0,
        flow_end: T0,
        exporter_addr: ipv4([192, 0, 2, 2]),
        sampling_rate: 1,
        in_if: 4,
        etype: etype::ARP,
        vlan: 200,
        src_mac: mac_a,
        dst_mac: 0xffff_ffff_ffff,
        bytes: 60,
        packets: 1,
        flows: 1,
        ..FlowRecord::default()
    };
    let gre = FlowRecord {
        flow_start: T0,
        flow_end: T0 + 1_000 * MS,
        exporter_addr: ipv4([192, 0, 2, 1]),
        sampling_rate: 1,
        in_if: 6,
        out_if: 5,
        etype: etype::IPV4,
        proto: 47,
        src_addr: ipv4([198, 51, 100, 7]),
        dst_addr: ipv4([192, 0, 2, 99]),
        vlan: 300,
        next_hop: ipv4([203, 0, 113, 1]),
        src_as: 64500,
        dst_as: 64501,
        bytes: 1_000,
        packets: 10,
        flows: 1,
        ..FlowRecord::default()
    };
    let named = vec![
        ("web", web),
        ("dns", dns),
        ("syn", syn),
        ("ping", ping),
        ("v6web", v6web),
        ("icmp6", icmp6),
        ("bulk", bulk),
        ("arp", arp),
        ("gre", gre),
    ];
    (b, named)
}

const ALL: &[&str] = &[
    "web", "dns", "syn", "ping", "v6web", "icmp6", "bulk", "arp", "gre",
];

/// (filter, the flows it selects).
const CASES: &[(&str, &[&str])] = &[
    // Structure.
    ("any", ALL),
    ("", ALL),
    ("# only a comment\n", ALL),
    (
        "not port 443",
        &["dns", "syn", "ping", "icmp6", "bulk", "arp", "gre"],
    ),
    ("proto tcp and not flags A", &["syn"]),
    ("(port 53 or port 22) and src as 64512", &["syn"]),
    (
        "proto tcp && dst port 443 || proto icmp",
        &["web", "ping", "v6web"],
    ),
    ("! ( ipv4 || ipv6 )", &["arp"]),
    ("proto udp and not (dst port 53)", &["bulk"]),
    (
        "host 10.1.2.3 and (proto icmp or flags S)",
        &["web", "syn", "ping"],
    ),
    ("PROTO TCP AND DST PORT 22", &["syn"]),
    ("proto tcp\n  # web only\n  and dst port 443", &["web", "v6web"]),
    // Protocols and families.
    ("proto tcp", &["web", "syn", "v6web"]),
    ("proto udp", &["dns", "bulk"]),
    ("proto icmp", &["ping"]),
    ("proto 47", &["gre"]),
    ("proto icmp6", &["icmp6"]),
    ("ipv4", &["web", "dns", "syn", "ping", "bulk", "gre"]),
    ("inet6", &["v6web", "icmp6"]),
    ("not inet and not ipv6", &["arp"]),
    // Addresses and networks.
    ("host 10.1.2.3", &["web", "syn", "ping"]),
    ("src ip 10.1.2.3", &["web", "ping"]),
    ("dst host 10.1.2.3", &["syn"]),
    ("ip 2001:db8::10", &["v6web", "icmp6"]),
    ("net 10.0.0.0/8", &["web", "syn", "ping", "bulk"]),
    ("src net 10.1.0.0 255.255.0.0", &["web", "ping"]),
    ("dst net 172.16/12", &["bulk"]),
    ("net 2001:db8::/32", &["v6web", "icmp6"]),
    ("ip in [8.8.8.8, 1.1.1.1]", &["dns", "ping"]),
    ("dst ip in [172.16.0.0/12 93.184.216.34]", &["web", "bulk"]),
    ("router ip 192.0.2.2", &["dns", "bulk", "arp"]),
    ("router ip 2001:db8::ff", &["v6web", "icmp6"]),
    ("next ip 198.51.100.1", &["web", "dns"]),
    ("bgp next ip 198.51.100.254", &["web"]),
    // Ports.
    ("port 443", &["web", "v6web"]),
    ("src port 40000", &["syn"]),
    ("dst port 22", &["syn"]),
    ("port 53", &["dns"]),
    ("dst port in [22, 53 443]", &["web", "dns", "syn", "v6web"]),
    ("src port > 50000", &["web", "v6web"]),
    (
        "port < 1024",
        &["web", "dns", "syn", "ping", "v6web", "icmp6", "arp", "gre"],
    ),
    ("port lt 1024 and port gt 1023", &["web", "dns", "syn", "v6web"]),
    ("port eq 22", &["syn"]),
    // Routing.
    ("as 15133", &["web", "v6web"]),
    ("src as 64512", &["syn"]),
    ("dst as in [15169, 13335]", &["dns", "ping"]),
    ("as >= 64500", &["syn", "gre"]),
    ("src mask 8", &["bulk"]),
    ("mask 24", &["web", "dns", "syn"]),
    // Layer 2 and interfaces.
    ("vlan 100", &["web", "syn", "bulk"]),
    ("src vlan 200", &["dns", "arp"]),
    ("mac 00:11:22:33:44:55", &["web", "syn", "v6web", "arp"]),
    ("src mac 00-11-22-33-44-55", &["web", "v6web", "arp"]),
    ("dst mac ff:ff:ff:ff:ff:ff", &["arp"]),
    ("in mac 00aa.bbcc.ddee", &["web", "dns", "syn"]),
    ("in if 3", &["web", "ping", "v6web"]),
    ("out if 3", &["syn", "icmp6"]),
    ("if 7", &["web", "dns", "syn", "ping", "v6web", "icmp6"]),
    // ICMP, flags, ToS.
    ("icmp-type 8", &["ping"]),
    ("icmp-type 129", &["icmp6"]),
    ("icmp-code 0", &["ping", "icmp6"]),
    ("flags S", &["web", "syn"]),
    ("flags SA", &["web"]),
    ("flags FSPA", &["web"]),
    ("flags X", &[]),
    ("flags A and not flags S", &["v6web"]),
    ("flags 2", &["syn"]),
    ("tos 184", &["ping"]),
    ("tos > 0", &["ping", "bulk"]),
    // Counters and derived quantities.
    ("packets > 100", &["web", "v6web", "bulk"]),
    ("bytes > 1M", &["v6web", "bulk"]),
    ("bytes >= 150k and bytes <= 150k", &["web"]),
    ("flows > 1", &["bulk"]),
    ("duration > 1000", &["web", "v6web", "bulk"]),
    ("duration = 1000", &["ping", "gre"]),
    ("duration < 1", &["dns", "syn", "icmp6", "arp"]),
    ("bps > 1M", &["bulk"]),
    ("bps > 500k", &["web", "v6web", "bulk"]),
    ("bps = 8000", &["gre"]),
    ("pps > 50", &["web", "v6web", "bulk"]),
    ("pps = 0", &["dns", "syn", "icmp6", "arp"]),
    ("bpp > 1000", &["web", "v6web", "bulk"]),
    ("bpp < 64", &["syn", "arp"]),
    ("bpp = 100", &["gre"]),
    // Schema columns by name.
    ("dst_country = US", &["web", "dns", "v6web"]),
    (
        "dst_country != US",
        &["syn", "ping", "icmp6", "bulk", "arp", "gre"],
    ),
    ("dst_country in [AU, US]", &["web", "dns", "ping", "v6web"]),
    ("src_country = 'CN'", &["syn"]),
    ("dst_country = us", &[]),
    ("app = dns", &["dns"]),
    ("app in [\"https\", iperf]", &["web", "v6web", "bulk"]),
    ("dst_domain ~ \"*.example.com\"", &["web", "v6web"]),
    ("in_if_name ~ xe-*", &["web"]),
    ("dst_as_name = EDGECAST", &["web"]),
    ("threat != \"\"", &["syn"]),
    ("src_as in [64500, 64512]", &["syn", "gre"]),
    ("dst_addr << 8.8.8.0/24", &["dns"]),
    ("src_addr = 2001:db8::10", &["v6web"]),
    ("dst_addr in [1.1.1.1 2001:db8::/32]", &["ping", "icmp6"]),
    (
        "exporter_addr != 192.0.2.1",
        &["dns", "v6web", "icmp6", "bulk", "arp"],
    ),
    ("dst_as_path = 3356", &["web"]),
    ("dst_as_path in [174, 15169]", &["dns", "v6web"]),
    (
        "dst_as_path != 15133",
        &["dns", "syn", "ping", "icmp6", "bulk", "arp", "gre"],
    ),
    ("dst_communities = 65000:100", &["web"]),
    ("sampling_rate > 1", &["bulk"]),
    ("flow_start >= 2024-03-01T12:00:05Z", &["syn"]),
    ("flow_end > 2024-03-01T21:00:30+09:00", &["bulk"]),
    ("etype = 0x0806", &["arp"]),
    ("tcp_flags = 27", &["web"]),
    ("src_mac = 00:11:22:33:44:55 and vlan = 200", &["arp"]),
    ("DST_PORT == 443 AND Proto eq TCP", &["web", "v6web"]),
    ("in_if = 3 and out_if = 7", &["web", "ping", "v6web"]),
    ("src_port > 1023 and dst_port > 1023", &["bulk"]),
    ("src_port ge 5001", &["web", "dns", "syn", "v6web", "bulk"]),
];

fn selected<'a>(
    f: &filter::Filter,
    batch: &FlowBatch,
    named: &'a [(&'static str, FlowRecord)],
) -> Vec<&'a str> {
    named
        .iter()
        .filter(|(_, r)| f.matches(r, batch))
        .map(|&(n, _)| n)
        .collect()
}

#[test]
fn filters_select_exactly_the_expected_flows() {
    let (batch, named) = flows();
    assert!(CASES.len() >= 60);
    let mut wrong = Vec::new();
    for &(text, want) in CASES {
        assert!(
            want.iter().all(|w| ALL.contains(w)),
            "unknown flow name in {text:?}"
        );
        let f = filter::parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        let got = selected(&f, &batch, &named);
        let want: Vec<&str> = ALL.iter().copied().filter(|n| want.contains(n)).collect();
        if got != want {
            wrong.push(format!(
                "{text:?} (read as `{f}`): selected {got:?}, expected {want:?}"
            ));
        }
        let printed = f.to_string();
        let again = filter::parse(&printed).unwrap_or_else(|e| panic!("{printed:?}: {e}"));
        assert_eq!(
            selected(&again, &batch, &named),
            got,
            "{text:?} printed as {printed:?}"
        );
    }
    assert!(
        wrong.is_empty(),
        "{} of {} filters:\n{}",
        wrong.len(),
        CASES.len(),
        wrong.join("\n")
    );
}

#[test]
fn nfdump_shorthands_read_as_schema_comparisons() {
    let cases = [
        ("port 80", "src_port = 80 or dst_port = 80"),
        ("src port > 1023", "src_port > 1023"),
        ("host 192.0.2.1", "src_addr = 192.0.2.1 or dst_addr = 192.0.2.1"),
        ("dst net 10.0.0.0 255.0.0.0", "dst_addr << 10.0.0.0/8"),
        ("in if 3", "in_if = 3"),
        ("icmp-type 8", "proto in [1, 58] and icmp_type = 8"),
        ("flags 18", "proto = 6 and tcp_flags = 18"),
        ("router ip 192.0.2.1", "exporter_addr = 192.0.2.1"),
        ("ipv6", "etype = 0x86dd"),
        (
            "proto tcp and (port 22 or port 23)",
            "proto = 6 and (src_port = 22 or dst_port = 22 or src_port = 23 or dst_port = 23)",
        ),
        ("not not any", "not not any"),
        ("bytes > 2G", "bytes > 2000000000"),
    ];
    for (text, canonical) in cases {
        let f = filter::parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        assert_eq!(f.to_string(), canonical, "{text:?}");
    }
}
