//! Packet input end to end: the real captures in `fixtures/captures/`, captures written here for every link
//! type and for what goes wrong, and live capture on the loopback interface when the tests run as root.

use std::borrow::Cow;
use std::fs::{self, File};
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use pcap_file::DataLink;
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::pcapng::blocks::enhanced_packet::{EnhancedPacketBlock, EnhancedPacketOption};
use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionBlock;
use weir_flow::codes::{direction, proto};
use weir_flow::{FlowRecord, ipv4};

use super::test_frames::{TempFile, args, ethernet, live_capture_possible, tcp, udp, whole, write_pcap};
use super::*;
use crate::clock::now;

/// Every packet of a source until its end or an error: records, what came with them, the counters, and
/// the error.
fn read_all(source: &mut PacketSource) -> (Vec<(FlowRecord, Parsed)>, InputStats, Option<InputError>) {
    let mut got = Vec::new();
    let mut rec = FlowRecord::default();
    loop {
        match source.next(&mut rec, |_, p| *p) {
            Ok(Next::Packet(p)) => got.push((rec, p)),
            Ok(Next::End) => return (got, source.stats(), None),
            Ok(Next::Idle { .. }) => panic!("a file is never idle"),
            Err(e) => return (got, source.stats(), Some(e)),
        }
    }
}

fn read_file(path: &Path, args: &InputArgs) -> (Vec<(FlowRecord, Parsed)>, InputStats, Option<InputError>) {
    read_all(&mut PacketSource::open_file(path, args).unwrap())
}

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/captures")
        .join(rel)
}

/// What tshark says of each capture in `fixtures/captures/` (Ethernet, every packet UDP):
/// `tshark -r FILE -E occurrence=f -T fields -e frame.time_epoch -e frame.len -e eth.type -e ip.len
/// -e ipv6.plen -e udp.srcport -e udp.dstport`, summed: packets, bytes on the wire, IPv6 packets, the sum
/// of IP lengths (IPv6: 40 + payload length), the sum of both ports, the first packet's time.
const FIXTURES: [(&str, u64, u64, usize, u64, u64, u64); 14] = [
    (
        "goflow2/pcap/goflow2_netflow_v5_vector.pcap",
        1,
        354,
        0,
        340,
        42055,
        1_714_564_800_000_000_000,
    ),
    (
        "goflow2/pcap/goflow2_netflow_v9_vectors.pcap",
        2,
        1596,
        0,
        1568,
        84110,
        1_714_564_800_000_000_000,
    ),
    (
        "goflow2/pcap/goflow2_sflow_vectors.pcap",
        5,
        2140,
        0,
        2070,
        231_715,
        1_714_564_800_000_000_000,
    ),
    (
        "netgauze/100-IPFIXv10-CISCO_traffic-00.pcap",
        6,
        2084,
        0,
        2000,
        360_606,
        1_672_534_805_000_000_000,
    ),
    (
        "netgauze/101-NFv9-CISCO_traffic-00.pcap",
        40,
        9460,
        0,
        8900,
        2_153_760,
        1_672_534_805_000_000_000,
    ),
    (
        "netgauze/102-NFv9-CISCO_traffic-00.pcap",
        25,
        4766,
        0,
        4416,
        559_839,
        1_672_534_805_000_000_000,
    ),
    (
        "netgauze/104-IPFIXv10-IPv6_traffic-00.pcap",
        5,
        1538,
        5,
        1468,
        301_955,
        1_672_534_805_000_000_000,
    ),
    (
        "netgauze/111-IPFIXv10-NFv9_traffic-00.pcap",
        11,
        2306,
        0,
        2152,
        592_284,
        1_672_534_805_000_000_000,
    ),
    (
        "netgauze/111-IPFIXv10-NFv9_traffic-01.pcap",
        11,
        3362,
        11,
        3208,
        692_076,
        1_672_534_805_000_000_000,
    ),
    (
        "netgauze/flow_srv6_srv6.pcap",
        170,
        39476,
        170,
        37096,
        11_376_570,
        1_662_710_931_221_239_000,
    ),
    (
        "tcpdump/sflow-print-v6.pcap",
        25,
        13058,
        25,
        12708,
        1_061_650,
        1_599_194_542_951_505_000,
    ),
    (
        "tcpdump/sflow_expanded.pcap",
        1,
        370,
        0,
        356,
        54216,
        1_672_326_228_557_763_000,
    ),
    (
        "tcpdump/sflow_multiple_counter_30_pdus.pcap",
        30,
        28804,
        0,
        28384,
        825_664,
        1_301_703_210_597_291_000,
    ),
    (
        "tcpdump/sflow_print-segv.pcap",
        1,
        914,
        0,
        896,
        10238,
        1_148_058_293_834_750_000,
    ),
];

