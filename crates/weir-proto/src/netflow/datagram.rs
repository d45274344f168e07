//! NetFlow v1, v5 and v7 datagrams: version, count, a header of the version's layout, then `count` records
//! of the version's one record layout. One typed model and one decoder serve all three.

use weir_flow::FlowBatch;

use super::clock::ExportClock;
use super::error::{EncodeError, count_field};
use super::flow;
use super::layout::{Record, check_count, check_rest, push_flows, read_records};
use super::wire::Wire;
use crate::decoder::Cx;
use crate::error::DecodeError;
use crate::reader::Reader;
use crate::stats::Dialect;

/// The header of NetFlow v1, v5 or v7 after the version and count, and what it says about its flows.
pub trait Header: Wire + Copy {
    /// The version field.
    const VERSION: u16;
    /// The dialect its domains are counted under.
    const DIALECT: Dialect;
    /// Offset of the fields that name the domain (engine type and id), for errors about the domain.
    const DOMAIN_OFFSET: usize;
    /// The records that follow it.
    type Record: Record;

    /// The export clock.
    fn clock(&self) -> ExportClock;

    /// The domain the flows belong to: `engine_type << 8 | engine_id` where the header has them, else 0.
    fn observation_domain(&self) -> u32;

    /// One packet in this many was sampled; 1 when unsampled or the header does not say.
    fn sampling_rate(&self) -> u32;

    /// The sequence number of the first record, where the header has one (it counts records).
    fn flow_sequence(&self) -> Option<u32>;
}

/// One NetFlow v1, v5 or v7 datagram. The count field is the number of records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet<H: Header> {
    /// The header.
    pub header: H,
    /// The records, at least one.
    pub records: Vec<H::Record>,
}

impl<H: Header> Packet<H> {
    /// Bytes before the first record: version, count and header.
    pub const HEADER_LEN: usize = 4 + H::LEN;

    /// Reads a datagram's header and the records its count announces, leaving the reader after the last
    /// record (bytes after it are the caller's to judge).
    pub fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let (header, count) = read_header::<H>(r)?;
        Ok(Self {
            header,
            records: read_records(r, count)?,
        })
    }

    /// Appends the datagram.
    pub fn write(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let count = count_field(self.records.len())?;
        H::VERSION.write(out);
        count.write(out);
        self.header.write(out);
        self.records.iter().for_each(|rec| rec.write(out));
        Ok(())
    }
}

/// Reads version, count and header, and checks the version and the count.
fn read_header<H: Header>(r: &mut Reader<'_>) -> Result<(H, u16), DecodeError> {
    let offset = r.offset();
    let version = r.u16()?;
    if version != H::VERSION {
        return Err(DecodeError::BadValue {
            offset,
            what: "version",
            value: u64::from(version),
        });
    }
    let count = r.u16()?;
    let header = H::read(r)?;
    check_count(r, count, H::Record::LEN)?;
    Ok((header, count))
}

/// Decodes one datagram into `out`, with accounting on the domain its header names. The header is checked
/// in full before the domain is looked up, so a malformed header never makes a domain of its own.
pub(crate) fn decode<H: Header>(
    cx: &mut Cx<'_>,
    datagram: &[u8],
    out: &mut FlowBatch,
) -> Result<(), DecodeError> {
    let mut r = Reader::new(datagram);
    let (header, count) = read_header::<H>(&mut r)?;
    let clock = header.clock();
    let domain = header.observation_domain();
    let common = flow::common(cx, domain, header.sampling_rate());
    let dom = cx.domain(H::DIALECT, domain, H::DOMAIN_OFFSET)?;
    if let Some(seq) = header.flow_sequence() {
        dom.seq
            .observe(seq, u32::from(count), Some(clock.sys_uptime), &mut dom.counters);
    }
    let before = out.len();
    let pushed = push_flows::<H::Record>(&mut r, count, &common, &clock, out);
    dom.counters.records += (out.len() - before) as u64;
    pushed?;
    check_rest(&r, H::Record::LEN)
}
