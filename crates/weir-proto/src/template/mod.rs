//! Template state shared by NetFlow v9 and IPFIX: templates compiled into decode plans, options data
//! (sampling, interface names, system init time), and data waiting for its template, per exporter domain.

mod cache;
mod columnar;
pub mod export;
pub mod ie;
mod options;
mod pending;
mod plan;
pub mod record;
mod sets;
#[cfg(test)]
pub(crate) mod testing;
#[cfg(test)]
mod tests;

use std::net::IpAddr;

pub use cache::TemplateCache;
pub use ie::{DataType, Element, Semantics, element, element_by_name, element_name};
pub use options::{OptionsRecord, OptionsState};
pub use record::{FieldSpec, OptionsTemplateRecord, TemplateRecord, VARIABLE_LENGTH};
pub use sets::Set;
pub(crate) use sets::{Wire, decode_sets};

/// What the records of a set need from the datagram that carried it; kept with held sets, so that they
/// decode later as they would have then.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SetCx {
    /// Source address of the datagram.
    pub exporter: IpAddr,
    /// Receive time, nanoseconds since the epoch.
    pub received: u64,
    /// Source id (v9) or observation domain (IPFIX).
    pub domain: u32,
    /// Export time from the header, nanoseconds since the epoch.
    pub export_ns: u64,
    /// NetFlow v9 sysUpTime in milliseconds; `None` for IPFIX.
    pub uptime_ms: Option<u32>,
}
