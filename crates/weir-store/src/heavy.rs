//! Each file's heaviest keys of its busiest dimensions (source and destination addresses, subnet pairs),
//! kept in its footer, so that a top-N of them need not group every key of a range.
//!
//! An hour of a busy network holds hundreds of thousands of distinct addresses, and grouping them all is
//! most of the time of a top-talkers report. While a file is written, its rows' traffic is summed per key
//! of each listed dimension ([`LISTS`]); when it is committed, the footer gets, for each, the [`KEEP`]
//! heaviest keys by bytes, by packets and by flows (one list, their union), and for each metric the most
//! traffic any key outside the list has in the file. A key that is in no list of the files over a range has
//! at most the sum of their bounds there, so a top-N ranked among the listed keys is the true one when its
//! last row has more (`weir_query::backend::HeavyKeys`). Every file carries lists of its own rows, so
//! merging files, or a merge that has not happened yet, never makes a bound wrong.
//!
//! The sums are bounded: a file with more than [`MAX_TRACKED`] keys in a dimension gets no list for it,
//! and queries over it rank every key, as they do over files written before lists existed. Subnet pairs
//! are listed in merged files only: nearly every flow of a flush has a pair of its own, and summing them
//! cost the flush thread (the collector's busiest) 0.4 to 0.8 µs a flow, where addresses cost 0.15 µs. A
//! range over unmerged parts (the current hour) ranks every pair.

use std::collections::HashMap;
use std::fmt::Write;

use arrow::array::{AsArray, PrimitiveArray, RecordBatch};
use arrow::datatypes::{Schema, UInt8Type, UInt32Type, UInt64Type};
use hashbrown::DefaultHashBuilder;
use parquet::file::metadata::KeyValue;
use weir_query::plan::{DEFAULT_V4_PREFIX, DEFAULT_V6_PREFIX, Metric, NET_KEY_LEN, net, net_key};

/// The subnet pairs' dimensions, as the planner names them.
pub const PAIRS: &str = "src_net,dst_net";
/// The dimensions listed, as the planner names them (a tuple joined by commas).
pub const LISTS: [&str; 3] = ["src_addr", "dst_addr", PAIRS];
/// Bytes of a subnet pair's key: its two network keys.
const KEY_LEN: usize = 2 * NET_KEY_LEN;
/// The heaviest addresses kept by each metric.
pub const KEEP: usize = 256;
/// Most distinct keys summed per dimension and file (about 130 MB of sums at most); a file with more gets
/// no list for the dimension.
pub const MAX_TRACKED: usize = 1 << 21;
/// The footer key of a field's list is this followed by the field's name.
const KEY_PREFIX: &str = "weir.heavy.";
/// The list's format, its first word.
const FORMAT: &str = "1";

/// One address's traffic: bytes and packets scaled by the sampling rate, and flows.
type Traffic = [u64; 3];

/// A file's list for one dimension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct List {
    /// The most bytes, packets and flows any key outside `keys` has in the file.
    pub bounds: [u64; 3],
    /// The heaviest keys: addresses as IPv6 octets (IPv4 mapped), subnet pairs as two network keys
    /// (`weir_query::plan::net_key`).
    pub keys: Vec<Vec<u8>>,
}

impl List {
    /// The bound for `metric`.
    pub fn bound(&self, metric: Metric) -> u64 {
        self.bounds[slot(metric)]
    }
}

/// Where a metric's traffic is in [`Traffic`] and [`List::bounds`].
fn slot(metric: Metric) -> usize {
    match metric {
        Metric::Bytes => 0,
        Metric::Packets => 1,
        Metric::Flows => 2,
    }
}

/// The traffic of each key of `N` bytes.
type Map<const N: usize> = HashMap<[u8; N], Traffic, DefaultHashBuilder>;

/// The traffic of each key of one dimension, in a table keyed by exactly the key's bytes: hashing and
/// comparing padding cost a flush as much as the addresses themselves.
#[derive(Debug)]
enum Sums {
    Addr(Map<16>),
    NetPair(Map<KEY_LEN>),
}

