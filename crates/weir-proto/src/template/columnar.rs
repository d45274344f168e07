//! Decoding a data set of fixed-length records column by column.
//!
//! Each field of the template is read for every record of the set in one loop that writes straight into
//! its column, so the choice of what to do with a field is made once per set rather than once per record,
//! and no record is assembled on the way. What depends on several fields of a record (sampling by sampler
//! id, the EtherType from the IP version, ICMP type and code from the port, dropped flows, interface names,
//! elements kept in `extra_fields`) is settled afterwards, in passes over the new rows.
//!
//! The result is the same as decoding record by record (`Plan::decode_set`'s path for templates with
//! variable-length fields); the golden files of every capture hold both to it.

use weir_flow::codes::{etype, forwarding, proto};
use weir_flow::{FlowBatch, FlowRecord, push_extra};

use crate::template::options::OptionsState;
use crate::template::plan::{Action, Op, Plan, TimeBase, addr, uint};

/// The bytes of `op`'s field in a record that starts at `rec` (and runs on to the end of the set).
#[inline(always)]
fn field<'a>(rec: &'a [u8], op: &Op) -> &'a [u8] {
    let at = usize::from(op.offset);
    rec.get(at..at + usize::from(op.len)).unwrap_or_default()
}

/// `op`'s field as an unsigned integer: one 8-byte load and a shift while 8 bytes remain in the set.
#[inline(always)]
fn raw(rec: &[u8], op: &Op) -> u64 {
    let at = usize::from(op.offset);
    match rec.get(at..at + 8).and_then(|b| <[u8; 8]>::try_from(b).ok()) {
        Some(b) => u64::from_be_bytes(b) >> op.shift,
        None => uint(field(rec, op)),
    }
}

/// The records of a set: record `i` starts at `i * len` and the slice runs to the end of the set, so that
/// the 8-byte loads near a record's end stay in bounds.
#[inline(always)]
fn records(body: &[u8], len: usize, n: usize) -> impl Iterator<Item = &[u8]> {
    (0..n).map(move |i| body.get(i * len..).unwrap_or_default())
}

/// Writes `conv` of `op`'s value in each record into the column's new rows: one 8-byte load and a shift
/// per value while 8 bytes remain in the set, walking the field's offset from record to record.
#[inline(always)]
fn fill<T>(col: &mut [T], body: &[u8], len: usize, op: &Op, conv: impl Fn(u64) -> T) {
    let (mut at, width, shift) = (usize::from(op.offset), usize::from(op.len), op.shift);
    for dst in col {
        let v = match body.get(at..at + 8).and_then(|b| <[u8; 8]>::try_from(b).ok()) {
            Some(b) => u64::from_be_bytes(b) >> shift,
            None => uint(body.get(at..at + width).unwrap_or_default()),
        };
        *dst = conv(v);
        at += len;
    }
}

/// Writes `conv` of `op`'s bytes in each record into the column's new rows.
#[inline(always)]
fn fill_bytes<T>(col: &mut [T], body: &[u8], len: usize, op: &Op, conv: impl Fn(&[u8]) -> T) {
    let (mut at, width) = (usize::from(op.offset), usize::from(op.len));
    for dst in col {
        *dst = conv(body.get(at..at + width).unwrap_or_default());
        at += len;
    }
}

/// The rows `from..` of a column.
#[inline(always)]
fn rows<T>(col: &mut [T], from: usize) -> &mut [T] {
    col.get_mut(from..).unwrap_or_default()
}

