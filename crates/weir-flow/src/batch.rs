//! [`FlowBatch`]: flows in columns, the unit every stage after the decoder passes along.

use std::collections::HashMap;

use crate::schema::{Columns, FlowRecord};

/// A string interned in one batch's dictionary. `Sym::EMPTY` is the empty string in every batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Sym(pub u32);

impl Sym {
    /// The empty string.
    pub const EMPTY: Sym = Sym(0);
}

/// A list of `u32` in one batch's list pool. `ListRef::EMPTY` is the empty list in every batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct ListRef(pub u32);

impl ListRef {
    /// The empty list.
    pub const EMPTY: ListRef = ListRef(0);
}

/// Bytes in one batch's blob pool. `Blob::EMPTY` is no bytes in every batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Blob(pub u32);

impl Blob {
    /// No bytes.
    pub const EMPTY: Blob = Blob(0);
}

/// Interned strings: flows repeat the same few interface names, countries and AS names, so a batch stores
/// each once (as Arrow's dictionary arrays and Parquet's dictionary pages will).
#[derive(Debug, Clone, PartialEq)]
struct Dictionary {
    values: Vec<Box<str>>,
    index: HashMap<Box<str>, u32>,
}

impl Default for Dictionary {
    fn default() -> Self {
        Self {
            values: vec!["".into()],
            index: HashMap::from([("".into(), 0)]),
        }
    }
}

/// Variable-length values (lists of `u32`, byte strings) stored end to end with offsets, Arrow-style.
/// Entry 0 is always the empty value.
#[derive(Debug, Clone, PartialEq)]
struct Pool<T> {
    offsets: Vec<u32>,
    values: Vec<T>,
}

impl<T: Copy> Default for Pool<T> {
    fn default() -> Self {
        Self {
            offsets: vec![0, 0],
            values: Vec::new(),
        }
    }
}

impl<T: Copy> Pool<T> {
    fn push(&mut self, items: &[T]) -> u32 {
        if items.is_empty() {
            return 0;
        }
        self.values.extend_from_slice(items);
        self.offsets.push(self.values.len() as u32);
        (self.offsets.len() - 2) as u32
    }

    fn get(&self, id: u32) -> &[T] {
        let i = id as usize;
        match (self.offsets.get(i), self.offsets.get(i + 1)) {
            (Some(&a), Some(&b)) => &self.values[a as usize..b as usize],
            _ => &[],
        }
    }

    fn clear(&mut self) {
        self.offsets.truncate(2);
        self.values.clear();
    }
}

/// Flows in columns: one vector per schema field (see [`crate::COLUMNS`]), plus the pools that strings, lists
/// and bytes point into.
///
/// Decoders fill a [`FlowRecord`] on the stack and [`push`](Self::push) it; consumers read `cols` directly.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FlowBatch {
    /// The columns, all of length [`len`](Self::len).
    pub cols: Columns,
    strings: Dictionary,
    lists: Pool<u32>,
    blobs: Pool<u8>,
}

