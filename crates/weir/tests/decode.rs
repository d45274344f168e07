//! `weir decode` run as users run it: real captures, raw datagram files, and the error paths.

mod common;

use std::fs;

use common::{TempDir, fixture, flows, run};

const V5: &str = "goflow2/pcap/goflow2_netflow_v5_vector.pcap";

#[test]
fn decodes_a_netflow_v5_capture_to_ndjson() {
    let out = run(&["decode", &fixture(V5)]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let flows = flows(&out.stdout);
    assert_eq!(flows.len(), 6);
    for f in &flows {
        assert_eq!(
            f.as_object().unwrap().len(),
            weir_flow::COLUMNS.len(),
            "every schema column, by name"
        );
        assert_eq!(
            f["exporter_addr"], "192.0.2.1",
            "the exporter is the packet's source"
        );
        assert_eq!(
            f["time_received"], "2024-05-01T12:00:00Z",
            "received when captured"
        );
    }
    let first = &flows[0];
    assert_eq!(
        (
            &first["src_addr"],
            &first["src_port"],
            &first["dst_addr"],
            &first["dst_port"]
        ),
        (
            &"10.128.2.121".into(),
            &8080.into(),
            &"10.128.2.1".into(),
            &47384.into()
        )
    );
    assert_eq!(
        (&first["packets"], &first["bytes"], &first["proto"]),
        (&5.into(), &590.into(), &6.into())
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with("192.0.2.1  netflow-v5    2056          1    312        6")),
        "{stderr}"
    );
    assert!(
        stderr.contains("1 packets, 1 UDP datagrams, 0 not UDP, 0 truncated, 0 malformed"),
        "{stderr}"
    );
    assert!(stderr.contains("Decoded 1 datagrams into 6 flows."), "{stderr}");
}

#[test]
fn raw_datagrams_decode_like_the_capture_that_carries_them() {
    let capture = run(&["decode", &fixture(V5)]);
    let raw = run(&[
        "decode",
        "--raw",
        &fixture("goflow2/netflowlegacy_TestDecodeNetFlowV5_0.bin"),
        "--exporter",
        "192.0.2.1",
    ]);
    assert!(raw.status.success());
    let strip_time = |mut v: Vec<serde_json::Value>| {
        for f in &mut v {
            f.as_object_mut().unwrap().remove("time_received");
        }
        v
    };
    assert_eq!(strip_time(flows(&raw.stdout)), strip_time(flows(&capture.stdout)));
    // The received time of a raw datagram is the export time in its header.
    let unix_secs = {
        let b = fs::read(fixture("goflow2/netflowlegacy_TestDecodeNetFlowV5_0.bin")).unwrap();
        u32::from_be_bytes([b[8], b[9], b[10], b[11]])
    };
    let first = &flows(&raw.stdout)[0];
    let received = first["time_received"].as_str().unwrap();
    assert!(
        unix_secs > 0 && received.starts_with("2018-10-22T"),
        "{received} from {unix_secs}"
    );
}

