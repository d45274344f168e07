//! Fuzz bodies, kept in the crate so that normal builds compile them and the test suite runs them over the
//! committed corpus as a smoke test (`fuzz/` holds the cargo-fuzz targets that call these).

use std::net::{IpAddr, Ipv4Addr};

use weir_flow::FlowBatch;

use crate::{Decoder, Limits};

/// Small limits, so that fuzzing reaches the limit paths quickly.
fn tight_limits() -> Limits {
    Limits {
        max_domains: 64,
        max_domains_per_exporter: 8,
        max_templates_per_domain: 16,
        max_template_fields: 64,
        max_pending_bytes: 16 * 1024,
        pending_hold_ns: 5_000_000_000,
    }
}

/// Splits fuzz input into datagrams: each is a big-endian u16 length and that many bytes; a short tail is
/// the last datagram. Several datagrams let one run build template state and then use it.
fn datagrams(mut data: &[u8]) -> impl Iterator<Item = &[u8]> {
    std::iter::from_fn(move || {
        if data.is_empty() {
            return None;
        }
        let Some((len, rest)) = data.split_first_chunk::<2>() else {
            let d = data;
            data = &[];
            return Some(d);
        };
        let n = usize::from(u16::from_be_bytes(*len)).min(rest.len());
        let (d, rest) = rest.split_at(n);
        data = rest;
        Some(d)
    })
}

/// Feeds datagrams to one [`Decoder`], each with `version` written over its first bytes (so a target stays in
/// one dialect; empty for any), from two exporters, advancing time so that pending data expires.
/// Checks the decoder's promises: no panic, every column as long as the others, records counted.
fn decode_session(data: &[u8], version: &[u8]) {
    let mut decoder = Decoder::new(tight_limits());
    let mut batch = FlowBatch::new();
    let mut buf = Vec::new();
    let mut now = 1_700_000_000_000_000_000u64;
    for (i, d) in datagrams(data).enumerate() {
        buf.clear();
        buf.extend_from_slice(d);
        if let Some(head) = buf.get_mut(..version.len()) {
            head.copy_from_slice(version);
        }
        let exporter = IpAddr::V4(Ipv4Addr::new(192, 0, 2, (i % 2) as u8 + 1));
        let before = batch.len();
        let outcome = decoder.decode(exporter, now, &buf, &mut batch);
        assert_eq!(batch.len() - before, outcome.records);
        now += 1_000_000_000;
        decoder.expire(now);
    }
    let rows = batch.len();
    assert_eq!(batch.cols.bytes.len(), rows);
    assert_eq!(batch.cols.extra_fields.len(), rows);
    let records: u64 = decoder.domains().map(|(_, d)| d.counters.records).sum();
    assert!(
        records >= rows as u64,
        "{records} records counted, {rows} flows in the batch"
    );
}

/// Any dialect, as a collector port receives them.
pub fn any(data: &[u8]) {
    decode_session(data, &[]);
}

/// NetFlow v1, v5, v7 and v8: the first byte picks the version.
pub fn netflow_legacy(data: &[u8]) {
    if let Some((&pick, rest)) = data.split_first() {
        decode_session(rest, &[0, [1, 5, 7, 8][usize::from(pick % 4)]]);
    }
}

/// NetFlow v9.
pub fn netflow_v9(data: &[u8]) {
    decode_session(data, &[0, 9]);
}

/// IPFIX.
pub fn ipfix(data: &[u8]) {
    decode_session(data, &[0, 10]);
}

/// sFlow v5.
pub fn sflow(data: &[u8]) {
    decode_session(data, &[0, 0, 0, 5]);
}
