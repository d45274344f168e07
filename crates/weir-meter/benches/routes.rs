//! Longest-prefix match in a table the size of a full BGP feed: 900,000 IPv4 routes with the prefix-length
//! mix of the Internet's table (most of them /24s), and 200,000 IPv6 routes.
//!
//! The table is generated (a fixed-seed generator, so runs compare), written as a routing table file and
//! parsed, which also measures loading. Lookups go to addresses inside routed prefixes, as flows mostly do,
//! and to random addresses.

use std::fmt::Write as _;
use std::hint::black_box;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::Instant;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use weir_flow::{FlowRecord, ipv4};
use weir_meter::routes::RoutingTable;

/// xorshift64*: enough randomness for addresses, with no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// Prefix lengths of a full IPv4 table, per mille (approximately the shares in public BGP tables).
const V4_LENGTHS: &[(u8, u32)] = &[
    (8, 1),
    (12, 2),
    (14, 4),
    (15, 5),
    (16, 14),
    (17, 9),
    (18, 16),
    (19, 30),
    (20, 45),
    (21, 50),
    (22, 110),
    (23, 90),
    (24, 624),
];

/// Prefix lengths of a full IPv6 table, per mille.
const V6_LENGTHS: &[(u8, u32)] = &[(29, 30), (32, 150), (36, 30), (40, 60), (44, 100), (48, 630)];

fn pick(rng: &mut Rng, lengths: &[(u8, u32)]) -> u8 {
    let mut x = (rng.next() % 1000) as u32;
    for &(len, share) in lengths {
        if x < share {
            return len;
        }
        x -= share;
    }
    lengths[lengths.len() - 1].0
}

/// A routing table file of `v4` IPv4 and `v6` IPv6 routes, and the routes' networks.
fn table_text(v4: usize, v6: usize) -> (String, Vec<u32>, Vec<u128>) {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut seen = std::collections::HashSet::new();
    let mut text = String::new();
    let (mut nets4, mut nets6) = (Vec::new(), Vec::new());
    while nets4.len() < v4 {
        let len = pick(&mut rng, V4_LENGTHS);
        // Unicast space only: 1.0.0.0 to 223.255.255.255.
        let a = (rng.next() as u32) % (223 << 24) + (1 << 24);
        let net = a & (u32::MAX << (32 - len));
        if seen.insert((u128::from(net), len, true)) {
            let asn = 1 + rng.next() % 400_000;
            let _ = writeln!(
                text,
                "{}/{len} {asn} 192.0.2.1 198.51.100.{}",
                Ipv4Addr::from(net),
                asn % 250
            );
            nets4.push(net);
        }
    }
    while nets6.len() < v6 {
        let len = pick(&mut rng, V6_LENGTHS);
        // 2000::/3, mostly under the RIRs' big blocks.
        let a = (0x2000u128 + u128::from(rng.next() % 0x1000)) << 112 | u128::from(rng.next()) << 48;
        let net = a & (u128::MAX << (128 - len));
        if seen.insert((net, len, false)) {
            let asn = 1 + rng.next() % 400_000;
            let _ = writeln!(
                text,
                "{}/{len} {asn} - 2001:db8::{:x}:{:x}",
                Ipv6Addr::from(net),
                asn >> 16,
                asn & 0xffff
            );
            nets6.push(net);
        }
    }
    (text, nets4, nets6)
}

fn bench(c: &mut Criterion) {
    let (text, nets4, nets6) = table_text(900_000, 200_000);
    let started = Instant::now();
    let table = RoutingTable::parse("full-table.txt", text.as_bytes()).expect("the generated table parses");
    eprintln!(
        "Loaded {} routes ({} MB of text) in {:.2?}; the table holds {} MB.",
        table.len(),
        text.len() / 1_000_000,
        started.elapsed(),
        table.heap_bytes() / 1_000_000
    );

    let mut rng = Rng(7);
    const N: usize = 4096;
    let routed4: Vec<_> = (0..N)
        .map(|_| {
            let net = nets4[(rng.next() % nets4.len() as u64) as usize];
            ipv4((net | (rng.next() as u32 & 0xff)).to_be_bytes())
        })
        .collect();
    let random4: Vec<_> = (0..N).map(|_| ipv4((rng.next() as u32).to_be_bytes())).collect();
    let routed6: Vec<_> = (0..N)
        .map(|_| Ipv6Addr::from(nets6[(rng.next() % nets6.len() as u64) as usize] | u128::from(rng.next())))
        .collect();

    let mut g = c.benchmark_group("routes");
    g.throughput(Throughput::Elements(N as u64));
    for (name, addrs) in [
        ("lookup_v4_routed", &routed4),
        ("lookup_v4_random", &random4),
        ("lookup_v6_routed", &routed6),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut asns = 0u64;
                for &a in addrs {
                    asns += table.lookup(black_box(a)).map_or(0, |r| u64::from(r.asn));
                }
                asns
            })
        });
    }
    let flows: Vec<_> = routed4
        .iter()
        .zip(random4.iter().rev())
        .map(|(&dst, &src)| FlowRecord {
            src_addr: src,
            dst_addr: dst,
            ..FlowRecord::default()
        })
        .collect();
    g.bench_function("annotate_v4", |b| {
        let mut flows = flows.clone();
        b.iter(|| {
            for f in &mut flows {
                table.annotate(black_box(f));
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
