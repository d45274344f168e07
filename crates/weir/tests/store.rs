//! The store end to end: captures replayed into `weir serve`, stored, and asked about with `weir query`; the
//! answers must equal the sums computed here from the same flows as NDJSON. Also what survives `kill -9`.

// A failed unwrap in the helpers below is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use common::server::Server;
use common::{TempDir, fixture, flows, query, run, weir};
use serde_json::Value;

/// Captures of several dialects and exporters, sampled and not.
const CAPTURES: [&str; 3] = [
    "netgauze/101-NFv9-CISCO_traffic-00.pcap",
    "netgauze/100-IPFIXv10-CISCO_traffic-00.pcap",
    "tcpdump/sflow-print-v6.pcap",
];

fn replay(capture: &str, to: &str) {
    let out = run(&["replay", &fixture(capture), "--to", to, "--top-speed"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

fn u(v: &Value, key: &str) -> u64 {
    v[key].as_u64().unwrap_or_else(|| panic!("{key} in {v}"))
}

/// Bytes, packets and flows of `flows`, scaled by each flow's sampling rate as queries report them.
fn sums<'a>(flows: impl IntoIterator<Item = &'a Value>) -> (u64, u64, u64) {
    flows.into_iter().fold((0, 0, 0), |(b, p, f), x| {
        let rate = u(x, "sampling_rate").max(1);
        (
            b + u(x, "bytes") * rate,
            p + u(x, "packets") * rate,
            f + x["flows"].as_u64().unwrap_or(1),
        )
    })
}

/// Starts a server storing into `data`, replays the captures, stops it, and returns the flows it decoded
/// (its NDJSON copy).
fn collect(dir: &TempDir, data: &str) -> Vec<Value> {
    let ndjson = dir.path("flows.ndjson");
    let server = Server::start(&ndjson, &["--data", data]);
    for capture in CAPTURES {
        replay(capture, &server.udp);
    }
    thread::sleep(Duration::from_millis(500));
    server.stop();
    let decoded = flows(&std::fs::read(&ndjson).unwrap());
    assert!(decoded.len() > 70, "{} flows", decoded.len());
    decoded
}

#[test]
fn query_answers_equal_the_sums_of_the_flows_serve_decoded() {
    let dir = TempDir::new("store-roundtrip");
    let data = dir.path("data");
    let decoded = collect(&dir, &data);

    let summary = query(&data, &["--summary"]);
    let (bytes, packets, count) = sums(&decoded);
    let total = &summary[0];
    assert!(
        total["exporter_addr"].is_null(),
        "the first row is the total: {total}"
    );
    assert_eq!(
        (u(total, "bytes"), u(total, "packets"), u(total, "flows")),
        (bytes, packets, count)
    );
    let first = decoded
        .iter()
        .map(|f| f["time_received"].as_str().unwrap())
        .min()
        .unwrap();
    assert_eq!(total["first_seen"].as_str().unwrap(), first);

    // Top destination ports by bytes, with the rest as one row. Flows without ports (ICMP, sFlow samples
    // of other protocols) have none, and rank as a key of their own.
    let mut by_port: BTreeMap<Option<u64>, u64> = BTreeMap::new();
    for f in &decoded {
        *by_port.entry(f["dst_port"].as_u64()).or_default() += u(f, "bytes") * u(f, "sampling_rate").max(1);
    }
    let mut ranked: Vec<(Option<u64>, u64)> = by_port.into_iter().collect();
    ranked.sort_by_key(|&(_, bytes)| std::cmp::Reverse(bytes));
    let top = query(&data, &["--top", "dst_port", "--limit", "5"]);
    assert_eq!(top.len(), 6, "five ports and Other: {top:#?}");
    assert_ne!(
        ranked[4].1, ranked[5].1,
        "the fifth and sixth ports tie: pick another question"
    );
    for (row, (port, b)) in top[..5].iter().zip(&ranked) {
        assert_eq!(
            (row["dst_port"].as_u64(), u(row, "bytes")),
            (*port, *b),
            "{top:#?}"
        );
    }
    let rest: u64 = ranked[5..].iter().map(|(_, b)| b).sum();
    assert_eq!(u(&top[5], "bytes"), rest);
    assert_eq!(top[5]["dst_port"], "Other");

    // A filter narrows the flows as the filter language's own check does.
    let tcp: Vec<&Value> = decoded.iter().filter(|f| f["proto"] == 6).collect();
    let s = query(&data, &["--summary", "proto tcp"]);
    assert_eq!(u(&s[0], "bytes"), sums(tcp).0);

    // The rollups answer what they can, and their answers equal the raw table's.
    let hour = 3_600_000_000_000u64;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let to = (now / hour + 1) * hour;
    let (from, to) = (((now / hour) - 24) * hour, to);
    let range = ["--from", &from.to_string(), "--to", &to.to_string()].map(str::to_owned);
    let range: Vec<&str> = range.iter().map(String::as_str).collect();
    let top = |dimension: &str, filter: &str| {
        let out = weir()
            .args([
                "query", "--data", &data, "--top", dimension, "--format", "json", filter,
            ])
            .args(&range)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        out
    };
    // Protocols from the narrow rollup, interfaces from the wide one.
    let rolled = top("proto", "any");
    assert!(
        String::from_utf8_lossy(&rolled.stderr).contains("from traffic_1h,"),
        "the narrow rollup answers: {}",
        String::from_utf8_lossy(&rolled.stderr)
    );
    let by_if = top("in_if", "any");
    assert!(
        String::from_utf8_lossy(&by_if.stderr).contains("from flows_1h,"),
        "the wide rollup answers: {}",
        String::from_utf8_lossy(&by_if.stderr)
    );
    assert_eq!(flows(&by_if.stdout), flows(&top("in_if", "src_port >= 0").stdout));
    // The same question with a filter on a column only the raw table has.
    let raw = weir()
        .args([
            "query",
            "--data",
            &data,
            "--top",
            "proto",
            "--format",
            "json",
            "src_port >= 0",
        ])
        .args(&range)
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&raw.stderr).contains("from flows,"),
        "{raw:?}"
    );
    assert_eq!(flows(&rolled.stdout), flows(&raw.stdout));
}

