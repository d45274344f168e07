//! libpcap, in builds with the `libpcap` feature: live capture (`--capture libpcap`) with its shared-memory
//! ring, promiscuous mode and kernel filters, and BPF filter expressions (`--bpf`) for every source.
//!
//! On a live capture libpcap compiles the filter and the kernel runs it. For files and the built-in
//! AF_PACKET capture, the expression is compiled once per link type against a "dead" capture handle and
//! run in user space on each frame, as `tcpdump -r FILE EXPR` does. libpcap runs it on the captured bytes
//! and takes them for the whole frame, so expressions on the length (`greater`, `less`) see the snap length.

use std::os::fd::AsFd;

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, poll};
use pcap::{Active, BpfProgram, Capture, Linktype, Precision};
use weir_flow::codes::direction;

use super::{Direction, InputArgs, InputError, Packet, Read, frame};
use crate::capture::link::LinkType;
use crate::clock::now;

/// How long libpcap lets packets gather in a block of its ring before handing them over (ms).
const TIMEOUT_MS: i32 = 100;
/// How long a read waits for packets before the capture reports itself idle (ms). libpcap's own timeout
/// does not end a read when no packet comes at all (its ring's blocks are handed over only once they hold
/// one), so the capture is non-blocking and waits with `poll` on its descriptor: a quiet interface must
/// not keep the probe from expiring flows or from stopping.
const POLL_MS: u16 = 100;
/// Kernel buffer libpcap asks for: room for bursts while the flow cache is busy.
const BUFFER: i32 = 32 << 20;

/// A live capture through libpcap.
pub struct LiveCapture {
    capture: Capture<Active>,
    interface: String,
    link: LinkType,
    direction: Direction,
    /// The last read found no packet waiting: the next one waits for some first.
    drained: bool,
}

impl std::fmt::Debug for LiveCapture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveCapture")
            .field("interface", &self.interface)
            .field("link", &self.link)
            .finish_non_exhaustive()
    }
}

impl LiveCapture {
    /// Opens `interface` with the snap length, promiscuous mode, direction and BPF filter of `args`.
    pub fn open(interface: &str, args: &InputArgs) -> Result<Self, InputError> {
        let fail = |e: pcap::Error| InputError::Interface {
            interface: interface.to_owned(),
            reason: e.to_string(),
        };
        let mut capture = Capture::from_device(interface)
            .map_err(fail)?
            .snaplen(i32::try_from(args.snaplen).unwrap_or(i32::MAX))
            .promisc(args.promisc)
            .timeout(TIMEOUT_MS)
            .buffer_size(BUFFER)
            .precision(Precision::Nano)
            .open()
            .and_then(Capture::setnonblock)
            .map_err(fail)?;
        let code = capture.get_datalink().0;
        let link = u32::try_from(code)
            .ok()
            .and_then(LinkType::from_code)
            .ok_or_else(|| InputError::Interface {
                interface: interface.to_owned(),
                reason: format!("link type {code} is not one Weir reads"),
            })?;
        let dir = match args.direction {
            Direction::Ingress => pcap::Direction::In,
            Direction::Egress => pcap::Direction::Out,
            Direction::Both => pcap::Direction::InOut,
        };
        capture.direction(dir).map_err(fail)?;
        if let Some(expr) = &args.bpf {
            capture.filter(expr, true).map_err(|e| InputError::Bpf {
                expr: expr.clone(),
                link,
                reason: e.to_string(),
            })?;
        }
        Ok(Self {
            capture,
            interface: interface.to_owned(),
            link,
            direction: args.direction,
            drained: false,
        })
    }

    /// The next frame; [`Read::Idle`] when none is waiting.
    pub fn read(&mut self) -> Result<Read<'_>, InputError> {
        if self.drained {
            let mut fds = [PollFd::new(self.capture.as_fd(), PollFlags::POLLIN)];
            match poll(&mut fds, POLL_MS) {
                Ok(0) => return Ok(Read::Idle(now())),
                Ok(_) | Err(Errno::EINTR) => {}
                Err(e) => {
                    return Err(InputError::Read {
                        interface: self.interface.clone(),
                        reason: e.to_string(),
                    });
                }
            }
        }
        let (link, wanted) = (self.link, self.direction);
        match self.capture.next_packet() {
            Ok(p) => {
                self.drained = false;
                // With nanosecond precision, libpcap puts nanoseconds where the microseconds were.
                let secs = u64::try_from(p.header.ts.tv_sec).unwrap_or(0);
                let frac = u64::try_from(p.header.ts.tv_usec).unwrap_or(0);
                Ok(Read::Frame(Packet {
                    ts_ns: secs.saturating_mul(1_000_000_000).saturating_add(frac),
                    data: p.data,
                    wire_len: p.header.len,
                    link,
                    direction: match wanted {
                        Direction::Ingress => direction::INGRESS,
                        Direction::Egress => direction::EGRESS,
                        Direction::Both => frame::direction(link, p.data),
                    },
                }))
            }
            // Non-blocking: nothing waiting.
            Err(pcap::Error::TimeoutExpired) => {
                self.drained = true;
                Ok(Read::Idle(now()))
            }
            Err(pcap::Error::NoMorePackets) => Ok(Read::End),
            Err(e) => Err(InputError::Read {
                interface: self.interface.clone(),
                reason: e.to_string(),
            }),
        }
    }

    /// Frames dropped by the kernel and by the interface since the capture opened, when libpcap can say.
    pub fn drops(&mut self) -> Option<(u64, u64)> {
        let s = self.capture.stats().ok()?;
        Some((u64::from(s.dropped), u64::from(s.if_dropped)))
    }
}

