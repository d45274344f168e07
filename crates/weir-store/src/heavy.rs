//! Each file's heaviest addresses, kept in its footer, so that a top-N of addresses need not group every
//! address of a range.
//!
//! An hour of a busy network holds hundreds of thousands of distinct addresses, and grouping them all is
//! most of the time of a top-talkers report. While a file is written, its rows' traffic is summed per
//! source and per destination address; when it is committed, the footer gets, for each address field, the
//! [`KEEP`] heaviest addresses by bytes, by packets and by flows (one list, their union), and for each
//! metric the most traffic any address outside the list has in the file. An address that is in no list of
//! the files over a range has at most the sum of their bounds there, so a top-N ranked among the listed
//! addresses is the true one when its last row has more (`weir_query::backend::HeavyKeys`). Every file
//! carries lists of its own rows, so merging files, or a merge that has not happened yet, never makes a
//! bound wrong.
//!
//! The sums are bounded: a file with more than [`MAX_TRACKED`] addresses in a field gets no list for it,
//! and queries over it rank every key, as they do over files written before lists existed.

use std::collections::HashMap;
use std::fmt::Write;

use arrow::array::{AsArray, RecordBatch};
use arrow::datatypes::{Schema, UInt32Type, UInt64Type};
use hashbrown::DefaultHashBuilder;
use parquet::file::metadata::KeyValue;
use weir_query::plan::Metric;

/// The fields listed.
pub const FIELDS: [&str; 2] = ["src_addr", "dst_addr"];
/// The heaviest addresses kept by each metric.
pub const KEEP: usize = 256;
/// Most distinct addresses summed per field and file; a file with more gets no list for the field.
pub const MAX_TRACKED: usize = 1 << 22;
/// The footer key of a field's list is this followed by the field's name.
const KEY_PREFIX: &str = "weir.heavy.";
/// The list's format, its first word.
const FORMAT: &str = "1";

/// One address's traffic: bytes and packets scaled by the sampling rate, and flows.
type Traffic = [u64; 3];

/// A file's list for one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct List {
    /// The most bytes, packets and flows any address outside `keys` has in the file.
    pub bounds: [u64; 3],
    /// The heaviest addresses (IPv6 octets, IPv4 mapped).
    pub keys: Vec<[u8; 16]>,
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

/// The traffic of each address of one field.
type Sums = HashMap<[u8; 16], Traffic, DefaultHashBuilder>;

/// Sums the traffic of each address of the listed fields over the rows written to one file.
#[derive(Debug)]
pub struct Counter {
    /// Per listed field the schema has: its name and the sums, `None` once there were too many.
    fields: Vec<(&'static str, Option<Sums>)>,
}

impl Counter {
    /// A counter for rows of `schema`, if it has a listed field and the traffic columns.
    pub fn for_schema(schema: &Schema) -> Option<Counter> {
        let has = |name: &str| schema.index_of(name).is_ok();
        if !["bytes", "packets", "flows", "sampling_rate"]
            .into_iter()
            .all(has)
        {
            return None;
        }
        let fields: Vec<_> = FIELDS
            .into_iter()
            .filter(|f| has(f))
            .map(|f| (f, Some(HashMap::default())))
            .collect();
        (!fields.is_empty()).then_some(Counter { fields })
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
            self.fields.iter_mut().for_each(|(_, sums)| *sums = None);
            return;
        };
        for (name, sums) in &mut self.fields {
            let Some(map) = sums else { continue };
            let Some(addrs) = column(name).and_then(|c| c.as_fixed_size_binary_opt()) else {
                *sums = None;
                continue;
            };
            for i in 0..rb.num_rows() {
                let Ok(key) = <[u8; 16]>::try_from(addrs.value(i)) else {
                    *sums = None;
                    break;
                };
                let r = u64::from(rate.value(i)).max(1);
                let t = map.entry(key).or_insert([0; 3]);
                t[0] = t[0].saturating_add(bytes.value(i).saturating_mul(r));
                t[1] = t[1].saturating_add(packets.value(i).saturating_mul(r));
                t[2] = t[2].saturating_add(flows.value(i));
            }
            if sums.as_ref().is_some_and(|m| m.len() > MAX_TRACKED) {
                *sums = None;
            }
        }
    }

