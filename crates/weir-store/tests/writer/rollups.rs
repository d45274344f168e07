//! Rollup tables hold the same traffic as the raw table, grouped.

use std::collections::BTreeMap;

use crate::common::*;
use arrow::array::{AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, UInt64Type};
use weir_query::plan::Table;
use weir_store::Store;

/// Bytes by (time floored to `res`, value of the integer column `key`), computed from a table's rows.
fn bytes_by_time_and(rb: &RecordBatch, res: u64, key: &str) -> BTreeMap<(u64, u64), u64> {
    let keys = cast(rb.column_by_name(key).unwrap(), &DataType::UInt64).unwrap();
    let keys = keys.as_primitive::<UInt64Type>();
    let bytes = rb
        .column_by_name("bytes")
        .unwrap()
        .as_primitive::<UInt64Type>()
        .clone();
    let mut out = BTreeMap::new();
    for (i, t) in times(rb).into_iter().enumerate() {
        *out.entry((t as u64 / res * res, keys.value(i))).or_default() += bytes.value(i);
    }
    out
}

#[test]
fn rollup_sums_equal_raw_sums() {
    let dir = scratch("rollup-sums");
    let mut store = Store::open(config_all(&dir)).unwrap().0;
    // Three flushes over two hours; minutes and hours straddle flushes. 120 flows a minute share 84 keys.
    for k in 0..3 {
        store
            .append(&flows(T0 + k * 40 * MINUTE + 7 * SEC, SEC / 2, 2_000))
            .unwrap();
        store.flush().unwrap();
    }
    store.close().unwrap();
    let raw = read_table(&dir, "flows");
    let minutes = read_table(&dir, "flows_1m");
    let hours = read_table(&dir, "flows_1h");
    for column in ["bytes", "packets", "flows"] {
        assert_eq!(sum(&minutes, column), sum(&raw, column), "{column} in flows_1m");
        assert_eq!(sum(&hours, column), sum(&raw, column), "{column} in flows_1h");
    }
    let rows = (raw.num_rows(), minutes.num_rows(), hours.num_rows());
    assert!(rows.1 < rows.0 && rows.2 < rows.1, "{rows:?}");
    // The narrow rollups (traffic_1h fed from traffic_1m at each flush) hold the same traffic in fewer rows.
    for (name, wide, res) in [("traffic_1m", &minutes, MINUTE), ("traffic_1h", &hours, HOUR)] {
        let narrow = read_table(&dir, name);
        assert!(narrow.column_by_name("in_if").is_none() && narrow.column_by_name("proto").is_some());
        assert!(narrow.num_rows() < wide.num_rows(), "{name}");
        for column in ["bytes", "packets", "flows"] {
            assert_eq!(sum(&narrow, column), sum(&raw, column), "{column} in {name}");
        }
        assert_eq!(
            bytes_by_time_and(&narrow, res, "proto"),
            bytes_by_time_and(&raw, res, "proto"),
            "{name}"
        );
    }
    assert!(times(&minutes).iter().all(|&t| (t as u64).is_multiple_of(MINUTE)));
    assert!(times(&hours).iter().all(|&t| (t as u64).is_multiple_of(HOUR)));
    // Group by group, not only in total.
    assert_eq!(
        bytes_by_time_and(&minutes, MINUTE, "in_if"),
        bytes_by_time_and(&raw, MINUTE, "in_if")
    );
    assert_eq!(
        bytes_by_time_and(&hours, HOUR, "in_if"),
        bytes_by_time_and(&raw, HOUR, "in_if")
    );
}

#[test]
fn captured_flows_roll_up_to_the_same_totals() {
    let dir = scratch("rollup-captured");
    let mut store = open(&dir);
    let batch = captured_flows();
    store.append(&batch).unwrap();
    store.close().unwrap();
    let minutes = read_table(&dir, "flows_1m");
    for (column, raw) in [
        ("bytes", &batch.cols.bytes),
        ("packets", &batch.cols.packets),
        ("flows", &batch.cols.flows),
    ] {
        assert_eq!(sum(&minutes, column), raw.iter().sum::<u64>(), "{column}");
        assert_eq!(
            sum(&read_table(&dir, "flows_1h"), column),
            raw.iter().sum::<u64>(),
            "{column}"
        );
    }
}

#[test]
fn rollups_added_to_a_store_with_flows_begin_at_their_next_bucket() {
    let dir = scratch("rollup-added");
    let mut store = open(&dir);
    store.append(&flows(T0, SEC, 100)).unwrap();
    store.close().unwrap();
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let (store, _) = Store::open(config_all(&dir)).unwrap();
    store.close().unwrap();
    for (name, res) in [("traffic_1m", MINUTE), ("traffic_1h", HOUR)] {
        let since = weir_store::layout::read_since(&dir.join(name)).unwrap();
        assert!(
            since.is_multiple_of(res) && since >= before && since - before <= res,
            "{name}"
        );
    }
    assert_eq!(weir_store::layout::read_since(&dir.join("flows_1m")), None);
    let tables = weir_store::engine::Embedded::with_config(&dir, Default::default(), Table::defaults())
        .unwrap()
        .tables();
    let since = |name: &str| tables.iter().find(|t| t.name == name).unwrap().since;
    assert!(since("traffic_1h").is_some() && since("flows_1h").is_none());
    // A fresh store's rollups hold everything from the start.
    let fresh = scratch("rollup-fresh");
    Store::open(config_all(&fresh)).unwrap().0.close().unwrap();
    assert_eq!(weir_store::layout::read_since(&fresh.join("traffic_1m")), None);
}
