//! The record layouts of NetFlow v8's aggregation schemes, and which flow columns each one fills.
//!
//! Router-based aggregation (schemes 1 to 5 and their ToS variants 9 to 14) exports one record per aggregate,
//! starting with the flows, packets, bytes and times it sums up ([`AggregateTotals`]), followed by the
//! scheme's keys. The Catalyst 6000 layouts (6 to 8) export flows under the switch's flow mask: no flow
//! count, and the policing fields (`marked_tos`, `extra_packets`) with the router the switch shortcuts.
//!
//! Layouts follow Cisco's "NetFlow Export Datagram Format" as implemented by flow-tools and pmacct. In the
//! prefix-matrix records (5, 13, 14) the destination mask comes before the source mask, as Cisco documents
//! it; Wireshark's older dissector reads them the other way, and Junos has a `caida-compliant` knob for the
//! same ambiguity.
//!
//! Decoding fills only the scheme's keys; prefixes go into `src_addr`/`dst_addr` with their masks.
//! Encoding (`from_flow`) expects a flow that already is an aggregate (the output of an aggregation cache):
//! it copies the scheme's keys and counters, it does not aggregate.

use std::net::Ipv4Addr;

use weir_flow::{FlowBatch, FlowRecord};

use super::clock::ExportClock;
use super::flow::{addr, as16, count32, dst_port_of, if16, is_ipv4, keep_router_sc, set_ports, v4};
use super::layout::Record;
use super::wire::fixed_layout;

fixed_layout! {
    /// What every router-based aggregate starts with.
    pub struct AggregateTotals {
        /// Flows aggregated.
        flows: u32,
        /// Packets.
        packets: u32,
        /// Layer 3 bytes.
        octets: u32,
        /// Uptime at the first packet, in milliseconds.
        first: u32,
        /// Uptime at the last packet, in milliseconds.
        last: u32,
    }
}

impl AggregateTotals {
    fn to_flow(self, clock: &ExportClock, flow: &mut FlowRecord) {
        flow.flows = u64::from(self.flows);
        flow.packets = u64::from(self.packets);
        flow.bytes = u64::from(self.octets);
        flow.flow_start = clock.time_of(self.first);
        flow.flow_end = clock.time_of(self.last);
    }

    fn from_flow(flow: &FlowRecord, clock: &ExportClock) -> Self {
        Self {
            flows: count32(flow.flows),
            packets: count32(flow.packets),
            octets: count32(flow.bytes),
            first: clock.uptime_of(flow.flow_start),
            last: clock.uptime_of(flow.flow_end),
        }
    }
}

fixed_layout! {
    /// Scheme 1, AS: traffic by source and destination AS and interfaces.
    pub struct AsAggregate {
        /// Flows, packets, bytes and times.
        totals: AggregateTotals,
        /// Source AS.
        src_as: u16,
        /// Destination AS.
        dst_as: u16,
        /// SNMP index of the input interface.
        input: u16,
        /// SNMP index of the output interface.
        output: u16,
    }
}

impl Record for AsAggregate {
    const MAX_PER_DATAGRAM: usize = 51;

    fn to_flow(&self, clock: &ExportClock, flow: &mut FlowRecord, _batch: &mut FlowBatch) {
        self.totals.to_flow(clock, flow);
        flow.src_as = u32::from(self.src_as);
        flow.dst_as = u32::from(self.dst_as);
        flow.in_if = u32::from(self.input);
        flow.out_if = u32::from(self.output);
    }

    fn from_flow(flow: &FlowRecord, clock: &ExportClock) -> Option<Self> {
        is_ipv4(flow).then(|| Self {
            totals: AggregateTotals::from_flow(flow, clock),
            src_as: as16(flow.src_as),
            dst_as: as16(flow.dst_as),
            input: if16(flow.in_if),
            output: if16(flow.out_if),
        })
    }
}

