//! What `show ip cache flow` reports: packet sizes, and expired flows by protocol.

pub mod protocols;
pub mod sizes;

pub use protocols::{Category, ProtocolTable, Row};
pub use sizes::PacketSizes;
