//! Flows written by the store read back, with the parquet crate's own reader, exactly as they went in.

use std::net::Ipv6Addr;

use crate::common::*;
use arrow::array::{Array, RecordBatch};
use weir_flow::{ColumnRef, FIELDS, FlowBatch, FlowRecord, Kind, ipv4, push_extra};
use weir_store::convert::to_record_batch;
use weir_store::schema::raw_schema;

/// Two flows in which every column holds a value other than its zero, each different between the rows.
fn every_column() -> FlowBatch {
    let mut b = FlowBatch::new();
    for i in 0..2u32 {
        let name = |b: &mut FlowBatch, s: &str| b.intern(&format!("{s}-{i}"));
        let v6 = |last: u16| Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, i as u16, last);
        let rec = FlowRecord {
            time_received: T0 + u64::from(i),
            flow_start: T0 - 30 * SEC + u64::from(i),
            flow_end: T0 - SEC + u64::from(i),
            exporter_addr: ipv4([192, 0, 2, 1 + i as u8]),
            exporter_name: name(&mut b, "edge"),
            observation_domain: 256 + i,
            sampling_rate: 1000 + i,
            in_if: 10 + i,
            out_if: 20 + i,
            in_if_name: name(&mut b, "xe-0/0/1"),
            out_if_name: name(&mut b, "xe-0/0/2"),
            in_if_speed: 10_000_000_000 + u64::from(i),
            out_if_speed: 100_000_000_000 + u64::from(i),
            in_if_boundary: 1 + i as u8,
            out_if_boundary: 2 - i as u8,
            flow_direction: 1 + i as u8,
            forwarding_status: 64 + i as u8,
            etype: [0x0800, 0x86dd][i as usize],
            proto: [6, 17][i as usize],
            src_addr: v6(1),
            dst_addr: v6(2),
            src_port: 443 + i as u16,
            dst_port: 50_000 + i as u16,
            src_mask: 24 + i as u8,
            dst_mask: 48 + i as u8,
            tos: 0x28 + i as u8,
            tcp_flags: 0x1b + i as u16,
            icmp_type: 3 + i as u8,
            icmp_code: 1 + i as u8,
            vlan: 100 + i as u16,
            src_mac: 0x0011_2233_4455 + u64::from(i),
            dst_mac: 0x0066_7788_99aa + u64::from(i),
            next_hop: v6(3),
            bgp_next_hop: ipv4([203, 0, 113, 1 + i as u8]),
            src_as: 64_500 + i,
            dst_as: 15_169 + i,
            dst_as_path: b.push_list(&[64_500, 3356, 15_169 + i]),
            dst_communities: b.push_list(&[(64_500 << 16) | (100 + i)]),
            src_country: name(&mut b, "FR"),
            dst_country: name(&mut b, "US"),
            src_as_name: name(&mut b, "Example"),
            dst_as_name: name(&mut b, "Google"),
            src_domain: name(&mut b, "host.example.net"),
            dst_domain: name(&mut b, "dns.google"),
            app: name(&mut b, "https"),
            threat: name(&mut b, "botnet"),
            flow_end_reason: 1 + i as u8,
            bytes: 1_500_000 + u64::from(i),
            packets: 1_000 + u64::from(i),
            flows: 1 + u64::from(i),
            extra_fields: {
                let mut extra = Vec::new();
                push_extra(&mut extra, 9, 12_235 + i as u16, &[1, 2, 3]);
                b.push_blob(&extra)
            },
        };
        b.push(&rec);
    }
    b
}

/// Writes `batch` through a store and reads the raw table back.
fn through_the_store(name: &str, batch: &FlowBatch) -> RecordBatch {
    let dir = scratch(name);
    let mut store = open(&dir);
    store.append(batch).unwrap();
    assert_eq!(store.flush().unwrap(), batch.len() as u64);
    store.close().unwrap();
    read_table(&dir, "flows")
}

fn assert_same_rows(got: &RecordBatch, want: &RecordBatch) {
    assert_eq!(got.num_rows(), want.num_rows());
    assert_eq!(got.schema().fields(), raw_schema().fields());
    for (i, f) in raw_schema().fields().iter().enumerate() {
        assert_eq!(
            got.column(i).to_data(),
            want.column(i).to_data(),
            "column {}",
            f.name()
        );
    }
}

