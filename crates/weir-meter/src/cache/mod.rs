//! The main flow cache: packets in, expired flows out.
//!
//! [`key`] decides which packets are one flow, `entry` is what a flow holds, [`table`] finds and ages
//! flows, and [`config`] checks the settings.

pub mod config;
mod entry;
mod index;
pub mod key;
mod memory;
mod prefetch;
pub mod table;

pub use config::{CacheConfig, ConfigError};
pub use key::{CacheKey, KeyField, KeyHasher, KeySet, KeySetError, V4Key, WideKey};
pub use table::{CacheCounters, FlowCache};

#[cfg(test)]
mod tests;
