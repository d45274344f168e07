//! A damaged file does not fail the query: it is moved to `quarantine/`, named in a warning with what is
//! wrong and where, and the rest of the flows are answered.

mod query_common;

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use arrow::array::AsArray;
use arrow::datatypes::TimestampNanosecondType;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::file::reader::{FileReader, SerializedFileReader};
use query_common::{HOUR, NOW, T0, bytes, flows, records, store};
use weir_query::backend::{TimeRange, Value};
use weir_query::plan::{Kind, Query, Table, run_at};
use weir_store::layout;

/// The times of the flows in a data file.
fn times_in(path: &Path) -> HashSet<u64> {
    let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(path).expect("open"))
        .expect("parquet")
        .build()
        .expect("reader");
    let mut times = HashSet::new();
    for batch in reader {
        let batch = batch.expect("batch");
        let column = batch.column_by_name("time_received").expect("time column");
        let t = column.as_primitive::<TimestampNanosecondType>();
        times.extend((0..t.len()).map(|i| t.value(i) as u64));
    }
    times
}

/// Overwrites the first column chunk (`time_received`) of the first row group with 0xff bytes.
fn damage_first_chunk(path: &Path) {
    let reader = SerializedFileReader::new(File::open(path).expect("open")).expect("footer");
    let (start, len) = reader.metadata().row_group(0).column(0).byte_range();
    let mut file = OpenOptions::new()
        .write(true)
        .open(path)
        .expect("open for writing");
    file.seek(SeekFrom::Start(start)).expect("seek");
    file.write_all(&vec![0xff; len as usize]).expect("write");
}

/// Cuts the footer off.
fn damage_footer(path: &Path) {
    let len = fs::metadata(path).expect("metadata").len();
    OpenOptions::new()
        .write(true)
        .open(path)
        .expect("open for writing")
        .set_len(len - 20)
        .expect("truncate");
}

#[test]
fn damaged_files_are_quarantined_with_a_warning_and_the_rest_answered() {
    let batch = flows(3000);
    let all = records(&batch);
    let (dir, engine) = store("corrupt", &batch, 3);
    let range = TimeRange::new(T0, T0 + 3 * HOUR);
    let listed = layout::files(&dir.0, "flows", range.from, range.to).expect("files");
    assert!(listed.len() >= 6);
    let (chunk, footer): (PathBuf, PathBuf) = (listed[1].clone(), listed[4].clone());
    let rel = |p: &Path| {
        p.strip_prefix(&dir.0)
            .expect("inside the store")
            .display()
            .to_string()
    };
    let (chunk_rel, footer_rel) = (rel(&chunk), rel(&footer));
    let lost: HashSet<u64> = times_in(&chunk).union(&times_in(&footer)).copied().collect();
    assert!(!lost.is_empty());
    damage_first_chunk(&chunk);
    damage_footer(&footer);

    let tables = [Table::raw(None)];
    let q = Query::new(range, Kind::Summary);
    let answer = run_at(&engine, &tables, &q, NOW).expect("answered despite the damage");
    let kept: Vec<_> = all.iter().filter(|r| !lost.contains(&r.time_received)).collect();
    let at = answer.column("bytes").expect("bytes");
    assert_eq!(
        answer.rows[0][at],
        Value::U64(kept.iter().map(|r| bytes(r)).sum())
    );
    let flows_at = answer.column("flows").expect("flows");
    assert_eq!(
        answer.rows[0][flows_at],
        Value::U64(kept.iter().map(|r| r.flows).sum())
    );

    assert_eq!(answer.warnings.len(), 2, "{:?}", answer.warnings);
    let about = |file: &str| {
        answer
            .warnings
            .iter()
            .find(|w| w.starts_with(&format!("quarantined {file}: ")))
            .cloned()
    };
    let chunk_warning =
        about(&chunk_rel).unwrap_or_else(|| panic!("no warning for {chunk_rel}: {:?}", answer.warnings));
    assert!(
        chunk_warning.contains("row group 0, column `time_received`"),
        "{chunk_warning}"
    );
    let footer_warning =
        about(&footer_rel).unwrap_or_else(|| panic!("no warning for {footer_rel}: {:?}", answer.warnings));
    assert!(footer_warning.contains("footer"), "{footer_warning}");

    for (path, rel) in [(&chunk, &chunk_rel), (&footer, &footer_rel)] {
        assert!(!path.exists(), "{rel} left in the table");
        assert!(
            dir.0.join(layout::QUARANTINE).join(rel).is_file(),
            "{rel} kept in quarantine"
        );
    }
    let again = run_at(&engine, &tables, &q, NOW).expect("answered");
    assert!(again.warnings.is_empty(), "{:?}", again.warnings);
    assert_eq!(again.rows, answer.rows);
}
