//! Reassembly of fragmented IP datagrams, for the simple case: fragments that do not overlap, of datagrams
//! that complete within a bounded number of pending ones. Anything else is dropped and counted; a capture
//! of export traffic rarely has fragments at all, and never needs the hard cases.

use std::collections::HashMap;

use super::ip::{Fragment, FragmentKey};

/// The largest IP payload a datagram can reassemble to.
const MAX_PAYLOAD: usize = 65_535;
/// Datagrams being reassembled at once; the oldest is dropped to make room.
const MAX_PENDING: usize = 256;
/// Fragments of one datagram.
const MAX_FRAGMENTS: usize = 64;

/// A datagram being put back together.
#[derive(Debug)]
struct Partial {
    data: Vec<u8>,
    /// Byte ranges received so far.
    ranges: Vec<(usize, usize)>,
    /// The payload length, known once the last fragment came.
    total: Option<usize>,
    /// When the first fragment came, in packets, to find the oldest.
    first_packet: u64,
}

/// What adding a fragment gave.
#[derive(Debug, PartialEq, Eq)]
pub enum Added {
    /// The datagram still misses fragments.
    Pending,
    /// The datagram is whole: its payload.
    Complete(Vec<u8>),
    /// The datagram (this many fragments, this one included) could not be reassembled and was dropped.
    Dropped(u64),
}

/// Reassembles fragments into datagrams.
#[derive(Debug, Default)]
pub struct Reassembler {
    pending: HashMap<FragmentKey, Partial>,
    /// Fragments dropped when older datagrams were pushed out, since last taken.
    evicted: u64,
}

impl Reassembler {
    /// Adds the fragment found in packet number `packet`.
    pub fn add(&mut self, frag: &Fragment<'_>, packet: u64) -> Added {
        let end = frag.offset + frag.data.len();
        if !self.pending.contains_key(&frag.key) && self.pending.len() >= MAX_PENDING {
            self.evict_oldest();
        }
        let part = self.pending.entry(frag.key).or_insert_with(|| Partial {
            data: Vec::new(),
            ranges: Vec::new(),
            total: None,
            first_packet: packet,
        });
        let overlaps = part.ranges.iter().any(|&(a, b)| frag.offset < b && a < end);
        let total_conflicts = match (part.total, frag.more) {
            (Some(t), true) => end > t,
            (Some(t), false) => end != t,
            (None, false) => part.ranges.iter().any(|&(_, b)| b > end),
            (None, true) => false,
        };
        if end > MAX_PAYLOAD || overlaps || total_conflicts || part.ranges.len() >= MAX_FRAGMENTS {
            let dropped = part.ranges.len() as u64 + 1;
            self.pending.remove(&frag.key);
            return Added::Dropped(dropped);
        }
        if part.data.len() < end {
            part.data.resize(end, 0);
        }
        part.data[frag.offset..end].copy_from_slice(frag.data);
        part.ranges.push((frag.offset, end));
        if !frag.more {
            part.total = Some(end);
        }
        let covered: usize = part.ranges.iter().map(|&(a, b)| b - a).sum();
        if part.total == Some(covered) {
            let whole = self.pending.remove(&frag.key).map(|p| p.data).unwrap_or_default();
            return Added::Complete(whole);
        }
        Added::Pending
    }

    /// Fragments dropped because older datagrams were pushed out, since last asked.
    pub fn take_evicted(&mut self) -> u64 {
        std::mem::take(&mut self.evicted)
    }

    /// Drops every incomplete datagram, returning how many fragments they held.
    pub fn finish(&mut self) -> u64 {
        let left: u64 = self.pending.drain().map(|(_, p)| p.ranges.len() as u64).sum();
        left + self.take_evicted()
    }

    fn evict_oldest(&mut self) {
        let oldest = self
            .pending
            .iter()
            .min_by_key(|(_, p)| p.first_packet)
            .map(|(k, _)| *k);
        if let Some(p) = oldest.and_then(|k| self.pending.remove(&k)) {
            self.evicted += p.ranges.len() as u64;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::IpAddr;

    fn key(id: u32) -> FragmentKey {
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        FragmentKey {
            src: a,
            dst: a,
            id,
            proto: 17,
        }
    }

    fn frag(id: u32, offset: usize, more: bool, data: &[u8]) -> Fragment<'_> {
        Fragment {
            key: key(id),
            offset,
            more,
            data,
        }
    }

    #[test]
    fn reassembles_fragments_in_any_order() {
        let mut r = Reassembler::default();
        assert_eq!(r.add(&frag(1, 16, false, b"cc"), 1), Added::Pending);
        assert_eq!(r.add(&frag(1, 0, true, &[b'a'; 8]), 2), Added::Pending);
        let Added::Complete(d) = r.add(&frag(1, 8, true, &[b'b'; 8]), 3) else {
            panic!("incomplete")
        };
        assert_eq!(d, b"aaaaaaaabbbbbbbbcc");
        assert_eq!(r.finish(), 0);
    }

    #[test]
    fn drops_overlapping_fragments() {
        let mut r = Reassembler::default();
        assert_eq!(r.add(&frag(1, 0, true, &[0; 16]), 1), Added::Pending);
        assert_eq!(r.add(&frag(1, 8, false, &[0; 16]), 2), Added::Dropped(2));
        assert_eq!(r.finish(), 0);
    }

    #[test]
    fn drops_datagrams_longer_than_ip_allows() {
        let mut r = Reassembler::default();
        assert_eq!(r.add(&frag(1, 65_528, false, &[0; 16]), 1), Added::Dropped(1));
    }

    #[test]
    fn counts_what_never_completed() {
        let mut r = Reassembler::default();
        r.add(&frag(1, 0, true, &[0; 8]), 1);
        r.add(&frag(2, 0, true, &[0; 8]), 2);
        r.add(&frag(2, 16, false, &[0; 8]), 3);
        assert_eq!(r.finish(), 3);
    }

    #[test]
    fn bounds_pending_datagrams() {
        let mut r = Reassembler::default();
        for id in 0..=MAX_PENDING as u32 {
            assert_eq!(r.add(&frag(id, 0, true, &[0; 8]), u64::from(id)), Added::Pending);
        }
        assert_eq!(r.pending.len(), MAX_PENDING);
        assert_eq!(r.take_evicted(), 1);
        assert!(!r.pending.contains_key(&key(0)));
    }
}
