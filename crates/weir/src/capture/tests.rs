//! Captures written here with `pcap-file` for every link type and format, and the real ones in
//! `fixtures/captures/`.

use std::borrow::Cow;
use std::fs::{self, File};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};
use pcap_file::{DataLink, Endianness, TsResolution};

use super::*;

/// A file in the temporary directory, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str) -> Self {
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        Self(std::env::temp_dir().join(format!("weir-capture-{}-{n}-{name}", std::process::id())))
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/captures")
        .join(rel)
}

/// Writes a pcap of the given link type with one record per frame, one second apart from 1.5 s.
fn write_pcap(path: &Path, link: u32, ts: TsResolution, endianness: Endianness, frames: &[(Vec<u8>, u32)]) {
    let header = PcapHeader {
        datalink: DataLink::from(link),
        ts_resolution: ts,
        endianness,
        ..PcapHeader::default()
    };
    let mut w = PcapWriter::with_header(File::create(path).unwrap(), header).unwrap();
    for (i, (frame, orig_len)) in frames.iter().enumerate() {
        let t = Duration::from_millis(1500 + 1000 * i as u64);
        w.write_packet(&PcapPacket::new(t, *orig_len, frame)).unwrap();
    }
}

fn udp4(payload: &[u8]) -> Vec<u8> {
    encap::ip_udp(addr("192.0.2.10:50000"), addr("198.51.100.1:2055"), payload).unwrap()
}

fn udp6(payload: &[u8]) -> Vec<u8> {
    encap::ip_udp(addr("[2001:db8::10]:50000"), addr("[2001:db8::1]:6343"), payload).unwrap()
}

fn ethernet(etype: u16, tags: &[u16], ip: &[u8]) -> Vec<u8> {
    let mut f = vec![0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2];
    for &tpid in tags {
        f.extend_from_slice(&tpid.to_be_bytes());
        f.extend_from_slice(&100u16.to_be_bytes());
    }
    f.extend_from_slice(&etype.to_be_bytes());
    f.extend_from_slice(ip);
    f
}

fn sll(etype: u16, ip: &[u8]) -> Vec<u8> {
    let mut f = vec![0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0];
    f.extend_from_slice(&etype.to_be_bytes());
    f.extend_from_slice(ip);
    f
}

fn sll2(etype: u16, ip: &[u8]) -> Vec<u8> {
    let mut f = etype.to_be_bytes().to_vec();
    f.extend_from_slice(&[0, 0, 0, 0, 0, 3, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0]);
    f.extend_from_slice(ip);
    f
}

fn with_prefix(prefix: &[u8], ip: &[u8]) -> Vec<u8> {
    [prefix, ip].concat()
}

/// A datagram read back: (packet, time, src, dst, payload).
type Found = (u64, u64, SocketAddr, SocketAddr, Vec<u8>);

/// Reads every datagram of a capture.
fn read_all(path: &Path) -> (Vec<Found>, CaptureStats) {
    let mut c = Capture::open(path).unwrap();
    let mut out = Vec::new();
    while let Some(d) = c.next().unwrap() {
        out.push((d.packet, d.time, d.src, d.dst, d.payload.to_vec()));
    }
    (out, c.stats().clone())
}

#[test]
fn reads_udp_from_every_link_type() {
    let v4 = udp4(b"export-v4");
    let v6 = udp6(b"export-v6");
    let cases: Vec<(&str, u32, Vec<u8>, bool)> = vec![
        ("ethernet", 1, ethernet(0x0800, &[], &v4), true),
        (
            "ethernet-qinq",
            1,
            ethernet(0x86dd, &[0x88a8, 0x8100], &v6),
            false,
        ),
        ("sll", 113, sll(0x0800, &v4), true),
        ("sll2", 276, sll2(0x86dd, &v6), false),
        ("raw-101", 101, v6.clone(), false),
        ("raw-12", 12, v4.clone(), true),
        ("ipv4", 228, v4.clone(), true),
        ("ipv6", 229, v6.clone(), false),
        ("null-le", 0, with_prefix(&[2, 0, 0, 0], &v4), true),
        ("null-be-v6", 0, with_prefix(&[0, 0, 0, 30], &v6), false),
        ("loop", 108, with_prefix(&[0, 0, 0, 24], &v6), false),
    ];
    for (name, link, frame, is_v4) in cases {
        let f = TempFile::new(name);
        let len = frame.len() as u32;
        write_pcap(
            &f.0,
            link,
            TsResolution::MicroSecond,
            Endianness::Little,
            &[(frame, len)],
        );
        let (got, stats) = read_all(&f.0);
        let want = if is_v4 {
            (
                addr("192.0.2.10:50000"),
                addr("198.51.100.1:2055"),
                b"export-v4".to_vec(),
            )
        } else {
            (
                addr("[2001:db8::10]:50000"),
                addr("[2001:db8::1]:6343"),
                b"export-v6".to_vec(),
            )
        };
        assert_eq!(got, vec![(1, 1_500_000_000, want.0, want.1, want.2)], "{name}");
        assert_eq!((stats.packets, stats.datagrams), (1, 1), "{name}");
    }
}

