//! Compiling a template into a decode plan, and decoding data records with it.
//!
//! The plan says, per field, how long it is and what to do with its bytes (which column, which conversion),
//! so that a data record is decoded by one pass over a short array: no lookups by element id and no
//! allocation per record. Which element fills which column is decided here once, when the template arrives:
//! the highest-priority element present wins (octetDeltaCount before octetTotalCount, say), a repeated
//! element fills the column with its first occurrence, and everything else goes to `extra_fields`.

use std::mem;
use std::net::Ipv6Addr;

use weir_flow::codes::{etype, forwarding, proto};
use weir_flow::{FlowBatch, FlowRecord, push_extra};

use crate::error::DecodeError;
use crate::reader::Reader;
use crate::template::options::OptionsState;
use crate::template::record::{FieldSpec, read_value};

/// Seconds from the NTP epoch (1900) to the Unix epoch (1970).
const NTP_UNIX_OFFSET: u64 = 2_208_988_800;

/// The paddingOctets element (IE 210): filler, not data.
const PADDING_OCTETS: u16 = 210;

/// How a timestamp field counts time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Clock {
    /// Milliseconds of the exporter's uptime (v9: relative to the header's uptime and export time; IPFIX:
    /// relative to systemInitTimeMilliseconds from options data).
    Uptime,
    /// Seconds since the Unix epoch.
    Seconds,
    /// Milliseconds since the Unix epoch.
    Millis,
    /// NTP format with microsecond precision (the low 11 bits of the fraction are ignored, RFC 7011 6.1.9).
    NtpMicros,
    /// NTP format with nanosecond precision.
    NtpNanos,
    /// Microseconds before the export time.
    DeltaMicros,
}

/// What to do with one field's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// Nothing (zero-length fields, paddingOctets).
    Skip,
    /// Keep the raw value in `extra_fields`.
    Extra,
    Bytes,
    Packets,
    Flows,
    Proto,
    Tos,
    TcpFlags,
    SrcPort,
    DstPort,
    SrcAddr,
    DstAddr,
    NextHop,
    BgpNextHop,
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
    Start(Clock),
    End(Clock),
    /// The sampler (v9 FLOW_SAMPLER_ID, IE 48) or selector (IE 302) that sampled this flow.
    SamplerId,
    /// A sampling interval carried in the flow record itself (IE 34, or v9 IE 50).
    SamplingInterval,
}

/// How a field's value must be shaped for an action; other lengths go to `extra_fields`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// An unsigned integer, possibly in reduced-size encoding (RFC 7011 6.2): 1 to 8 bytes.
    Uint,
    /// An IPv4 (4 bytes) or IPv6 (16 bytes) address.
    Addr,
    /// A MAC address, 6 bytes.
    Mac,
    /// An NTP timestamp, 8 bytes.
    Ntp,
}

