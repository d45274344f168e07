//! Rollup aggregation: flows grouped by the rollup keys and the time bucket, with `bytes`, `packets` and
//! `flows` summed.
//!
//! A group's key is its values laid end to end in a fixed number of bytes (the time bucket first, big-endian,
//! so that keys sort by time), and strings, lists and byte strings become ids into an interner. Keys are built
//! a column at a time into one reused buffer, then each row's slice is looked up in [`Groups`], which keeps
//! every group's key end to end in one arena: no allocation per row or per group, and columns are read
//! back from contiguous memory when the rows are taken out.

use std::hash::BuildHasher;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BinaryArray, FixedSizeBinaryArray, ListArray, PrimitiveArray, RecordBatch,
    StringArray,
};
use arrow::buffer::{Buffer, OffsetBuffer, ScalarBuffer};
use arrow::datatypes::{
    ArrowPrimitiveType, Schema, SchemaRef, TimestampNanosecondType, UInt8Type, UInt16Type, UInt32Type,
    UInt64Type,
};
use arrow::error::ArrowError;
use hashbrown::{DefaultHashBuilder, HashMap, HashTable};
use weir_flow::{COLUMNS, ColumnRef, FIELDS, FlowBatch, Kind};

use crate::convert::nanos;
use crate::schema::{TIME, is_rollup_key, list_item};

/// Where one group key column sits in a key.
#[derive(Debug)]
struct KeyColumn {
    name: &'static str,
    kind: Kind,
    /// Index in [`FIELDS`], to read the column of a [`FlowBatch`].
    field: usize,
    offset: usize,
}

/// The layout of a rollup's keys: 8 bytes of time bucket, then each group key column in schema order.
#[derive(Debug)]
struct KeyLayout {
    columns: Vec<KeyColumn>,
    width: usize,
}

impl KeyLayout {
    /// The keys of the rollup columns in `schema`.
    fn of(schema: &Schema) -> KeyLayout {
        let mut width = 8;
        let mut columns = Vec::new();
        for (field, c) in COLUMNS.iter().enumerate() {
            if is_rollup_key(c) && schema.field_with_name(c.name).is_ok() {
                columns.push(KeyColumn {
                    name: c.name,
                    kind: c.kind,
                    field,
                    offset: width,
                });
                width += key_width(c.kind);
            }
        }
        KeyLayout { columns, width }
    }
}

/// Bytes a value of `kind` takes in a key; variable-length values take a 4-byte interner id.
fn key_width(kind: Kind) -> usize {
    match kind {
        Kind::U8 => 1,
        Kind::U16 => 2,
        Kind::U32 | Kind::Str | Kind::U32List | Kind::Bytes => 4,
        Kind::U64 | Kind::Mac | Kind::Time => 8,
        Kind::Ip => 16,
    }
}

/// The summed columns of one group.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Sums {
    bytes: u64,
    packets: u64,
    flows: u64,
}

impl Sums {
    fn new(bytes: u64, packets: u64, flows: u64) -> Sums {
        Sums {
            bytes,
            packets,
            flows,
        }
    }

    fn add(&mut self, bytes: u64, packets: u64, flows: u64) {
        self.bytes = self.bytes.saturating_add(bytes);
        self.packets = self.packets.saturating_add(packets);
        self.flows = self.flows.saturating_add(flows);
    }
}

/// Variable-length key values (strings, lists as little-endian `u32`s, byte strings) by id.
#[derive(Debug, Default)]
struct Interner {
    values: Vec<Box<[u8]>>,
    ids: HashMap<Box<[u8]>, u32>,
}

impl Interner {
    fn id(&mut self, value: &[u8]) -> u32 {
        if let Some(&id) = self.ids.get(value) {
            return id;
        }
        let id = self.values.len() as u32;
        self.values.push(value.into());
        self.ids.insert(value.into(), id);
        id
    }

    fn get(&self, id: u32) -> &[u8] {
        self.values.get(id as usize).map_or(&[], |v| v)
    }
}

