//! Decoding sFlow into a [`FlowBatch`]: one flow per flow sample and per discarded-packet sample.
//!
//! Each flow stands for one sampled packet: `packets` and `flows` are 1, `sampling_rate` is the sample's,
//! and `bytes` is the packet's IP length as its header says (layer 3, as NetFlow counts), or, when there is
//! no IP header, the frame length less the bytes the agent stripped and the link-layer headers.
//!
//! `flow_direction` is ingress when the sample's data source is the interface the packet came in on, egress
//! when it is the one it went out on, and unknown otherwise (sFlow does not say which way it samples).
//!
//! A packet dropped by the device (a discarded-packet sample, or a flow sample whose output interface says
//! "discarded") gets `forwarding_status` dropped, with the IPFIX reason in the low six bits when sFlow's
//! reason means the same; otherwise the reason is kept in `extra_fields` under sFlow's enterprise number
//! ([`SFLOW_ENTERPRISE`]) with id [`EXTRA_DROP_REASON`], next to the discard records (egress queue, ACL,
//! function) kept under their format numbers.

use weir_flow::codes::{direction, forwarding};
use weir_flow::{FlowBatch, FlowRecord, ip, ipv4, push_extra};

use crate::decoder::Cx;
use crate::error::DecodeError;
use crate::packet::{self, Summary};
use crate::stats::{Counters, Dialect, SequenceEvent};

use super::datagram::DatagramRef;
use super::flow_record::{FlowData, HeaderProtocol};
use super::sample::{FlowRecords, Interface, SampleRef, SourceId};
use super::state::{SampleKind, SflowState, SourceKey};
use super::xdr::DataFormat;
use super::{CounterDataRef, DropReason};

/// The private enterprise number of sFlow's authors (InMon), under which sFlow structures Weir has no
/// column for are kept in `extra_fields`.
pub const SFLOW_ENTERPRISE: u32 = 4300;
/// The `extra_fields` id of a drop reason (a `u32`) that has no IPFIX equivalent: the discarded-packet
/// sample's format number.
pub const EXTRA_DROP_REASON: u16 = 5;

/// Ethernet header and FCS, what an Ethernet frame length has beyond the IP packet.
const ETHERNET_OVERHEAD: u32 = 18;

pub(crate) fn decode(cx: &mut Cx<'_>, datagram: &[u8], out: &mut FlowBatch) -> Result<(), DecodeError> {
    let d = DatagramRef::parse(datagram)?;
    let h = d.header;
    let base = FlowRecord {
        time_received: cx.received,
        flow_start: cx.received,
        flow_end: cx.received,
        exporter_addr: ip(cx.exporter),
        observation_domain: h.sub_agent_id,
        packets: 1,
        flows: 1,
        ..FlowRecord::default()
    };
    let received = cx.received;
    let dom = cx.domain(Dialect::Sflow, h.sub_agent_id, h.sub_agent_offset())?;
    // The counters move out while the state is written, and back whatever happens.
    let mut counters = std::mem::take(&mut dom.counters);
    // The datagram sequence tells gaps and restarts; lost samples are counted from the samples' own
    // sequences (a lost datagram shows there too), so the tracker's own loss estimate is set aside.
    let mut datagrams = Counters::default();
    let event = dom.seq.observe(h.sequence, 1, Some(h.uptime_ms), &mut datagrams);
    counters.sequence_gaps += datagrams.sequence_gaps;
    counters.restarts += datagrams.restarts;
    let state = dom.sflow();
    if event == SequenceEvent::Restart {
        state.restart();
    }
    let mut w = Writer {
        state,
        counters: &mut counters,
        out,
        base,
        received,
    };
    let result = d.samples().try_for_each(|s| w.sample(s?));
    // The flows of the samples before an error are kept.
    out.extend(&state.stage);
    state.stage.clear();
    dom.counters = counters;
    result
}

/// Writes the samples of one datagram.
struct Writer<'s> {
    state: &'s mut SflowState,
    counters: &'s mut Counters,
    out: &'s mut FlowBatch,
    base: FlowRecord,
    received: u64,
}

