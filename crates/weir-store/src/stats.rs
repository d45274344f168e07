//! The store's counters and gauges, shared with `/metrics` without a lock.

use std::sync::atomic::{AtomicU64, Ordering};

/// What the store did since it was opened. Counters only grow; gauges (`stalled`, `buffer_flows`) say how
/// things are now. Flows are counted as records (rows), the unit that is appended and written.
#[derive(Debug, Default)]
pub struct StoreStats {
    /// Flows handed to `append`.
    pub flows_appended: AtomicU64,
    /// Flows in raw files that are durable on disk.
    pub flows_acknowledged: AtomicU64,
    /// Flows dropped because the buffer was full (the disk is full or too slow).
    pub dropped_buffer_full: AtomicU64,
    /// Flows dropped because they could not be converted to columns (more than 2 GiB of values in a batch).
    pub dropped_invalid: AtomicU64,
    /// Flows still buffered when the store closed and the last flush failed.
    pub dropped_at_close: AtomicU64,
    /// Files written by flushes (raw and rollups).
    pub parts_written: AtomicU64,
    /// Merged files written.
    pub merges: AtomicU64,
    /// Bytes of every file written, parts and merges.
    pub bytes_written: AtomicU64,
    /// Files deleted because their partition was older than the table's retention.
    pub files_deleted_retention: AtomicU64,
    /// Files moved to quarantine because they could not be read.
    pub files_quarantined: AtomicU64,
    /// Flushes that failed (and will be retried).
    pub flush_errors: AtomicU64,
    /// Merges or retention runs that failed (and will be retried).
    pub maintenance_errors: AtomicU64,
    /// 1 while writes are refused for lack of disk space, else 0.
    pub stalled: AtomicU64,
    /// Flows held in memory: appended and not yet written (buffered, being written, or kept by a failed write).
    pub buffer_flows: AtomicU64,
}

impl StoreStats {
    /// Every counter and gauge by name, for exposition.
    pub fn values(&self) -> [(&'static str, u64); 14] {
        let v = |a: &AtomicU64| a.load(Ordering::Relaxed);
        [
            ("flows_appended", v(&self.flows_appended)),
            ("flows_acknowledged", v(&self.flows_acknowledged)),
            ("dropped_buffer_full", v(&self.dropped_buffer_full)),
            ("dropped_invalid", v(&self.dropped_invalid)),
            ("dropped_at_close", v(&self.dropped_at_close)),
            ("parts_written", v(&self.parts_written)),
            ("merges", v(&self.merges)),
            ("bytes_written", v(&self.bytes_written)),
            ("files_deleted_retention", v(&self.files_deleted_retention)),
            ("files_quarantined", v(&self.files_quarantined)),
            ("flush_errors", v(&self.flush_errors)),
            ("maintenance_errors", v(&self.maintenance_errors)),
            ("stalled", v(&self.stalled)),
            ("buffer_flows", v(&self.buffer_flows)),
        ]
    }
}

/// Adds `n` to a counter.
pub(crate) fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

/// Sets a gauge.
pub(crate) fn set(gauge: &AtomicU64, v: u64) {
    gauge.store(v, Ordering::Relaxed);
}
