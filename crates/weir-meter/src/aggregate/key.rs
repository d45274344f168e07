//! An aggregate's key: the fields of a flow its scheme keeps, prefixes masked, the rest zero.

use std::net::Ipv6Addr;

use weir_flow::codes::proto;
use weir_flow::{FlowRecord, ipv4};

use super::scheme::Keys;

/// The fields an aggregate is keyed on. One type for every scheme: a scheme leaves the fields it does not
/// keep at zero, so the key doubles as the aggregate's record (see [`Key::record`]).
///
/// Every scheme also keys on the network layer (`etype`) and the sampling rate, which Cisco's IPv4-only
/// caches never had to: an aggregate must not mix IPv4 with IPv6 traffic (v8 can carry only the former),
/// nor counters sampled at different rates (they are stored unscaled, beside their rate).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub(crate) struct Key {
    // Addresses as integers, which have a default and hash in two words.
    src_prefix: u128,
    dst_prefix: u128,
    bgp_next_hop: u128,
    src_as: u32,
    dst_as: u32,
    in_if: u32,
    out_if: u32,
    sampling_rate: u32,
    etype: u16,
    src_port: u16,
    dst_port: u16,
    src_mask: u8,
    dst_mask: u8,
    tos: u8,
    proto: u8,
    icmp_type: u8,
    icmp_code: u8,
}

/// The shortest masks the prefix schemes use (`mask source|destination minimum N`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct MinMasks {
    pub(crate) src: u8,
    pub(crate) dst: u8,
}

impl Key {
    /// The key of `flow` under a scheme keeping `keys`.
    #[inline]
    pub(crate) fn of(flow: &FlowRecord, keys: Keys, min: MinMasks) -> Self {
        let mut k = Self {
            etype: flow.etype,
            sampling_rate: flow.sampling_rate,
            ..Self::default()
        };
        if keys.src_prefix {
            (k.src_prefix, k.src_mask) = prefix(flow.src_addr, flow.src_mask, min.src);
        }
        if keys.dst_prefix {
            (k.dst_prefix, k.dst_mask) = prefix(flow.dst_addr, flow.dst_mask, min.dst);
        }
        if keys.src_as {
            k.src_as = flow.src_as;
        }
        if keys.dst_as {
            k.dst_as = flow.dst_as;
        }
        if keys.in_if {
            k.in_if = flow.in_if;
        }
        if keys.out_if {
            k.out_if = flow.out_if;
        }
        if keys.tos {
            k.tos = flow.tos;
        }
        if keys.bgp_next_hop {
            k.bgp_next_hop = flow.bgp_next_hop.to_bits();
        }
        if keys.ports {
            k.proto = flow.proto;
            k.src_port = flow.src_port;
            (k.dst_port, k.icmp_type, k.icmp_code) = match flow.proto {
                // As NetFlow exports ICMP: type and code in the destination port, so that flows whose probe
                // filled either one aggregate together.
                proto::ICMP => {
                    let port = match flow.dst_port {
                        0 => u16::from_be_bytes([flow.icmp_type, flow.icmp_code]),
                        port => port,
                    };
                    let [icmp_type, icmp_code] = port.to_be_bytes();
                    (port, icmp_type, icmp_code)
                }
                _ => (flow.dst_port, flow.icmp_type, flow.icmp_code),
            };
        }
        k
    }

    /// The aggregate's record before its counters and times: the key's fields, every other column zero.
    pub(crate) fn record(&self) -> FlowRecord {
        FlowRecord {
            etype: self.etype,
            sampling_rate: self.sampling_rate,
            src_addr: Ipv6Addr::from_bits(self.src_prefix),
            dst_addr: Ipv6Addr::from_bits(self.dst_prefix),
            src_mask: self.src_mask,
            dst_mask: self.dst_mask,
            bgp_next_hop: Ipv6Addr::from_bits(self.bgp_next_hop),
            src_as: self.src_as,
            dst_as: self.dst_as,
            in_if: self.in_if,
            out_if: self.out_if,
            tos: self.tos,
            proto: self.proto,
            src_port: self.src_port,
            dst_port: self.dst_port,
            icmp_type: self.icmp_type,
            icmp_code: self.icmp_code,
            ..FlowRecord::default()
        }
    }
}

/// The prefix of `addr` under the longer of the route's mask and the minimum, and that mask (at most the
/// address width: 32 for IPv4-mapped addresses, 128 otherwise).
#[inline]
fn prefix(addr: Ipv6Addr, route_mask: u8, min: u8) -> (u128, u8) {
    let wanted = route_mask.max(min);
    match addr.to_ipv4_mapped() {
        Some(a) => {
            let len = wanted.min(32);
            let bits = a.to_bits() & u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
            (ipv4(bits.to_be_bytes()).to_bits(), len)
        }
        None => {
            let len = wanted.min(128);
            let bits = addr.to_bits() & u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
            (bits, len)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `prefix` with the prefix as an address.
    fn masked(addr: Ipv6Addr, route_mask: u8, min: u8) -> (Ipv6Addr, u8) {
        let (bits, len) = prefix(addr, route_mask, min);
        (Ipv6Addr::from_bits(bits), len)
    }

    #[test]
    fn prefixes_take_the_longer_of_route_mask_and_minimum() {
        let a = ipv4([10, 1, 2, 3]);
        assert_eq!(masked(a, 16, 0), (ipv4([10, 1, 0, 0]), 16));
        assert_eq!(masked(a, 16, 24), (ipv4([10, 1, 2, 0]), 24));
        assert_eq!(masked(a, 0, 0), (ipv4([0, 0, 0, 0]), 0));
        assert_eq!(masked(a, 40, 0), (a, 32));
        assert_eq!(masked(a, 8, 128), (a, 32));
        let b: Ipv6Addr = "2001:db8:1:2::1".parse().expect("an address");
        assert_eq!(
            masked(b, 32, 48),
            ("2001:db8:1::".parse().expect("an address"), 48)
        );
        assert_eq!(masked(b, 200, 0), (b, 128));
    }
}
