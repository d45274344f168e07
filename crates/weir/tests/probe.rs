//! `weir probe` end to end: packets from a capture file into flows, exported over UDP into `weir serve`
//! or handed to one in the same process (`--serve`), checked against the capture's own counts and against
//! softflowd on the same file.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::process::{Command, Stdio};

use common::server::Server;
use common::{TempDir, flows, run};

/// Writes a capture of `packets` packets over `active` flows with `weir bench packets`.
fn capture(dir: &TempDir, packets: u32, active: u32, seed: u32) -> String {
    let path = dir.path("traffic.pcap");
    let out = run(&[
        "bench",
        "packets",
        "--out",
        &path,
        "--packets",
        &packets.to_string(),
        "--flows",
        &active.to_string(),
        "--seconds",
        "90",
        "--seed",
        &seed.to_string(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    path
}

/// Packets and IP bytes in a capture, read here from the frames' own headers: (all, IPv4 only). The file
/// is walked by hand so that nothing of Weir's own capture reading takes part.
fn pcap_totals(path: &str) -> ((u64, u64), (u64, u64)) {
    let bytes = std::fs::read(path).unwrap();
    let big = match bytes[..4] {
        [0xa1, 0xb2, 0x3c, 0x4d] | [0xa1, 0xb2, 0xc3, 0xd4] => true,
        [0x4d, 0x3c, 0xb2, 0xa1] | [0xd4, 0xc3, 0xb2, 0xa1] => false,
        _ => panic!("not a pcap file"),
    };
    let word = |at: usize| {
        let b: [u8; 4] = bytes[at..at + 4].try_into().unwrap();
        (if big {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        }) as usize
    };
    let (mut all, mut v4) = ((0, 0), (0, 0));
    let mut at = 24;
    while at < bytes.len() {
        let caplen = word(at + 8);
        let data = &bytes[at + 16..at + 16 + caplen];
        at += 16 + caplen;
        let mut off = 12;
        let mut etype = u16::from_be_bytes([data[off], data[off + 1]]);
        if etype == 0x8100 {
            off += 4;
            etype = u16::from_be_bytes([data[off], data[off + 1]]);
        }
        let ip = off + 2;
        let len = match etype {
            0x0800 => u64::from(u16::from_be_bytes([data[ip + 2], data[ip + 3]])),
            0x86dd => 40 + u64::from(u16::from_be_bytes([data[ip + 4], data[ip + 5]])),
            other => panic!("unexpected EtherType {other:#x}"),
        };
        all = (all.0 + 1, all.1 + len);
        if etype == 0x0800 {
            v4 = (v4.0 + 1, v4.1 + len);
        }
    }
    (all, v4)
}

/// Packets, bytes and records per 5-tuple. ICMP is keyed without ports: softflowd leaves ICMP type and
/// code out of its ports, Weir puts them in the destination port as NetFlow does.
fn per_tuple(flows: &[serde_json::Value]) -> BTreeMap<String, (u64, u64, u64)> {
    let mut sums = BTreeMap::new();
    for f in flows {
        let icmp = matches!(f["proto"].as_u64(), Some(1 | 58));
        let port = |p: &str| if icmp { 0 } else { f[p].as_u64().unwrap() };
        let key = format!(
            "{} {} {} {} {}",
            f["src_addr"],
            f["dst_addr"],
            port("src_port"),
            port("dst_port"),
            f["proto"]
        );
        let e = sums.entry(key).or_insert((0, 0, 0));
        e.0 += f["packets"].as_u64().unwrap();
        e.1 += f["bytes"].as_u64().unwrap();
        e.2 += 1;
    }
    sums
}

fn totals(flows: &[serde_json::Value]) -> (u64, u64) {
    flows.iter().fold((0, 0), |(p, b), f| {
        (
            p + f["packets"].as_u64().unwrap(),
            b + f["bytes"].as_u64().unwrap(),
        )
    })
}

/// Runs the probe on `pcap`, exporting in `format` into a fresh `weir serve`; returns the flows the
/// collector wrote and the probe's own NDJSON output.
fn probe_through_serve(
    dir: &TempDir,
    pcap: &str,
    format: &str,
    extra: &[&str],
) -> (Vec<serde_json::Value>, Vec<serde_json::Value>) {
    let collected = dir.path(&format!("collected-{format}.ndjson"));
    let direct = dir.path(&format!("direct-{format}.ndjson"));
    let server = Server::start(&collected, &[]);
    let out = run(&[
        &[
            "probe",
            "--read",
            pcap,
            "--export",
            &server.udp,
            "--format",
            format,
            "--output",
            &direct,
        ][..],
        extra,
    ]
    .concat());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let direct = flows(&std::fs::read(&direct).unwrap());
    let expected = if format == "v5" {
        direct.iter().filter(|f| f["etype"] == 0x0800).count()
    } else {
        direct.len()
    };
    server.wait_for_metric("weir_sink_flows_total", expected as u64);
    let log = server.stop();
    assert!(
        !log.iter().any(|l| l.contains("ERROR") || l.contains("WARN")),
        "{log:#?}"
    );
    (flows(&std::fs::read(&collected).unwrap()), direct)
}

#[test]
fn exported_flows_add_up_to_the_packets_and_bytes_of_the_capture() {
    let dir = TempDir::new("probe-round-trip");
    let pcap = capture(&dir, 40_000, 300, 3);
    let (all, v4) = pcap_totals(&pcap);
    for format in ["v9", "ipfix"] {
        let (collected, direct) = probe_through_serve(&dir, &pcap, format, &[]);
        assert_eq!(totals(&direct), all, "{format}: the probe's own output");
        assert_eq!(totals(&collected), all, "{format}: what the collector decoded");
        assert_eq!(per_tuple(&collected), per_tuple(&direct), "{format}");
    }
    // NetFlow v5 carries IPv4 only: the IPv6 flows are skipped (and counted), the rest arrive whole.
    let (collected, _) = probe_through_serve(&dir, &pcap, "v5", &[]);
    assert_eq!(totals(&collected), v4);
}

#[test]
fn flows_handed_to_a_collector_in_the_process_are_stored_whole() {
    let dir = TempDir::new("probe-serve");
    let pcap = capture(&dir, 40_000, 300, 4);
    for threads in ["1", "2"] {
        handed_to_a_collector(&TempDir::new(&format!("probe-serve-{threads}")), &pcap, threads);
    }
}

/// Runs the probe on `pcap` with a collector in its process, and checks what the collector stored.
fn handed_to_a_collector(dir: &TempDir, pcap: &str, threads: &str) {
    let (all, _) = pcap_totals(pcap);
    let (data, copy, direct) = (
        dir.path("data"),
        dir.path("delivered.ndjson"),
        dir.path("direct.ndjson"),
    );
    let config = dir.path("weir.toml");
    std::fs::write(
        &config,
        format!(
            "[collector]\nlisten = [\"127.0.0.1:0\"]\nlisten_tcp = []\n[http]\nenabled = false\n\
             [store]\ndir = \"{data}\"\n[output]\nndjson = \"{copy}\"\n"
        ),
    )
    .unwrap();
    let out = run(&[
        "probe",
        "--read",
        pcap,
        "--threads",
        threads,
        "--serve",
        "--serve-config",
        &config,
        "--output",
        &direct,
        "--source-id",
        "7",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("WARN") && !stderr.contains("ERROR"), "{stderr}");
    let direct = flows(&std::fs::read(&direct).unwrap());
    assert!(
        stderr.contains(&format!(
            "{} flows handed to the collector in this process",
            direct.len()
        )),
        "{stderr}"
    );
    // The collector's own copy of what it stored: every flow, from the probe's address and domain,
    // received when it expired on the packets' clock.
    let delivered = flows(&std::fs::read(&copy).unwrap());
    assert_eq!(totals(&delivered), all, "--threads {threads}");
    assert_eq!(per_tuple(&delivered), per_tuple(&direct));
    for f in &delivered {
        assert_eq!(f["exporter_addr"], "127.0.0.1", "{f}");
        assert_eq!(f["observation_domain"], 7, "{f}");
        assert!(f["time_received"].as_str() >= f["flow_end"].as_str(), "{f}");
    }
    // And the store has them, whatever the capture's date.
    let out = run(&[
        "query",
        "--data",
        &data,
        "--summary",
        "--format",
        "json",
        "--from",
        "2000-01-01T00:00:00Z",
        "--to",
        "2100-01-01T00:00:00Z",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows = flows(&out.stdout);
    let stored = rows.iter().find(|r| r["exporter_addr"] == "127.0.0.1").unwrap();
    assert_eq!(
        (stored["packets"].as_u64(), stored["bytes"].as_u64()),
        (Some(all.0), Some(all.1))
    );
    assert_eq!(stored["flows"].as_u64(), Some(direct.len() as u64));
}

#[test]
fn sampled_flows_carry_their_rate_and_scale_back_to_about_the_capture() {
    let dir = TempDir::new("probe-sampling");
    let pcap = capture(&dir, 40_000, 300, 5);
    let ((packets, _), _) = pcap_totals(&pcap);
    let (collected, _) = probe_through_serve(&dir, &pcap, "v9", &["--sampling", "10"]);
    assert!(collected.iter().all(|f| f["sampling_rate"] == 10));
    let seen: u64 = collected.iter().map(|f| f["packets"].as_u64().unwrap()).sum();
    assert_eq!(
        seen,
        packets.div_ceil(10),
        "deterministic 1 in 10 takes the 1st, 11th, ..."
    );
}

/// softflowd, when it is installed (`.ci/run` installs it and sets `WEIR_REQUIRE_SOFTFLOWD`).
fn softflowd() -> Option<&'static str> {
    let found = Command::new("softflowd").arg("-h").output().is_ok();
    if !found {
        assert!(
            std::env::var_os("WEIR_REQUIRE_SOFTFLOWD").is_none(),
            "softflowd is required but not installed"
        );
        eprintln!("softflowd is not installed: skipping the comparison");
        return None;
    }
    Some("softflowd")
}

#[test]
fn agrees_with_softflowd_per_five_tuple_on_the_same_capture() {
    let Some(softflowd) = softflowd() else { return };
    let dir = TempDir::new("probe-softflowd");
    let pcap = capture(&dir, 60_000, 500, 7);
    let timeouts = ["--inactive", "15s", "--active", "30m"];
    let (ours, _) = probe_through_serve(&dir, &pcap, "v9", &timeouts);

    let theirs_path = dir.path("softflowd.ndjson");
    let server = Server::start(&theirs_path, &[]);
    // softflowd 1.1.0 reading a file hangs, sending nothing, when its control socket path is longer
    // than 11 characters.
    let control = format!("/tmp/s{}", std::process::id() % 100_000);
    let pid = dir.path("softflowd.pid");
    let mut child = Command::new(softflowd)
        .args([
            "-r",
            &pcap,
            "-n",
            &server.udp,
            "-v",
            "9",
            "-6",
            "-d",
            "-m",
            "1000000",
        ])
        .args([
            "-t",
            "general=15s",
            "-t",
            "tcp=15s",
            "-t",
            "udp=15s",
            "-t",
            "icmp=15s",
            "-t",
            "maxlife=1800s",
        ])
        .args(["-p", &pid, "-c", &control])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    server.wait_for_metric("weir_sink_flows_total", ours.len() as u64);
    // Every flow is in: softflowd has read the file, whether or not it has exited yet.
    let _ = child.kill();
    child.wait().unwrap();
    let _ = std::fs::remove_file(&control);
    server.stop();
    let theirs = flows(&std::fs::read(&theirs_path).unwrap());

    assert_eq!(theirs.len(), ours.len(), "flow records");
    assert_eq!(totals(&theirs), totals(&ours), "packets and bytes");
    let (ours, theirs) = (per_tuple(&ours), per_tuple(&theirs));
    let differ: Vec<_> = ours
        .iter()
        .filter(|(k, v)| theirs.get(*k) != Some(v))
        .take(5)
        .collect();
    assert!(
        differ.is_empty(),
        "{} of {} 5-tuples differ, e.g. {differ:?}",
        differ.len(),
        ours.len()
    );
    assert_eq!(ours.len(), theirs.len());
}

#[test]
fn refuses_bad_settings_before_reading_a_packet() {
    let dir = TempDir::new("probe-bad-settings");
    let pcap = capture(&dir, 100, 10, 1);
    let cases: [(&[&str], &str); 6] = [
        (
            &["--inactive", "0s"],
            "inactive timeout 0 s out of range 1..=3600 s",
        ),
        (&["--key", "src_addr,dst_adr"], "unknown key field `dst_adr`"),
        (&["--entries", "3"], "cache entries 3 out of range"),
        (&["--export", "collector.invalid:2055"], "collector.invalid:2055"),
        (&["--aggregate", "prefixes"], "--aggregate `prefixes`"),
        (
            &["--routes", "/nonexistent/routes.txt"],
            "/nonexistent/routes.txt",
        ),
    ];
    for (args, message) in cases {
        let out = run(&[&["probe", "--read", &pcap][..], args].concat());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} was accepted");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
}

#[test]
fn stats_print_the_cache_like_show_ip_cache_flow() {
    let dir = TempDir::new("probe-stats");
    let pcap = capture(&dir, 20_000, 200, 9);
    let out = run(&[
        "probe",
        "--read",
        &pcap,
        "--stats",
        "--verbose",
        "--entries",
        "4096",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains("SrcIf          SrcIPaddress    DstIf          DstIPaddress    Pr TOS Flgs  Pkts")
    );
    assert!(
        stdout.contains("IP packet size distribution (20000 total packets):"),
        "{stdout}"
    );
    assert!(stdout.contains("IP Flow Switching Cache, "), "{stdout}");
    let total = stdout.lines().find(|l| l.starts_with("Total:")).unwrap();
    let flows_total: u64 = total.split_whitespace().nth(1).unwrap().parse().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("{flows_total} flows created, {flows_total} expired")),
        "{stderr}"
    );
    assert!(
        stdout.contains("TCP-WWW") && stdout.contains("UDP-DNS"),
        "{stdout}"
    );
}

#[test]
fn a_capture_cut_short_is_reported_and_its_flows_still_exported() {
    let dir = TempDir::new("probe-cut-short");
    let pcap = capture(&dir, 5_000, 50, 2);
    let bytes = std::fs::read(&pcap).unwrap();
    let cut = dir.path("cut.pcap");
    std::fs::write(&cut, &bytes[..bytes.len() - 30]).unwrap();
    let output = dir.path("cut.ndjson");
    let out = run(&["probe", "--read", &cut, "--output", &output]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("ends inside packet 5000"), "{stderr}");
    let written = flows(&std::fs::read(&output).unwrap());
    assert_eq!(totals(&written).0, 4_999, "every whole packet is in a flow");
}

#[test]
fn two_threads_meter_the_same_flows_as_one() {
    let dir = TempDir::new("probe-threads");
    let pcap = capture(&dir, 30_000, 400, 4);
    let mut results = Vec::new();
    for threads in ["1", "2"] {
        let output = dir.path(&format!("threads-{threads}.ndjson"));
        let out = run(&[
            "probe",
            "--read",
            &pcap,
            "--threads",
            threads,
            "--output",
            &output,
            "--stats",
        ]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert!(
            stdout.contains("IP packet size distribution (30000 total packets):"),
            "{stdout}"
        );
        results.push(flows(&std::fs::read(&output).unwrap()));
    }
    assert_eq!(results[0].len(), results[1].len());
    assert_eq!(per_tuple(&results[0]), per_tuple(&results[1]));
}