    /// The footer entries: one list per field that stayed within bounds.
    pub fn metadata(self) -> Vec<KeyValue> {
        self.fields
            .into_iter()
            .filter_map(|(name, sums)| {
                let list = heaviest(sums?.into_iter().collect());
                Some(KeyValue::new(format!("{KEY_PREFIX}{name}"), encode(&list)))
            })
            .collect()
    }
}

/// The [`KEEP`] heaviest of `all` by each metric, and the bounds of the others.
fn heaviest(mut all: Vec<([u8; 16], Traffic)>) -> List {
    let mut keep = vec![false; all.len()];
    let mut bounds = [0; 3];
    if all.len() > KEEP {
        for (m, bound) in bounds.iter_mut().enumerate() {
            // Largest first: the first KEEP are kept, the next one is the most any other has.
            let mut order: Vec<usize> = (0..all.len()).collect();
            order.select_nth_unstable_by(KEEP, |&a, &b| all[b].1[m].cmp(&all[a].1[m]));
            order[..KEEP].iter().for_each(|&i| keep[i] = true);
            *bound = all[order[KEEP]].1[m];
        }
    } else {
        keep.iter_mut().for_each(|k| *k = true);
    }
    let mut i = 0;
    all.retain(|_| {
        i += 1;
        keep[i - 1]
    });
    let mut keys: Vec<[u8; 16]> = all.into_iter().map(|(k, _)| k).collect();
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

/// The list in a footer value; `None` if it is not one this version writes.
fn decode(value: &str) -> Option<List> {
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
            let mut key = [0; 16];
            if hex.len() != 32 {
                return None;
            }
            for (i, byte) in key.iter_mut().enumerate() {
                *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
            }
            Some(key)
        })
        .collect::<Option<Vec<_>>>()?;
    Some(List { bounds, keys })
}

/// The list of `field` in a file's footer entries, if it has a readable one.
pub fn list(metadata: Option<&Vec<KeyValue>>, field: &str) -> Option<List> {
    let key = format!("{KEY_PREFIX}{field}");
    let entry = metadata?.iter().find(|kv| kv.key == key)?;
    decode(entry.value.as_deref()?)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{FixedSizeBinaryArray, UInt32Array, UInt64Array};
    use arrow::datatypes::{DataType, Field};

    use super::*;

    fn addr(n: u32) -> [u8; 16] {
        std::net::Ipv4Addr::from(n).to_ipv6_mapped().octets()
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
        let mut counter = Counter::for_schema(&batches[0].schema()).unwrap();
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
        let by_bytes: Vec<[u8; 16]> = (KEEP as u32..2 * KEEP as u32).map(|i| addr(1000 + i)).collect();
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
        let list = List {
            bounds: [1, 2, u64::MAX],
            keys: vec![addr(1), [0xab; 16]],
        };
        assert_eq!(decode(&encode(&list)), Some(list));
        let empty = List {
            bounds: [0; 3],
            keys: Vec::new(),
        };
        assert_eq!(decode(&encode(&empty)), Some(empty));
        for bad in [
            "",
            "2 0 0 0 ",
            "1 0 0 ",
            "1 x 0 0 ",
            "1 0 0 0 abc",
            "1 0 0 0 00 00",
            "1 0 0 0 zz000000000000000000000000000000",
        ] {
            assert_eq!(decode(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn rows_of_another_schema_leave_no_list() {
        let rows = batch(&[(1, 1, 1, 1)]);
        let mut counter = Counter::for_schema(&rows.schema()).unwrap();
        counter.observe(&rows);
        counter.observe(&rows.project(&[0, 1, 2, 3, 4]).unwrap());
        assert!(counter.metadata().is_empty());
        let narrow = Schema::new(vec![Field::new("src_addr", DataType::FixedSizeBinary(16), false)]);
        assert!(Counter::for_schema(&narrow).is_none());
    }
}
