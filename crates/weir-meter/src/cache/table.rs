//! The flow table: entries in one array, found through a hash index of slot numbers ([`super::index`]).
//!
//! Entries never move, so a flow costs its entry, about 13 bytes of index and 4 of free list, and no
//! allocation happens per flow once the cache has filled.
//! There is no per-flow timer or LRU list: the ager walks the array once per interval on the packets' clock
//! (Cisco's ager polls), which costs a sequential scan instead of two pointer updates per packet. When the
//! cache is full, the oldest flows by last packet are expired in a batch (1/64 of the cache), found by a
//! selection over the array, so a burst of new flows does not pay one scan each.

use std::hash::BuildHasher;

use hashbrown::DefaultHashBuilder;
use weir_flow::FlowRecord;
use weir_flow::codes::end_reason;

use super::config::CacheConfig;
use super::entry::{Entry, PacketView};
use super::index::Index;
use super::key::CacheKey;
use super::prefetch;
use crate::stats::ProtocolTable;

/// TCP FIN and RST: either ends the flow once its packet is counted.
const FIN_RST: u16 = 0x01 | 0x04;

/// What the cache did, since it was created.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheCounters {
    /// Flows created.
    pub added: u64,
    /// Flows expired because no packet came for the inactive timeout.
    pub expired_idle: u64,
    /// Flows expired because they lived for the active timeout.
    pub expired_active: u64,
    /// Flows ended by TCP FIN or RST.
    pub expired_end: u64,
    /// Flows expired early to make room in a full cache.
    pub expired_full: u64,
    /// Flows expired at the end of input or on shutdown.
    pub flushed: u64,
    /// Walks of the cache by the ager.
    pub ager_polls: u64,
    /// Ager walks made with a shortened inactive timeout because the cache was nearly full.
    pub emergency_polls: u64,
    /// Times the cache was full when a flow arrived.
    pub full_events: u64,
}

impl CacheCounters {
    /// Adds another cache's counts.
    pub fn merge(&mut self, o: &CacheCounters) {
        self.added += o.added;
        self.expired_idle += o.expired_idle;
        self.expired_active += o.expired_active;
        self.expired_end += o.expired_end;
        self.expired_full += o.expired_full;
        self.flushed += o.flushed;
        self.ager_polls = self.ager_polls.max(o.ager_polls);
        self.emergency_polls += o.emergency_polls;
        self.full_events += o.full_events;
    }
}

/// One flow cache with key layout `K`.
#[derive(Debug)]
pub struct FlowCache<K> {
    config: CacheConfig,
    entries: Vec<Entry<K>>,
    free: Vec<u32>,
    index: Index,
    hasher: DefaultHashBuilder,
    used: usize,
    counters: CacheCounters,
    protocols: ProtocolTable,
    /// Reused by cache-full eviction: (last packet, slot) of every flow.
    scratch: Vec<(u64, u32)>,
}

impl<K: CacheKey> FlowCache<K> {
    /// An empty cache. The index is sized for `config.entries` at once; entries are allocated as flows
    /// arrive, so an idle IPv6 cache costs only its index.
    pub fn new(config: CacheConfig) -> Self {
        FlowCache {
            config,
            entries: Vec::new(),
            free: Vec::new(),
            index: Index::new(config.entries),
            hasher: DefaultHashBuilder::default(),
            used: 0,
            counters: CacheCounters::default(),
            protocols: ProtocolTable::default(),
            scratch: Vec::new(),
        }
    }

    /// Bytes of memory one flow takes when the cache is full: the entry, its share of the index and its
    /// place on the free list.
    pub fn bytes_per_entry(&self) -> f64 {
        (size_of::<Entry<K>>() + size_of::<u32>()) as f64
            + self.index.bytes() as f64 / self.config.entries as f64
    }

    /// The hash a key is filed under.
    #[inline]
    pub fn hash(&self, key: &K) -> u64 {
        self.hasher.hash_one(key)
    }

    /// First stage of a batched lookup: bring the index cell of `hash` into cache.
    #[inline]
    pub fn prefetch_index(&self, hash: u64) {
        self.index.prefetch(hash);
    }

