//! [`Store`]: the writer of the embedded store.
//!
//! `append` converts a batch to columns, adds it to the rollups, and keeps it in a bounded buffer; it never
//! touches the disk. `flush` writes the buffer as one part per partition and table, each durable before its
//! flows count as acknowledged. A flush that fails (a full disk) keeps what it could not write and the next
//! one retries; while the disk stays full, the buffer fills up to `max_buffer_flows` and further batches are
//! dropped and counted, and nothing already on disk is touched.
//!
//! Rollups are computed as flows arrive: each rollup of the finest resolution from the flows, each coarser
//! one from a finer rollup's rows at flush (an hour from minutes), which costs a fraction of the flows.

use std::fs;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::array::RecordBatch;
use weir_flow::FlowBatch;
use weir_flow::time::NANOS_PER_SEC;
use weir_query::plan::Table;

use crate::convert::to_record_batch;
use crate::error::StoreError;
use crate::files::{free_bytes, write_file};
use crate::layout::FileName;
use crate::maintenance::{MaintainReport, Maintenance, Shared};
use crate::pending::{by_partition, in_time_order};
use crate::recovery::{Recovery, recover};
use crate::rollup::Rollup;
use crate::stats::{StoreStats, add, set};
use crate::table::TableFiles;

/// How often a full disk is logged at most.
const ERROR_LOG_INTERVAL: Duration = Duration::from_secs(10);

/// Settings of the embedded store.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// The data directory.
    pub dir: PathBuf,
    /// The tables: exactly one raw table, and rollups with their resolution and retention.
    pub tables: Vec<Table>,
    /// How often the owner should call [`Store::flush`]; it is also the most a flow waits before it is
    /// durable. [`Store::flush_due`] says when.
    pub flush_interval: Duration,
    /// A flush is also due once this many flows are buffered, whatever the time.
    pub flush_flows: usize,
    /// Flows buffered at most (about 300 bytes each in memory); beyond, batches are dropped and counted.
    pub max_buffer_flows: usize,
    /// Free space the store leaves on the file system: below it, nothing is written (the store stalls).
    pub min_free_bytes: u64,
    /// A partition with more parts than this has them merged into one file.
    pub merge_parts: usize,
    /// How long after a partition's end its files are merged into one (flows received just before the end
    /// may still be in a buffer).
    pub settle: Duration,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            dir: PathBuf::from("weir-data"),
            tables: Table::defaults(),
            flush_interval: Duration::from_secs(1),
            flush_flows: 1 << 20,
            max_buffer_flows: 4 << 20,
            min_free_bytes: 1 << 30,
            merge_parts: 32,
            settle: Duration::from_secs(120),
        }
    }
}

/// A rollup being accumulated.
#[derive(Debug)]
struct RollupState {
    /// Index of the table in `Shared::tables`.
    table: usize,
    rollup: Rollup,
    /// Index in `Store::rollups` of the finer rollup this one is computed from; `None`: from the flows.
    from: Option<usize>,
    /// Finished rows not written yet.
    pending: Vec<RecordBatch>,
}

/// The writer of the embedded store. See the module documentation.
#[derive(Debug)]
pub struct Store {
    shared: Arc<Shared>,
    raw: usize,
    flush_interval: Duration,
    flush_flows: usize,
    max_buffer_flows: usize,
    /// Raw rows not written yet, each batch sorted by time.
    buffer: Vec<RecordBatch>,
    buffered: usize,
    /// Rollups, finest first.
    rollups: Vec<RollupState>,
    next_seq: u64,
    last_flush: Instant,
    last_error_log: Option<Instant>,
    errors_unlogged: u64,
}

