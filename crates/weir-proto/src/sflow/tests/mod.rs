//! Tests of the sFlow model and decoder against hand-made vectors, other collectors' test vectors and
//! tcpdump's captures with its printed decode.

mod captures;
mod decode;
mod props;
mod vectors;

use std::net::IpAddr;

use weir_flow::FlowBatch;

use crate::{Decoder, Outcome};

/// A file under `fixtures/captures/`.
fn fixture(path: &str) -> Vec<u8> {
    let full = format!("{}/../../fixtures/captures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

/// The UDP payloads of a little-endian Ethernet pcap, each cut to its UDP length (as a receiver gets it).
fn udp_payloads(pcap: &[u8]) -> Vec<Vec<u8>> {
    let le32 = |b: &[u8], at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap()) as usize;
    let be16 = |b: &[u8], at: usize| usize::from(u16::from_be_bytes([b[at], b[at + 1]]));
    assert_eq!(&pcap[..4], &[0xd4, 0xc3, 0xb2, 0xa1], "little-endian pcap");
    assert_eq!(le32(pcap, 20), 1, "Ethernet link type");
    let mut out = Vec::new();
    let mut at = 24;
    while at + 16 <= pcap.len() {
        let len = le32(pcap, at + 8);
        let frame = &pcap[at + 16..at + 16 + len];
        at += 16 + len;
        let mut l3 = 14;
        let mut ty = be16(frame, 12);
        while ty == 0x8100 {
            ty = be16(frame, l3 + 2);
            l3 += 4;
        }
        let udp = match ty {
            0x0800 => l3 + usize::from(frame[l3] & 0x0f) * 4,
            0x86dd => l3 + 40,
            other => panic!("EtherType {other:#x}"),
        };
        let end = (udp + be16(frame, udp + 4)).min(frame.len());
        out.push(frame[udp + 8..end].to_vec());
    }
    out
}

/// Decodes datagrams from one exporter through a [`Decoder`].
fn decode_all(datagrams: &[Vec<u8>]) -> (Decoder, FlowBatch, Vec<Outcome>) {
    let mut d = Decoder::default();
    let mut batch = FlowBatch::new();
    let exporter: IpAddr = "192.0.2.10".parse().unwrap();
    let outcomes = datagrams
        .iter()
        .map(|g| d.decode(exporter, 1_700_000_000_000_000_000, g, &mut batch))
        .collect();
    (d, batch, outcomes)
}
