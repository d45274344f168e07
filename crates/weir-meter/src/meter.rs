//! The probe's metering step: parsed packets in, sampled, sized, and counted into the main cache; expired
//! flows out.
//!
//! IPv4 packets under a key set that fits [`V4Key`] go to a compact IPv4 cache, everything else to a cache of
//! [`WideKey`]s, each with the configured number of entries, as a router keeps `ip flow` and `ipv6 flow`
//! caches apart. Time is the packets' own: the ager runs when packet time passes its next poll, so a capture
//! file expires flows exactly as the traffic did, however fast it is read; a live probe also calls
//! [`Meter::tick`] with the wall clock so flows expire when no packet comes.
//!
//! Packets are counted a little late: each packet's index cell is prefetched when it arrives, its
//! entry `AHEAD` (8) packets before it is counted, and it is counted `DELAY` (24) packets after it
//! arrived, in arrival order, so the caches behave exactly as if packets came one by one, only with their
//! memory already at hand. Everything that looks at the caches (expired flows, statistics, ticks) counts
//! the waiting packets first.

use std::collections::VecDeque;
use std::convert::Infallible;

use weir_flow::FlowRecord;

use crate::cache::{CacheConfig, CacheCounters, CacheKey, ConfigError, FlowCache, KeySet, V4Key, WideKey};
use crate::packet::{Family, Packet};
use crate::sampling::{Sampler, Sampling};
use crate::stats::{PacketSizes, ProtocolTable};

/// How many packets after a packet it is counted: its index cell is asked for when it arrives, so memory
/// has this many packets' time to answer.
const DELAY: usize = 24;

/// How many packets ahead of the one being counted its entry is prefetched: far enough for memory to
/// answer, near enough that the index cell it is found through has arrived.
const AHEAD: usize = 8;

/// A packet's key, already hashed, and the cache it goes to.
#[derive(Debug, Clone, Copy)]
enum Keyed {
    V4(u64, V4Key),
    Wide(u64, WideKey),
}

/// A packet waiting to be counted.
#[derive(Debug, Clone, Copy)]
struct Waiting {
    keyed: Keyed,
    packet: Packet,
    /// Its entry was asked for as that of a new flow, in the next free slot.
    new: bool,
}

/// Packets the meter saw, before and after sampling.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MeterCounters {
    /// Packets offered.
    pub packets: u64,
    /// Their layer-3 bytes.
    pub bytes: u64,
    /// Packets that were not IPv4 or IPv6 (ARP, LLDP, ...), left out of the cache.
    pub non_ip: u64,
    /// IP packets the sampler left out.
    pub sampled_out: u64,
}

/// A snapshot of everything `show ip cache flow` prints.
#[derive(Debug, Clone)]
pub struct MeterStats {
    /// Packets offered and what became of them.
    pub counters: MeterCounters,
    /// Sizes of the packets that went into the cache.
    pub sizes: PacketSizes,
    /// The IPv4 cache's counters, entries in use, and memory per entry.
    pub v4: CacheState,
    /// The IPv6 / flexible cache's.
    pub wide: CacheState,
    /// Expired flows by protocol, both caches together.
    pub protocols: ProtocolTable,
    /// Settings of both caches.
    pub config: CacheConfig,
    /// Sampling in force.
    pub sampling: Sampling,
    /// Seconds of packet time since the first packet (the statistics' age).
    pub elapsed_s: f64,
}

impl MeterStats {
    /// Adds the statistics of another meter with the same settings (the shards of a multi-core probe):
    /// counts add up, and the time is the longest of the two.
    pub fn merge(&mut self, other: &MeterStats) {
        let c = &mut self.counters;
        c.packets += other.counters.packets;
        c.bytes += other.counters.bytes;
        c.non_ip += other.counters.non_ip;
        c.sampled_out += other.counters.sampled_out;
        self.sizes.merge(&other.sizes);
        self.v4.merge(&other.v4);
        self.wide.merge(&other.wide);
        self.protocols.merge(&other.protocols);
        self.config.entries += other.config.entries;
        self.elapsed_s = self.elapsed_s.max(other.elapsed_s);
    }
}

/// One cache's state, for the statistics.
#[derive(Debug, Clone, Copy)]
pub struct CacheState {
    /// What the cache did.
    pub counters: CacheCounters,
    /// Flows in it now.
    pub active: usize,
    /// Bytes per flow, entry and index.
    pub bytes_per_entry: f64,
}

impl CacheState {
    fn merge(&mut self, other: &CacheState) {
        self.counters.merge(&other.counters);
        self.active += other.active;
    }
}

