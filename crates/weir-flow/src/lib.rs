//! Weir's flow schema and the columnar [`FlowBatch`].
//!
//! Everything downstream of the decoders (store, query, API, UI) speaks in terms of [`COLUMNS`]:
//! the table is the single source of field names, types and roles.

mod batch;
pub mod codes;
mod extra;
pub mod ndjson;
mod schema;
pub mod time;

pub use batch::{Blob, FlowBatch, ListRef, Sym};
pub use extra::{ExtraField, extra_fields, push_extra};
pub use schema::{COLUMNS, Column, ColumnRef, Columns, FIELDS, Field, FlowRecord, Kind, Origin};

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// An address in the schema's one address type: IPv4 becomes IPv4-mapped IPv6.
#[inline]
pub fn ip(addr: IpAddr) -> Ipv6Addr {
    match addr {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => v6,
    }
}

/// An IPv4 address from its wire bytes, in the schema's address type.
#[inline]
pub fn ipv4(octets: [u8; 4]) -> Ipv6Addr {
    Ipv4Addr::from(octets).to_ipv6_mapped()
}
