use std::net::{IpAddr, Ipv6Addr};

use proptest::prelude::*;
use weir_flow::{FlowRecord, ip, ipv4};

use super::*;

fn table(text: &str) -> RoutingTable {
    RoutingTable::parse("routes.txt", text.as_bytes()).expect("the table parses")
}

fn addr(s: &str) -> Ipv6Addr {
    ip(s.parse::<IpAddr>().expect("an address"))
}

/// The file, line, column and problem of a table that does not parse.
fn error(text: &[u8]) -> (String, usize, usize, Problem) {
    let e = RoutingTable::parse("routes.txt", text).expect_err("a bad table");
    (e.file, e.line, e.column, e.problem)
}

const TABLE: &str = "\
# prefix        AS      next hop     BGP next hop
10.0.0.0/8      64500   192.0.2.1
10.1.0.0/16     64512   192.0.2.2    198.51.100.7   # more specific
10.2.0.0 255.255.0.0  64513   -     198.51.100.8

\t2001:db8::/32\t64514\t-\t2001:db8:ffff::1
2001:db8:1::/48 64515   fe80::1
0.0.0.0/0
";

#[test]
fn reads_prefixes_ases_and_next_hops_with_optional_fields() {
    let t = table(TABLE);
    assert_eq!(t.len(), 6);
    let r = t.lookup(addr("10.1.2.3")).expect("a route");
    assert_eq!(
        r,
        Route {
            prefix: ipv4([10, 1, 0, 0]),
            len: 16,
            asn: 64512,
            next_hop: ipv4([192, 0, 2, 2]),
            bgp_next_hop: ipv4([198, 51, 100, 7]),
        }
    );
    let r = t.lookup(addr("10.2.200.1")).expect("a route");
    assert_eq!((r.len, r.asn, r.next_hop), (16, 64513, Ipv6Addr::UNSPECIFIED));
    assert_eq!(r.bgp_next_hop, ipv4([198, 51, 100, 8]));
    let r = t.lookup(addr("10.3.0.1")).expect("a route");
    assert_eq!((r.len, r.asn, r.bgp_next_hop), (8, 64500, Ipv6Addr::UNSPECIFIED));
    let r = t.lookup(addr("2001:db8:1::5")).expect("a route");
    assert_eq!((r.len, r.asn, r.next_hop), (48, 64515, addr("fe80::1")));
    let r = t.lookup(addr("2001:db8:2::5")).expect("a route");
    assert_eq!(
        (r.len, r.asn, r.bgp_next_hop),
        (32, 64514, addr("2001:db8:ffff::1"))
    );
    let r = t.lookup(addr("192.0.2.99")).expect("the default route");
    assert_eq!((r.len, r.asn), (0, 0));
    assert_eq!(t.lookup(addr("2001:db9::1")), None);
}

#[test]
fn ipv4_flows_match_only_ipv4_routes() {
    let t = table("::/0 65000\n");
    assert_eq!(t.lookup(addr("2001:db8::1")).map(|r| r.asn), Some(65000));
    assert_eq!(t.lookup(addr("192.0.2.1")), None);
    assert_eq!(t.lookup(Ipv6Addr::UNSPECIFIED), None);
}

#[test]
fn annotate_fills_masks_ases_and_next_hops_like_a_router() {
    let t = table(TABLE);
    let mut rec = FlowRecord {
        src_addr: addr("2001:db8:1::9"),
        dst_addr: addr("2001:db8:77::1"),
        ..FlowRecord::default()
    };
    t.annotate(&mut rec);
    assert_eq!((rec.src_mask, rec.src_as), (48, 64515));
    assert_eq!((rec.dst_mask, rec.dst_as), (32, 64514));
    assert_eq!(
        (rec.next_hop, rec.bgp_next_hop),
        (Ipv6Addr::UNSPECIFIED, addr("2001:db8:ffff::1"))
    );

    let mut rec = FlowRecord {
        src_addr: addr("10.1.0.1"),
        dst_addr: addr("10.0.0.1"),
        ..FlowRecord::default()
    };
    t.annotate(&mut rec);
    assert_eq!(
        (rec.src_mask, rec.src_as, rec.dst_mask, rec.dst_as),
        (16, 64512, 8, 64500)
    );
    assert_eq!(
        (rec.next_hop, rec.bgp_next_hop),
        (ipv4([192, 0, 2, 1]), Ipv6Addr::UNSPECIFIED)
    );
}