    /// Second stage: with the index cell at hand, bring the flow's entry into cache, if it has one.
    #[inline]
    pub fn prefetch_entry(&self, hash: u64) {
        // Comparing keys here would itself wait for the entry; the first slot with the right hash bits is
        // nearly always the one.
        if let Some(slot) = self.index.find(hash, |_| true) {
            prefetch::read(&self.entries[slot as usize]);
        }
    }

    /// Flows in the cache now.
    pub fn len(&self) -> usize {
        self.used
    }

    /// Whether the cache holds no flow.
    pub fn is_empty(&self) -> bool {
        self.used == 0
    }

    /// What the cache did so far.
    pub fn counters(&self) -> &CacheCounters {
        &self.counters
    }

    /// The settings.
    pub fn config(&self) -> &CacheConfig {
        &self.config
    }

    /// Counts packet `p` with key `key`. Flows that end (FIN/RST, a timeout noticed on arrival, room made
    /// in a full cache) are appended to `out`.
    #[inline]
    pub fn observe(&mut self, key: K, p: &PacketView, base: &FlowRecord, out: &mut Vec<FlowRecord>) {
        self.observe_hashed(self.hash(&key), key, p, base, out);
    }

    /// [`FlowCache::observe`] with the key's hash already computed.
    #[inline]
    pub fn observe_hashed(
        &mut self,
        hash: u64,
        key: K,
        p: &PacketView,
        base: &FlowRecord,
        out: &mut Vec<FlowRecord>,
    ) {
        let entries = &self.entries;
        if let Some(slot) = self.index.find(hash, |s| entries[s as usize].key == key) {
            let e = &self.entries[slot as usize];
            // A packet after the inactive gap, or past the active timeout, closes the flow and opens a new one.
            let reason = if p.ts_ns.saturating_sub(e.last_ns) >= self.config.inactive_ns {
                Some(end_reason::IDLE_TIMEOUT)
            } else if p.ts_ns.saturating_sub(e.first_ns) >= self.config.active_ns {
                Some(end_reason::ACTIVE_TIMEOUT)
            } else {
                None
            };
            if let Some(reason) = reason {
                self.emit(slot, base, p.ts_ns, reason, out);
                self.entries[slot as usize] = Entry::start(key, p);
                self.counters.added += 1;
            } else {
                self.entries[slot as usize].add(p);
            }
            if p.tcp_flags & FIN_RST != 0 {
                self.expire_slot(slot, hash, base, p.ts_ns, end_reason::END_OF_FLOW, out);
            }
            return;
        }
        if self.used >= self.config.entries {
            self.counters.full_events += 1;
            self.evict_oldest(base, p.ts_ns, out);
        }
        let slot = match self.free.pop() {
            Some(slot) => {
                self.entries[slot as usize] = Entry::start(key, p);
                slot
            }
            None => {
                self.entries.push(Entry::start(key, p));
                (self.entries.len() - 1) as u32
            }
        };
        self.index.insert(hash, slot);
        self.used += 1;
        self.counters.added += 1;
        if p.tcp_flags & FIN_RST != 0 {
            self.expire_slot(slot, hash, base, p.ts_ns, end_reason::END_OF_FLOW, out);
        }
    }

    fn count_expiry(&mut self, reason: u8) {
        let c = &mut self.counters;
        match reason {
            end_reason::IDLE_TIMEOUT => c.expired_idle += 1,
            end_reason::ACTIVE_TIMEOUT => c.expired_active += 1,
            end_reason::END_OF_FLOW => c.expired_end += 1,
            end_reason::LACK_OF_RESOURCES => c.expired_full += 1,
            _ => c.flushed += 1,
        }
    }

    fn expire_slot(
        &mut self,
        slot: u32,
        hash: u64,
        base: &FlowRecord,
        now_ns: u64,
        reason: u8,
        out: &mut Vec<FlowRecord>,
    ) {
        self.emit(slot, base, now_ns, reason, out);
        self.entries[slot as usize].packets = 0;
        self.index.remove(hash, slot);
        self.free.push(slot);
        self.used -= 1;
    }

