//! NetFlow v1, v5, v7 and v8: the fixed-layout versions, before templates.
//!
//! Each version has a typed model that reads and writes the same bytes ([`V1Packet`], [`V5Packet`],
//! [`V7Packet`], [`V8Packet`] with every aggregation scheme of [`v8_schemes`]), a decoder that writes
//! straight into a [`FlowBatch`] without building the model, and, for v5 and v8, encoders that build
//! datagrams from [`FlowRecord`](weir_flow::FlowRecord)s ([`v5_datagrams`], [`v8_datagrams`]).
//!
//! Decoding rules, shared by the four versions:
//! - The record count is checked against the datagram's length before any record is read: a count the
//!   bytes cannot hold, or a count of 0, is [`DecodeError::BadLength`] at the count's offset (2) and nothing
//!   is decoded. A count above the version's documented maximum is accepted when the bytes are there (the
//!   maxima are what fits a 1500-byte MTU, not a rule of the format).
//! - Fewer bytes than one record after the last one are padding and accepted; a record's worth or more is
//!   [`DecodeError::TrailingBytes`], returned after the counted records are in the batch.
//! - The header is checked in full (version, count, v8 scheme) before its domain is looked up, so a
//!   malformed header never makes a domain of its own: its error is counted on the exporter's domain 0.
//! - Flows get `observation_domain = engine_type << 8 | engine_id` where the header has an engine (v5, v8),
//!   0 otherwise; times from the records' uptime stamps against the header's clock ([`ExportClock`]);
//!   `sampling_rate` from v5's sampling interval (1 when unsampled, and for the other versions); direction
//!   and forwarding status unknown.
//! - The flow sequence (v5, v7, v8) counts records; it feeds the domain's sequence tracker with the uptime,
//!   so lost records and exporter restarts are counted. v8 keeps a domain per aggregation scheme of an engine
//!   (the scheme in bits 16 to 23 of the domain id), because each aggregation cache numbers its exports on
//!   its own.

use weir_flow::FlowBatch;

use crate::decoder::Cx;
use crate::error::DecodeError;
use crate::stats::Dialect;

mod clock;
mod datagram;
mod encode;
mod error;
mod flow;
mod layout;
mod v1;
mod v5;
mod v7;
mod v8;
pub mod v8_schemes;
mod wire;

pub use clock::ExportClock;
pub use datagram::{Header, Packet};
pub use encode::{Datagrams, v5_datagrams};
pub use error::EncodeError;
pub use layout::Record;
pub use v1::{V1Header, V1Packet, V1Record};
pub use v5::{SamplingInterval, V5Header, V5Packet, V5Record};
pub use v7::{V7Header, V7Packet, V7Record};
pub use v8::{Aggregation, V8Header, V8Packet, V8Records, v8_datagrams};
pub use wire::Wire;

/// Decodes one NetFlow v1, v5, v7 or v8 datagram (`dialect`, detected from its version) into `out`.
pub(crate) fn decode(
    cx: &mut Cx<'_>,
    dialect: Dialect,
    datagram: &[u8],
    out: &mut FlowBatch,
) -> Result<(), DecodeError> {
    match dialect {
        Dialect::NetflowV1 => datagram::decode::<V1Header>(cx, datagram, out),
        Dialect::NetflowV5 => datagram::decode::<V5Header>(cx, datagram, out),
        Dialect::NetflowV7 => datagram::decode::<V7Header>(cx, datagram, out),
        Dialect::NetflowV8 => v8::decode(cx, datagram, out),
        _ => {
            let version = crate::reader::Reader::new(datagram).u16().map_or(0, u32::from);
            Err(DecodeError::UnknownVersion { offset: 0, version })
        }
    }
}

#[cfg(test)]
mod captures;
#[cfg(test)]
mod props;
#[cfg(test)]
mod testing;
#[cfg(test)]
mod v8_vectors;
