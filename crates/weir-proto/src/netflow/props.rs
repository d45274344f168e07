//! Properties: no byte string makes the decoder panic or miscount, every model encodes to bytes that parse
//! back to it, and flows go through the v5 encoder and decoder unchanged.
//!
//! Models are generated as the bytes they are read from: every bit pattern is a valid model and reading is
//! one-to-one, so random bytes give random models of every shape, padding included.

use std::net::Ipv6Addr;

use proptest::collection::vec;
use proptest::prelude::*;
use weir_flow::{FlowRecord, ipv4};

use super::testing::{EXPORTER, RECEIVED, decode_all};
use super::v5::SamplingInterval;
use super::wire::Wire;
use super::{
    Aggregation, ExportClock, Header, Packet, V1Header, V5Header, V7Header, V8Header, V8Packet, v5_datagrams,
    v8_datagrams,
};
use crate::reader::Reader;

/// The bytes of a datagram of `count` records: version, count, then `body` (header and records).
fn datagram(version: u16, count: usize, body: &[u8]) -> Vec<u8> {
    let mut bytes = version.to_be_bytes().to_vec();
    bytes.extend_from_slice(&(count as u16).to_be_bytes());
    bytes.extend_from_slice(body);
    bytes
}

/// Reads `bytes` as a whole model, writes it back, and reads that again.
fn encode_parse_identity<P: PartialEq + std::fmt::Debug>(
    bytes: &[u8],
    read: impl Fn(&mut Reader<'_>) -> Result<P, crate::DecodeError>,
    write: impl Fn(&P, &mut Vec<u8>) -> Result<(), super::EncodeError>,
) -> Result<(), TestCaseError> {
    let mut r = Reader::new(bytes);
    let model = read(&mut r).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert!(r.is_empty());
    let mut out = Vec::new();
    write(&model, &mut out).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(&out, bytes);
    let again = read(&mut Reader::new(&out)).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(again, model);
    Ok(())
}

/// Header and records of a v1, v5 or v7 datagram, as bytes.
fn fixed_datagram<H: Header>() -> impl Strategy<Value = Vec<u8>> {
    (1..=40usize).prop_flat_map(|count| {
        vec(any::<u8>(), H::LEN + count * <H::Record as Wire>::LEN)
            .prop_map(move |body| datagram(H::VERSION, count, &body))
    })
}

/// A v8 datagram of any known scheme, as bytes.
fn v8_datagram() -> impl Strategy<Value = Vec<u8>> {
    (prop::sample::select(Aggregation::ALL), 1..=60usize).prop_flat_map(|(scheme, count)| {
        let len = scheme.record_len().unwrap_or(0);
        vec(any::<u8>(), <V8Header as Wire>::LEN + count * len).prop_map(move |mut body| {
            body[18] = scheme.0;
            datagram(8, count, &body)
        })
    })
}

/// A flow with only what v5 carries, as the decoder fills it from a datagram built with `clock`.
fn v5_flow(clock: ExportClock) -> impl Strategy<Value = FlowRecord> {
    let addresses = (
        any::<[u8; 4]>(),
        any::<[u8; 4]>(),
        any::<[u8; 4]>(),
        any::<u16>(),
        any::<u16>(),
    );
    let counters = (any::<u32>(), any::<u32>(), 0..86_400_000u64, 0..86_400_000u64);
    let keys = (
        any::<u16>(),
        any::<u16>(),
        prop::sample::select(vec![1u8, 6, 17, 47]),
        any::<u8>(),
        any::<u8>(),
    );
    let routing = (any::<u16>(), any::<u16>(), 0..=32u8, 0..=32u8);
    (addresses, counters, keys, routing).prop_map(move |(a, c, k, r)| {
        let export = clock.export_time();
        let mut flow = FlowRecord {
            time_received: RECEIVED,
            exporter_addr: ipv4(EXPORTER),
            observation_domain: 0x0207,
            sampling_rate: 512,
            etype: 0x0800,
            flows: 1,
            src_addr: ipv4(a.0),
            dst_addr: ipv4(a.1),
            next_hop: ipv4(a.2),
            in_if: u32::from(a.3),
            out_if: u32::from(a.4),
            packets: u64::from(c.0),
            bytes: u64::from(c.1),
            flow_start: export - c.2 * 1_000_000,
            flow_end: export - c.3 * 1_000_000,
            src_port: k.0,
            dst_port: k.1,
            proto: k.2,
            tcp_flags: u16::from(k.3),
            tos: k.4,
            src_as: u32::from(r.0),
            dst_as: u32::from(r.1),
            src_mask: r.2,
            dst_mask: r.3,
            ..FlowRecord::default()
        };
        if flow.proto == 1 {
            [flow.icmp_type, flow.icmp_code] = flow.dst_port.to_be_bytes();
        }
        flow
    })
}

/// Any flow at all: IPv4 or IPv6, values too wide for the fields, times anywhere.
fn any_flow() -> impl Strategy<Value = FlowRecord> {
    let address = prop_oneof![
        any::<[u8; 4]>().prop_map(ipv4),
        any::<[u8; 16]>().prop_map(Ipv6Addr::from)
    ];
    let addresses = (
        address.clone(),
        address.clone(),
        address,
        prop::sample::select(vec![0u16, 0x0800, 0x86dd]),
    );
    let counters = (
        any::<u64>(),
        any::<u64>(),
        any::<u64>(),
        any::<u64>(),
        any::<u64>(),
    );
    let keys = (
        any::<u32>(),
        any::<u32>(),
        any::<u16>(),
        any::<u16>(),
        any::<u8>(),
        any::<u16>(),
    );
    let routing = (any::<u32>(), any::<u32>(), any::<u8>(), any::<u8>(), any::<u8>());
    (addresses, counters, keys, routing).prop_map(|(a, c, k, r)| FlowRecord {
        src_addr: a.0,
        dst_addr: a.1,
        next_hop: a.2,
        etype: a.3,
        packets: c.0,
        bytes: c.1,
        flows: c.2,
        flow_start: c.3,
        flow_end: c.4,
        in_if: k.0,
        out_if: k.1,
        src_port: k.2,
        dst_port: k.3,
        proto: k.4,
        tcp_flags: k.5,
        src_as: r.0,
        dst_as: r.1,
        src_mask: r.2,
        dst_mask: r.3,
        tos: r.4,
        ..FlowRecord::default()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn encoding_any_flows_never_panics_and_accounts_for_each(flows in vec(any_flow(), 0..80)) {
        let clock = ExportClock::at(1_700_000_000_000_000_000, 3_000_000_000);
        let v5 = V5Header { clock, flow_sequence: 0, engine_type: 0, engine_id: 0, sampling: SamplingInterval(0) };
        let built = v5_datagrams(&v5, &flows);
        prop_assert_eq!(built.next_sequence as usize + built.skipped, flows.len());
        for &scheme in Aggregation::ALL {
            let v8 = V8Header {
                clock,
                flow_sequence: 0,
                engine_type: 0,
                engine_id: 0,
                aggregation: scheme,
                agg_version: 2,
                reserved: 0,
            };
            let built = v8_datagrams(&v8, &flows).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(built.next_sequence as usize + built.skipped, flows.len());
            let datagrams: Vec<_> = built.datagrams.iter().map(Vec::as_slice).collect();
            let (_, batch, outcomes) = decode_all(&datagrams);
            prop_assert!(outcomes.iter().all(|o| o.error.is_none()));
            prop_assert_eq!(batch.len(), built.next_sequence as usize);
        }
    }

    #[test]
    fn decoding_any_bytes_never_panics_and_counts_what_it_decodes(
        version in prop::sample::select(vec![1u16, 5, 7, 8]),
        body in vec(any::<u8>(), 0..1600),
    ) {
        let mut bytes = version.to_be_bytes().to_vec();
        bytes.extend_from_slice(&body);
        let (decoder, batch, outcomes) = decode_all(&[&bytes]);
        prop_assert_eq!(outcomes[0].records, batch.len());
        let records: u64 = decoder.domains().map(|(_, d)| d.counters.records).sum();
        let errors: u64 = decoder.domains().map(|(_, d)| d.counters.total_errors()).sum();
        prop_assert_eq!(records, batch.len() as u64);
        prop_assert_eq!(errors, u64::from(outcomes[0].error.is_some()));
        prop_assert_eq!(batch.cols.extra_fields.len(), batch.len());
    }

    #[test]
    fn v1_models_encode_to_the_bytes_they_were_read_from(bytes in fixed_datagram::<V1Header>()) {
        encode_parse_identity(&bytes, Packet::<V1Header>::read, Packet::write)?;
    }

    #[test]
    fn v5_models_encode_to_the_bytes_they_were_read_from(bytes in fixed_datagram::<V5Header>()) {
        encode_parse_identity(&bytes, Packet::<V5Header>::read, Packet::write)?;
        let (_, batch, outcomes) = decode_all(&[&bytes]);
        prop_assert_eq!(outcomes[0].error.clone(), None);
        prop_assert_eq!(batch.len(), usize::from(u16::from_be_bytes([bytes[2], bytes[3]])));
    }

    #[test]
    fn v7_models_encode_to_the_bytes_they_were_read_from(bytes in fixed_datagram::<V7Header>()) {
        encode_parse_identity(&bytes, Packet::<V7Header>::read, Packet::write)?;
    }

    #[test]
    fn v8_models_encode_to_the_bytes_they_were_read_from(bytes in v8_datagram()) {
        encode_parse_identity(&bytes, V8Packet::read, V8Packet::write)?;
        let (_, batch, outcomes) = decode_all(&[&bytes]);
        prop_assert_eq!(outcomes[0].error.clone(), None);
        prop_assert_eq!(batch.len(), usize::from(u16::from_be_bytes([bytes[2], bytes[3]])));
    }

    #[test]
    fn flows_go_through_the_v5_encoder_and_decoder_unchanged(
        flows in vec(v5_flow(ExportClock::at(1_600_000_000_123_000_000, 900_000_000)), 1..100),
    ) {
        let header = V5Header {
            clock: ExportClock::at(1_600_000_000_123_000_000, 900_000_000),
            flow_sequence: 7,
            engine_type: 2,
            engine_id: 7,
            sampling: SamplingInterval::new(2, 512),
        };
        let built = v5_datagrams(&header, &flows);
        prop_assert_eq!(built.skipped, 0);
        prop_assert_eq!(built.next_sequence, 7 + flows.len() as u32);
        let datagrams: Vec<_> = built.datagrams.iter().map(Vec::as_slice).collect();
        let (_, batch, outcomes) = decode_all(&datagrams);
        prop_assert!(outcomes.iter().all(|o| o.error.is_none()));
        let decoded: Vec<_> = (0..batch.len()).filter_map(|i| batch.row(i)).collect();
        prop_assert_eq!(decoded, flows);
    }
}