/// A BPF filter expression run on frames in user space, compiled for each link type it meets.
pub struct FrameFilter {
    expr: String,
    programs: Vec<(LinkType, BpfProgram)>,
}

impl std::fmt::Debug for FrameFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrameFilter")
            .field("expr", &self.expr)
            .finish_non_exhaustive()
    }
}

impl FrameFilter {
    /// A filter for `expr`, compiled for Ethernet now so that a mistake in it is reported before any
    /// packet is read.
    pub fn new(expr: &str) -> Result<Self, InputError> {
        let mut filter = Self {
            expr: expr.to_owned(),
            programs: Vec::new(),
        };
        filter.program(LinkType::Ethernet)?;
        Ok(filter)
    }

    /// Whether a frame of link type `link` matches.
    pub fn matches(&mut self, link: LinkType, frame: &[u8]) -> Result<bool, InputError> {
        Ok(self.program(link)?.filter(frame))
    }

    fn program(&mut self, link: LinkType) -> Result<&BpfProgram, InputError> {
        let i = match self.programs.iter().position(|(l, _)| *l == link) {
            Some(i) => i,
            None => {
                let program = Capture::dead(Linktype(dlt(link)))
                    .and_then(|dead| dead.compile(&self.expr, true))
                    .map_err(|e| InputError::Bpf {
                        expr: self.expr.clone(),
                        link,
                        reason: e.to_string(),
                    })?;
                self.programs.push((link, program));
                self.programs.len() - 1
            }
        };
        Ok(&self.programs[i].1)
    }
}

/// The libpcap `DLT_*` value of a link type: the same number as the file format's `LINKTYPE_*`, except
/// raw IP (`LINKTYPE_RAW` 101 is `DLT_RAW` 12 on Linux).
fn dlt(link: LinkType) -> i32 {
    match link {
        LinkType::Null => 0,
        LinkType::Ethernet => 1,
        LinkType::Raw => 12,
        LinkType::Loop => 108,
        LinkType::LinuxSll => 113,
        LinkType::LinuxSll2 => 276,
        LinkType::Ipv4 => 228,
        LinkType::Ipv6 => 229,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::SocketAddr;

    use crate::capture::encap;

    fn udp(src: &str, dst: &str) -> Vec<u8> {
        let (s, d): (SocketAddr, SocketAddr) = (src.parse().unwrap(), dst.parse().unwrap());
        encap::ip_udp(s, d, b"payload").unwrap()
    }

    fn ethernet(ip: &[u8]) -> Vec<u8> {
        let mut f = vec![0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x08, 0x00];
        f.extend_from_slice(ip);
        f
    }

    #[test]
    fn filters_frames_of_each_link_type() {
        let mut f = FrameFilter::new("udp dst port 53").unwrap();
        let dns = udp("192.0.2.1:40000", "192.0.2.2:53");
        let ntp = udp("192.0.2.1:40000", "192.0.2.2:123");
        assert!(f.matches(LinkType::Ethernet, &ethernet(&dns)).unwrap());
        assert!(!f.matches(LinkType::Ethernet, &ethernet(&ntp)).unwrap());
        assert!(f.matches(LinkType::Raw, &dns).unwrap());
        assert!(!f.matches(LinkType::Raw, &ntp).unwrap());
        assert_eq!(f.programs.len(), 2, "one program per link type, compiled once");
    }

    #[test]
    fn reports_an_expression_libpcap_cannot_compile() {
        let err = FrameFilter::new("udp port fifty-three").unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("BPF filter `udp port fifty-three` for link type Ethernet: "),
            "{text}"
        );
        // Valid for Ethernet, not for raw IP: reported when the first raw IP frame comes.
        let mut f = FrameFilter::new("ether host 02:00:00:00:00:01").unwrap();
        assert!(matches!(
            f.matches(LinkType::Raw, &udp("192.0.2.1:1", "192.0.2.2:2")),
            Err(InputError::Bpf {
                link: LinkType::Raw,
                ..
            })
        ));
    }
}