fixed_layout! {
    /// Scheme 2, protocol and ports.
    pub struct ProtoPortAggregate {
        /// Flows, packets, bytes and times.
        totals: AggregateTotals,
        /// IP protocol.
        proto: u8,
        /// Unused (zero).
        pad: u8,
        /// Reserved (zero).
        reserved: u16,
        /// Source port.
        src_port: u16,
        /// Destination port; for ICMP, `type * 256 + code`.
        dst_port: u16,
    }
}

impl Record for ProtoPortAggregate {
    const MAX_PER_DATAGRAM: usize = 51;

    fn to_flow(&self, clock: &ExportClock, flow: &mut FlowRecord, _batch: &mut FlowBatch) {
        self.totals.to_flow(clock, flow);
        flow.proto = self.proto;
        set_ports(flow, self.src_port, self.dst_port);
    }

    fn from_flow(flow: &FlowRecord, clock: &ExportClock) -> Option<Self> {
        is_ipv4(flow).then(|| Self {
            totals: AggregateTotals::from_flow(flow, clock),
            proto: flow.proto,
            pad: 0,
            reserved: 0,
            src_port: flow.src_port,
            dst_port: dst_port_of(flow),
        })
    }
}

fixed_layout! {
    /// Scheme 3, source prefix.
    pub struct SrcPrefixAggregate {
        /// Flows, packets, bytes and times.
        totals: AggregateTotals,
        /// Source prefix.
        src_prefix: Ipv4Addr,
        /// Source prefix length.
        src_mask: u8,
        /// Unused (zero).
        pad: u8,
        /// Source AS.
        src_as: u16,
        /// SNMP index of the input interface.
        input: u16,
        /// Reserved (zero).
        reserved: u16,
    }
}

impl Record for SrcPrefixAggregate {
    const MAX_PER_DATAGRAM: usize = 44;

    fn to_flow(&self, clock: &ExportClock, flow: &mut FlowRecord, _batch: &mut FlowBatch) {
        self.totals.to_flow(clock, flow);
        flow.src_addr = addr(self.src_prefix);
        flow.src_mask = self.src_mask;
        flow.src_as = u32::from(self.src_as);
        flow.in_if = u32::from(self.input);
    }

    fn from_flow(flow: &FlowRecord, clock: &ExportClock) -> Option<Self> {
        is_ipv4(flow).then_some(())?;
        Some(Self {
            totals: AggregateTotals::from_flow(flow, clock),
            src_prefix: v4(flow.src_addr)?,
            src_mask: flow.src_mask,
            pad: 0,
            src_as: as16(flow.src_as),
            input: if16(flow.in_if),
            reserved: 0,
        })
    }
}

fixed_layout! {
    /// Scheme 4, destination prefix.
    pub struct DstPrefixAggregate {
        /// Flows, packets, bytes and times.
        totals: AggregateTotals,
        /// Destination prefix.
        dst_prefix: Ipv4Addr,
        /// Destination prefix length.
        dst_mask: u8,
        /// Unused (zero).
        pad: u8,
        /// Destination AS.
        dst_as: u16,
        /// SNMP index of the output interface.
        output: u16,
        /// Reserved (zero).
        reserved: u16,
    }
}

impl Record for DstPrefixAggregate {
    const MAX_PER_DATAGRAM: usize = 44;

    fn to_flow(&self, clock: &ExportClock, flow: &mut FlowRecord, _batch: &mut FlowBatch) {
        self.totals.to_flow(clock, flow);
        flow.dst_addr = addr(self.dst_prefix);
        flow.dst_mask = self.dst_mask;
        flow.dst_as = u32::from(self.dst_as);
        flow.out_if = u32::from(self.output);
    }

    fn from_flow(flow: &FlowRecord, clock: &ExportClock) -> Option<Self> {
        is_ipv4(flow).then_some(())?;
        Some(Self {
            totals: AggregateTotals::from_flow(flow, clock),
            dst_prefix: v4(flow.dst_addr)?,
            dst_mask: flow.dst_mask,
            pad: 0,
            dst_as: as16(flow.dst_as),
            output: if16(flow.out_if),
            reserved: 0,
        })
    }
}

