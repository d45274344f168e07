//! The flow table: entries in one array, found through a hash index of slot numbers ([`super::index`]).
//!
//! Entries never move, so a flow costs its entry, about 13 bytes of index and 4 of free list, and no
//! allocation happens per flow once the cache has filled.
//! There is no per-flow timer or LRU list: the ager walks the array once per interval on the packets' clock
//! (Cisco's ager polls), which costs a sequential scan instead of two pointer updates per packet. When the
//! cache is full, the oldest flows by last packet are expired in a batch (1/64 of the cache), found by a
//! selection over the array, so a burst of new flows does not pay one scan each.

use weir_flow::FlowRecord;
use weir_flow::codes::end_reason;

use super::config::CacheConfig;
use super::entry::Entry;
use super::index::Index;
use super::key::{CacheKey, KeyHasher};
use super::{memory, prefetch};
use crate::packet::Packet;
use crate::stats::{Category, ProtocolTable, Row};

/// TCP FIN and RST: either ends the flow once its packet is counted.
const FIN_RST: u16 = 0x01 | 0x04;

/// Index removals the ager keeps in flight: each flow it expires has its index cell prefetched, and is
/// removed from the index this many expiries later, so the walk does not wait on one cell at a time.
const REMOVALS_AHEAD: usize = 16;

/// Entries the ager keeps bounds for together: 4 IPv4 entries are four cache lines, the bounds 16 bytes.
/// The ager walks about one block for each flow it expires, so smaller blocks walk fewer lines.
const AGER_BLOCK: usize = 4;

/// Lower bounds of the first and last packet times of the live flows in one block of [`AGER_BLOCK`]
/// entries, so that the ager skips the blocks in which no flow can be due; `u64::MAX` when the block
/// has no flow. A new flow lowers them; packets only raise a flow's last time, which leaves the bound
/// true, and the rare packet older than its flow's first lowers the first bound. Each walk of a block
/// makes them exact again.
#[derive(Debug, Clone, Copy)]
struct Bounds {
    first_ns: u64,
    last_ns: u64,
}

impl Bounds {
    const NO_FLOW: Bounds = Bounds {
        first_ns: u64::MAX,
        last_ns: u64::MAX,
    };

    #[inline]
    fn include(&mut self, first_ns: u64, last_ns: u64) {
        self.first_ns = self.first_ns.min(first_ns);
        self.last_ns = self.last_ns.min(last_ns);
    }
}

/// How many blocks ahead of the one it walks the ager asks for entries.
const BLOCKS_AHEAD: usize = 4;

/// Flows a flush hands over at a time, so that flushing a million flows needs no million-record buffer.
const FLUSH_CHUNK: usize = 4096;

/// How many flows ahead of the one it expires a flush asks for entries.
const FLUSH_AHEAD: usize = 16;

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
    /// Flows that left the cache, for any reason.
    pub fn expired(&self) -> u64 {
        self.expired_idle + self.expired_active + self.expired_end + self.expired_full + self.flushed
    }

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
pub struct FlowCache<K: CacheKey> {
    config: CacheConfig,
    entries: Vec<Entry<K>>,
    /// The ager's bounds, one per [`AGER_BLOCK`] entries, grown with the entries (so that an unused cache
    /// writes none).
    bounds: Vec<Bounds>,
    /// Reused by the ager: the blocks it walks in this poll.
    due_blocks: Vec<u32>,
    free: Vec<u32>,
    index: Index,
    hasher: KeyHasher,
    used: usize,
    counters: CacheCounters,
    protocols: ProtocolTable,
    /// Reused by cache-full eviction: (last packet, slot) of every flow.
    scratch: Vec<(u64, u32)>,
    /// Whether expired flows are written out as records (see [`FlowCache::keep_records`]).
    records: bool,
}

impl<K: CacheKey> FlowCache<K> {
    /// An empty cache. The index and the entries' array are reserved for `config.entries` at once, so
    /// the array never moves; memory is only taken as flows first use it, so an idle IPv6 cache costs
    /// only its index.
    pub fn new(config: CacheConfig) -> Self {
        let entries = Vec::with_capacity(config.entries);
        memory::huge_pages(&entries);
        FlowCache {
            config,
            entries,
            bounds: Vec::with_capacity(config.entries.div_ceil(AGER_BLOCK)),
            due_blocks: Vec::new(),
            free: Vec::new(),
            index: Index::new(config.entries),
            hasher: KeyHasher::default(),
            used: 0,
            counters: CacheCounters::default(),
            protocols: ProtocolTable::default(),
            scratch: Vec::new(),
            records: true,
        }
    }

    /// Whether expired flows become records in the caller's vector (the default). With nothing to send
    /// them to, making a record of several hundred bytes for each flow is most of what expiring costs;
    /// without records, expired flows are only counted (counters and protocol table).
    pub fn keep_records(&mut self, keep: bool) {
        self.records = keep;
    }