impl FlowBatch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty batch with room for `rows` flows.
    pub fn with_capacity(rows: usize) -> Self {
        let mut b = Self::default();
        b.cols.reserve(rows);
        b
    }

    /// Number of flows.
    pub fn len(&self) -> usize {
        self.cols.time_received.len()
    }

    /// Whether the batch holds no flows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends one flow.
    #[inline]
    pub fn push(&mut self, record: &FlowRecord) {
        self.cols.push(record);
    }

    /// Appends flows column by column: one length update per column rather than per value, so a decoder
    /// that stages a datagram's worth of flows adds them faster than by pushing them one by one.
    pub fn extend(&mut self, records: &[FlowRecord]) {
        self.cols.extend(records);
    }

    /// Appends `n` copies of one flow, column by column: a decoder that fills columns itself starts the rows
    /// it is about to write from what they share.
    pub fn extend_repeat(&mut self, record: &FlowRecord, n: usize) {
        self.cols.extend_repeat(record, n);
    }

    /// The flow at row `i`, copied out.
    pub fn row(&self, i: usize) -> Option<FlowRecord> {
        self.cols.row(i)
    }

    /// Drops rows from `len` on, for a decoder that must undo a partly written record set.
    /// Pool entries those rows used stay until [`clear`](Self::clear); they are unreachable, not wrong.
    pub fn truncate(&mut self, len: usize) {
        self.cols.truncate(len);
    }

    /// Removes every flow and pooled value, keeping the allocations.
    pub fn clear(&mut self) {
        self.cols.clear();
        self.strings = Dictionary::default();
        self.lists.clear();
        self.blobs.clear();
    }

    /// Interns a string for a [`Kind::Str`](crate::Kind::Str) field.
    pub fn intern(&mut self, s: &str) -> Sym {
        if let Some(&i) = self.strings.index.get(s) {
            return Sym(i);
        }
        let i = self.strings.values.len() as u32;
        self.strings.values.push(s.into());
        self.strings.index.insert(s.into(), i);
        Sym(i)
    }

    /// The string behind `sym`; empty for a symbol of another batch that is out of range.
    pub fn str(&self, sym: Sym) -> &str {
        self.strings.values.get(sym.0 as usize).map_or("", |s| s)
    }

    /// Stores a list for a [`Kind::U32List`](crate::Kind::U32List) field.
    pub fn push_list(&mut self, items: &[u32]) -> ListRef {
        ListRef(self.lists.push(items))
    }

    /// The list behind `r`.
    pub fn list(&self, r: ListRef) -> &[u32] {
        self.lists.get(r.0)
    }

    /// Stores bytes for a [`Kind::Bytes`](crate::Kind::Bytes) field.
    pub fn push_blob(&mut self, bytes: &[u8]) -> Blob {
        Blob(self.blobs.push(bytes))
    }

    /// The bytes behind `b`.
    pub fn blob(&self, b: Blob) -> &[u8] {
        self.blobs.get(b.0)
    }

    /// Appends row `i` of `other`, re-interning its strings, lists and bytes into this batch's pools.
    pub fn push_from(&mut self, other: &FlowBatch, i: usize) {
        let Some(mut r) = other.row(i) else { return };
        macro_rules! remap {
            (str: $($f:ident),*; list: $($l:ident),*; blob: $($b:ident),*) => {
                $(r.$f = self.intern(other.str(r.$f));)*
                $(r.$l = self.push_list(other.list(r.$l));)*
                $(r.$b = self.push_blob(other.blob(r.$b));)*
            };
        }
        remap!(
            str: exporter_name, in_if_name, out_if_name, src_country, dst_country, src_as_name, dst_as_name,
                 src_domain, dst_domain, app, threat;
            list: dst_as_path, dst_communities;
            blob: extra_fields
        );
        self.push(&r);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{COLUMNS, ColumnRef, FIELDS, Kind};

    #[test]
    fn pools_return_what_was_stored() {
        let mut b = FlowBatch::new();
        let a = b.intern("Gi0/0/1");
        assert_eq!(b.intern("Gi0/0/1"), a);
        assert_eq!(b.str(a), "Gi0/0/1");
        assert_eq!(b.str(Sym::EMPTY), "");
        let l = b.push_list(&[64512, 3356, 15169]);
        assert_eq!(b.list(l), &[64512, 3356, 15169]);
        assert_eq!(b.list(ListRef::EMPTY), &[] as &[u32]);
        assert_eq!(b.push_list(&[]), ListRef::EMPTY);
        let x = b.push_blob(b"\x01\x02");
        assert_eq!(b.blob(x), b"\x01\x02");
        assert_eq!(b.blob(Blob(99)), b"");
    }

    #[test]
    fn extending_appends_the_same_rows_as_pushing() {
        let mut rows = [FlowRecord::default(); 2];
        (rows[0].bytes, rows[0].packets) = (1500, 1);
        (rows[1].bytes, rows[1].packets, rows[1].src_port) = (40, 1, 443);
        let mut pushed = FlowBatch::new();
        rows.iter().for_each(|r| pushed.push(r));
        let mut extended = FlowBatch::new();
        extended.extend(&rows);
        extended.extend(&[]);
        assert_eq!(extended, pushed);
    }

    #[test]
    fn repeating_a_flow_appends_the_same_rows_as_pushing_it() {
        let r = FlowRecord {
            bytes: 40,
            src_port: 53,
            ..FlowRecord::default()
        };
        let mut pushed = FlowBatch::new();
        (0..3).for_each(|_| pushed.push(&r));
        let mut repeated = FlowBatch::new();
        repeated.extend_repeat(&r, 3);
        assert_eq!(repeated, pushed);
    }

    #[test]
    fn every_column_grows_with_each_push() {
        let mut b = FlowBatch::new();
        let r = FlowRecord {
            bytes: 1500,
            packets: 1,
            ..FlowRecord::default()
        };
        b.push(&r);
        b.push(&r);
        assert_eq!(FIELDS.len(), COLUMNS.len());
        for (&f, c) in FIELDS.iter().zip(COLUMNS) {
            let len = match b.cols.get(f) {
                ColumnRef::Time(v) | ColumnRef::U64(v) | ColumnRef::Mac(v) => v.len(),
                ColumnRef::U8(v) => v.len(),
                ColumnRef::U16(v) => v.len(),
                ColumnRef::U32(v) => v.len(),
                ColumnRef::Ip(v) => v.len(),
                ColumnRef::Str(v) => v.len(),
                ColumnRef::U32List(v) => v.len(),
                ColumnRef::Bytes(v) => v.len(),
            };
            assert_eq!(len, 2, "column {}", c.name);
            assert_eq!(f.column().name, c.name);
            let _: Kind = c.kind;
        }
        assert_eq!(b.row(1), Some(r));
        b.truncate(1);
        assert_eq!(b.len(), 1);
    }

    #[test]
    fn push_from_reinterns_pooled_values() {
        let mut a = FlowBatch::new();
        let name = a.intern("xe-0/0/0");
        let path = a.push_list(&[1, 2, 3]);
        a.push(&FlowRecord {
            in_if_name: name,
            dst_as_path: path,
            ..FlowRecord::default()
        });
        let mut b = FlowBatch::new();
        b.intern("something else");
        b.push_from(&a, 0);
        let r = b.row(0).unwrap();
        assert_eq!(b.str(r.in_if_name), "xe-0/0/0");
        assert_eq!(b.list(r.dst_as_path), &[1, 2, 3]);
    }
}