impl Store {
    /// Opens (or creates) the store in `config.dir`: deletes unfinished writes and merge leftovers,
    /// quarantines unreadable files, and says what it did.
    pub fn open(config: StoreConfig) -> Result<(Store, Recovery), StoreError> {
        let raw: Vec<usize> = (0..config.tables.len())
            .filter(|&i| config.tables[i].is_raw())
            .collect();
        let [raw] = raw[..] else {
            return Err(StoreError::Config(format!(
                "{} raw tables configured; the store needs one",
                raw.len()
            )));
        };
        for (i, t) in config.tables.iter().enumerate() {
            if t.name.is_empty() || t.name == crate::layout::QUARANTINE || t.name.contains(['/', '\\', '.']) {
                return Err(StoreError::Config(format!(
                    "table name {:?} cannot be a directory name",
                    t.name
                )));
            }
            if !t.is_raw() {
                let can = Table::rollup_columns();
                if let Some(f) = t.columns.missing_from(can).next() {
                    return Err(StoreError::Config(format!(
                        "rollup {} cannot keep {}: a rollup keeps only columns it can group by",
                        t.name,
                        f.column().name
                    )));
                }
                if !t.columns.contains(weir_flow::Field::time_received) {
                    return Err(StoreError::Config(format!(
                        "rollup {} must keep time_received, its time bucket",
                        t.name
                    )));
                }
            }
            if config.tables[..i].iter().any(|u| u.name == t.name) {
                return Err(StoreError::Config(format!(
                    "table {} is configured twice",
                    t.name
                )));
            }
        }
        fs::create_dir_all(&config.dir).map_err(StoreError::io(&config.dir))?;
        let tables: Vec<TableFiles> = config
            .tables
            .iter()
            .map(|t| TableFiles::new(&config.dir, t.clone()))
            .collect();
        mark_new_rollups(&tables)?;
        let recovery = recover(&config.dir, &tables)?;
        let stats = Arc::new(StoreStats::default());
        add(&stats.files_quarantined, recovery.quarantined.len() as u64);

        // Finer first, and at one resolution wider first, so that a rollup comes after every rollup that can
        // feed it.
        let mut order: Vec<usize> = (0..tables.len()).filter(|&i| i != raw).collect();
        order.sort_by_key(|&i| {
            let t = &tables[i].table;
            (t.resolution_ns(), std::cmp::Reverse(t.columns.len()))
        });
        let mut rollups: Vec<RollupState> = Vec::with_capacity(order.len());
        for i in order {
            let rollup = Rollup::new(tables[i].table.resolution_ns(), tables[i].schema.clone());
            // Fed at a flush from the rollup before it with the fewest columns (so the fewest groups, on real
            // traffic) that has all of its keys and buckets that fit into its own; else from the flows.
            let from = (0..rollups.len())
                .filter(|&j| rollups[j].rollup.can_roll_into(&rollup))
                .min_by_key(|&j| {
                    let t = &tables[rollups[j].table].table;
                    (t.columns.len(), std::cmp::Reverse(t.resolution_ns()))
                });
            rollups.push(RollupState {
                table: i,
                rollup,
                from,
                pending: Vec::new(),
            });
        }

        let settle_ns = u64::try_from(config.settle.as_nanos()).unwrap_or(u64::MAX);
        let shared = Arc::new(Shared::new(
            config.dir.clone(),
            tables,
            config.merge_parts,
            settle_ns,
            config.min_free_bytes,
            stats,
        ));
        let store = Store {
            shared,
            raw,
            flush_interval: config.flush_interval,
            flush_flows: config.flush_flows,
            max_buffer_flows: config.max_buffer_flows,
            buffer: Vec::new(),
            buffered: 0,
            rollups,
            next_seq: recovery.next_seq,
            last_flush: Instant::now(),
            last_error_log: None,
            errors_unlogged: 0,
        };
        Ok((store, recovery))
    }

    /// The store's counters, to read from anywhere.
    pub fn stats(&self) -> Arc<StoreStats> {
        self.shared.stats.clone()
    }

    /// A handle to run merges and retention from another thread (see [`Maintenance`]).
    pub fn maintenance(&self) -> Maintenance {
        Maintenance {
            shared: self.shared.clone(),
        }
    }

    /// Merges parts and applies retention as of `now_ns`, on this thread (it may take a while: use
    /// [`maintenance`](Self::maintenance) to run it beside the flushes instead).
    pub fn maintain(&self, now_ns: u64) -> Result<MaintainReport, StoreError> {
        self.maintenance().run(now_ns)
    }

    /// Flows buffered, not yet written.
    pub fn buffered(&self) -> usize {
        self.buffered
    }

    /// Whether a flush is due: flows are waiting and either the flush interval has passed since the last
    /// flush or `flush_flows` are buffered.
    pub fn flush_due(&self) -> bool {
        self.buffered > 0
            && (self.buffered >= self.flush_flows || self.last_flush.elapsed() >= self.flush_interval)
    }