/// The mapping from IANA information elements (and the same NetFlow v9 field types) to Weir's columns, with
/// a priority among the elements that can fill the same column (lower first).
const MAPPING: &[(u16, Action, u8)] = &[
    (1, Action::Bytes, 0),
    (85, Action::Bytes, 1),
    (23, Action::Bytes, 2),
    (231, Action::Bytes, 3),
    (2, Action::Packets, 0),
    (86, Action::Packets, 1),
    (24, Action::Packets, 2),
    (298, Action::Packets, 3),
    (3, Action::Flows, 0),
    (4, Action::Proto, 0),
    (5, Action::Tos, 0),
    (6, Action::TcpFlags, 0),
    (7, Action::SrcPort, 0),
    (11, Action::DstPort, 0),
    (8, Action::SrcAddr, 0),
    (27, Action::SrcAddr, 1),
    (12, Action::DstAddr, 0),
    (28, Action::DstAddr, 1),
    (9, Action::SrcMask, 0),
    (29, Action::SrcMask, 1),
    (13, Action::DstMask, 0),
    (30, Action::DstMask, 1),
    (10, Action::InIf, 0),
    (252, Action::InIf, 1),
    (14, Action::OutIf, 0),
    (253, Action::OutIf, 1),
    (15, Action::NextHop, 0),
    (62, Action::NextHop, 1),
    (18, Action::BgpNextHop, 0),
    (63, Action::BgpNextHop, 1),
    (16, Action::SrcAs, 0),
    (17, Action::DstAs, 0),
    (58, Action::Vlan, 0),
    (243, Action::Vlan, 1),
    (59, Action::Vlan, 2),
    (56, Action::SrcMac, 0),
    (81, Action::SrcMac, 1),
    (80, Action::DstMac, 0),
    (57, Action::DstMac, 1),
    (32, Action::IcmpTypeCode, 0),
    (139, Action::IcmpTypeCode, 1),
    (176, Action::IcmpType, 0),
    (178, Action::IcmpType, 1),
    (177, Action::IcmpCode, 0),
    (179, Action::IcmpCode, 1),
    (61, Action::Direction, 0),
    (89, Action::Forwarding, 0),
    (136, Action::EndReason, 0),
    (256, Action::Etype, 0),
    (60, Action::IpVersion, 0),
    // The most precise clock wins when an exporter sends several.
    (156, Action::Start(Clock::NtpNanos), 0),
    (154, Action::Start(Clock::NtpMicros), 1),
    (152, Action::Start(Clock::Millis), 2),
    (150, Action::Start(Clock::Seconds), 3),
    (22, Action::Start(Clock::Uptime), 4),
    (158, Action::Start(Clock::DeltaMicros), 5),
    (157, Action::End(Clock::NtpNanos), 0),
    (155, Action::End(Clock::NtpMicros), 1),
    (153, Action::End(Clock::Millis), 2),
    (151, Action::End(Clock::Seconds), 3),
    (21, Action::End(Clock::Uptime), 4),
    (159, Action::End(Clock::DeltaMicros), 5),
    // Cisco ASA (NSEL) reports firewall events with observationTimeMilliseconds and no flow end time.
    (323, Action::End(Clock::Millis), 6),
    (48, Action::SamplerId, 0),
    (302, Action::SamplerId, 1),
    (34, Action::SamplingInterval, 0),
    (50, Action::SamplingInterval, 1),
];

impl Action {
    fn shape(self) -> Shape {
        match self {
            Self::SrcAddr | Self::DstAddr | Self::NextHop | Self::BgpNextHop => Shape::Addr,
            Self::SrcMac | Self::DstMac => Shape::Mac,
            Self::Start(Clock::NtpMicros | Clock::NtpNanos)
            | Self::End(Clock::NtpMicros | Clock::NtpNanos) => Shape::Ntp,
            _ => Shape::Uint,
        }
    }

    /// The action for field `f`, with its priority, if the field fills a column in this shape.
    fn of(f: &FieldSpec) -> (Action, u8) {
        if f.length == 0 || (f.enterprise.is_none() && f.id == PADDING_OCTETS) {
            return (Action::Skip, 0);
        }
        let found = match f.enterprise {
            Some(_) => None,
            None => MAPPING.iter().find(|m| m.0 == f.id),
        };
        match found {
            Some(&(_, action, prio)) if fits(action.shape(), f.length) => (action, prio),
            _ => (Action::Extra, 0),
        }
    }
}

fn fits(shape: Shape, len: u16) -> bool {
    match shape {
        Shape::Uint => (1..=8).contains(&len),
        Shape::Addr => len == 4 || len == 16,
        Shape::Mac => len == 6,
        Shape::Ntp => len == 8,
    }
}

/// One step of a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Op {
    pub action: Action,
    /// Field length; [`VARIABLE_LENGTH`] for IPFIX variable-length fields.
    pub len: u16,
    /// Offset in the record (meaningful when the template has no variable-length field).
    pub offset: u16,
    /// Right shift that turns the 8 bytes at the field's offset into its value (fields of 1 to 8 bytes).
    pub shift: u8,
    /// Enterprise number (0 for IANA) and element id, for `extra_fields`.
    pub enterprise: u32,
    pub id: u16,
}

/// A template compiled for decoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Plan {
    pub ops: Vec<Op>,
    /// Record length when every field has a fixed length.
    pub fixed_len: Option<usize>,
    /// The shortest record (variable-length fields count their one length byte).
    pub min_len: usize,
    /// EtherType implied by the first address field, for records that carry no ethernetType or ipVersion.
    pub addr_etype: u16,
}