#[test]
fn reads_every_fixture_capture_as_tshark_does() {
    for (rel, packets, bytes, v6, ip_len, ports, first_ts) in FIXTURES {
        let (got, stats, err) = read_file(&fixture(rel), &args());
        assert!(err.is_none(), "{rel}: {err:?}");
        assert_eq!(got.len() as u64, packets, "{rel}");
        assert_eq!(
            InputStats {
                packets,
                bytes,
                parsed: packets,
                ..InputStats::default()
            },
            stats,
            "{rel}"
        );
        assert!(got.iter().all(|(r, _)| r.proto == proto::UDP), "{rel}");
        assert_eq!(
            got.iter().filter(|(r, _)| r.etype == etype::IPV6).count(),
            v6,
            "{rel}"
        );
        let sum_ip: u64 = got.iter().map(|(_, p)| u64::from(p.summary.ip_len)).sum();
        let sum_ports: u64 = got
            .iter()
            .map(|(r, _)| u64::from(r.src_port) + u64::from(r.dst_port))
            .sum();
        assert_eq!((sum_ip, sum_ports), (ip_len, ports), "{rel}");
        assert_eq!(got[0].1.ts_ns, first_ts, "{rel}");
        let wire: u64 = got.iter().map(|(_, p)| u64::from(p.wire_len)).sum();
        assert_eq!(wire, bytes, "{rel}");
    }
}

#[test]
fn reads_the_packet_fields_of_an_ipv6_capture() {
    // flow_srv6_srv6.pcap, frame 1: 2a02:a90:4007:700::54.56929 -> 2a02:a90:4007::2:1.9992, 642 bytes.
    let (got, _, _) = read_file(&fixture("netgauze/flow_srv6_srv6.pcap"), &args());
    let (rec, p) = &got[0];
    assert_eq!(
        rec.src_addr,
        "2a02:a90:4007:700::54".parse::<std::net::Ipv6Addr>().unwrap()
    );
    assert_eq!(
        rec.dst_addr,
        "2a02:a90:4007::2:1".parse::<std::net::Ipv6Addr>().unwrap()
    );
    assert_eq!((rec.src_port, rec.dst_port, p.wire_len), (56929, 9992, 642));
    assert_eq!((p.summary.l3_offset, p.summary.l4_offset), (Some(14), Some(54)));
    assert_eq!(rec.flow_direction, direction::UNKNOWN);
}

#[test]
fn reads_cooked_raw_and_loopback_captures() {
    let v4 = udp("192.0.2.10:50000", "198.51.100.1:53", 10);
    let v6 = tcp("[2001:db8::10]:40000", "[2001:db8::1]:443", 0x12, 0);
    let mut sll = vec![0, 4, 0, 1, 0, 6, 2, 0, 0, 0, 0, 9, 0, 0, 0x08, 0x00];
    sll.extend_from_slice(&v4);
    let mut sll2 = vec![0x86, 0xdd, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 2, 0, 0, 0, 0, 9, 0, 0];
    sll2.extend_from_slice(&v6);
    let null = [&2u32.to_le_bytes()[..], &v4].concat();
    let cases = [
        ("sll", 113, sll, false, direction::EGRESS),
        ("sll2", 276, sll2, true, direction::INGRESS),
        ("raw", 101, v6.clone(), true, direction::UNKNOWN),
        ("raw-dlt", 12, v4.clone(), false, direction::UNKNOWN),
        ("ipv4", 228, v4.clone(), false, direction::UNKNOWN),
        ("ipv6", 229, v6.clone(), true, direction::UNKNOWN),
        ("null", 0, null, false, direction::UNKNOWN),
    ];
    for (name, link, frame, is_tcp6, dir) in cases {
        let f = TempFile::new(name);
        write_pcap(&f.0, link, &whole(vec![frame]));
        let (got, stats, err) = read_file(&f.0, &args());
        assert!(err.is_none(), "{name}: {err:?}");
        assert_eq!((stats.packets, stats.parsed, stats.non_ip), (1, 1, 0), "{name}");
        let (rec, p) = &got[0];
        if is_tcp6 {
            assert_eq!(
                (rec.proto, rec.src_port, rec.dst_port, rec.tcp_flags),
                (proto::TCP, 40000, 443, 0x12),
                "{name}"
            );
        } else {
            assert_eq!(
                (rec.proto, rec.src_port, rec.dst_port),
                (proto::UDP, 50000, 53),
                "{name}"
            );
            assert_eq!(rec.dst_addr, ipv4([198, 51, 100, 1]), "{name}");
        }
        assert_eq!(rec.flow_direction, dir, "{name}");
        assert_eq!(p.ts_ns, 1_700_000_000_000_000_000, "{name}");
    }
}