#[test]
fn reads_nanosecond_big_endian_pcap() {
    let f = TempFile::new("ns-be.pcap");
    let frame = ethernet(0x0800, &[0x8100], &udp4(b"x"));
    let len = frame.len() as u32;
    write_pcap(
        &f.0,
        1,
        TsResolution::NanoSecond,
        Endianness::Big,
        &[(frame.clone(), len), (frame, len)],
    );
    let (got, _) = read_all(&f.0);
    assert_eq!(
        got.iter().map(|d| (d.0, d.1)).collect::<Vec<_>>(),
        vec![(1, 1_500_000_000), (2, 2_500_000_000)]
    );
}

#[test]
fn reads_pcapng_interfaces_with_their_own_clocks() {
    let f = TempFile::new("two.pcapng");
    let mut w = PcapNgWriter::new(File::create(&f.0).unwrap()).unwrap();
    w.write_pcapng_block(InterfaceDescriptionBlock::new(DataLink::ETHERNET, 0))
        .unwrap();
    let mut raw = InterfaceDescriptionBlock::new(DataLink::RAW, 0);
    raw.options.push(InterfaceDescriptionOption::IfTsResol(9));
    w.write_pcapng_block(raw).unwrap();
    // Interface 0 counts microseconds (the default), interface 1 nanoseconds.
    for (iface, units, frame) in [
        (
            0,
            1_700_000_000_250_000u64,
            ethernet(0x0800, &[], &udp4(b"first")),
        ),
        (1, 1_700_000_001_000_000_001u64, udp6(b"second")),
    ] {
        let epb = EnhancedPacketBlock {
            interface_id: iface,
            timestamp: Duration::from_nanos(units),
            original_len: frame.len() as u32,
            data: Cow::Owned(frame),
            options: vec![],
        };
        w.write_pcapng_block(epb).unwrap();
    }
    drop(w);
    let (got, stats) = read_all(&f.0);
    assert_eq!(got.len(), 2);
    assert_eq!(
        (got[0].1, got[0].4.as_slice()),
        (1_700_000_000_250_000_000, &b"first"[..])
    );
    assert_eq!(
        (got[1].1, got[1].4.as_slice()),
        (1_700_000_001_000_000_001, &b"second"[..])
    );
    assert_eq!(got[1].2, addr("[2001:db8::10]:50000"));
    assert_eq!(stats.packets, 2);
}

#[test]
fn counts_what_is_not_an_export_datagram() {
    let f = TempFile::new("mixed.pcap");
    let good = ethernet(0x0800, &[], &udp4(b"ok"));
    let arp = ethernet(0x0806, &[], &[0; 28]);
    let mut tcp = udp4(b"not udp");
    tcp[9] = 6;
    let tcp = ethernet(0x0800, &[], &tcp);
    // Cut by a 60-byte snap length: the UDP payload is not all there.
    let long = ethernet(0x0800, &[], &udp4(&[9; 200]));
    let cut = long[..60].to_vec();
    let mut bad_len = udp4(b"bad");
    bad_len[0] = 0x43;
    let bad_len = ethernet(0x0800, &[], &bad_len);
    let frames = vec![
        (good.clone(), good.len() as u32),
        (arp.clone(), arp.len() as u32),
        (tcp.clone(), tcp.len() as u32),
        (cut, long.len() as u32),
        (bad_len.clone(), bad_len.len() as u32),
        (good.clone(), good.len() as u32),
    ];
    write_pcap(&f.0, 1, TsResolution::MicroSecond, Endianness::Little, &frames);
    let (got, stats) = read_all(&f.0);
    assert_eq!(got.iter().map(|d| d.0).collect::<Vec<_>>(), vec![1, 6]);
    assert_eq!(
        stats,
        CaptureStats {
            packets: 6,
            datagrams: 2,
            not_udp: 2,
            truncated: 1,
            malformed: 1,
            bad_packets: vec![4, 5],
            ..CaptureStats::default()
        }
    );
}

