//! Test helpers: hex vectors, the three checks per vector, and decoding through the public [`Decoder`].

use std::fmt::Debug;
use std::net::IpAddr;

use weir_flow::FlowBatch;

use super::error::EncodeError;
use crate::decoder::{Decoder, Outcome};
use crate::error::DecodeError;
use crate::reader::Reader;
use crate::stats::{Counters, Dialect, DomainKey};

/// Bytes from hex digits; whitespace is ignored.
pub(crate) fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    digits
        .chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).expect("ascii"), 16).expect("hex digits"))
        .collect()
}

/// The three checks of a codec vector: `bytes` parse to `expected`, every byte is consumed, and encoding
/// `expected` gives `bytes` back.
pub(crate) fn roundtrip<T: PartialEq + Debug>(
    bytes: &[u8],
    expected: &T,
    read: impl Fn(&mut Reader<'_>) -> Result<T, DecodeError>,
    write: impl Fn(&T, &mut Vec<u8>) -> Result<(), EncodeError>,
) {
    let mut r = Reader::new(bytes);
    let parsed = read(&mut r).expect("the vector parses");
    assert_eq!(&parsed, expected, "parsed value");
    assert_eq!(r.remaining(), 0, "bytes left after parsing");
    let mut out = Vec::new();
    write(expected, &mut out).expect("the value encodes");
    assert_eq!(out, bytes, "encoded bytes");
}

/// The exporter address the decoding helpers use.
pub(crate) const EXPORTER: [u8; 4] = [192, 0, 2, 10];

/// The receive time the decoding helpers use.
pub(crate) const RECEIVED: u64 = 1_700_000_000_000_000_000;

/// Decodes datagrams in order with one decoder, all from [`EXPORTER`] at [`RECEIVED`].
pub(crate) fn decode_all(datagrams: &[&[u8]]) -> (Decoder, FlowBatch, Vec<Outcome>) {
    let mut decoder = Decoder::default();
    let mut batch = FlowBatch::new();
    let outcomes = datagrams
        .iter()
        .map(|d| decoder.decode(IpAddr::from(EXPORTER), RECEIVED, d, &mut batch))
        .collect();
    (decoder, batch, outcomes)
}

/// The counters of one domain of [`EXPORTER`].
pub(crate) fn counters(decoder: &Decoder, dialect: Dialect, domain: u32) -> Counters {
    let key = DomainKey {
        exporter: IpAddr::from(EXPORTER),
        dialect,
        domain,
    };
    decoder
        .domains()
        .find(|(k, _)| **k == key)
        .map(|(_, d)| d.counters.clone())
        .expect("the domain exists")
}