impl Writer<'_> {
    fn sample(&mut self, sample: SampleRef<'_>) -> Result<(), DecodeError> {
        self.state.extra.clear();
        match sample {
            SampleRef::Flow(head, records) => {
                let key = SourceKey {
                    kind: SampleKind::Flow,
                    source: head.source,
                };
                self.state
                    .observe(key, head.sequence, head.sample_pool, head.drops, self.counters);
                let mut rec = self.base;
                rec.sampling_rate = head.sampling_rate;
                rec.in_if = head.input.if_index().unwrap_or(0);
                rec.out_if = head.output.if_index().unwrap_or(0);
                rec.flow_direction = flow_direction(head.source, head.input, head.output);
                if let Some(reason) = head.output.discard_reason() {
                    self.drop_reason(&mut rec, reason);
                }
                self.flow(rec, records, false)
            }
            SampleRef::Discarded(head, records) => {
                let key = SourceKey {
                    kind: SampleKind::Discarded,
                    source: head.source,
                };
                self.state
                    .observe(key, head.sequence, 0, head.drops, self.counters);
                let mut rec = self.base;
                // Every discard is reported (up to a rate limit, whose losses `drops` counts): unsampled.
                rec.sampling_rate = 1;
                rec.in_if = head.input;
                rec.flow_direction = flow_direction(
                    head.source,
                    Interface {
                        format: 0,
                        value: head.input,
                    },
                    Interface {
                        format: 0,
                        value: head.output,
                    },
                );
                self.drop_reason(&mut rec, head.reason);
                self.flow(rec, records, true)
            }
            SampleRef::Counter(head, records) => {
                for r in records {
                    match r? {
                        CounterDataRef::Generic(c) => {
                            self.state.keep(head.source, &c, head.sequence, self.received)
                        }
                        CounterDataRef::Unknown(_) => {}
                    }
                }
                self.counters.counter_samples += 1;
                Ok(())
            }
            SampleRef::Unknown(_) => {
                self.state.skipped_sample();
                Ok(())
            }
        }
    }

    /// Sets a dropped status, with the IPFIX reason when there is one, else the sFlow reason in
    /// `extra_fields`.
    fn drop_reason(&mut self, rec: &mut FlowRecord, reason: DropReason) {
        rec.out_if = 0;
        match reason.ipfix_reason() {
            Some(r) => rec.forwarding_status = forwarding::DROPPED | r,
            None => {
                rec.forwarding_status = forwarding::DROPPED;
                push_extra(
                    &mut self.state.extra,
                    SFLOW_ENTERPRISE,
                    EXTRA_DROP_REASON,
                    &reason.0.to_be_bytes(),
                );
            }
        }
    }

    /// Applies a sample's flow records to `rec` and appends it.
    fn flow(
        &mut self,
        mut rec: FlowRecord,
        records: FlowRecords<'_>,
        discard: bool,
    ) -> Result<(), DecodeError> {
        let mut l3_bytes = 0u32;
        let mut other_bytes = 0u32;
        for r in records {
            match r? {
                FlowData::RawHeader(h) => {
                    let parsed = match h.protocol {
                        HeaderProtocol::ETHERNET => packet::parse_ethernet(h.header, &mut rec),
                        HeaderProtocol::IPV4 => packet::parse_ipv4(h.header, &mut rec),
                        HeaderProtocol::IPV6 => packet::parse_ipv6(h.header, &mut rec),
                        HeaderProtocol::MPLS => packet::parse_mpls(h.header, &mut rec),
                        _ => Ok(Summary::default()),
                    };
                    // A malformed header is counted; the fields read before the fault stay.
                    let summary = parsed.unwrap_or_else(|e| {
                        self.counters.error(e.kind());
                        Summary::default()
                    });
                    let frame = h.frame_length.saturating_sub(h.stripped);
                    l3_bytes = summary.ip_len;
                    other_bytes = match summary.l3_offset {
                        Some(off) if h.protocol == HeaderProtocol::ETHERNET => {
                            frame.saturating_sub(off as u32)
                        }
                        _ => frame,
                    };
                }
                FlowData::Ethernet(e) => {
                    rec.src_mac = mac(e.src_mac);
                    rec.dst_mac = mac(e.dst_mac);
                    rec.etype = e.eth_type as u16;
                    other_bytes = e.length.saturating_sub(ETHERNET_OVERHEAD);
                }
                FlowData::Ipv4(x) => {
                    rec.etype = weir_flow::codes::etype::IPV4;
                    rec.src_addr = ipv4(x.src.octets());
                    rec.dst_addr = ipv4(x.dst.octets());
                    (rec.proto, rec.tos) = (x.protocol as u8, x.tos as u8);
                    (rec.src_port, rec.dst_port) = (x.src_port as u16, x.dst_port as u16);
                    rec.tcp_flags = x.tcp_flags as u16;
                    l3_bytes = x.length;
                }
                FlowData::Ipv6(x) => {
                    rec.etype = weir_flow::codes::etype::IPV6;
                    (rec.src_addr, rec.dst_addr) = (x.src, x.dst);
                    (rec.proto, rec.tos) = (x.protocol as u8, x.priority as u8);
                    (rec.src_port, rec.dst_port) = (x.src_port as u16, x.dst_port as u16);
                    rec.tcp_flags = x.tcp_flags as u16;
                    l3_bytes = x.length;
                }
                FlowData::Switch(s) => {
                    if s.src_vlan != 0 {
                        rec.vlan = s.src_vlan as u16;
                    } else if rec.vlan == 0 {
                        rec.vlan = s.dst_vlan as u16;
                    }
                }
                FlowData::Router(r) => {
                    rec.next_hop = r.next_hop.map(ip).unwrap_or(rec.next_hop);
                    rec.src_mask = r.src_mask_len as u8;
                    rec.dst_mask = r.dst_mask_len as u8;
                }
                FlowData::Gateway(g) => {
                    rec.bgp_next_hop = g.next_hop.map(ip).unwrap_or(rec.bgp_next_hop);
                    rec.src_as = g.src_as;
                    rec.dst_as = g.as_path.last_as().unwrap_or(0);
                    let list = &mut self.state.list;
                    list.clear();
                    list.extend(g.as_path.asns());
                    rec.dst_as_path = self.out.push_list(list);
                    list.clear();
                    list.extend(g.communities.iter());
                    rec.dst_communities = self.out.push_list(list);
                }
                FlowData::User(_) | FlowData::Url(_) => {}
                FlowData::Unknown(o) if discard && is_discard_record(o.format) => {
                    push_extra(&mut self.state.extra, SFLOW_ENTERPRISE, o.format.0 as u16, o.data);
                }
                FlowData::Unknown(_) => self.state.skipped_record(),
            }
        }
        rec.bytes = u64::from(if l3_bytes != 0 { l3_bytes } else { other_bytes });
        if !self.state.extra.is_empty() {
            rec.extra_fields = self.out.push_blob(&self.state.extra);
            self.state.extra.clear();
        }
        self.state.stage.push(rec);
        self.counters.records += 1;
        Ok(())
    }
}

