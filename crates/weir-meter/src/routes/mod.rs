//! A routing table read from a text file, to fill in what a router takes from its FIB and BGP table when it
//! exports a flow: the source and destination prefix lengths and origin ASes, the next hop and the BGP next
//! hop towards the destination.
//!
//! The file has one `prefix [AS [next-hop [bgp-next-hop]]]` per line (`parse.rs` says the details). Lookups
//! are longest-prefix matches over disjoint address ranges (`ranges.rs`), one table per address family; they
//! run once per expired flow, so they allocate nothing and take tens of nanoseconds in a full table.

mod parse;
mod ranges;

use std::net::Ipv6Addr;

use weir_flow::FlowRecord;

pub use parse::{Problem, RouteFileError};
use ranges::{NO_ROUTE, RangeTable};

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

/// Routes by longest-prefix match, IPv4 and IPv6.
#[derive(Debug, Clone)]
pub struct RoutingTable {
    routes: Vec<Route>,
    v4: RangeTable<u32>,
    v6: RangeTable<u128>,
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
        let routes: Vec<Route> = parsed.into_iter().map(|p| p.route).collect();
        let (mut v4, mut v6) = (Vec::new(), Vec::new());
        for (i, r) in routes.iter().enumerate() {
            // Fewer routes than u32::MAX: the file would be hundreds of gigabytes.
            let i = i as u32;
            match r.prefix.to_ipv4_mapped() {
                Some(a) => v4.push((a.to_bits(), r.len, i)),
                None => v6.push((r.prefix.to_bits(), r.len, i)),
            }
        }
        Ok(Self {
            v4: RangeTable::build(v4),
            v6: RangeTable::build(v6),
            routes,
        })
    }

    /// The route of the longest prefix holding `addr` (IPv4-mapped for IPv4). The unspecified address
    /// (`::`, a flow without that address) has none.
    #[inline]
    pub fn lookup(&self, addr: Ipv6Addr) -> Option<&Route> {
        let i = match addr.to_ipv4_mapped() {
            Some(a) => self.v4.lookup(a.to_bits()),
            None if addr.is_unspecified() => NO_ROUTE,
            None => self.v6.lookup(addr.to_bits()),
        };
        self.routes.get(i as usize)
    }

    /// Fills what a router exporting `rec` would take from its routing table: the source prefix length
    /// and origin AS from the route to the source; the destination prefix length and origin AS, the next
    /// hop and the BGP next hop from the route to the destination. Without a route: lengths and ASes 0,
    /// next hops unspecified.
    #[inline]
    pub fn annotate(&self, rec: &mut FlowRecord) {
        let src = self.lookup(rec.src_addr);
        rec.src_mask = src.map_or(0, |r| r.len);
        rec.src_as = src.map_or(0, |r| r.asn);
        match self.lookup(rec.dst_addr) {
            Some(r) => {
                rec.dst_mask = r.len;
                rec.dst_as = r.asn;
                rec.next_hop = r.next_hop;
                rec.bgp_next_hop = r.bgp_next_hop;
            }
            None => {
                rec.dst_mask = 0;
                rec.dst_as = 0;
                rec.next_hop = Ipv6Addr::UNSPECIFIED;
                rec.bgp_next_hop = Ipv6Addr::UNSPECIFIED;
            }
        }
    }

    /// How many routes the table holds.
    pub fn len(&self) -> usize {
        self.routes.len()
    }

    /// Whether the table holds no route.
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    /// Bytes the table holds on the heap.
    pub fn heap_bytes(&self) -> usize {
        self.routes.capacity() * size_of::<Route>() + self.v4.heap_bytes() + self.v6.heap_bytes()
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
