//! Merging parts and retention: every flow stays, files become few and sorted, old partitions go.

use std::fs;

use arrow::datatypes::{DataType, TimeUnit};
use parquet::basic::Encoding;

use crate::common::*;
use weir_store::Store;

/// Flushes of two "shards" whose flows overlap in time from one flush to the next, as late batches do.
fn write_overlapping_parts(store: &mut Store, flushes: u64) -> u64 {
    let mut appended = 0;
    for k in 0..flushes {
        let start = T0 + MINUTE + k * 30 * SEC;
        for shard in 0..2 {
            let b = flows(start + shard * SEC / 3, 2 * SEC / 3, 60);
            appended += b.len() as u64;
            store.append(&b).unwrap();
        }
        // A late batch from the previous flush's time range.
        let late = flows(start.saturating_sub(20 * SEC), SEC, 5);
        appended += late.len() as u64;
        store.append(&late).unwrap();
        store.flush().unwrap();
    }
    appended
}

#[test]
fn merging_keeps_every_flow_and_sorts_by_time_bucket_then_addresses() {
    let dir = scratch("merge-keeps");
    let mut store = open(&dir);
    let appended = write_overlapping_parts(&mut store, 10);
    let before_raw = read_table(&dir, "flows");
    let before_minutes = read_table(&dir, "flows_1m");
    assert_eq!(before_raw.num_rows() as u64, appended);
    assert_eq!(file_names(&dir, "flows").len(), 10);

    // More than `merge_parts` (4) parts: they become one merged file, while the hour is still open.
    let report = store.maintain(T0 + 6 * MINUTE).unwrap();
    assert_eq!(
        file_names(&dir, "flows"),
        ["2026-11-22/13/merged-0000000000000001-0000000000000028.parquet"]
    );
    assert_eq!(report.merged.len(), 3, "raw, minute and hour tables");
    assert_eq!(count(&store.stats(), "merges"), 3);

    let after = read_table(&dir, "flows");
    assert_eq!(after.num_rows(), before_raw.num_rows());
    assert!(
        in_raw_order(&after),
        "the merged file is in time buckets, sorted within each"
    );
    for column in ["bytes", "packets", "flows"] {
        assert_eq!(sum(&after, column), sum(&before_raw, column), "{column}");
    }
    // The same rows, not only the same sums: compare them sorted.
    let key = |rb: &arrow::array::RecordBatch| {
        let mut rows: Vec<(i64, u64, u16)> = {
            use arrow::array::AsArray;
            let b = rb
                .column_by_name("bytes")
                .unwrap()
                .as_primitive::<arrow::datatypes::UInt64Type>();
            let p = rb
                .column_by_name("src_port")
                .unwrap()
                .as_primitive::<arrow::datatypes::UInt16Type>();
            times(rb)
                .into_iter()
                .enumerate()
                .map(|(i, t)| (t, b.value(i), p.value(i)))
                .collect()
        };
        rows.sort();
        rows
    };
    assert_eq!(key(&after), key(&before_raw));
    assert_eq!(
        column(&after, "flow_end"),
        column(&before_raw, "flow_end"),
        "flow times read back in nanoseconds"
    );

    // How the merged file stores its rows: flow times in milliseconds (all are whole ones), the receive
    // time and the addresses in dictionaries but for the destination (sorted, so in runs), and no claim to be
    // sorted by time.
    let path = weir_store::layout::files(&dir, "flows", 0, u64::MAX)
        .unwrap()
        .remove(0);
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
        fs::File::open(&path).unwrap(),
    )
    .unwrap();
    let unit = |name: &str| reader.schema().field_with_name(name).unwrap().data_type().clone();
    let ms = DataType::Timestamp(TimeUnit::Millisecond, None);
    assert_eq!((unit("flow_start"), unit("flow_end")), (ms.clone(), ms));
    assert_eq!(
        unit("time_received"),
        DataType::Timestamp(TimeUnit::Nanosecond, None)
    );
    let group = reader.metadata().row_group(0);
    for chunk in group.columns() {
        let name = chunk.column_path().string();
        let dictionary = chunk.encodings().any(|e| e == Encoding::RLE_DICTIONARY);
        match name.as_str() {
            "src_addr" | "exporter_addr" | "time_received" => assert!(dictionary, "{name}"),
            "dst_addr" => assert!(!dictionary, "{name}"),
            _ => {}
        }
    }
    assert_eq!(group.sorting_columns(), None);

    // Rollups are aggregated again: fewer rows, same sums, one row per group and minute.
    let minutes = read_table(&dir, "flows_1m");
    assert!(
        minutes.num_rows() < before_minutes.num_rows(),
        "{} rows",
        minutes.num_rows()
    );
    assert_eq!(sum(&minutes, "bytes"), sum(&before_raw, "bytes"));
    assert!(times(&minutes).is_sorted());
    let hours = read_table(&dir, "flows_1h");
    assert_eq!(sum(&hours, "flows"), sum(&before_raw, "flows"));
}

