//! `weir replay`: pacing, and writing a capture's datagrams into a new capture.

// A failed unwrap in the helpers below is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use std::net::UdpSocket;
use std::time::{Duration, Instant};

use common::{TempDir, fixture, flows, run};

/// Seconds since midnight of an RFC 3339 UTC time: enough to compare times within a day.
fn secs_of_day(t: &serde_json::Value) -> f64 {
    let t = t.as_str().unwrap();
    let mut parts = t[11..t.len() - 1].split(':').map(|p| p.parse::<f64>().unwrap());
    parts.next().unwrap() * 3600.0 + parts.next().unwrap() * 60.0 + parts.next().unwrap()
}

/// Seconds between the first and the last packet of a capture, from `weir decode`'s received times.
fn span_secs(capture: &str) -> f64 {
    let out = run(&["decode", capture]);
    let times: Vec<f64> = flows(&out.stdout)
        .iter()
        .map(|f| secs_of_day(&f["time_received"]))
        .collect();
    times.iter().copied().fold(f64::MIN, f64::max) - times.iter().copied().fold(f64::MAX, f64::min)
}

#[test]
fn sends_every_datagram_at_the_capture_pace() {
    let capture = fixture("netgauze/101-NFv9-CISCO_traffic-00.pcap");
    let span = span_secs(&capture);
    assert!(span > 0.01, "the capture spans {span} s");
    let sink = UdpSocket::bind("127.0.0.1:0").unwrap();
    sink.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let to = sink.local_addr().unwrap().to_string();
    // Slowed down so that the pace is measurable: the capture's span takes ten times as long.
    let started = Instant::now();
    let out = run(&["replay", &capture, "--to", &to, "--speed", "0.1"]);
    let took = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.starts_with("Sent 40 datagrams (7780 bytes) in "),
        "{stderr}"
    );
    assert!(
        took >= span * 10.0 * 0.9,
        "took {took} s for a span of {span} s at speed 0.1"
    );
    let mut buf = [0u8; 65_536];
    let (mut n, mut bytes) = (0, 0);
    while n < 40 {
        bytes += sink.recv(&mut buf).unwrap();
        n += 1;
    }
    assert_eq!(bytes, 7780);
}

#[test]
fn writes_a_repeated_capture_that_decodes_to_the_same_flows() {
    let capture = fixture("goflow2/pcap/goflow2_netflow_v5_vector.pcap");
    let dir = TempDir::new("replay-write");
    let out_path = dir.path("x3.pcap");
    let out = run(&["replay", &capture, "--write", &out_path, "--loop", "3"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let once = flows(&run(&["decode", &capture]).stdout);
    let thrice = run(&["decode", &out_path]);
    assert!(thrice.status.success());
    let thrice = flows(&thrice.stdout);
    assert_eq!(thrice.len(), 3 * once.len());
    for (i, f) in thrice.iter().enumerate() {
        let mut f = f.clone();
        let mut g = once[i % once.len()].clone();
        let (tf, tg) = (f["time_received"].take(), g["time_received"].take());
        assert_eq!(f, g, "flow {i} is the original's");
        if i < once.len() {
            assert_eq!(tf, tg, "the first pass keeps the capture's times");
        } else {
            assert!(
                secs_of_day(&tf) > secs_of_day(&tg),
                "later passes come later: {tf} vs {tg}"
            );
        }
    }
}

#[test]
fn refuses_a_speed_that_is_not_positive() {
    let out = run(&[
        "replay",
        &fixture("goflow2/pcap/goflow2_netflow_v5_vector.pcap"),
        "--to",
        "127.0.0.1:9",
        "--speed",
        "0",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--speed must be a positive number"));
}
