//! Longest-prefix match as a search over disjoint address ranges.
//!
//! The prefixes of a routing table nest: two prefixes are either disjoint or one contains the other. So they
//! cut the address space into disjoint ranges, each answered by one route (the longest prefix covering it)
//! or by none, and a lookup becomes "the last range that starts at or below the address": a binary search
//! over a sorted array of range starts, with no pointer chasing and no per-length probing.
//!
//! An index on 16 bits of the address narrows that search to the ranges of one block (in a full IPv4 table,
//! a /16: a few dozen ranges at most), so a lookup reads one index slot, one or two cache lines of starts
//! and one value. The 16 bits are those after the bits every prefix shares: all of a full IPv6 table is in
//! 2000::/4, so its index spreads over 2000::/20 blocks rather than the 4,096 /16s of 2000::/4, and an
//! address outside the shared bits has no route without a search. The index is 65,537 `u32`s (256 KiB) per
//! address family, whatever the table's size. Values are
//! stored in the ranges themselves rather than as indexes into a route list: in a table far larger than
//! the CPU's caches, that is one memory access fewer per lookup.

/// Slots in the index: one per value of the top 16 bits, and one past the end.
const INDEX_LEN: usize = (1 << 16) + 1;

/// An address as an unsigned integer: `u32` for IPv4, `u128` for IPv6.
pub(crate) trait Bits: Copy + Ord {
    /// The address width.
    const BITS: u32;
    /// The lowest address.
    const ZERO: Self;
    /// The highest address.
    const MAX: Self;
    /// The 16 bits after the first `skip` (at most the width less 16).
    fn block(self, skip: u32) -> usize;
    /// The first address of block `b` of the addresses that share `self`'s first `skip` bits.
    fn block_start(self, b: usize, skip: u32) -> Self;
    /// How many leading bits `self` and `other` share.
    fn common_bits(self, other: Self) -> u32;
    /// The network address of `self/len`.
    fn network(self, len: u8) -> Self;
    /// Whether no bit past the first `len` is set.
    fn is_network(self, len: u8) -> bool;
    /// The last address of the prefix `self/len` (`self` a network address).
    fn last(self, len: u8) -> Self;
    /// The next address, `None` after the last one.
    fn succ(self) -> Option<Self>;
    /// The bits past a prefix of `len` bits.
    fn host_bits(len: u8) -> Self;
}

macro_rules! bits {
    ($t:ty) => {
        impl Bits for $t {
            const BITS: u32 = <$t>::BITS;
            const ZERO: Self = 0;
            const MAX: Self = <$t>::MAX;

            #[inline]
            fn block(self, skip: u32) -> usize {
                ((self << skip) >> (<$t>::BITS - 16)) as usize
            }

            fn block_start(self, b: usize, skip: u32) -> Self {
                self | (b as $t) << (<$t>::BITS - 16 - skip)
            }

            fn common_bits(self, other: Self) -> u32 {
                (self ^ other).leading_zeros()
            }

            fn network(self, len: u8) -> Self {
                self & !Self::host_bits(len)
            }

            fn is_network(self, len: u8) -> bool {
                self & Self::host_bits(len) == 0
            }

            fn last(self, len: u8) -> Self {
                self | Self::host_bits(len)
            }

            fn succ(self) -> Option<Self> {
                self.checked_add(1)
            }

            fn host_bits(len: u8) -> Self {
                <$t>::MAX.checked_shr(u32::from(len)).unwrap_or(0)
            }
        }
    };
}

bits!(u32);
bits!(u128);

/// The ranges of one address family: `starts[i]` is the first address of range `i`, which runs to
/// `starts[i + 1] - 1` and is answered by `values[i]` (what its longest prefix says, or the value for no
/// route). The first range starts at address 0, so every address has one; neighbouring ranges never have
/// the same value.
#[derive(Debug, Clone)]
pub(crate) struct RangeTable<K, V> {
    starts: Vec<K>,
    values: Vec<V>,
    /// `index[b]`: the range holding the first address of block `b` of the window; `index[65536]`: the last
    /// range.
    index: Box<[u32]>,
    /// The leading bits every prefix shares; the index is on the 16 after them.
    skip: u32,
    /// The first and last address of the block those bits make: no prefix reaches outside it.
    window: (K, K),
    /// The value of an address no prefix covers.
    none: V,
}

