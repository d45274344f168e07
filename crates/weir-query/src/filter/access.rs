//! Reading one column of a [`FlowRecord`] through a function pointer chosen once, when a filter is
//! compiled, so that evaluating a test is a call and a comparison rather than a match over every column.

use std::net::Ipv6Addr;

use weir_flow::{Field, FlowRecord, ListRef, Sym};

/// How to read a column, by the shape of its values.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Access {
    /// Integers, times and MACs, widened to `u64`.
    Uint(fn(&FlowRecord) -> u64),
    /// Addresses.
    Ip(fn(&FlowRecord) -> Ipv6Addr),
    /// Strings, as handles into the batch's dictionary.
    Str(fn(&FlowRecord) -> Sym),
    /// Lists, as handles into the batch's list pool.
    List(fn(&FlowRecord) -> ListRef),
    /// Raw bytes, which filters cannot test.
    Bytes,
}

/// The reader of `field`. The match names every column, so a column added to the schema does not compile
/// until it has a reader here.
pub(crate) fn access(field: Field) -> Access {
    use Access::{Bytes, Ip, List, Str, Uint};
    use Field as F;
    match field {
        F::time_received => Uint(|r| r.time_received),
        F::flow_start => Uint(|r| r.flow_start),
        F::flow_end => Uint(|r| r.flow_end),
        F::exporter_addr => Ip(|r| r.exporter_addr),
        F::exporter_name => Str(|r| r.exporter_name),
        F::observation_domain => Uint(|r| r.observation_domain.into()),
        F::sampling_rate => Uint(|r| r.sampling_rate.into()),
        F::in_if => Uint(|r| r.in_if.into()),
        F::out_if => Uint(|r| r.out_if.into()),
        F::in_if_name => Str(|r| r.in_if_name),
        F::out_if_name => Str(|r| r.out_if_name),
        F::in_if_speed => Uint(|r| r.in_if_speed),
        F::out_if_speed => Uint(|r| r.out_if_speed),
        F::in_if_boundary => Uint(|r| r.in_if_boundary.into()),
        F::out_if_boundary => Uint(|r| r.out_if_boundary.into()),
        F::flow_direction => Uint(|r| r.flow_direction.into()),
        F::forwarding_status => Uint(|r| r.forwarding_status.into()),
        F::etype => Uint(|r| r.etype.into()),
        F::proto => Uint(|r| r.proto.into()),
        F::src_addr => Ip(|r| r.src_addr),
        F::dst_addr => Ip(|r| r.dst_addr),
        F::src_port => Uint(|r| r.src_port.into()),
        F::dst_port => Uint(|r| r.dst_port.into()),
        F::src_mask => Uint(|r| r.src_mask.into()),
        F::dst_mask => Uint(|r| r.dst_mask.into()),
        F::tos => Uint(|r| r.tos.into()),
        F::tcp_flags => Uint(|r| r.tcp_flags.into()),
        F::icmp_type => Uint(|r| r.icmp_type.into()),
        F::icmp_code => Uint(|r| r.icmp_code.into()),
        F::vlan => Uint(|r| r.vlan.into()),
        F::src_mac => Uint(|r| r.src_mac),
        F::dst_mac => Uint(|r| r.dst_mac),
        F::next_hop => Ip(|r| r.next_hop),
        F::bgp_next_hop => Ip(|r| r.bgp_next_hop),
        F::src_as => Uint(|r| r.src_as.into()),
        F::dst_as => Uint(|r| r.dst_as.into()),
        F::dst_as_path => List(|r| r.dst_as_path),
        F::dst_communities => List(|r| r.dst_communities),
        F::src_country => Str(|r| r.src_country),
        F::dst_country => Str(|r| r.dst_country),
        F::src_as_name => Str(|r| r.src_as_name),
        F::dst_as_name => Str(|r| r.dst_as_name),
        F::src_domain => Str(|r| r.src_domain),
        F::dst_domain => Str(|r| r.dst_domain),
        F::app => Str(|r| r.app),
        F::threat => Str(|r| r.threat),
        F::flow_end_reason => Uint(|r| r.flow_end_reason.into()),
        F::bytes => Uint(|r| r.bytes),
        F::packets => Uint(|r| r.packets),
        F::flows => Uint(|r| r.flows),
        F::extra_fields => Bytes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use weir_flow::{Blob, ColumnRef, FIELDS, FlowBatch};

    /// A record whose every column holds a value no other column holds, written out column by column so
    /// that a new column must be added here too.
    fn distinct(b: &mut FlowBatch) -> FlowRecord {
        let ip = |n: u8| weir_flow::ipv4([192, 0, 2, n]);
        FlowRecord {
            time_received: 1,
            flow_start: 2,
            flow_end: 3,
            exporter_addr: ip(4),
            exporter_name: b.intern("exporter"),
            observation_domain: 6,
            sampling_rate: 7,
            in_if: 8,
            out_if: 9,
            in_if_name: b.intern("in"),
            out_if_name: b.intern("out"),
            in_if_speed: 12,
            out_if_speed: 13,
            in_if_boundary: 14,
            out_if_boundary: 15,
            flow_direction: 16,
            forwarding_status: 17,
            etype: 18,
            proto: 19,
            src_addr: ip(20),
            dst_addr: ip(21),
            src_port: 22,
            dst_port: 23,
            src_mask: 24,
            dst_mask: 25,
            tos: 26,
            tcp_flags: 27,
            icmp_type: 28,
            icmp_code: 29,
            vlan: 30,
            src_mac: 31,
            dst_mac: 32,
            next_hop: ip(33),
            bgp_next_hop: ip(34),
            src_as: 35,
            dst_as: 36,
            dst_as_path: b.push_list(&[37]),
            dst_communities: b.push_list(&[38]),
            src_country: b.intern("src_country"),
            dst_country: b.intern("dst_country"),
            src_as_name: b.intern("src_as_name"),
            dst_as_name: b.intern("dst_as_name"),
            src_domain: b.intern("src_domain"),
            dst_domain: b.intern("dst_domain"),
            app: b.intern("app"),
            threat: b.intern("threat"),
            flow_end_reason: 47,
            bytes: 48,
            packets: 49,
            flows: 50,
            extra_fields: Blob::EMPTY,
        }
    }

    #[test]
    fn every_reader_reads_its_own_column() {
        let mut b = FlowBatch::new();
        let r = distinct(&mut b);
        b.push(&r);
        for &f in FIELDS {
            let ok = match (access(f), b.cols.get(f)) {
                (Access::Uint(get), ColumnRef::Time(v) | ColumnRef::U64(v) | ColumnRef::Mac(v)) => {
                    get(&r) == v[0]
                }
                (Access::Uint(get), ColumnRef::U32(v)) => get(&r) == u64::from(v[0]),
                (Access::Uint(get), ColumnRef::U16(v)) => get(&r) == u64::from(v[0]),
                (Access::Uint(get), ColumnRef::U8(v)) => get(&r) == u64::from(v[0]),
                (Access::Ip(get), ColumnRef::Ip(v)) => get(&r) == v[0],
                (Access::Str(get), ColumnRef::Str(v)) => get(&r) == v[0],
                (Access::List(get), ColumnRef::U32List(v)) => get(&r) == v[0],
                (Access::Bytes, ColumnRef::Bytes(_)) => true,
                _ => false,
            };
            assert!(ok, "reader of {}", f.column().name);
        }
    }
}