/// The groups of a rollup: keys of [`KeyLayout::width`] bytes end to end in one arena, their sums beside, and
/// a hash table of indices into both.
#[derive(Debug)]
struct Groups {
    width: usize,
    keys: Vec<u8>,
    sums: Vec<Sums>,
    /// Each group's hash, so that the table grows without hashing keys again.
    hashes: Vec<u64>,
    table: HashTable<u32>,
    hasher: DefaultHashBuilder,
}

impl Groups {
    fn new(width: usize) -> Groups {
        Groups {
            width,
            keys: Vec::new(),
            sums: Vec::new(),
            hashes: Vec::new(),
            table: HashTable::new(),
            hasher: DefaultHashBuilder::default(),
        }
    }

    fn len(&self) -> usize {
        self.sums.len()
    }

    fn key(&self, i: usize) -> &[u8] {
        let w = self.width;
        &self.keys[i * w..(i + 1) * w]
    }

    /// Adds sums to the group of `key`, making it if new.
    fn add(&mut self, key: &[u8], sums: Sums) {
        let hash = self.hasher.hash_one(key);
        let (keys, w) = (&self.keys, self.width);
        if let Some(&i) = self
            .table
            .find(hash, |&i| &keys[i as usize * w..(i as usize + 1) * w] == key)
        {
            let s = &mut self.sums[i as usize];
            s.add(sums.bytes, sums.packets, sums.flows);
            return;
        }
        let i = self.sums.len() as u32;
        self.keys.extend_from_slice(key);
        self.sums.push(sums);
        self.hashes.push(hash);
        let hashes = &self.hashes;
        self.table.insert_unique(hash, i, |&j| hashes[j as usize]);
    }

    /// The groups' indices sorted by key (time bucket first).
    fn sorted(&self) -> Vec<u32> {
        let mut order: Vec<u32> = (0..self.len() as u32).collect();
        order.sort_unstable_by(|&a, &b| self.key(a as usize).cmp(self.key(b as usize)));
        order
    }

    /// The groups' indices in time bucket order, and in the order they were made within a bucket. Flows come
    /// in about time order, so the groups mostly are already: a stable sort by the bucket alone takes a few
    /// passes where sorting whole keys compared every pair's bytes.
    fn by_bucket(&self) -> Vec<u32> {
        let bucket = |i: u32| u64::from_be_bytes(read(self.key(i as usize), 0));
        let mut order: Vec<(u64, u32)> = (0..self.len() as u32).map(|i| (bucket(i), i)).collect();
        order.sort_by_key(|&(b, _)| b);
        order.into_iter().map(|(_, i)| i).collect()
    }

    fn clear(&mut self) {
        self.keys.clear();
        self.sums.clear();
        self.hashes.clear();
        self.table.clear();
    }
}

/// Groups flows into rollup rows at one time resolution, keyed by the rollup columns of its schema.
#[derive(Debug)]
pub struct Rollup {
    resolution: u64,
    schema: SchemaRef,
    layout: Arc<KeyLayout>,
    groups: Groups,
    interner: Interner,
    /// The keys of the batch being added, `width` bytes per row.
    keys: Vec<u8>,
    /// One batch's pool handle -> interner id, `u32::MAX` until seen; pools are per batch, so this is reset
    /// for each batch.
    local: Vec<u32>,
    scratch: Vec<u8>,
}

impl Rollup {
    /// An empty rollup at `resolution_ns` nanoseconds (60e9 for one minute) whose rows have `schema` (see
    /// [`table_schema`](crate::schema::table_schema)): its rollup columns are the group keys.
    pub fn new(resolution_ns: u64, schema: SchemaRef) -> Self {
        let layout = Arc::new(KeyLayout::of(&schema));
        Self {
            resolution: resolution_ns.max(1),
            schema,
            groups: Groups::new(layout.width),
            layout,
            interner: Interner::default(),
            keys: Vec::new(),
            local: Vec::new(),
            scratch: Vec::new(),
        }
    }

    /// The resolution in nanoseconds.
    pub fn resolution(&self) -> u64 {
        self.resolution
    }

    /// The schema of its rows.
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// Number of groups held.
    pub fn len(&self) -> usize {
        self.groups.len()
    }

    /// Whether no group is held.
    pub fn is_empty(&self) -> bool {
        self.groups.len() == 0
    }

