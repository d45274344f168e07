//! The embedded flow store: flows as Parquet files partitioned by time, with rollup tables and retention,
//! queried through DataFusion behind the storage interface of `weir-query`.

pub mod convert;
pub mod rollup;
pub mod schema;