    /// Bytes of memory one flow takes when the cache is full: the entry, its share of the index and of
    /// the ager's bounds and list of blocks, and its place on the free list.
    pub fn bytes_per_entry(&self) -> f64 {
        let ager = self.config.entries.div_ceil(AGER_BLOCK) * (size_of::<Bounds>() + size_of::<u32>());
        (size_of::<Entry<K>>() + size_of::<u32>()) as f64
            + (self.index.bytes() + ager) as f64 / self.config.entries as f64
    }

    /// The hash a key is filed under.
    #[inline]
    pub fn hash(&self, key: &K) -> u64 {
        key.hash_with(&self.hasher)
    }

    /// First stage of a batched lookup: bring the index cell of `hash` into cache.
    #[inline]
    pub fn prefetch_index(&self, hash: u64) {
        self.index.prefetch(hash);
    }

    /// Second stage: with the index cell at hand, bring the flow's entry into cache. A flow not in the
    /// cache will most likely take a free slot: the one below the `new_before` slots that earlier new
    /// flows of the batch will take from the top of the free list. Returns whether the flow looks new.
    #[inline]
    pub fn prefetch_entry(&self, hash: u64, new_before: usize) -> bool {
        // Comparing keys here would itself wait for the entry; the first slot with the right hash bits is
        // nearly always the one.
        match self.index.find(hash, |_| true) {
            Some(slot) => {
                prefetch::read_all(&self.entries[slot as usize]);
                false
            }
            None => {
                if let Some(&slot) = self
                    .free
                    .len()
                    .checked_sub(new_before + 1)
                    .and_then(|i| self.free.get(i))
                {
                    prefetch::read_all(&self.entries[slot as usize]);
                    prefetch::read(&self.bounds[slot as usize / AGER_BLOCK]);
                }
                true
            }
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
    pub fn observe(&mut self, key: K, p: &Packet, base: &FlowRecord, out: &mut Vec<FlowRecord>) {
        self.observe_hashed(self.hash(&key), key, p, base, out);
    }

    /// [`FlowCache::observe`] with the key's hash already computed.
    #[inline]
    pub fn observe_hashed(
        &mut self,
        hash: u64,
        key: K,
        p: &Packet,
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
                self.start(slot, key, p);
                self.counters.added += 1;
            } else {
                let e = &mut self.entries[slot as usize];
                if p.ts_ns < e.first_ns {
                    self.bounds[slot as usize / AGER_BLOCK].include(p.ts_ns, u64::MAX);
                }
                e.add(p);
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
                self.start(slot, key, p);
                slot
            }
            None => {
                self.entries.push(Entry::start(key, p));
                let slot = (self.entries.len() - 1) as u32;
                if (slot as usize).is_multiple_of(AGER_BLOCK) {
                    self.bounds.push(Bounds::NO_FLOW);
                }
                self.bounds[slot as usize / AGER_BLOCK].include(p.ts_ns, p.ts_ns);
                slot
            }
        };
        self.index.insert(hash, slot);
        self.used += 1;
        self.counters.added += 1;
        if p.tcp_flags & FIN_RST != 0 {
            self.expire_slot(slot, hash, base, p.ts_ns, end_reason::END_OF_FLOW, out);
        }
    }

    /// Starts a flow with packet `p` in `slot`, which is free or was just expired.
    #[inline]
    fn start(&mut self, slot: u32, key: K, p: &Packet) {
        self.entries[slot as usize] = Entry::start(key, p);
        self.bounds[slot as usize / AGER_BLOCK].include(p.ts_ns, p.ts_ns);
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
        self.release(slot, base, now_ns, reason, out);
        self.index.remove(hash, slot);
    }

    /// Expires the flow in `slot` and frees its entry, leaving the index to the caller.
    fn release(&mut self, slot: u32, base: &FlowRecord, now_ns: u64, reason: u8, out: &mut Vec<FlowRecord>) {
        self.emit(slot, base, now_ns, reason, out);
        self.entries[slot as usize].packets = 0;
        self.free.push(slot);
        self.used -= 1;
    }