    /// Takes a batch into the buffer. Never waits on the disk; when the buffer is full the whole batch is
    /// dropped, counted, and [`StoreError::BufferFull`] returned.
    pub fn append(&mut self, batch: &FlowBatch) -> Result<(), StoreError> {
        let n = batch.len();
        if n == 0 {
            return Ok(());
        }
        let stats = &self.shared.stats;
        add(&stats.flows_appended, n as u64);
        if self.buffered + n > self.max_buffer_flows {
            add(&stats.dropped_buffer_full, n as u64);
            return Err(StoreError::BufferFull {
                buffered: self.buffered,
                dropped: n,
            });
        }
        let rb = match to_record_batch(batch) {
            Ok(rb) => rb,
            Err(source) => {
                add(&stats.dropped_invalid, n as u64);
                return Err(StoreError::Arrow {
                    path: self.shared.tables[self.raw].dir.clone(),
                    source,
                });
            }
        };
        for r in self.rollups.iter_mut().filter(|r| r.from.is_none()) {
            r.rollup.add_flows(batch);
        }
        self.buffer.push(rb);
        self.buffered += n;
        set(&stats.buffer_flows, self.buffered as u64);
        Ok(())
    }

    /// Writes everything buffered, one part per partition and table, each durable (fsync'd and renamed)
    /// before its flows are acknowledged; returns the flows acknowledged since the store was opened. What
    /// could not be written stays buffered for the next flush. A full disk is logged here, at most every
    /// few seconds, and sets the `stalled` gauge until a flush succeeds.
    pub fn flush(&mut self) -> Result<u64, StoreError> {
        self.last_flush = Instant::now();
        let result = self.finish_rollups().and_then(|()| self.write_buffers());
        let stats = self.shared.stats.clone();
        set(&stats.buffer_flows, self.buffered as u64);
        match result {
            Ok(()) => {
                set(&stats.stalled, 0);
                Ok(stats
                    .flows_acknowledged
                    .load(std::sync::atomic::Ordering::Relaxed))
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

    /// Flushes, and counts as dropped whatever could not be written.
    pub fn close(mut self) -> Result<u64, StoreError> {
        let result = self.flush();
        if result.is_err() {
            add(&self.shared.stats.dropped_at_close, self.buffered as u64);
            self.buffer.clear();
            self.buffered = 0;
        }
        result
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
            buffered = self.buffered,
            "Store flush failed; flows stay buffered and the next flush retries."
        );
        self.last_error_log = Some(Instant::now());
        self.errors_unlogged = 0;
    }

    /// Moves every rollup's groups into its pending rows, feeding coarser rollups from finer ones.
    fn finish_rollups(&mut self) -> Result<(), StoreError> {
        for i in 0..self.rollups.len() {
            if self.rollups[i].rollup.is_empty() {
                continue;
            }
            let dir = &self.shared.tables[self.rollups[i].table].dir;
            let arrow = |source| StoreError::Arrow {
                path: dir.clone(),
                source,
            };
            let (finer, coarser) = self.rollups.split_at_mut(i + 1);
            for c in coarser.iter_mut().filter(|c| c.from == Some(i)) {
                finer[i].rollup.roll_into(&mut c.rollup);
            }
            let rows = self.rollups[i].rollup.finish().map_err(arrow)?;
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
        let buffer = in_time_order(std::mem::take(&mut self.buffer), &raw.schema).map_err(arrow)?;
        let (kept, written, error) = self.write_table(raw, &buffer);
        self.buffer = kept;
        self.buffered -= written;
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
                    let mut again = Rollup::new(self.rollups[i].rollup.resolution(), table.schema.clone());
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

impl Drop for Store {
    fn drop(&mut self) {
        add(&self.shared.stats.dropped_at_close, self.buffered as u64);
    }
}

/// Nanoseconds since the Unix epoch now, for [`Store::maintain`].
/// Marks each rollup that is new to a store already holding flows with the first bucket it will hold whole
/// ([`layout::write_since`]), so that queries about earlier times go to the tables that have them.
fn mark_new_rollups(tables: &[TableFiles]) -> Result<(), StoreError> {
    let mut held = false;
    for t in tables {
        held |= t.dir.is_dir() && !crate::layout::partitions(&t.dir)?.is_empty();
    }
    if !held {
        return Ok(());
    }
    for t in tables.iter().filter(|t| !t.table.is_raw() && !t.dir.exists()) {
        let res = t.table.resolution_ns();
        let since = now_ns().div_ceil(res).saturating_mul(res);
        crate::layout::write_since(&t.dir, since)?;
        tracing::info!(
            table = %t.table.name,
            since = %weir_flow::time::Rfc3339(since),
            "A new rollup holds flows from now on; queries about earlier times use the other tables."
        );
    }
    Ok(())
}

pub fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() * NANOS_PER_SEC + u64::from(d.subsec_nanos()))
}