impl Plan {
    /// Compiles the fields of a template. The caller has checked the field count against its limits.
    pub fn compile(fields: &[FieldSpec]) -> Plan {
        let mut ops: Vec<Op> = Vec::with_capacity(fields.len());
        // The winning field per column: (column, priority, position).
        let mut winners: Vec<(mem::Discriminant<Action>, u8, usize)> = Vec::new();
        let mut offset = 0usize;
        let mut variable = false;
        let mut min_len = 0usize;
        for (i, f) in fields.iter().enumerate() {
            let (action, prio) = Action::of(f);
            if !matches!(action, Action::Skip | Action::Extra) {
                let column = mem::discriminant(&action);
                match winners.iter_mut().find(|w| w.0 == column) {
                    Some(w) if (prio, i) < (w.1, w.2) => {
                        ops[w.2].action = Action::Extra;
                        *w = (column, prio, i);
                    }
                    Some(_) => {}
                    None => winners.push((column, prio, i)),
                }
            }
            let losing = winners
                .iter()
                .any(|w| w.0 == mem::discriminant(&action) && w.2 != i);
            ops.push(Op {
                action: if losing { Action::Extra } else { action },
                len: f.length,
                offset: offset.min(usize::from(u16::MAX)) as u16,
                shift: if (1..=8).contains(&f.length) {
                    (8 - f.length as u8) * 8
                } else {
                    0
                },
                enterprise: f.enterprise.unwrap_or(0),
                id: f.id,
            });
            if f.is_variable() {
                variable = true;
                min_len += 1;
            } else {
                min_len += usize::from(f.length);
                offset += usize::from(f.length);
            }
        }
        let addr_etype = ops
            .iter()
            .find(|o| matches!(o.action, Action::SrcAddr | Action::DstAddr))
            .map_or(0, |o| if o.len == 4 { etype::IPV4 } else { etype::IPV6 });
        Plan {
            ops,
            fixed_len: (!variable).then_some(min_len),
            min_len,
            addr_etype,
        }
    }
}

/// What records of one data set share: the header's times and the domain's options state.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TimeBase {
    /// Export time of the datagram (v9 unix_secs, IPFIX export time), nanoseconds since the epoch.
    pub export_ns: u64,
    /// NetFlow v9 header sysUpTime in milliseconds; `None` for IPFIX.
    pub uptime_ms: Option<u32>,
    /// When the exporter started (IPFIX systemInitTimeMilliseconds), nanoseconds since the epoch.
    pub init_ns: Option<u64>,
}

impl TimeBase {
    /// Converts a timestamp field; `None` when it cannot be placed in time (IPFIX uptime without a known
    /// system init time).
    pub(super) fn convert(&self, clock: Clock, v: u64) -> Option<u64> {
        const MS: u64 = 1_000_000;
        Some(match clock {
            Clock::Seconds => v.saturating_mul(1_000_000_000),
            Clock::Millis => v.saturating_mul(MS),
            Clock::NtpMicros => ntp(v & !0x7ff),
            Clock::NtpNanos => ntp(v),
            Clock::DeltaMicros => self.export_ns.saturating_sub(v.saturating_mul(1000)),
            Clock::Uptime => match (self.uptime_ms, self.init_ns) {
                // The flow's uptime is before the header's; the difference wraps with the 32-bit uptime.
                (Some(now), _) => self
                    .export_ns
                    .saturating_sub(u64::from(now.wrapping_sub(v as u32)).saturating_mul(MS)),
                (None, Some(init)) => init.saturating_add(v.saturating_mul(MS)),
                (None, None) => return None,
            },
        })
    }
}

/// An NTP timestamp (RFC 5905: seconds since 1900, 32-bit fraction) as nanoseconds since the Unix epoch;
/// 0 (unknown) before 1970.
fn ntp(v: u64) -> u64 {
    let secs = v >> 32;
    let frac = v & 0xffff_ffff;
    match secs.checked_sub(NTP_UNIX_OFFSET) {
        Some(s) => s * 1_000_000_000 + ((frac * 1_000_000_000) >> 32),
        None => 0,
    }
}

/// An unsigned integer of 1 to 8 bytes, big-endian (reduced-size encoding gives any of those lengths).
#[inline]
pub(super) fn uint(b: &[u8]) -> u64 {
    match *b {
        [a] => u64::from(a),
        [a, b] => u64::from(u16::from_be_bytes([a, b])),
        [a, b, c, d] => u64::from(u32::from_be_bytes([a, b, c, d])),
        [a, b, c, d, e, f, g, h] => u64::from_be_bytes([a, b, c, d, e, f, g, h]),
        _ => b.iter().fold(0u64, |acc, &x| (acc << 8) | u64::from(x)),
    }
}

