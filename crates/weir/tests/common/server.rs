//! A `weir serve` run by a test, with its addresses read from its log.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use super::weir;

/// `weir serve`'s flags for listening on loopback ports the system picks, UDP, TCP and HTTP.
pub const FREE_PORTS: [&str; 6] = [
    "--listen",
    "127.0.0.1:0",
    "--listen-tcp",
    "127.0.0.1:0",
    "--http",
    "127.0.0.1:0",
];

/// A running `weir serve`, killed if the test fails before stopping it.
pub struct Server {
    child: Child,
    pub udp: String,
    pub tcp: String,
    pub http: String,
    pub log: mpsc::Receiver<String>,
}

impl Server {
    /// Starts `weir serve` writing NDJSON to `output`, and keeping no store unless `extra` gives `--data`.
    pub fn start(output: &str, extra: &[&str]) -> Self {
        let store: &[&str] = if extra.contains(&"--data") {
            &[]
        } else {
            &["--no-store"]
        };
        let mut child = weir()
            .arg("serve")
            .args(FREE_PORTS)
            .args(["--output", output])
            .args(["--readers", "2", "--shards", "2"])
            .args(store)
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = lines(child.stderr.take().unwrap());
        let (mut udp, mut tcp, mut http) = (None, None, None);
        while udp.is_none() || tcp.is_none() || http.is_none() {
            let line = log
                .recv_timeout(Duration::from_secs(10))
                .expect("weir serve starts");
            let addr = line
                .split_whitespace()
                .find_map(|w| w.strip_prefix("addr="))
                .map(str::to_owned);
            if line.contains("Listening for export datagrams.") {
                udp = addr;
            } else if line.contains("Listening for IPFIX over TCP.") {
                tcp = addr;
            } else if line.contains("/metrics and /healthz") {
                http = addr;
            }
        }
        Self {
            child,
            udp: udp.unwrap(),
            tcp: tcp.unwrap(),
            http: http.unwrap(),
            log,
        }
    }

    pub fn get(&self, path: &str) -> String {
        get(&self.http, path)
    }

    /// The value of the sample line that starts with `series` (name and labels), if any.
    pub fn metric(&self, series: &str) -> Option<u64> {
        metric_at(&self.http, series)
    }

    pub fn wait_for_metric(&self, series: &str, want: u64) {
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
    pub fn stop(mut self) -> Vec<String> {
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

/// The lines of a child's output, as they come.
pub fn lines(stream: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, log) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    log
}

/// The `addr=` of the first log line that contains `marker`.
pub fn addr_of(log: &mpsc::Receiver<String>, marker: &str) -> String {
    loop {
        let line = log
            .recv_timeout(Duration::from_secs(10))
            .expect("weir serve starts");
        if !line.contains(marker) {
            continue;
        }
        if let Some(a) = line.split_whitespace().find_map(|w| w.strip_prefix("addr=")) {
            return a.to_owned();
        }
    }
}

/// The body of `GET path` from the HTTP listener at `http`.
pub fn get(http: &str, path: &str) -> String {
    let mut s = TcpStream::connect(http).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let (head, body) = resp.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.0 200"), "{head}");
    body.to_owned()
}

/// The value of the sample line that starts with `series` on the `/metrics` of `http`, if any.
pub fn metric_at(http: &str, series: &str) -> Option<u64> {
    get(http, "/metrics")
        .lines()
        .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
}
