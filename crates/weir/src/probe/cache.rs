//! The main cache as the packet loop uses it: one `Meter` on the loop's thread, or shards on threads of
//! their own (`--threads N`).
//!
//! With shards, the pipeline (routing table, aggregation caches, export, NDJSON) runs on a thread of its
//! own too, fed by the shards: on the loop's thread it took half of the loop's time, and the loop, which
//! also reads and parses every packet, held the shards back. The pipeline sits behind a mutex that the
//! loop takes only to read its counters (reports, `/metrics`), never while it waits for a shard: a shard
//! may be waiting for the pipeline.

use std::io;
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;

use anyhow::Context as _;
use crossbeam_channel::{Receiver, bounded};
use weir_meter::cache::CacheConfig;
use weir_meter::meter::{Meter, MeterStats};
use weir_meter::packet::Packet;
use weir_meter::sampling::Sampling;
use weir_meter::stats::show_entries;

use super::pipeline::{Pipeline, lock};
use super::shards::{Expired, Shards};

/// The main cache.
#[derive(Debug)]
// One value per probe, made once: keeping the meter inline spares the packet path an indirection.
#[allow(clippy::large_enum_variant)]
pub enum MainCache {
    /// One meter, counted on the packet loop's thread.
    One(Meter),
    /// Shards on their own threads; the packet loop keeps the clock.
    Sharded {
        /// The shards.
        shards: Shards,
        /// First packet's time (the export uptime's zero), shared with the pipeline's thread.
        start_ns: Arc<OnceLock<u64>>,
        /// The latest packet or tick time.
        now_ns: u64,
        /// The pipeline's thread, when anything takes flows.
        pipeline: Option<JoinHandle<io::Result<()>>>,
    },
}

impl MainCache {
    /// A cache of `threads` shards (one: no threads) whose expired flows go to `pipeline`; without
    /// `records` they are only counted (see `Meter::keep_records`).
    pub fn new(
        threads: usize,
        config: CacheConfig,
        sampling: Sampling,
        records: bool,
        pipeline: &Arc<Mutex<Pipeline>>,
    ) -> anyhow::Result<Self> {
        if threads <= 1 {
            let mut meter = Meter::new(config, sampling)?;
            meter.keep_records(records);
            return Ok(MainCache::One(meter));
        }
        let start_ns = Arc::new(OnceLock::new());
        let (tx, rx) = bounded(4 * threads);
        let thread = if records {
            let (pipeline, start_ns) = (Arc::clone(pipeline), Arc::clone(&start_ns));
            let thread = std::thread::Builder::new()
                .name("probe-pipeline".into())
                .spawn(move || feed(&pipeline, &start_ns, &rx))
                .context("cannot start the pipeline's thread")?;
            Some(thread)
        } else {
            None
        };
        Ok(MainCache::Sharded {
            shards: Shards::start(threads, config, sampling, records.then_some(tx))?,
            start_ns,
            now_ns: 0,
            pipeline: thread,
        })
    }

    /// Counts a packet.
    #[inline]
    pub fn packet(&mut self, p: &Packet) {
        match self {
            MainCache::One(m) => m.packet(p),
            MainCache::Sharded {
                shards,
                start_ns,
                now_ns,
                ..
            } => {
                start_ns.get_or_init(|| p.ts_ns);
                *now_ns = (*now_ns).max(p.ts_ns);
                shards.packet(p);
            }
        }
    }

    /// Moves the clock when no packet comes.
    pub fn tick(&mut self, now: u64) {
        match self {
            MainCache::One(m) => m.tick(now),
            MainCache::Sharded {
                shards,
                start_ns,
                now_ns,
                ..
            } => {
                start_ns.get_or_init(|| now);
                *now_ns = (*now_ns).max(now);
                shards.tick(*now_ns);
            }
        }
    }

    /// Hands the flows expired so far to the pipeline. With shards, they go on their own; this reports
    /// the error that stopped the pipeline's thread, if it has stopped.
    pub fn hand_over(&mut self, pipeline: &Mutex<Pipeline>) -> io::Result<()> {
        match self {
            MainCache::One(m) => {
                let start = m.start_ns().unwrap_or(0);
                let (expired, now) = m.expired_at();
                lock(pipeline).take(expired, start, now)
            }
            MainCache::Sharded { pipeline: thread, .. } => match thread.take_if(|t| t.is_finished()) {
                Some(t) => joined(t),
                None => Ok(()),
            },
        }
    }

    /// `show ip cache verbose flow` of the flows in the cache now; with shards, of each shard in turn is
    /// not offered (the listing needs the entries, which live on the shards' threads).
    pub fn entries(&mut self) -> Option<String> {
        match self {
            MainCache::One(m) => {
                let now = m.now_ns();
                Some(show_entries(m.snapshot(), now))
            }
            MainCache::Sharded { .. } => None,
        }
    }

    /// The statistics (merged over the shards).
    pub fn stats(&mut self) -> Option<MeterStats> {
        match self {
            MainCache::One(m) => Some(m.stats()),
            MainCache::Sharded { shards, .. } => shards.stats(),
        }
    }

    /// Expires every flow into the pipeline, lets the pipeline send everything, and gives the final
    /// statistics.
    pub fn finish(self, pipeline: &Mutex<Pipeline>) -> anyhow::Result<MeterStats> {
        match self {
            MainCache::One(mut m) => {
                let start = m.start_ns().unwrap_or(0);
                let (_, now) = m.expired_at();
                let mut pipeline = lock(pipeline);
                m.flush_with(|expired| pipeline.take(expired, start, now))?;
                pipeline.finish(start, now)?;
                Ok(m.stats())
            }
            MainCache::Sharded {
                shards,
                now_ns,
                pipeline: thread,
                ..
            } => {
                // The shards send their last flows and stop; then the pipeline's thread sends everything.
                let stats = shards.finish(now_ns)?;
                if let Some(t) = thread {
                    joined(t)?;
                }
                Ok(stats)
            }
        }
    }
}

/// The pipeline's thread: takes the shards' flows until every shard has stopped, then lets the pipeline
/// send everything. A pipeline error (the NDJSON output failing) stops it, and the shards with it.
fn feed(pipeline: &Mutex<Pipeline>, start_ns: &OnceLock<u64>, expired: &Receiver<Expired>) -> io::Result<()> {
    let mut now = 0;
    for mut batch in expired {
        now = now.max(batch.now_ns);
        let start = start_ns.get().copied().unwrap_or(now);
        lock(pipeline).take(&mut batch.flows, start, now)?;
    }
    let start = start_ns.get().copied().unwrap_or(now);
    lock(pipeline).finish(start, now)
}

/// The pipeline thread's result.
fn joined(thread: JoinHandle<io::Result<()>>) -> io::Result<()> {
    thread
        .join()
        .unwrap_or_else(|_| Err(io::Error::other("the pipeline's thread panicked")))
}