    /// Writes the flow in `slot` to `out` as ending for `reason`, and counts it.
    fn emit(&mut self, slot: u32, base: &FlowRecord, now_ns: u64, reason: u8, out: &mut Vec<FlowRecord>) {
        let e = &self.entries[slot as usize];
        let rec = e.record(self.config.key, base, now_ns, reason);
        self.protocols.add(&rec, e.is_fragment());
        out.push(rec);
        self.count_expiry(reason);
    }

    /// Expired flows by protocol, for `show ip cache flow`.
    pub fn protocols(&self) -> &ProtocolTable {
        &self.protocols
    }

    /// The inactive timeout the ager applies now: the configured one, shortened linearly towards the ager
    /// interval as the cache fills past the emergency threshold, so a nearly full cache sheds idle flows
    /// before it has to evict live ones.
    pub fn effective_inactive_ns(&self) -> u64 {
        let threshold = self.config.entries * usize::from(self.config.emergency_percent) / 100;
        if self.used <= threshold {
            return self.config.inactive_ns;
        }
        let span = (self.config.entries - threshold) as u64;
        let left = self.config.entries.saturating_sub(self.used) as u64;
        (self.config.inactive_ns * left / span).max(self.config.ager_interval_ns)
    }

    /// One ager poll at `now_ns`: expires every flow idle for the (effective) inactive timeout or alive
    /// for the active timeout.
    pub fn age(&mut self, now_ns: u64, base: &FlowRecord, out: &mut Vec<FlowRecord>) {
        self.counters.ager_polls += 1;
        let inactive = self.effective_inactive_ns();
        if inactive < self.config.inactive_ns {
            self.counters.emergency_polls += 1;
        }
        for slot in 0..self.entries.len() {
            let e = &self.entries[slot];
            if e.packets == 0 {
                continue;
            }
            let reason = if now_ns.saturating_sub(e.last_ns) >= inactive {
                end_reason::IDLE_TIMEOUT
            } else if now_ns.saturating_sub(e.first_ns) >= self.config.active_ns {
                end_reason::ACTIVE_TIMEOUT
            } else {
                continue;
            };
            let hash = self.hasher.hash_one(e.key);
            self.expire_slot(slot as u32, hash, base, now_ns, reason, out);
        }
    }

    /// Makes room in a full cache: expires the oldest 1/64 of the flows by last packet, oldest first.
    fn evict_oldest(&mut self, base: &FlowRecord, now_ns: u64, out: &mut Vec<FlowRecord>) {
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        scratch.extend(
            self.entries
                .iter()
                .enumerate()
                .filter(|(_, e)| e.packets != 0)
                .map(|(s, e)| (e.last_ns, s as u32)),
        );
        let n = (self.config.entries / 64).clamp(1, scratch.len());
        if n < scratch.len() {
            scratch.select_nth_unstable(n);
        }
        scratch.truncate(n);
        scratch.sort_unstable();
        for &(_, slot) in &scratch {
            let hash = self.hasher.hash_one(self.entries[slot as usize].key);
            self.expire_slot(slot, hash, base, now_ns, end_reason::LACK_OF_RESOURCES, out);
        }
        self.scratch = scratch;
    }

    /// Expires every flow (end of input, shutdown), oldest first.
    pub fn flush(&mut self, now_ns: u64, base: &FlowRecord, out: &mut Vec<FlowRecord>) {
        let mut live: Vec<(u64, u32)> = self
            .entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.packets != 0)
            .map(|(s, e)| (e.first_ns, s as u32))
            .collect();
        live.sort_unstable();
        for (_, slot) in live {
            let hash = self.hasher.hash_one(self.entries[slot as usize].key);
            self.expire_slot(slot, hash, base, now_ns, end_reason::FORCED_END, out);
        }
    }

    /// The flows in the cache now, as records (for `show ip cache verbose flow`), in slot order.
    pub fn snapshot(&self, now_ns: u64, base: &FlowRecord) -> impl Iterator<Item = FlowRecord> + '_ {
        let key = self.config.key;
        let base = *base;
        self.entries
            .iter()
            .filter(|e| e.packets != 0)
            .map(move |e| e.record(key, &base, now_ns, end_reason::UNKNOWN))
    }
}
