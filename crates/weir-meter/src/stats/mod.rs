//! What `show ip cache flow` reports: packet sizes, and expired flows by protocol.

pub mod protocols;
pub mod show;
pub mod sizes;

pub use protocols::{Category, ProtocolTable, Row};
pub use show::{show_cache, show_entries};
pub use sizes::PacketSizes;
