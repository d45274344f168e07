//! What opening a store repairs after a crash, and what it leaves alone.

use std::fs;

use crate::common::*;
use weir_store::Store;
use weir_store::layout::FileName;

#[test]
fn unfinished_writes_are_removed_at_open() {
    let dir = scratch("recover-tmp");
    let mut store = open(&dir);
    store.append(&flows(T0, SEC, 100)).unwrap();
    store.close().unwrap();
    let tmp = dir.join("flows/2026-11-22/13/part-0000000000000009.parquet.tmp");
    fs::write(&tmp, b"PAR1 half a file").unwrap();
    let (mut store, recovery) = Store::open(config(&dir)).unwrap();
    assert_eq!(recovery.tmp_removed, std::slice::from_ref(&tmp));
    assert!(!tmp.exists());
    assert_eq!(recovery.files, 3, "raw, minute and hour parts");
    // The tmp file's number was never a file's: numbering goes on from the files found.
    assert_eq!(recovery.next_seq, 4);
    store.append(&flows(T0 + 200 * SEC, SEC, 10)).unwrap();
    store.close().unwrap();
    assert_eq!(read_table(&dir, "flows").num_rows(), 110);
}

#[test]
fn merge_inputs_left_beside_their_output_are_deleted_once() {
    let dir = scratch("recover-merge");
    let mut store = open(&dir);
    for k in 0..6 {
        store.append(&flows(T0 + k * 100 * SEC, SEC, 100)).unwrap();
        store.flush().unwrap();
    }
    // Keep copies of the parts, as a crash between writing the merged file and deleting its inputs would.
    let hour = dir.join("flows/2026-11-22/13");
    let parts: Vec<(std::path::PathBuf, Vec<u8>)> = fs::read_dir(&hour)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| (p.clone(), fs::read(&p).unwrap()))
        .collect();
    assert_eq!(parts.len(), 6);
    let report = store.maintain(T0 + 10 * MINUTE).unwrap();
    assert_eq!(report.merged.iter().filter(|p| p.starts_with(&hour)).count(), 1);
    store.close().unwrap();
    for (path, bytes) in &parts {
        fs::write(path, bytes).unwrap();
    }
    // Readers already skip them...
    assert_eq!(read_table(&dir, "flows").num_rows(), 600);
    // ...and the next open deletes them.
    let (_store, recovery) = Store::open(config(&dir)).unwrap();
    let mut removed = recovery.leftovers_removed.clone();
    removed.retain(|p| p.starts_with(&hour));
    removed.sort();
    let mut want: Vec<_> = parts.iter().map(|(p, _)| p.clone()).collect();
    want.sort();
    assert_eq!(removed, want);
    assert_eq!(fs::read_dir(&hour).unwrap().count(), 1);
    assert_eq!(read_table(&dir, "flows").num_rows(), 600);
    assert_eq!(
        sum(&read_table(&dir, "flows_1m"), "flows"),
        600,
        "merged rollups are not counted twice"
    );
}

#[test]
fn corrupt_files_are_quarantined_and_numbering_goes_past_them() {
    let dir = scratch("recover-corrupt");
    let mut store = open(&dir);
    store.append(&flows(T0, SEC, 100)).unwrap();
    store.flush().unwrap();
    store.append(&flows(T0 + 100 * SEC, SEC, 100)).unwrap();
    store.close().unwrap();
    // The second raw part (seq 4) loses its footer; a stray file with a higher number is garbage too.
    let bad = dir.join("flows/2026-11-22/13/part-0000000000000004.parquet");
    let len = fs::metadata(&bad).unwrap().len();
    let bytes = fs::read(&bad).unwrap();
    fs::write(&bad, &bytes[..len as usize / 2]).unwrap();
    let stray = dir.join("flows/2026-11-22/13/part-0000000000000042.parquet");
    fs::write(&stray, b"not parquet at all").unwrap();

    let (mut store, recovery) = Store::open(config(&dir)).unwrap();
    let moved: Vec<_> = recovery
        .quarantined
        .iter()
        .map(|(from, to, _)| (from.clone(), to.clone()))
        .collect();
    assert_eq!(
        moved,
        [
            (
                bad.clone(),
                dir.join("quarantine/flows/2026-11-22/13/part-0000000000000004.parquet")
            ),
            (
                stray.clone(),
                dir.join("quarantine/flows/2026-11-22/13/part-0000000000000042.parquet")
            ),
        ]
    );
    assert!(
        recovery
            .quarantined
            .iter()
            .all(|(_, _, reason)| !reason.is_empty())
    );
    assert_eq!(count(&store.stats(), "files_quarantined"), 2);
    // Kept as they were, for inspection.
    assert_eq!(
        fs::read(dir.join("quarantine/flows/2026-11-22/13/part-0000000000000042.parquet")).unwrap(),
        b"not parquet at all"
    );
    assert_eq!(recovery.next_seq, 43);
    assert_eq!(read_table(&dir, "flows").num_rows(), 100);

    store.append(&flows(T0 + 300 * SEC, SEC, 5)).unwrap();
    store.close().unwrap();
    let names = file_names(&dir, "flows");
    assert_eq!(
        names.last().map(String::as_str),
        Some("2026-11-22/13/part-0000000000000043.parquet")
    );
    // A later open finds nothing more to do, and numbering still goes past the quarantine.
    let (_store, again) = Store::open(config(&dir)).unwrap();
    assert!(
        again.quarantined.is_empty() && again.tmp_removed.is_empty() && again.leftovers_removed.is_empty()
    );
    assert_eq!(again.next_seq, 46);
    assert!(FileName::parse("part-0000000000000043.parquet").is_some());
}

#[test]
fn rejects_settings_without_one_raw_table() {
    let dir = scratch("recover-config");
    let mut c = config(&dir);
    c.tables.retain(|t| !t.is_raw());
    let err = Store::open(c).unwrap_err();
    assert!(err.to_string().contains("0 raw tables"), "{err}");
    let mut c = config(&dir);
    c.tables
        .push(weir_query::plan::Table::rollup("quarantine", 60, None));
    assert!(Store::open(c).is_err());
}

#[test]
fn rejects_rollups_keeping_columns_they_cannot_group_by() {
    let dir = scratch("recover-rollup-keys");
    let mut c = config(&dir);
    let keys = [weir_flow::Field::proto, weir_flow::Field::src_addr];
    c.tables
        .push(weir_query::plan::Table::rollup_of("by_addr_1m", 60, &keys, None));
    let err = Store::open(c).unwrap_err().to_string();
    assert!(err.contains("rollup by_addr_1m cannot keep src_addr"), "{err}");
}
