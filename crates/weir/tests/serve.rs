//! `weir serve` end to end: start it on loopback with ephemeral ports, replay a capture into it with
//! `weir replay`, stop it with SIGTERM, and check what it wrote and counted.

// A failed unwrap in the helpers below is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use common::{TempDir, comparable, fixture, flows, run, weir};

/// A running `weir serve`, killed if the test fails before stopping it.
struct Server {
    child: Child,
    udp: String,
    http: String,
    log: mpsc::Receiver<String>,
}

impl Server {
    fn start(output: &str, extra: &[&str]) -> Self {
        let mut child = weir()
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--http",
                "127.0.0.1:0",
                "--output",
                output,
            ])
            .args(["--readers", "2", "--shards", "2"])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, log) = mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let (mut udp, mut http) = (None, None);
        while udp.is_none() || http.is_none() {
            let line = log
                .recv_timeout(Duration::from_secs(10))
                .expect("weir serve starts");
            let addr = line
                .split_whitespace()
                .find_map(|w| w.strip_prefix("addr="))
                .map(str::to_owned);
            if line.contains("Listening for export datagrams.") {
                udp = addr;
            } else if line.contains("Serving /metrics") {
                http = addr;
            }
        }
        Self {
            child,
            udp: udp.unwrap(),
            http: http.unwrap(),
            log,
        }
    }

    fn get(&self, path: &str) -> String {
        let mut s = TcpStream::connect(&self.http).unwrap();
        write!(s, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").unwrap();
        let mut resp = String::new();
        s.read_to_string(&mut resp).unwrap();
        let (head, body) = resp.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.0 200"), "{head}");
        body.to_owned()
    }

    /// The value of the sample line that starts with `series` (name and labels), if any.
    fn metric(&self, series: &str) -> Option<u64> {
        self.get("/metrics")
            .lines()
            .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
    }

    fn wait_for_metric(&self, series: &str, want: u64) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.metric(series) != Some(want) {
            assert!(
                Instant::now() < deadline,
                "{series} never reached {want}:\n{}",
                self.get("/metrics")
            );
            thread::sleep(Duration::from_millis(100));
        }
    }

    /// Sends SIGTERM and waits for a clean exit; returns the log.
    fn stop(mut self) -> Vec<String> {
        let pid = self.child.id().to_string();
        assert!(
            std::process::Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        let deadline = Instant::now() + Duration::from_secs(10);
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            assert!(Instant::now() < deadline, "weir serve did not stop");
            thread::sleep(Duration::from_millis(20));
        };
        // Every line, up to the end of the stream (the reading thread ends there).
        let mut log = Vec::new();
        while let Ok(line) = self.log.recv_timeout(Duration::from_secs(5)) {
            log.push(line);
        }
        assert!(status.success(), "exit {status}: {log:#?}");
        log
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

fn replay(capture: &str, to: &str) {
    let out = run(&["replay", capture, "--to", to, "--top-speed"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn writes_the_flows_decode_finds_and_counts_them() {
    let capture = fixture("netgauze/101-NFv9-CISCO_traffic-00.pcap");
    let decoded = run(&["decode", &capture]);
    assert!(decoded.status.success());
    let expected = flows(&decoded.stdout);
    assert_eq!(expected.len(), 51);

    let dir = TempDir::new("serve");
    let output = dir.path("out/flows.ndjson");
    let server = Server::start(&output, &[]);
    assert_eq!(server.get("/healthz"), "ok\n");
    replay(&capture, &server.udp);
    let listener = format!("{{listener=\"{}\"}}", server.udp);
    let domain = "{exporter=\"127.0.0.1\",dialect=\"netflow-v9\",domain=\"0\"}";
    server.wait_for_metric(&format!("weir_exporter_records_total{domain}"), 51);
    assert_eq!(
        server.metric(&format!("weir_receiver_datagrams_total{listener}")),
        Some(40)
    );
    assert_eq!(
        server.metric(&format!("weir_receiver_bytes_total{listener}")),
        Some(7780)
    );
    assert_eq!(
        server.metric(&format!("weir_exporter_datagrams_total{domain}")),
        Some(40)
    );
    assert_eq!(
        server.metric(&format!("weir_exporter_templates{domain}")),
        Some(1)
    );
    let truncated = format!(
        "weir_exporter_errors_total{}",
        domain.replace('}', ",kind=\"truncated\"}")
    );
    assert_eq!(server.metric(&truncated), Some(0));
    let queue_full = format!(
        "weir_receiver_drops_total{}",
        listener.replace('}', ",reason=\"queue_full\"}")
    );
    assert_eq!(server.metric(&queue_full), Some(0));
    assert_eq!(
        server.metric(&format!("weir_receiver_kernel_drops_total{listener}")),
        Some(0)
    );
    let log = server.stop();
    assert!(
        log.iter()
            .any(|l| l.contains("Stopped.") && l.contains("flows=51")),
        "{log:#?}"
    );

    let written = flows(&std::fs::read(&output).unwrap());
    assert!(written.iter().all(|f| f["exporter_addr"] == "127.0.0.1"));
    assert_eq!(comparable(written), comparable(expected));
}

#[test]
fn drops_and_counts_exporters_not_allowed() {
    let dir = TempDir::new("allow");
    let output = dir.path("flows.ndjson");
    let server = Server::start(&output, &["--allow", "192.0.2.0/24"]);
    replay(
        &fixture("goflow2/pcap/goflow2_netflow_v9_vectors.pcap"),
        &server.udp,
    );
    let not_allowed = format!(
        "weir_receiver_drops_total{{listener=\"{}\",reason=\"not_allowed\"}}",
        server.udp
    );
    server.wait_for_metric(&not_allowed, 2);
    assert_eq!(server.metric("weir_sink_flows_total"), Some(0));
    server.stop();
    assert_eq!(std::fs::read(&output).unwrap(), b"");
}

#[test]
fn accepts_every_dialect_on_one_port() {
    let captures = [
        "goflow2/pcap/goflow2_netflow_v5_vector.pcap",
        "goflow2/pcap/goflow2_netflow_v9_vectors.pcap",
        "netgauze/100-IPFIXv10-CISCO_traffic-00.pcap",
        "tcpdump/sflow-print-v6.pcap",
    ]
    .map(fixture);
    let mut expected = Vec::new();
    for c in &captures {
        let out = run(&["decode", c]);
        assert!(out.status.success());
        expected.extend(flows(&out.stdout));
    }
    let dir = TempDir::new("dialects");
    let output = dir.path("flows.ndjson");
    let server = Server::start(&output, &[]);
    for c in &captures {
        replay(c, &server.udp);
    }
    let series = |dialect: &str, domain: u32| {
        format!("{{exporter=\"127.0.0.1\",dialect=\"{dialect}\",domain=\"{domain}\"}}")
    };
    server.wait_for_metric(
        &format!("weir_exporter_datagrams_total{}", series("sflow", 0)),
        25,
    );
    for (dialect, domain, datagrams) in [
        ("netflow-v5", 2056, 1),
        ("netflow-v9", 256, 2),
        ("ipfix", 851_968, 3),
        ("ipfix", 917_504, 3),
    ] {
        let name = format!("weir_exporter_datagrams_total{}", series(dialect, domain));
        assert_eq!(server.metric(&name), Some(datagrams), "{name}");
    }
    assert_eq!(
        server.metric(&format!(
            "weir_exporter_counter_samples_total{}",
            series("sflow", 0)
        )),
        Some(48)
    );
    assert_eq!(
        server.metric(&format!("weir_exporter_templates{}", series("netflow-v9", 256))),
        Some(1)
    );
    server.wait_for_metric("weir_sink_flows_total", expected.len() as u64);
    server.stop();
    assert_eq!(
        comparable(flows(&std::fs::read(&output).unwrap())),
        comparable(expected)
    );
}

#[test]
fn logs_decode_errors_at_a_limited_rate_and_counts_them() {
    let dir = TempDir::new("errors");
    let server = Server::start(&dir.path("flows.ndjson"), &[]);
    let exporter = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    for _ in 0..12 {
        exporter.send_to(&[0, 42, 0, 0], &server.udp).unwrap();
    }
    let errors = "weir_exporter_errors_total{exporter=\"127.0.0.1\",dialect=\"unknown\",domain=\"0\",kind=\"unknown_version\"}";
    server.wait_for_metric(errors, 12);
    let log = server.stop();
    let logged: Vec<&String> = log
        .iter()
        .filter(|l| l.contains("Cannot decode datagram"))
        .collect();
    assert_eq!(logged.len(), 5, "{log:#?}");
    assert!(
        logged[0].contains("Cannot decode datagram: unknown export version 42 at offset 0.")
            && logged[0].contains("exporter=127.0.0.1 dialect=unknown domain=0 offset=0"),
        "{}",
        logged[0]
    );
    assert!(
        log.iter().any(
            |l| l.contains("More decode errors from this exporter were not logged.")
                && l.contains("exporter=127.0.0.1 suppressed=7")
        ),
        "{log:#?}"
    );
}
