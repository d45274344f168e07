//! [`FlowBatch`] to Arrow [`RecordBatch`], column by column.
//!
//! Each column is built from the batch's `Vec` in one pass into one Arrow buffer: no per-row dispatch and no
//! allocation per row. Strings, lists and bytes are resolved from the batch's pools. Rows come out sorted by
//! `time_received` because every stored file is; a batch that is already in order (the usual case, since the
//! collector stamps flows as they arrive) is copied straight, and only an unordered one pays for a permutation.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BinaryArray, FixedSizeBinaryArray, ListArray, PrimitiveArray, RecordBatch, StringArray,
};
use arrow::buffer::{Buffer, OffsetBuffer, ScalarBuffer};
use arrow::datatypes::{
    ArrowPrimitiveType, TimestampNanosecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow::error::ArrowError;
use weir_flow::{Blob, COLUMNS, ColumnRef, FIELDS, FlowBatch, ListRef, Sym};

use crate::schema::{list_item, raw_schema};

/// Converts `batch` into a record batch of [`raw_schema`](crate::schema::raw_schema), sorted by
/// `time_received` (stable: flows with the same time keep their order).
pub fn to_record_batch(batch: &FlowBatch) -> Result<RecordBatch, ArrowError> {
    let order = sort_order(&batch.cols.time_received);
    let rows = Rows {
        order: order.as_deref(),
        len: batch.len(),
    };
    let mut arrays: Vec<ArrayRef> = Vec::with_capacity(COLUMNS.len());
    for (&field, column) in FIELDS.iter().zip(COLUMNS) {
        let array: ArrayRef = match batch.cols.get(field) {
            ColumnRef::Time(v) => Arc::new(primitive::<TimestampNanosecondType>(
                rows.gather(v, |&t| nanos(t)),
            )),
            ColumnRef::U8(v) => Arc::new(primitive::<UInt8Type>(rows.gather(v, |&x| x))),
            ColumnRef::U16(v) => Arc::new(primitive::<UInt16Type>(rows.gather(v, |&x| x))),
            ColumnRef::U32(v) => Arc::new(primitive::<UInt32Type>(rows.gather(v, |&x| x))),
            ColumnRef::U64(v) | ColumnRef::Mac(v) => {
                Arc::new(primitive::<UInt64Type>(rows.gather(v, |&x| x)))
            }
            ColumnRef::Ip(v) => {
                let mut bytes = Vec::with_capacity(v.len() * 16);
                rows.each(v, |a| bytes.extend_from_slice(&a.octets()));
                Arc::new(FixedSizeBinaryArray::new(16, Buffer::from_vec(bytes), None))
            }
            ColumnRef::Str(v) => {
                let (offsets, values) =
                    variable(column.name, &rows, v, Sym::EMPTY, |s| batch.str(*s).as_bytes())?;
                // The values come from `&str`s, so they are valid UTF-8 at every offset.
                Arc::new(StringArray::try_new(offsets, Buffer::from_vec(values), None)?)
            }
            ColumnRef::Bytes(v) => {
                let (offsets, values) = variable(column.name, &rows, v, Blob::EMPTY, |b| batch.blob(*b))?;
                Arc::new(BinaryArray::new(offsets, Buffer::from_vec(values), None))
            }
            ColumnRef::U32List(v) => {
                let (offsets, items) = variable(column.name, &rows, v, ListRef::EMPTY, |l| batch.list(*l))?;
                let items = Arc::new(primitive::<UInt32Type>(items));
                Arc::new(ListArray::try_new(list_item(), offsets, items, None)?)
            }
        };
        arrays.push(array);
    }
    RecordBatch::try_new(raw_schema(), arrays)
}

/// A time as Arrow's signed nanoseconds; times past 2262 (garbage from an exporter) saturate.
pub(crate) fn nanos(t: u64) -> i64 {
    i64::try_from(t).unwrap_or(i64::MAX)
}

/// The permutation that sorts `times` (stable), or `None` when they are in order already.
pub(crate) fn sort_order(times: &[u64]) -> Option<Vec<u32>> {
    if times.is_sorted() {
        return None;
    }
    let mut order: Vec<u32> = (0..times.len() as u32).collect();
    order.sort_by_key(|&i| times[i as usize]);
    Some(order)
}

/// Which rows to take, in which order.
struct Rows<'a> {
    order: Option<&'a [u32]>,
    len: usize,
}