fixed_layout! {
    /// Scheme 5, prefix (source and destination prefix matrix).
    pub struct PrefixAggregate {
        /// Flows, packets, bytes and times.
        totals: AggregateTotals,
        /// Source prefix.
        src_prefix: Ipv4Addr,
        /// Destination prefix.
        dst_prefix: Ipv4Addr,
        /// Destination prefix length.
        dst_mask: u8,
        /// Source prefix length.
        src_mask: u8,
        /// Reserved (zero).
        reserved: u16,
        /// Source AS.
        src_as: u16,
        /// Destination AS.
        dst_as: u16,
        /// SNMP index of the input interface.
        input: u16,
        /// SNMP index of the output interface.
        output: u16,
    }
}

impl Record for PrefixAggregate {
    const MAX_PER_DATAGRAM: usize = 35;

    fn to_flow(&self, clock: &ExportClock, flow: &mut FlowRecord, _batch: &mut FlowBatch) {
        self.totals.to_flow(clock, flow);
        flow.src_addr = addr(self.src_prefix);
        flow.dst_addr = addr(self.dst_prefix);
        flow.src_mask = self.src_mask;
        flow.dst_mask = self.dst_mask;
        flow.src_as = u32::from(self.src_as);
        flow.dst_as = u32::from(self.dst_as);
        flow.in_if = u32::from(self.input);
        flow.out_if = u32::from(self.output);
    }

    fn from_flow(flow: &FlowRecord, clock: &ExportClock) -> Option<Self> {
        is_ipv4(flow).then_some(())?;
        Some(Self {
            totals: AggregateTotals::from_flow(flow, clock),
            src_prefix: v4(flow.src_addr)?,
            dst_prefix: v4(flow.dst_addr)?,
            dst_mask: flow.dst_mask,
            src_mask: flow.src_mask,
            reserved: 0,
            src_as: as16(flow.src_as),
            dst_as: as16(flow.dst_as),
            input: if16(flow.in_if),
            output: if16(flow.out_if),
        })
    }
}

fixed_layout! {
    /// Scheme 6, Catalyst destination-only flow mask.
    pub struct DestOnlyFlow {
        /// Destination address.
        dst_addr: Ipv4Addr,
        /// Packets.
        packets: u32,
        /// Layer 3 bytes.
        octets: u32,
        /// Uptime at the first packet, in milliseconds.
        first: u32,
        /// Uptime at the last packet, in milliseconds.
        last: u32,
        /// SNMP index of the output interface.
        output: u16,
        /// IP type of service.
        tos: u8,
        /// Type of service of the packets that exceeded the policing contract.
        marked_tos: u8,
        /// Packets that exceeded the policing contract.
        extra_packets: u32,
        /// The router the switch shortcuts; kept in `extra_fields` as IPFIX ipv4RouterSc.
        router_sc: Ipv4Addr,
    }
}

impl Record for DestOnlyFlow {
    const MAX_PER_DATAGRAM: usize = 44;

    fn to_flow(&self, clock: &ExportClock, flow: &mut FlowRecord, batch: &mut FlowBatch) {
        flow.dst_addr = addr(self.dst_addr);
        flow.packets = u64::from(self.packets);
        flow.bytes = u64::from(self.octets);
        flow.flow_start = clock.time_of(self.first);
        flow.flow_end = clock.time_of(self.last);
        flow.out_if = u32::from(self.output);
        flow.tos = self.tos;
        keep_router_sc(flow, batch, self.router_sc);
    }

    /// A probe does no policing and shortcuts no router: those fields are zero.
    fn from_flow(flow: &FlowRecord, clock: &ExportClock) -> Option<Self> {
        is_ipv4(flow).then_some(())?;
        Some(Self {
            dst_addr: v4(flow.dst_addr)?,
            packets: count32(flow.packets),
            octets: count32(flow.bytes),
            first: clock.uptime_of(flow.flow_start),
            last: clock.uptime_of(flow.flow_end),
            output: if16(flow.out_if),
            tos: flow.tos,
            marked_tos: 0,
            extra_packets: 0,
            router_sc: Ipv4Addr::UNSPECIFIED,
        })
    }
}