    fn bucket(&self, t: u64) -> u64 {
        t - t % self.resolution
    }

    /// Adds the flows of `batch`.
    pub fn add_flows(&mut self, batch: &FlowBatch) {
        let layout = self.layout.clone();
        let (n, w) = (batch.len(), layout.width);
        self.keys.clear();
        self.keys.resize(n * w, 0);
        let res = self.resolution;
        fill(&mut self.keys, w, 0, &batch.cols.time_received, |t| {
            let t = t.min(i64::MAX as u64);
            (t - t % res).to_be_bytes()
        });
        for kc in &layout.columns {
            let o = kc.offset;
            match batch.cols.get(FIELDS[kc.field]) {
                ColumnRef::Time(v) => fill(&mut self.keys, w, o, v, |t| nanos(t).to_le_bytes()),
                ColumnRef::U64(v) | ColumnRef::Mac(v) => fill(&mut self.keys, w, o, v, u64::to_le_bytes),
                ColumnRef::U8(v) => fill(&mut self.keys, w, o, v, u8::to_le_bytes),
                ColumnRef::U16(v) => fill(&mut self.keys, w, o, v, u16::to_le_bytes),
                ColumnRef::U32(v) => fill(&mut self.keys, w, o, v, u32::to_le_bytes),
                ColumnRef::Ip(v) => fill(&mut self.keys, w, o, v, |a| a.octets()),
                ColumnRef::Str(v) => {
                    self.local.clear();
                    for (row, s) in self.keys.chunks_exact_mut(w).zip(v) {
                        let id = local_id(&mut self.local, &mut self.interner, s.0, || {
                            batch.str(*s).as_bytes()
                        });
                        row[o..o + 4].copy_from_slice(&id.to_le_bytes());
                    }
                }
                ColumnRef::Bytes(v) => {
                    self.local.clear();
                    for (row, b) in self.keys.chunks_exact_mut(w).zip(v) {
                        let id = local_id(&mut self.local, &mut self.interner, b.0, || batch.blob(*b));
                        row[o..o + 4].copy_from_slice(&id.to_le_bytes());
                    }
                }
                ColumnRef::U32List(v) => {
                    self.local.clear();
                    for (row, l) in self.keys.chunks_exact_mut(w).zip(v) {
                        let i = l.0 as usize;
                        if self.local.len() <= i {
                            self.local.resize(i + 1, u32::MAX);
                        }
                        if self.local[i] == u32::MAX {
                            list_bytes(&mut self.scratch, batch.list(*l));
                            self.local[i] = self.interner.id(&self.scratch);
                        }
                        row[o..o + 4].copy_from_slice(&self.local[i].to_le_bytes());
                    }
                }
            }
        }
        let c = &batch.cols;
        for (i, key) in self.keys.chunks_exact(w).enumerate() {
            self.groups
                .add(key, Sums::new(c.bytes[i], c.packets[i], c.flows[i]));
        }
    }