    /// Counts the flow in `slot` as ending for `reason`, and writes its record to `out` when records are
    /// kept.
    fn emit(&mut self, slot: u32, base: &FlowRecord, now_ns: u64, reason: u8, out: &mut Vec<FlowRecord>) {
        let e = &self.entries[slot as usize];
        let (protocol, src_port, dst_port) = e.key.l4();
        self.protocols.add(
            Category::of(protocol, src_port, dst_port, e.is_fragment()),
            &Row {
                flows: 1,
                packets: e.packets,
                bytes: e.bytes,
                active_ns: e.last_ns.saturating_sub(e.first_ns),
                idle_ns: now_ns.saturating_sub(e.last_ns),
            },
        );
        if self.records {
            out.push(e.record(self.config.key, base, now_ns, reason));
        }
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
        // Expired flows whose index cells are on their way, (hash, slot), in a ring.
        let mut removals = [(0u64, 0u32); REMOVALS_AHEAD];
        let mut expired = 0usize;
        let active = self.config.active_ns;
        let due = |first_ns: u64, last_ns: u64| {
            if now_ns.saturating_sub(last_ns) >= inactive {
                Some(end_reason::IDLE_TIMEOUT)
            } else if now_ns.saturating_sub(first_ns) >= active {
                Some(end_reason::ACTIVE_TIMEOUT)
            } else {
                None
            }
        };
        // The blocks to walk, found from the bounds alone; each block's entries are asked for a few
        // blocks ahead, as the walk skips about too much for the hardware's own prefetching.
        let mut due_blocks = std::mem::take(&mut self.due_blocks);
        due_blocks.clear();
        due_blocks.extend((0..self.entries.len().div_ceil(AGER_BLOCK) as u32).filter(|&b| {
            let bounds = self.bounds[b as usize];
            due(bounds.first_ns, bounds.last_ns).is_some()
        }));
        for (i, &block) in due_blocks.iter().enumerate() {
            if let Some(&ahead) = due_blocks.get(i + BLOCKS_AHEAD) {
                prefetch::read_slice(self.block(ahead as usize));
            }
            let block = block as usize;
            let mut left = Bounds::NO_FLOW;
            for slot in block * AGER_BLOCK..self.entries.len().min((block + 1) * AGER_BLOCK) {
                let e = &self.entries[slot];
                if e.packets == 0 {
                    continue;
                }
                let Some(reason) = due(e.first_ns, e.last_ns) else {
                    left.include(e.first_ns, e.last_ns);
                    continue;
                };
                let hash = self.hash(&e.key);
                self.index.prefetch(hash);
                self.release(slot as u32, base, now_ns, reason, out);
                // Nothing looks flows up during the walk, so an entry may be freed before its index cell
                // goes.
                let ring = &mut removals[expired % REMOVALS_AHEAD];
                if expired >= REMOVALS_AHEAD {
                    self.index.remove(ring.0, ring.1);
                }
                *ring = (hash, slot as u32);
                expired += 1;
            }
            self.bounds[block] = left;
        }
        self.due_blocks = due_blocks;
        for i in expired.saturating_sub(REMOVALS_AHEAD)..expired {
            let (hash, slot) = removals[i % REMOVALS_AHEAD];
            self.index.remove(hash, slot);
        }
    }

    /// The entries of ager block `block`.
    fn block(&self, block: usize) -> &[Entry<K>] {
        &self.entries[block * AGER_BLOCK..self.entries.len().min((block + 1) * AGER_BLOCK)]
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
            let hash = self.hash(&self.entries[slot as usize].key);
            self.expire_slot(slot, hash, base, now_ns, end_reason::LACK_OF_RESOURCES, out);
        }
        self.scratch = scratch;
    }

    /// Expires every flow (end of input, shutdown), oldest first, calling `hand_over` with `out` after
    /// every few thousand flows and at the end; it is meant to take the flows out of `out`. Without
    /// records nothing shows the order, so the flows are counted as they lie in the array, without
    /// sorting a million of them and reading their entries in random order.
    pub fn flush(
        &mut self,
        now_ns: u64,
        base: &FlowRecord,
        out: &mut Vec<FlowRecord>,
        hand_over: &mut impl FnMut(&mut Vec<FlowRecord>),
    ) {
        if !self.records {
            self.index.clear();
            for slot in 0..self.entries.len() {
                if self.entries[slot].packets != 0 {
                    self.release(slot as u32, base, now_ns, end_reason::FORCED_END, out);
                }
            }
            return;
        }
        let mut live: Vec<(u64, u32)> = self
            .entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.packets != 0)
            .map(|(s, e)| (e.first_ns, s as u32))
            .collect();
        if live.is_empty() {
            return;
        }
        live.sort_unstable();
        // Every flow goes: the index is emptied at once rather than cell by cell.
        self.index.clear();
        for (i, chunk) in live.chunks(FLUSH_CHUNK).enumerate() {
            for (j, &(_, slot)) in chunk.iter().enumerate() {
                // Oldest first is all over the array: ask for the entries a few flows ahead.
                if let Some(&(_, ahead)) = live.get(i * FLUSH_CHUNK + j + FLUSH_AHEAD) {
                    prefetch::read_all(&self.entries[ahead as usize]);
                }
                self.release(slot, base, now_ns, end_reason::FORCED_END, out);
            }
            hand_over(out);
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
