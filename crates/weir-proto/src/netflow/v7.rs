//! NetFlow v7, exported by Catalyst 5000 switches with a NetFlow Feature Card: a 24-byte header with a flow
//! sequence but no engine fields, and up to 27 records of 52 bytes, v5's fields plus flags and the address of
//! the router the switch shortcuts.

use std::net::Ipv4Addr;

use weir_flow::{FlowBatch, FlowRecord};

use super::clock::ExportClock;
use super::datagram::{Header, Packet};
use super::flow::{addr, as16, count32, dst_port_of, if16, is_ipv4, keep_router_sc, set_ports, v4};
use super::layout::Record;
use super::wire::fixed_layout;
use crate::stats::Dialect;

fixed_layout! {
    /// The v7 header after the version and count.
    pub struct V7Header {
        /// Uptime and wall-clock time at export.
        clock: ExportClock,
        /// Records exported before this datagram's first, modulo 2^32.
        flow_sequence: u32,
        /// Reserved (zero).
        reserved: u32,
    }
}

impl Header for V7Header {
    const VERSION: u16 = 7;
    const DIALECT: Dialect = Dialect::NetflowV7;
    const DOMAIN_OFFSET: usize = 0;
    type Record = V7Record;

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
        Some(self.flow_sequence)
    }
}

fixed_layout! {
    /// One v7 flow record. Which fields are valid depends on the switch's flow mask (destination only,
    /// source and destination, or full flow); the others are zero.
    pub struct V7Record {
        /// Source address (zero with a destination-only flow mask).
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
        /// Source port (zero unless the flow mask is full flow).
        src_port: u16,
        /// Destination port; for ICMP, `type * 256 + code`.
        dst_port: u16,
        /// Unused (zero).
        pad1: u8,
        /// TCP flags OR-ed over the flow's packets.
        tcp_flags: u8,
        /// IP protocol.
        proto: u8,
        /// IP type of service.
        tos: u8,
        /// Source AS, origin or peer.
        src_as: u16,
        /// Destination AS, origin or peer.
        dst_as: u16,
        /// Source prefix length.
        src_mask: u8,
        /// Destination prefix length.
        dst_mask: u8,
        /// Flags saying, among other things, which fields are invalid.
        flags: u16,
        /// The router the switch shortcuts (the address that router exports from); kept in `extra_fields`
        /// as IPFIX ipv4RouterSc.
        router_sc: Ipv4Addr,
    }
}

impl Record for V7Record {
    const MAX_PER_DATAGRAM: usize = 27;

    fn to_flow(&self, clock: &ExportClock, flow: &mut FlowRecord, batch: &mut FlowBatch) {
        flow.src_addr = addr(self.src_addr);
        flow.dst_addr = addr(self.dst_addr);
        flow.next_hop = addr(self.next_hop);
        flow.in_if = u32::from(self.input);
        flow.out_if = u32::from(self.output);
        flow.packets = u64::from(self.packets);
        flow.bytes = u64::from(self.octets);
        flow.flow_start = clock.time_of(self.first);
        flow.flow_end = clock.time_of(self.last);
        flow.tcp_flags = u16::from(self.tcp_flags);
        flow.proto = self.proto;
        flow.tos = self.tos;
        set_ports(flow, self.src_port, self.dst_port);
        flow.src_as = u32::from(self.src_as);
        flow.dst_as = u32::from(self.dst_as);
        flow.src_mask = self.src_mask;
        flow.dst_mask = self.dst_mask;
        keep_router_sc(flow, batch, self.router_sc);
    }

    /// A probe is no Catalyst shortcutting a router: flags and `router_sc` are zero.
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
            tcp_flags: flow.tcp_flags as u8,
            proto: flow.proto,
            tos: flow.tos,
            src_as: as16(flow.src_as),
            dst_as: as16(flow.dst_as),
            src_mask: flow.src_mask,
            dst_mask: flow.dst_mask,
            flags: 0,
            router_sc: Ipv4Addr::UNSPECIFIED,
        })
    }
}