impl Plan {
    /// Decodes the records of a set of a template whose records all have the same length, appending them
    /// to `out` starting from `base`. Returns how many were appended.
    pub(super) fn decode_columns(
        &self,
        body: &[u8],
        base: &FlowRecord,
        times: &TimeBase,
        options: &OptionsState,
        extra: &mut Vec<u8>,
        out: &mut FlowBatch,
    ) -> usize {
        let Some(len) = self.fixed_len.filter(|&len| len > 0) else {
            return 0;
        };
        let n = body.len() / len;
        if n == 0 {
            return 0;
        }
        let start = out.len();
        out.extend_repeat(base, n);
        // Fields read per record in the passes below, rather than into a column.
        let mut sampler = None;
        let mut interval = None;
        let mut ip_version = None;
        let mut keeps_extra = false;
        let c = &mut out.cols;
        for op in &self.ops {
            match op.action {
                Action::Skip => {}
                Action::Extra => keeps_extra = true,
                Action::Bytes => fill(rows(&mut c.bytes, start), body, len, op, |v| v),
                Action::Packets => fill(rows(&mut c.packets, start), body, len, op, |v| v),
                Action::Flows => fill(rows(&mut c.flows, start), body, len, op, |v| v),
                Action::Proto => fill(rows(&mut c.proto, start), body, len, op, |v| v as u8),
                Action::Tos => fill(rows(&mut c.tos, start), body, len, op, |v| v as u8),
                Action::TcpFlags => fill(rows(&mut c.tcp_flags, start), body, len, op, |v| v as u16),
                Action::SrcPort => fill(rows(&mut c.src_port, start), body, len, op, |v| v as u16),
                Action::DstPort => fill(rows(&mut c.dst_port, start), body, len, op, |v| v as u16),
                Action::SrcAddr => fill_bytes(rows(&mut c.src_addr, start), body, len, op, addr),
                Action::DstAddr => fill_bytes(rows(&mut c.dst_addr, start), body, len, op, addr),
                Action::NextHop => fill_bytes(rows(&mut c.next_hop, start), body, len, op, addr),
                Action::BgpNextHop => fill_bytes(rows(&mut c.bgp_next_hop, start), body, len, op, addr),
                Action::SrcMask => fill(rows(&mut c.src_mask, start), body, len, op, |v| v as u8),
                Action::DstMask => fill(rows(&mut c.dst_mask, start), body, len, op, |v| v as u8),
                Action::InIf => fill(rows(&mut c.in_if, start), body, len, op, |v| v as u32),
                Action::OutIf => fill(rows(&mut c.out_if, start), body, len, op, |v| v as u32),
                Action::SrcAs => fill(rows(&mut c.src_as, start), body, len, op, |v| v as u32),
                Action::DstAs => fill(rows(&mut c.dst_as, start), body, len, op, |v| v as u32),
                Action::Vlan => fill(rows(&mut c.vlan, start), body, len, op, |v| v as u16 & 0x0fff),
                Action::SrcMac => fill(rows(&mut c.src_mac, start), body, len, op, |v| v),
                Action::DstMac => fill(rows(&mut c.dst_mac, start), body, len, op, |v| v),
                Action::IcmpTypeCode => {
                    fill(rows(&mut c.icmp_type, start), body, len, op, |v| (v >> 8) as u8);
                    fill(rows(&mut c.icmp_code, start), body, len, op, |v| v as u8);
                }
                Action::IcmpType => fill(rows(&mut c.icmp_type, start), body, len, op, |v| v as u8),
                Action::IcmpCode => fill(rows(&mut c.icmp_code, start), body, len, op, |v| v as u8),
                // IE 61: 0 ingress, 1 egress; the schema keeps 0 for "not said".
                Action::Direction => fill(rows(&mut c.flow_direction, start), body, len, op, |v| {
                    (v as u8).saturating_add(1).min(2)
                }),
                Action::Forwarding => fill(rows(&mut c.forwarding_status, start), body, len, op, |v| v as u8),
                Action::EndReason => fill(rows(&mut c.flow_end_reason, start), body, len, op, |v| v as u8),
                Action::Etype => fill(rows(&mut c.etype, start), body, len, op, |v| v as u16),
                Action::IpVersion => ip_version = Some(op),
                // A time that cannot be placed (IPFIX uptime with no known system init time) is kept raw;
                // whether it can depends on the set's header and options, not on the value.
                Action::Start(clock) | Action::End(clock) if times.convert(clock, 0).is_none() => {
                    keeps_extra = true
                }
                Action::Start(clock) => fill(rows(&mut c.flow_start, start), body, len, op, |v| {
                    times.convert(clock, v).unwrap_or(0)
                }),
                Action::End(clock) => fill(rows(&mut c.flow_end, start), body, len, op, |v| {
                    times.convert(clock, v).unwrap_or(0)
                }),
                Action::SamplerId => sampler = Some(op),
                Action::SamplingInterval => interval = Some(op),
            }
        }
        self.settle(body, len, start, (sampler, interval, ip_version), options, out);
        if keeps_extra {
            self.keep_extra(body, len, start, times, extra, out);
        }
        n
    }