#[test]
fn every_column_kind_reads_back_unchanged() {
    let batch = every_column();
    // The rows really do exercise every column: no value is its kind's zero.
    for (&field, rec) in FIELDS.iter().zip(weir_flow::COLUMNS) {
        let nonzero = match batch.cols.get(field) {
            ColumnRef::Time(v) | ColumnRef::U64(v) | ColumnRef::Mac(v) => v.iter().all(|&x| x != 0),
            ColumnRef::U8(v) => v.iter().all(|&x| x != 0),
            ColumnRef::U16(v) => v.iter().all(|&x| x != 0),
            ColumnRef::U32(v) => v.iter().all(|&x| x != 0),
            ColumnRef::Ip(v) => v.iter().all(|x| !x.is_unspecified()),
            ColumnRef::Str(v) => v.iter().all(|&s| !batch.str(s).is_empty()),
            ColumnRef::U32List(v) => v.iter().all(|&l| !batch.list(l).is_empty()),
            ColumnRef::Bytes(v) => v.iter().all(|&x| !batch.blob(x).is_empty()),
        };
        assert!(nonzero, "column {} ({:?}) has a zero", rec.name, rec.kind);
    }
    let got = through_the_store("every-column", &batch);
    assert_same_rows(&got, &to_record_batch(&batch).unwrap());
    // And the values are the flows', not only the same as another conversion of them.
    let row = |name: &str| got.column_by_name(name).unwrap().clone();
    use arrow::array::AsArray;
    assert_eq!(row("dst_as_name").as_string::<i32>().value(1), "Google-1");
    assert_eq!(
        row("bgp_next_hop").as_fixed_size_binary().value(0),
        ipv4([203, 0, 113, 1]).octets()
    );
    let path = row("dst_as_path");
    let path = path.as_list::<i32>().value(1);
    assert_eq!(
        path.as_primitive::<arrow::datatypes::UInt32Type>().values(),
        &[64_500, 3356, 15_170]
    );
    assert_eq!(
        weir_flow::COLUMNS
            .iter()
            .filter(|c| c.kind == Kind::U32List)
            .count(),
        2
    );
}

#[test]
fn captured_flows_read_back_unchanged() {
    let batch = captured_flows();
    assert!(batch.len() > 300, "the captures decode to {} flows", batch.len());
    let got = through_the_store("captured", &batch);
    assert_same_rows(&got, &to_record_batch(&batch).unwrap());
    assert!(got.column_by_name("extra_fields").unwrap().as_ref().len() == batch.len());
}

#[test]
fn flows_out_of_order_are_stored_sorted_by_time() {
    let dir = scratch("unsorted");
    let mut store = open(&dir);
    // Two shards' batches, interleaved in time, appended one after the other.
    let a = flows(T0, 2 * SEC, 500);
    let b = flows(T0 + SEC, 2 * SEC, 500);
    store.append(&a).unwrap();
    store.append(&b).unwrap();
    store.close().unwrap();
    let got = read_table(&dir, "flows");
    assert_eq!(got.num_rows(), 1000);
    let t = times(&got);
    assert!(t.is_sorted());
    assert_eq!(t.first(), Some(&(T0 as i64)));
    assert_eq!(
        sum(&got, "bytes"),
        a.cols.bytes.iter().chain(&b.cols.bytes).sum::<u64>()
    );
}

