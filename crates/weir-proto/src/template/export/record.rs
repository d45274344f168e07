//! One data record from a [`FlowRecord`]: which column each information element takes its value from, and
//! the record's bytes for a template of elements.
//!
//! A [`RecordLayout`] is made once per template. Writing a record then reads the flow into a row of 64-bit
//! words in straight-line code (only the groups of words the template uses) and copies each element's word
//! into place. Choosing the value element by element, through a match on ~60 element ids, cost a jump
//! through a table per field and was most of the work of a probe's export.

use std::net::Ipv6Addr;

use weir_flow::FlowRecord;
use weir_flow::codes::{direction, etype};

use super::ExportError;
use crate::template::record::FieldSpec;

/// Seconds from the NTP epoch (1900) to the Unix epoch (1970).
const NTP_UNIX_OFFSET: u64 = 2_208_988_800;

/// The exporter's clock for the records of one datagram: NetFlow v9 uptime stamps (elements 21 and 22)
/// are counted back from `uptime_ms` at `export_ns`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordClock {
    /// When the datagram is stamped, nanoseconds since the epoch.
    pub export_ns: u64,
    /// The exporter's uptime at `export_ns`, milliseconds (wrapping at 2^32).
    pub uptime_ms: u32,
}

impl RecordClock {
    /// The uptime, in milliseconds, at time `t` (nanoseconds since the epoch); wraps like the exporter's.
    fn uptime_at(&self, t: u64) -> u64 {
        let before = (self.export_ns.saturating_sub(t) / 1_000_000) as u32;
        u64::from(self.uptime_ms.wrapping_sub(before))
    }

    /// When the exporter started, milliseconds since the epoch.
    pub(super) fn init_ms(&self) -> u64 {
        (self.export_ns / 1_000_000).saturating_sub(u64::from(self.uptime_ms))
    }
}

/// The values elements are written from: a flow is read into one word each. A 16-byte address is two
/// words, its high and low halves; IPv4 elements take the address's low 32 bits (0 for an IPv6 address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Word {
    Bytes,
    Packets,
    Flows,
    Proto,
    Tos,
    TcpFlags,
    SrcPort,
    DstPort,
    SrcMask,
    DstMask,
    InIf,
    OutIf,
    SrcAs,
    DstAs,
    Vlan,
    SrcMac,
    DstMac,
    IcmpTypeCode,
    IcmpType,
    IcmpCode,
    Direction,
    Forwarding,
    EndReason,
    Etype,
    IpVersion,
    SamplingRate,
    // Words computed in groups, each group only when a template needs one of it.
    Src4,
    Dst4,
    NextHop4,
    BgpNextHop4,
    SrcHi,
    SrcLo,
    DstHi,
    DstLo,
    NextHopHi,
    NextHopLo,
    BgpNextHopHi,
    BgpNextHopLo,
    StartSec,
    EndSec,
    StartMs,
    EndMs,
    StartNtp,
    EndNtp,
    StartUptime,
    EndUptime,
}

const WORDS: usize = Word::EndUptime as usize + 1;

/// Bits of a word set ([`RecordLayout::needs`]).
const fn bits(words: &[Word]) -> u64 {
    let mut b = 0;
    let mut i = 0;
    while i < words.len() {
        b |= 1 << words[i] as u8;
        i += 1;
    }
    b
}

const IPV4: u64 = bits(&[Word::Src4, Word::Dst4, Word::NextHop4, Word::BgpNextHop4]);
const IPV6: u64 = bits(&[
    Word::SrcHi,
    Word::SrcLo,
    Word::DstHi,
    Word::DstLo,
    Word::NextHopHi,
    Word::NextHopLo,
    Word::BgpNextHopHi,
    Word::BgpNextHopLo,
]);
const EPOCH: u64 = bits(&[Word::StartSec, Word::EndSec, Word::StartMs, Word::EndMs]);
const NTP: u64 = bits(&[Word::StartNtp, Word::EndNtp]);
const UPTIME: u64 = bits(&[Word::StartUptime, Word::EndUptime]);

/// How an element's value is written, which decides the lengths it may take.
#[derive(Clone, Copy)]
enum Value {
    Uint,
    Addr4,
    Addr6,
    Mac,
    Ntp,
}

