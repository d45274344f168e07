//! NetFlow v9 (RFC 3954): the packet model and the decoder into [`FlowBatch`].
//!
//! Templates, options data and held data live in the domain's [`TemplateCache`](crate::template::TemplateCache),
//! one per (exporter, source id). Sequence numbers count packets: a gap of `n` packets is counted as `n` times
//! the domain's average records per packet so far (at least 1) in `lost_records`, since v9 does not say how
//! many records the lost packets carried.

use weir_flow::FlowBatch;

use crate::decoder::Cx;
use crate::error::DecodeError;
use crate::reader::Reader;
use crate::stats::{Counters, Dialect, SequenceEvent};
use crate::template::{SetCx, Wire, decode_sets};

pub use crate::template::Set as FlowSet;

/// The packet header (RFC 3954 section 5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Always 9.
    pub version: u16,
    /// Records (template and data) in the packet, as the exporter counted them.
    pub count: u16,
    /// Milliseconds since the exporter booted.
    pub sys_uptime: u32,
    /// Export time, seconds since the epoch.
    pub unix_secs: u32,
    /// Packet sequence number.
    pub sequence: u32,
    /// The exporter's observation domain.
    pub source_id: u32,
}

impl Header {
    /// Header length in bytes.
    pub const LEN: usize = 20;

    /// Reads a header; the version must be 9.
    pub fn parse(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let version = r.u16()?;
        if version != 9 {
            return Err(DecodeError::UnknownVersion {
                offset: 0,
                version: u32::from(version),
            });
        }
        Ok(Self {
            version,
            count: r.u16()?,
            sys_uptime: r.u32()?,
            unix_secs: r.u32()?,
            sequence: r.u32()?,
            source_id: r.u32()?,
        })
    }

    /// Appends the header.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.version.to_be_bytes());
        out.extend_from_slice(&self.count.to_be_bytes());
        out.extend_from_slice(&self.sys_uptime.to_be_bytes());
        out.extend_from_slice(&self.unix_secs.to_be_bytes());
        out.extend_from_slice(&self.sequence.to_be_bytes());
        out.extend_from_slice(&self.source_id.to_be_bytes());
    }
}

/// A NetFlow v9 export packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// The header.
    pub header: Header,
    /// The flowsets, in order.
    pub flowsets: Vec<FlowSet>,
}

impl Packet {
    /// Reads a whole packet; every byte must belong to a flowset.
    pub fn parse(buf: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(buf);
        let header = Header::parse(&mut r)?;
        let mut flowsets = Vec::new();
        while let Some(set) = FlowSet::parse(Wire::V9, &mut r) {
            flowsets.push(set?);
        }
        Ok(Self { header, flowsets })
    }

    /// The packet's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.header.encode(&mut out);
        for s in &self.flowsets {
            s.encode(Wire::V9, &mut out);
        }
        out
    }
}

/// Decodes one NetFlow v9 packet into `out`.
pub(crate) fn decode(cx: &mut Cx<'_>, datagram: &[u8], out: &mut FlowBatch) -> Result<(), DecodeError> {
    let mut r = Reader::new(datagram);
    let h = Header::parse(&mut r)?;
    let (limits, exporter, received) = (cx.limits, cx.exporter, cx.received);
    let domain = cx.domain(Dialect::NetflowV9, h.source_id, 16)?;
    let mut seen = Counters::default();
    let event = domain.seq.observe(h.sequence, 1, Some(h.sys_uptime), &mut seen);
    let counters = &mut domain.counters;
    match event {
        SequenceEvent::Gap { missing } => {
            let average = match counters.datagrams {
                0 => 1,
                n => ((counters.records + n / 2) / n).max(1),
            };
            counters.sequence_gaps += 1;
            counters.lost_records += missing.saturating_mul(average);
        }
        SequenceEvent::Restart => counters.restarts += 1,
        SequenceEvent::InOrder | SequenceEvent::Late => {}
    }
    let set_cx = SetCx {
        exporter,
        received,
        domain: h.source_id,
        export_ns: u64::from(h.unix_secs) * 1_000_000_000,
        uptime_ms: Some(h.sys_uptime),
    };
    let mut cache = std::mem::take(domain.templates());
    let (_, error) = decode_sets(
        Wire::V9,
        &mut cache,
        r,
        &set_cx,
        limits,
        &mut domain.counters,
        out,
    );
    *domain.templates() = cache;
    error.map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests;
