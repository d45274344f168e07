//! Export datagrams wrapped back in UDP and IP, for writing captures (`weir replay --write`) and for tests.

use std::fs::File;
use std::io::BufWriter;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;

use anyhow::Context as _;
use pcap_file::pcap::{PcapHeader, PcapWriter};
use pcap_file::{DataLink, Endianness, TsResolution};

const PROTO_UDP: u8 = 17;
const TTL: u8 = 64;

/// A new pcap at `path` for [`ip_udp`] packets: raw IP link type, nanosecond stamps, native byte order.
pub fn create_capture(path: &Path) -> anyhow::Result<PcapWriter<BufWriter<File>>> {
    let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let header = PcapHeader {
        datalink: DataLink::RAW,
        ts_resolution: TsResolution::NanoSecond,
        endianness: Endianness::native(),
        ..PcapHeader::default()
    };
    PcapWriter::with_header(BufWriter::with_capacity(1 << 20, file), header)
        .with_context(|| format!("cannot write {}", path.display()))
}

/// An IP packet carrying `payload` in UDP from `src` to `dst`, with valid checksums. IPv4 when both ends
/// are IPv4, IPv6 otherwise (an IPv4 end is then written IPv4-mapped). `None` when the payload does not fit.
pub fn ip_udp(src: SocketAddr, dst: SocketAddr, payload: &[u8]) -> Option<Vec<u8>> {
    let udp_len = u16::try_from(payload.len() + 8).ok()?;
    let mut udp = Vec::with_capacity(usize::from(udp_len));
    udp.extend_from_slice(&src.port().to_be_bytes());
    udp.extend_from_slice(&dst.port().to_be_bytes());
    udp.extend_from_slice(&udp_len.to_be_bytes());
    udp.extend_from_slice(&[0, 0]);
    udp.extend_from_slice(payload);
    match (src.ip(), dst.ip()) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let total = u16::try_from(udp.len() + 20).ok()?;
            let mut pseudo = [0u8; 12];
            pseudo[..4].copy_from_slice(&s.octets());
            pseudo[4..8].copy_from_slice(&d.octets());
            pseudo[9] = PROTO_UDP;
            pseudo[10..].copy_from_slice(&udp_len.to_be_bytes());
            set_udp_checksum(&mut udp, &pseudo);
            let mut p = Vec::with_capacity(usize::from(total));
            p.extend_from_slice(&[0x45, 0]);
            p.extend_from_slice(&total.to_be_bytes());
            p.extend_from_slice(&[0, 0, 0, 0, TTL, PROTO_UDP, 0, 0]);
            p.extend_from_slice(&s.octets());
            p.extend_from_slice(&d.octets());
            let sum = checksum(0, &p).to_be_bytes();
            p[10..12].copy_from_slice(&sum);
            p.extend_from_slice(&udp);
            Some(p)
        }
        (s, d) => {
            let (s, d) = (weir_flow::ip(s).octets(), weir_flow::ip(d).octets());
            let mut pseudo = [0u8; 40];
            pseudo[..16].copy_from_slice(&s);
            pseudo[16..32].copy_from_slice(&d);
            pseudo[34..36].copy_from_slice(&udp_len.to_be_bytes());
            pseudo[39] = PROTO_UDP;
            set_udp_checksum(&mut udp, &pseudo);
            let mut p = Vec::with_capacity(40 + udp.len());
            p.extend_from_slice(&[0x60, 0, 0, 0]);
            p.extend_from_slice(&udp_len.to_be_bytes());
            p.extend_from_slice(&[PROTO_UDP, TTL]);
            p.extend_from_slice(&s);
            p.extend_from_slice(&d);
            p.extend_from_slice(&udp);
            Some(p)
        }
    }
}

/// Fills in the UDP checksum over the pseudo header and the segment (0 is sent as 0xffff, RFC 768).
fn set_udp_checksum(udp: &mut [u8], pseudo: &[u8]) {
    let sum = checksum(sum_words(0, pseudo), udp);
    let sum = if sum == 0 { 0xffff } else { sum };
    udp[6..8].copy_from_slice(&sum.to_be_bytes());
}

/// The Internet checksum (RFC 1071) of `data`, continuing from a partial sum.
pub fn checksum(partial: u32, data: &[u8]) -> u16 {
    let mut sum = sum_words(partial, data);
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Adds `data` as big-endian 16-bit words (an odd last byte padded with zero) to `sum`, folding carries.
fn sum_words(mut sum: u32, data: &[u8]) -> u32 {
    for pair in data.chunks(2) {
        let word = match *pair {
            [a, b] => u16::from_be_bytes([a, b]),
            [a] => u16::from_be_bytes([a, 0]),
            _ => 0,
        };
        sum += u32::from(word);
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_header_checksum_verifies() {
        let p = ip_udp(
            "192.0.2.1:2055".parse().unwrap(),
            "192.0.2.2:2055".parse().unwrap(),
            b"abc",
        )
        .unwrap();
        assert_eq!(p.len(), 31);
        assert_eq!(checksum(0, &p[..20]), 0, "a correct header sums to zero");
        let mut pseudo = p[12..20].to_vec();
        pseudo.extend_from_slice(&[0, 17, 0, 11]);
        assert_eq!(
            checksum(sum_words(0, &pseudo), &p[20..]),
            0,
            "a correct UDP checksum verifies"
        );
    }

    #[test]
    fn mixed_families_become_ipv6() {
        let p = ip_udp(
            "192.0.2.1:1".parse().unwrap(),
            "[2001:db8::1]:2".parse().unwrap(),
            b"",
        )
        .unwrap();
        assert_eq!((p[0] >> 4, p.len()), (6, 48));
    }

    #[test]
    fn refuses_payloads_that_do_not_fit() {
        let big = vec![0; 65_530];
        assert!(
            ip_udp(
                "192.0.2.1:1".parse().unwrap(),
                "192.0.2.2:2".parse().unwrap(),
                &big
            )
            .is_none()
        );
    }
}