/// The words element `id` is written from (two for a 16-byte address), and how; `None` if no column
/// holds it.
fn source(id: u16) -> Option<(&'static [Word], Value)> {
    use Word::*;
    let uint = |w: &'static [Word]| Some((w, Value::Uint));
    match id {
        1 | 23 | 85 => uint(&[Bytes]),
        2 | 24 | 86 => uint(&[Packets]),
        3 => uint(&[Flows]),
        4 => uint(&[Proto]),
        5 => uint(&[Tos]),
        6 => uint(&[TcpFlags]),
        7 => uint(&[SrcPort]),
        11 => uint(&[DstPort]),
        8 => Some((&[Src4], Value::Addr4)),
        12 => Some((&[Dst4], Value::Addr4)),
        15 => Some((&[NextHop4], Value::Addr4)),
        18 => Some((&[BgpNextHop4], Value::Addr4)),
        27 => Some((&[SrcHi, SrcLo], Value::Addr6)),
        28 => Some((&[DstHi, DstLo], Value::Addr6)),
        62 => Some((&[NextHopHi, NextHopLo], Value::Addr6)),
        63 => Some((&[BgpNextHopHi, BgpNextHopLo], Value::Addr6)),
        9 | 29 => uint(&[SrcMask]),
        13 | 30 => uint(&[DstMask]),
        10 | 252 => uint(&[InIf]),
        14 | 253 => uint(&[OutIf]),
        16 => uint(&[SrcAs]),
        17 => uint(&[DstAs]),
        58 | 243 => uint(&[Vlan]),
        56 => Some((&[SrcMac], Value::Mac)),
        80 => Some((&[DstMac], Value::Mac)),
        32 | 139 => uint(&[IcmpTypeCode]),
        176 | 178 => uint(&[IcmpType]),
        177 | 179 => uint(&[IcmpCode]),
        61 => uint(&[Direction]),
        89 => uint(&[Forwarding]),
        136 => uint(&[EndReason]),
        256 => uint(&[Etype]),
        60 => uint(&[IpVersion]),
        150 => uint(&[StartSec]),
        151 => uint(&[EndSec]),
        152 => uint(&[StartMs]),
        153 => uint(&[EndMs]),
        154 | 156 => Some((&[StartNtp], Value::Ntp)),
        155 | 157 => Some((&[EndNtp], Value::Ntp)),
        22 => uint(&[StartUptime]),
        21 => uint(&[EndUptime]),
        34 => uint(&[SamplingRate]),
        _ => None,
    }
}

/// The flow's words; of the computed groups, only those in `needs`.
#[inline(always)]
fn words(r: &FlowRecord, clock: &RecordClock, needs: u64) -> [u64; WORDS] {
    use Word::*;
    let mut w = [0u64; WORDS];
    w[Bytes as usize] = r.bytes;
    w[Packets as usize] = r.packets;
    w[Flows as usize] = r.flows;
    w[Proto as usize] = r.proto.into();
    w[Tos as usize] = r.tos.into();
    w[TcpFlags as usize] = r.tcp_flags.into();
    w[SrcPort as usize] = r.src_port.into();
    w[DstPort as usize] = r.dst_port.into();
    w[SrcMask as usize] = r.src_mask.into();
    w[DstMask as usize] = r.dst_mask.into();
    w[InIf as usize] = r.in_if.into();
    w[OutIf as usize] = r.out_if.into();
    w[SrcAs as usize] = r.src_as.into();
    w[DstAs as usize] = r.dst_as.into();
    w[Vlan as usize] = r.vlan.into();
    w[SrcMac as usize] = r.src_mac;
    w[DstMac as usize] = r.dst_mac;
    w[IcmpTypeCode as usize] = u64::from(r.icmp_type) << 8 | u64::from(r.icmp_code);
    w[IcmpType as usize] = r.icmp_type.into();
    w[IcmpCode as usize] = r.icmp_code.into();
    w[Direction as usize] = u64::from(r.flow_direction == direction::EGRESS);
    w[Forwarding as usize] = r.forwarding_status.into();
    w[EndReason as usize] = r.flow_end_reason.into();
    w[Etype as usize] = r.etype.into();
    w[IpVersion as usize] = if r.etype == etype::IPV6 { 6 } else { 4 };
    w[SamplingRate as usize] = r.sampling_rate.into();
    if needs & IPV4 != 0 {
        let v4 = |a: Ipv6Addr| u64::from(a.to_ipv4_mapped().map_or(0, u32::from));
        w[Src4 as usize] = v4(r.src_addr);
        w[Dst4 as usize] = v4(r.dst_addr);
        w[NextHop4 as usize] = v4(r.next_hop);
        w[BgpNextHop4 as usize] = v4(r.bgp_next_hop);
    }
    if needs & IPV6 != 0 {
        for (a, hi) in [
            (r.src_addr, SrcHi),
            (r.dst_addr, DstHi),
            (r.next_hop, NextHopHi),
            (r.bgp_next_hop, BgpNextHopHi),
        ] {
            let a = u128::from(a);
            w[hi as usize] = (a >> 64) as u64;
            w[hi as usize + 1] = a as u64;
        }
    }
    if needs & EPOCH != 0 {
        w[StartSec as usize] = r.flow_start / 1_000_000_000;
        w[EndSec as usize] = r.flow_end / 1_000_000_000;
        w[StartMs as usize] = r.flow_start / 1_000_000;
        w[EndMs as usize] = r.flow_end / 1_000_000;
    }
    if needs & NTP != 0 {
        w[StartNtp as usize] = ntp(r.flow_start);
        w[EndNtp as usize] = ntp(r.flow_end);
    }
    if needs & UPTIME != 0 {
        w[StartUptime as usize] = clock.uptime_at(r.flow_start);
        w[EndUptime as usize] = clock.uptime_at(r.flow_end);
    }
    w
}

