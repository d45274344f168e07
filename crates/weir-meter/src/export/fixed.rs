//! NetFlow v5 and v8 datagrams: a fixed header, then records of one fixed layout, as many as the version's
//! documented maximum and the MTU allow. Both count flows in the header's sequence, per stream.

use weir_flow::FlowRecord;
use weir_proto::netflow::{
    Aggregation, ExportClock, Header, Record, SamplingInterval, V5Header, V5Record, V8Header, V8Packet, Wire,
    v8_datagrams,
};

use super::config::{ExportConfig, ExportConfigError, ExportFormat};

/// Bytes before the first v5 record: version, count and header.
const V5_HEADER_LEN: usize = 4 + <V5Header as Wire>::LEN;

/// Offset of the record count in both headers.
const COUNT_OFFSET: usize = 2;

/// The layout a stream writes.
#[derive(Debug, Clone, Copy)]
enum Layout {
    V5(SamplingInterval),
    V8(Aggregation),
}

/// Writes the datagrams of one v5 or v8 stream.
#[derive(Debug, Clone)]
pub(crate) struct FixedWriter {
    layout: Layout,
    engine_type: u8,
    engine_id: u8,
    per_datagram: usize,
    /// Flows sent before the next datagram, modulo 2^32.
    sequence: u32,
}

impl FixedWriter {
    /// The writer for a checked v5 or v8 `config`.
    pub fn new(config: &ExportConfig) -> Result<Self, ExportConfigError> {
        let (layout, header_len, record_len, max) = match config.format {
            ExportFormat::V8(a) => (
                Layout::V8(a),
                V8Packet::HEADER_LEN,
                a.record_len().ok_or(ExportConfigError::UnknownAggregation(a.0))?,
                a.max_per_datagram()
                    .ok_or(ExportConfigError::UnknownAggregation(a.0))?,
            ),
            _ => {
                let s = config.sampling;
                // The interval fits 14 bits: the config check refused larger ones.
                let sampling =
                    SamplingInterval::new(s.mode(), if s.mode() == 0 { 0 } else { s.rate() as u16 });
                (
                    Layout::V5(sampling),
                    V5_HEADER_LEN,
                    V5Record::LEN,
                    V5Record::MAX_PER_DATAGRAM,
                )
            }
        };
        let per_datagram = (config.max_payload().saturating_sub(header_len) / record_len).min(max);
        if per_datagram == 0 {
            return Err(ExportConfigError::MtuTooSmall {
                mtu: config.mtu,
                needed: config.transport.overhead() + header_len + record_len,
            });
        }
        Ok(FixedWriter {
            layout,
            engine_type: config.engine_type,
            engine_id: config.engine_id,
            per_datagram,
            sequence: 0,
        })
    }

    /// Most records in one datagram.
    pub fn per_datagram(&self) -> usize {
        self.per_datagram
    }

    /// Appends one datagram of `flows` (IPv4, at most [`per_datagram`](Self::per_datagram)) stamped with
    /// `clock` to `out`; returns the records written.
    pub fn write(&mut self, flows: &[FlowRecord], clock: ExportClock, out: &mut Vec<u8>) -> usize {
        let start = out.len();
        let written = match self.layout {
            Layout::V5(sampling) => {
                V5Header::VERSION.write(out);
                0u16.write(out);
                V5Header {
                    clock,
                    flow_sequence: self.sequence,
                    engine_type: self.engine_type,
                    engine_id: self.engine_id,
                    sampling,
                }
                .write(out);
                let mut n = 0u16;
                for rec in flows.iter().filter_map(|f| V5Record::from_flow(f, &clock)) {
                    rec.write(out);
                    n += 1;
                }
                if n == 0 {
                    // No record: no datagram (a count of 0 is malformed).
                    out.truncate(start);
                } else {
                    out[start + COUNT_OFFSET..start + COUNT_OFFSET + 2].copy_from_slice(&n.to_be_bytes());
                }
                usize::from(n)
            }
            Layout::V8(aggregation) => {
                let header = V8Header {
                    clock,
                    flow_sequence: self.sequence,
                    engine_type: self.engine_type,
                    engine_id: self.engine_id,
                    aggregation,
                    agg_version: 2,
                    reserved: 0,
                };
                // The scheme is known (checked with the config), and `flows` fit one datagram.
                let built = v8_datagrams(&header, flows)
                    .map(|b| b.datagrams)
                    .unwrap_or_default();
                let mut n = 0;
                if let Some(d) = built.first() {
                    out.extend_from_slice(d);
                    n = usize::from(u16::from_be_bytes([d[COUNT_OFFSET], d[COUNT_OFFSET + 1]]));
                }
                n
            }
        };
        self.sequence = self.sequence.wrapping_add(written as u32);
        written
    }
}
