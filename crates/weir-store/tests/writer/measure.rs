//! A measurement, not a check: flows per second through `append` + `flush` on one core, and bytes per flow
//! on disk by table and by column, for realistic flows decoded from a capture of `weir bench data`:
//!
//! ```sh
//! weir bench data --flows 2000000 --hours 1 --pcap /tmp/bench.pcap
//! WEIR_STORE_MEASURE_PCAP=/tmp/bench.pcap \
//!   cargo test --release -p weir-store --test writer measure -- --ignored --nocapture
//! ```
//!
//! With `WEIR_STORE_MEASURE_RATE=2000000`, flows are stamped as a collector receiving that many per second
//! would stamp them (the capture's own times are spread over its window), which is what the rollups and
//! the time column see on a busy collector.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::common::*;
use parquet::file::reader::{FileReader, SerializedFileReader};
use weir_flow::FlowBatch;
use weir_store::Store;

/// Flows per appended batch, about what a decoder shard hands on at a time.
const BATCH_FLOWS: usize = 4096;

/// Reads a classic pcap of raw IPv4 packets (what `weir bench data --pcap` writes, nanosecond stamps)
/// and calls `f(exporter, time_ns, udp_payload)` for each UDP datagram.
fn each_datagram(path: &Path, mut f: impl FnMut(IpAddr, u64, &[u8])) {
    let data = fs::read(path).unwrap();
    let magic = u32::from_le_bytes(data[0..4].try_into().unwrap());
    let frac = match magic {
        0xa1b2_3c4d => 1,
        0xa1b2_c3d4 => 1000,
        m => panic!(
            "{}: not a little-endian classic pcap (magic {m:#x})",
            path.display()
        ),
    };
    let link = u32::from_le_bytes(data[20..24].try_into().unwrap());
    assert_eq!(
        link,
        101,
        "{}: link type {link}, expected raw IP (101)",
        path.display()
    );
    let mut at = 24;
    while at + 16 <= data.len() {
        let word = |o: usize| u64::from(u32::from_le_bytes(data[at + o..at + o + 4].try_into().unwrap()));
        let (secs, sub, len) = (word(0), word(4), word(8) as usize);
        let packet = &data[at + 16..(at + 16 + len).min(data.len())];
        at += 16 + len;
        let ihl = usize::from(packet[0] & 0x0f) * 4;
        let exporter = IpAddr::V4(Ipv4Addr::new(packet[12], packet[13], packet[14], packet[15]));
        f(exporter, secs * SEC + sub * frac, &packet[ihl + 8..]);
    }
}

fn dir_bytes(dir: &Path) -> u64 {
    if !dir.exists() {
        return 0;
    }
    tree(dir)
        .iter()
        .map(|p| fs::metadata(dir.join(p)).map_or(0, |m| m.len()))
        .sum()
}

/// Compressed bytes of each column over the files of a table, from their Parquet metadata.
fn column_bytes(files: &[PathBuf]) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for path in files {
        let reader = SerializedFileReader::new(File::open(path).unwrap()).unwrap();
        for rg in reader.metadata().row_groups() {
            for c in rg.columns() {
                *out.entry(c.column_path().string()).or_default() += c.compressed_size() as u64;
            }
        }
    }
    out
}

#[test]
#[ignore = "a measurement over a large capture; run it by hand (see the file's documentation)"]
fn measure_ingest_rate_and_bytes_per_flow() {
    let rate: Option<u64> = std::env::var("WEIR_STORE_MEASURE_RATE")
        .ok()
        .map(|r| r.parse().expect("a rate"));
    let pcap = PathBuf::from(
        std::env::var("WEIR_STORE_MEASURE_PCAP")
            .expect("WEIR_STORE_MEASURE_PCAP names a capture of `weir bench data --pcap`"),
    );
    let dir = scratch("measure");
    let mut c = config_all(&dir);
    c.merge_parts = 32;
    let flush_flows = c.flush_flows;
    let (mut store, _) = Store::open(c).unwrap();

    let mut decoder = weir_proto::Decoder::new(weir_proto::Limits::default());
    let mut batch = FlowBatch::with_capacity(BATCH_FLOWS + 64);
    let (mut appending, mut flushing) = (Duration::ZERO, Duration::ZERO);
    let (mut flows, mut since_flush, mut last_time, mut stamped) = (0u64, 0usize, 0u64, 0u64);
    let mut ingest = |store: &mut Store, batch: &mut FlowBatch| {
        let t = Instant::now();
        store.append(batch).unwrap();
        appending += t.elapsed();
        flows += batch.len() as u64;
        since_flush += batch.len();
        batch.clear();
        if since_flush >= flush_flows {
            let t = Instant::now();
            store.flush().unwrap();
            flushing += t.elapsed();
            since_flush = 0;
        }
    };
    each_datagram(&pcap, |exporter, time, datagram| {
        let before = batch.len();
        decoder.decode(exporter, time, datagram, &mut batch);
        if let Some(rate) = rate {
            for t in &mut batch.cols.time_received[before..] {
                *t = T0 + stamped * SEC / rate;
                stamped += 1;
            }
        }
        last_time = batch.cols.time_received.last().copied().unwrap_or(time);
        if batch.len() >= BATCH_FLOWS {
            ingest(&mut store, &mut batch);
        }
    });
    ingest(&mut store, &mut batch);
    let t = Instant::now();
    store.flush().unwrap();
    flushing += t.elapsed();
    let stats = store.stats();
    assert_eq!(acknowledged(&stats), flows);

    let raw_parts = dir_bytes(&dir.join("flows"));
    let t = Instant::now();
    let report = store.maintain(last_time + 2 * HOUR).unwrap();
    let merging = t.elapsed();
    store.close().unwrap();

    let busy = appending + flushing;
    println!("flows                  {flows} from {}", pcap.display());
    println!(
        "append + flush         {:.2} s: {:.0} flows/s (append {:.2} s, flush {:.2} s)",
        busy.as_secs_f64(),
        flows as f64 / busy.as_secs_f64(),
        appending.as_secs_f64(),
        flushing.as_secs_f64()
    );
    println!(
        "merge                  {:.2} s for {} files: {:.0} flows/s",
        merging.as_secs_f64(),
        report.merged.len(),
        flows as f64 / merging.as_secs_f64()
    );
    println!(
        "raw parts before merge {:.2} bytes/flow",
        raw_parts as f64 / flows as f64
    );
    for table in ["flows", "flows_1m", "flows_1h", "traffic_1m", "traffic_1h"] {
        let bytes = dir_bytes(&dir.join(table));
        let rows = read_table(&dir, table).num_rows();
        println!(
            "{table:<22} {:.2} bytes/flow, {rows} rows, {bytes} bytes",
            bytes as f64 / flows as f64
        );
    }
    let raw_files = weir_store::layout::files(&dir, "flows", 0, u64::MAX).unwrap();
    let mut columns: Vec<(String, u64)> = column_bytes(&raw_files).into_iter().collect();
    columns.sort_by_key(|(_, b)| std::cmp::Reverse(*b));
    println!("raw table by column (compressed):");
    for (name, bytes) in columns.iter().filter(|(_, b)| *b > 0) {
        println!("  {name:<20} {:>6.3} bytes/flow", *bytes as f64 / flows as f64);
    }
}
