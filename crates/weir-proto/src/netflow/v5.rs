//! NetFlow v5: a 24-byte header (with the flow sequence, the switching engine and the sampling interval) and
//! up to 30 records of 48 bytes, each an IPv4 flow with its BGP AS numbers and prefix lengths.

use std::net::Ipv4Addr;

use weir_flow::{FlowBatch, FlowRecord};

use super::clock::ExportClock;
use super::datagram::{Header, Packet};
use super::flow::{addr, as16, count32, dst_port_of, if16, is_ipv4, set_ports, v4};
use super::layout::Record;
use super::wire::{Wire, fixed_layout};
use crate::error::DecodeError;
use crate::reader::Reader;
use crate::stats::Dialect;

/// The v5 header's sampling field: the sampling mode in the top two bits (0 none, 1 deterministic,
/// 2 random), one packet in `interval` sampled in the low fourteen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SamplingInterval(pub u16);

impl SamplingInterval {
    /// No sampling.
    pub const UNSAMPLED: Self = Self(0);

    /// The field for `mode` (two bits) and `interval` (fourteen bits); higher bits of either are dropped.
    pub fn new(mode: u8, interval: u16) -> Self {
        Self((u16::from(mode & 0b11) << 14) | (interval & 0x3fff))
    }

    /// The sampling mode.
    pub fn mode(self) -> u8 {
        (self.0 >> 14) as u8
    }

    /// One packet in this many is sampled; 0 when unsampled.
    pub fn interval(self) -> u16 {
        self.0 & 0x3fff
    }

    /// The sampling rate of the flows: the interval, or 1 when it is 0. The interval is used whatever the
    /// mode says: Juniper routers send interval 1000 with mode 0 (and so does the MX80 capture in the tests).
    pub fn rate(self) -> u32 {
        u32::from(self.interval()).max(1)
    }
}

impl Wire for SamplingInterval {
    const LEN: usize = 2;

    #[inline]
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.u16().map(Self)
    }

    fn write(&self, out: &mut Vec<u8>) {
        self.0.write(out);
    }
}

fixed_layout! {
    /// The v5 header after the version and count.
    pub struct V5Header {
        /// Uptime and wall-clock time at export.
        clock: ExportClock,
        /// Records exported before this datagram's first, modulo 2^32.
        flow_sequence: u32,
        /// Type of the flow-switching engine (0 route processor, 1 line card, ...).
        engine_type: u8,
        /// Slot number of the flow-switching engine.
        engine_id: u8,
        /// Sampling mode and interval.
        sampling: SamplingInterval,
    }
}

impl Header for V5Header {
    const VERSION: u16 = 5;
    const DIALECT: Dialect = Dialect::NetflowV5;
    const DOMAIN_OFFSET: usize = 20;
    type Record = V5Record;

    fn clock(&self) -> ExportClock {
        self.clock
    }

    fn observation_domain(&self) -> u32 {
        u32::from(self.engine_type) << 8 | u32::from(self.engine_id)
    }

    fn sampling_rate(&self) -> u32 {
        self.sampling.rate()
    }

    fn flow_sequence(&self) -> Option<u32> {
        Some(self.flow_sequence)
    }
}

fixed_layout! {
    /// One v5 flow record.
    pub struct V5Record {
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
        /// Unused (zero).
        pad2: u16,
    }
}

impl Record for V5Record {
    const MAX_PER_DATAGRAM: usize = 30;

    #[inline]
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
        flow.tcp_flags = u16::from(self.tcp_flags);
        flow.proto = self.proto;
        flow.tos = self.tos;
        set_ports(flow, self.src_port, self.dst_port);
        flow.src_as = u32::from(self.src_as);
        flow.dst_as = u32::from(self.dst_as);
        flow.src_mask = self.src_mask;
        flow.dst_mask = self.dst_mask;
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
            tcp_flags: flow.tcp_flags as u8,
            proto: flow.proto,
            tos: flow.tos,
            src_as: as16(flow.src_as),
            dst_as: as16(flow.dst_as),
            src_mask: flow.src_mask,
            dst_mask: flow.dst_mask,
            pad2: 0,
        })
    }
}