#[test]
fn counts_snapped_truncated_non_ip_and_malformed_frames() {
    let good = ethernet(0x0800, &udp("192.0.2.1:1000", "192.0.2.2:2000", 100));
    let arp = ethernet(0x0806, &[0; 28]);
    // Cut at 60 bytes by the snap length: headers whole, payload not.
    let long = ethernet(0x0800, &udp("192.0.2.1:1001", "192.0.2.2:2000", 1400));
    // Cut at 40 bytes: the UDP header is not all there.
    let mut bad = udp("192.0.2.1:1002", "192.0.2.2:2000", 10);
    bad[0] = 0x44;
    let bad = ethernet(0x0800, &bad);
    let frames = vec![
        (good.clone(), good.len() as u32),
        (arp.clone(), arp.len() as u32),
        (long[..60].to_vec(), long.len() as u32),
        (long[..36].to_vec(), long.len() as u32),
        (bad.clone(), bad.len() as u32),
        (good.clone(), good.len() as u32),
    ];
    let f = TempFile::new("mixed.pcap");
    write_pcap(&f.0, 1, &frames);
    let (got, stats, err) = read_file(&f.0, &args());
    assert!(err.is_none());
    let wire: u64 = frames.iter().map(|(_, len)| u64::from(*len)).sum();
    let mut want = InputStats {
        packets: 6,
        bytes: wire,
        snapped: 2,
        parsed: 5,
        truncated: 1,
        non_ip: 1,
        ..InputStats::default()
    };
    want.error(
        5,
        weir_proto::packet::PacketError::BadIpv4HeaderLength {
            offset: 14,
            length: 16,
        },
    );
    assert_eq!(stats, want);
    assert_eq!(stats.errors_of(ParseErrorKind::BadIpv4HeaderLength), 1);
    let ports: Vec<_> = got.iter().map(|(r, _)| r.src_port).collect();
    assert_eq!(
        ports,
        vec![1000, 0, 1001, 0, 1000],
        "the malformed frame is skipped"
    );
    assert_eq!(got[1].0.etype, 0x0806);
    let (cut, p) = &got[3];
    assert!(p.summary.truncated);
    assert_eq!((cut.proto, cut.src_port, p.wire_len), (proto::UDP, 0, 1442));
}

#[test]
fn reports_a_capture_cut_short_after_the_packets_before_it() {
    let frames = whole(
        (0..3)
            .map(|i| {
                ethernet(
                    0x0800,
                    &udp(&format!("192.0.2.1:{}", 100 + i), "192.0.2.2:53", 20),
                )
            })
            .collect(),
    );
    let f = TempFile::new("cut.pcap");
    write_pcap(&f.0, 1, &frames);
    let full = fs::metadata(&f.0).unwrap().len();
    File::options()
        .write(true)
        .open(&f.0)
        .unwrap()
        .set_len(full - 10)
        .unwrap();
    let (got, stats, err) = read_file(&f.0, &args());
    assert_eq!(
        got.iter().map(|(r, _)| r.src_port).collect::<Vec<_>>(),
        vec![100, 101]
    );
    assert_eq!((stats.packets, stats.parsed), (2, 2));
    match err {
        Some(InputError::Capture(CaptureError::CutShort { path, packet })) => {
            assert_eq!((path, packet), (f.0.clone(), 3));
        }
        other => panic!("expected a cut-short capture, got {other:?}"),
    }
    let text = PacketSource::open_file(&f.0, &args())
        .and_then(|mut s| {
            let mut rec = FlowRecord::default();
            while let Next::Packet(_) = s.next(&mut rec, |_, p| *p)? {}
            Ok(())
        })
        .unwrap_err()
        .to_string();
    assert_eq!(
        text,
        format!(
            "{} ends inside packet 3: the capture was cut short",
            f.0.display()
        )
    );
}

