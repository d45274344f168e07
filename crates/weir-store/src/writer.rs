//! The write side of the store: what a flush takes from the buffer ([`Flush`]) and the [`Writer`] that makes
//! it durable.
//!
//! Appending (columns and rollup groups, in memory) and writing (sorting, encoding, fsync) are separate so that
//! a collector can write one flush on a thread of its own while the next flows are appended: encoding a
//! second's flows takes about as long as receiving them, and a collector that stopped appending while it wrote
//! would leave its sockets unread for that long. [`Store::flush`](crate::Store::flush) does both on the
//! calling thread; a [`FlushWriter`] lets another thread do the writing.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use arrow::array::RecordBatch;

use crate::error::StoreError;
use crate::files::{free_bytes, write_file};
use crate::layout::FileName;
use crate::maintenance::Shared;
use crate::pending::{by_partition, in_time_order};
use crate::rollup::Rollup;
use crate::stats::{add, set};
use crate::table::TableFiles;

/// How often a failing flush is logged at most.
const ERROR_LOG_INTERVAL: Duration = Duration::from_secs(10);

/// What one flush writes: the raw rows appended since the last one, each batch sorted by time, and every
/// rollup's groups (finest first; the coarser ones are filled from the finer ones when written).
#[derive(Debug)]
pub struct Flush {
    pub(crate) raw: Vec<RecordBatch>,
    pub(crate) rollups: Vec<Rollup>,
}

/// How the writer turns one rollup's groups into rows.
#[derive(Debug)]
pub(crate) struct RollupPlan {
    /// Index of the table in `Shared::tables`.
    pub(crate) table: usize,
    /// Index of the finer rollup this one is computed from; `None`: from the flows.
    pub(crate) from: Option<usize>,
    /// Finished rows not written yet (a failed flush's), written with the next.
    pub(crate) pending: Vec<RecordBatch>,
}

/// Writes flushes, one part per partition and table, each durable (fsync'd and renamed) before its flows are
/// acknowledged. What a failed write could not store is kept and written first by the next.
#[derive(Debug)]
pub(crate) struct Writer {
    shared: Arc<Shared>,
    /// Index of the raw table in `Shared::tables`.
    raw: usize,
    /// Raw rows a failed write could not store.
    kept: Vec<RecordBatch>,
    /// One per rollup, in the order of [`Flush::rollups`].
    rollups: Vec<RollupPlan>,
    next_seq: u64,
    last_error_log: Option<Instant>,
    errors_unlogged: u64,
}

impl Writer {
    pub(crate) fn new(shared: Arc<Shared>, raw: usize, rollups: Vec<RollupPlan>, next_seq: u64) -> Writer {
        Writer {
            shared,
            raw,
            kept: Vec::new(),
            rollups,
            next_seq,
            last_error_log: None,
            errors_unlogged: 0,
        }
    }

    /// Writes `flush` after whatever earlier writes kept; returns the flows acknowledged since the store was
    /// opened. A full disk is logged here, at most every few seconds, and sets the `stalled` gauge until a
    /// write succeeds.
    pub(crate) fn write(&mut self, flush: Flush) -> Result<u64, StoreError> {
        self.kept.extend(flush.raw);
        let stats = self.shared.stats.clone();
        let result = self
            .finish_rollups(flush.rollups)
            .and_then(|()| self.write_buffers());
        match result {
            Ok(()) => {
                set(&stats.stalled, 0);
                Ok(stats.flows_acknowledged.load(Ordering::Relaxed))
            }
            Err(e) => {
                add(&stats.flush_errors, 1);
                if e.is_disk_full() {
                    set(&stats.stalled, 1);
                }
                self.log_error(&e);
                Err(e)
            }
        }
    }

    /// Forgets what failed writes kept: the store is closing without it.
    pub(crate) fn drop_kept(&mut self) {
        self.kept.clear();
        for plan in &mut self.rollups {
            plan.pending.clear();
        }
    }

    fn log_error(&mut self, e: &StoreError) {
        self.errors_unlogged += 1;
        if self
            .last_error_log
            .is_some_and(|t| t.elapsed() < ERROR_LOG_INTERVAL)
        {
            return;
        }
        tracing::error!(
            error = %e,
            failed_flushes = self.errors_unlogged,
            buffered = self.shared.stats.buffer_flows.load(Ordering::Relaxed),
            "Store flush failed; flows stay buffered and the next flush retries."
        );
        self.last_error_log = Some(Instant::now());
        self.errors_unlogged = 0;
    }

