//! Mapping between NetFlow v1 to v8 fields and Weir's flow columns, for what every version shares.

use std::net::{Ipv4Addr, Ipv6Addr};

use weir_flow::codes::{etype, proto};
use weir_flow::{FlowBatch, FlowRecord, ip, ipv4};

use crate::decoder::Cx;

/// The columns every flow of one datagram shares, set once per datagram rather than once per record.
/// Direction and forwarding status stay unknown (0): these versions do not say.
pub(crate) fn common(cx: &Cx<'_>, observation_domain: u32, sampling_rate: u32) -> FlowRecord {
    FlowRecord {
        time_received: cx.received,
        exporter_addr: ip(cx.exporter),
        observation_domain,
        sampling_rate,
        etype: etype::IPV4,
        flows: 1,
        ..FlowRecord::default()
    }
}

/// An address from the wire in the schema's address type.
#[inline]
pub(crate) fn addr(a: Ipv4Addr) -> Ipv6Addr {
    ipv4(a.octets())
}

/// The IPv4 address behind a column value: IPv4-mapped, or unspecified (a column the flow does not have).
/// `None` for an IPv6 address, which these versions cannot carry.
pub(crate) fn v4(a: Ipv6Addr) -> Option<Ipv4Addr> {
    if a.is_unspecified() {
        Some(Ipv4Addr::UNSPECIFIED)
    } else {
        a.to_ipv4_mapped()
    }
}

/// Whether a flow can be exported in these IPv4-only versions.
pub(crate) fn is_ipv4(flow: &FlowRecord) -> bool {
    matches!(flow.etype, 0 | etype::IPV4)
        && [flow.src_addr, flow.dst_addr, flow.next_hop]
            .into_iter()
            .all(|a| v4(a).is_some())
}

/// Sets the ports and, for ICMP, the type and code: exporters put ICMP's type and code in the destination
/// port as `type * 256 + code`.
#[inline]
pub(crate) fn set_ports(flow: &mut FlowRecord, src_port: u16, dst_port: u16) {
    flow.src_port = src_port;
    flow.dst_port = dst_port;
    if flow.proto == proto::ICMP {
        let [icmp_type, icmp_code] = dst_port.to_be_bytes();
        flow.icmp_type = icmp_type;
        flow.icmp_code = icmp_code;
    }
}

/// The destination port to export for a flow: ICMP's type and code where the flow has them and no port.
pub(crate) fn dst_port_of(flow: &FlowRecord) -> u16 {
    if flow.proto == proto::ICMP && flow.dst_port == 0 {
        u16::from_be_bytes([flow.icmp_type, flow.icmp_code])
    } else {
        flow.dst_port
    }
}

/// RFC 6793's AS_TRANS: what a 2-byte AS field says for an AS number above 65535.
pub(crate) const AS_TRANS: u16 = 23_456;

/// An AS number for a 2-byte field.
pub(crate) fn as16(asn: u32) -> u16 {
    u16::try_from(asn).unwrap_or(AS_TRANS)
}

/// An interface index for a 2-byte field; 0 (unknown) for one above 65535 rather than a wrong interface.
pub(crate) fn if16(index: u32) -> u16 {
    u16::try_from(index).unwrap_or(0)
}

/// A counter for a 4-byte field, saturated: a probe exports long flows before they count that far.
pub(crate) fn count32(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// IPFIX ipv4RouterSc (IE 43): the router a Catalyst switch shortcuts, which has no column.
const IE_ROUTER_SC: u8 = 43;

/// Keeps a Catalyst record's router shortcut address in `extra_fields` (nothing when it is 0.0.0.0).
pub(crate) fn keep_router_sc(flow: &mut FlowRecord, batch: &mut FlowBatch, router_sc: Ipv4Addr) {
    if router_sc.is_unspecified() {
        return;
    }
    let [a, b, c, d] = router_sc.octets();
    // One extra-fields entry (see `weir_flow::extra_fields`): IANA enterprise 0, element id, length 4, value.
    let entry = [0, 0, 0, 0, 0, IE_ROUTER_SC, 0, 4, a, b, c, d];
    flow.extra_fields = batch.push_blob(&entry);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn icmp_type_and_code_come_from_the_destination_port() {
        let mut f = FlowRecord {
            proto: proto::ICMP,
            ..FlowRecord::default()
        };
        set_ports(&mut f, 0, 0x0301);
        assert_eq!((f.dst_port, f.icmp_type, f.icmp_code), (0x0301, 3, 1));
        let mut f = FlowRecord {
            proto: proto::UDP,
            ..FlowRecord::default()
        };
        set_ports(&mut f, 53, 0x0301);
        assert_eq!((f.icmp_type, f.icmp_code), (0, 0));
    }

    #[test]
    fn icmp_flows_without_a_port_export_type_and_code() {
        let f = FlowRecord {
            proto: proto::ICMP,
            icmp_type: 8,
            ..FlowRecord::default()
        };
        assert_eq!(dst_port_of(&f), 0x0800);
        let f = FlowRecord {
            proto: proto::ICMP,
            icmp_type: 8,
            dst_port: 0x0800,
            ..FlowRecord::default()
        };
        assert_eq!(dst_port_of(&f), 0x0800);
    }

    #[test]
    fn keeps_the_router_shortcut_as_an_extra_field() {
        let mut batch = FlowBatch::new();
        let mut f = FlowRecord::default();
        keep_router_sc(&mut f, &mut batch, Ipv4Addr::UNSPECIFIED);
        assert_eq!(batch.blob(f.extra_fields), b"");
        keep_router_sc(&mut f, &mut batch, Ipv4Addr::new(192, 0, 2, 1));
        let kept: Vec<_> = weir_flow::extra_fields(batch.blob(f.extra_fields)).collect();
        assert_eq!(
            kept,
            [weir_flow::ExtraField {
                enterprise: 0,
                id: 43,
                value: &[192, 0, 2, 1]
            }]
        );
    }

    #[test]
    fn values_too_wide_for_the_fields_degrade_as_documented() {
        assert_eq!((as16(64_512), as16(4_200_000_000)), (64_512, AS_TRANS));
        assert_eq!((if16(7), if16(70_000)), (7, 0));
        assert_eq!((count32(5), count32(1 << 40)), (5, u32::MAX));
    }

    #[test]
    fn only_ipv4_flows_can_be_exported() {
        let f = FlowRecord {
            src_addr: ipv4([192, 0, 2, 1]),
            ..FlowRecord::default()
        };
        assert!(is_ipv4(&f));
        assert_eq!(v4(f.src_addr), Some(Ipv4Addr::new(192, 0, 2, 1)));
        assert_eq!(v4(f.dst_addr), Some(Ipv4Addr::UNSPECIFIED));
        let f = FlowRecord {
            src_addr: "2001:db8::1".parse().unwrap(),
            ..FlowRecord::default()
        };
        assert!(!is_ipv4(&f));
        let f = FlowRecord {
            etype: etype::IPV6,
            ..FlowRecord::default()
        };
        assert!(!is_ipv4(&f));
    }
}
