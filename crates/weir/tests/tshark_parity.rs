//! Differential test against tshark, an independent decoder: for every test capture, the number of flow records
//! and the sums of bytes and packets per exporter that `weir decode` reports equal what tshark decodes from the
//! same file. Raw datagram files are first wrapped into a pcap so that both read the same bytes.
//!
//! Skipped with a message when tshark is not installed, unless `WEIR_REQUIRE_TSHARK` is set (as in CI).

#![allow(clippy::unwrap_used)] // helpers fail the test on any unexpected error

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{TempDir, flows, weir};
use pcap_file::DataLink;
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use serde_json::Value;

/// Flow records, bytes and packets of one exporter.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Totals {
    records: u64,
    bytes: u64,
    packets: u64,
}

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
        println!("tshark not installed: differential tests skipped");
    }
    found
}

fn captures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/captures")
}

/// A number tshark printed, in decimal or hex.
fn number(v: &Value) -> u64 {
    let s = v.as_str().unwrap_or_default();
    match s.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).unwrap_or(0),
        None => s.parse().unwrap_or(0),
    }
}

/// The first of `keys` that `flow` has, as a number.
fn first_of(flow: &serde_json::Map<String, Value>, keys: &[&str]) -> Option<u64> {
    keys.iter().find_map(|k| flow.get(*k)).map(number)
}

/// The IP length of the first IP header inside a sampled packet header's dissection.
fn sampled_ip_length(tree: &Value) -> Option<u64> {
    let obj = tree.as_object()?;
    if let Some(ip) = obj.get("ip").and_then(Value::as_object) {
        return ip.get("ip.len").map(number);
    }
    if let Some(ip6) = obj.get("ipv6").and_then(Value::as_object) {
        return ip6.get("ipv6.plen").map(|p| number(p) + 40);
    }
    obj.values().find_map(sampled_ip_length)
}

/// Adds one flow record as tshark dissected it.
fn add_flow(flow: &serde_json::Map<String, Value>, t: &mut Totals) {
    t.records += 1;
    t.bytes += first_of(
        flow,
        &[
            "cflow.octets",
            "cflow.permanent_octets",
            "cflow.post_octets",
            "cflow.initiator_octets",
        ],
    )
    .unwrap_or(0);
    t.packets += first_of(
        flow,
        &[
            "cflow.packets",
            "cflow.permanent_packets",
            "cflow.post_packets",
            "cflow.initiator_packets",
        ],
    )
    .unwrap_or(0);
}

/// The number after `prefix` in `s`, e.g. the set id in `Set 1 [id=257] (1 flows)`.
fn number_after(s: &str, prefix: &str) -> Option<u64> {
    let rest = &s[s.find(prefix)? + prefix.len()..];
    rest[..rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len())]
        .parse()
        .ok()
}

/// Adds the flow records of one NetFlow/IPFIX PDU: v1/v5/v7/v8 records are `pdu i/n`, v9/IPFIX records are
/// `Flow i` inside `Set`/`FlowSet` objects. tshark dissects options data like flow data, so the ids of options
/// templates (remembered in `options` per exporter and domain) tell which sets are not flows.
fn add_cflow(pdu: &Value, exporter: &str, options: &mut BTreeSet<(String, u64)>, t: &mut Totals) {
    let Some(pdu) = pdu.as_object() else { return };
    let domain = first_of(pdu, &["cflow.od_id", "cflow.source_id"]).unwrap_or(0);
    let scope = |id| (format!("{exporter}/{domain}"), id);
    for (key, part) in pdu {
        let Some(part) = part.as_object() else { continue };
        if key.starts_with("pdu ") {
            add_flow(part, t);
        } else if key.starts_with("Set ") || key.starts_with("FlowSet ") {
            for name in part.keys() {
                if let Some(id) = number_after(name, "Options Template (Id = ") {
                    options.insert(scope(id));
                }
            }
            if number_after(key, "[id=").is_some_and(|id| options.contains(&scope(id))) {
                continue;
            }
            for (name, flow) in part {
                if let Some(flow) = flow.as_object().filter(|_| name.starts_with("Flow ")) {
                    add_flow(flow, t);
                }
            }
        }
    }
}

/// Adds the flow samples of one sFlow datagram: one packet each, its IP length as bytes.
fn add_sflow(pdu: &Value, t: &mut Totals) {
    let Some(pdu) = pdu.as_object() else { return };
    for (key, sample) in pdu {
        if !(key.starts_with("Flow sample") || key.starts_with("Expanded flow sample")) {
            continue;
        }
        t.records += 1;
        t.packets += 1;
        t.bytes += sampled_ip_length(sample).unwrap_or(0);
    }
}

