//! Errors of the store, each naming the file or directory it happened on.

use std::io;
use std::path::PathBuf;

use arrow::error::ArrowError;
use parquet::errors::ParquetError;

/// What went wrong in the store, and where.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A file system call failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The system's error.
        source: io::Error,
    },
    /// Reading or writing Parquet failed.
    #[error("{}: {source}", path.display())]
    Parquet {
        /// The file.
        path: PathBuf,
        /// The Parquet library's error.
        source: ParquetError,
    },
    /// Building or reading Arrow arrays failed (a file whose columns do not have the table's types).
    #[error("{}: {source}", path.display())]
    Arrow {
        /// The file, or the table directory for flows not written yet.
        path: PathBuf,
        /// The Arrow library's error.
        source: ArrowError,
    },
    /// The file system holds less free space than the store keeps in reserve, or is full.
    #[error("{}: disk full ({free} bytes free, {reserve} kept in reserve)", path.display())]
    DiskFull {
        /// The file that was not written.
        path: PathBuf,
        /// Free bytes available to the store, as `statvfs` reported them (0 after ENOSPC).
        free: u64,
        /// The configured reserve (`min_free_bytes`).
        reserve: u64,
    },
    /// The store's settings cannot work.
    #[error("store settings: {0}")]
    Config(String),
    /// The buffer of flows waiting for disk is full: the batch was dropped.
    #[error("store buffer full ({buffered} flows waiting for disk): dropped {dropped} flows")]
    BufferFull {
        /// Flows in the buffer.
        buffered: usize,
        /// Flows of the batch that were dropped.
        dropped: usize,
    },
}

impl StoreError {
    /// An I/O error on `path`.
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> StoreError {
        let path = path.into();
        move |source| StoreError::Io { path, source }
    }

    /// Whether this is the file system running out of space, however it was reported.
    pub fn is_disk_full(&self) -> bool {
        match self {
            StoreError::DiskFull { .. } => true,
            StoreError::Io { source, .. } => is_enospc(source),
            StoreError::Parquet {
                source: ParquetError::External(e),
                ..
            } => e.downcast_ref::<io::Error>().is_some_and(is_enospc),
            _ => false,
        }
    }
}

fn is_enospc(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::StorageFull || e.kind() == io::ErrorKind::QuotaExceeded
}