    /// Adds the rows of a record batch of the raw or a rollup schema (columns are found by name), e.g. rows
    /// read back from files being merged, or a finer rollup's rows to roll up further.
    pub fn add_record_batch(&mut self, rb: &RecordBatch) -> Result<(), ArrowError> {
        let layout = self.layout.clone();
        let (n, w) = (rb.num_rows(), layout.width);
        self.keys.clear();
        self.keys.resize(n * w, 0);
        let times = column(rb, TIME)?;
        let times = typed::<TimestampNanosecondType>(TIME, times)?;
        let res = self.resolution;
        fill(&mut self.keys, w, 0, times.values(), |t| {
            let t = u64::try_from(t).unwrap_or(0);
            (t - t % res).to_be_bytes()
        });
        for kc in &layout.columns {
            let (o, name) = (kc.offset, kc.name);
            let array = column(rb, name)?;
            match kc.kind {
                Kind::Time => {
                    let v = typed::<TimestampNanosecondType>(name, array)?;
                    fill(&mut self.keys, w, o, v.values(), i64::to_le_bytes)
                }
                Kind::U64 | Kind::Mac => fill(
                    &mut self.keys,
                    w,
                    o,
                    typed::<UInt64Type>(name, array)?.values(),
                    u64::to_le_bytes,
                ),
                Kind::U8 => fill(
                    &mut self.keys,
                    w,
                    o,
                    typed::<UInt8Type>(name, array)?.values(),
                    u8::to_le_bytes,
                ),
                Kind::U16 => fill(
                    &mut self.keys,
                    w,
                    o,
                    typed::<UInt16Type>(name, array)?.values(),
                    u16::to_le_bytes,
                ),
                Kind::U32 => fill(
                    &mut self.keys,
                    w,
                    o,
                    typed::<UInt32Type>(name, array)?.values(),
                    u32::to_le_bytes,
                ),
                Kind::Ip => {
                    let v = array
                        .as_fixed_size_binary_opt()
                        .ok_or_else(|| mistyped(name, array))?;
                    for (i, row) in self.keys.chunks_exact_mut(w).enumerate() {
                        row[o..o + 16].copy_from_slice(v.value(i));
                    }
                }
                Kind::Str => {
                    let v = array
                        .as_string_opt::<i32>()
                        .ok_or_else(|| mistyped(name, array))?;
                    for (i, row) in self.keys.chunks_exact_mut(w).enumerate() {
                        let id = self.interner.id(v.value(i).as_bytes());
                        row[o..o + 4].copy_from_slice(&id.to_le_bytes());
                    }
                }
                Kind::Bytes => {
                    let v = array
                        .as_binary_opt::<i32>()
                        .ok_or_else(|| mistyped(name, array))?;
                    for (i, row) in self.keys.chunks_exact_mut(w).enumerate() {
                        let id = self.interner.id(v.value(i));
                        row[o..o + 4].copy_from_slice(&id.to_le_bytes());
                    }
                }
                Kind::U32List => {
                    let v = array.as_list_opt::<i32>().ok_or_else(|| mistyped(name, array))?;
                    let items = typed::<UInt32Type>(name, v.values())?.values();
                    for (i, row) in self.keys.chunks_exact_mut(w).enumerate() {
                        let (a, b) = (v.value_offsets()[i] as usize, v.value_offsets()[i + 1] as usize);
                        list_bytes(&mut self.scratch, &items[a..b]);
                        let id = self.interner.id(&self.scratch);
                        row[o..o + 4].copy_from_slice(&id.to_le_bytes());
                    }
                }
            }
        }
        let sum = |name: &'static str| {
            column(rb, name)
                .and_then(|a| typed::<UInt64Type>(name, a))
                .map(|a| a.values())
        };
        let (bytes, packets, flows) = (sum("bytes")?, sum("packets")?, sum("flows")?);
        for (i, key) in self.keys.chunks_exact(w).enumerate() {
            self.groups.add(key, Sums::new(bytes[i], packets[i], flows[i]));
        }
        Ok(())
    }

    /// Whether [`roll_into`](Self::roll_into) can feed `coarser`: its resolution is a multiple of this
    /// one's and its keys are among this one's.
    pub fn can_roll_into(&self, coarser: &Rollup) -> bool {
        coarser.resolution.is_multiple_of(self.resolution)
            && coarser
                .layout
                .columns
                .iter()
                .all(|c| self.layout.columns.iter().any(|f| f.field == c.field))
    }

    /// Adds this rollup's groups to `coarser`, which [`can_roll_into`](Self::can_roll_into) accepts: what
    /// [`add_record_batch`](Self::add_record_batch) of this rollup's rows would do, without making them.
    /// Each of `coarser`'s key columns is copied from this rollup's key; a column this rollup lacks would
    /// read as zero.
    pub fn roll_into(&self, coarser: &mut Rollup) {
        // Where each of the coarser key's columns comes from in this rollup's key.
        let moves: Vec<(usize, usize, usize, bool)> = coarser
            .layout
            .columns
            .iter()
            .filter_map(|c| {
                let from = self.layout.columns.iter().find(|f| f.field == c.field)?;
                let interned = matches!(c.kind, Kind::Str | Kind::Bytes | Kind::U32List);
                Some((from.offset, c.offset, key_width(c.kind), interned))
            })
            .collect();
        // This rollup's interner ids -> the coarser one's, as they are first seen.
        let mut ids: Vec<u32> = Vec::new();
        let mut key = vec![0; coarser.layout.width];
        for i in 0..self.groups.len() {
            let finer = self.groups.key(i);
            let bucket = coarser.bucket(u64::from_be_bytes(read(finer, 0)));
            key[..8].copy_from_slice(&bucket.to_be_bytes());
            for &(from, to, width, interned) in &moves {
                if interned {
                    let id = u32::from_le_bytes(read(finer, from));
                    let id = local_id(&mut ids, &mut coarser.interner, id, || self.interner.get(id));
                    key[to..to + 4].copy_from_slice(&id.to_le_bytes());
                } else {
                    key[to..to + width].copy_from_slice(&finer[from..from + width]);
                }
            }
            coarser.groups.add(&key, self.groups.sums[i]);
        }
    }

    /// Takes every group out as rows of the rollup's schema, in time bucket order, and forgets the interned
    /// values.
    pub fn finish(&mut self) -> Result<RecordBatch, ArrowError> {
        let rb = self.to_record_batch(&self.groups.by_bucket());
        self.groups.clear();
        self.interner = Interner::default();
        rb
    }

    /// Takes out the groups of time buckets that start before `time_ns` (which no later input can add to when
    /// inputs come in time order), as rows of the rollup's schema sorted by time bucket.
    pub fn take_before(&mut self, time_ns: u64) -> Result<RecordBatch, ArrowError> {
        let cut = self.bucket(time_ns).to_be_bytes();
        let order = self.groups.sorted();
        let before = order.partition_point(|&i| self.groups.key(i as usize)[..8] < cut[..]);
        let rb = self.to_record_batch(&order[..before])?;
        // The groups that stay are laid out again, in key order.
        let old = std::mem::replace(&mut self.groups, Groups::new(self.layout.width));
        for &i in &order[before..] {
            self.groups.add(old.key(i as usize), old.sums[i as usize]);
        }
        Ok(rb)
    }

    /// The groups at `order`, as rows of the rollup's schema.
    fn to_record_batch(&self, order: &[u32]) -> Result<RecordBatch, ArrowError> {
        // Gathered once in order, the keys are then read column by column from contiguous memory rather
        // than from all over the arena, which made this several times slower than the sort itself.
        let layout = &*self.layout;
        let mut gathered = Vec::with_capacity(order.len() * layout.width);
        order
            .iter()
            .for_each(|&i| gathered.extend_from_slice(self.groups.key(i as usize)));
        let keys: Vec<&[u8]> = gathered.chunks_exact(layout.width).collect();
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(layout.columns.len() + 4);
        arrays.push(Arc::new(primitive::<TimestampNanosecondType>(
            keys.iter().map(|k| i64::from_be_bytes(read(k, 0))).collect(),
        )));
        for kc in &layout.columns {
            let o = kc.offset;
            let array: ArrayRef = match kc.kind {
                Kind::Time => Arc::new(primitive::<TimestampNanosecondType>(
                    keys.iter().map(|k| i64::from_le_bytes(read(k, o))).collect(),
                )),
                Kind::U8 => Arc::new(primitive::<UInt8Type>(keys.iter().map(|k| k[o]).collect())),
                Kind::U16 => Arc::new(primitive::<UInt16Type>(
                    keys.iter().map(|k| u16::from_le_bytes(read(k, o))).collect(),
                )),
                Kind::U32 => Arc::new(primitive::<UInt32Type>(
                    keys.iter().map(|k| u32::from_le_bytes(read(k, o))).collect(),
                )),
                Kind::U64 | Kind::Mac => Arc::new(primitive::<UInt64Type>(
                    keys.iter().map(|k| u64::from_le_bytes(read(k, o))).collect(),
                )),
                Kind::Ip => {
                    let bytes: Vec<u8> = keys.iter().flat_map(|k| &k[o..o + 16]).copied().collect();
                    Arc::new(FixedSizeBinaryArray::new(16, Buffer::from_vec(bytes), None))
                }
                Kind::Str => {
                    let (offsets, values) = self.resolve(&keys, o)?;
                    Arc::new(StringArray::try_new(offsets, values, None)?)
                }
                Kind::Bytes => {
                    let (offsets, values) = self.resolve(&keys, o)?;
                    Arc::new(BinaryArray::try_new(offsets, values, None)?)
                }
                Kind::U32List => {
                    let (offsets, values) = self.resolve(&keys, o)?;
                    let items: Vec<u32> = values
                        .chunks_exact(4)
                        .map(|c| u32::from_le_bytes(read(c, 0)))
                        .collect();
                    let offsets = OffsetBuffer::new(offsets.iter().map(|&x| x / 4).collect());
                    let items = Arc::new(primitive::<UInt32Type>(items));
                    Arc::new(ListArray::try_new(list_item(), offsets, items, None)?)
                }
            };
            arrays.push(array);
        }
        let sums: [fn(&Sums) -> u64; 3] = [|s| s.bytes, |s| s.packets, |s| s.flows];
        for sum in sums {
            arrays.push(Arc::new(primitive::<UInt64Type>(
                order
                    .iter()
                    .map(|&i| sum(&self.groups.sums[i as usize]))
                    .collect(),
            )));
        }
        RecordBatch::try_new(self.schema.clone(), arrays)
    }

    /// The interned values at offset `o` of each key, laid end to end.
    fn resolve(&self, keys: &[&[u8]], o: usize) -> Result<(OffsetBuffer<i32>, Buffer), ArrowError> {
        let mut offsets = Vec::with_capacity(keys.len() + 1);
        offsets.push(0i32);
        // Never an empty allocation: see `files::allocated_values` for what a dangling pointer costs.
        let mut values = Vec::with_capacity(keys.len().max(1));
        for k in keys {
            values.extend_from_slice(self.interner.get(u32::from_le_bytes(read(k, o))));
            let end = i32::try_from(values.len())
                .map_err(|_| ArrowError::InvalidArgumentError("rollup values exceed 2 GiB".into()))?;
            offsets.push(end);
        }
        Ok((
            OffsetBuffer::new(ScalarBuffer::from(offsets)),
            Buffer::from_vec(values),
        ))
    }
}