#[test]
fn annotate_without_a_route_clears_masks_ases_and_next_hops() {
    let t = table("10.0.0.0/8 64500 192.0.2.1 192.0.2.2\n");
    let mut rec = FlowRecord {
        src_addr: addr("192.0.2.1"),
        dst_addr: addr("2001:db8::1"),
        src_mask: 24,
        dst_mask: 24,
        src_as: 1,
        dst_as: 2,
        next_hop: addr("192.0.2.254"),
        bgp_next_hop: addr("192.0.2.253"),
        ..FlowRecord::default()
    };
    t.annotate(&mut rec);
    let cleared = FlowRecord {
        src_addr: rec.src_addr,
        dst_addr: rec.dst_addr,
        ..FlowRecord::default()
    };
    assert_eq!(rec, cleared);
}

#[test]
fn rejects_bad_lines_naming_file_line_and_column() {
    let cases: &[(&[u8], usize, usize, Problem)] = &[
        (
            b"10.0.0.0/8\n10.0.0.0.0/8\n",
            2,
            1,
            Problem::BadAddress("10.0.0.0.0".into()),
        ),
        (
            b"  10.0.0.0/33",
            1,
            12,
            Problem::BadLength {
                text: "33".into(),
                max: 32,
            },
        ),
        (
            b"2001:db8::/129",
            1,
            12,
            Problem::BadLength {
                text: "129".into(),
                max: 128,
            },
        ),
        (
            b"10.0.0.0/x",
            1,
            10,
            Problem::BadLength {
                text: "x".into(),
                max: 32,
            },
        ),
        (
            b"# c\n\n10.0.0.0 64500",
            3,
            1,
            Problem::MissingLength("10.0.0.0".into()),
        ),
        (b"2001:db8::", 1, 1, Problem::MissingLength("2001:db8::".into())),
        (
            b"10.0.0.0 255.0.255.0",
            1,
            10,
            Problem::BadNetmask("255.0.255.0".into()),
        ),
        (b"10.1.0.0/8 1", 1, 1, Problem::HostBits("10.1.0.0/8".into())),
        (
            b"::ffff:10.0.0.0/104",
            1,
            1,
            Problem::MappedPrefix("::ffff:10.0.0.0/104".into()),
        ),
        (b"10.0.0.0/8\tAS1", 1, 12, Problem::BadAs("AS1".into())),
        (
            b"10.0.0.0/8 4294967296",
            1,
            12,
            Problem::BadAs("4294967296".into()),
        ),
        (
            b"10.0.0.0/8 1 192.0.2.300",
            1,
            14,
            Problem::BadAddress("192.0.2.300".into()),
        ),
        (
            b"10.0.0.0/8 1 - - 192.0.2.1",
            1,
            18,
            Problem::ExtraField("192.0.2.1".into()),
        ),
        (
            "# é\n10.0.0.0/8 1 é".as_bytes(),
            2,
            14,
            Problem::BadAddress("é".into()),
        ),
        (b"10.0.0.0/8\n# ok\n 10.0.\xff", 3, 7, Problem::NotUtf8),
    ];
    for (text, line, column, problem) in cases {
        let got = error(text);
        assert_eq!(
            got,
            ("routes.txt".to_owned(), *line, *column, problem.clone()),
            "{}",
            String::from_utf8_lossy(text)
        );
    }
}

#[test]
fn rejects_a_prefix_listed_twice_on_its_second_line() {
    let text = b"10.0.0.0/8 1\n2001:db8::/32\n10.0.0.0 255.0.0.0 2\n";
    let got = error(text);
    let problem = Problem::Duplicate {
        prefix: "10.0.0.0/8".into(),
        first_line: 1,
    };
    assert_eq!(got, ("routes.txt".to_owned(), 3, 1, problem));
    let e = RoutingTable::parse("routes.txt", text).expect_err("a duplicate");
    assert_eq!(
        e.to_string(),
        "routes.txt:3:1: 10.0.0.0/8 is listed twice (first on line 1)"
    );
}