/// A pcapng file: an Ethernet interface, an interface of a link type Weir does not read, and packets
/// whose flags say which way they went.
fn pcapng_with_directions(path: &Path) {
    let mut w = PcapNgWriter::new(File::create(path).unwrap()).unwrap();
    w.write_pcapng_block(InterfaceDescriptionBlock::new(DataLink::ETHERNET, 0))
        .unwrap();
    w.write_pcapng_block(InterfaceDescriptionBlock::new(DataLink::from(147), 0))
        .unwrap();
    let packets = [
        (0, Some(1), 3000),
        (0, Some(2), 3001),
        (1, None, 0),
        (0, None, 3002),
        (0, Some(1), 3003),
    ];
    for (i, (iface, flags, port)) in packets.into_iter().enumerate() {
        let frame = ethernet(0x0800, &udp(&format!("192.0.2.1:{port}"), "192.0.2.2:53", 8));
        let epb = EnhancedPacketBlock {
            interface_id: iface,
            // pcap-file writes a Duration's nanoseconds as the count of units (microseconds here).
            timestamp: Duration::from_nanos(1_700_000_000_000_000 + i as u64),
            original_len: frame.len() as u32,
            data: Cow::Owned(frame),
            options: flags.map(EnhancedPacketOption::Flags).into_iter().collect(),
        };
        w.write_pcapng_block(epb).unwrap();
    }
}

#[test]
fn reads_pcapng_directions_and_skips_unknown_link_types() {
    let f = TempFile::new("dir.pcapng");
    pcapng_with_directions(&f.0);
    let (got, stats, err) = read_file(&f.0, &args());
    assert!(err.is_none(), "{err:?}");
    let seen: Vec<_> = got.iter().map(|(r, _)| (r.src_port, r.flow_direction)).collect();
    assert_eq!(
        seen,
        vec![
            (3000, direction::INGRESS),
            (3001, direction::EGRESS),
            (3002, direction::UNKNOWN),
            (3003, direction::INGRESS),
        ]
    );
    assert_eq!((stats.packets, stats.unsupported_link, stats.parsed), (5, 1, 4));
    assert_eq!(got[3].1.ts_ns, 1_700_000_000_000_004_000);

    // Egress only: the inbound packets are left out, the one whose direction is unknown is kept.
    let egress = InputArgs {
        direction: Direction::Egress,
        ..args()
    };
    let (got, stats, _) = read_file(&f.0, &egress);
    let ports: Vec<_> = got.iter().map(|(r, _)| r.src_port).collect();
    assert_eq!(ports, vec![3001, 3002]);
    assert_eq!((stats.packets, stats.filtered, stats.parsed), (5, 2, 2));
}

#[test]
fn opens_what_the_arguments_name() {
    let a = InputArgs {
        read: Some(fixture("tcpdump/sflow_expanded.pcap")),
        ..args()
    };
    let (got, _, _) = read_all(&mut PacketSource::open(&a).unwrap());
    assert_eq!(got.len(), 1);
    let missing = InputArgs {
        read: Some(PathBuf::from("/nonexistent/weir.pcap")),
        ..args()
    };
    let err = PacketSource::open(&missing).unwrap_err().to_string();
    assert!(err.starts_with("cannot open /nonexistent/weir.pcap: "), "{err}");
    assert!(matches!(PacketSource::open(&args()), Err(InputError::NoSource)));
}

#[test]
fn refuses_a_pcap_of_a_link_type_weir_does_not_read() {
    let f = TempFile::new("usb.pcap");
    write_pcap(&f.0, 189, &whole(vec![vec![0; 64]]));
    let err = PacketSource::open_file(&f.0, &args()).unwrap_err();
    assert!(
        matches!(
            err,
            InputError::Capture(CaptureError::UnsupportedLink { code: 189, .. })
        ),
        "{err:?}"
    );
}

#[test]
fn refuses_promiscuous_mode_without_libpcap() {
    let a = InputArgs {
        promisc: true,
        ..args()
    };
    let err = PacketSource::open_interface("lo", &a).unwrap_err();
    assert_eq!(
        err.to_string(),
        "--promisc needs --capture libpcap; with the built-in capture, set it by hand: \
         `ip link set dev lo promisc on`"
    );
}