/// The main cache with its sampler and statistics.
#[derive(Debug)]
pub struct Meter {
    config: CacheConfig,
    sampling: Sampling,
    sampler: Sampler,
    /// What every expired flow shares: interfaces, direction, sampling rate.
    base: FlowRecord,
    v4: FlowCache<V4Key>,
    wide: FlowCache<WideKey>,
    sizes: PacketSizes,
    counters: MeterCounters,
    first_ns: Option<u64>,
    now_ns: u64,
    next_age_ns: u64,
    /// Packets waiting to be counted, oldest first: at most [`DELAY`], the first [`AHEAD`] with their
    /// entries asked for.
    pending: VecDeque<Waiting>,
    /// Packets among the first [`AHEAD`] waiting whose flows looked new, per cache: each will take the
    /// next free slot.
    new_ahead: [usize; 2],
    expired: Vec<FlowRecord>,
}

impl Meter {
    /// A meter with an empty cache, after checking the settings.
    pub fn new(config: CacheConfig, sampling: Sampling) -> Result<Self, ConfigError> {
        config.validate()?;
        let base = FlowRecord {
            in_if: config.in_if,
            out_if: config.out_if,
            flow_direction: config.direction,
            sampling_rate: sampling.rate(),
            flows: 1,
            ..FlowRecord::default()
        };
        Ok(Meter {
            config,
            sampling,
            sampler: Sampler::new(sampling),
            base,
            v4: FlowCache::new(config),
            wide: FlowCache::new(config),
            sizes: PacketSizes::default(),
            counters: MeterCounters::default(),
            first_ns: None,
            now_ns: 0,
            next_age_ns: 0,
            pending: VecDeque::with_capacity(DELAY + 1),
            new_ahead: [0; 2],
            expired: Vec::new(),
        })
    }

    /// Whether expired flows become records in [`Meter::expired`] (the default). A probe with nowhere
    /// to send flows turns this off: they are still counted, by cache and by protocol.
    pub fn keep_records(&mut self, keep: bool) {
        self.v4.keep_records(keep);
        self.wide.keep_records(keep);
    }

    /// Counts one packet.
    #[inline]
    pub fn packet(&mut self, p: &Packet) {
        if self.first_ns.is_none() {
            self.advance(p.ts_ns);
        }
        self.counters.packets += 1;
        if p.family == Family::Other {
            self.counters.non_ip += 1;
            return;
        }
        self.counters.bytes += u64::from(p.bytes);
        if !self.sampler.take() {
            self.counters.sampled_out += 1;
            return;
        }
        self.sizes.add(p.bytes);
        let set = self.config.key;
        let keyed = if V4Key::fits(p, set) {
            let key = V4Key::from_packet(p, set);
            let hash = self.v4.hash(&key);
            self.v4.prefetch_index(hash);
            Keyed::V4(hash, key)
        } else {
            let key = WideKey::from_packet(p, set);
            let hash = self.wide.hash(&key);
            self.wide.prefetch_index(hash);
            Keyed::Wide(hash, key)
        };
        self.pending.push_back(Waiting {
            keyed,
            packet: *p,
            new: false,
        });
        if self.pending.len() > DELAY {
            self.count_first();
        }
    }

    /// Counts the oldest waiting packet, asking for the entry of the one [`AHEAD`] of it.
    #[inline]
    fn count_first(&mut self) {
        if let Some(later) = self.pending.get_mut(AHEAD) {
            let (cache, looks_new) = match later.keyed {
                Keyed::V4(hash, _) => (0, self.v4.prefetch_entry(hash, self.new_ahead[0])),
                Keyed::Wide(hash, _) => (1, self.wide.prefetch_entry(hash, self.new_ahead[1])),
            };
            later.new = looks_new;
            self.new_ahead[cache] += usize::from(looks_new);
        }
        let Some(Waiting { keyed, packet, new }) = self.pending.pop_front() else {
            return;
        };
        self.advance(packet.ts_ns);
        match keyed {
            Keyed::V4(hash, key) => {
                self.new_ahead[0] -= usize::from(new);
                self.v4
                    .observe_hashed(hash, key, &packet, &self.base, &mut self.expired)
            }
            Keyed::Wide(hash, key) => {
                self.new_ahead[1] -= usize::from(new);
                self.wide
                    .observe_hashed(hash, key, &packet, &self.base, &mut self.expired)
            }
        }
    }

    /// Counts every waiting packet, in arrival order.
    fn drain(&mut self) {
        while !self.pending.is_empty() {
            self.count_first();
        }
    }

