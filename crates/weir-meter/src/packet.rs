//! One packet as the meter takes it: the few fields of a parsed packet that keys and entries use.
//!
//! The packet parser fills a whole `FlowRecord` and a `Summary`, several hundred bytes; the meter needs
//! a fraction of them. A packet is reduced to a [`Packet`] once, right after it is parsed, and only that
//! travels on: through the meter's batch, and across threads to the shards of a multi-core probe, where
//! copying whole records was what bound the reader.

use std::net::Ipv6Addr;

use weir_flow::FlowRecord;
use weir_flow::codes::{etype, proto};
use weir_proto::packet::Summary;

/// The network layer of a packet, as the meter tells them apart.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Family {
    /// Not IP (ARP, LLDP, ...): counted, never cached.
    #[default]
    Other,
    /// IPv4.
    V4,
    /// IPv6.
    V6,
}

/// What the meter counts of one packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet {
    /// Capture time, ns since the epoch.
    pub ts_ns: u64,
    /// Source address (IPv4 mapped).
    pub src_addr: Ipv6Addr,
    /// Destination address (IPv4 mapped).
    pub dst_addr: Ipv6Addr,
    /// Source MAC (low 48 bits).
    pub src_mac: u64,
    /// Destination MAC (low 48 bits).
    pub dst_mac: u64,
    /// Layer-3 bytes: the IP header's length, or when it says 0 (segmentation offload) the frame's bytes
    /// after the link layer.
    pub bytes: u32,
    /// Source transport port.
    pub src_port: u16,
    /// Destination transport port, or ICMP type and code as `type << 8 | code`, as NetFlow keys them.
    pub dst_port: u16,
    /// Outermost VLAN id.
    pub vlan: u16,
    /// TCP flags (0 for other protocols).
    pub tcp_flags: u16,
    /// IPv4, IPv6 or neither.
    pub family: Family,
    /// IP protocol.
    pub proto: u8,
    /// ToS / traffic class.
    pub tos: u8,
    /// A non-first fragment: it has no transport header, so its ports are zero.
    pub fragment: bool,
}

impl Packet {
    /// The packet that `weir_proto::packet` parsed into `rec` and `summary`, captured at `ts_ns`, `wire_len`
    /// bytes long on the wire.
    #[inline]
    pub fn new(ts_ns: u64, rec: &FlowRecord, summary: &Summary, wire_len: u32) -> Packet {
        let family = match rec.etype {
            etype::IPV4 => Family::V4,
            etype::IPV6 => Family::V6,
            _ => Family::Other,
        };
        let bytes = if summary.ip_len > 0 {
            summary.ip_len
        } else {
            wire_len.saturating_sub(summary.l3_offset.unwrap_or(0) as u32)
        };
        let dst_port = if rec.proto == proto::ICMP || rec.proto == proto::ICMPV6 {
            u16::from(rec.icmp_type) << 8 | u16::from(rec.icmp_code)
        } else {
            rec.dst_port
        };
        Packet {
            ts_ns,
            src_addr: rec.src_addr,
            dst_addr: rec.dst_addr,
            src_mac: rec.src_mac,
            dst_mac: rec.dst_mac,
            bytes,
            src_port: rec.src_port,
            dst_port,
            vlan: rec.vlan,
            tcp_flags: rec.tcp_flags,
            family,
            proto: rec.proto,
            tos: rec.tos,
            fragment: summary.fragment.is_some_and(|f| !f.is_first()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use weir_flow::ipv4;
    use weir_proto::packet::Fragment;

    #[test]
    fn keeps_what_the_meter_counts() {
        let rec = FlowRecord {
            etype: etype::IPV4,
            src_addr: ipv4([10, 0, 0, 1]),
            dst_addr: ipv4([10, 0, 0, 2]),
            src_port: 40000,
            dst_port: 443,
            proto: proto::TCP,
            tos: 0x10,
            tcp_flags: 0x12,
            vlan: 7,
            src_mac: 1,
            dst_mac: 2,
            ..FlowRecord::default()
        };
        let summary = Summary {
            ip_len: 60,
            l3_offset: Some(18),
            ..Summary::default()
        };
        let p = Packet::new(5, &rec, &summary, 78);
        assert_eq!(
            p,
            Packet {
                ts_ns: 5,
                src_addr: rec.src_addr,
                dst_addr: rec.dst_addr,
                src_mac: 1,
                dst_mac: 2,
                bytes: 60,
                src_port: 40000,
                dst_port: 443,
                vlan: 7,
                tcp_flags: 0x12,
                family: Family::V4,
                proto: proto::TCP,
                tos: 0x10,
                fragment: false,
            }
        );
    }

    #[test]
    fn sizes_from_the_frame_when_the_ip_header_says_zero() {
        let rec = FlowRecord {
            etype: etype::IPV6,
            ..FlowRecord::default()
        };
        let summary = Summary {
            l3_offset: Some(14),
            ..Summary::default()
        };
        let p = Packet::new(0, &rec, &summary, 1514);
        assert_eq!((p.bytes, p.family), (1500, Family::V6));
        let arp = FlowRecord {
            etype: 0x0806,
            ..FlowRecord::default()
        };
        assert_eq!(Packet::new(0, &arp, &summary, 60).family, Family::Other);
    }

    #[test]
    fn icmp_type_and_code_take_the_destination_port_and_later_fragments_are_marked() {
        let echo = FlowRecord {
            etype: etype::IPV4,
            proto: proto::ICMP,
            icmp_type: 8,
            icmp_code: 1,
            ..FlowRecord::default()
        };
        assert_eq!(Packet::new(0, &echo, &Summary::default(), 0).dst_port, 0x0801);
        let fragment = |offset| Summary {
            fragment: Some(Fragment {
                id: 1,
                offset,
                more: true,
            }),
            ..Summary::default()
        };
        assert!(!Packet::new(0, &echo, &fragment(0), 0).fragment);
        assert!(Packet::new(0, &echo, &fragment(185), 0).fragment);
    }
}
