//! The embedded flow store: flows as Parquet files partitioned by time, with rollup tables and retention,
//! queried through DataFusion behind the storage interface of `weir-query`.

pub mod convert;
mod error;
pub mod files;
pub mod layout;
pub mod rollup;
pub mod schema;

pub use error::StoreError;
