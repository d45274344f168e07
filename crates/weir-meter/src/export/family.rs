//! Which IP version a flow belongs to, which decides the template it goes out with, or whether a format
//! can carry it at all.

use std::net::Ipv6Addr;

use weir_flow::FlowRecord;
use weir_flow::codes::etype;

/// The IP version of a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    V4 = 0,
    V6 = 1,
}

/// Why a flow is not exported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Skip {
    /// An IPv6 flow, given to a version that only carries IPv4 (v5, v8).
    Ipv6,
    /// Neither IPv4 nor IPv6 (ARP, MPLS without IP, ...): no format here has records for it.
    NonIp,
}

/// An address as IPv4 can hold it: IPv4-mapped, or unspecified (a column the flow does not have).
fn fits_v4(a: Ipv6Addr) -> bool {
    a.is_unspecified() || a.to_ipv4_mapped().is_some()
}

/// The flow's IP version: IPv6 when its EtherType says so or an address is one IPv4 cannot hold (the BGP
/// next hop counts only with `bgp_next_hop`: v5 and v8 records do not carry it). An EtherType of 0
/// (aggregates that kept none) counts as IP.
pub(crate) fn family(flow: &FlowRecord, bgp_next_hop: bool) -> Result<Family, Skip> {
    match flow.etype {
        etype::IPV6 => Ok(Family::V6),
        0 | etype::IPV4 => {
            let bgp = if bgp_next_hop {
                flow.bgp_next_hop
            } else {
                flow.src_addr
            };
            let addrs = [flow.src_addr, flow.dst_addr, flow.next_hop, bgp];
            Ok(if addrs.into_iter().all(fits_v4) {
                Family::V4
            } else {
                Family::V6
            })
        }
        _ => Err(Skip::NonIp),
    }
}

#[cfg(test)]
mod tests {
    use weir_flow::ipv4;

    use super::*;

    #[test]
    fn classifies_by_ethertype_then_addresses() {
        let v4 = FlowRecord {
            etype: etype::IPV4,
            src_addr: ipv4([10, 0, 0, 1]),
            ..FlowRecord::default()
        };
        assert_eq!(family(&v4, true), Ok(Family::V4));
        assert_eq!(
            family(&FlowRecord::default(), true),
            Ok(Family::V4),
            "an aggregate without addresses"
        );
        let v6_next_hop = FlowRecord {
            next_hop: "2001:db8::1".parse().unwrap(),
            ..v4
        };
        assert_eq!(family(&v6_next_hop, false), Ok(Family::V6));
        let v6_bgp = FlowRecord {
            bgp_next_hop: "2001:db8::1".parse().unwrap(),
            ..v4
        };
        assert_eq!(family(&v6_bgp, true), Ok(Family::V6));
        assert_eq!(
            family(&v6_bgp, false),
            Ok(Family::V4),
            "when the BGP next hop is not carried"
        );
        let v6 = FlowRecord {
            etype: etype::IPV6,
            ..FlowRecord::default()
        };
        assert_eq!(family(&v6, false), Ok(Family::V6));
        let arp = FlowRecord {
            etype: etype::ARP,
            ..FlowRecord::default()
        };
        assert_eq!(family(&arp, true), Err(Skip::NonIp));
    }
}
