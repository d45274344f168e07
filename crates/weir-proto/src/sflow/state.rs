//! What Weir keeps per sFlow domain between datagrams: each data source's sample sequence, pool and drops
//! (to estimate samples lost on the way and inside the agent), and the latest interface counters (to check
//! flow data against later). Both maps are bounded.

use std::collections::HashMap;

use weir_flow::FlowRecord;

use crate::stats::{Counters, SequenceEvent, SequenceTracker};

use super::counter_record::IfCounters;
use super::sample::SourceId;

/// Data sources tracked per domain; samples of further sources are decoded but not tracked.
pub const MAX_SOURCES: usize = 4096;
/// Interfaces whose counters are kept per domain.
pub const MAX_INTERFACES: usize = 4096;

/// Which sequence a source's sample belongs to: flow samples and discarded-packet samples are numbered
/// apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SampleKind {
    /// Flow samples.
    Flow,
    /// Discarded-packet samples.
    Discarded,
}

/// A sample sequence: one data source's flow or discarded-packet samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SourceKey {
    /// Flow or discarded-packet samples.
    pub kind: SampleKind,
    /// The data source.
    pub source: SourceId,
}

/// What one source's samples said so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SourceStats {
    seq: SequenceTracker,
    /// The latest sample sequence number.
    pub sequence: u32,
    /// The latest sample pool (packets that could have been sampled).
    pub sample_pool: u32,
    /// The latest count of samples the agent dropped.
    pub drops: u32,
    /// Samples received.
    pub samples: u64,
    /// Samples estimated lost: sequence gaps plus increases of `drops`.
    pub lost: u64,
}

/// An interface whose counters are kept: the counter sample's source and the counters' ifIndex.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InterfaceKey {
    /// The counter sample's data source.
    pub source: SourceId,
    /// The ifIndex the counters are for.
    pub if_index: u32,
}

/// The latest generic counters of an interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LatestCounters {
    /// The counters.
    pub counters: IfCounters,
    /// The counter sample's sequence number.
    pub sequence: u32,
    /// When the datagram was received, nanoseconds since the epoch.
    pub received: u64,
}

/// Per-domain sFlow state, reached through [`Domain::sflow_state`](crate::Domain::sflow_state).
#[derive(Debug, Default)]
pub struct SflowState {
    /// Sources in the order first seen; `source_index` finds them, `last_source` is a one-entry cache
    /// (samples of one source come in runs), so that most samples cost no hashing.
    sources: Vec<(SourceKey, SourceStats)>,
    source_index: HashMap<SourceKey, usize>,
    last_source: usize,
    interfaces: HashMap<InterfaceKey, LatestCounters>,
    skipped_samples: u64,
    skipped_records: u64,
    untracked: u64,
    /// The sequence tracker counts into this; sources' events are counted by hand instead.
    scratch: Counters,
    /// Reused to gather AS paths and communities, so that decoding allocates nothing per flow.
    pub(super) list: Vec<u32>,
    /// Reused to build extra fields.
    pub(super) extra: Vec<u8>,
    /// A datagram's flows, staged so that they are appended to the batch column by column.
    pub(super) stage: Vec<FlowRecord>,
}

impl SflowState {
    /// Notes one sample of `key`, counting lost samples into `counters.lost_records`.
    pub(super) fn observe(
        &mut self,
        key: SourceKey,
        sequence: u32,
        pool: u32,
        drops: u32,
        counters: &mut Counters,
    ) {
        let hit = self.sources.get(self.last_source).is_some_and(|(k, _)| *k == key);
        if !hit {
            match self.source_index.get(&key) {
                Some(&i) => self.last_source = i,
                None if self.sources.len() < MAX_SOURCES => {
                    let mut s = SourceStats::default();
                    s.seq.observe(sequence, 1, None, &mut self.scratch);
                    (s.sequence, s.sample_pool, s.drops, s.samples) = (sequence, pool, drops, 1);
                    self.source_index.insert(key, self.sources.len());
                    self.sources.push((key, s));
                    return;
                }
                None => {
                    self.untracked += 1;
                    return;
                }
            }
        }
        let Some((_, s)) = self.sources.get_mut(self.last_source) else {
            return;
        };
        s.samples += 1;
        let event = s.seq.observe(sequence, 1, None, &mut self.scratch);
        if let SequenceEvent::Gap { missing } = event {
            counters.lost_records += missing;
            s.lost += missing;
        }
        if event == SequenceEvent::Late {
            return;
        }
        if event != SequenceEvent::Restart && drops > s.drops {
            let more = u64::from(drops - s.drops);
            counters.lost_records += more;
            s.lost += more;
        }
        (s.sequence, s.sample_pool, s.drops) = (sequence, pool, drops);
    }

    /// Forgets every source's sequence: the agent restarted, its numbers start over.
    pub(super) fn restart(&mut self) {
        self.sources.clear();
        self.source_index.clear();
    }