#[cfg(not(feature = "libpcap"))]
#[test]
fn refuses_bpf_and_libpcap_capture_in_a_build_without_libpcap() {
    let a = InputArgs {
        bpf: Some("tcp".into()),
        ..args()
    };
    let err = PacketSource::open_file(&fixture("tcpdump/sflow_expanded.pcap"), &a)
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "--bpf needs libpcap, which this build of weir leaves out: build it with \
         `cargo build --release --features libpcap` (on Debian, `apt-get install libpcap-dev` first)"
    );
    let a = InputArgs {
        capture: CaptureWith::Libpcap,
        ..args()
    };
    let err = PacketSource::open_interface("lo", &a).unwrap_err().to_string();
    assert!(err.starts_with("--capture libpcap needs libpcap"), "{err}");
}

#[cfg(feature = "libpcap")]
#[test]
fn bpf_filter_leaves_out_what_it_does_not_match() {
    let frames = whole(vec![
        ethernet(0x0800, &udp("192.0.2.1:1000", "192.0.2.2:53", 8)),
        ethernet(0x0800, &tcp("192.0.2.1:1001", "192.0.2.2:80", 0x02, 0)),
        ethernet(0x0806, &[0; 28]),
        ethernet(0x0800, &udp("192.0.2.1:1002", "192.0.2.2:123", 8)),
    ]);
    let f = TempFile::new("bpf.pcap");
    write_pcap(&f.0, 1, &frames);
    let a = InputArgs {
        bpf: Some("udp or arp".into()),
        ..args()
    };
    let (got, stats, err) = read_file(&f.0, &a);
    assert!(err.is_none(), "{err:?}");
    let kept: Vec<_> = got.iter().map(|(r, _)| (r.etype, r.src_port)).collect();
    assert_eq!(kept, vec![(0x0800, 1000), (0x0806, 0), (0x0800, 1002)]);
    assert_eq!((stats.packets, stats.filtered, stats.parsed), (4, 1, 3));

    let bad = InputArgs {
        bpf: Some("udp port".into()),
        ..args()
    };
    let err = PacketSource::open_file(&f.0, &bad).unwrap_err().to_string();
    assert!(
        err.starts_with("BPF filter `udp port` for link type Ethernet: "),
        "{err}"
    );
}

/// Reads `source` until `want` packets of the UDP flow `ports` were seen and it has been quiet, or 5 s.
fn capture_flow(source: &mut PacketSource, ports: (u16, u16), want: usize) -> Vec<(FlowRecord, Parsed)> {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut got = Vec::new();
    let mut rec = FlowRecord::default();
    while Instant::now() < deadline {
        match source.next(&mut rec, |_, p| *p).unwrap() {
            Next::Packet(p) if rec.proto == proto::UDP && (rec.src_port, rec.dst_port) == ports => {
                got.push((rec, p));
            }
            Next::Packet(_) => {}
            Next::Idle { .. } if got.len() >= want => break,
            Next::Idle { .. } => {}
            Next::End => panic!("a live capture never ends"),
        }
    }
    got
}