/// A NetFlow v7 datagram.
pub type V7Packet = Packet<V7Header>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use crate::netflow::testing::{counters, decode_all, hex, roundtrip};
    use crate::netflow::wire::Wire;
    use weir_flow::{ExtraField, extra_fields, ipv4};

    /// Two full-flow records from a Catalyst shortcutting router 192.0.2.254, sequence 1000.
    const CATALYST: &str = "0007 0002 000f4240 65556a00 00000000 000003e8 00000000
        0a010203 c0000264 0a0101fe 0002 0007 00000014 00001b58 000f3e58 000f4100 c350 0050 00 1b 06 00 fde8 3b41 18 18 0000 c00002fe
        c0000264 0a010203 0a0101fe 0007 0002 00000012 0000c350 000f3e58 000f4100 0050 c350 00 1a 06 28 3b41 fde8 18 18 0000 c00002fe";

    fn record(src: [u8; 4], dst: [u8; 4], input: u16, output: u16) -> V7Record {
        V7Record {
            src_addr: Ipv4Addr::from(src),
            dst_addr: Ipv4Addr::from(dst),
            next_hop: Ipv4Addr::new(10, 1, 1, 254),
            input,
            output,
            packets: 0,
            octets: 0,
            first: 999_000,
            last: 999_680,
            src_port: 0,
            dst_port: 0,
            pad1: 0,
            tcp_flags: 0,
            proto: 6,
            tos: 0,
            src_as: 0,
            dst_as: 0,
            src_mask: 24,
            dst_mask: 24,
            flags: 0,
            router_sc: Ipv4Addr::new(192, 0, 2, 254),
        }
    }

    fn expected() -> V7Packet {
        V7Packet {
            header: V7Header {
                clock: ExportClock {
                    sys_uptime: 1_000_000,
                    unix_secs: 1_700_096_512,
                    unix_nsecs: 0,
                },
                flow_sequence: 1000,
                reserved: 0,
            },
            records: vec![
                V7Record {
                    packets: 20,
                    octets: 7000,
                    src_port: 50_000,
                    dst_port: 80,
                    tcp_flags: 0x1b,
                    src_as: 65_000,
                    dst_as: 15_169,
                    ..record([10, 1, 2, 3], [192, 0, 2, 100], 2, 7)
                },
                V7Record {
                    packets: 18,
                    octets: 50_000,
                    src_port: 80,
                    dst_port: 50_000,
                    tcp_flags: 0x1a,
                    tos: 0x28,
                    src_as: 15_169,
                    dst_as: 65_000,
                    ..record([192, 0, 2, 100], [10, 1, 2, 3], 7, 2)
                },
            ],
        }
    }

    #[test]
    fn parses_encodes_and_consumes_a_catalyst_datagram() {
        roundtrip(&hex(CATALYST), &expected(), V7Packet::read, V7Packet::write);
        assert_eq!((V7Packet::HEADER_LEN, V7Record::LEN), (24, 52));
    }

    #[test]
    fn decodes_flows_with_the_router_shortcut_kept() {
        let (decoder, batch, outcomes) = decode_all(&[&hex(CATALYST)]);
        assert_eq!(outcomes[0].error, None);
        assert_eq!(batch.len(), 2);
        let f = batch.row(1).unwrap();
        assert_eq!(
            (f.src_addr, f.dst_addr),
            (ipv4([192, 0, 2, 100]), ipv4([10, 1, 2, 3]))
        );
        assert_eq!(
            (f.src_port, f.dst_port, f.tcp_flags, f.tos),
            (80, 50_000, 0x1a, 0x28)
        );
        assert_eq!(
            (f.src_as, f.dst_as, f.src_mask, f.dst_mask),
            (15_169, 65_000, 24, 24)
        );
        assert_eq!((f.packets, f.bytes, f.in_if, f.out_if), (18, 50_000, 7, 2));
        assert_eq!(f.flow_start, 1_700_096_512_000_000_000 - 1_000_000_000);
        assert_eq!(f.observation_domain, 0);
        let kept: Vec<_> = extra_fields(batch.blob(f.extra_fields)).collect();
        assert_eq!(
            kept,
            [ExtraField {
                enterprise: 0,
                id: 43,
                value: &[192, 0, 2, 254]
            }]
        );
        let c = counters(&decoder, Dialect::NetflowV7, 0);
        assert_eq!(
            (c.datagrams, c.records, c.total_errors(), c.sequence_gaps),
            (1, 2, 0, 0)
        );
    }

    #[test]
    fn counts_a_sequence_gap_in_records() {
        let first = hex(CATALYST);
        let mut third = first.clone();
        // The next datagram would start at 1002; this one starts at 1006: four records lost.
        third[19] = 0xee;
        let (decoder, _, outcomes) = decode_all(&[&first, &third]);
        assert!(outcomes.iter().all(|o| o.error.is_none()));
        let c = counters(&decoder, Dialect::NetflowV7, 0);
        assert_eq!((c.sequence_gaps, c.lost_records, c.records), (1, 4, 4));
    }

    #[test]
    fn rejects_a_count_beyond_the_datagram() {
        let mut bytes = hex(CATALYST);
        bytes[3] = 3;
        let (decoder, batch, outcomes) = decode_all(&[&bytes]);
        assert_eq!(
            outcomes[0].error,
            Some(crate::DecodeError::BadLength {
                offset: 2,
                what: "record count",
                value: 3
            })
        );
        assert!(batch.is_empty());
        let c = counters(&decoder, Dialect::NetflowV7, 0);
        assert_eq!((c.errors_of(ErrorKind::BadLength), c.records), (1, 0));
    }
}
