//! NetFlow v1, the original format: a 16-byte header with no sequence number and no engine, and up to 24
//! records of 48 bytes without AS numbers or prefix lengths.

use std::net::Ipv4Addr;

use weir_flow::{FlowBatch, FlowRecord};

use super::clock::ExportClock;
use super::datagram::{Header, Packet};
use super::flow::{addr, count32, dst_port_of, if16, is_ipv4, set_ports, v4};
use super::layout::Record;
use super::wire::fixed_layout;
use crate::stats::Dialect;

fixed_layout! {
    /// The v1 header after the version and count: only the clock.
    pub struct V1Header {
        /// Uptime and wall-clock time at export.
        clock: ExportClock,
    }
}

impl Header for V1Header {
    const VERSION: u16 = 1;
    const DIALECT: Dialect = Dialect::NetflowV1;
    const DOMAIN_OFFSET: usize = 0;
    type Record = V1Record;

    fn clock(&self) -> ExportClock {
        self.clock
    }

    fn observation_domain(&self) -> u32 {
        0
    }

    fn sampling_rate(&self) -> u32 {
        1
    }

    fn flow_sequence(&self) -> Option<u32> {
        None
    }
}

fixed_layout! {
    /// One v1 flow record.
    pub struct V1Record {
        /// Source address.
        src_addr: Ipv4Addr,
        /// Destination address.
        dst_addr: Ipv4Addr,
        /// Next hop.
        next_hop: Ipv4Addr,
        /// SNMP index of the input interface.
        input: u16,
        /// SNMP index of the output interface.
        output: u16,
        /// Packets.
        packets: u32,
        /// Layer 3 bytes.
        octets: u32,
        /// Uptime at the first packet, in milliseconds.
        first: u32,
        /// Uptime at the last packet, in milliseconds.
        last: u32,
        /// Source port.
        src_port: u16,
        /// Destination port; for ICMP, `type * 256 + code`.
        dst_port: u16,
        /// Unused (zero).
        pad1: u16,
        /// IP protocol.
        proto: u8,
        /// IP type of service.
        tos: u8,
        /// TCP flags OR-ed over the flow's packets.
        tcp_flags: u8,
        /// Unused (zero).
        pad2: u8,
        /// Unused (zero).
        pad3: u16,
        /// Reserved (zero).
        reserved: u32,
    }
}

impl Record for V1Record {
    const MAX_PER_DATAGRAM: usize = 24;

    fn to_flow(&self, clock: &ExportClock, flow: &mut FlowRecord, _batch: &mut FlowBatch) {
        flow.src_addr = addr(self.src_addr);
        flow.dst_addr = addr(self.dst_addr);
        flow.next_hop = addr(self.next_hop);
        flow.in_if = u32::from(self.input);
        flow.out_if = u32::from(self.output);
        flow.packets = u64::from(self.packets);
        flow.bytes = u64::from(self.octets);
        flow.flow_start = clock.time_of(self.first);
        flow.flow_end = clock.time_of(self.last);
        flow.proto = self.proto;
        flow.tos = self.tos;
        flow.tcp_flags = u16::from(self.tcp_flags);
        set_ports(flow, self.src_port, self.dst_port);
    }

    fn from_flow(flow: &FlowRecord, clock: &ExportClock) -> Option<Self> {
        if !is_ipv4(flow) {
            return None;
        }
        Some(Self {
            src_addr: v4(flow.src_addr)?,
            dst_addr: v4(flow.dst_addr)?,
            next_hop: v4(flow.next_hop)?,
            input: if16(flow.in_if),
            output: if16(flow.out_if),
            packets: count32(flow.packets),
            octets: count32(flow.bytes),
            first: clock.uptime_of(flow.flow_start),
            last: clock.uptime_of(flow.flow_end),
            src_port: flow.src_port,
            dst_port: dst_port_of(flow),
            pad1: 0,
            proto: flow.proto,
            tos: flow.tos,
            tcp_flags: flow.tcp_flags as u8,
            pad2: 0,
            pad3: 0,
            reserved: 0,
        })
    }
}

/// A NetFlow v1 datagram.
pub type V1Packet = Packet<V1Header>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netflow::testing::{counters, decode_all, hex, roundtrip};
    use crate::netflow::wire::Wire;
    use weir_flow::ipv4;

    /// One ICMP echo request flow (type 8, code 0 in the destination port) from an IOS router.
    const ICMP_ECHO: &str = "0001 0001 0036ee80 65556a00 00000000
        c0000201 c6336402 c0000202 0003 0005 0000000a 00000348 0036e7a0 0036ea8c 0000 0800 0000 01 00 00 00 0000 00000000";

    fn expected() -> V1Packet {
        V1Packet {
            header: V1Header {
                clock: ExportClock {
                    sys_uptime: 3_600_000,
                    unix_secs: 1_700_096_512,
                    unix_nsecs: 0,
                },
            },
            records: vec![V1Record {
                src_addr: Ipv4Addr::new(192, 0, 2, 1),
                dst_addr: Ipv4Addr::new(198, 51, 100, 2),
                next_hop: Ipv4Addr::new(192, 0, 2, 2),
                input: 3,
                output: 5,
                packets: 10,
                octets: 840,
                first: 3_598_240,
                last: 3_598_988,
                src_port: 0,
                dst_port: 0x0800,
                pad1: 0,
                proto: 1,
                tos: 0,
                tcp_flags: 0,
                pad2: 0,
                pad3: 0,
                reserved: 0,
            }],
        }
    }

    #[test]
    fn parses_encodes_and_consumes_an_icmp_flow() {
        roundtrip(&hex(ICMP_ECHO), &expected(), V1Packet::read, V1Packet::write);
        assert_eq!((V1Packet::HEADER_LEN, V1Record::LEN), (16, 48));
    }

    #[test]
    fn decodes_times_icmp_and_counts_on_domain_zero() {
        let (decoder, batch, outcomes) = decode_all(&[&hex(ICMP_ECHO)]);
        assert_eq!(outcomes[0].error, None);
        assert_eq!(outcomes[0].records, 1);
        let f = batch.row(0).unwrap();
        let export = 1_700_096_512_000_000_000;
        assert_eq!(f.flow_start, export - 1_760_000_000);
        assert_eq!(f.flow_end, export - 1_012_000_000);
        assert_eq!(
            (f.src_addr, f.dst_addr, f.next_hop),
            (
                ipv4([192, 0, 2, 1]),
                ipv4([198, 51, 100, 2]),
                ipv4([192, 0, 2, 2])
            )
        );
        assert_eq!((f.proto, f.icmp_type, f.icmp_code, f.dst_port), (1, 8, 0, 0x0800));
        assert_eq!(
            (f.in_if, f.out_if, f.packets, f.bytes, f.flows),
            (3, 5, 10, 840, 1)
        );
        assert_eq!((f.observation_domain, f.sampling_rate, f.etype), (0, 1, 0x0800));
        let c = counters(&decoder, Dialect::NetflowV1, 0);
        assert_eq!((c.datagrams, c.bytes, c.records, c.total_errors()), (1, 64, 1, 0));
        assert_eq!((c.sequence_gaps, c.restarts), (0, 0));
    }

    #[test]
    fn encodes_flows_back_to_the_same_record() {
        let (_, batch, _) = decode_all(&[&hex(ICMP_ECHO)]);
        let p = expected();
        let flow = batch.row(0).unwrap();
        assert_eq!(V1Record::from_flow(&flow, &p.header.clock), Some(p.records[0]));
    }
}