#[test]
fn captures_udp_on_loopback_in_the_directions_asked_for() {
    if !live_capture_possible() {
        return;
    }
    let open = |direction| {
        let a = InputArgs { direction, ..args() };
        PacketSource::open_interface("lo", &a).unwrap()
    };
    let (mut ingress, mut both) = (open(Direction::Ingress), open(Direction::Both));
    let receiver = UdpSocket::bind("127.0.0.1:0").unwrap();
    let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
    let ports = (
        sender.local_addr().unwrap().port(),
        receiver.local_addr().unwrap().port(),
    );
    let before = now();
    for _ in 0..20 {
        sender.send_to(&[7; 100], receiver.local_addr().unwrap()).unwrap();
    }
    let after = now();

    let got = capture_flow(&mut ingress, ports, 20);
    assert_eq!(got.len(), 20, "each datagram once, as it came in");
    for (rec, p) in &got {
        assert_eq!(rec.flow_direction, direction::INGRESS);
        assert_eq!(
            (rec.src_addr, rec.dst_addr),
            (ipv4([127, 0, 0, 1]), ipv4([127, 0, 0, 1]))
        );
        assert_eq!((p.wire_len, p.summary.ip_len), (14 + 20 + 8 + 100, 128));
        assert!(before <= p.ts_ns && p.ts_ns <= after, "kernel receive time");
    }
    let stats = ingress.stats();
    assert!(stats.packets >= 20 && stats.bytes >= 20 * 142, "{stats:?}");
    assert_eq!(stats.filtered, 0, "the kernel filters the direction");

    let got = capture_flow(&mut both, ports, 40);
    let out = got
        .iter()
        .filter(|(r, _)| r.flow_direction == direction::EGRESS)
        .count();
    let r#in = got
        .iter()
        .filter(|(r, _)| r.flow_direction == direction::INGRESS)
        .count();
    assert_eq!(
        (out, r#in),
        (20, 20),
        "loopback shows each datagram leaving and arriving"
    );
}

#[test]
fn keeps_the_snap_length_and_the_whole_length_on_loopback() {
    if !live_capture_possible() {
        return;
    }
    let a = InputArgs {
        snaplen: 64,
        direction: Direction::Egress,
        ..args()
    };
    let mut source = PacketSource::open_interface("lo", &a).unwrap();
    let (Ok(sender), Ok(receiver)) = (UdpSocket::bind("[::1]:0"), UdpSocket::bind("[::1]:0")) else {
        eprintln!("skipped: no IPv6 on loopback");
        return;
    };
    let ports = (
        sender.local_addr().unwrap().port(),
        receiver.local_addr().unwrap().port(),
    );
    sender
        .send_to(&[1; 1000], receiver.local_addr().unwrap())
        .unwrap();
    let got = capture_flow(&mut source, ports, 1);
    assert_eq!(got.len(), 1);
    let (rec, p) = &got[0];
    assert_eq!(
        (rec.etype, p.wire_len, p.summary.ip_len),
        (etype::IPV6, 14 + 40 + 8 + 1000, 1048)
    );
    assert!(
        !p.summary.truncated,
        "64 bytes hold Ethernet, IPv6 and UDP headers"
    );
    assert!(source.stats().snapped >= 1);
}

#[cfg(feature = "libpcap")]
#[test]
fn libpcap_captures_on_loopback_with_a_bpf_filter() {
    if !live_capture_possible() {
        return;
    }
    let receiver = UdpSocket::bind("127.0.0.1:0").unwrap();
    let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
    let (from, to) = (
        sender.local_addr().unwrap().port(),
        receiver.local_addr().unwrap().port(),
    );
    let a = InputArgs {
        capture: CaptureWith::Libpcap,
        bpf: Some(format!("udp src port {from}")),
        direction: Direction::Ingress,
        ..args()
    };
    let mut source = PacketSource::open_interface("lo", &a).unwrap();
    let other = UdpSocket::bind("127.0.0.1:0").unwrap();
    for _ in 0..10 {
        sender.send_to(b"kept", receiver.local_addr().unwrap()).unwrap();
        other
            .send_to(b"filtered out", receiver.local_addr().unwrap())
            .unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut rec = FlowRecord::default();
    let mut seen = Vec::new();
    while Instant::now() < deadline && seen.len() < 10 {
        if let Next::Packet(p) = source.next(&mut rec, |_, p| *p).unwrap() {
            seen.push((rec.src_port, rec.dst_port, p.wire_len, rec.flow_direction));
        }
    }
    assert_eq!(seen, vec![(from, to, 14 + 20 + 8 + 4, direction::INGRESS); 10]);
    let stats = source.stats();
    assert_eq!((stats.packets, stats.filtered, stats.kernel_drops), (10, 0, 0));
}

#[cfg(feature = "libpcap")]
#[test]
fn libpcap_capture_reports_a_quiet_interface_as_idle() {
    if !live_capture_possible() {
        return;
    }
    let a = InputArgs {
        capture: CaptureWith::Libpcap,
        bpf: Some("udp port 1 and udp port 2".into()),
        ..args()
    };
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut source = PacketSource::open_interface("lo", &a).unwrap();
        let mut rec = FlowRecord::default();
        let _ = tx.send(source.next(&mut rec, |_, p| *p).map_err(|e| e.to_string()));
    });
    let next = rx
        .recv_timeout(Duration::from_secs(5))
        .expect("a read returns within 5 s");
    assert!(matches!(next, Ok(Next::Idle { .. })), "{next:?}");
}
