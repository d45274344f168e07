//! The twelve aggregation caches of Cisco IOS NetFlow (`ip flow-aggregation cache ...`), fed with the flows
//! that expire from the main cache, each summing them under its scheme's keys into aggregates that NetFlow
//! v8 (or v9, IPFIX) exports.
//!
//! - [`Scheme`]: which fields each scheme keeps, and its v8 layout;
//! - [`AggregateConfig`]: entries, timeouts, minimum masks, with Cisco's defaults;
//! - [`AggregationCache`]: the cache itself, with its [`AggregateCounters`].

mod cache;
mod config;
mod entries;
mod key;
mod scheme;

pub use cache::{AggregateCounters, AggregationCache};
pub use config::{AggregateConfig, ConfigError, MAX_ENTRIES};
pub use scheme::{Keys, Scheme, UnknownScheme};

#[cfg(test)]
mod tests;