impl Sums {
    /// Empty sums for the listed dimension `name` if the schema has its columns (`has`); for subnet pairs
    /// only if `pairs`.
    fn for_list(name: &str, has: impl Fn(&str) -> bool, pairs: bool) -> Option<Sums> {
        match name {
            PAIRS => (pairs
                && ["src_addr", "src_mask", "dst_addr", "dst_mask"]
                    .into_iter()
                    .all(has))
            .then(|| Sums::NetPair(Map::default())),
            addr => has(addr).then(|| Sums::Addr(Map::default())),
        }
    }

    fn len(&self) -> usize {
        match self {
            Sums::Addr(m) => m.len(),
            Sums::NetPair(m) => m.len(),
        }
    }

    fn heaviest(self) -> List {
        match self {
            Sums::Addr(m) => heaviest(m),
            Sums::NetPair(m) => heaviest(m),
        }
    }
}

/// The traffic columns of a batch.
struct Traffics<'a> {
    bytes: &'a PrimitiveArray<UInt64Type>,
    packets: &'a PrimitiveArray<UInt64Type>,
    flows: &'a PrimitiveArray<UInt64Type>,
    rate: &'a PrimitiveArray<UInt32Type>,
}

impl Traffics<'_> {
    /// Adds each row's traffic to its key's, keys from `key`; false if a key could not be made.
    fn add_to<const N: usize>(&self, map: &mut Map<N>, key: impl Fn(usize) -> Option<[u8; N]>) -> bool {
        for i in 0..self.bytes.len() {
            let Some(k) = key(i) else { return false };
            let r = u64::from(self.rate.value(i)).max(1);
            let t = map.entry(k).or_insert([0; 3]);
            t[0] = t[0].saturating_add(self.bytes.value(i).saturating_mul(r));
            t[1] = t[1].saturating_add(self.packets.value(i).saturating_mul(r));
            t[2] = t[2].saturating_add(self.flows.value(i));
        }
        true
    }
}

/// A subnet pair's key: the two networks' keys (`weir_query::plan::net_key`) under the flow's masks;
/// `None` if an address is not 16 bytes.
fn pair_key(src: &[u8], src_mask: u8, dst: &[u8], dst_mask: u8) -> Option<[u8; KEY_LEN]> {
    let cut = |a: &[u8], m: u8| {
        let octets = <[u8; 16]>::try_from(a).ok()?;
        Some(net_key(net(
            octets.into(),
            m,
            DEFAULT_V4_PREFIX,
            DEFAULT_V6_PREFIX,
        )))
    };
    let mut k = [0; KEY_LEN];
    k[..NET_KEY_LEN].copy_from_slice(&cut(src, src_mask)?);
    k[NET_KEY_LEN..].copy_from_slice(&cut(dst, dst_mask)?);
    Some(k)
}

/// Sums the traffic of each key of the listed dimensions over the rows written to one file.
#[derive(Debug)]
pub struct Counter {
    /// Per listed dimension the schema has: its name (an address's is its column's) and the sums, `None`
    /// once there were too many keys.
    lists: Vec<(&'static str, Option<Sums>)>,
}

impl Counter {
    /// A counter for rows of `schema`, if it has the columns of a listed dimension and the traffic columns;
    /// of subnet pairs only if `pairs`.
    pub fn for_schema(schema: &Schema, pairs: bool) -> Option<Counter> {
        let has = |name: &str| schema.index_of(name).is_ok();
        if !["bytes", "packets", "flows", "sampling_rate"]
            .into_iter()
            .all(has)
        {
            return None;
        }
        let lists: Vec<_> = LISTS
            .into_iter()
            .filter_map(|name| Some((name, Some(Sums::for_list(name, has, pairs)?))))
            .collect();
        (!lists.is_empty()).then_some(Counter { lists })
    }