#[inline]
pub(super) fn addr(b: &[u8]) -> Ipv6Addr {
    match *b {
        [a, b, c, d] => weir_flow::ipv4([a, b, c, d]),
        _ => <[u8; 16]>::try_from(b).map_or(Ipv6Addr::UNSPECIFIED, Ipv6Addr::from),
    }
}

/// Flows staged before they are appended to the batch: appending a few at a time, column by column, costs
/// far less than one push per column per flow.
const STAGE: usize = 16;

/// A record being decoded: the flow plus what is settled only after every field is read.
struct Work<'s> {
    rec: FlowRecord,
    sampler: Option<u64>,
    interval: Option<u64>,
    ip_version: u64,
    extra: &'s mut Vec<u8>,
}

impl Work<'_> {
    /// Readies the work for the next record of a set. Every field the plan writes is written again, so only
    /// the fields that are set conditionally go back to the set's base values (cheaper than copying the
    /// whole record).
    #[inline(always)]
    fn reset(&mut self, base: &FlowRecord) {
        let r = &mut self.rec;
        r.sampling_rate = base.sampling_rate;
        r.etype = base.etype;
        r.flow_start = base.flow_start;
        r.flow_end = base.flow_end;
        r.in_if_name = base.in_if_name;
        r.out_if_name = base.out_if_name;
        r.extra_fields = base.extra_fields;
        // `finish` derives these from the destination port when no element set them.
        r.icmp_type = base.icmp_type;
        r.icmp_code = base.icmp_code;
        self.sampler = None;
        self.interval = None;
        self.ip_version = 0;
    }

    /// Applies one field: `raw` is its value as an unsigned integer (fields of 1 to 8 bytes), `field` its
    /// bytes, fetched only by the actions that need them.
    #[inline(always)]
    fn apply<'f>(&mut self, op: &Op, raw: u64, field: impl FnOnce() -> &'f [u8], times: &TimeBase) {
        let r = &mut self.rec;
        match op.action {
            Action::Skip => {}
            Action::Extra => push_extra(self.extra, op.enterprise, op.id, field()),
            Action::Bytes => r.bytes = raw,
            Action::Packets => r.packets = raw,
            Action::Flows => r.flows = raw,
            Action::Proto => r.proto = raw as u8,
            Action::Tos => r.tos = raw as u8,
            Action::TcpFlags => r.tcp_flags = raw as u16,
            Action::SrcPort => r.src_port = raw as u16,
            Action::DstPort => r.dst_port = raw as u16,
            Action::SrcAddr => r.src_addr = addr(field()),
            Action::DstAddr => r.dst_addr = addr(field()),
            Action::NextHop => r.next_hop = addr(field()),
            Action::BgpNextHop => r.bgp_next_hop = addr(field()),
            Action::SrcMask => r.src_mask = raw as u8,
            Action::DstMask => r.dst_mask = raw as u8,
            Action::InIf => r.in_if = raw as u32,
            Action::OutIf => r.out_if = raw as u32,
            Action::SrcAs => r.src_as = raw as u32,
            Action::DstAs => r.dst_as = raw as u32,
            Action::Vlan => r.vlan = raw as u16 & 0x0fff,
            Action::SrcMac => r.src_mac = raw,
            Action::DstMac => r.dst_mac = raw,
            Action::IcmpTypeCode => {
                let tc = raw as u16;
                r.icmp_type = (tc >> 8) as u8;
                r.icmp_code = tc as u8;
            }
            Action::IcmpType => r.icmp_type = raw as u8,
            Action::IcmpCode => r.icmp_code = raw as u8,
            // IE 61: 0 ingress, 1 egress; the schema keeps 0 for "not said".
            Action::Direction => r.flow_direction = (raw as u8).saturating_add(1).min(2),
            Action::Forwarding => r.forwarding_status = raw as u8,
            Action::EndReason => r.flow_end_reason = raw as u8,
            Action::Etype => r.etype = raw as u16,
            Action::IpVersion => self.ip_version = raw,
            Action::Start(clock) => match times.convert(clock, raw) {
                Some(t) => r.flow_start = t,
                None => push_extra(self.extra, op.enterprise, op.id, field()),
            },
            Action::End(clock) => match times.convert(clock, raw) {
                Some(t) => r.flow_end = t,
                None => push_extra(self.extra, op.enterprise, op.id, field()),
            },
            Action::SamplerId => self.sampler = Some(raw),
            Action::SamplingInterval => self.interval = Some(raw),
        }
    }

    /// Settles what depends on several fields, and appends the flow.
    #[inline(always)]
    fn finish(
        &mut self,
        plan: &Plan,
        options: &OptionsState,
        out: &mut FlowBatch,
        stage: &mut Vec<FlowRecord>,
    ) {
        let r = &mut self.rec;
        if let Some(rate) = options.rate_for(self.sampler) {
            r.sampling_rate = rate;
        } else if let Some(interval) = self.interval.filter(|&i| i > 0) {
            r.sampling_rate = interval.min(u64::from(u32::MAX)) as u32;
        }
        if r.etype == 0 {
            r.etype = match self.ip_version {
                4 => etype::IPV4,
                6 => etype::IPV6,
                _ => plan.addr_etype,
            };
        }
        // Exporters without ICMP elements put type and code in the destination port (type * 256 + code).
        if matches!(r.proto, proto::ICMP | proto::ICMPV6) && r.icmp_type == 0 && r.icmp_code == 0 {
            [r.icmp_type, r.icmp_code] = r.dst_port.to_be_bytes();
        }
        // The status is the top two bits (codes::forwarding::status, spelt out to stay inlined).
        if r.forwarding_status & 0xc0 == forwarding::DROPPED {
            r.out_if = 0;
        }
        if options.has_interface_names() {
            if let Some(name) = options.interface_name(r.in_if) {
                r.in_if_name = out.intern(name);
            }
            if let Some(name) = options.interface_name(r.out_if) {
                r.out_if_name = out.intern(name);
            }
        }
        if !self.extra.is_empty() {
            r.extra_fields = out.push_blob(self.extra);
            self.extra.clear();
        }
        stage.push(*r);
        if stage.len() == STAGE {
            out.extend(stage);
            stage.clear();
        }
    }
}