/// Writes `f(value)` at `offset` of each row's key.
fn fill<T: Copy, const N: usize>(
    keys: &mut [u8],
    width: usize,
    offset: usize,
    values: &[T],
    f: impl Fn(T) -> [u8; N],
) {
    for (row, &v) in keys.chunks_exact_mut(width).zip(values) {
        row[offset..offset + N].copy_from_slice(&f(v));
    }
}

/// The interner id of `handle` (a pool handle of the current batch, or a finer rollup's interner id), resolving
/// and interning it on first sight.
fn local_id<'a>(
    local: &mut Vec<u32>,
    interner: &mut Interner,
    handle: u32,
    value: impl FnOnce() -> &'a [u8],
) -> u32 {
    let i = handle as usize;
    if local.len() <= i {
        local.resize(i + 1, u32::MAX);
    }
    if local[i] == u32::MAX {
        local[i] = interner.id(value());
    }
    local[i]
}

fn list_bytes(out: &mut Vec<u8>, items: &[u32]) {
    out.clear();
    items.iter().for_each(|x| out.extend_from_slice(&x.to_le_bytes()));
}

fn read<const N: usize>(bytes: &[u8], offset: usize) -> [u8; N] {
    let mut out = [0; N];
    out.copy_from_slice(&bytes[offset..offset + N]);
    out
}