    /// Adds the traffic of `rb`'s rows (of the schema the counter was made for).
    pub fn observe(&mut self, rb: &RecordBatch) {
        let column = |name: &str| rb.column_by_name(name);
        let (Some(bytes), Some(packets), Some(flows), Some(rate)) = (
            column("bytes").and_then(|c| c.as_primitive_opt::<UInt64Type>()),
            column("packets").and_then(|c| c.as_primitive_opt::<UInt64Type>()),
            column("flows").and_then(|c| c.as_primitive_opt::<UInt64Type>()),
            column("sampling_rate").and_then(|c| c.as_primitive_opt::<UInt32Type>()),
        ) else {
            // Another schema than the counter's: no list can be trusted for this file.
            self.lists.iter_mut().for_each(|(_, sums)| *sums = None);
            return;
        };
        let traffic = Traffics {
            bytes,
            packets,
            flows,
            rate,
        };
        let addrs = |name: &str| column(name).and_then(|c| c.as_fixed_size_binary_opt());
        let masks = |name: &str| column(name).and_then(|c| c.as_primitive_opt::<UInt8Type>());
        for (name, sums) in &mut self.lists {
            let added = match sums {
                None => continue,
                Some(Sums::Addr(map)) => {
                    addrs(name).is_some_and(|a| traffic.add_to(map, |i| a.value(i).try_into().ok()))
                }
                Some(Sums::NetPair(map)) => match (
                    addrs("src_addr"),
                    masks("src_mask"),
                    addrs("dst_addr"),
                    masks("dst_mask"),
                ) {
                    (Some(sa), Some(sm), Some(da), Some(dm)) => traffic.add_to(map, |i| {
                        pair_key(sa.value(i), sm.value(i), da.value(i), dm.value(i))
                    }),
                    _ => false,
                },
            };
            if !added || sums.as_ref().is_some_and(|m| m.len() > MAX_TRACKED) {
                *sums = None;
            }
        }
    }

    /// The footer entries: one list per dimension that stayed within bounds.
    pub fn metadata(self) -> Vec<KeyValue> {
        self.lists
            .into_iter()
            .filter_map(|(name, sums)| {
                let list = sums?.heaviest();
                Some(KeyValue::new(format!("{KEY_PREFIX}{name}"), encode(&list)))
            })
            .collect()
    }
}

/// The [`KEEP`] heaviest keys of `sums` by each metric, and the bounds of the others.
fn heaviest<const N: usize>(sums: Map<N>) -> List {
    let all: Vec<([u8; N], Traffic)> = sums.into_iter().collect();
    let mut keep = vec![all.len() <= KEEP; all.len()];
    let mut bounds = [0; 3];
    if all.len() > KEEP {
        for (m, bound) in bounds.iter_mut().enumerate() {
            // Largest first: the first KEEP are kept, the next one is the most any other has.
            let mut order: Vec<usize> = (0..all.len()).collect();
            order.select_nth_unstable_by(KEEP, |&a, &b| all[b].1[m].cmp(&all[a].1[m]));
            order[..KEEP].iter().for_each(|&i| keep[i] = true);
            *bound = all[order[KEEP]].1[m];
        }
    }
    let mut keys: Vec<Vec<u8>> = all
        .iter()
        .zip(keep)
        .filter(|(_, kept)| *kept)
        .map(|((key, _), _)| key.to_vec())
        .collect();
    keys.sort_unstable();
    List { bounds, keys }
}

/// `1 <bytes> <packets> <flows> <hex>,<hex>,…`.
fn encode(list: &List) -> String {
    let [b, p, f] = list.bounds;
    let mut out = format!("{FORMAT} {b} {p} {f} ");
    for (i, key) in list.keys.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        for byte in key {
            let _ = write!(out, "{byte:02x}");
        }
    }
    out
}

/// Bytes of each key of the listed dimension `name` (one of [`LISTS`]).
fn key_len(name: &str) -> usize {
    match name {
        PAIRS => KEY_LEN,
        _ => 16,
    }
}

/// The list in a footer value, its keys of `len` bytes; `None` if it is not one this version writes.
fn decode(value: &str, len: usize) -> Option<List> {
    let mut words = value.split(' ');
    if words.next()? != FORMAT {
        return None;
    }
    let mut bounds = [0; 3];
    for b in &mut bounds {
        *b = words.next()?.parse().ok()?;
    }
    let keys = words.next()?;
    if words.next().is_some() {
        return None;
    }
    let keys = keys
        .split(',')
        .filter(|k| !k.is_empty())
        .map(|hex| {
            if hex.len() != 2 * len {
                return None;
            }
            (0..len)
                .map(|i| u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok())
                .collect::<Option<Vec<u8>>>()
        })
        .collect::<Option<Vec<_>>>()?;
    Some(List { bounds, keys })
}