    /// Settles what depends on several fields of a record, in the order `Work::finish` does.
    fn settle(
        &self,
        body: &[u8],
        len: usize,
        start: usize,
        (sampler, interval, ip_version): (Option<&Op>, Option<&Op>, Option<&Op>),
        options: &OptionsState,
        out: &mut FlowBatch,
    ) {
        let c = &mut out.cols;
        let n = c.sampling_rate.len() - start;
        if sampler.is_none() && interval.is_none() {
            if let Some(rate) = options.rate_for(None) {
                rows(&mut c.sampling_rate, start).fill(rate);
            }
        } else {
            for (dst, rec) in rows(&mut c.sampling_rate, start)
                .iter_mut()
                .zip(records(body, len, n))
            {
                if let Some(rate) = options.rate_for(sampler.map(|op| raw(rec, op))) {
                    *dst = rate;
                } else if let Some(i) = interval.map(|op| raw(rec, op)).filter(|&i| i > 0) {
                    *dst = i.min(u64::from(u32::MAX)) as u32;
                }
            }
        }
        let etypes = rows(&mut c.etype, start).iter_mut();
        let protos = rows(&mut c.proto, start).iter();
        let icmp = rows(&mut c.icmp_type, start)
            .iter_mut()
            .zip(rows(&mut c.icmp_code, start));
        let ports = rows(&mut c.dst_port, start).iter();
        let statuses = rows(&mut c.forwarding_status, start).iter();
        let out_ifs = rows(&mut c.out_if, start).iter_mut();
        let per_row = etypes.zip(protos).zip(icmp.zip(ports)).zip(statuses.zip(out_ifs));
        for ((((etype_of, proto_of), ((t, code), port)), (status, out_if)), rec) in
            per_row.zip(records(body, len, n))
        {
            if *etype_of == 0 {
                *etype_of = match ip_version.map(|op| raw(rec, op)) {
                    Some(4) => etype::IPV4,
                    Some(6) => etype::IPV6,
                    _ => self.addr_etype,
                };
            }
            // Exporters without ICMP elements put type and code in the destination port (type * 256 + code).
            if matches!(*proto_of, proto::ICMP | proto::ICMPV6) && *t == 0 && *code == 0 {
                [*t, *code] = port.to_be_bytes();
            }
            if status & 0xc0 == forwarding::DROPPED {
                *out_if = 0;
            }
        }
        if options.has_interface_names() {
            for row in start..start + n {
                let (in_if, out_if) = (
                    out.cols.in_if.get(row).copied(),
                    out.cols.out_if.get(row).copied(),
                );
                if let Some(name) = in_if.and_then(|i| options.interface_name(i)) {
                    let sym = out.intern(name);
                    if let Some(dst) = out.cols.in_if_name.get_mut(row) {
                        *dst = sym;
                    }
                }
                if let Some(name) = out_if.and_then(|i| options.interface_name(i)) {
                    let sym = out.intern(name);
                    if let Some(dst) = out.cols.out_if_name.get_mut(row) {
                        *dst = sym;
                    }
                }
            }
        }
    }

    /// Keeps the fields that have no column in each new row's `extra_fields`, in template order.
    fn keep_extra(
        &self,
        body: &[u8],
        len: usize,
        start: usize,
        times: &TimeBase,
        extra: &mut Vec<u8>,
        out: &mut FlowBatch,
    ) {
        let n = out.len() - start;
        for (i, rec) in records(body, len, n).enumerate() {
            extra.clear();
            for op in &self.ops {
                let kept = match op.action {
                    Action::Extra => true,
                    Action::Start(clock) | Action::End(clock) => times.convert(clock, 0).is_none(),
                    _ => false,
                };
                if kept {
                    push_extra(extra, op.enterprise, op.id, field(rec, op));
                }
            }
            if !extra.is_empty() {
                let blob = out.push_blob(extra);
                if let Some(dst) = out.cols.extra_fields.get_mut(start + i) {
                    *dst = blob;
                }
            }
        }
        extra.clear();
    }
}
