//! The store's writer, end to end through the file system: what goes in reads back, rollups add up,
//! recovery, merges and retention, a full disk, and (ignored) a measurement. One test binary, since each
//! one links the whole query engine.

#![allow(clippy::unwrap_used)] // helpers fail the test on any unexpected error

mod common;
mod disk_full;
mod maintenance;
mod measure;
mod recovery;
mod rollups;
mod roundtrip;