/// Whether what is left of a set is padding rather than records: shorter than a record, or a few zero
/// bytes (exporters pad sets to 4 bytes even when a record could be that short).
#[inline]
fn is_padding(rest: &[u8], min_len: usize) -> bool {
    rest.len() < min_len.max(1) || (rest.len() < 4 && rest.iter().all(|&b| b == 0))
}

impl Plan {
    /// Decodes the records of one data set into `out`, starting each from `base`. Returns how many were
    /// appended; on an error, the records before it are kept.
    pub fn decode_set(
        &self,
        mut r: Reader<'_>,
        base: &FlowRecord,
        times: &TimeBase,
        options: &OptionsState,
        (extra, stage): (&mut Vec<u8>, &mut Vec<FlowRecord>),
        out: &mut FlowBatch,
    ) -> Result<usize, DecodeError> {
        extra.clear();
        stage.clear();
        let mut w = Work {
            rec: *base,
            sampler: None,
            interval: None,
            ip_version: 0,
            extra,
        };
        let mut n = 0;
        match self.fixed_len {
            Some(0) => {}
            Some(_) => return Ok(self.decode_columns(r.rest(), base, times, options, extra, out)),
            None => {
                while !is_padding(r.clone().rest(), self.min_len) {
                    w.reset(base);
                    if let Err(e) = self.read_variable(&mut r, &mut w, times) {
                        // The records before the bad one are kept.
                        out.extend(stage);
                        return Err(e);
                    }
                    w.finish(self, options, out, stage);
                    n += 1;
                }
            }
        }
        out.extend(stage);
        Ok(n)
    }

    /// Reads one record of a template with variable-length fields.
    #[inline(always)]
    fn read_variable(
        &self,
        r: &mut Reader<'_>,
        w: &mut Work<'_>,
        times: &TimeBase,
    ) -> Result<(), DecodeError> {
        for op in &self.ops {
            let v = read_value(r, op.len)?;
            w.apply(op, uint(v), || v, times);
        }
        Ok(())
    }
}
