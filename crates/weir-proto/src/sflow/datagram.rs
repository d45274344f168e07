//! The datagram: header (version, agent, sub-agent, sequence, uptime) and its samples.
//!
//! [`DatagramRef`] reads a datagram without copying: its samples and their records are read as they are
//! iterated, which is what the decoder uses. [`Datagram`] is the owned model, for building datagrams and
//! encoding them.

use std::net::IpAddr;

use crate::error::DecodeError;
use crate::reader::Reader;

use super::EncodeError;
use super::sample::{Sample, Samples, write_samples};
use super::xdr::{address, count, put_address, put_u32};

/// The datagram header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// 2, 4 or 5.
    pub version: u32,
    /// The agent's address, as it says it.
    pub agent: IpAddr,
    /// Sub-agent id (v5 only; 0 in v2/v4). Weir's observation domain for sFlow.
    pub sub_agent_id: u32,
    /// Incremented with each datagram of this (sub-)agent.
    pub sequence: u32,
    /// Milliseconds since the agent booted.
    pub uptime_ms: u32,
}

impl Header {
    /// Offset of the sub-agent id (v5) or of the sequence number (v2/v4) in the datagram.
    pub fn sub_agent_offset(&self) -> usize {
        match self.agent {
            IpAddr::V4(_) => 12,
            IpAddr::V6(_) => 24,
        }
    }
}

/// A datagram read in place.
#[derive(Debug, Clone)]
pub struct DatagramRef<'a> {
    /// The header.
    pub header: Header,
    /// How many samples the header announces.
    pub sample_count: u32,
    samples: Samples<'a>,
}

impl<'a> DatagramRef<'a> {
    /// Reads the header; the samples are read by iterating [`samples`](Self::samples).
    pub fn parse(datagram: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(datagram);
        let version = r.u32()?;
        if !matches!(version, 2 | 4 | 5) {
            return Err(DecodeError::UnknownVersion { offset: 0, version });
        }
        let at = r.offset();
        let Some(agent) = address(&mut r, "agent address type")? else {
            return Err(DecodeError::BadValue {
                offset: at,
                what: "agent address type",
                value: 0,
            });
        };
        let sub_agent_id = if version >= 5 { r.u32()? } else { 0 };
        let sequence = r.u32()?;
        let uptime_ms = r.u32()?;
        // The smallest v2/v4 sample takes 4 + 28 bytes, v5's 8.
        let sample_count = count(&mut r, 8, "sample count")?;
        Ok(Self {
            header: Header {
                version,
                agent,
                sub_agent_id,
                sequence,
                uptime_ms,
            },
            sample_count,
            samples: Samples::new(r, sample_count, version),
        })
    }

    /// The samples, in order.
    pub fn samples(&self) -> Samples<'a> {
        self.samples.clone()
    }
}

/// An sFlow datagram, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Datagram {
    /// The header.
    pub header: Header,
    /// The samples.
    pub samples: Vec<Sample>,
}

impl Datagram {
    /// Reads a whole datagram; every byte must belong to it.
    pub fn parse(datagram: &[u8]) -> Result<Self, DecodeError> {
        let d = DatagramRef::parse(datagram)?;
        let samples = d
            .samples()
            .map(|s| s?.to_owned_sample())
            .collect::<Result<_, _>>()?;
        Ok(Self {
            header: d.header,
            samples,
        })
    }

    /// Appends the datagram's bytes.
    pub fn write(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let h = &self.header;
        if !matches!(h.version, 2 | 4 | 5) {
            return Err(EncodeError::NotRepresentable {
                what: "version",
                value: h.version.into(),
            });
        }
        if h.version < 5 && h.sub_agent_id != 0 {
            return Err(EncodeError::NotRepresentable {
                what: "v2/v4 sub-agent id",
                value: h.sub_agent_id.into(),
            });
        }
        put_u32(out, h.version);
        put_address(out, Some(h.agent));
        if h.version >= 5 {
            put_u32(out, h.sub_agent_id);
        }
        put_u32(out, h.sequence);
        put_u32(out, h.uptime_ms);
        write_samples(out, &self.samples, h.version)
    }

    /// The datagram's bytes.
    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::with_capacity(1400);
        self.write(&mut out)?;
        Ok(out)
    }
}