#[test]
fn parts_merge_in_batches_then_into_one_file_once_the_partition_is_complete() {
    let dir = scratch("merge-complete");
    let mut store = open(&dir);
    write_overlapping_parts(&mut store, 5);
    // Fewer than five parts since: nothing to do.
    store.maintain(T0 + 3 * MINUTE).unwrap();
    let first = file_names(&dir, "flows");
    assert_eq!(first.len(), 1, "{first:?}");
    write_overlapping_parts(&mut store, 3);
    assert_eq!(store.maintain(T0 + 4 * MINUTE).unwrap().merged.len(), 0);
    assert_eq!(file_names(&dir, "flows").len(), 4);
    // The hour is over and settled: one file.
    let report = store.maintain(T0 + HOUR + 2 * MINUTE).unwrap();
    assert!(!report.merged.is_empty());
    let names = file_names(&dir, "flows");
    assert_eq!(names.len(), 1, "{names:?}");
    assert!(
        names[0].starts_with("2026-11-22/13/merged-0000000000000001-"),
        "{names:?}"
    );
    assert_eq!(read_table(&dir, "flows").num_rows(), 8 * 125);
    assert!(in_raw_order(&read_table(&dir, "flows")));
    // Nothing but the merged file is left in the raw table (the rollups' day and month go on).
    let tree = tree(&dir.join("flows"));
    assert!(tree.iter().all(|p| p.contains("/merged-")), "{tree:?}");
}

#[test]
fn retention_drops_whole_partitions_older_than_each_table_keeps() {
    let dir = scratch("retention");
    let mut store = open(&dir);
    let now = T0 + 20 * DAY;
    // Flows 20 days old (beyond the raw table's 15), 10 days old, and from now.
    for age in [20 * DAY, 10 * DAY, 0] {
        store.append(&flows(now - age, SEC, 50)).unwrap();
        store.flush().unwrap();
    }
    store.maintain(now).unwrap();
    let raw = file_names(&dir, "flows");
    assert_eq!(raw.len(), 2, "{raw:?}");
    assert!(raw.iter().all(|n| !n.starts_with("2026-11-22/")), "{raw:?}");
    assert!(
        !dir.join("flows/2026-11-22").exists(),
        "the day's directory goes with its last hour"
    );
    // The rollups keep 90 days and two years: everything stays.
    assert_eq!(sum(&read_table(&dir, "flows_1m"), "flows"), 150);
    assert_eq!(sum(&read_table(&dir, "flows_1h"), "flows"), 150);
    assert_eq!(count(&store.stats(), "files_deleted_retention"), 1);
    assert_eq!(read_table(&dir, "flows").num_rows(), 100);
}

#[test]
fn a_corrupt_input_is_quarantined_and_the_merge_retried_without_it() {
    let dir = scratch("merge-corrupt");
    let mut store = open(&dir);
    write_overlapping_parts(&mut store, 6);
    let hour = dir.join("flows/2026-11-22/13");
    let victim = hour.join("part-0000000000000004.parquet");
    let bytes = fs::read(&victim).unwrap();
    fs::write(&victim, &bytes[..bytes.len() - 9]).unwrap();
    let report = store.maintain(T0 + 5 * MINUTE).unwrap();
    assert_eq!(report.quarantined.len(), 1);
    assert_eq!(report.quarantined[0].0, victim);
    assert!(
        dir.join("quarantine/flows/2026-11-22/13/part-0000000000000004.parquet")
            .exists()
    );
    assert!(tree(&hour).iter().all(|n| !n.ends_with(".tmp")));
    store.maintain(T0 + 5 * MINUTE).unwrap();
    let names = file_names(&dir, "flows");
    assert_eq!(names.len(), 1, "{names:?}");
    assert_eq!(read_table(&dir, "flows").num_rows(), 5 * 125);
    assert_eq!(count(&store.stats(), "files_quarantined"), 1);
}

#[test]
fn a_complete_partition_of_one_part_is_rewritten_as_a_merged_file() {
    let dir = scratch("merge-one-part");
    let mut store = open(&dir);
    store.append(&flows(T0 + MINUTE, SEC, 50)).unwrap();
    store.flush().unwrap();
    // Still open: a lone part stays as it is.
    assert_eq!(store.maintain(T0 + 10 * MINUTE).unwrap().merged.len(), 0);
    store.maintain(T0 + HOUR + 2 * MINUTE).unwrap();
    let names = file_names(&dir, "flows");
    assert_eq!(
        names,
        ["2026-11-22/13/merged-0000000000000001-0000000000000001.parquet"]
    );
    let raw = read_table(&dir, "flows");
    assert_eq!(raw.num_rows(), 50);
    assert!(in_raw_order(&raw));
    // Merged once: the next run leaves it alone.
    let again = store.maintain(T0 + HOUR + 3 * MINUTE).unwrap();
    assert!(
        again.merged.iter().all(|p| !p.starts_with(dir.join("flows"))),
        "{again:?}"
    );
}
