//! Packets to flows, the way a router's NetFlow cache does it, and flows back out as export datagrams.
//!
//! - [`packet`]: a parsed packet reduced to what the meter counts.
//! - [`cache`]: the main flow cache (keys, counters, inactive/active timeouts, TCP FIN/RST, cache-full aging).
//! - [`aggregate`]: the twelve aggregation caches fed by flows expiring from the main cache.
//! - [`routes`]: a routing table file (prefix, mask, AS, next hop) for masks, ASes and next hops.
//! - [`export`]: NetFlow v5/v8/v9 and IPFIX datagrams with sequence numbers, uptime and templates.
//!
//! No I/O here: packets come in as bytes with a timestamp, datagrams go out as bytes.

pub mod aggregate;
pub mod cache;
pub mod export;
pub mod meter;
pub mod packet;
pub mod routes;
pub mod sampling;
pub mod stats;