    /// Moves the meter's clock to `now_ns` (the wall clock of a live probe with no packets), running the
    /// ager if a poll is due.
    pub fn tick(&mut self, now_ns: u64) {
        self.drain();
        self.advance(now_ns);
    }

    /// Moves the clock, polling the ager when a poll is due: inlined into the packet loop, with the poll
    /// itself out of line.
    #[inline]
    fn advance(&mut self, now_ns: u64) {
        if self.first_ns.is_none() {
            self.first_ns = Some(now_ns);
            self.next_age_ns = now_ns + self.config.ager_interval_ns;
        }
        self.now_ns = self.now_ns.max(now_ns);
        if self.now_ns >= self.next_age_ns {
            self.poll();
        }
    }

    /// One ager poll of both caches at the clock's time.
    #[inline(never)]
    fn poll(&mut self) {
        self.v4.age(self.now_ns, &self.base, &mut self.expired);
        self.wide.age(self.now_ns, &self.base, &mut self.expired);
        // Polls stay on a grid from the first packet, so when they run does not depend on when packets come.
        let interval = self.config.ager_interval_ns;
        self.next_age_ns = self.now_ns - (self.now_ns - self.next_age_ns) % interval + interval;
    }

    /// Expires every flow in the cache (end of a capture file, shutdown) into [`Meter::expired`].
    pub fn flush(&mut self) {
        let _ = self.flush_with(|_| Ok::<(), Infallible>(()));
    }

    /// Expires every flow in the cache, handing the expired flows to `hand_over` a few thousand at a
    /// time (it takes them out of the vector): a million flows flushed at once need no million-record
    /// buffer. After an error, the rest are still expired, into [`Meter::expired`], and the first error
    /// is returned.
    pub fn flush_with<E>(
        &mut self,
        mut hand_over: impl FnMut(&mut Vec<FlowRecord>) -> Result<(), E>,
    ) -> Result<(), E> {
        self.drain();
        let mut result = Ok(());
        let mut take = |out: &mut Vec<FlowRecord>| {
            if result.is_ok() {
                result = hand_over(out);
            }
        };
        self.v4
            .flush(self.now_ns, &self.base, &mut self.expired, &mut take);
        self.wide
            .flush(self.now_ns, &self.base, &mut self.expired, &mut take);
        take(&mut self.expired);
        result
    }

    /// Flows expired so far and not yet taken; the caller exports them and clears the vector.
    pub fn expired(&mut self) -> &mut Vec<FlowRecord> {
        self.drain();
        &mut self.expired
    }

    /// [`expired`](Self::expired), and the clock once the packets waiting for their entries are counted:
    /// [`now_ns`](Self::now_ns) read before may be behind the last flows' ends.
    pub fn expired_at(&mut self) -> (&mut Vec<FlowRecord>, u64) {
        self.drain();
        (&mut self.expired, self.now_ns)
    }

    /// The packet clock: the latest packet or tick time.
    pub fn now_ns(&self) -> u64 {
        self.now_ns
    }

    /// Time of the first packet or tick, which export uptimes count from.
    pub fn start_ns(&self) -> Option<u64> {
        self.first_ns
    }

    /// The key set in force.
    pub fn key(&self) -> KeySet {
        self.config.key
    }

    /// Packets offered and what became of them.
    pub fn counters(&self) -> &MeterCounters {
        &self.counters
    }

    /// The flows in the cache now, as records (`show ip cache verbose flow`).
    pub fn snapshot(&mut self) -> impl Iterator<Item = FlowRecord> + '_ {
        self.drain();
        self.v4
            .snapshot(self.now_ns, &self.base)
            .chain(self.wide.snapshot(self.now_ns, &self.base))
    }

    /// Everything `show ip cache flow` prints.
    pub fn stats(&mut self) -> MeterStats {
        self.drain();
        let mut protocols = self.v4.protocols().clone();
        protocols.merge(self.wide.protocols());
        let state = |counters: &CacheCounters, active, bytes_per_entry| CacheState {
            counters: *counters,
            active,
            bytes_per_entry,
        };
        MeterStats {
            counters: self.counters,
            sizes: self.sizes.clone(),
            v4: state(self.v4.counters(), self.v4.len(), self.v4.bytes_per_entry()),
            wide: state(self.wide.counters(), self.wide.len(), self.wide.bytes_per_entry()),
            protocols,
            config: self.config,
            sampling: self.sampling,
            elapsed_s: self.first_ns.map_or(0.0, |f| (self.now_ns - f) as f64 / 1e9),
        }
    }
}
