//! The hash index of the flow table: open addressing with linear probing over 8-byte cells.
//!
//! A cell holds 32 bits of the key's hash and the entry's slot number, so a lookup reads one cache line of
//! the index before the entry itself, and the index can be prefetched a few packets ahead (see
//! [`Index::prefetch`]): with a million flows, waiting for memory is most of a packet's cost. A cell's home
//! is its hash scaled to the table (no power-of-two rounding, so the index takes 8 / 0.6 ≈ 13 bytes per
//! flow), and removal shifts the cells behind back, so there are no tombstones to clean up.

/// Cells per flow the index is sized for: at most 60 % of the cells are in use.
const CELLS_PER_ENTRY: f64 = 1.0 / 0.6;

/// An empty cell; a used one never is, since slot numbers are stored plus one.
const EMPTY: u64 = 0;

#[derive(Debug)]
pub(crate) struct Index {
    cells: Vec<u64>,
    len: u64,
}

#[inline]
fn tag(hash: u64) -> u32 {
    (hash >> 32) as u32
}

#[inline]
fn cell(hash: u64, slot: u32) -> u64 {
    u64::from(tag(hash)) << 32 | (u64::from(slot) + 1)
}

#[inline]
fn slot_of(cell: u64) -> u32 {
    (cell as u32).wrapping_sub(1)
}

impl Index {
    /// An index for up to `entries` flows.
    pub(crate) fn new(entries: usize) -> Self {
        let len = ((entries as f64 * CELLS_PER_ENTRY) as usize).max(16);
        let cells = vec![EMPTY; len];
        super::memory::huge_pages(&cells);
        Index {
            cells,
            len: len as u64,
        }
    }

    /// Removes every cell at once (the cache was flushed), cheaper than removing them one by one.
    pub(crate) fn clear(&mut self) {
        self.cells.fill(EMPTY);
    }

    /// Bytes the index takes.
    pub(crate) fn bytes(&self) -> usize {
        self.cells.len() * size_of::<u64>()
    }

    #[inline]
    fn home(&self, tag: u32) -> usize {
        ((u64::from(tag) * self.len) >> 32) as usize
    }

    #[inline]
    fn next(&self, i: usize) -> usize {
        if i + 1 == self.cells.len() { 0 } else { i + 1 }
    }

    /// Asks the CPU to bring the home cell of `hash` into cache.
    #[inline]
    pub(crate) fn prefetch(&self, hash: u64) {
        super::prefetch::read(&self.cells[self.home(tag(hash))]);
    }

    /// The slot of the entry with `hash` for which `is_key(slot)` holds.
    #[inline]
    pub(crate) fn find(&self, hash: u64, mut is_key: impl FnMut(u32) -> bool) -> Option<u32> {
        let t = tag(hash);
        let mut i = self.home(t);
        loop {
            let c = self.cells[i];
            if c == EMPTY {
                return None;
            }
            if (c >> 32) as u32 == t && is_key(slot_of(c)) {
                return Some(slot_of(c));
            }
            i = self.next(i);
        }
    }

    /// Adds `slot` under `hash`. The table keeps a free cell: the cache never holds more flows than it was
    /// sized for.
    #[inline]
    pub(crate) fn insert(&mut self, hash: u64, slot: u32) {
        let mut i = self.home(tag(hash));
        while self.cells[i] != EMPTY {
            i = self.next(i);
        }
        self.cells[i] = cell(hash, slot);
    }

    /// Removes `slot`, filed under `hash`, shifting back the cells that probed past it.
    pub(crate) fn remove(&mut self, hash: u64, slot: u32) {
        let wanted = cell(hash, slot);
        let mut hole = self.home(tag(hash));
        loop {
            match self.cells[hole] {
                EMPTY => return,
                c if c == wanted => break,
                _ => hole = self.next(hole),
            }
        }
        let n = self.cells.len();
        // How far `j` lies after `from`, cyclically (without a division: the ager removes a cell per
        // expired flow).
        let after = |j: usize, from: usize| if j >= from { j - from } else { j + n - from };
        let mut j = hole;
        loop {
            j = self.next(j);
            let c = self.cells[j];
            if c == EMPTY {
                break;
            }
            // The cell at j may fill the hole unless its home lies after the hole (cyclically, up to j).
            if after(j, self.home((c >> 32) as u32)) >= after(j, hole) {
                self.cells[hole] = c;
                hole = j;
            }
        }
        self.cells[hole] = EMPTY;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    proptest! {
        /// Inserts and removes agree with a map, whatever the order and however hashes collide.
        #[test]
        fn agrees_with_a_map(ops in prop::collection::vec((any::<bool>(), 0u32..64, 0u64..8), 1..400)) {
            let mut index = Index::new(40);
            let mut model: HashMap<u32, u64> = HashMap::new();
            for (insert, slot, h) in ops {
                // Few distinct hashes, many collisions, homes all over a small table.
                let hash = h.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ (h << 61);
                match (insert, model.get(&slot).copied()) {
                    (true, None) if model.len() < 40 => {
                        index.insert(hash, slot);
                        model.insert(slot, hash);
                    }
                    (false, Some(hash)) => {
                        index.remove(hash, slot);
                        model.remove(&slot);
                    }
                    _ => {}
                }
                for (&s, &hash) in &model {
                    prop_assert_eq!(index.find(hash, |c| c == s), Some(s));
                }
                prop_assert_eq!(index.cells.iter().filter(|&&c| c != EMPTY).count(), model.len());
            }
        }
    }

    #[test]
    fn takes_about_thirteen_bytes_per_flow() {
        let index = Index::new(1_000_000);
        assert_eq!(index.bytes() / 1_000_000, 13);
    }
}