#[test]
fn error_messages_quote_at_most_64_characters_of_a_field() {
    let long = "x".repeat(10_000);
    let (_, _, _, problem) = error(long.as_bytes());
    assert_eq!(problem, Problem::BadAddress(format!("{}...", "x".repeat(64))));
}

#[test]
fn an_empty_file_is_an_empty_table() {
    let t = table("# nothing\n\n");
    assert!(t.is_empty());
    assert_eq!(t.lookup(addr("10.0.0.1")), None);
}

/// The route a brute-force scan of every route gives: the longest prefix holding `a`.
fn brute_force(routes: &[(u128, u8, bool)], a: u128, v4: bool) -> Option<usize> {
    let width = if v4 { 32 } else { 128 };
    routes
        .iter()
        .enumerate()
        .filter(|(_, (net, len, is_v4))| {
            *is_v4 == v4 && (*len == 0 || (a ^ net) >> (width - u32::from(*len)) == 0)
        })
        .max_by_key(|(_, (_, len, _))| *len)
        .map(|(i, _)| i)
}

/// Prefixes drawn near a few bases, so that they nest and overlap as a real table's do.
fn prefixes() -> impl Strategy<Value = Vec<(u128, u8, bool)>> {
    let one = (any::<bool>(), 0usize..4, any::<u128>(), 0u8..=128).prop_map(|(v4, base, noise, len)| {
        let (width, bases): (u32, [u128; 4]) = if v4 {
            (32, [0x0a00_0000, 0x0a01_0000, 0xc000_0200, 0xffff_ff00])
        } else {
            (
                128,
                [0x2001_0db8 << 96, 0x2001_0db8_0001 << 80, 0, u128::MAX << 8],
            )
        };
        let len = len % (width as u8 + 1);
        // Random low bits under a shared base: short prefixes coincide and nest, long ones spread.
        let bits = bases[base] ^ (noise >> (128 - width / 2));
        let mask = u128::MAX.checked_shl(width - u32::from(len)).unwrap_or(0) & (u128::MAX >> (128 - width));
        (bits & mask, len, v4)
    });
    prop::collection::vec(one, 0..60).prop_map(|mut v| {
        let mut seen = std::collections::HashSet::new();
        v.retain(|p| seen.insert(*p));
        v
    })
}

fn text_of(routes: &[(u128, u8, bool)]) -> String {
    routes
        .iter()
        .enumerate()
        .map(|(i, &(net, len, v4))| {
            if v4 {
                format!("{}/{len} {i}\n", std::net::Ipv4Addr::from_bits(net as u32))
            } else {
                format!("{}/{len} {i}\n", Ipv6Addr::from_bits(net))
            }
        })
        .collect()
}

proptest! {
    #[test]
    fn longest_prefix_match_agrees_with_a_brute_force_scan(
        routes in prefixes(),
        probes in prop::collection::vec((any::<bool>(), any::<u128>()), 0..40),
    ) {
        let t = table(&text_of(&routes));
        // Every prefix's first and last address and their neighbours, plus random addresses.
        let mut addrs: Vec<(u128, bool)> = probes.iter().map(|&(v4, a)| (if v4 { a >> 96 } else { a }, v4)).collect();
        for &(net, len, v4) in &routes {
            let width = if v4 { 32 } else { 128 };
            let host = u128::MAX.checked_shr(u32::from(len) + 128 - width).unwrap_or(0);
            let max = u128::MAX >> (128 - width);
            for a in [net.wrapping_sub(1) & max, net, net | host, (net | host).wrapping_add(1) & max] {
                addrs.push((a, v4));
            }
        }
        for (a, v4) in addrs {
            let flow_addr = if v4 { ipv4((a as u32).to_be_bytes()) } else { Ipv6Addr::from_bits(a) };
            let got = t.lookup(flow_addr).map(|r| (r.asn as usize, r.prefix, r.len));
            let want = if !v4 && a == 0 { None } else { brute_force(&routes, a, v4) };
            let want = want.map(|i| {
                let (net, len, _) = routes[i];
                let prefix = if v4 { ipv4((net as u32).to_be_bytes()) } else { Ipv6Addr::from_bits(net) };
                (i, prefix, len)
            });
            prop_assert_eq!(got, want, "address {:?}", flow_addr);
        }
    }
}