/// The list of the dimension `name` (one of [`LISTS`]) in a file's footer entries, if it has a readable one.
pub fn list(metadata: Option<&Vec<KeyValue>>, name: &str) -> Option<List> {
    let key = format!("{KEY_PREFIX}{name}");
    let entry = metadata?.iter().find(|kv| kv.key == key)?;
    decode(entry.value.as_deref()?, key_len(name))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{FixedSizeBinaryArray, UInt32Array, UInt64Array};
    use arrow::datatypes::{DataType, Field};

    use super::*;

    fn addr(n: u32) -> Vec<u8> {
        std::net::Ipv4Addr::from(n).to_ipv6_mapped().octets().to_vec()
    }

    /// Rows from (source, bytes, packets, sampling rate), each one flow, all to one destination.
    fn batch(rows: &[(u32, u64, u64, u32)]) -> RecordBatch {
        let schema = Schema::new(vec![
            Field::new("src_addr", DataType::FixedSizeBinary(16), false),
            Field::new("dst_addr", DataType::FixedSizeBinary(16), false),
            Field::new("sampling_rate", DataType::UInt32, false),
            Field::new("bytes", DataType::UInt64, false),
            Field::new("packets", DataType::UInt64, false),
            Field::new("flows", DataType::UInt64, false),
        ]);
        let src = FixedSizeBinaryArray::try_from_iter(rows.iter().map(|r| addr(r.0))).unwrap();
        let dst = FixedSizeBinaryArray::try_from_iter(rows.iter().map(|_| addr(1))).unwrap();
        RecordBatch::try_new(
            Arc::new(schema),
            vec![
                Arc::new(src),
                Arc::new(dst),
                Arc::new(UInt32Array::from_iter_values(rows.iter().map(|r| r.3))),
                Arc::new(UInt64Array::from_iter_values(rows.iter().map(|r| r.1))),
                Arc::new(UInt64Array::from_iter_values(rows.iter().map(|r| r.2))),
                Arc::new(UInt64Array::from_iter_values(rows.iter().map(|_| 1))),
            ],
        )
        .unwrap()
    }

    fn lists(batches: &[RecordBatch]) -> (List, List) {
        let mut counter = Counter::for_schema(&batches[0].schema(), true).unwrap();
        batches.iter().for_each(|b| counter.observe(b));
        let kv = counter.metadata();
        (
            list(Some(&kv), "src_addr").unwrap(),
            list(Some(&kv), "dst_addr").unwrap(),
        )
    }

    #[test]
    fn a_file_with_few_addresses_lists_them_all_with_no_bound() {
        let (src, dst) = lists(&[batch(&[(7, 100, 1, 1), (3, 50, 1, 10), (7, 1, 1, 1)])]);
        assert_eq!(src.keys, vec![addr(3), addr(7)]);
        assert_eq!(src.bounds, [0, 0, 0]);
        assert_eq!(dst.keys, vec![addr(1)]);
    }

    #[test]
    fn the_heaviest_by_each_metric_are_listed_and_the_rest_bounded() {
        // Addresses 1000.. each with their number of bytes (scaled by a rate of 2), one packet and one
        // flow; address 1 with few bytes but the most packets, address 2 with the most flows.
        let mut rows: Vec<(u32, u64, u64, u32)> = (0..2 * KEEP as u32)
            .map(|i| (1000 + i, u64::from(i), 1, 2))
            .collect();
        rows.push((1, 1, 1_000_000, 1));
        rows.extend((0..50).map(|_| (2, 0, 0, 1)));
        let (first, second) = rows.split_at(300);
        let (src, _) = lists(&[batch(first), batch(second)]);
        // By bytes the heaviest are 1000 + KEEP .. 1000 + 2 KEEP; the next holds 2 (KEEP - 1) bytes.
        let by_bytes: Vec<Vec<u8>> = (KEEP as u32..2 * KEEP as u32).map(|i| addr(1000 + i)).collect();
        assert!(by_bytes.iter().all(|k| src.keys.contains(k)));
        assert_eq!(src.bound(Metric::Bytes), 2 * (KEEP as u64 - 1));
        assert!(src.keys.contains(&addr(1)) && src.keys.contains(&addr(2)));
        // Every other address has 2 packets (one, scaled) and 1 flow.
        assert_eq!(src.bound(Metric::Packets), 2);
        assert_eq!(src.bound(Metric::Flows), 1);
        assert!(src.keys.len() <= 3 * KEEP);
        // No address outside the list has more than the bounds.
        for &(a, bytes, packets, rate) in &rows {
            if !src.keys.contains(&addr(a)) {
                assert!(bytes * u64::from(rate) <= src.bound(Metric::Bytes), "{a}");
                assert!(packets * u64::from(rate) <= src.bound(Metric::Packets), "{a}");
            }
        }
        let mut sorted = src.keys.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, src.keys);
    }

    #[test]
    fn lists_round_trip_and_damaged_ones_are_ignored() {
        let addrs = List {
            bounds: [1, 2, u64::MAX],
            keys: vec![addr(1), addr(2)],
        };
        assert_eq!(decode(&encode(&addrs), 16), Some(addrs.clone()));
        let pairs = List {
            bounds: [3, 0, 1],
            keys: vec![vec![0xab; KEY_LEN]],
        };
        assert_eq!(decode(&encode(&pairs), KEY_LEN), Some(pairs.clone()));
        let empty = List {
            bounds: [0; 3],
            keys: Vec::new(),
        };
        assert_eq!(decode(&encode(&empty), 16), Some(empty));
        // A key of another dimension's length is damage, not a shorter key.
        assert_eq!(decode(&encode(&addrs), KEY_LEN), None);
        assert_eq!(decode(&encode(&pairs), 16), None);
        for bad in [
            "",
            "2 0 0 0 ",
            "1 0 0 ",
            "1 x 0 0 ",
            "1 0 0 0 abc",
            "1 0 0 0 00 00",
            "1 0 0 0 zz000000000000000000000000000000",
        ] {
            assert_eq!(decode(bad, 16), None, "{bad:?}");
        }
    }

    #[test]
    fn subnet_pairs_are_listed_under_the_flows_masks() {
        let rows = batch(&[
            (0x0a01_0203, 100, 1, 1),
            (0x0a01_0204, 100, 1, 1),
            (0xc000_0201, 5, 1, 1),
        ]);
        let masks =
            |m: [u8; 3]| Arc::new(arrow::array::UInt8Array::from(m.to_vec())) as arrow::array::ArrayRef;
        let mut fields = rows.schema().fields().to_vec();
        fields.push(Arc::new(Field::new("src_mask", DataType::UInt8, false)));
        fields.push(Arc::new(Field::new("dst_mask", DataType::UInt8, false)));
        let mut columns = rows.columns().to_vec();
        columns.push(masks([16, 16, 0]));
        columns.push(masks([0, 0, 0]));
        let rows = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap();
        let no_pairs = Counter::for_schema(&rows.schema(), false).unwrap();
        assert!(no_pairs.lists.iter().all(|(name, _)| !name.contains(',')));
        let mut counter = Counter::for_schema(&rows.schema(), true).unwrap();
        counter.observe(&rows);
        let kv = counter.metadata();
        let pairs = list(Some(&kv), "src_net,dst_net").unwrap();
        let text = |k: &[u8]| {
            let (a, l) = weir_query::plan::net_from_key(k).unwrap();
            format!("{a}/{l}")
        };
        let got: Vec<(String, String)> = pairs
            .keys
            .iter()
            .map(|k| (text(&k[..NET_KEY_LEN]), text(&k[NET_KEY_LEN..])))
            .collect();
        let want = [("10.1.0.0/16", "0.0.0.0/24"), ("192.0.2.0/24", "0.0.0.0/24")];
        assert_eq!(got.len(), 2);
        for (s, d) in want {
            assert!(got.contains(&(s.to_owned(), d.to_owned())), "{got:?}");
        }
        assert_eq!(pairs.bounds, [0; 3]);
    }

    #[test]
    fn rows_of_another_schema_leave_no_list() {
        let rows = batch(&[(1, 1, 1, 1)]);
        let mut counter = Counter::for_schema(&rows.schema(), true).unwrap();
        counter.observe(&rows);
        counter.observe(&rows.project(&[0, 1, 2, 3, 4]).unwrap());
        assert!(counter.metadata().is_empty());
        let narrow = Schema::new(vec![Field::new("src_addr", DataType::FixedSizeBinary(16), false)]);
        assert!(Counter::for_schema(&narrow, true).is_none());
    }
}
