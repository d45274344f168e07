//! The aggregates of one cache in a fixed slab, threaded on two lists: by last update (for the inactive
//! timeout and for making room when the cache is full) and by creation (for the active timeout).
//!
//! Both lists are kept in order for free: an entry joins the tail of both when it is made, and moves to the
//! tail of the update list when a flow is added to it. Since the cache's clock never goes back, each list
//! is sorted by its time, and expiring is popping heads until one is not due. The slab never grows past the
//! capacity it was made with, so a running cache allocates nothing.

use super::key::Key;

/// No entry: the end of a list.
const NIL: u32 = u32::MAX;

/// One aggregate.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry {
    pub(crate) key: Key,
    /// Flows added.
    pub(crate) flows: u64,
    /// Packets, summed.
    pub(crate) packets: u64,
    /// Bytes, summed.
    pub(crate) bytes: u64,
    /// The earliest flow start.
    pub(crate) first: u64,
    /// The latest flow end.
    pub(crate) last: u64,
    /// The cache's clock when the entry was made.
    pub(crate) created: u64,
    /// The cache's clock when a flow was last added.
    pub(crate) updated: u64,
    links: [Link; 2],
}

impl Entry {
    /// A new entry for `key`, on no list yet.
    pub(crate) fn new(key: Key, now: u64) -> Self {
        Self {
            key,
            flows: 0,
            packets: 0,
            bytes: 0,
            first: u64::MAX,
            last: 0,
            created: now,
            updated: now,
            links: [Link::DETACHED; 2],
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Link {
    prev: u32,
    next: u32,
}

impl Link {
    const DETACHED: Self = Self { prev: NIL, next: NIL };
}

/// Which list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Order {
    /// By the last update, least recent first.
    Updated = 0,
    /// By creation, oldest first.
    Created = 1,
}

/// The slab and its two lists.
#[derive(Debug)]
pub(crate) struct Entries {
    slots: Vec<Entry>,
    free: Vec<u32>,
    /// Head and tail of each list.
    ends: [Link; 2],
    len: usize,
}

impl Entries {
    /// Room for `capacity` entries, allocated now.
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self {
            slots: Vec::with_capacity(capacity),
            free: Vec::with_capacity(capacity),
            ends: [Link::DETACHED; 2],
            len: 0,
        }
    }

    /// Entries held.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Stores `entry` at the tail of both lists and returns its slot. The caller keeps `len()` under the
    /// capacity, so the slab never reallocates.
    pub(crate) fn insert(&mut self, entry: Entry) -> u32 {
        let i = match self.free.pop() {
            Some(i) => {
                self.slots[i as usize] = entry;
                i
            }
            None => {
                self.slots.push(entry);
                // The capacity is limited to fewer than u32::MAX entries by the configuration.
                (self.slots.len() - 1) as u32
            }
        };
        self.len += 1;
        self.link_tail(Order::Updated, i);
        self.link_tail(Order::Created, i);
        i
    }

    /// Moves entry `i` to the tail of the update list.
    pub(crate) fn touch(&mut self, i: u32) {
        self.unlink(Order::Updated, i);
        self.link_tail(Order::Updated, i);
    }

    /// Takes entry `i` off both lists and frees its slot.
    pub(crate) fn remove(&mut self, i: u32) {
        self.unlink(Order::Updated, i);
        self.unlink(Order::Created, i);
        self.free.push(i);
        self.len -= 1;
    }

    /// The head of a list: the least recently updated, or the oldest, entry.
    pub(crate) fn head(&self, order: Order) -> Option<u32> {
        Some(self.ends[order as usize].next).filter(|&i| i != NIL)
    }

    pub(crate) fn get(&self, i: u32) -> &Entry {
        &self.slots[i as usize]
    }

    pub(crate) fn get_mut(&mut self, i: u32) -> &mut Entry {
        &mut self.slots[i as usize]
    }

    /// Drops every entry, keeping the allocation.
    pub(crate) fn clear(&mut self) {
        self.slots.clear();
        self.free.clear();
        self.ends = [Link::DETACHED; 2];
        self.len = 0;
    }

    /// Bytes held on the heap.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.slots.capacity() * size_of::<Entry>() + self.free.capacity() * size_of::<u32>()
    }

    // `ends[o].next` is the list's head and `ends[o].prev` its tail.
    fn link_tail(&mut self, order: Order, i: u32) {
        let o = order as usize;
        let tail = self.ends[o].prev;
        self.slots[i as usize].links[o] = Link {
            prev: tail,
            next: NIL,
        };
        match tail {
            NIL => self.ends[o].next = i,
            t => self.slots[t as usize].links[o].next = i,
        }
        self.ends[o].prev = i;
    }

    fn unlink(&mut self, order: Order, i: u32) {
        let o = order as usize;
        let Link { prev, next } = self.slots[i as usize].links[o];
        match prev {
            NIL => self.ends[o].next = next,
            p => self.slots[p as usize].links[o].next = next,
        }
        match next {
            NIL => self.ends[o].prev = prev,
            n => self.slots[n as usize].links[o].prev = prev,
        }
        self.slots[i as usize].links[o] = Link::DETACHED;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn heads(e: &Entries, order: Order) -> Vec<u32> {
        let mut out = Vec::new();
        let mut next = e.head(order);
        while let Some(i) = next {
            out.push(i);
            next = Some(e.get(i).links[order as usize].next).filter(|&n| n != NIL);
        }
        out
    }

    #[test]
    fn lists_keep_update_and_creation_order_and_reuse_slots() {
        let mut e = Entries::with_capacity(4);
        let [a, b, c] = [0, 1, 2].map(|t| e.insert(Entry::new(Key::default(), t)));
        e.touch(a);
        assert_eq!(heads(&e, Order::Updated), [b, c, a]);
        assert_eq!(heads(&e, Order::Created), [a, b, c]);
        e.remove(c);
        assert_eq!(heads(&e, Order::Updated), [b, a]);
        let d = e.insert(Entry::new(Key::default(), 3));
        assert_eq!(d, c, "the freed slot is reused");
        assert_eq!(heads(&e, Order::Created), [a, b, d]);
        e.remove(a);
        e.remove(b);
        e.remove(d);
        assert_eq!(
            (e.len(), e.head(Order::Updated), e.head(Order::Created)),
            (0, None, None)
        );
    }
}