#[test]
fn decodes_netflow_v9_and_ipfix_captures_cleanly() {
    for (file, dialect) in [
        ("netgauze/100-IPFIXv10-CISCO_traffic-00.pcap", "ipfix"),
        ("netgauze/101-NFv9-CISCO_traffic-00.pcap", "netflow-v9"),
        ("netgauze/102-NFv9-CISCO_traffic-00.pcap", "netflow-v9"),
        ("netgauze/104-IPFIXv10-IPv6_traffic-00.pcap", "ipfix"),
        ("goflow2/pcap/goflow2_netflow_v9_vectors.pcap", "netflow-v9"),
    ] {
        let out = run(&["decode", &fixture(file)]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{file}: {stderr}");
        let flows = flows(&out.stdout);
        assert!(!flows.is_empty(), "{file}");
        assert!(!stderr.contains("Malformed"), "{file}: {stderr}");
        assert!(
            stderr.contains(&format!("into {} flows.", flows.len())),
            "{file}: {stderr}"
        );
        assert!(
            stderr.lines().nth(1).is_some_and(|l| l.contains(dialect)),
            "{file}: {stderr}"
        );
    }
}

#[test]
fn prints_an_aligned_table() {
    let out = run(&["decode", "--format", "table", &fixture(V5)]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 7, "{text}");
    assert!(
        lines[0].starts_with("time_received         exporter_addr  in_if  out_if  proto  src_addr"),
        "{text}"
    );
    let bytes_end = lines[0].find("bytes").unwrap() + "bytes".len();
    assert!(
        lines[1..]
            .iter()
            .all(|l| l[..bytes_end].ends_with(|c: char| c.is_ascii_digit())),
        "right-aligned: {text}"
    );
}

#[test]
fn reads_ipfix_files_message_by_message() {
    let out = run(&["decode", "--raw", &fixture("logstash-codec-netflow/ipfix.dat")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with("127.0.0.1  ipfix") && l.contains("         3    788")),
        "{stderr}"
    );
    assert!(!stderr.contains("Malformed"), "{stderr}");
}

#[test]
fn reports_malformed_datagrams_and_still_succeeds() {
    let dir = TempDir::new("malformed");
    let garbage = dir.path("garbage.bin");
    fs::write(&garbage, [0, 42, 0, 0]).unwrap();
    let v5 = fs::read(fixture("goflow2/netflowlegacy_TestDecodeNetFlowV5_0.bin")).unwrap();
    let cut = dir.path("cut.bin");
    fs::write(&cut, &v5[..100]).unwrap();
    let out = run(&["decode", "--raw", &garbage, &cut]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("Malformed datagram: unknown export version 42 at offset 0."),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("file={garbage}")),
        "names the file: {stderr}"
    );
    assert!(stderr.contains("errors: unknown_version 1"), "{stderr}");
    assert!(stderr.contains("2 datagrams were malformed"), "{stderr}");
}

#[test]
fn limits_the_error_lines_per_exporter() {
    let dir = TempDir::new("flood");
    let files: Vec<String> = (0..30)
        .map(|i| {
            let p = dir.path(&format!("{i}.bin"));
            fs::write(&p, [0, 42]).unwrap();
            p
        })
        .collect();
    let mut args = vec!["decode", "--raw"];
    args.extend(files.iter().map(String::as_str));
    let out = run(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.matches("Malformed datagram").count(), 10, "{stderr}");
    assert!(
        stderr.contains(
            "More malformed datagrams from this exporter were not logged. exporter=127.0.0.1 suppressed=20"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("30 datagrams were malformed"), "{stderr}");
}

#[test]
fn fails_on_a_missing_file_naming_it() {
    let out = run(&["decode", "/nonexistent/capture.pcap"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot open /nonexistent/capture.pcap: No such file or directory"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn fails_on_a_file_that_is_not_a_capture() {
    let dir = TempDir::new("notpcap");
    let path = dir.path("notes.pcap");
    fs::write(&path, "hello, this is text\n").unwrap();
    let out = run(&["decode", &path]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("{path} is not a pcap or pcapng capture")),
        "{stderr}"
    );
}

#[test]
fn a_cut_short_capture_keeps_its_flows_and_fails() {
    let dir = TempDir::new("cut");
    let path = dir.path("cut.pcap");
    let bytes = fs::read(fixture("netgauze/101-NFv9-CISCO_traffic-00.pcap")).unwrap();
    let cut_at = bytes.len() / 2;
    fs::write(&path, &bytes[..cut_at]).unwrap();
    // Walk the (little-endian) records to find the packet the cut falls in.
    let (mut at, mut packet) = (24, 1);
    loop {
        let incl = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().unwrap()) as usize;
        if at + 16 + incl > cut_at {
            break;
        }
        at += 16 + incl;
        packet += 1;
    }
    let out = run(&["decode", &path]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "{path} ends inside packet {packet}: the capture was cut short"
        )),
        "{stderr}"
    );
    let read = packet - 1;
    assert!(
        stderr.contains(&format!("{read} packets, {read} UDP datagrams")),
        "the summary covers what was read: {stderr}"
    );
    let full = flows(&run(&["decode", &fixture("netgauze/101-NFv9-CISCO_traffic-00.pcap")]).stdout);
    let partial = flows(&out.stdout);
    assert!(
        !partial.is_empty() && partial.len() < full.len(),
        "{} of {}",
        partial.len(),
        full.len()
    );
    assert_eq!(partial[..], full[..partial.len()]);
}

#[test]
fn rejects_bad_arguments_with_usage() {
    let out = run(&["decode"]);
    assert_eq!(out.status.code(), Some(2));
    let out = run(&["decode", "--format", "xml", &fixture(V5)]);
    assert_eq!(out.status.code(), Some(2));
}
