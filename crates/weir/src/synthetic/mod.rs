//! A made-up but realistic network and its traffic, for the commands that need traffic without a network:
//! `weir bench data` (a seeded day of flow records), `weir bench packets` (a seeded capture) and `weir demo`
//! (live export from simulated routers).
//!
//! - [`catalogue`]: the fixed facts (routers, interfaces, ASes, countries, services).
//! - [`world`]: the network built from them and a seed (addresses, ASes, interfaces, paths).
//! - [`flows`]: flow records between the world's addresses, as its routers export them.
//! - [`day`]: the daily traffic curve.
//! - [`frame`]: Ethernet frames of made-up packets.
//! - [`random`]: the seeded randomness everything above draws from.

pub mod catalogue;
pub mod day;
pub mod flows;
pub mod frame;
pub mod random;
pub mod world;
