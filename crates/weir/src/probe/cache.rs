//! The main cache as the packet loop uses it: one `Meter` on the loop's thread, or shards on threads of
//! their own (`--threads N`).

use std::io;

use weir_flow::FlowRecord;
use weir_meter::cache::CacheConfig;
use weir_meter::meter::{Meter, MeterStats};
use weir_meter::packet::Packet;
use weir_meter::sampling::Sampling;
use weir_meter::stats::show_entries;

use super::pipeline::Pipeline;
use super::shards::Shards;

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
        /// First packet's time (the export uptime's zero) and the latest time seen.
        start_ns: Option<u64>,
        /// The latest packet or tick time.
        now_ns: u64,
        /// Flows the shards expired, on their way to the pipeline.
        expired: Vec<FlowRecord>,
    },
}

impl MainCache {
    /// A cache of `threads` shards (one: no threads); `records`: whether expired flows become records
    /// for the pipeline, or are only counted (see `Meter::keep_records`).
    pub fn new(
        threads: usize,
        config: CacheConfig,
        sampling: Sampling,
        records: bool,
    ) -> anyhow::Result<Self> {
        if threads <= 1 {
            let mut meter = Meter::new(config, sampling)?;
            meter.keep_records(records);
            return Ok(MainCache::One(meter));
        }
        Ok(MainCache::Sharded {
            shards: Shards::start(threads, config, sampling, records)?,
            start_ns: None,
            now_ns: 0,
            expired: Vec::new(),
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
                start_ns.get_or_insert(p.ts_ns);
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
                start_ns.get_or_insert(now);
                *now_ns = (*now_ns).max(now);
                shards.tick(*now_ns);
            }
        }
    }

    /// Hands the flows expired so far to the pipeline.
    pub fn hand_over(&mut self, pipeline: &mut Pipeline) -> io::Result<()> {
        match self {
            MainCache::One(m) => {
                let (start, now) = (m.start_ns().unwrap_or(0), m.now_ns());
                pipeline.take(m.expired(), start, now)
            }
            MainCache::Sharded {
                shards,
                start_ns,
                now_ns,
                expired,
            } => {
                shards.take_expired(expired);
                pipeline.take(expired, start_ns.unwrap_or(0), *now_ns)
            }
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
    pub fn finish(self, pipeline: &mut Pipeline) -> anyhow::Result<MeterStats> {
        match self {
            MainCache::One(mut m) => {
                let (start, now) = (m.start_ns().unwrap_or(0), m.now_ns());
                m.flush_with(|expired| pipeline.take(expired, start, now))?;
                pipeline.finish(start, now)?;
                Ok(m.stats())
            }
            MainCache::Sharded {
                shards,
                start_ns,
                now_ns,
                mut expired,
            } => {
                let meters = shards.finish(&mut expired)?;
                let (start, now) = (start_ns.unwrap_or(0), now_ns);
                pipeline.take(&mut expired, start, now)?;
                let mut stats: Option<MeterStats> = None;
                for mut m in meters {
                    // Each shard's last packet may be older than the loop's clock: flush on the loop's.
                    m.tick(now);
                    m.flush_with(|expired| pipeline.take(expired, start, now))?;
                    let s = m.stats();
                    match &mut stats {
                        Some(total) => total.merge(&s),
                        None => stats = Some(s),
                    }
                }
                pipeline.finish(start, now)?;
                stats.ok_or_else(|| anyhow::anyhow!("no shard"))
            }
        }
    }
}
