//! Flow export wire formats: NetFlow v1, v5, v7, v8, v9, IPFIX and sFlow.
//!
//! Decoders append straight to a [`weir_flow::FlowBatch`]; each format also has a typed model and an encoder
//! for the same bytes (used by the probe, `weir replay` and the tests). This crate does no I/O: sockets,
//! files and threads live in the `weir` binary.

mod decoder;
mod error;
pub mod fuzzing;
pub mod ipfix;
pub mod netflow;
pub mod packet;
mod reader;
pub mod sflow;
mod stats;
pub mod template;
pub mod v9;

pub use decoder::{Decoder, Domain, Limits, Outcome};
pub use error::{DecodeError, ErrorKind};
pub use reader::Reader;
pub use stats::{Counters, Dialect, DomainKey, SequenceEvent, SequenceTracker};