    /// Keeps `counters` as the latest of their interface, unless a newer sample was already kept.
    pub(super) fn keep(&mut self, source: SourceId, counters: &IfCounters, sequence: u32, received: u64) {
        let key = InterfaceKey {
            source,
            if_index: counters.if_index,
        };
        let latest = LatestCounters {
            counters: *counters,
            sequence,
            received,
        };
        let room = self.interfaces.len() < MAX_INTERFACES;
        match self.interfaces.get_mut(&key) {
            // A sample from the recent past (reordering) does not replace a newer one.
            Some(old) if old.sequence.wrapping_sub(sequence).wrapping_sub(1) < 1 << 16 => {}
            Some(old) => *old = latest,
            None if room => {
                self.interfaces.insert(key, latest);
            }
            None => self.untracked += 1,
        }
    }

    pub(super) fn skipped_sample(&mut self) {
        self.skipped_samples += 1;
    }

    pub(super) fn skipped_record(&mut self) {
        self.skipped_records += 1;
    }

    /// The latest generic counters of every interface seen (up to [`MAX_INTERFACES`]).
    pub fn interfaces(&self) -> impl Iterator<Item = (&InterfaceKey, &LatestCounters)> {
        self.interfaces.iter()
    }

    /// The latest generic counters of one interface.
    pub fn interface(&self, source: SourceId, if_index: u32) -> Option<&LatestCounters> {
        self.interfaces.get(&InterfaceKey { source, if_index })
    }

    /// Every tracked sample sequence (up to [`MAX_SOURCES`]).
    pub fn sources(&self) -> impl Iterator<Item = (&SourceKey, &SourceStats)> {
        self.sources.iter().map(|(k, s)| (k, s))
    }

    /// Samples of a format Weir does not know, skipped by their length.
    pub fn skipped_samples(&self) -> u64 {
        self.skipped_samples
    }

    /// Flow and counter records of a format Weir does not know, skipped by their length.
    pub fn skipped_records(&self) -> u64 {
        self.skipped_records
    }

    /// Sources and interfaces not tracked because the maps were full.
    pub fn untracked(&self) -> u64 {
        self.untracked
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(index: u32) -> SourceKey {
        SourceKey {
            kind: SampleKind::Flow,
            source: SourceId { kind: 0, index },
        }
    }

    #[test]
    fn counts_sequence_gaps_and_new_drops_as_lost() {
        let mut st = SflowState::default();
        let mut c = Counters::default();
        st.observe(key(1), 10, 1000, 5, &mut c);
        st.observe(key(1), 11, 2000, 5, &mut c);
        assert_eq!(c.lost_records, 0);
        st.observe(key(1), 14, 5000, 7, &mut c);
        assert_eq!(c.lost_records, 2 + 2);
        let s = st.sources().next().unwrap().1;
        assert_eq!(
            (s.sequence, s.sample_pool, s.drops, s.samples, s.lost),
            (14, 5000, 7, 3, 4)
        );
        // Another source has its own numbers.
        st.observe(key(2), 500, 0, 0, &mut c);
        assert_eq!(c.lost_records, 4);
    }

    #[test]
    fn late_and_restarted_samples_lose_nothing() {
        let mut st = SflowState::default();
        let mut c = Counters::default();
        st.observe(key(1), 100, 0, 50, &mut c);
        st.observe(key(1), 99, 0, 60, &mut c);
        assert_eq!(c.lost_records, 0);
        st.observe(key(1), 3_000_000_000, 0, 0, &mut c);
        assert_eq!(c.lost_records, 0);
        st.restart();
        assert_eq!(st.sources().count(), 0);
    }

    #[test]
    fn bounds_the_sources_tracked() {
        let mut st = SflowState::default();
        let mut c = Counters::default();
        for i in 0..=MAX_SOURCES as u32 {
            st.observe(key(i), 1, 0, 0, &mut c);
        }
        assert_eq!((st.sources().count(), st.untracked()), (MAX_SOURCES, 1));
    }

    #[test]
    fn keeps_the_latest_counters_per_interface() {
        let mut st = SflowState::default();
        let src = SourceId { kind: 0, index: 7 };
        let c = |octets| IfCounters {
            if_index: 7,
            in_octets: octets,
            ..IfCounters::default()
        };
        st.keep(src, &c(100), 5, 1);
        st.keep(src, &c(50), 4, 2);
        assert_eq!(st.interface(src, 7).unwrap().counters.in_octets, 100);
        st.keep(src, &c(200), 6, 3);
        let latest = st.interface(src, 7).unwrap();
        assert_eq!(
            (latest.counters.in_octets, latest.sequence, latest.received),
            (200, 6, 3)
        );
        assert_eq!(st.interfaces().count(), 1);
        for i in 0..MAX_INTERFACES as u32 + 1 {
            st.keep(
                src,
                &IfCounters {
                    if_index: 1000 + i,
                    ..IfCounters::default()
                },
                1,
                1,
            );
        }
        assert_eq!((st.interfaces().count(), st.untracked()), (MAX_INTERFACES, 2));
    }
}
