//! `weir serve` end to end: start it on loopback with ephemeral ports, replay a capture into it with
//! `weir replay` (or stream IPFIX messages over TCP), stop it with SIGTERM, and check what it wrote and
//! counted.

// A failed unwrap in the helpers below is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::Duration;

use common::server::Server;
use common::{TempDir, comparable, fixture, flows, run};

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

/// The UDP payloads of a capture of Ethernet, IPv4 and UDP frames, in order.
fn udp_payloads(capture: &str) -> Vec<Vec<u8>> {
    let file = std::fs::File::open(capture).unwrap();
    let mut reader = pcap_file::pcap::PcapReader::new(file).unwrap();
    let mut payloads = Vec::new();
    while let Some(packet) = reader.next_packet() {
        let frame = packet.unwrap().data;
        assert_eq!((&frame[12..14], frame[23]), (&[8, 0][..], 17), "IPv4 and UDP");
        let udp = 14 + usize::from(frame[14] & 0x0f) * 4;
        let len = usize::from(u16::from_be_bytes([frame[udp + 4], frame[udp + 5]]));
        payloads.push(frame[udp + 8..udp + len].to_vec());
    }
    payloads
}

/// Writes `bytes` in `piece`-byte writes, pausing after each so that the reads split messages.
fn send_in_pieces(stream: &mut TcpStream, bytes: &[u8], piece: usize) {
    stream.set_nodelay(true).unwrap();
    for p in bytes.chunks(piece) {
        stream.write_all(p).unwrap();
        thread::sleep(Duration::from_millis(1));
    }
}

/// True once the server has closed `stream` (end of stream or reset), reading at most 5 s.
fn closed_by_server(stream: &mut TcpStream) -> bool {
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = [0u8; 64];
    match stream.read(&mut buf) {
        Ok(0) => true,
        Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
        Ok(_) => false,
    }
}

/// `name{listener="…"}` for the server's TCP listener, with `reason` if given.
fn tcp_series(server: &Server, name: &str, reason: Option<&str>) -> String {
    match reason {
        Some(r) => format!("{name}{{listener=\"{}\",reason=\"{r}\"}}", server.tcp),
        None => format!("{name}{{listener=\"{}\"}}", server.tcp),
    }
}

#[test]
fn receives_ipfix_over_tcp_as_decode_reads_it() {
    let file = fixture("logstash-codec-netflow/ipfix.dat");
    let capture = fixture("netgauze/100-IPFIXv10-CISCO_traffic-00.pcap");
    let mut expected = flows(&run(&["decode", "--raw", &file]).stdout);
    expected.extend(flows(&run(&["decode", &capture]).stdout));
    assert_eq!(expected.len(), 24);
    // One stream: the three messages of an IPFIX file, then six messages of two observation domains.
    let mut stream = std::fs::read(&file).unwrap();
    for payload in udp_payloads(&capture) {
        stream.extend(payload);
    }
    assert_eq!(stream.len(), 788 + 1020 + 812);

    let dir = TempDir::new("tcp");
    let output = dir.path("flows.ndjson");
    let server = Server::start(&output, &[]);
    let mut exporter = TcpStream::connect(&server.tcp).unwrap();
    send_in_pieces(&mut exporter, &stream, 13);
    server.wait_for_metric("weir_sink_flows_total", 24);
    let tcp = |name: &str, reason: Option<&str>| server.metric(&tcp_series(&server, name, reason));
    assert_eq!(tcp("weir_tcp_connections", None), Some(1));
    assert_eq!(tcp("weir_tcp_connections_total", None), Some(1));
    assert_eq!(tcp("weir_tcp_messages_total", None), Some(9));
    assert_eq!(tcp("weir_tcp_bytes_total", None), Some(2620));
    assert_eq!(tcp("weir_tcp_framing_errors_total", None), Some(0));
    assert_eq!(tcp("weir_tcp_queue_waits_total", None), Some(0));
    for (domain, datagrams, records) in [(0, 3, 12), (851_968, 3, 8), (917_504, 3, 4)] {
        let series = format!("{{exporter=\"127.0.0.1\",dialect=\"ipfix\",domain=\"{domain}\"}}");
        // Counters are published every second.
        server.wait_for_metric(&format!("weir_exporter_datagrams_total{series}"), datagrams);
        assert_eq!(
            server.metric(&format!("weir_exporter_records_total{series}")),
            Some(records)
        );
    }
    assert_eq!(
        server.metric(&format!(
            "weir_receiver_datagrams_total{{listener=\"{}\"}}",
            server.udp
        )),
        Some(0),
        "nothing came over UDP"
    );
    drop(exporter);
    server.wait_for_metric(&tcp_series(&server, "weir_tcp_closes_total", Some("eof")), 1);
    server.wait_for_metric(&tcp_series(&server, "weir_tcp_connections", None), 0);
    for reason in ["incomplete", "shutdown"] {
        assert_eq!(tcp("weir_tcp_drops_total", Some(reason)), Some(0), "{reason}");
    }
    let log = server.stop();
    assert!(
        log.iter()
            .any(|l| l.contains("Stopped.") && l.contains("tcp_messages=9") && l.contains("flows=24")),
        "{log:#?}"
    );
    let written = flows(&std::fs::read(&output).unwrap());
    assert!(written.iter().all(|f| f["exporter_addr"] == "127.0.0.1"));
    assert_eq!(comparable(written), comparable(expected));
}

