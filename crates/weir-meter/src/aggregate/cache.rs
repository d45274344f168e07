//! One aggregation cache: flows in, aggregates out when they time out, when the cache is full, or at the end.

use hashbrown::{DefaultHashBuilder, HashTable};
use std::hash::BuildHasher;
use weir_flow::FlowRecord;
use weir_flow::codes::end_reason;

use super::config::{AggregateConfig, ConfigError};
use super::entries::{Entries, Entry, Order};
use super::key::{Key, MinMasks};
use super::scheme::{Keys, Scheme};

/// What an aggregation cache has done since it was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AggregateCounters {
    /// Flows added.
    pub flows: u64,
    /// Aggregates made (a flow that matched none).
    pub created: u64,
    /// Aggregates exported after the inactive timeout.
    pub expired_inactive: u64,
    /// Aggregates exported after the active timeout.
    pub expired_active: u64,
    /// Aggregates exported early because the cache was full (`flow_end_reason` lack of resources).
    pub evicted_full: u64,
    /// Aggregates exported by [`AggregationCache::flush`].
    pub flushed: u64,
    /// Aggregates held now.
    pub entries: u64,
}

impl AggregateCounters {
    /// Aggregates exported, for every reason.
    pub fn exported(&self) -> u64 {
        self.expired_inactive + self.expired_active + self.evicted_full + self.flushed
    }
}

/// An aggregation cache of one scheme, fed with flows expiring from the main cache (already annotated with
/// masks and ASes by the routing table).
///
/// Time is the flows' own: the cache's clock is the latest `flow_end` it was given, or the latest `now`
/// passed to [`expire`](Self::expire), whichever is later, and it never goes back. An aggregate is exported
/// `inactive_timeout` after the clock last saw a flow added to it, or `active_timeout` after it was made.
/// Its record holds the scheme's keys, `flows` (how many flows it sums), `packets` and `bytes` summed,
/// `flow_start` the earliest start and `flow_end` the latest end of its flows, and `flow_end_reason`; every
/// other column is zero. `weir_proto::netflow::v8_datagrams` encodes them with the scheme's
/// [`v8`](Scheme::v8) layout.
///
/// Everything is allocated when the cache is made; adding a flow allocates nothing.
#[derive(Debug)]
pub struct AggregationCache {
    scheme: Scheme,
    keys: Keys,
    min: MinMasks,
    capacity: usize,
    inactive_ns: u64,
    active_ns: u64,
    hasher: DefaultHashBuilder,
    /// Slots of `entries`, found by their key's hash.
    table: HashTable<u32>,
    entries: Entries,
    clock: u64,
    counters: AggregateCounters,
}

impl AggregationCache {
    /// A cache with `config`'s settings, its memory allocated now.
    pub fn new(config: AggregateConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        let ns = |d: std::time::Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        Ok(Self {
            scheme: config.scheme,
            keys: config.scheme.keys(),
            min: MinMasks {
                src: config.src_min_mask,
                dst: config.dst_min_mask,
            },
            capacity: config.entries,
            inactive_ns: ns(config.inactive_timeout),
            active_ns: ns(config.active_timeout),
            hasher: DefaultHashBuilder::default(),
            // Twice the entries: with the table at most half full, the tombstones that removals leave are
            // cleared by rehashing in place, never by growing.
            table: HashTable::with_capacity(2 * config.entries),
            entries: Entries::with_capacity(config.entries),
            clock: 0,
            counters: AggregateCounters::default(),
        })
    }

    /// The scheme.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// What the cache has done.
    pub fn counters(&self) -> AggregateCounters {
        AggregateCounters {
            entries: self.entries.len() as u64,
            ..self.counters
        }
    }

    /// Aggregates held now.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the cache holds no aggregate.
    pub fn is_empty(&self) -> bool {
        self.entries.len() == 0
    }

    /// Bytes one entry takes in the slab (164). The hash table adds 10 to 20 more: it has two to four
    /// buckets of 5 bytes per entry, its size being twice the entries rounded up to a power of two (at the
    /// default 4096 entries, the whole cache takes 754 KB).
    pub const fn entry_bytes() -> usize {
        size_of::<Entry>() + size_of::<u32>()
    }

