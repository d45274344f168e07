//! One flow in the cache: its key, counters, times, and what the first packet said besides the key.

use weir_flow::FlowRecord;
use weir_flow::codes::etype;

use super::key::{CacheKey, KeyField, KeySet, mac_bytes, mac_value};
use crate::packet::{Family, Packet};

/// Flags of an entry, in one byte.
const FRAGMENT: u8 = 1;
const IPV6: u8 = 2;

/// A flow being counted. `packets == 0` marks a free slot.
///
/// An IPv4 entry is 64 bytes on a cache line of its own ([`CacheKey::Align`]), an IPv6 / flexible one
/// 104 bytes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry<K: CacheKey> {
    pub(crate) key: K,
    pub(crate) first_ns: u64,
    pub(crate) last_ns: u64,
    pub(crate) bytes: u64,
    pub(crate) packets: u64,
    src_mac: [u8; 6],
    dst_mac: [u8; 6],
    vlan: u16,
    pub(crate) tcp_flags: u16,
    tos: u8,
    flags: u8,
    _align: K::Align,
}

impl<K: CacheKey> Entry<K> {
    /// A new flow started by `p`.
    #[inline]
    pub(crate) fn start(key: K, p: &Packet) -> Self {
        Entry {
            key,
            first_ns: p.ts_ns,
            last_ns: p.ts_ns,
            bytes: u64::from(p.bytes),
            packets: 1,
            src_mac: mac_bytes(p.src_mac),
            dst_mac: mac_bytes(p.dst_mac),
            vlan: p.vlan,
            tcp_flags: p.tcp_flags,
            tos: p.tos,
            flags: if p.fragment { FRAGMENT } else { 0 } | if p.family == Family::V6 { IPV6 } else { 0 },
            _align: K::Align::default(),
        }
    }

    /// Counts one more packet. Packets a little out of order (capture reordering) widen the flow's span.
    #[inline]
    pub(crate) fn add(&mut self, p: &Packet) {
        self.packets += 1;
        self.bytes += u64::from(p.bytes);
        self.tcp_flags |= p.tcp_flags;
        self.first_ns = self.first_ns.min(p.ts_ns);
        self.last_ns = self.last_ns.max(p.ts_ns);
    }

    /// Whether the flow is made of non-first fragments.
    pub(crate) fn is_fragment(&self) -> bool {
        self.flags & FRAGMENT != 0
    }

    /// The flow as a record: `base` holds what every flow of the cache shares (sampling rate, direction,
    /// configured interfaces); the key and the entry fill the rest.
    pub(crate) fn record(&self, set: KeySet, base: &FlowRecord, now_ns: u64, reason: u8) -> FlowRecord {
        let mut rec = *base;
        self.key.fill(set, &mut rec);
        rec.etype = if self.flags & IPV6 != 0 {
            etype::IPV6
        } else {
            etype::IPV4
        };
        rec.flow_start = self.first_ns;
        rec.flow_end = self.last_ns;
        rec.time_received = now_ns;
        rec.bytes = self.bytes;
        rec.packets = self.packets;
        rec.flows = 1;
        rec.tcp_flags = self.tcp_flags;
        rec.flow_end_reason = reason;
        if !set.has(KeyField::Tos) {
            rec.tos = self.tos;
        }
        if !set.has(KeyField::Vlan) {
            rec.vlan = self.vlan;
        }
        if !set.has(KeyField::SrcMac) {
            rec.src_mac = mac_value(self.src_mac);
        }
        if !set.has(KeyField::DstMac) {
            rec.dst_mac = mac_value(self.dst_mac);
        }
        rec
    }
}