fixed_layout! {
    /// Scheme 7, Catalyst source-destination flow mask.
    pub struct SrcDstFlow {
        /// Destination address.
        dst_addr: Ipv4Addr,
        /// Source address.
        src_addr: Ipv4Addr,
        /// Packets.
        packets: u32,
        /// Layer 3 bytes.
        octets: u32,
        /// Uptime at the first packet, in milliseconds.
        first: u32,
        /// Uptime at the last packet, in milliseconds.
        last: u32,
        /// SNMP index of the output interface.
        output: u16,
        /// SNMP index of the input interface.
        input: u16,
        /// IP type of service.
        tos: u8,
        /// Type of service of the packets that exceeded the policing contract.
        marked_tos: u8,
        /// Reserved (zero).
        reserved: u16,
        /// Packets that exceeded the policing contract.
        extra_packets: u32,
        /// The router the switch shortcuts; kept in `extra_fields` as IPFIX ipv4RouterSc.
        router_sc: Ipv4Addr,
    }
}

impl Record for SrcDstFlow {
    const MAX_PER_DATAGRAM: usize = 35;

    fn to_flow(&self, clock: &ExportClock, flow: &mut FlowRecord, batch: &mut FlowBatch) {
        flow.dst_addr = addr(self.dst_addr);
        flow.src_addr = addr(self.src_addr);
        flow.packets = u64::from(self.packets);
        flow.bytes = u64::from(self.octets);
        flow.flow_start = clock.time_of(self.first);
        flow.flow_end = clock.time_of(self.last);
        flow.out_if = u32::from(self.output);
        flow.in_if = u32::from(self.input);
        flow.tos = self.tos;
        keep_router_sc(flow, batch, self.router_sc);
    }

    /// A probe does no policing and shortcuts no router: those fields are zero.
    fn from_flow(flow: &FlowRecord, clock: &ExportClock) -> Option<Self> {
        is_ipv4(flow).then_some(())?;
        Some(Self {
            dst_addr: v4(flow.dst_addr)?,
            src_addr: v4(flow.src_addr)?,
            packets: count32(flow.packets),
            octets: count32(flow.bytes),
            first: clock.uptime_of(flow.flow_start),
            last: clock.uptime_of(flow.flow_end),
            output: if16(flow.out_if),
            input: if16(flow.in_if),
            tos: flow.tos,
            marked_tos: 0,
            reserved: 0,
            extra_packets: 0,
            router_sc: Ipv4Addr::UNSPECIFIED,
        })
    }
}

fixed_layout! {
    /// Scheme 8, Catalyst full flow mask.
    pub struct FullFlow {
        /// Destination address.
        dst_addr: Ipv4Addr,
        /// Source address.
        src_addr: Ipv4Addr,
        /// Destination port; for ICMP, `type * 256 + code`.
        dst_port: u16,
        /// Source port.
        src_port: u16,
        /// Packets.
        packets: u32,
        /// Layer 3 bytes.
        octets: u32,
        /// Uptime at the first packet, in milliseconds.
        first: u32,
        /// Uptime at the last packet, in milliseconds.
        last: u32,
        /// SNMP index of the output interface.
        output: u16,
        /// SNMP index of the input interface.
        input: u16,
        /// IP type of service.
        tos: u8,
        /// IP protocol.
        proto: u8,
        /// Type of service of the packets that exceeded the policing contract.
        marked_tos: u8,
        /// Reserved (zero).
        reserved: u8,
        /// Packets that exceeded the policing contract.
        extra_packets: u32,
        /// The router the switch shortcuts; kept in `extra_fields` as IPFIX ipv4RouterSc.
        router_sc: Ipv4Addr,
    }
}

impl Record for FullFlow {
    const MAX_PER_DATAGRAM: usize = 32;

