//! IPFIX (RFC 7011): the message model, the decoder into [`FlowBatch`], and a framer for messages in a
//! byte stream (TCP, or RFC 5655 files).
//!
//! Sequence numbers count data records per observation domain, so the tracker observes each message with
//! the number of data records it carried. Data held for a missing template has an unknown record count; a
//! gap right after a message that held data is not counted as loss.

mod framer;

use weir_flow::FlowBatch;

use crate::decoder::Cx;
use crate::error::DecodeError;
use crate::reader::Reader;
use crate::stats::{Counters, Dialect, SequenceEvent};
use crate::template::{SetCx, Wire, decode_sets};

pub use crate::template::Set;
pub use framer::MessageFramer;

/// The message header (RFC 7011 section 3.1). The length field is not kept: it is the length of the
/// encoded message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Always 10.
    pub version: u16,
    /// Export time, seconds since the epoch.
    pub export_time: u32,
    /// Data records sent in this domain before this message, modulo 2^32.
    pub sequence: u32,
    /// The observation domain.
    pub observation_domain: u32,
}

impl Header {
    /// Header length in bytes.
    pub const LEN: usize = 16;

    /// Reads a header and the message length it announces; the version must be 10.
    pub fn parse(r: &mut Reader<'_>) -> Result<(Self, u16), DecodeError> {
        let version = r.u16()?;
        if version != 10 {
            return Err(DecodeError::UnknownVersion {
                offset: 0,
                version: u32::from(version),
            });
        }
        let length = r.u16()?;
        let h = Self {
            version,
            export_time: r.u32()?,
            sequence: r.u32()?,
            observation_domain: r.u32()?,
        };
        Ok((h, length))
    }

    /// Appends the header for a message of `length` bytes.
    pub fn encode(&self, length: u16, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.version.to_be_bytes());
        out.extend_from_slice(&length.to_be_bytes());
        out.extend_from_slice(&self.export_time.to_be_bytes());
        out.extend_from_slice(&self.sequence.to_be_bytes());
        out.extend_from_slice(&self.observation_domain.to_be_bytes());
    }
}

/// Checks the header's length against the message: at least a header, and exactly the bytes present.
fn body<'a>(r: &mut Reader<'a>, length: u16, total: usize) -> Result<Reader<'a>, DecodeError> {
    let len = usize::from(length);
    if len < Header::LEN || len > total {
        return Err(DecodeError::BadLength {
            offset: 2,
            what: "message length",
            value: u64::from(length),
        });
    }
    let body = r.sub(len - Header::LEN)?;
    r.expect_end()?;
    Ok(body)
}

/// An IPFIX message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The header.
    pub header: Header,
    /// The sets, in order.
    pub sets: Vec<Set>,
}

impl Message {
    /// Reads a whole message; its length field must match the bytes.
    pub fn parse(buf: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(buf);
        let (header, length) = Header::parse(&mut r)?;
        let mut body = body(&mut r, length, buf.len())?;
        let mut sets = Vec::new();
        while let Some(set) = Set::parse(Wire::Ipfix, &mut body) {
            sets.push(set?);
        }
        Ok(Self { header, sets })
    }

    /// The message's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut sets = Vec::new();
        for s in &self.sets {
            s.encode(Wire::Ipfix, &mut sets);
        }
        let mut out = Vec::with_capacity(Header::LEN + sets.len());
        self.header.encode(
            (Header::LEN + sets.len()).min(usize::from(u16::MAX)) as u16,
            &mut out,
        );
        out.extend_from_slice(&sets);
        out
    }
}

/// Decodes one IPFIX message into `out`.
pub(crate) fn decode(cx: &mut Cx<'_>, datagram: &[u8], out: &mut FlowBatch) -> Result<(), DecodeError> {
    let mut r = Reader::new(datagram);
    let (h, length) = Header::parse(&mut r)?;
    let (limits, exporter, received) = (cx.limits, cx.exporter, cx.received);
    let domain = cx.domain(Dialect::Ipfix, h.observation_domain, 12)?;
    let body = body(&mut r, length, datagram.len())?;
    let set_cx = SetCx {
        exporter,
        received,
        domain: h.observation_domain,
        export_ns: u64::from(h.export_time) * 1_000_000_000,
        uptime_ms: None,
    };
    let mut cache = std::mem::take(domain.templates());
    let held_before = std::mem::take(&mut cache.held_last);
    let (records, error) = decode_sets(
        Wire::Ipfix,
        &mut cache,
        body,
        &set_cx,
        limits,
        &mut domain.counters,
        out,
    );
    *domain.templates() = cache;
    let mut seen = Counters::default();
    let units = records.min(u32::MAX as usize) as u32;
    let counters = &mut domain.counters;
    match domain.seq.observe(h.sequence, units, None, &mut seen) {
        SequenceEvent::Gap { .. } if held_before => {}
        SequenceEvent::Gap { missing } => {
            counters.sequence_gaps += 1;
            counters.lost_records += missing;
        }
        SequenceEvent::Restart => counters.restarts += 1,
        SequenceEvent::InOrder | SequenceEvent::Late => {}
    }
    error.map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests;
