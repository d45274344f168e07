//! tshark, an independent decoder, reads the exporter's datagrams without a malformed packet or a warning,
//! and finds the same flows (records, bytes, packets) as were exported.
//!
//! Skipped with a message when tshark is not installed, unless `WEIR_REQUIRE_TSHARK` is set (as in CI).

use std::fs;
use std::path::PathBuf;
use std::process::Command;

use weir_flow::FlowRecord;
use weir_proto::netflow::Aggregation;

use super::tests::{EXPORTER, NOW, START, flow4, flow6};
use super::{ExportConfig, ExportFormat, Exporter};
use crate::sampling::Sampling;

/// The collector's address and port in the capture.
const COLLECTOR: [u8; 4] = [192, 0, 2, 99];
const PORT: u16 = 2055;
/// LINKTYPE_RAW: packets start with their IP header.
const LINKTYPE_RAW: u32 = 101;

fn tshark_available() -> bool {
    let found = Command::new("tshark")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("WEIR_REQUIRE_TSHARK").is_none(),
            "tshark is required but not installed"
        );
        println!("tshark not installed: skipped");
    }
    found
}

/// The Internet checksum (RFC 1071) of an IPv4 header.
fn checksum(header: &[u8]) -> u16 {
    let mut sum: u32 = header
        .chunks(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// A pcap (raw IP) of `datagrams` sent from the exporter to the collector over UDP.
fn pcap(datagrams: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    for v in [0u32, 0, 65_535, LINKTYPE_RAW] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    for (i, d) in datagrams.iter().enumerate() {
        let total = (20 + 8 + d.len()) as u16;
        let mut ip = vec![0x45, 0];
        ip.extend_from_slice(&total.to_be_bytes());
        ip.extend_from_slice(&[0, 0, 0x40, 0, 64, 17, 0, 0]);
        ip.extend_from_slice(&EXPORTER);
        ip.extend_from_slice(&COLLECTOR);
        let sum = checksum(&ip);
        ip[10..12].copy_from_slice(&sum.to_be_bytes());
        // UDP over IPv4 may leave its checksum out (0).
        ip.extend_from_slice(&PORT.to_be_bytes());
        ip.extend_from_slice(&PORT.to_be_bytes());
        ip.extend_from_slice(&((8 + d.len()) as u16).to_be_bytes());
        ip.extend_from_slice(&[0, 0]);
        ip.extend_from_slice(d);
        let ts = NOW / 1_000_000_000 + i as u64;
        for v in [ts as u32, 0, u32::from(total), u32::from(total)] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&ip);
    }
    out
}

/// Expert severity of a warning (tshark's `PI_WARN`); errors and malformed packets are above it.
const WARNING: u64 = 0x0060_0000;

/// Runs tshark on the datagrams; returns the expert infos of warning severity or more it reported (with
/// their message), and the octet and packet counts of every flow record it decoded.
fn tshark(name: &str, datagrams: &[Vec<u8>]) -> (Vec<String>, Vec<u64>, Vec<u64>) {
    let path = std::env::temp_dir().join(format!("weir-export-{}-{name}.pcap", std::process::id()));
    fs::write(&path, pcap(datagrams)).unwrap();
    let out = Command::new("tshark")
        .arg("-r")
        .arg(&path)
        .args(["-d", &format!("udp.port=={PORT},cflow")])
        .args(["-T", "fields", "-E", "occurrence=a", "-E", "aggregator=|"])
        .args(["-e", "_ws.expert.severity", "-e", "_ws.expert.message"])
        .args(["-e", "cflow.octets", "-e", "cflow.packets"])
        .output()
        .unwrap();
    remove(path);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let numbers = |col: &str| -> Vec<u64> {
        col.split('|')
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().unwrap())
            .collect()
    };
    let (mut complaints, mut octets, mut packets) = (Vec::new(), Vec::new(), Vec::new());
    for (frame, line) in String::from_utf8(out.stdout).unwrap().lines().enumerate() {
        let cols: Vec<&str> = line.split('\t').collect();
        let [severity, message, o, p] = cols[..] else {
            panic!("tshark printed {line:?}");
        };
        let messages: Vec<&str> = message.split('|').collect();
        for (i, level) in numbers(severity).into_iter().enumerate() {
            if level >= WARNING {
                let message = messages.get(i).copied().unwrap_or_default();
                complaints.push(format!("frame {}: {message}", frame + 1));
            }
        }
        octets.extend(numbers(o));
        packets.extend(numbers(p));
    }
    (complaints, octets, packets)
}

fn remove(path: PathBuf) {
    let _ = fs::remove_file(path);
}

fn datagrams(config: ExportConfig, flows: &[FlowRecord]) -> Vec<Vec<u8>> {
    let mut e = Exporter::new(config, START).unwrap();
    let mut out = Vec::new();
    e.export(flows, NOW, &mut |d| out.push(d.to_vec()));
    e.flush(NOW, &mut |d| out.push(d.to_vec()));
    out
}

#[test]
fn tshark_reads_every_format_without_complaint_and_finds_the_same_flows() {
    if !tshark_available() {
        return;
    }
    let v4: Vec<FlowRecord> = (0..70).map(flow4).collect();
    let mixed: Vec<FlowRecord> = (0..70)
        .map(|i| if i % 4 == 0 { flow6(i) } else { flow4(i) })
        .collect();
    let aggregates: Vec<FlowRecord> = v4.iter().map(|f| FlowRecord { flows: 2, ..*f }).collect();
    let config = |format, sampling| ExportConfig {
        sampling,
        ..ExportConfig::new(format)
    };
    let cases = [
        ("v5", config(ExportFormat::V5, Sampling::Deterministic(64)), &v4),
        (
            "v8",
            config(ExportFormat::V8(Aggregation::PROTO_PORT), Sampling::Off),
            &aggregates,
        ),
        (
            "v9",
            config(ExportFormat::V9, Sampling::Random { n: 100, seed: 1 }),
            &mixed,
        ),
        (
            "ipfix",
            config(ExportFormat::Ipfix, Sampling::Deterministic(10)),
            &mixed,
        ),
    ];
    for (name, config, flows) in cases {
        let (complaints, octets, packets) = tshark(name, &datagrams(config, flows));
        assert_eq!(complaints, Vec::<String>::new(), "{name}");
        assert_eq!(octets.len(), flows.len(), "{name}: records");
        assert_eq!(
            octets.iter().sum::<u64>(),
            flows.iter().map(|f| f.bytes).sum::<u64>(),
            "{name}"
        );
        assert_eq!(
            packets.iter().sum::<u64>(),
            flows.iter().map(|f| f.packets).sum::<u64>(),
            "{name}"
        );
    }
}

#[test]
fn tshark_check_reports_data_sent_without_its_template() {
    if !tshark_available() {
        return;
    }
    let flows: Vec<FlowRecord> = (0..70).map(flow4).collect();
    let all = datagrams(ExportConfig::new(ExportFormat::V9), &flows);
    let (complaints, _, _) = tshark("no-template", &all[1..]);
    assert_eq!(complaints.len(), all.len() - 1, "{complaints:?}");
    assert!(complaints[0].contains("no template found"), "{complaints:?}");
}
