//! Helpers for the v9 and IPFIX tests: feeding captures through a [`Decoder`] and reading flows as JSON.

use std::net::IpAddr;
use std::path::PathBuf;

use weir_flow::FlowBatch;

use crate::decoder::{Decoder, Outcome};
use crate::stats::{Counters, Dialect, DomainKey};
use crate::template::element_name;

/// The exporter address every capture is fed from.
pub(crate) const EXPORTER: &str = "192.0.2.1";

/// Receive time used for captures: 2024-01-01T00:00:00Z.
pub(crate) const RECEIVED: u64 = 1_704_067_200_000_000_000;

/// A file of the logstash-codec-netflow captures.
pub(crate) fn capture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/captures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Feeds each datagram, in order, through one decoder from one exporter.
pub(crate) fn feed(decoder: &mut Decoder, datagrams: &[Vec<u8>], out: &mut FlowBatch) -> Vec<Outcome> {
    let ex: IpAddr = EXPORTER.parse().expect("a valid address");
    datagrams
        .iter()
        .map(|d| decoder.decode(ex, RECEIVED, d, out))
        .collect()
}

/// Feeds capture files (by name in the logstash-codec-netflow folder) through a fresh decoder.
pub(crate) fn feed_files(names: &[&str]) -> (Decoder, FlowBatch, Vec<Outcome>) {
    let mut d = Decoder::default();
    let mut out = FlowBatch::new();
    let datagrams: Vec<Vec<u8>> = names
        .iter()
        .map(|n| capture(&format!("logstash-codec-netflow/{n}")))
        .collect();
    let outcomes = feed(&mut d, &datagrams, &mut out);
    (d, out, outcomes)
}

/// Row `i` as NDJSON would show it.
pub(crate) fn json(batch: &FlowBatch, i: usize) -> serde_json::Value {
    let mut buf = Vec::new();
    weir_flow::ndjson::write_row(&mut buf, batch, i, element_name).expect("writing to a Vec");
    serde_json::from_slice(&buf).expect("valid JSON")
}

/// The counters of a domain of the test exporter.
pub(crate) fn counters(d: &Decoder, dialect: Dialect, domain: u32) -> Counters {
    let key = DomainKey {
        exporter: EXPORTER.parse().expect("a valid address"),
        dialect,
        domain,
    };
    d.domains()
        .find(|(k, _)| **k == key)
        .map(|(_, dom)| dom.counters.clone())
        .expect("the domain exists")
}