    fn to_flow(&self, clock: &ExportClock, flow: &mut FlowRecord, batch: &mut FlowBatch) {
        flow.dst_addr = addr(self.dst_addr);
        flow.src_addr = addr(self.src_addr);
        flow.packets = u64::from(self.packets);
        flow.bytes = u64::from(self.octets);
        flow.flow_start = clock.time_of(self.first);
        flow.flow_end = clock.time_of(self.last);
        flow.out_if = u32::from(self.output);
        flow.in_if = u32::from(self.input);
        flow.tos = self.tos;
        flow.proto = self.proto;
        set_ports(flow, self.src_port, self.dst_port);
        keep_router_sc(flow, batch, self.router_sc);
    }

    /// A probe does no policing and shortcuts no router: those fields are zero.
    fn from_flow(flow: &FlowRecord, clock: &ExportClock) -> Option<Self> {
        is_ipv4(flow).then_some(())?;
        Some(Self {
            dst_addr: v4(flow.dst_addr)?,
            src_addr: v4(flow.src_addr)?,
            dst_port: dst_port_of(flow),
            src_port: flow.src_port,
            packets: count32(flow.packets),
            octets: count32(flow.bytes),
            first: clock.uptime_of(flow.flow_start),
            last: clock.uptime_of(flow.flow_end),
            output: if16(flow.out_if),
            input: if16(flow.in_if),
            tos: flow.tos,
            proto: flow.proto,
            marked_tos: 0,
            reserved: 0,
            extra_packets: 0,
            router_sc: Ipv4Addr::UNSPECIFIED,
        })
    }
}

fixed_layout! {
    /// Scheme 9, AS and type of service.
    pub struct AsTosAggregate {
        /// Flows, packets, bytes and times.
        totals: AggregateTotals,
        /// Source AS.
        src_as: u16,
        /// Destination AS.
        dst_as: u16,
        /// SNMP index of the input interface.
        input: u16,
        /// SNMP index of the output interface.
        output: u16,
        /// IP type of service.
        tos: u8,
        /// Unused (zero).
        pad: u8,
        /// Reserved (zero).
        reserved: u16,
    }
}

impl Record for AsTosAggregate {
    const MAX_PER_DATAGRAM: usize = 44;

    fn to_flow(&self, clock: &ExportClock, flow: &mut FlowRecord, _batch: &mut FlowBatch) {
        self.totals.to_flow(clock, flow);
        flow.src_as = u32::from(self.src_as);
        flow.dst_as = u32::from(self.dst_as);
        flow.in_if = u32::from(self.input);
        flow.out_if = u32::from(self.output);
        flow.tos = self.tos;
    }

    fn from_flow(flow: &FlowRecord, clock: &ExportClock) -> Option<Self> {
        is_ipv4(flow).then(|| Self {
            totals: AggregateTotals::from_flow(flow, clock),
            src_as: as16(flow.src_as),
            dst_as: as16(flow.dst_as),
            input: if16(flow.in_if),
            output: if16(flow.out_if),
            tos: flow.tos,
            pad: 0,
            reserved: 0,
        })
    }
}

fixed_layout! {
    /// Scheme 10, protocol, ports and type of service.
    pub struct ProtoPortTosAggregate {
        /// Flows, packets, bytes and times.
        totals: AggregateTotals,
        /// IP protocol.
        proto: u8,
        /// IP type of service.
        tos: u8,
        /// Reserved (zero).
        reserved: u16,
        /// Source port.
        src_port: u16,
        /// Destination port; for ICMP, `type * 256 + code`.
        dst_port: u16,
        /// SNMP index of the input interface.
        input: u16,
        /// SNMP index of the output interface.
        output: u16,
    }
}

impl Record for ProtoPortTosAggregate {
    const MAX_PER_DATAGRAM: usize = 44;