fn primitive<T: ArrowPrimitiveType>(values: Vec<T::Native>) -> PrimitiveArray<T> {
    PrimitiveArray::new(ScalarBuffer::from(values), None)
}

fn column<'a>(rb: &'a RecordBatch, name: &str) -> Result<&'a ArrayRef, ArrowError> {
    rb.column_by_name(name)
        .ok_or_else(|| ArrowError::SchemaError(format!("column {name} is missing")))
}

fn mistyped(name: &str, array: &dyn Array) -> ArrowError {
    ArrowError::SchemaError(format!("column {name} has type {}", array.data_type()))
}

fn typed<'a, T: ArrowPrimitiveType>(
    name: &str,
    array: &'a dyn Array,
) -> Result<&'a PrimitiveArray<T>, ArrowError> {
    array.as_primitive_opt::<T>().ok_or_else(|| mistyped(name, array))
}

#[cfg(test)]
mod tests {
    use weir_flow::{FlowRecord, ipv4};

    use super::*;
    use crate::convert::to_record_batch;
    use crate::schema::{rollup_schema, table_schema};

    const MINUTE: u64 = 60_000_000_000;
    const HOUR: u64 = 60 * MINUTE;

    /// Flows over two hours from two exporters and a few interfaces and apps.
    fn flows() -> FlowBatch {
        let mut b = FlowBatch::new();
        for i in 0..5_000u64 {
            let app = b.intern(["https", "dns", "ssh"][(i % 3) as usize]);
            let path = b.push_list(&[64512, (i % 4) as u32]);
            b.push(&FlowRecord {
                time_received: 1_700_000_000_000_000_000 + i * 1_500_000_000,
                exporter_addr: ipv4([192, 0, 2, (i % 2) as u8 + 1]),
                in_if: (i % 5) as u32,
                app,
                dst_as_path: path,
                src_port: (i % 50_000) as u16,
                bytes: 40 + i % 1400,
                packets: 1 + i % 7,
                flows: 1 + i % 2,
                ..FlowRecord::default()
            });
        }
        b
    }

