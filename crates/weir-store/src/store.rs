//! [`Store`]: the writer of the embedded store.
//!
//! `append` converts a batch to columns, adds it to the rollups, and keeps it in a bounded buffer; it never
//! touches the disk. `flush` writes the buffer as one part per partition and table, each durable before its
//! flows count as acknowledged; `take` hands the same work to a [`FlushWriter`] on another thread instead (see
//! [`crate::writer`]). A flush that fails (a full disk) keeps what it could not write and the next one
//! retries; while the disk stays full, the flows held (buffered, being written, or kept) grow up to
//! `max_buffer_flows` and further batches are dropped and counted, and nothing already on disk is touched.
//!
//! Rollups are computed as flows arrive: each rollup of the finest resolution from the flows, each coarser
//! one from a finer rollup's rows at flush (an hour from minutes), which costs a fraction of the flows.

use std::fs;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use arrow::array::RecordBatch;
use weir_flow::FlowBatch;
use weir_flow::time::NANOS_PER_SEC;
use weir_query::plan::Table;

use crate::convert::to_record_batch;
use crate::error::StoreError;
use crate::maintenance::{MaintainReport, Maintenance, Shared};
use crate::recovery::{Recovery, recover};
use crate::rollup::Rollup;
use crate::stats::{StoreStats, add};
use crate::table::TableFiles;
use crate::writer::{Flush, FlushWriter, RollupPlan, Writer};

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
    /// Flows held at most, buffered or being written (about 300 bytes each in memory); beyond, batches are
    /// dropped and counted.
    pub max_buffer_flows: usize,
    /// Free space the store leaves on the file system: below it, nothing is written (the store stalls).
    pub min_free_bytes: u64,
    /// A partition with more parts than this has them merged into one file (at a flush a second, the
    /// default leaves the hour in progress about twenty seconds of parts, which queries read unsorted and
    /// without lists of their heaviest keys).
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
            merge_parts: 8,
            settle: Duration::from_secs(120),
        }
    }
}

/// The writer of the embedded store. See the module documentation.
#[derive(Debug)]
pub struct Store {
    shared: Arc<Shared>,
    raw: usize,
    flush_interval: Duration,
    flush_flows: usize,
    max_buffer_flows: usize,
    /// Raw rows appended since the last flush, each batch sorted by time.
    buffer: Vec<RecordBatch>,
    /// Flows in `buffer`.
    buffered: usize,
    /// Rollups, finest first, as the writer's plans are; only those computed from the flows are fed here.
    rollups: Vec<Rollup>,
    /// Whether each rollup is computed from the flows (else from a finer rollup, when written).
    from_flows: Vec<bool>,
    writer: FlushWriter,
    last_flush: Instant,
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
        let mut rollups: Vec<Rollup> = Vec::with_capacity(order.len());
        let mut plans: Vec<RollupPlan> = Vec::with_capacity(order.len());
        for i in order {
            let rollup = Rollup::new(tables[i].table.resolution_ns(), tables[i].schema.clone());
            // Fed at a flush from the rollup before it with the fewest columns (so the fewest groups, on real
            // traffic) that has all of its keys and buckets that fit into its own; else from the flows.
            let from = (0..rollups.len())
                .filter(|&j| rollups[j].can_roll_into(&rollup))
                .min_by_key(|&j| {
                    let t = &tables[plans[j].table].table;
                    (t.columns.len(), std::cmp::Reverse(t.resolution_ns()))
                });
            rollups.push(rollup);
            plans.push(RollupPlan {
                table: i,
                from,
                pending: Vec::new(),
            });
        }
        let from_flows = plans.iter().map(|p| p.from.is_none()).collect();

        let settle_ns = u64::try_from(config.settle.as_nanos()).unwrap_or(u64::MAX);
        let shared = Arc::new(Shared::new(
            config.dir.clone(),
            tables,
            config.merge_parts,
            settle_ns,
            config.min_free_bytes,
            stats,
        ));
        let writer = Writer::new(shared.clone(), raw, plans, recovery.next_seq);
        let store = Store {
            shared,
            raw,
            flush_interval: config.flush_interval,
            flush_flows: config.flush_flows,
            max_buffer_flows: config.max_buffer_flows,
            buffer: Vec::new(),
            buffered: 0,
            rollups,
            from_flows,
            writer: FlushWriter(Arc::new(Mutex::new(writer))),
            last_flush: Instant::now(),
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

    /// Flows appended since the last flush (or [`take`](Self::take)).
    pub fn buffered(&self) -> usize {
        self.buffered
    }

    /// Flows appended and not yet written: buffered, being written, or kept by a failed write.
    fn held(&self) -> usize {
        usize::try_from(self.shared.stats.buffer_flows.load(Ordering::Relaxed)).unwrap_or(usize::MAX)
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
        let held = self.held();
        if held + n > self.max_buffer_flows {
            add(&stats.dropped_buffer_full, n as u64);
            return Err(StoreError::BufferFull {
                buffered: held,
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
        for (rollup, _) in self.rollups.iter_mut().zip(&self.from_flows).filter(|(_, f)| **f) {
            rollup.add_flows(batch);
        }
        self.buffer.push(rb);
        self.buffered += n;
        add(&stats.buffer_flows, n as u64);
        Ok(())
    }

    /// Takes what a flush writes (the buffer and the rollups' groups) for a [`FlushWriter`] to write,
    /// leaving the store empty and appending. The flows stay held, and count against `max_buffer_flows`,
    /// until they are written.
    pub fn take(&mut self) -> Flush {
        self.last_flush = Instant::now();
        self.buffered = 0;
        let rollups = self
            .rollups
            .iter_mut()
            .map(|r| std::mem::replace(r, Rollup::new(r.resolution(), r.schema())))
            .collect();
        Flush {
            raw: std::mem::take(&mut self.buffer),
            rollups,
        }
    }

    /// A handle on the store's writer, for a thread that writes what [`take`](Self::take) hands over.
    pub fn writer(&self) -> FlushWriter {
        self.writer.clone()
    }

    /// Writes everything buffered (after what earlier failed flushes kept), one part per partition and table,
    /// each durable (fsync'd and renamed) before its flows are acknowledged; returns the flows acknowledged
    /// since the store was opened. What could not be written is kept for the next flush. A full disk is
    /// logged, at most every few seconds, and sets the `stalled` gauge until a flush succeeds.
    pub fn flush(&mut self) -> Result<u64, StoreError> {
        let flush = self.take();
        self.writer.write(flush)
    }

    /// Flushes, and counts as dropped whatever could not be written.
    pub fn close(mut self) -> Result<u64, StoreError> {
        let result = self.flush();
        if result.is_err() {
            let stats = &self.shared.stats;
            add(&stats.dropped_at_close, self.held() as u64);
            stats.buffer_flows.store(0, Ordering::Relaxed);
            self.writer
                .0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .drop_kept();
        }
        result
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        add(&self.shared.stats.dropped_at_close, self.held() as u64);
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