/// Nanoseconds since the Unix epoch in NTP format (RFC 5905).
fn ntp(ns: u64) -> u64 {
    let secs = ns / 1_000_000_000 + NTP_UNIX_OFFSET;
    let frac = ((ns % 1_000_000_000) << 32) / 1_000_000_000;
    secs << 32 | frac
}

/// One word written in `len` bytes (1 to 8): its low bytes, big-endian.
#[derive(Debug, Clone, Copy)]
struct Put {
    word: u8,
    len: u8,
}

/// The records of one template: what each element is written from, in order.
#[derive(Debug, Clone, Default)]
pub struct RecordLayout {
    puts: Vec<Put>,
    /// The computed word groups the elements use.
    needs: u64,
    len: usize,
}

impl RecordLayout {
    /// The layout of `fields`.
    pub fn new(fields: &[FieldSpec]) -> Result<Self, ExportError> {
        let mut layout = RecordLayout::default();
        fields.iter().try_for_each(|f| layout.push(f))?;
        Ok(layout)
    }

    /// Appends element `f`, if a [`FlowRecord`] column can fill it in its length.
    pub fn push(&mut self, f: &FieldSpec) -> Result<(), ExportError> {
        let unsupported = ExportError::UnsupportedField { id: f.id };
        if f.enterprise.is_some() || f.is_variable() {
            return Err(unsupported);
        }
        let (words, kind) = source(f.id).ok_or(unsupported)?;
        let fits = match kind {
            Value::Uint => (1..=8).contains(&f.length),
            Value::Addr4 => f.length == 4,
            Value::Addr6 => f.length == 16,
            Value::Mac => f.length == 6,
            Value::Ntp => f.length == 8,
        };
        if !fits {
            return Err(ExportError::BadLength {
                id: f.id,
                length: f.length,
            });
        }
        // A 16-byte address is two 8-byte words; anything else is one word in the field's length.
        let len = (f.length / words.len() as u16) as u8;
        for &w in words {
            self.puts.push(Put { word: w as u8, len });
            self.needs |= 1 << w as u8;
            self.len += usize::from(len);
        }
        Ok(())
    }

    /// Bytes per record.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether records have no element.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends the record of `r`, stamped with `clock`, to `out`.
    ///
    /// Each element is stored as 8 bytes of which the next overwrites all but its own: a copy by the
    /// element's length would be a `memcpy` call or a mispredicted branch per element.
    pub fn write(&self, r: &FlowRecord, clock: &RecordClock, out: &mut Vec<u8>) {
        let w = words(r, clock, self.needs);
        let start = out.len();
        out.resize(start + self.len + 8, 0);
        let mut at = start;
        for p in &self.puts {
            // The low `len` bytes moved to the top (`len` is 1 to 8).
            let top = w[usize::from(p.word)] << (64 - 8 * u32::from(p.len));
            out[at..at + 8].copy_from_slice(&top.to_be_bytes());
            at += usize::from(p.len);
        }
        out.truncate(start + self.len);
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv6Addr;

    use weir_flow::{FlowRecord, ipv4};

    use super::{RecordClock, RecordLayout};
    use crate::template::record::FieldSpec;

    #[test]
    fn every_field_keeps_its_low_bytes_big_endian_in_its_length() {
        let r = FlowRecord {
            bytes: 0x0102_0304_0506_0708,
            src_addr: ipv4([10, 1, 2, 3]),
            dst_addr: "2001:db8::1".parse().unwrap_or(Ipv6Addr::UNSPECIFIED),
            src_mac: 0x0a0b_0c0d_0e0f,
            proto: 6,
            ..FlowRecord::default()
        };
        let clock = RecordClock {
            export_ns: 0,
            uptime_ms: 0,
        };
        let bytes = r.bytes.to_be_bytes();
        let mut fields = Vec::new();
        let mut expected = vec![0xee];
        for len in 1..=8u16 {
            fields.push(FieldSpec::new(1, len));
            expected.extend_from_slice(&bytes[8 - usize::from(len)..]);
        }
        fields.extend([
            FieldSpec::new(8, 4),
            FieldSpec::new(28, 16),
            FieldSpec::new(56, 6),
            FieldSpec::new(4, 1),
        ]);
        expected.extend_from_slice(&[10, 1, 2, 3]);
        expected.extend_from_slice(&r.dst_addr.octets());
        expected.extend_from_slice(&[0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f]);
        expected.push(6);
        let layout = RecordLayout::new(&fields).unwrap();
        assert_eq!(layout.len(), expected.len() - 1);
        let mut out = vec![0xee];
        layout.write(&r, &clock, &mut out);
        assert_eq!(
            out, expected,
            "what was there stays, and nothing follows the record"
        );
    }

    #[test]
    fn refuses_elements_no_column_holds_or_in_lengths_they_cannot_take() {
        assert!(RecordLayout::new(&[FieldSpec::new(1, 8), FieldSpec::new(999, 4)]).is_err());
        assert!(RecordLayout::new(&[FieldSpec::new(8, 16)]).is_err());
        assert!(RecordLayout::new(&[FieldSpec::new(1, 9)]).is_err());
    }
}