    fn u64s(rb: &RecordBatch, name: &str) -> Vec<u64> {
        rb.column_by_name(name)
            .map_or(vec![], |a| a.as_primitive::<UInt64Type>().values().to_vec())
    }

    fn times(rb: &RecordBatch) -> Vec<i64> {
        rb.column_by_name(TIME).map_or(vec![], |a| {
            a.as_primitive::<TimestampNanosecondType>().values().to_vec()
        })
    }

    #[test]
    fn rollup_sums_equal_raw_sums() {
        let b = flows();
        let mut r = Rollup::new(MINUTE, rollup_schema());
        r.add_flows(&b);
        let rb = r.finish().unwrap();
        assert_eq!(rb.schema(), rollup_schema());
        for (name, raw) in [
            ("bytes", &b.cols.bytes),
            ("packets", &b.cols.packets),
            ("flows", &b.cols.flows),
        ] {
            assert_eq!(
                u64s(&rb, name).iter().sum::<u64>(),
                raw.iter().sum::<u64>(),
                "{name}"
            );
        }
        assert!(r.is_empty());
    }

    #[test]
    fn groups_by_keys_and_floored_time() {
        let b = flows();
        let mut r = Rollup::new(HOUR, rollup_schema());
        r.add_flows(&b);
        let rb = r.finish().unwrap();
        // 5 000 flows 1.5 s apart span three clock hours; i % 30 fixes exporter, interface and app.
        let hours: std::collections::BTreeSet<i64> = times(&rb).into_iter().collect();
        assert_eq!(hours.len(), 3);
        assert!(hours.iter().all(|&t| (t as u64).is_multiple_of(HOUR)));
        assert_eq!(rb.num_rows(), 3 * 30);
        assert!(times(&rb).is_sorted());
        let apps = rb.column_by_name("app").unwrap().as_string::<i32>();
        let ifs = rb.column_by_name("in_if").unwrap().as_primitive::<UInt32Type>();
        let exporters = rb.column_by_name("exporter_addr").unwrap().as_fixed_size_binary();
        // The expected sum of one group (flow i % 30 == 7 in the first hour), computed from the flows.
        let first_hour = *hours.first().unwrap() as u64;
        let want: u64 = (0..5_000u64)
            .filter(|i| i % 30 == 7 && b.cols.time_received[*i as usize] < first_hour + HOUR)
            .map(|i| b.cols.bytes[i as usize])
            .sum();
        let row = (0..rb.num_rows())
            .find(|&i| {
                times(&rb)[i] == *hours.first().unwrap()
                    && apps.value(i) == "dns"
                    && ifs.value(i) == 2
                    && exporters.value(i) == ipv4([192, 0, 2, 2]).octets()
            })
            .unwrap();
        assert_eq!(u64s(&rb, "bytes")[row], want);
    }