impl<K: Bits, V: Copy + PartialEq> RangeTable<K, V> {
    /// Builds the table from `(network, length, value)` prefixes (networks with no bit set past their
    /// length, lengths at most the address width, no prefix twice); addresses no prefix covers get `none`.
    pub(crate) fn build(mut prefixes: Vec<(K, u8, V)>, none: V) -> Self {
        prefixes.sort_unstable_by_key(|&(net, len, _)| (net, len));
        // The window: the leading bits shared by the lowest network and the highest last address.
        let (skip, window) = match (
            prefixes.first(),
            prefixes.iter().map(|&(n, len, _)| n.last(len)).max(),
        ) {
            (Some(&(low, _, _)), Some(high)) => {
                // Leaves 16 bits for the index; at most 112, so it fits a prefix length.
                let skip = low.common_bits(high).min(K::BITS - 16);
                let start = low.network(skip as u8);
                (skip, (start, start.last(skip as u8)))
            }
            _ => (0, (K::ZERO, K::MAX)),
        };
        let mut fill = Fill {
            starts: Vec::new(),
            values: Vec::new(),
            cursor: Some(K::ZERO),
        };
        // The prefixes that contain the current one, innermost last, as (last address, value).
        let mut enclosing: Vec<(K, V)> = Vec::new();
        for (net, len, value) in prefixes {
            while let Some(&(last, outer)) = enclosing.last()
                && last < net
            {
                fill.up_to(last, outer);
                enclosing.pop();
            }
            fill.before(net, enclosing.last().map_or(none, |&(_, v)| v));
            enclosing.push((net.last(len), value));
        }
        while let Some((last, value)) = enclosing.pop() {
            fill.up_to(last, value);
        }
        fill.up_to(K::MAX, none);
        let Fill { starts, values, .. } = fill;
        let mut index = vec![0u32; INDEX_LEN].into_boxed_slice();
        for (b, slot) in index.iter_mut().enumerate().take(INDEX_LEN - 1) {
            let first = window.0.block_start(b, skip);
            *slot = (starts.partition_point(|&s| s <= first) - 1) as u32;
        }
        index[INDEX_LEN - 1] = (starts.len() - 1) as u32;
        Self {
            starts,
            values,
            index,
            skip,
            window,
            none,
        }
    }

    /// The value of the range holding `addr`: its longest matching prefix's, or the value for no route.
    #[inline]
    pub(crate) fn lookup(&self, addr: K) -> V {
        if addr < self.window.0 || addr > self.window.1 {
            return self.none;
        }
        let b = addr.block(self.skip);
        let lo = self.index[b] as usize;
        let hi = self.index[b + 1] as usize;
        // starts[lo] is at or below the block's first address, so at least one start is at or below addr.
        let k = self.starts[lo..=hi].partition_point(|&s| s <= addr);
        self.values[lo + k.saturating_sub(1)]
    }

    /// Bytes held on the heap.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.starts.capacity() * size_of::<K>()
            + self.values.capacity() * size_of::<V>()
            + self.index.len() * size_of::<u32>()
    }
}

/// Writes ranges in address order, from `cursor` on.
struct Fill<K, V> {
    starts: Vec<K>,
    values: Vec<V>,
    /// The first address not yet in a range; `None` once the last address is.
    cursor: Option<K>,
}

impl<K: Bits, V: Copy + PartialEq> Fill<K, V> {
    /// Gives the addresses from the cursor to `last` (inclusive) to `value`.
    fn up_to(&mut self, last: K, value: V) {
        if let Some(c) = self.cursor
            && c <= last
        {
            self.push(c, value);
            self.cursor = last.succ();
        }
    }

    /// Gives the addresses from the cursor to just before `next` to `value`.
    fn before(&mut self, next: K, value: V) {
        if let Some(c) = self.cursor
            && c < next
        {
            self.push(c, value);
            self.cursor = Some(next);
        }
    }

