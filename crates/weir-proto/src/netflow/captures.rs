//! NetFlow v5 captures from real exporters (see `fixtures/SOURCES.md`): decoded with the values checked,
//! read and written back to the same bytes, and the malformed ones rejected with clear errors.

use std::net::Ipv4Addr;

use weir_flow::ipv4;

use super::clock::ExportClock;
use super::testing::{counters, decode_all};
use super::v5::{SamplingInterval, V5Header, V5Packet};
use crate::error::{DecodeError, ErrorKind};
use crate::reader::Reader;
use crate::stats::Dialect;

const SOFTFLOWD: &[u8] = include_bytes!("../../../../fixtures/captures/logstash-codec-netflow/netflow5.dat");
const MX80: &[u8] =
    include_bytes!("../../../../fixtures/captures/logstash-codec-netflow/netflow5_test_juniper_mx80.dat");
const MIKROTIK: &[u8] =
    include_bytes!("../../../../fixtures/captures/logstash-codec-netflow/netflow5_test_microtik.dat");
const INVALID_01: &[u8] =
    include_bytes!("../../../../fixtures/captures/logstash-codec-netflow/netflow5_test_invalid01.dat");
const INVALID_02: &[u8] =
    include_bytes!("../../../../fixtures/captures/logstash-codec-netflow/netflow5_test_invalid02.dat");
const GOFLOW2: &[u8] =
    include_bytes!("../../../../fixtures/captures/goflow2/netflowlegacy_TestDecodeNetFlowV5_0.bin");

/// Reads the capture as one datagram: header, records, nothing left; writing it gives the same bytes.
fn read_whole(bytes: &[u8]) -> V5Packet {
    let mut r = Reader::new(bytes);
    let packet = V5Packet::read(&mut r).expect("the capture parses");
    assert!(r.is_empty(), "{} bytes left", r.remaining());
    let mut out = Vec::new();
    packet.write(&mut out).expect("the capture encodes");
    assert_eq!(out, bytes);
    packet
}

/// `netflow5.dat` is what `nc` wrote while softflowd exported: twelve datagrams end to end. Splits it at
/// the boundaries the headers' counts give.
fn softflowd_datagrams() -> Vec<&'static [u8]> {
    let mut rest = SOFTFLOWD;
    let mut datagrams = Vec::new();
    while let Some(count) = rest.get(2..4) {
        let len = 24 + 48 * usize::from(u16::from_be_bytes([count[0], count[1]]));
        let (datagram, tail) = rest.split_at(len);
        datagrams.push(datagram);
        rest = tail;
    }
    datagrams
}

#[test]
fn decodes_a_softflowd_stream_in_sequence() {
    let datagrams = softflowd_datagrams();
    assert_eq!(datagrams.len(), 12);
    for d in &datagrams {
        read_whole(d);
    }
    let (decoder, batch, outcomes) = decode_all(&datagrams);
    assert!(outcomes.iter().all(|o| o.error.is_none()));
    assert_eq!(batch.len(), 30);
    let c = counters(&decoder, Dialect::NetflowV5, 0);
    assert_eq!((c.datagrams, c.bytes, c.records), (12, 1728, 30));
    assert_eq!(
        (c.sequence_gaps, c.lost_records, c.restarts, c.total_errors()),
        (0, 0, 0, 0)
    );

    // The first flow began at uptime 0xffffffff, one millisecond before boot: 3382 ms before the export.
    let export = 1_430_591_888_280_328_000;
    let f = batch.row(0).unwrap();
    assert_eq!(
        (f.src_addr, f.dst_addr),
        (ipv4([10, 0, 2, 2]), ipv4([10, 0, 2, 15]))
    );
    assert_eq!(
        (f.src_port, f.dst_port, f.proto, f.tcp_flags),
        (54_435, 22, 6, 0x10)
    );
    assert_eq!((f.packets, f.bytes, f.flows, f.sampling_rate), (5, 230, 1, 1));
    assert_eq!(f.flow_start, export - 3_382_000_000);
    assert_eq!(f.flow_end, export - 804_000_000);
    let last = batch.row(29).unwrap();
    assert_eq!((last.packets, last.bytes, last.src_port), (7, 580, 22));
}

#[test]
fn reports_glued_datagrams_as_trailing_bytes_after_the_first() {
    let (decoder, batch, outcomes) = decode_all(&[SOFTFLOWD]);
    assert_eq!(
        outcomes[0].error,
        Some(DecodeError::TrailingBytes {
            offset: 120,
            count: 1608
        })
    );
    assert_eq!(batch.len(), 2);
    let c = counters(&decoder, Dialect::NetflowV5, 0);
    assert_eq!((c.records, c.errors_of(ErrorKind::TrailingBytes)), (2, 1));
}