/// The discarded-packet records (egress queue, ACL, function, and the later transit delay and queue
/// depth) that are kept in `extra_fields`.
fn is_discard_record(format: DataFormat) -> bool {
    format.enterprise() == 0 && (DataFormat::EXTENDED_EGRESS_QUEUE.0..=1040).contains(&format.0)
}

fn flow_direction(source: SourceId, input: Interface, output: Interface) -> u8 {
    if source.kind != SourceId::IF_INDEX {
        return direction::UNKNOWN;
    }
    if input.if_index() == Some(source.index) {
        direction::INGRESS
    } else if output.if_index() == Some(source.index) {
        direction::EGRESS
    } else {
        direction::UNKNOWN
    }
}

fn mac(b: [u8; 6]) -> u64 {
    b.iter().fold(0, |acc, &x| (acc << 8) | u64::from(x))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn direction_follows_the_sampled_interface() {
        let src = SourceId { kind: 0, index: 5 };
        let at = |v| Interface { format: 0, value: v };
        assert_eq!(flow_direction(src, at(5), at(6)), direction::INGRESS);
        assert_eq!(flow_direction(src, at(6), at(5)), direction::EGRESS);
        assert_eq!(flow_direction(src, at(6), at(7)), direction::UNKNOWN);
        assert_eq!(
            flow_direction(SourceId { kind: 1, index: 5 }, at(5), at(6)),
            direction::UNKNOWN
        );
    }

    #[test]
    fn keeps_only_discard_records_as_extra_fields() {
        assert!(is_discard_record(DataFormat::EXTENDED_ACL));
        assert!(!is_discard_record(DataFormat(1041)));
        assert!(!is_discard_record(DataFormat::new(9, 1036)));
    }
}
