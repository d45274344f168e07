//! Decoding NetFlow v5: a real 30-record datagram (a Mikrotik router's, from the test captures) decoded over
//! and over into a `FlowBatch`, which is cleared between batches as a receiver does. Reports records per
//! second (`cargo bench -p weir-proto --bench netflow_v5`).

use std::hint::black_box;
use std::net::IpAddr;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use weir_flow::FlowBatch;
use weir_proto::Decoder;

const DATAGRAM: &[u8] =
    include_bytes!("../../../fixtures/captures/logstash-codec-netflow/netflow5_test_microtik.dat");

/// Records in the datagram.
const RECORDS: u64 = 30;

/// Datagrams per batch in the second benchmark: about what a receiver gathers before handing a batch on.
const DATAGRAMS_PER_BATCH: usize = 64;

fn decode_v5(c: &mut Criterion) {
    let exporter = IpAddr::from([192, 0, 2, 1]);
    let mut decoder = Decoder::default();
    let mut batch = FlowBatch::with_capacity(RECORDS as usize * DATAGRAMS_PER_BATCH);
    let first = decoder.decode(exporter, 1, DATAGRAM, &mut batch);
    assert_eq!((first.records, first.error), (RECORDS as usize, None));

    let mut group = c.benchmark_group("netflow_v5");
    group.throughput(Throughput::Elements(RECORDS));
    group.bench_function("one_datagram_per_batch", |b| {
        b.iter(|| {
            batch.clear();
            decoder
                .decode(exporter, 1, black_box(DATAGRAM), &mut batch)
                .records
        })
    });
    group.throughput(Throughput::Elements(RECORDS * DATAGRAMS_PER_BATCH as u64));
    group.bench_function("64_datagrams_per_batch", |b| {
        b.iter(|| {
            batch.clear();
            for _ in 0..DATAGRAMS_PER_BATCH {
                decoder.decode(exporter, 1, black_box(DATAGRAM), &mut batch);
            }
            batch.len()
        })
    });
    group.finish();
}

criterion_group!(benches, decode_v5);
criterion_main!(benches);