    fn to_flow(&self, clock: &ExportClock, flow: &mut FlowRecord, _batch: &mut FlowBatch) {
        self.totals.to_flow(clock, flow);
        flow.proto = self.proto;
        flow.tos = self.tos;
        set_ports(flow, self.src_port, self.dst_port);
        flow.in_if = u32::from(self.input);
        flow.out_if = u32::from(self.output);
    }

    fn from_flow(flow: &FlowRecord, clock: &ExportClock) -> Option<Self> {
        is_ipv4(flow).then(|| Self {
            totals: AggregateTotals::from_flow(flow, clock),
            proto: flow.proto,
            tos: flow.tos,
            reserved: 0,
            src_port: flow.src_port,
            dst_port: dst_port_of(flow),
            input: if16(flow.in_if),
            output: if16(flow.out_if),
        })
    }
}

fixed_layout! {
    /// Scheme 11, source prefix and type of service.
    pub struct SrcPrefixTosAggregate {
        /// Flows, packets, bytes and times.
        totals: AggregateTotals,
        /// Source prefix.
        src_prefix: Ipv4Addr,
        /// Source prefix length.
        src_mask: u8,
        /// IP type of service.
        tos: u8,
        /// Source AS.
        src_as: u16,
        /// SNMP index of the input interface.
        input: u16,
        /// Reserved (zero).
        reserved: u16,
    }
}

impl Record for SrcPrefixTosAggregate {
    const MAX_PER_DATAGRAM: usize = 44;

    fn to_flow(&self, clock: &ExportClock, flow: &mut FlowRecord, _batch: &mut FlowBatch) {
        self.totals.to_flow(clock, flow);
        flow.src_addr = addr(self.src_prefix);
        flow.src_mask = self.src_mask;
        flow.tos = self.tos;
        flow.src_as = u32::from(self.src_as);
        flow.in_if = u32::from(self.input);
    }

    fn from_flow(flow: &FlowRecord, clock: &ExportClock) -> Option<Self> {
        is_ipv4(flow).then_some(())?;
        Some(Self {
            totals: AggregateTotals::from_flow(flow, clock),
            src_prefix: v4(flow.src_addr)?,
            src_mask: flow.src_mask,
            tos: flow.tos,
            src_as: as16(flow.src_as),
            input: if16(flow.in_if),
            reserved: 0,
        })
    }
}

fixed_layout! {
    /// Scheme 12, destination prefix and type of service.
    pub struct DstPrefixTosAggregate {
        /// Flows, packets, bytes and times.
        totals: AggregateTotals,
        /// Destination prefix.
        dst_prefix: Ipv4Addr,
        /// Destination prefix length.
        dst_mask: u8,
        /// IP type of service.
        tos: u8,
        /// Destination AS.
        dst_as: u16,
        /// SNMP index of the output interface.
        output: u16,
        /// Reserved (zero).
        reserved: u16,
    }
}

impl Record for DstPrefixTosAggregate {
    const MAX_PER_DATAGRAM: usize = 44;

    fn to_flow(&self, clock: &ExportClock, flow: &mut FlowRecord, _batch: &mut FlowBatch) {
        self.totals.to_flow(clock, flow);
        flow.dst_addr = addr(self.dst_prefix);
        flow.dst_mask = self.dst_mask;
        flow.tos = self.tos;
        flow.dst_as = u32::from(self.dst_as);
        flow.out_if = u32::from(self.output);
    }

    fn from_flow(flow: &FlowRecord, clock: &ExportClock) -> Option<Self> {
        is_ipv4(flow).then_some(())?;
        Some(Self {
            totals: AggregateTotals::from_flow(flow, clock),
            dst_prefix: v4(flow.dst_addr)?,
            dst_mask: flow.dst_mask,
            tos: flow.tos,
            dst_as: as16(flow.dst_as),
            output: if16(flow.out_if),
            reserved: 0,
        })
    }
}