#[test]
fn closes_a_connection_that_sends_garbage_and_keeps_serving_others() {
    let file = std::fs::read(fixture("logstash-codec-netflow/ipfix.dat")).unwrap();
    let payloads = udp_payloads(&fixture("netgauze/100-IPFIXv10-CISCO_traffic-00.pcap"));
    let dir = TempDir::new("tcp-garbage");
    let server = Server::start(&dir.path("flows.ndjson"), &[]);
    let mut good = TcpStream::connect(&server.tcp).unwrap();
    good.write_all(&file[..484]).unwrap();
    // A whole message, then a NetFlow v9 header: v9 has no framing over a stream.
    let mut bad = TcpStream::connect(&server.tcp).unwrap();
    let mut garbage = payloads[0].clone();
    garbage.extend_from_slice(&[0, 9, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    bad.write_all(&garbage).unwrap();
    assert!(closed_by_server(&mut bad));
    server.wait_for_metric(&tcp_series(&server, "weir_tcp_framing_errors_total", None), 1);
    // The close is counted after the error, when the connection's thread ends.
    server.wait_for_metric(&tcp_series(&server, "weir_tcp_closes_total", Some("framing")), 1);

    good.write_all(&file[484..]).unwrap();
    let domain0 = "{exporter=\"127.0.0.1\",dialect=\"ipfix\",domain=\"0\"}";
    server.wait_for_metric(&format!("weir_exporter_records_total{domain0}"), 12);
    server.wait_for_metric(&tcp_series(&server, "weir_tcp_messages_total", None), 4);
    assert_eq!(
        server.metric(
            "weir_exporter_datagrams_total{exporter=\"127.0.0.1\",dialect=\"ipfix\",domain=\"851968\"}"
        ),
        Some(1),
        "the message before the garbage was decoded"
    );
    server.wait_for_metric(&tcp_series(&server, "weir_tcp_connections", None), 1);
    let log = server.stop();
    let at = payloads[0].len();
    assert!(
        log.iter().any(|l| l.contains(&format!(
            "Closing an IPFIX connection whose stream cannot be split into messages: unknown export version 9 at offset {at}."
        )) && l.contains("exporter=127.0.0.1")
            && l.contains(&format!("offset={at}"))),
        "{log:#?}"
    );
    assert!(closed_by_server(&mut good), "stopping closes open connections");
}

#[test]
fn refuses_and_counts_connections_over_the_limit() {
    let dir = TempDir::new("tcp-limit");
    let server = Server::start(&dir.path("flows.ndjson"), &["--tcp-max-connections", "1"]);
    let open = tcp_series(&server, "weir_tcp_connections", None);
    let first = TcpStream::connect(&server.tcp).unwrap();
    server.wait_for_metric(&open, 1);
    let mut second = TcpStream::connect(&server.tcp).unwrap();
    assert!(closed_by_server(&mut second));
    server.wait_for_metric(&tcp_series(&server, "weir_tcp_refused_total", Some("limit")), 1);
    drop(first);
    server.wait_for_metric(&open, 0);
    let mut third = TcpStream::connect(&server.tcp).unwrap();
    server.wait_for_metric(&open, 1);
    assert_eq!(
        server.metric(&tcp_series(&server, "weir_tcp_connections_total", None)),
        Some(2)
    );
    assert_eq!(
        server.metric(&tcp_series(
            &server,
            "weir_tcp_refused_total",
            Some("not_allowed")
        )),
        Some(0)
    );
    let log = server.stop();
    assert!(
        log.iter()
            .any(|l| l.contains("Refusing a TCP connection: too many are open.")),
        "{log:#?}"
    );
    assert!(closed_by_server(&mut third));
}

#[test]
fn closes_silent_connections_and_refuses_exporters_not_allowed() {
    let dir = TempDir::new("tcp-idle");
    let server = Server::start(&dir.path("flows.ndjson"), &["--tcp-idle-timeout", "1"]);
    let mut silent = TcpStream::connect(&server.tcp).unwrap();
    server.wait_for_metric(&tcp_series(&server, "weir_tcp_closes_total", Some("idle")), 1);
    assert!(closed_by_server(&mut silent));
    server.stop();

    let server = Server::start(&dir.path("flows.ndjson"), &["--allow", "192.0.2.0/24"]);
    let mut refused = TcpStream::connect(&server.tcp).unwrap();
    assert!(closed_by_server(&mut refused));
    server.wait_for_metric(
        &tcp_series(&server, "weir_tcp_refused_total", Some("not_allowed")),
        1,
    );
    assert_eq!(
        server.metric(&tcp_series(&server, "weir_tcp_connections_total", None)),
        Some(0)
    );
    server.stop();
}
