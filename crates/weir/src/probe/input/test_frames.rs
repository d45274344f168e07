//! Frames and captures written by the tests: Ethernet, IPv4/IPv6, TCP and UDP built by hand, pcap files
//! written with `pcap-file`, removed when done.

use std::fs::{self, File};
use std::io::BufWriter;
use std::net::SocketAddr;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::{DataLink, TsResolution};

use super::af_packet::AfPacket;
use super::args::DEFAULT_SNAPLEN;
use super::{CaptureWith, Direction, InputArgs, InputError};
use crate::capture::encap;

/// A file in the temporary directory, removed when dropped.
pub struct TempFile(pub PathBuf);

impl TempFile {
    pub fn new(name: &str) -> Self {
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        Self(std::env::temp_dir().join(format!("weir-input-{}-{n}-{name}", std::process::id())))
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

/// The options with their defaults and no source.
pub fn args() -> InputArgs {
    InputArgs {
        read: None,
        interface: None,
        capture: CaptureWith::AfPacket,
        bpf: None,
        snaplen: DEFAULT_SNAPLEN,
        direction: Direction::Both,
        promisc: false,
    }
}

/// An Ethernet frame from 02:00:00:00:00:02 to 02:00:00:00:00:01.
pub fn ethernet(etype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2];
    f.extend_from_slice(&etype.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// An IP packet carrying UDP (IPv4 when both ends are).
pub fn udp(src: &str, dst: &str, payload_len: usize) -> Vec<u8> {
    let (s, d): (SocketAddr, SocketAddr) = (src.parse().unwrap(), dst.parse().unwrap());
    encap::ip_udp(s, d, &vec![0x5a; payload_len]).unwrap()
}

/// An IP packet carrying a TCP segment with `flags` and `payload_len` bytes of data (checksums left 0).
pub fn tcp(src: &str, dst: &str, flags: u8, payload_len: usize) -> Vec<u8> {
    let mut p = udp(src, dst, payload_len + 12);
    let (off, next) = if p[0] >> 4 == 4 { (20, 9) } else { (40, 6) };
    p[next] = 6;
    let seg = &mut p[off..];
    seg[4..12].fill(0);
    seg[12] = 5 << 4;
    seg[13] = flags;
    seg[14..16].copy_from_slice(&0xffffu16.to_be_bytes());
    seg[16..20].fill(0);
    p
}

/// Writes a microsecond pcap of link type `link`: each frame with its length on the wire, 1 ms apart
/// from 1 700 000 000 s.
pub fn write_pcap(path: &Path, link: u32, frames: &[(Vec<u8>, u32)]) {
    let header = PcapHeader {
        datalink: DataLink::from(link),
        ts_resolution: TsResolution::MicroSecond,
        ..PcapHeader::default()
    };
    let file = BufWriter::new(File::create(path).unwrap());
    let mut w = PcapWriter::with_header(file, header).unwrap();
    for (i, (frame, wire_len)) in frames.iter().enumerate() {
        let t = Duration::from_secs(1_700_000_000) + Duration::from_millis(i as u64);
        w.write_packet(&PcapPacket::new(t, *wire_len, frame)).unwrap();
    }
}

/// Frames whose length on the wire is what they hold.
pub fn whole(frames: Vec<Vec<u8>>) -> Vec<(Vec<u8>, u32)> {
    frames
        .into_iter()
        .map(|f| {
            let len = f.len() as u32;
            (f, len)
        })
        .collect()
}

/// Whether live capture tests can run: as root, with AF_PACKET in the kernel. Says why when not.
pub fn live_capture_possible() -> bool {
    let euid = fs::metadata("/proc/self").map(|m| m.uid()).unwrap_or(u32::MAX);
    if euid != 0 {
        eprintln!("skipped: live capture needs root (running as uid {euid})");
        return false;
    }
    match AfPacket::open("lo", 64, Direction::Both) {
        Err(InputError::Interface { reason, .. }) if reason.contains("not supported") => {
            eprintln!("skipped: AF_PACKET is not available here: {reason}");
            false
        }
        _ => true,
    }
}
