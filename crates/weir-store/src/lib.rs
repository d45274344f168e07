//! The embedded flow store: flows as Parquet files partitioned by time, with rollup tables and retention,
//! queried through DataFusion behind the storage interface of `weir-query`.

pub mod convert;
mod encode;
pub mod engine;
mod error;
pub mod files;
pub mod heavy;
pub mod layout;
mod maintenance;
mod merge;
mod pending;
mod recovery;
pub mod rollup;
pub mod schema;
mod stats;
mod store;
mod table;
pub mod units;
mod writer;

pub use error::StoreError;
pub use maintenance::{MaintainReport, Maintenance};
pub use recovery::Recovery;
pub use stats::StoreStats;
pub use store::{Store, StoreConfig, now_ns};
pub use writer::{Flush, FlushWriter};