#[test]
fn decodes_a_sampled_juniper_mx80_datagram() {
    let packet = read_whole(MX80);
    assert_eq!(
        packet.header,
        V5Header {
            clock: ExportClock {
                sys_uptime: 190_649_064,
                unix_secs: 1_469_109_172,
                unix_nsecs: 0
            },
            flow_sequence: 528_678,
            engine_type: 0,
            engine_id: 0,
            sampling: SamplingInterval(1000),
        }
    );
    assert_eq!(packet.records.len(), 29);
    let (decoder, batch, outcomes) = decode_all(&[MX80]);
    assert_eq!(outcomes[0].error, None);
    assert_eq!(batch.len(), 29);
    let f = batch.row(28).unwrap();
    assert_eq!(
        (f.src_addr, f.dst_addr, f.next_hop),
        (
            ipv4([66, 249, 92, 75]),
            ipv4([192, 168, 0, 1]),
            ipv4([192, 168, 0, 1])
        )
    );
    assert_eq!((f.in_if, f.out_if, f.packets, f.bytes), (542, 536, 2, 104));
    assert_eq!(
        (f.src_port, f.dst_port, f.tcp_flags, f.proto, f.tos),
        (37_387, 80, 0x10, 6, 0)
    );
    assert_eq!(
        (f.src_as, f.dst_as, f.src_mask, f.dst_mask),
        (15_169, 64_496, 19, 24)
    );
    assert_eq!(f.sampling_rate, 1000);
    assert_eq!(f.flow_start, 1_469_109_172_000_000_000 - 18_064_000_000);
    assert_eq!(f.flow_start, f.flow_end);
    assert!(batch.cols.sampling_rate.iter().all(|&s| s == 1000));
    let c = counters(&decoder, Dialect::NetflowV5, 0);
    assert_eq!(
        (c.datagrams, c.bytes, c.records, c.total_errors()),
        (1, 1416, 29, 0)
    );
}

#[test]
fn decodes_a_full_mikrotik_datagram() {
    let packet = read_whole(MIKROTIK);
    assert_eq!(packet.records.len(), 30);
    assert_eq!(packet.header.flow_sequence, 8_140_050);
    let (decoder, batch, outcomes) = decode_all(&[MIKROTIK]);
    assert_eq!(outcomes[0].error, None);
    let f = batch.row(29).unwrap();
    assert_eq!(
        (f.src_addr, f.dst_addr),
        (ipv4([10, 0, 8, 1]), ipv4([192, 168, 0, 1]))
    );
    assert_eq!((f.in_if, f.out_if, f.packets, f.bytes), (13, 46, 13, 11_442));
    assert_eq!((f.src_port, f.dst_port, f.tcp_flags, f.tos), (80, 51_826, 82, 40));
    // Exported at 1469109117.514932 s with uptime 27361640 ms; the flow was seen at uptime 27346380 ms.
    assert_eq!(f.flow_start, 1_469_109_117_514_932_000 - 15_260_000_000);
    let c = counters(&decoder, Dialect::NetflowV5, 0);
    assert_eq!((c.records, c.total_errors()), (30, 0));
}

#[test]
fn decodes_goflow2s_vector_into_its_engine_domain() {
    let packet = read_whole(GOFLOW2);
    assert_eq!((packet.header.engine_type, packet.header.engine_id), (8, 8));
    assert_eq!(packet.records[0].input, 9);
    assert_eq!(packet.records[0].src_addr, Ipv4Addr::new(10, 128, 2, 121));
    let (decoder, batch, outcomes) = decode_all(&[GOFLOW2]);
    assert_eq!(outcomes[0].error, None);
    assert_eq!(outcomes[0].domain.domain, 0x0808);
    assert_eq!(batch.len(), 6);
    assert!(batch.cols.observation_domain.iter().all(|&d| d == 0x0808));
    let f = batch.row(0).unwrap();
    assert_eq!(
        (f.in_if, f.out_if, f.packets, f.bytes, f.src_port, f.dst_port),
        (9, 2, 5, 590, 8080, 47_384)
    );
    let c = counters(&decoder, Dialect::NetflowV5, 0x0808);
    assert_eq!((c.datagrams, c.records, c.total_errors()), (1, 6, 0));
}

#[test]
fn rejects_the_malformed_captures_by_their_counts() {
    for (bytes, count) in [(INVALID_01, 55_582), (INVALID_02, 163)] {
        assert_eq!(
            V5Packet::read(&mut Reader::new(bytes)),
            Err(DecodeError::BadLength {
                offset: 2,
                what: "record count",
                value: count
            })
        );
        let (decoder, batch, outcomes) = decode_all(&[bytes]);
        assert_eq!(
            outcomes[0].error,
            Some(DecodeError::BadLength {
                offset: 2,
                what: "record count",
                value: count
            })
        );
        assert!(batch.is_empty());
        // The header was not trusted, so its engine (0/67) named no domain: the error is on domain 0.
        assert_eq!(decoder.domains().count(), 1);
        let c = counters(&decoder, Dialect::NetflowV5, 0);
        assert_eq!(
            (c.datagrams, c.records, c.errors_of(ErrorKind::BadLength)),
            (1, 0, 1)
        );
    }
}