/// tshark's JSON dissection of `pcap`, with every UDP port in it decoded as `dissector`.
fn tshark_json(pcap: &Path, ports: &BTreeSet<u16>, dissector: &str) -> Vec<Value> {
    let mut cmd = Command::new("tshark");
    cmd.arg("-r").arg(pcap).args(["-T", "json"]);
    for port in ports {
        cmd.args(["-d", &format!("udp.port=={port},{dissector}")]);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "tshark on {}: {}",
        pcap.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let packets: FirstWins = serde_json::from_slice(&out.stdout).unwrap();
    match packets.0 {
        Value::Array(packets) => packets,
        other => panic!("tshark printed {other}"),
    }
}

/// JSON where a key that repeats in an object keeps its first value. tshark prints a forward field and its
/// reverse (biflow) twin under the same key, and the first is the forward one; serde_json keeps the last.
struct FirstWins(Value);

impl<'de> serde::Deserialize<'de> for FirstWins {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = FirstWins;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("JSON")
            }
            fn visit_str<E>(self, v: &str) -> Result<FirstWins, E> {
                Ok(FirstWins(Value::String(v.to_owned())))
            }
            fn visit_u64<E>(self, v: u64) -> Result<FirstWins, E> {
                Ok(FirstWins(v.into()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<FirstWins, E> {
                Ok(FirstWins(v.into()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<FirstWins, E> {
                Ok(FirstWins(v.into()))
            }
            fn visit_bool<E>(self, v: bool) -> Result<FirstWins, E> {
                Ok(FirstWins(v.into()))
            }
            fn visit_unit<E>(self) -> Result<FirstWins, E> {
                Ok(FirstWins(Value::Null))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<FirstWins, A::Error> {
                let mut items = Vec::new();
                while let Some(FirstWins(v)) = seq.next_element()? {
                    items.push(v);
                }
                Ok(FirstWins(Value::Array(items)))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<FirstWins, A::Error> {
                let mut obj = serde_json::Map::new();
                while let Some((k, FirstWins(v))) = map.next_entry::<String, FirstWins>()? {
                    obj.entry(k).or_insert(v);
                }
                Ok(FirstWins(Value::Object(obj)))
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// What tshark decodes from `pcap`, per exporter. tshark picks a dissector by port, Weir by the version field
/// (exporters do send NetFlow to the sFlow port), so the capture is dissected both ways and each packet is
/// read in the dialect its payload starts with.
fn tshark_totals(pcap: &Path) -> BTreeMap<String, Totals> {
    let ports = udp_ports(pcap);
    let as_cflow = tshark_json(pcap, &ports, "cflow");
    let as_sflow = tshark_json(pcap, &ports, "sflow");
    assert_eq!(as_cflow.len(), as_sflow.len());
    let mut totals: BTreeMap<String, Totals> = BTreeMap::new();
    let mut options = BTreeSet::new();
    for (c, s) in as_cflow.iter().zip(&as_sflow) {
        let layers = &c["_source"]["layers"];
        let exporter = layers["ip"]["ip.src"]
            .as_str()
            .or_else(|| layers["ipv6"]["ipv6.src"].as_str());
        let Some(exporter) = exporter else { continue };
        let t = totals.entry(exporter.to_owned()).or_default();
        if layers["udp"]["udp.payload"]
            .as_str()
            .unwrap_or_default()
            .starts_with("00:00:00:")
        {
            one_or_many(&s["_source"]["layers"]["sflow"])
                .into_iter()
                .for_each(|pdu| add_sflow(pdu, t));
        } else {
            for pdu in one_or_many(&layers["cflow"]) {
                add_cflow(pdu, exporter, &mut options, t);
            }
        }
    }
    totals.retain(|_, t| t.records > 0);
    totals
}

/// A layer that tshark prints as an object, or as an array when a packet has several.
fn one_or_many(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(items) => items.iter().collect(),
        Value::Null => Vec::new(),
        one => vec![one],
    }
}

/// What `weir decode` decodes from `pcap`, per exporter.
fn weir_totals(pcap: &Path) -> BTreeMap<String, Totals> {
    let out = weir().arg("decode").arg(pcap).output().unwrap();
    assert!(
        out.status.success(),
        "weir on {}: {}",
        pcap.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut totals: BTreeMap<String, Totals> = BTreeMap::new();
    for f in flows(&out.stdout) {
        // sFlow discarded-packet samples (format 5, reason kept as InMon element 5) are flows to Weir, but
        // tshark 4.0 does not dissect them.
        if f["extra_fields"].get("4300.5").is_some() {
            continue;
        }
        let t = totals
            .entry(f["exporter_addr"].as_str().unwrap().to_owned())
            .or_default();
        t.records += 1;
        t.bytes += f["bytes"].as_u64().unwrap();
        t.packets += f["packets"].as_u64().unwrap();
    }
    totals
}

/// UDP destination ports in a capture.
fn udp_ports(pcap: &Path) -> BTreeSet<u16> {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(pcap)
        .args(["-T", "fields", "-e", "udp.dstport"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

/// The datagrams an exporter would have sent for one raw file: an IPFIX file (RFC 5655) holds several
/// messages end to end, each of which is a datagram of its own.
fn messages(file: Vec<u8>) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = file.as_slice();
    while let [0, 10, hi, lo, ..] = *rest {
        let len = usize::from(u16::from_be_bytes([hi, lo]));
        if len < 16 || len >= rest.len() {
            break;
        }
        out.push(rest[..len].to_vec());
        rest = &rest[len..];
    }
    out.push(rest.to_vec());
    out
}

/// Wraps raw export datagrams into a pcap of Ethernet/IPv4/UDP packets from 192.0.2.1 to the dialect's port.
fn wrap_in_pcap(datagrams: &[Vec<u8>], path: &Path) {
    let mut w = PcapWriter::with_header(
        File::create(path).unwrap(),
        PcapHeader {
            datalink: DataLink::ETHERNET,
            ..PcapHeader::default()
        },
    )
    .unwrap();
    for (i, d) in datagrams.iter().enumerate() {
        let port: u16 = match d.get(..2) {
            Some([0, 10]) => 4739,
            Some([0, 0]) => 6343,
            _ => 2055,
        };
        let udp_len = (8 + d.len()) as u16;
        let mut frame = vec![0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00];
        let ip_len = 20 + udp_len;
        frame.extend_from_slice(&[
            0x45,
            0,
            (ip_len >> 8) as u8,
            ip_len as u8,
            0,
            0,
            0,
            0,
            64,
            17,
            0,
            0,
        ]);
        frame.extend_from_slice(&[192, 0, 2, 1, 192, 0, 2, 2]);
        frame.extend_from_slice(&40000u16.to_be_bytes());
        frame.extend_from_slice(&port.to_be_bytes());
        frame.extend_from_slice(&udp_len.to_be_bytes());
        frame.extend_from_slice(&[0, 0]);
        frame.extend_from_slice(d);
        let ts = Duration::from_secs(1_700_000_000 + i as u64);
        w.write_packet(&PcapPacket::new(ts, frame.len() as u32, &frame))
            .unwrap();
    }
}

/// Captures where Weir and tshark disagree by design, and why. Each must still disagree: when one stops
/// disagreeing, it comes off this list.
const DIFFERENCES: &[(&str, &str)] = &[
    (
        "netflow5_test_invalid01",
        "malformed on purpose: the record count lies; Weir rejects it, tshark reads on",
    ),
    (
        "netflow5_test_invalid02",
        "malformed on purpose: the record count lies; Weir rejects it, tshark reads on",
    ),
    (
        "netflow9_test_invalid01",
        "the header counts 2 records but 5 sets follow; tshark stops at the count, Weir reads every set",
    ),
];

fn check_parity(name: &str, pcap: &Path, failed: &mut Vec<String>) {
    let ours = weir_totals(pcap);
    let theirs = tshark_totals(pcap);
    let expected_difference = DIFFERENCES.iter().find(|(case, _)| name.ends_with(case));
    match (ours == theirs, expected_difference) {
        (true, None) => {}
        (false, Some((_, why))) => println!("{name}: differs as expected ({why})"),
        (true, Some(_)) => failed.push(format!(
            "{name}: now agrees with tshark; remove it from DIFFERENCES"
        )),
        (false, None) => failed.push(format!("{name}:\n  weir   {ours:?}\n  tshark {theirs:?}")),
    }
}

#[test]
fn every_capture_totals_equal_tsharks() {
    if !tshark_available() {
        return;
    }
    let mut failed = Vec::new();
    let mut checked = 0;
    for dir in ["goflow2/pcap", "netgauze", "tcpdump"] {
        for entry in fs::read_dir(captures_dir().join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "pcap") {
                checked += 1;
                let name = path.file_stem().unwrap().to_string_lossy().into_owned();
                check_parity(&name, &path, &mut failed);
            }
        }
    }
    assert!(checked >= 14, "only {checked} captures found");
    assert!(
        failed.is_empty(),
        "totals differ from tshark's:\n{}",
        failed.join("\n")
    );
}

#[test]
fn every_raw_device_capture_totals_equal_tsharks() {
    if !tshark_available() {
        return;
    }
    let tmp = TempDir::new("tshark-parity");
    let mut devices: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    for dir in ["logstash-codec-netflow", "goflow2"] {
        for entry in fs::read_dir(captures_dir().join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "dat" || e == "bin") {
                let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
                let device = ["_opttpl", "_tpl", "_data"]
                    .iter()
                    .filter_map(|m| stem.find(m))
                    .min()
                    .map_or(stem.clone(), |i| stem[..i].to_owned());
                devices.entry(device).or_default().push(path);
            }
        }
    }
    let mut failed = Vec::new();
    for (device, mut files) in devices {
        files.sort_by_key(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (!name.contains("tpl"), name)
        });
        let datagrams: Vec<Vec<u8>> = files
            .iter()
            .flat_map(|f| messages(fs::read(f).unwrap()))
            .collect();
        let pcap = Path::new(&tmp.path(&format!("{device}.pcap"))).to_owned();
        wrap_in_pcap(&datagrams, &pcap);
        check_parity(&device, &pcap, &mut failed);
    }
    assert!(
        failed.is_empty(),
        "totals differ from tshark's:\n{}",
        failed.join("\n")
    );
}