    fn push(&mut self, start: K, value: V) {
        if self.values.last() != Some(&value) {
            self.starts.push(start);
            self.values.push(value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The value for no route in these tests.
    const NO_ROUTE: u32 = u32::MAX;

    fn v4(a: [u8; 4]) -> u32 {
        u32::from_be_bytes(a)
    }

    #[test]
    fn an_empty_table_answers_no_route_everywhere() {
        let t = RangeTable::<u32, u32>::build(vec![], NO_ROUTE);
        assert_eq!(t.starts.len(), 1);
        assert_eq!([0, 1 << 31, u32::MAX].map(|a| t.lookup(a)), [NO_ROUTE; 3]);
    }

    #[test]
    fn nested_prefixes_answer_with_the_longest() {
        let t = RangeTable::build(
            vec![
                (v4([10, 0, 0, 0]), 8, 0),
                (v4([10, 1, 0, 0]), 16, 1),
                (v4([10, 1, 2, 0]), 24, 2),
                (v4([10, 1, 2, 128]), 25, 3),
            ],
            NO_ROUTE,
        );
        let at = |a| t.lookup(v4(a));
        assert_eq!(at([9, 255, 255, 255]), NO_ROUTE);
        assert_eq!(at([10, 0, 0, 0]), 0);
        assert_eq!(at([10, 1, 0, 0]), 1);
        assert_eq!(at([10, 1, 2, 127]), 2);
        assert_eq!(at([10, 1, 2, 128]), 3);
        assert_eq!(at([10, 1, 2, 255]), 3);
        assert_eq!(at([10, 1, 3, 0]), 1);
        assert_eq!(at([10, 2, 0, 0]), 0);
        assert_eq!(at([11, 0, 0, 0]), NO_ROUTE);
    }

    #[test]
    fn a_default_route_and_the_last_address_are_covered() {
        let t = RangeTable::build(vec![(0u32, 0, 7), (v4([255, 255, 255, 255]), 32, 8)], NO_ROUTE);
        assert_eq!(t.lookup(0), 7);
        assert_eq!(t.lookup(u32::MAX - 1), 7);
        assert_eq!(t.lookup(u32::MAX), 8);
        let t = RangeTable::build(vec![(u128::MAX, 128, 1), (0u128, 0, 0)], NO_ROUTE);
        assert_eq!(
            (t.lookup(0), t.lookup(u128::MAX - 1), t.lookup(u128::MAX)),
            (0, 0, 1)
        );
    }

    #[test]
    fn the_index_starts_after_the_bits_every_prefix_shares() {
        let p = |s: &str| s.parse::<std::net::Ipv6Addr>().expect("an address").to_bits();
        let t = RangeTable::build(vec![(p("2001:db8::"), 32, 1), (p("2a00::"), 12, 2)], NO_ROUTE);
        assert_eq!(
            (t.skip, t.window),
            (4, (p("2000::"), p("2fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")))
        );
        assert_eq!(t.lookup(p("2001:db8:1::")), 1);
        assert_eq!(t.lookup(p("2a0f::1")), 2);
        assert_eq!(t.lookup(p("2a10::1")), NO_ROUTE);
        assert_eq!(t.lookup(p("3000::")), NO_ROUTE);
        assert_eq!(t.lookup(p("1fff::")), NO_ROUTE);
        // A default route leaves no shared bits.
        let t = RangeTable::build(vec![(0u32, 0, 1), (v4([10, 0, 0, 0]), 8, 2)], NO_ROUTE);
        assert_eq!((t.skip, t.window), (0, (0, u32::MAX)));
        // Nor can more than the width less 16 be skipped.
        let t = RangeTable::build(vec![(v4([10, 1, 2, 3]), 32, 1)], NO_ROUTE);
        assert_eq!(
            (t.skip, t.window),
            (16, (v4([10, 1, 0, 0]), v4([10, 1, 255, 255])))
        );
        assert_eq!(
            [v4([10, 1, 2, 3]), v4([10, 1, 2, 4]), v4([10, 2, 2, 3])].map(|a| t.lookup(a)),
            [1, NO_ROUTE, NO_ROUTE]
        );
    }

    #[test]
    fn host_bits_and_last_addresses_follow_the_length() {
        assert!(v4([10, 1, 0, 0]).is_network(16));
        assert!(!v4([10, 1, 0, 1]).is_network(16));
        assert!(0u32.is_network(0) && u32::MAX.is_network(32));
        assert_eq!(v4([10, 1, 0, 0]).last(16), v4([10, 1, 255, 255]));
        assert_eq!(0u128.last(0), u128::MAX);
    }
}