#[test]
fn reassembles_fragmented_datagrams() {
    let whole = udp4(&(0..100u8).collect::<Vec<_>>());
    // Split the 108-byte UDP segment at 56 bytes into two IPv4 fragments, sent last first.
    let segment = &whole[20..];
    let fragment = |offset: usize, more: bool, data: &[u8]| {
        let mut p = whole[..20].to_vec();
        p[2..4].copy_from_slice(&((20 + data.len()) as u16).to_be_bytes());
        p[4..6].copy_from_slice(&7u16.to_be_bytes());
        let flags = (offset / 8) as u16 | if more { 0x2000 } else { 0 };
        p[6..8].copy_from_slice(&flags.to_be_bytes());
        p.extend_from_slice(data);
        ethernet(0x0800, &[], &p)
    };
    let frames: Vec<(Vec<u8>, u32)> = [
        fragment(56, false, &segment[56..]),
        fragment(0, true, &segment[..56]),
    ]
    .into_iter()
    .map(|f| {
        let n = f.len() as u32;
        (f, n)
    })
    .collect();
    let f = TempFile::new("frag.pcap");
    write_pcap(&f.0, 1, TsResolution::MicroSecond, Endianness::Little, &frames);
    let (got, stats) = read_all(&f.0);
    assert_eq!(got.len(), 1);
    assert_eq!((got[0].0, got[0].4.len(), got[0].4[99]), (2, 100, 99));
    assert_eq!(
        (stats.fragments, stats.reassembled, stats.fragments_dropped),
        (2, 1, 0)
    );
}

#[test]
fn counts_fragments_that_never_complete() {
    let mut p = udp4(&[1; 64]);
    p[6..8].copy_from_slice(&0x2000u16.to_be_bytes());
    let frame = ethernet(0x0800, &[], &p);
    let f = TempFile::new("lost-frag.pcap");
    let n = frame.len() as u32;
    write_pcap(
        &f.0,
        1,
        TsResolution::MicroSecond,
        Endianness::Little,
        &[(frame, n)],
    );
    let (got, stats) = read_all(&f.0);
    assert!(got.is_empty());
    assert_eq!((stats.fragments, stats.fragments_dropped), (1, 1));
}

#[test]
fn rejects_what_is_not_a_capture() {
    let missing = Path::new("/nonexistent/weir.pcap");
    assert!(matches!(Capture::open(missing), Err(CaptureError::Open { .. })));
    let f = TempFile::new("text.pcap");
    fs::write(&f.0, "this is not a capture\n").unwrap();
    let e = Capture::open(&f.0).unwrap_err();
    assert!(matches!(e, CaptureError::NotACapture { .. }), "{e}");
    assert!(e.to_string().contains("unknown magic number 74686973"), "{e}");
    fs::write(&f.0, [0xd4, 0xc3]).unwrap();
    assert!(matches!(
        Capture::open(&f.0),
        Err(CaptureError::NotACapture { .. })
    ));
}

#[test]
fn rejects_unsupported_link_types() {
    let f = TempFile::new("wifi.pcap");
    write_pcap(&f.0, 105, TsResolution::MicroSecond, Endianness::Little, &[]);
    let e = Capture::open(&f.0).unwrap_err();
    assert!(
        matches!(e, CaptureError::UnsupportedLink { code: 105, .. }),
        "{e}"
    );
}

#[test]
fn reports_a_capture_cut_inside_a_packet() {
    let f = TempFile::new("cut.pcap");
    let frame = ethernet(0x0800, &[], &udp4(b"datagram"));
    let n = frame.len() as u32;
    write_pcap(
        &f.0,
        1,
        TsResolution::MicroSecond,
        Endianness::Little,
        &[(frame.clone(), n), (frame, n)],
    );
    let bytes = fs::read(&f.0).unwrap();
    fs::write(&f.0, &bytes[..bytes.len() - 5]).unwrap();
    let mut c = Capture::open(&f.0).unwrap();
    assert_eq!(c.next().unwrap().map(|d| d.packet), Some(1));
    let e = c.next().unwrap_err();
    assert!(matches!(e, CaptureError::CutShort { packet: 2, .. }), "{e}");
    assert_eq!(c.stats().datagrams, 1);
}

#[test]
fn real_captures_carry_the_test_vectors_they_wrap() {
    let (got, stats) = read_all(&fixture("goflow2/pcap/goflow2_netflow_v5_vector.pcap"));
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].4,
        fs::read(fixture("goflow2/netflowlegacy_TestDecodeNetFlowV5_0.bin")).unwrap()
    );
    assert_eq!(stats.packets, 1);
    let (got, _) = read_all(&fixture("goflow2/pcap/goflow2_netflow_v9_vectors.pcap"));
    let payloads: Vec<_> = got.into_iter().map(|d| d.4).collect();
    assert_eq!(
        payloads,
        vec![
            fs::read(fixture("goflow2/netflow_TestDecodeNetFlowV9_0.bin")).unwrap(),
            fs::read(fixture("goflow2/netflow_TestDecodeNetFlowV9_1.bin")).unwrap()
        ]
    );
}