#[test]
fn a_flush_spanning_hours_writes_one_part_per_partition() {
    let dir = scratch("hours");
    let mut store = open(&dir);
    // From 13:30 to 16:00, a minute apart, in one flush.
    store.append(&flows(T0 + 30 * MINUTE, MINUTE, 151)).unwrap();
    store.flush().unwrap();
    assert_eq!(
        file_names(&dir, "flows"),
        [
            "2026-11-22/13/part-0000000000000001.parquet",
            "2026-11-22/14/part-0000000000000002.parquet",
            "2026-11-22/15/part-0000000000000003.parquet",
            "2026-11-22/16/part-0000000000000004.parquet",
        ]
    );
    assert_eq!(
        file_names(&dir, "flows_1m"),
        ["2026-11-22/part-0000000000000005.parquet"]
    );
    assert_eq!(
        file_names(&dir, "flows_1h"),
        ["2026-11/part-0000000000000006.parquet"]
    );
    // Each part holds its hour only.
    for path in weir_store::layout::files(&dir, "flows", 0, u64::MAX).unwrap() {
        let rows: Vec<i64> = read_file(&path).iter().flat_map(times).collect();
        let hour = rows[0] as u64 / HOUR;
        assert!(
            rows.iter().all(|&t| t as u64 / HOUR == hour),
            "{}",
            path.display()
        );
    }
    let stats = store.stats();
    assert_eq!(count(&stats, "parts_written"), 6);
    assert_eq!(count(&stats, "flows_acknowledged"), 151);
    assert_eq!(count(&stats, "buffer_flows"), 0);
    assert!(count(&stats, "bytes_written") > 0);
}

#[test]
fn a_flush_is_due_after_the_interval_or_once_enough_flows_wait() {
    let dir = scratch("flush-due");
    let mut c = config(&dir);
    c.flush_interval = std::time::Duration::from_millis(200);
    c.flush_flows = 100;
    let (mut store, _) = weir_store::Store::open(c).unwrap();
    assert!(!store.flush_due(), "nothing buffered");
    store.append(&flows(T0, SEC, 10)).unwrap();
    assert!(!store.flush_due());
    std::thread::sleep(std::time::Duration::from_millis(250));
    assert!(store.flush_due(), "the interval has passed");
    store.flush().unwrap();
    assert!(!store.flush_due());
    store.append(&flows(T0, SEC, 100)).unwrap();
    assert!(store.flush_due(), "100 flows wait");
    assert_eq!(store.buffered(), 100);
}

#[test]
fn flushes_taken_for_another_thread_store_every_flow_while_appending_goes_on() {
    let dir = scratch("taken-flushes");
    let mut c = config(&dir);
    c.max_buffer_flows = 2_500;
    let (mut store, _) = weir_store::Store::open(c).unwrap();
    let stats = store.stats();
    let writer = store.writer();

    store.append(&flows(T0, SEC / 10, 1_000)).unwrap();
    let first = store.take();
    assert_eq!(store.buffered(), 0, "taken");
    assert!(!store.flush_due(), "nothing left to flush");
    // Appending goes on while the first flush waits to be written, and the flows taken still count against
    // the buffer's limit until they are written.
    store.append(&flows(T0 + 100 * SEC, SEC / 10, 1_000)).unwrap();
    let full = store.append(&flows(T0 + 200 * SEC, SEC / 10, 1_000));
    assert!(
        matches!(
            full,
            Err(weir_store::StoreError::BufferFull {
                buffered: 2_000,
                dropped: 1_000
            })
        ),
        "{full:?}"
    );
    assert_eq!(count(&stats, "buffer_flows"), 2_000);
    let second = store.take();

    let written = std::thread::spawn(move || {
        writer.write(first).unwrap();
        writer.write(second).unwrap()
    });
    assert_eq!(written.join().unwrap(), 2_000);
    assert_eq!(count(&stats, "buffer_flows"), 0);
    store.append(&flows(T0 + 300 * SEC, SEC / 10, 500)).unwrap();
    assert_eq!(store.close().unwrap(), 2_500);

    let raw = read_table(&dir, "flows");
    assert_eq!(raw.num_rows(), 2_500);
    let want: u64 = [(T0, 1_000), (T0 + 100 * SEC, 1_000), (T0 + 300 * SEC, 500)]
        .iter()
        .map(|&(start, n)| sum(&to_record_batch(&flows(start, SEC / 10, n)).unwrap(), "bytes"))
        .sum();
    assert_eq!(sum(&raw, "bytes"), want);
    assert_eq!(
        sum(&read_table(&dir, "flows_1m"), "bytes"),
        want,
        "the rollups of both flushes are written too"
    );
}
