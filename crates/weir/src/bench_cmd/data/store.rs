//! `--out`: the flows written through Weir's embedded store, as the collector writes them: the raw table
//! partitioned by hour, the 1-minute and 1-hour rollups, parts merged.
//!
//! Parts are cut by size (a flush every million flows or so, the store's own threshold), not by time, so
//! the same seed lays out the same files however fast the machine is; at the end every partition is merged,
//! as a collector that kept running would have it. Nothing is deleted for age: the generated day may lie
//! further back than a table's retention, and the store keeps it all.
//!
//! A day that ends in the last [`LIVE`] or later (the UI benchmark's "last hour") is different: a collector
//! holds its last hour as it flushes and merges, a part a second merged every few, its newest seconds
//! still in parts. Parts cut by size would leave that hour in a few large parts instead, read unsorted and
//! without the files' heavy lists, and merging it all would leave one file a collector never has. So the
//! last [`LIVE`] of such a day is written as `weir serve` writes: a flush every `flush_interval` of receive
//! time (the store's default) and the upkeep's maintenance every [`upkeep::INTERVAL`], its clock the flows'
//! receive times.

use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use weir_flow::FlowBatch;
use weir_flow::time::NANOS_PER_SEC;
use weir_query::plan::Table;
use weir_store::{Store, StoreConfig, now_ns};

use crate::serve::upkeep;

/// The stretch at the end of a day that reaches the present written as a collector writes it: the last hour,
/// and the minutes before it that a query of the last hour may begin in.
const LIVE: u64 = 70 * 60 * NANOS_PER_SEC;

/// The store being filled.
#[derive(Debug)]
pub struct StoreOutput {
    store: Store,
    dir: String,
    /// Where the stretch written as a collector writes begins (`u64::MAX`: nowhere).
    live_from: u64,
    /// In that stretch: the receive time of the last flush, and of the last maintenance.
    live: Option<(u64, u64)>,
    /// How often `weir serve` flushes and its upkeep merges, in nanoseconds.
    flush_every: u64,
    upkeep_every: u64,
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl StoreOutput {
    /// Opens a new store in `dir`, which must be empty or absent (flows generated twice into one store
    /// would be counted twice), with `tables` (their retention ignored), for a day ending at `end`.
    pub fn create(dir: &Path, tables: Vec<Table>, end: u64) -> anyhow::Result<Self> {
        let name = dir.display().to_string();
        if let Ok(mut entries) = dir.read_dir()
            && entries.next().is_some()
        {
            anyhow::bail!("{name} is not empty: give a new directory for the store");
        }
        let tables = tables
            .into_iter()
            .map(|t| Table { retention: None, ..t })
            .collect();
        let config = StoreConfig {
            dir: dir.to_owned(),
            tables,
            flush_interval: Duration::MAX,
            ..StoreConfig::default()
        };
        let (store, _) = Store::open(config).with_context(|| format!("cannot open a store in {name}"))?;
        let live_from = if end.saturating_add(LIVE) >= now_ns() {
            end.saturating_sub(LIVE)
        } else {
            u64::MAX
        };
        Ok(StoreOutput {
            store,
            dir: name,
            live_from,
            live: None,
            flush_every: nanos(StoreConfig::default().flush_interval),
            upkeep_every: nanos(upkeep::INTERVAL),
        })
    }

    /// Adds the flows of `batch`, writing parts as the buffer fills, or, in the last stretch of a day that
    /// reaches the present, as a collector would: the batch is cut where a second of receive times ends.
    pub fn write(&mut self, batch: &FlowBatch) -> anyhow::Result<()> {
        let times = &batch.cols.time_received;
        if times.last().is_some_and(|&t| t >= self.live_from) {
            let mut run = FlowBatch::new();
            for (i, &at) in times.iter().enumerate() {
                if at >= self.live_from
                    && self
                        .live
                        .is_none_or(|(flushed, _)| at >= flushed.saturating_add(self.flush_every))
                {
                    self.append(&run)?;
                    run.clear();
                    self.as_a_collector(at)?;
                }
                run.push_from(batch, i);
            }
            return self.append(&run);
        }
        self.append(batch)?;
        if self.store.flush_due() {
            self.flush()?;
        }
        Ok(())
    }

    /// Flushes, and merges as `weir serve`'s upkeep would have by the receive time `at`. On entering the
    /// stretch, what came before is merged as a collector running since then has it.
    fn as_a_collector(&mut self, at: u64) -> anyhow::Result<()> {
        self.flush()?;
        let maintained = match self.live {
            None => {
                self.maintain(u64::MAX)?;
                at
            }
            Some((_, maintained)) if at >= maintained.saturating_add(self.upkeep_every) => {
                self.maintain(at)?;
                at
            }
            Some((_, maintained)) => maintained,
        };
        self.live = Some((at, maintained));
        Ok(())
    }

    fn append(&mut self, batch: &FlowBatch) -> anyhow::Result<()> {
        self.store
            .append(batch)
            .with_context(|| format!("cannot store flows in {}", self.dir))?;
        Ok(())
    }

    fn flush(&mut self) -> anyhow::Result<()> {
        self.store
            .flush()
            .with_context(|| format!("cannot write flows to {}", self.dir))?;
        Ok(())
    }

    fn maintain(&mut self, now: u64) -> anyhow::Result<()> {
        self.store
            .maintain(now)
            .with_context(|| format!("cannot merge the parts of {}", self.dir))?;
        Ok(())
    }

    /// Writes what is buffered, merges what a collector would have merged, and closes the store; the
    /// flows acknowledged. A day in the past ends with every partition merged, the last one too (a
    /// collector that kept running would have merged it); a day reaching the present as its collector has
    /// it at this moment: its newest seconds in parts.
    pub fn finish(mut self) -> anyhow::Result<u64> {
        self.flush()?;
        if self.live.is_none() {
            self.maintain(u64::MAX)?;
        }
        self.store
            .close()
            .with_context(|| format!("cannot close the store in {}", self.dir))
    }
}