    /// Turns every rollup's groups into pending rows, feeding coarser rollups from finer ones.
    fn finish_rollups(&mut self, mut rollups: Vec<Rollup>) -> Result<(), StoreError> {
        for i in 0..rollups.len().min(self.rollups.len()) {
            if rollups[i].is_empty() {
                continue;
            }
            let dir = &self.shared.tables[self.rollups[i].table].dir;
            let arrow = |source| StoreError::Arrow {
                path: dir.clone(),
                source,
            };
            let (finer, coarser) = rollups.split_at_mut(i + 1);
            for (j, c) in coarser.iter_mut().enumerate() {
                if self.rollups[i + 1 + j].from == Some(i) {
                    finer[i].roll_into(c);
                }
            }
            let rows = rollups[i].finish().map_err(arrow)?;
            self.rollups[i].pending.push(rows);
        }
        Ok(())
    }

    fn write_buffers(&mut self) -> Result<(), StoreError> {
        let shared = self.shared.clone();
        let _files = shared.lock();
        let raw = &shared.tables[self.raw];
        let arrow = |source| StoreError::Arrow {
            path: raw.dir.clone(),
            source,
        };
        let buffer = in_time_order(std::mem::take(&mut self.kept), &raw.schema).map_err(arrow)?;
        let (kept, written, error) = self.write_table(raw, &buffer);
        self.kept = kept;
        shared
            .stats
            .buffer_flows
            .fetch_sub(written as u64, Ordering::Relaxed);
        add(&shared.stats.flows_acknowledged, written as u64);
        if let Some(e) = error {
            return Err(e);
        }

        for i in 0..self.rollups.len() {
            let table = &shared.tables[self.rollups[i].table];
            let pending = std::mem::take(&mut self.rollups[i].pending);
            let rows = match pending.len() {
                0 => continue,
                1 => pending,
                // Rows left over from failed flushes: aggregate them again into one sorted batch.
                _ => {
                    let resolution = table.table.resolution_ns();
                    let mut again = Rollup::new(resolution, table.schema.clone());
                    let arrow = |source| StoreError::Arrow {
                        path: table.dir.clone(),
                        source,
                    };
                    pending
                        .iter()
                        .try_for_each(|b| again.add_record_batch(b))
                        .map_err(arrow)?;
                    vec![again.finish().map_err(arrow)?]
                }
            };
            let (kept, _, error) = self.write_table(table, &rows);
            self.rollups[i].pending = kept;
            if let Some(e) = error {
                return Err(e);
            }
        }
        Ok(())
    }

    /// Writes `rows` (in time order) as one part per partition of `table`, stopping at the first failure;
    /// returns the rows not written, the count written, and the failure.
    fn write_table(
        &mut self,
        table: &TableFiles,
        rows: &[RecordBatch],
    ) -> (Vec<RecordBatch>, usize, Option<StoreError>) {
        let parts = by_partition(rows, table.granularity);
        let mut written = 0;
        for (i, (start, slices)) in parts.iter().enumerate() {
            match self.write_part(table, *start, slices) {
                Ok(n) => written += n,
                Err(e) => {
                    let kept = parts[i..].iter().flat_map(|(_, s)| s.iter().cloned()).collect();
                    return (kept, written, Some(e));
                }
            }
        }
        (Vec::new(), written, None)
    }

    fn write_part(
        &mut self,
        table: &TableFiles,
        start: u64,
        slices: &[RecordBatch],
    ) -> Result<usize, StoreError> {
        let dir = table.dir.join(table.granularity.dir(start));
        let path = dir.join(FileName::Part(self.next_seq).to_string());
        let free = free_bytes(&self.shared.dir)?;
        let reserve = self.shared.min_free_bytes;
        if free < reserve {
            return Err(StoreError::DiskFull { path, free, reserve });
        }
        self.next_seq += 1;
        let size = write_file(path, table.schema.clone(), slices)?;
        let stats = &self.shared.stats;
        add(&stats.parts_written, 1);
        add(&stats.bytes_written, size);
        Ok(slices.iter().map(RecordBatch::num_rows).sum())
    }
}

/// A handle on a store's writer, for a thread that writes the flushes [`Store::take`](crate::Store::take)
/// hands it. Writes through several handles (and [`Store::flush`](crate::Store::flush)) take turns.
#[derive(Debug, Clone)]
pub struct FlushWriter(pub(crate) Arc<Mutex<Writer>>);

impl FlushWriter {
    /// Writes `flush` (after what earlier failed writes kept); returns the flows acknowledged since the store
    /// was opened. A failed write keeps what it could not store for the next one.
    pub fn write(&self, flush: Flush) -> Result<u64, StoreError> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).write(flush)
    }
}
