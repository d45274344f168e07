//! Helpers shared by the writer's tests: scratch directories, flows, and reading tables back.

use std::fs::{self, File};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::Duration;

use arrow::array::{AsArray, RecordBatch};
use arrow::compute::concat_batches;
use arrow::datatypes::{TimestampNanosecondType, UInt64Type};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use weir_flow::{FlowBatch, FlowRecord, ipv4};
use weir_query::plan::Table;
use weir_store::layout::{RAW_BUCKET, RAW_ORDER};
use weir_store::schema::{rollup_schema, table_schema};
use weir_store::units;
use weir_store::{Store, StoreConfig, StoreStats};

/// 2026-11-22T13:00:00Z.
pub const T0: u64 = 1_795_352_400_000_000_000;
pub const SEC: u64 = 1_000_000_000;
pub const MINUTE: u64 = 60 * SEC;
pub const HOUR: u64 = 60 * MINUTE;
pub const DAY: u64 = 24 * HOUR;

/// An empty directory of its own for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("writer-{name}"));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// Settings for tests: no disk reserve, small merges.
/// The raw table and the wide minute and hour rollups (the default tables but the narrow `traffic_*`
/// rollups, which [`config_all`] adds), so that file numbers in tests count three tables.
pub fn config(dir: &Path) -> StoreConfig {
    let mut c = config_all(dir);
    c.tables.retain(|t| !t.name.starts_with("traffic_"));
    c
}

/// The default tables.
pub fn config_all(dir: &Path) -> StoreConfig {
    StoreConfig {
        dir: dir.to_path_buf(),
        min_free_bytes: 0,
        merge_parts: 4,
        settle: Duration::from_secs(60),
        ..StoreConfig::default()
    }
}

pub fn open(dir: &Path) -> Store {
    Store::open(config(dir)).unwrap().0
}

pub fn count(stats: &StoreStats, name: &str) -> u64 {
    stats
        .values()
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| *v)
        .unwrap()
}

/// `n` flows received from `start` on, `step` apart, from three exporters, with varied keys and counters.
pub fn flows(start: u64, step: u64, n: u64) -> FlowBatch {
    let mut b = FlowBatch::new();
    for i in 0..n {
        let app = b.intern(["https", "dns", "ssh", "ntp"][(i % 4) as usize]);
        let received = start + i * step;
        // Routers stamp flows in milliseconds.
        let flow_end = (received / 1_000_000).saturating_sub(i % 7) * 1_000_000;
        b.push(&FlowRecord {
            time_received: received,
            flow_end,
            flow_start: flow_end.saturating_sub(i % 3 * 1_000_000),
            exporter_addr: ipv4([192, 0, 2, (i % 3) as u8 + 1]),
            in_if: (i % 7) as u32,
            proto: [6, 17][(i % 2) as usize],
            app,
            src_addr: ipv4([10, 0, (i >> 8) as u8, i as u8]),
            src_port: (i * 7919 % 65_536) as u16,
            sampling_rate: 1,
            bytes: 40 + i * 37 % 1460,
            packets: 1 + i % 9,
            flows: 1,
            ..FlowRecord::default()
        });
    }
    b
}

/// Every row of a table, read back from its files with the parquet crate's own reader, in file order.
pub fn read_table(dir: &Path, table: &str) -> RecordBatch {
    let schema = Table::defaults()
        .iter()
        .find(|t| t.name == table)
        .map_or_else(rollup_schema, table_schema);
    let mut batches = Vec::new();
    for path in weir_store::layout::files(dir, table, 0, u64::MAX).unwrap() {
        // Files may store flow times in coarser units than the table's nanoseconds.
        batches.extend(
            read_file(&path)
                .iter()
                .map(|b| units::convert(b, &schema).unwrap()),
        );
    }
    concat_batches(&schema, &batches).unwrap()
}

pub fn read_file(path: &Path) -> Vec<RecordBatch> {
    let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap())
        .unwrap()
        .build()
        .unwrap();
    reader.collect::<Result<_, _>>().unwrap()
}

pub fn sum(rb: &RecordBatch, column: &str) -> u64 {
    rb.column_by_name(column)
        .unwrap()
        .as_primitive::<UInt64Type>()
        .values()
        .iter()
        .sum()
}

/// Whether the rows are in a merged raw file's order: by time bucket, then by the columns of `RAW_ORDER`.
pub fn in_raw_order(rb: &RecordBatch) -> bool {
    let t = times(rb);
    let bytes = |name: &str| rb.column_by_name(name).unwrap().as_fixed_size_binary().clone();
    let (exporter, dst, src) = (bytes("exporter_addr"), bytes("dst_addr"), bytes("src_addr"));
    assert_eq!(
        RAW_ORDER,
        ["exporter_addr", "dst_addr", "src_addr", "time_received"]
    );
    let key = |i: usize| {
        (
            t[i] / RAW_BUCKET,
            exporter.value(i),
            dst.value(i),
            src.value(i),
            t[i],
        )
    };
    (1..rb.num_rows()).all(|i| key(i - 1) <= key(i))
}

/// The values of a nanosecond time column, sorted.
pub fn column(rb: &RecordBatch, name: &str) -> Vec<i64> {
    let mut v = rb
        .column_by_name(name)
        .unwrap()
        .as_primitive::<TimestampNanosecondType>()
        .values()
        .to_vec();
    v.sort();
    v
}

pub fn times(rb: &RecordBatch) -> Vec<i64> {
    rb.column_by_name("time_received")
        .unwrap()
        .as_primitive::<TimestampNanosecondType>()
        .values()
        .to_vec()
}

/// The data files of a table, relative to its directory, in time order.
pub fn file_names(dir: &Path, table: &str) -> Vec<String> {
    weir_store::layout::files(dir, table, 0, u64::MAX)
        .unwrap()
        .iter()
        .map(|p| p.strip_prefix(dir.join(table)).unwrap().display().to_string())
        .collect()
}

/// Every file under `dir`, relative to it, sorted.
pub fn tree(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                out.push(path.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

pub fn acknowledged(stats: &StoreStats) -> u64 {
    stats.flows_acknowledged.load(Ordering::Relaxed)
}

/// Decodes every datagram of the logstash-codec-netflow captures (NetFlow v5/v9 and IPFIX from a dozen
/// vendors) twice, so that data sent before its template is decoded the second time; each file is one
/// datagram, received one second after the previous, from an exporter of its own.
pub fn captured_flows() -> FlowBatch {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/captures/logstash-codec-netflow");
    let mut names: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "dat"))
        .collect();
    names.sort();
    let mut decoder = weir_proto::Decoder::new(weir_proto::Limits::default());
    let mut batch = FlowBatch::new();
    for round in 0..2u64 {
        for (i, path) in names.iter().enumerate() {
            let exporter = IpAddr::from([198, 51, 100, i as u8]);
            let received = T0 + (round * names.len() as u64 + i as u64) * SEC;
            decoder.decode(exporter, received, &fs::read(path).unwrap(), &mut batch);
        }
    }
    batch
}