#[test]
fn real_captures_read_to_the_end() {
    // Datagram counts as tshark reports them.
    for (file, datagrams) in [
        ("netgauze/100-IPFIXv10-CISCO_traffic-00.pcap", 6),
        ("netgauze/101-NFv9-CISCO_traffic-00.pcap", 40),
        ("netgauze/104-IPFIXv10-IPv6_traffic-00.pcap", 5),
        ("netgauze/flow_srv6_srv6.pcap", 170),
        ("tcpdump/sflow-print-v6.pcap", 25),
        ("tcpdump/sflow_multiple_counter_30_pdus.pcap", 30),
        ("tcpdump/sflow_print-segv.pcap", 1),
        ("goflow2/pcap/goflow2_sflow_vectors.pcap", 5),
    ] {
        let (got, stats) = read_all(&fixture(file));
        assert_eq!(got.len(), datagrams, "{file}");
        assert_eq!(
            (stats.packets, stats.not_udp, stats.truncated, stats.malformed),
            (datagrams as u64, 0, 0, 0),
            "{file}"
        );
        assert!(
            got.windows(2).all(|w| w[0].1 <= w[1].1),
            "{file}: time goes forward"
        );
    }
}

/// A small deterministic generator (xorshift), so the garbage is the same on every run.
fn garbage(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[test]
fn survives_garbage_after_a_valid_header() {
    let f = TempFile::new("garbage.pcap");
    let frame = ethernet(0x0800, &[], &udp4(b"ok"));
    let n = frame.len() as u32;
    write_pcap(
        &f.0,
        1,
        TsResolution::MicroSecond,
        Endianness::Little,
        &[(frame, n)],
    );
    let valid = fs::read(&f.0).unwrap();
    let shb = {
        let g = TempFile::new("garbage.pcapng");
        let mut w = PcapNgWriter::new(File::create(&g.0).unwrap()).unwrap();
        w.write_pcapng_block(InterfaceDescriptionBlock::new(DataLink::ETHERNET, 0))
            .unwrap();
        drop(w);
        fs::read(&g.0).unwrap()
    };
    for seed in 0..300u64 {
        for prefix in [&valid[..], &valid[..24], &shb[..]] {
            let mut bytes = prefix.to_vec();
            bytes.extend_from_slice(&garbage(seed, (seed as usize * 37) % 600));
            // Frames that parse as headers with random lengths and flags.
            if seed % 3 == 0 {
                bytes.extend_from_slice(&[64, 0, 0, 0, 64, 0, 0, 0]);
                bytes.extend_from_slice(&garbage(seed + 1, 64));
            }
            fs::write(&f.0, &bytes).unwrap();
            if let Ok(mut c) = Capture::open(&f.0) {
                let mut steps = 0;
                while let Ok(Some(_)) = c.next() {
                    steps += 1;
                    assert!(steps < 10_000, "seed {seed} loops");
                }
            }
        }
    }
}

#[test]
fn survives_garbage_frames_of_every_link_type() {
    let f = TempFile::new("garbage-frames.pcap");
    for link in [0, 1, 101, 108, 113, 276, 228, 229] {
        let frames: Vec<(Vec<u8>, u32)> = (0..200u64)
            .map(|seed| {
                let mut frame = garbage(seed * 31 + u64::from(link), (seed as usize * 13) % 200);
                // Steer some frames into IPv4/IPv6 and UDP so the deeper parsers see garbage too.
                if let Some(first) = frame.get_mut(0)
                    && matches!(link, 101 | 228 | 229)
                {
                    *first = if seed % 2 == 0 { 0x45 } else { 0x60 };
                }
                if link == 228 && frame.len() > 9 {
                    frame[9] = 17;
                }
                let n = frame.len() as u32;
                (frame, n)
            })
            .collect();
        write_pcap(&f.0, link, TsResolution::MicroSecond, Endianness::Little, &frames);
        let mut c = Capture::open(&f.0).unwrap();
        while c.next().unwrap().is_some() {}
        let s = c.stats();
        assert_eq!(s.packets, 200, "link {link}");
        // Every packet is counted once, and a reassembled datagram once more, by what it held.
        let outcomes = s.datagrams + s.not_udp + s.truncated + s.malformed + s.fragments + s.unsupported_link;
        assert_eq!(outcomes, s.packets + s.reassembled, "link {link}: {s:?}");
    }
}