impl Rows<'_> {
    fn each<T>(&self, v: &[T], mut f: impl FnMut(&T)) {
        match self.order {
            None => v.iter().for_each(f),
            Some(order) => order.iter().for_each(|&i| f(&v[i as usize])),
        }
    }

    fn gather<T, U>(&self, v: &[T], f: impl Fn(&T) -> U) -> Vec<U> {
        match self.order {
            None => v.iter().map(f).collect(),
            Some(order) => order.iter().map(|&i| f(&v[i as usize])).collect(),
        }
    }
}

fn primitive<T: ArrowPrimitiveType>(values: Vec<T::Native>) -> PrimitiveArray<T> {
    PrimitiveArray::new(ScalarBuffer::from(values), None)
}

/// Lays out variable-length values end to end with `i32` offsets, Arrow's layout for `Utf8`, `Binary` and
/// `List`; fails, naming the column, when one batch holds more than `i32::MAX` values in a column.
///
/// A column whose every handle is `empty` (most string, byte and list columns, on most exporters: names and
/// paths that no router sends and no enrichment fills) is laid out at once, one comparison a row instead of
/// resolving each value.
fn variable<'b, H: PartialEq, T: Copy + 'b>(
    column: &str,
    rows: &Rows<'_>,
    handles: &[H],
    empty: H,
    resolve: impl Fn(&H) -> &'b [T],
) -> Result<(OffsetBuffer<i32>, Vec<T>), ArrowError> {
    if handles.iter().all(|h| *h == empty) {
        // Never an empty allocation: see `files::allocated_values` for what a dangling pointer costs.
        return Ok((OffsetBuffer::new_zeroed(rows.len), Vec::with_capacity(1)));
    }
    let mut offsets = Vec::with_capacity(rows.len + 1);
    offsets.push(0i32);
    // Never an empty allocation: see `files::allocated_values` for what a dangling pointer costs.
    let mut values = Vec::with_capacity(rows.len.max(1));
    let mut overflow = false;
    rows.each(handles, |h| {
        values.extend_from_slice(resolve(h));
        let end = i32::try_from(values.len()).unwrap_or_else(|_| {
            overflow = true;
            i32::MAX
        });
        offsets.push(end);
    });
    if overflow {
        return Err(ArrowError::InvalidArgumentError(format!(
            "column {column}: more than {} values in one batch",
            i32::MAX
        )));
    }
    Ok((OffsetBuffer::new(ScalarBuffer::from(offsets)), values))
}

#[cfg(test)]
mod tests {
    use std::net::Ipv6Addr;

    use arrow::array::{Array, AsArray};
    use arrow::datatypes::UInt32Type;
    use weir_flow::{FlowRecord, ipv4};

    use super::*;