fixed_layout! {
    /// Scheme 13, prefix matrix and type of service.
    pub struct PrefixTosAggregate {
        /// Flows, packets, bytes and times.
        totals: AggregateTotals,
        /// Source prefix.
        src_prefix: Ipv4Addr,
        /// Destination prefix.
        dst_prefix: Ipv4Addr,
        /// Destination prefix length.
        dst_mask: u8,
        /// Source prefix length.
        src_mask: u8,
        /// IP type of service.
        tos: u8,
        /// Unused (zero).
        pad: u8,
        /// Source AS.
        src_as: u16,
        /// Destination AS.
        dst_as: u16,
        /// SNMP index of the input interface.
        input: u16,
        /// SNMP index of the output interface.
        output: u16,
    }
}

impl Record for PrefixTosAggregate {
    const MAX_PER_DATAGRAM: usize = 35;

    fn to_flow(&self, clock: &ExportClock, flow: &mut FlowRecord, _batch: &mut FlowBatch) {
        self.totals.to_flow(clock, flow);
        flow.src_addr = addr(self.src_prefix);
        flow.dst_addr = addr(self.dst_prefix);
        flow.src_mask = self.src_mask;
        flow.dst_mask = self.dst_mask;
        flow.tos = self.tos;
        flow.src_as = u32::from(self.src_as);
        flow.dst_as = u32::from(self.dst_as);
        flow.in_if = u32::from(self.input);
        flow.out_if = u32::from(self.output);
    }

    fn from_flow(flow: &FlowRecord, clock: &ExportClock) -> Option<Self> {
        is_ipv4(flow).then_some(())?;
        Some(Self {
            totals: AggregateTotals::from_flow(flow, clock),
            src_prefix: v4(flow.src_addr)?,
            dst_prefix: v4(flow.dst_addr)?,
            dst_mask: flow.dst_mask,
            src_mask: flow.src_mask,
            tos: flow.tos,
            pad: 0,
            src_as: as16(flow.src_as),
            dst_as: as16(flow.dst_as),
            input: if16(flow.in_if),
            output: if16(flow.out_if),
        })
    }
}

fixed_layout! {
    /// Scheme 14, prefixes, protocol, ports and type of service.
    pub struct PrefixPortAggregate {
        /// Flows, packets, bytes and times.
        totals: AggregateTotals,
        /// Source prefix.
        src_prefix: Ipv4Addr,
        /// Destination prefix.
        dst_prefix: Ipv4Addr,
        /// Destination prefix length.
        dst_mask: u8,
        /// Source prefix length.
        src_mask: u8,
        /// IP type of service.
        tos: u8,
        /// IP protocol.
        proto: u8,
        /// Source port.
        src_port: u16,
        /// Destination port; for ICMP, `type * 256 + code`.
        dst_port: u16,
        /// SNMP index of the input interface.
        input: u16,
        /// SNMP index of the output interface.
        output: u16,
    }
}

impl Record for PrefixPortAggregate {
    const MAX_PER_DATAGRAM: usize = 35;

    fn to_flow(&self, clock: &ExportClock, flow: &mut FlowRecord, _batch: &mut FlowBatch) {
        self.totals.to_flow(clock, flow);
        flow.src_addr = addr(self.src_prefix);
        flow.dst_addr = addr(self.dst_prefix);
        flow.src_mask = self.src_mask;
        flow.dst_mask = self.dst_mask;
        flow.tos = self.tos;
        flow.proto = self.proto;
        set_ports(flow, self.src_port, self.dst_port);
        flow.in_if = u32::from(self.input);
        flow.out_if = u32::from(self.output);
    }

    fn from_flow(flow: &FlowRecord, clock: &ExportClock) -> Option<Self> {
        is_ipv4(flow).then_some(())?;
        Some(Self {
            totals: AggregateTotals::from_flow(flow, clock),
            src_prefix: v4(flow.src_addr)?,
            dst_prefix: v4(flow.dst_addr)?,
            dst_mask: flow.dst_mask,
            src_mask: flow.src_mask,
            tos: flow.tos,
            proto: flow.proto,
            src_port: flow.src_port,
            dst_port: dst_port_of(flow),
            input: if16(flow.in_if),
            output: if16(flow.out_if),
        })
    }
}
