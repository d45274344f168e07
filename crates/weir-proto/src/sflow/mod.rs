//! sFlow v2, v4 (RFC 3176) and v5 (sflow.org), with sFlow.org's discarded-packet extension.
//!
//! An sFlow datagram carries samples: flow samples (the header of one packet in N, plus how it was switched
//! and routed), counter samples (interface counters) and discarded-packet samples. Everything is XDR:
//! big-endian 32-bit words, variable-length data padded to four bytes. In v5, samples and records are
//! tagged (enterprise and format) and length-prefixed, so unknown ones are skipped by length; v2 and v4
//! have neither, so an unknown type there ends the datagram.
//!
//! - [`DatagramRef`] reads a datagram in place; its samples and records are iterated without copying.
//! - [`Datagram`] is the owned model, which [`encode`](Datagram::encode)s back to the same bytes.
//! - The decoder uses `DatagramRef` and keeps per-domain [`SflowState`]: sample sequences per data source
//!   (lost samples) and the latest interface counters.
//!
//! Each flow sample and each discarded-packet sample becomes one flow of one packet (`packets` and `flows`
//! 1, the sample's `sampling_rate`), whose `bytes` are the IP length its header gives, or the frame length
//! less the stripped bytes and link-layer headers when there is no IP header. `flow_direction` is ingress
//! when the sample's data source is the input interface, egress when it is the output, unknown otherwise.
//! Dropped packets get `forwarding_status` dropped, with the IPFIX reason when sFlow's means the same, else
//! the reason in `extra_fields` ([`SFLOW_ENTERPRISE`], [`EXTRA_DROP_REASON`]).

mod batch;
mod counter_record;
mod datagram;
mod flow_record;
mod sample;
mod state;
mod xdr;

#[cfg(test)]
mod tests;

pub use batch::{EXTRA_DROP_REASON, SFLOW_ENTERPRISE};
pub use counter_record::{CounterData, CounterDataRef, IfCounters};
pub use datagram::{Datagram, DatagramRef, Header};
pub use flow_record::{
    AsPathRef, AsPathSegment, ExtendedGateway, ExtendedRouter, ExtendedSwitch, ExtendedUrl, ExtendedUser,
    FlowData, FlowDataRef, GatewayRef, HeaderProtocol, Opaque, SampledEthernet, SampledHeader, SampledIpv4,
    SampledIpv6, U32s, as_path,
};
pub use sample::{
    CounterRecords, CounterSample, CounterSampleHead, DiscardHead, DiscardedPacket, DropReason, FlowRecords,
    FlowSample, FlowSampleHead, Interface, Sample, SampleRef, Samples, SourceId,
};
pub use state::{
    InterfaceKey, LatestCounters, MAX_INTERFACES, MAX_SOURCES, SampleKind, SflowState, SourceKey, SourceStats,
};
pub use xdr::DataFormat;

pub(crate) use batch::decode;

use thiserror::Error;

/// Why a [`Datagram`] cannot be encoded: a value that its layout has no room for.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EncodeError {
    /// The value does not fit the field, or the structure does not exist in the datagram's version.
    #[error("{what} cannot be encoded ({value})")]
    NotRepresentable {
        /// The field or structure.
        what: &'static str,
        /// The offending value (or a count).
        value: u64,
    },
}