    #[test]
    fn record_batches_roll_up_like_flow_batches() {
        let b = flows();
        let mut from_flows = Rollup::new(MINUTE, rollup_schema());
        from_flows.add_flows(&b);
        let mut from_rows = Rollup::new(MINUTE, rollup_schema());
        from_rows.add_record_batch(&to_record_batch(&b).unwrap()).unwrap();
        assert_eq!(from_flows.finish().unwrap(), from_rows.finish().unwrap());
    }

    #[test]
    fn minutes_roll_up_into_the_same_hours_as_flows() {
        let b = flows();
        let mut minutes = Rollup::new(MINUTE, rollup_schema());
        minutes.add_flows(&b);
        let mut hours = Rollup::new(HOUR, rollup_schema());
        hours.add_record_batch(&minutes.finish().unwrap()).unwrap();
        let mut direct = Rollup::new(HOUR, rollup_schema());
        direct.add_flows(&b);
        assert_eq!(hours.finish().unwrap(), direct.finish().unwrap());
    }

    #[test]
    fn minutes_rolled_into_hours_equal_hours_of_the_flows() {
        let b = flows();
        // Two halves, rolled up apart: their interners number the apps differently.
        let mut hours = Rollup::new(HOUR, rollup_schema());
        for half in [0..2_500, 2_500..b.len()] {
            let mut part = FlowBatch::new();
            half.for_each(|i| part.push_from(&b, i));
            let mut minutes = Rollup::new(MINUTE, rollup_schema());
            minutes.add_flows(&part);
            minutes.roll_into(&mut hours);
        }
        let mut direct = Rollup::new(HOUR, rollup_schema());
        direct.add_flows(&b);
        assert_eq!(hours.finish().unwrap(), direct.finish().unwrap());
    }

    #[test]
    fn wide_minutes_roll_into_narrow_hours_but_not_back() {
        let b = flows();
        let keys = [weir_flow::Field::exporter_addr, weir_flow::Field::app];
        let narrow = || table_schema(&weir_query::plan::Table::rollup_of("n", 3600, &keys, None));
        let mut minutes = Rollup::new(MINUTE, rollup_schema());
        minutes.add_flows(&b);
        let mut hours = Rollup::new(HOUR, narrow());
        assert!(minutes.can_roll_into(&hours));
        assert!(!hours.can_roll_into(&Rollup::new(HOUR, rollup_schema())));
        assert!(!minutes.can_roll_into(&Rollup::new(MINUTE / 2, narrow())));
        minutes.roll_into(&mut hours);
        let mut direct = Rollup::new(HOUR, narrow());
        direct.add_flows(&b);
        let (rolled, direct) = (hours.finish().unwrap(), direct.finish().unwrap());
        // Three hours, two exporters, three apps; the interfaces are summed away.
        assert_eq!(rolled.num_rows(), 3 * 2 * 3);
        assert_eq!(rolled, direct);
        assert_eq!(
            u64s(&rolled, "bytes").iter().sum::<u64>(),
            b.cols.bytes.iter().sum::<u64>()
        );
    }

    #[test]
    fn takes_out_only_buckets_before_a_time() {
        let b = flows();
        let mut r = Rollup::new(HOUR, rollup_schema());
        r.add_flows(&b);
        let all = r.len();
        let start = b.cols.time_received[0];
        let first = r.take_before(start - start % HOUR + HOUR).unwrap();
        assert_eq!(first.num_rows(), 30);
        assert_eq!(r.len(), all - 30);
        let rest = r.finish().unwrap();
        assert!(times(&first).iter().max() < times(&rest).iter().min());
    }

    #[test]
    fn rejects_a_batch_without_the_rollup_columns() {
        let rb = to_record_batch(&flows()).unwrap();
        let rb = rb.project(&[0, 1]).unwrap();
        let err = Rollup::new(MINUTE, rollup_schema())
            .add_record_batch(&rb)
            .unwrap_err();
        assert!(err.to_string().contains("exporter_addr"), "{err}");
    }
}