    #[test]
    fn converts_every_kind_and_resolves_pools() {
        let mut b = FlowBatch::new();
        let name = b.intern("xe-0/0/1");
        let path = b.push_list(&[64512, 3356]);
        let extra = b.push_blob(&[0, 0, 0, 9, 1]);
        b.push(&FlowRecord {
            time_received: 2_000,
            src_addr: ipv4([192, 0, 2, 1]),
            dst_addr: "2001:db8::1".parse().unwrap_or(Ipv6Addr::UNSPECIFIED),
            in_if_name: name,
            dst_as_path: path,
            extra_fields: extra,
            src_mac: 0x0011_2233_4455,
            bytes: 1500,
            ..FlowRecord::default()
        });
        b.push(&FlowRecord {
            time_received: 3_000,
            bytes: 40,
            ..FlowRecord::default()
        });
        let rb = to_record_batch(&b).unwrap();
        assert_eq!(rb.num_rows(), 2);
        let col = |n: &str| rb.column_by_name(n).unwrap().clone();
        let times = col("time_received");
        assert_eq!(
            times.as_primitive::<TimestampNanosecondType>().values(),
            &[2_000, 3_000]
        );
        assert_eq!(
            col("src_addr").as_fixed_size_binary().value(0),
            &ipv4([192, 0, 2, 1]).octets()
        );
        assert_eq!(col("in_if_name").as_string::<i32>().value(0), "xe-0/0/1");
        assert_eq!(col("in_if_name").as_string::<i32>().value(1), "");
        let paths = col("dst_as_path");
        let paths = paths.as_list::<i32>();
        assert_eq!(
            paths.value(0).as_primitive::<UInt32Type>().values(),
            &[64512, 3356]
        );
        assert_eq!(paths.value(1).len(), 0);
        assert_eq!(col("extra_fields").as_binary::<i32>().value(0), &[0, 0, 0, 9, 1]);
        assert_eq!(
            col("src_mac").as_primitive::<UInt64Type>().value(0),
            0x0011_2233_4455
        );
        assert_eq!(col("bytes").as_primitive::<UInt64Type>().values(), &[1500, 40]);
    }

    #[test]
    fn columns_of_empty_values_are_empty_values_row_by_row() {
        let mut b = FlowBatch::new();
        for t in [30, 10, 20] {
            b.push(&FlowRecord {
                time_received: t,
                ..FlowRecord::default()
            });
        }
        let rb = to_record_batch(&b).unwrap();
        let names = rb
            .column_by_name("in_if_name")
            .unwrap()
            .as_string::<i32>()
            .clone();
        assert_eq!(names, StringArray::from(vec![""; 3]));
        assert!(names.values().capacity() > 0, "values allocated");
        let paths = rb.column_by_name("dst_as_path").unwrap();
        assert_eq!(paths.as_list::<i32>().value_offsets(), &[0, 0, 0, 0]);
        let extra = rb
            .column_by_name("extra_fields")
            .unwrap()
            .as_binary::<i32>()
            .clone();
        assert_eq!(extra, BinaryArray::from(vec![&[] as &[u8]; 3]));
    }

    #[test]
    fn sorts_rows_by_time_keeping_equal_times_in_order() {
        let mut b = FlowBatch::new();
        for (t, bytes) in [(30, 1), (10, 2), (30, 3), (20, 4), (10, 5)] {
            let app = b.intern(&format!("app{bytes}"));
            b.push(&FlowRecord {
                time_received: t,
                bytes,
                app,
                ..FlowRecord::default()
            });
        }
        let rb = to_record_batch(&b).unwrap();
        let times = rb.column_by_name("time_received").unwrap();
        assert_eq!(
            times.as_primitive::<TimestampNanosecondType>().values(),
            &[10, 10, 20, 30, 30]
        );
        let bytes = rb.column_by_name("bytes").unwrap();
        assert_eq!(bytes.as_primitive::<UInt64Type>().values(), &[2, 5, 4, 1, 3]);
        let apps = rb.column_by_name("app").unwrap().as_string::<i32>().clone();
        let apps: Vec<&str> = apps.iter().map(|s| s.unwrap_or("?")).collect();
        assert_eq!(apps, ["app2", "app5", "app4", "app1", "app3"]);
    }

    #[test]
    fn converts_an_empty_batch() {
        let rb = to_record_batch(&FlowBatch::new()).unwrap();
        assert_eq!(rb.num_rows(), 0);
        assert_eq!(rb.schema(), raw_schema());
    }

    #[test]
    fn saturates_times_beyond_arrows_range() {
        let mut b = FlowBatch::new();
        b.push(&FlowRecord {
            time_received: u64::MAX,
            ..FlowRecord::default()
        });
        let rb = to_record_batch(&b).unwrap();
        let t = rb.column(0).as_primitive::<TimestampNanosecondType>().value(0);
        assert_eq!(t, i64::MAX);
    }
}
