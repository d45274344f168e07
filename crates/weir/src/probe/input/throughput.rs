//! How fast a capture file is read and parsed: 5 million packets of TCP and UDP over IPv4 and IPv6, a
//! million flows, written here and read back through [`PacketSource::next`]. Ignored in normal runs; run
//! it with a release build:
//!
//! `cargo test --release -p weir probe::input::throughput -- --ignored --nocapture`

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;
use std::time::{Duration, Instant};

use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::{DataLink, TsResolution};
use weir_flow::FlowRecord;
use weir_flow::codes::proto;

use super::test_frames::{TempFile, args, ethernet, tcp, udp};
use super::{Next, PacketSource};

const PACKETS: u64 = 5_000_000;
const FLOWS: u64 = 1_000_000;
/// Coprime with `FLOWS`: packet `i` belongs to flow `i * STRIDE % FLOWS`, so each flow gets one packet
/// per million, spread over the whole capture like real interleaved traffic.
const STRIDE: u64 = 7919;

/// What was written, to check against what is read.
#[derive(Debug, Default, PartialEq, Eq)]
struct Written {
    tcp: u64,
    udp: u64,
    ipv6: u64,
    ports: u64,
    wire_bytes: u64,
}

/// Writes the capture: headers only, as a probe capturing with a small snap length keeps them, with
/// lengths on the wire from their headers to about 1500 bytes.
fn write_capture(path: &Path) -> Written {
    // Templates for the four kinds of frame; addresses and ports are patched in for each packet.
    let templates = [
        ethernet(0x0800, &tcp("10.0.0.1:1", "192.0.2.1:1", 0x18, 0)),
        ethernet(0x0800, &udp("10.0.0.1:1", "192.0.2.1:1", 0)),
        ethernet(0x86dd, &tcp("[2001:db8::1]:1", "[2001:db8:1::1]:1", 0x18, 0)),
        ethernet(0x86dd, &udp("[2001:db8::1]:1", "[2001:db8:1::1]:1", 0)),
    ];
    let header = PcapHeader {
        datalink: DataLink::ETHERNET,
        ts_resolution: TsResolution::NanoSecond,
        ..PcapHeader::default()
    };
    let file = BufWriter::with_capacity(1 << 20, File::create(path).unwrap());
    let mut w = PcapWriter::with_header(file, header).unwrap();
    let mut written = Written::default();
    let mut frame = Vec::with_capacity(128);
    for i in 0..PACKETS {
        let f = i * STRIDE % FLOWS;
        let (v6, is_tcp) = (f.is_multiple_of(5), f.is_multiple_of(2));
        let kind = usize::from(v6) * 2 + usize::from(!is_tcp);
        frame.clear();
        frame.extend_from_slice(&templates[kind]);
        // The flow number in the low three bytes of the source address.
        let (src_end, l4) = if v6 {
            (14 + 8 + 16, 14 + 40)
        } else {
            (14 + 12 + 4, 14 + 20)
        };
        frame[src_end - 3..src_end].copy_from_slice(&(f as u32).to_be_bytes()[1..]);
        let (sport, dport) = (
            1024 + (f % 60_000) as u16,
            [80u16, 443, 53, 123][(f % 4) as usize],
        );
        frame[l4..l4 + 2].copy_from_slice(&sport.to_be_bytes());
        frame[l4 + 2..l4 + 4].copy_from_slice(&dport.to_be_bytes());
        let wire_len = frame.len() as u32 + (f % 1437) as u32;
        let ts = Duration::from_secs(1_700_000_000) + Duration::from_nanos(200 * i);
        w.write_packet(&PcapPacket::new(ts, wire_len, &frame)).unwrap();
        written.tcp += u64::from(is_tcp);
        written.udp += u64::from(!is_tcp);
        written.ipv6 += u64::from(v6);
        written.ports += u64::from(sport) + u64::from(dport);
        written.wire_bytes += u64::from(wire_len);
    }
    written
}

#[test]
#[ignore = "writes a 400 MB capture; run in release with --ignored --nocapture to measure"]
fn reads_and_parses_a_large_capture() {
    let f = TempFile::new("throughput.pcap");
    let t = Instant::now();
    let written = write_capture(&f.0);
    eprintln!("wrote {PACKETS} packets in {:.1} s", t.elapsed().as_secs_f64());
    for round in 1..=3 {
        let mut source = PacketSource::open_file(&f.0, &args()).unwrap();
        let mut rec = FlowRecord::default();
        let mut read = Written::default();
        let t = Instant::now();
        while let Next::Packet(p) = source.next(&mut rec, |_, p| *p).unwrap() {
            read.tcp += u64::from(rec.proto == proto::TCP);
            read.udp += u64::from(rec.proto == proto::UDP);
            read.ipv6 += u64::from(rec.etype == 0x86dd);
            read.ports += u64::from(rec.src_port) + u64::from(rec.dst_port);
            read.wire_bytes += u64::from(p.wire_len);
        }
        let secs = t.elapsed().as_secs_f64();
        let stats = source.stats();
        assert_eq!(read, written);
        assert_eq!(
            (stats.packets, stats.parsed, stats.error_total()),
            (PACKETS, PACKETS, 0)
        );
        eprintln!(
            "round {round}: {PACKETS} packets read and parsed in {secs:.3} s: {:.2} M packets/s, {:.1} ns a packet",
            PACKETS as f64 / secs / 1e6,
            secs * 1e9 / PACKETS as f64
        );
    }
}