    /// Bytes the cache holds on the heap, all allocated when it was made.
    pub fn heap_bytes(&self) -> usize {
        self.entries.heap_bytes() + self.table.allocation_size()
    }

    /// Adds a flow to its aggregate, making one if there is none. When the cache is full, the least
    /// recently updated aggregate is first exported into `out` to make room.
    pub fn add(&mut self, flow: &FlowRecord, out: &mut Vec<FlowRecord>) {
        self.counters.flows += 1;
        self.clock = self.clock.max(flow.flow_end);
        let key = Key::of(flow, self.keys, self.min);
        let hash = self.hasher.hash_one(key);
        let i = match self.table.find(hash, |&i| self.entries.get(i).key == key) {
            Some(&i) => {
                self.entries.touch(i);
                i
            }
            None => {
                if self.entries.len() >= self.capacity
                    && let Some(oldest) = self.entries.head(Order::Updated)
                {
                    self.export(oldest, end_reason::LACK_OF_RESOURCES, out);
                    self.counters.evicted_full += 1;
                }
                self.counters.created += 1;
                let i = self.entries.insert(Entry::new(key, self.clock));
                let (entries, hasher) = (&self.entries, &self.hasher);
                self.table
                    .insert_unique(hash, i, |&j| hasher.hash_one(entries.get(j).key));
                i
            }
        };
        let e = self.entries.get_mut(i);
        e.flows = e.flows.saturating_add(flow.flows.max(1));
        e.packets = e.packets.saturating_add(flow.packets);
        e.bytes = e.bytes.saturating_add(flow.bytes);
        e.first = e.first.min(flow.flow_start);
        e.last = e.last.max(flow.flow_end);
        e.updated = self.clock;
    }

    /// Advances the clock to `now` (nanoseconds since the epoch, on the flows' clock) and exports into
    /// `out` the aggregates whose inactive or active timeout has passed, oldest first.
    pub fn expire(&mut self, now: u64, out: &mut Vec<FlowRecord>) {
        self.clock = self.clock.max(now);
        while let Some(i) = self.entries.head(Order::Updated)
            && self.entries.get(i).updated.saturating_add(self.inactive_ns) <= self.clock
        {
            self.export(i, end_reason::IDLE_TIMEOUT, out);
            self.counters.expired_inactive += 1;
        }
        while let Some(i) = self.entries.head(Order::Created)
            && self.entries.get(i).created.saturating_add(self.active_ns) <= self.clock
        {
            self.export(i, end_reason::ACTIVE_TIMEOUT, out);
            self.counters.expired_active += 1;
        }
    }

    /// Exports every aggregate into `out`, least recently updated first, with `flow_end_reason` forced end,
    /// and empties the cache.
    pub fn flush(&mut self, out: &mut Vec<FlowRecord>) {
        while let Some(i) = self.entries.head(Order::Updated) {
            self.push(self.entries.get(i), end_reason::FORCED_END, out);
            self.entries.remove(i);
            self.counters.flushed += 1;
        }
        self.table.clear();
        self.entries.clear();
    }

    /// Appends entry `i`'s record to `out` and removes the entry.
    fn export(&mut self, i: u32, reason: u8, out: &mut Vec<FlowRecord>) {
        let entry = self.entries.get(i);
        self.push(entry, reason, out);
        let hash = self.hasher.hash_one(entry.key);
        if let Ok(found) = self.table.find_entry(hash, |&j| j == i) {
            found.remove();
        }
        self.entries.remove(i);
    }

    fn push(&self, e: &Entry, reason: u8, out: &mut Vec<FlowRecord>) {
        let rec = FlowRecord {
            flows: e.flows,
            packets: e.packets,
            bytes: e.bytes,
            flow_start: e.first,
            flow_end: e.last,
            flow_end_reason: reason,
            ..e.key.record()
        };
        out.push(rec);
    }
}
