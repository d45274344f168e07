//! A routing table read from a text file, to fill in what a router takes from its FIB and BGP table when it
//! exports a flow: the source and destination prefix lengths and origin ASes, the next hop and the BGP next
//! hop towards the destination.
//!
//! The file has one `prefix [AS [next-hop [bgp-next-hop]]]` per line (`parse.rs` says the details). Lookups
//! are longest-prefix matches over disjoint address ranges (`ranges.rs`), one table per address family; they
//! run once per expired flow, so they allocate nothing and take tens of nanoseconds in a full table.

mod parse;
mod ranges;

use std::collections::HashMap;
use std::net::Ipv6Addr;

use weir_flow::{FlowRecord, ipv4};

pub use parse::{Problem, RouteFileError};
use ranges::{Bits, RangeTable};

/// One route of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// The network address; IPv4 is stored IPv4-mapped, like flow addresses.
    pub prefix: Ipv6Addr,
    /// The prefix length: up to 32 for IPv4, 128 for IPv6.
    pub len: u8,
    /// The AS that originates the prefix; 0 when unknown.
    pub asn: u32,
    /// The IP next hop; unspecified when the file gives none.
    pub next_hop: Ipv6Addr,
    /// The BGP next hop; unspecified when the file gives none.
    pub bgp_next_hop: Ipv6Addr,
}

/// What a lookup answers, stored in the ranges: 16 bytes, next hops as indexes into the table's list of
/// distinct next hops (a full table has a few thousand at most).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Answer {
    asn: u32,
    next_hop: u32,
    bgp_next_hop: u32,
    /// The prefix length; [`Answer::NONE`]'s is above any.
    len: u8,
}

impl Answer {
    /// No route.
    const NONE: Self = Self {
        asn: 0,
        next_hop: 0,
        bgp_next_hop: 0,
        len: u8::MAX,
    };
}

/// Routes by longest-prefix match, IPv4 and IPv6.
#[derive(Debug, Clone)]
pub struct RoutingTable {
    v4: RangeTable<u32, Answer>,
    v6: RangeTable<u128, Answer>,
    /// Every distinct next hop; the first is the unspecified address.
    hops: Vec<Ipv6Addr>,
    routes: usize,
}

impl RoutingTable {
    /// Reads a routing table from the contents of a file (the caller reads it: this crate does no I/O);
    /// `file` names it in errors.
    pub fn parse(file: &str, bytes: &[u8]) -> Result<Self, RouteFileError> {
        let mut parsed = parse::parse(file, bytes)?;
        // In file order among equal prefixes, so a duplicate is reported on its second line.
        parsed.sort_by_key(|p| (p.route.prefix, p.route.len));
        if let Some(pair) = parsed
            .windows(2)
            .find(|w| (w[0].route.prefix, w[0].route.len) == (w[1].route.prefix, w[1].route.len))
        {
            let (first, again) = (&pair[0], &pair[1]);
            return Err(RouteFileError {
                file: file.to_owned(),
                line: again.line,
                column: 1,
                problem: Problem::Duplicate {
                    prefix: prefix_text(&again.route),
                    first_line: first.line,
                },
            });
        }
        let mut hops = vec![Ipv6Addr::UNSPECIFIED];
        let mut hop_index = HashMap::from([(Ipv6Addr::UNSPECIFIED, 0u32)]);
        let mut hop = |a: Ipv6Addr| {
            // Fewer distinct next hops than u32::MAX: each takes a line of the file.
            *hop_index.entry(a).or_insert_with(|| {
                hops.push(a);
                (hops.len() - 1) as u32
            })
        };
        let (mut v4, mut v6) = (Vec::new(), Vec::new());
        for p in &parsed {
            let r = &p.route;
            let answer = Answer {
                asn: r.asn,
                next_hop: hop(r.next_hop),
                bgp_next_hop: hop(r.bgp_next_hop),
                len: r.len,
            };
            match r.prefix.to_ipv4_mapped() {
                Some(a) => v4.push((a.to_bits(), r.len, answer)),
                None => v6.push((r.prefix.to_bits(), r.len, answer)),
            }
        }
        Ok(Self {
            v4: RangeTable::build(v4, Answer::NONE),
            v6: RangeTable::build(v6, Answer::NONE),
            hops,
            routes: parsed.len(),
        })
    }

    #[inline]
    fn answer(&self, addr: Ipv6Addr) -> Answer {
        match addr.to_ipv4_mapped() {
            Some(a) => self.v4.lookup(a.to_bits()),
            None if addr.is_unspecified() => Answer::NONE,
            None => self.v6.lookup(addr.to_bits()),
        }
    }

    #[inline]
    fn hop(&self, i: u32) -> Ipv6Addr {
        self.hops
            .get(i as usize)
            .copied()
            .unwrap_or(Ipv6Addr::UNSPECIFIED)
    }

    /// The route of the longest prefix holding `addr` (IPv4-mapped for IPv4). The unspecified address
    /// (`::`, a flow without that address) has none.
    #[inline]
    pub fn lookup(&self, addr: Ipv6Addr) -> Option<Route> {
        let a = self.answer(addr);
        if a == Answer::NONE {
            return None;
        }
        let prefix = match addr.to_ipv4_mapped() {
            Some(v4) => ipv4((v4.to_bits() & !u32::host_bits(a.len)).to_be_bytes()),
            None => Ipv6Addr::from_bits(addr.to_bits() & !u128::host_bits(a.len)),
        };
        Some(Route {
            prefix,
            len: a.len,
            asn: a.asn,
            next_hop: self.hop(a.next_hop),
            bgp_next_hop: self.hop(a.bgp_next_hop),
        })
    }

    /// Fills what a router exporting `rec` would take from its routing table: the source prefix length
    /// and origin AS from the route to the source; the destination prefix length and origin AS, the next
    /// hop and the BGP next hop from the route to the destination. Without a route: lengths and ASes 0,
    /// next hops unspecified.
    #[inline]
    pub fn annotate(&self, rec: &mut FlowRecord) {
        let src = self.answer(rec.src_addr);
        (rec.src_mask, rec.src_as) = match src {
            Answer::NONE => (0, 0),
            a => (a.len, a.asn),
        };
        let dst = self.answer(rec.dst_addr);
        (rec.dst_mask, rec.dst_as) = match dst {
            Answer::NONE => (0, 0),
            a => (a.len, a.asn),
        };
        // No route's next hops are index 0, the unspecified address.
        rec.next_hop = self.hop(dst.next_hop);
        rec.bgp_next_hop = self.hop(dst.bgp_next_hop);
    }

    /// How many routes the table holds.
    pub fn len(&self) -> usize {
        self.routes
    }

    /// Whether the table holds no route.
    pub fn is_empty(&self) -> bool {
        self.routes == 0
    }

    /// Bytes the table holds on the heap.
    pub fn heap_bytes(&self) -> usize {
        self.hops.capacity() * size_of::<Ipv6Addr>() + self.v4.heap_bytes() + self.v6.heap_bytes()
    }
}

/// A route's prefix as written in the file, IPv4 as IPv4.
fn prefix_text(r: &Route) -> String {
    match r.prefix.to_ipv4_mapped() {
        Some(a) => format!("{a}/{}", r.len),
        None => format!("{}/{}", r.prefix, r.len),
    }
}

#[cfg(test)]
mod tests;