#[test]
fn every_acknowledged_flow_survives_kill_9() {
    let dir = TempDir::new("store-kill");
    let data = dir.path("data");
    let mut server = Command::new(env!("CARGO_BIN_EXE_weir"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--no-tcp",
            "--http",
            "127.0.0.1:0",
            "--data",
            &data,
        ])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let log = common::server::lines(server.stderr.take().unwrap());
    let udp = common::server::addr_of(&log, "Listening for export datagrams.");
    let http = common::server::addr_of(&log, "/metrics and /healthz");
    // Keep sending while the store acknowledges, then kill it without warning mid-stream.
    let sender = thread::spawn(move || {
        for _ in 0..20 {
            replay("netgauze/101-NFv9-CISCO_traffic-00.pcap", &udp);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    let acknowledged = loop {
        let acked = common::server::metric_at(&http, "weir_store_flows_acknowledged_total").unwrap_or(0);
        if acked >= 200 {
            break acked;
        }
        assert!(
            Instant::now() < deadline,
            "the store never acknowledged 200 flows"
        );
        thread::sleep(Duration::from_millis(20));
    };
    server.kill().unwrap();
    server.wait().unwrap();
    sender.join().unwrap();

    let summary = query(&data, &["--summary"]);
    let stored = u(&summary[0], "flows");
    assert!(
        stored >= acknowledged,
        "{stored} stored < {acknowledged} acknowledged"
    );
    // Restarting recovers the store and says what it found.
    let restarted = Server::start(&dir.path("x.ndjson"), &["--data", &data]);
    let log = restarted.stop();
    assert!(log.iter().any(|l| l.contains("Opened the store")), "{log:#?}");
    assert_eq!(u(&query(&data, &["--summary"])[0], "flows"), stored);
}