/// A NetFlow v5 datagram.
pub type V5Packet = Packet<V5Header>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use crate::netflow::EncodeError;
    use crate::netflow::testing::{counters, decode_all, hex, roundtrip};

    /// softflowd's first datagram in `netflow5.dat`, two records (the file holds several datagrams).
    const SOFTFLOWD: &str = "0005 0002 00000d35 55451990 10b57740 00000000 00 00 0000
        0a000202 0a00020f 00000000 0000 0000 00000005 000000e6 ffffffff 00000a11 d4a3 0016 00 10 06 00 0000 0000 00 00 0000
        0a00020f 0a000202 00000000 0000 0000 00000004 00000130 ffffffff 00000a11 0016 d4a3 00 18 06 00 0000 0000 00 00 0000";

    #[test]
    fn parses_encodes_and_consumes_a_softflowd_datagram() {
        let clock = ExportClock {
            sys_uptime: 0x0d35,
            unix_secs: 0x5545_1990,
            unix_nsecs: 0x10b5_7740,
        };
        let header = V5Header {
            clock,
            flow_sequence: 0,
            engine_type: 0,
            engine_id: 0,
            sampling: SamplingInterval(0),
        };
        let rec = |src, dst, packets, octets, src_port, dst_port, tcp_flags| V5Record {
            src_addr: Ipv4Addr::from(src),
            dst_addr: Ipv4Addr::from(dst),
            next_hop: Ipv4Addr::UNSPECIFIED,
            input: 0,
            output: 0,
            packets,
            octets,
            first: 0xffff_ffff,
            last: 0x0a11,
            src_port,
            dst_port,
            pad1: 0,
            tcp_flags,
            proto: 6,
            tos: 0,
            src_as: 0,
            dst_as: 0,
            src_mask: 0,
            dst_mask: 0,
            pad2: 0,
        };
        let expected = V5Packet {
            header,
            records: vec![
                rec([10, 0, 2, 2], [10, 0, 2, 15], 5, 230, 54435, 22, 0x10),
                rec([10, 0, 2, 15], [10, 0, 2, 2], 4, 304, 22, 54435, 0x18),
            ],
        };
        roundtrip(&hex(SOFTFLOWD), &expected, V5Packet::read, V5Packet::write);
    }

    #[test]
    fn reads_the_sampling_mode_and_interval() {
        let s = SamplingInterval(0x43e8);
        assert_eq!((s.mode(), s.interval(), s.rate()), (1, 1000, 1000));
        assert_eq!(SamplingInterval::new(1, 1000), s);
        assert_eq!(SamplingInterval(0x03e8).rate(), 1000);
        assert_eq!(SamplingInterval::UNSAMPLED.rate(), 1);
        assert_eq!(SamplingInterval::new(2, 0xffff).interval(), 0x3fff);
    }

    #[test]
    fn layouts_have_the_documented_sizes() {
        assert_eq!(V5Packet::HEADER_LEN, 24);
        assert_eq!(V5Record::LEN, 48);
    }

    fn softflowd() -> V5Packet {
        V5Packet::read(&mut Reader::new(&hex(SOFTFLOWD))).unwrap()
    }

    fn encode(packet: &V5Packet) -> Vec<u8> {
        let mut out = Vec::new();
        packet.write(&mut out).unwrap();
        out
    }

    #[test]
    fn accepts_padding_shorter_than_a_record() {
        let mut bytes = hex(SOFTFLOWD);
        bytes.extend_from_slice(&[0; 47]);
        let (decoder, batch, outcomes) = decode_all(&[&bytes]);
        assert_eq!(outcomes[0].error, None);
        assert_eq!(batch.len(), 2);
        let c = counters(&decoder, Dialect::NetflowV5, 0);
        assert_eq!((c.records, c.total_errors()), (2, 0));
    }

    #[test]
    fn accepts_more_records_than_the_documented_maximum() {
        let mut packet = softflowd();
        packet.records = vec![packet.records[0]; V5Record::MAX_PER_DATAGRAM + 1];
        let (decoder, batch, outcomes) = decode_all(&[&encode(&packet)]);
        assert_eq!(outcomes[0].error, None);
        assert_eq!(batch.len(), 31);
        assert_eq!(counters(&decoder, Dialect::NetflowV5, 0).records, 31);
    }

    #[test]
    fn counts_sequence_gaps_and_restarts_but_not_reordering() {
        let packet = softflowd();
        let at = |flow_sequence, sys_uptime| {
            let clock = ExportClock {
                sys_uptime,
                ..packet.header.clock
            };
            encode(&V5Packet {
                header: V5Header {
                    flow_sequence,
                    clock,
                    ..packet.header
                },
                ..packet.clone()
            })
        };
        let datagrams = [
            at(0, 10_000),
            at(2, 11_000),
            // Records 4 to 9 are missing here...
            at(10, 13_000),
            // ...and 4 and 5 arrive late: four records lost in all.
            at(4, 12_000),
            at(12, 14_000),
            // The exporter rebooted: uptime went back, the sequence starts over.
            at(0, 2_000),
            at(2, 3_000),
        ];
        let datagrams: Vec<_> = datagrams.iter().map(Vec::as_slice).collect();
        let (decoder, batch, outcomes) = decode_all(&datagrams);
        assert!(outcomes.iter().all(|o| o.error.is_none()));
        assert_eq!(batch.len(), 14);
        let c = counters(&decoder, Dialect::NetflowV5, 0);
        assert_eq!((c.datagrams, c.records), (7, 14));
        assert_eq!((c.sequence_gaps, c.lost_records, c.restarts), (1, 4, 1));
    }

    #[test]
    fn rejects_a_datagram_without_records() {
        let mut bytes = hex(SOFTFLOWD);
        bytes[3] = 0;
        let (decoder, batch, outcomes) = decode_all(&[&bytes[..24]]);
        assert_eq!(
            outcomes[0].error,
            Some(DecodeError::BadLength {
                offset: 2,
                what: "record count",
                value: 0
            })
        );
        assert!(batch.is_empty());
        assert_eq!(
            counters(&decoder, Dialect::NetflowV5, 0).errors_of(ErrorKind::BadLength),
            1
        );
        let empty = V5Packet {
            records: vec![],
            ..softflowd()
        };
        assert_eq!(empty.write(&mut Vec::new()), Err(EncodeError::NoRecords));
    }

    #[test]
    fn rejects_a_truncated_header() {
        let bytes = hex(SOFTFLOWD);
        let (_, _, outcomes) = decode_all(&[&bytes[..20]]);
        assert_eq!(
            outcomes[0].error,
            Some(DecodeError::Truncated {
                offset: 4,
                needed: 20,
                available: 16
            })
        );
    }

    #[test]
    fn rejects_another_version() {
        let mut bytes = hex(SOFTFLOWD);
        bytes[1] = 7;
        assert_eq!(
            V5Packet::read(&mut Reader::new(&bytes)),
            Err(DecodeError::BadValue {
                offset: 0,
                what: "version",
                value: 7
            })
        );
    }
}
