//! `weir demo` end to end: the collector and its simulated exporters in one process, on free ports and a
//! store of its own; the flows of every exporter and dialect reach the store through the real path, and
//! SIGINT stops both cleanly.

// A failed unwrap in the helpers below is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use common::server::{FREE_PORTS, get, lines, metric_at};
use common::{TempDir, query, weir};

/// The simulated exporters' addresses and what each speaks.
const EXPORTERS: [(&str, &str); 4] = [
    ("127.0.0.11", "netflow-v9"),
    ("127.0.0.12", "ipfix"),
    ("127.0.0.13", "ipfix"),
    ("127.0.0.14", "sflow"),
];

/// The records `/metrics` counts for an exporter and dialect.
fn records(metrics: &str, exporter: &str, dialect: &str) -> u64 {
    let series = format!("weir_exporter_records_total{{exporter=\"{exporter}\",dialect=\"{dialect}\"");
    metrics
        .lines()
        .filter(|l| l.starts_with(&series))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

#[test]
fn demo_exporters_reach_the_store_in_every_dialect_and_stop_on_sigint() {
    let dir = TempDir::new("demo");
    let data = dir.path("data");
    let mut child = weir()
        .arg("demo")
        .args(FREE_PORTS)
        .args(["--readers", "1", "--shards", "2", "--data", &data])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let log = lines(child.stderr.take().unwrap());
    let mut seen = Vec::new();
    let mut http = None;
    while !seen.iter().any(|l: &String| l.contains("Demo: ")) {
        let line = log
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|_| panic!("weir demo starts: {seen:#?}"));
        if line.contains("/healthz") {
            http = line
                .split_whitespace()
                .find_map(|w| w.strip_prefix("addr="))
                .map(str::to_owned);
        }
        seen.push(line);
    }
    let simulated = seen
        .iter()
        .filter(|l| l.contains("Simulating an exporter."))
        .count();
    assert_eq!(simulated, EXPORTERS.len(), "{seen:#?}");
    let http = http.expect("the HTTP address is logged");

    // Every exporter's records come, in its dialect, within seconds.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let metrics = get(&http, "/metrics");
        if EXPORTERS.iter().all(|(e, d)| records(&metrics, e, d) > 0) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not every exporter was heard:\n{metrics}"
        );
        thread::sleep(Duration::from_millis(200));
    }
    // Then a few seconds more, until the store holds more than the thousand flows checked below: a busy
    // machine sends fewer a second.
    thread::sleep(Duration::from_secs(2));
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let stored = metric_at(&http, "weir_store_flows_acknowledged_total").unwrap_or(0);
        if stored > 1000 {
            break;
        }
        assert!(Instant::now() < deadline, "{stored} flows stored in 30 s");
        thread::sleep(Duration::from_millis(200));
    }
    let metrics = get(&http, "/metrics");
    for (series, what) in [
        ("weir_exporter_sequence_gaps_total", "sequence gaps"),
        ("weir_exporter_errors_total", "decoding errors"),
        ("weir_receiver_drops_total", "drops"),
    ] {
        let bad: Vec<&str> = metrics
            .lines()
            .filter(|l| l.starts_with(series) && !l.ends_with(" 0"))
            .collect();
        assert!(bad.is_empty(), "{what}: {bad:#?}");
    }
    // The simulated exporters count what they send, beside the collector's own counters.
    let sent: Vec<&str> = metrics
        .lines()
        .filter(|l| l.starts_with("weir_demo_sent_flows_total{"))
        .collect();
    assert_eq!(sent.len(), EXPORTERS.len(), "{metrics}");
    assert!(sent.iter().all(|l| !l.ends_with(" 0")), "{sent:#?}");
    assert!(
        metrics
            .lines()
            .filter(|l| l.starts_with("weir_demo_send_errors_total{"))
            .all(|l| l.ends_with(" 0")),
        "{metrics}"
    );

    assert!(
        Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "weir demo did not stop");
        thread::sleep(Duration::from_millis(50));
    };
    seen.extend(log.iter());
    assert!(status.success(), "{status}: {seen:#?}");
    let stopped = seen
        .iter()
        .filter(|l| l.contains("Demo exporter stopped."))
        .count();
    assert_eq!(stopped, EXPORTERS.len(), "{seen:#?}");
    let last = seen.last().unwrap();
    assert!(last.contains("Stopped.") && last.contains("dropped=0"), "{last}");

    // The store has every exporter's flows, IPv4 and IPv6, TCP, UDP and ICMP.
    let summary = query(&data, &["--summary"]);
    let exporters: BTreeSet<&str> = summary[1..]
        .iter()
        .map(|r| r["exporter_addr"].as_str().unwrap())
        .collect();
    let want: BTreeSet<&str> = EXPORTERS.iter().map(|(e, _)| *e).collect();
    assert_eq!(exporters, want, "{summary:#?}");
    assert!(summary[0]["flows"].as_u64().unwrap() > 1000, "{summary:#?}");
    let etypes: BTreeSet<u64> = query(&data, &["--top", "etype"])
        .iter()
        .filter_map(|r| r["etype"].as_u64())
        .collect();
    assert!(etypes.is_superset(&[0x0800, 0x86dd].into()), "{etypes:?}");
    let protos: BTreeSet<u64> = query(&data, &["--top", "proto", "--by", "flows"])
        .iter()
        .filter_map(|r| r["proto"].as_u64())
        .collect();
    assert!(protos.is_superset(&[6, 17].into()), "{protos:?}");
    assert!(protos.contains(&1) || protos.contains(&58), "{protos:?}");
    // Sampling came with each dialect: announced in options data (v9, IPFIX) or in each sample (sFlow).
    for (exporter, rate) in [("127.0.0.11", 1000), ("127.0.0.13", 1), ("127.0.0.14", 512)] {
        let listed = query(
            &data,
            &["--flows", "--limit", "50", &format!("exporter_addr = {exporter}")],
        );
        assert!(!listed.is_empty(), "{exporter}");
        assert!(
            listed.iter().all(|f| f["sampling_rate"] == rate),
            "{exporter}: {listed:#?}"
        );
    }
}
