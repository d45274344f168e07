//! Live capture without libpcap: a Linux `AF_PACKET` socket read in batches with `recvmmsg`, through `nix`
//! and `socket2`, which keeps this crate free of `unsafe` (and so of the shared-memory ring, which needs it).
//!
//! - The interface and the direction are chosen by a filter the kernel runs ([`socket_filter`]): a packet
//!   socket cannot be bound to an interface without `unsafe`, and `SO_BINDTODEVICE` does not apply to it.
//! - Each frame gets a slot of the snap length in one reused buffer; the kernel copies at most that much,
//!   and with `MSG_TRUNC` reports the frame's whole length, which is what the byte counts use.
//! - Timestamps are the kernel's receive times (`SO_TIMESTAMPNS` control messages), the read time when a
//!   frame comes without one.
//! - Kernel drops come from `SO_RXQ_OVFL`: each frame carries the count of frames the socket had dropped
//!   when it was queued. (`PACKET_STATISTICS` is a `getsockopt` with a struct neither crate reads safely.)
//! - Promiscuous mode would need `PACKET_ADD_MEMBERSHIP`, which neither crate offers safely either; it is
//!   refused with the command that sets it by hand.
//! - VLAN tags that the network card strips (VLAN offload) come to packet sockets as ancillary data that
//!   only `PACKET_AUXDATA` delivers; frames read here lack them, as they do in the kernel's view.

use std::io::{self, IoSliceMut};
use std::os::fd::AsRawFd;
use std::time::Duration;

use nix::errno::Errno;
use nix::sys::socket::{
    ControlMessageOwned, LinkAddr, MsgFlags, MultiHeaders, recv, recvmmsg, setsockopt, sockopt,
};
use nix::sys::time::TimeSpec;
use socket2::{Domain, Protocol, Socket, Type};
use weir_flow::codes::direction;

use super::frame::PACKET_OUTGOING;
use super::socket_filter;
use super::{Direction, InputError, Packet, Read};
use crate::capture::link::LinkType;
use crate::clock::now;

/// Frames read per system call at most.
pub const BATCH: usize = 64;
/// How long a read waits for a frame before the source reports itself idle.
const POLL: Duration = Duration::from_millis(100);
/// Receive buffer asked for: room for bursts while the flow cache is busy.
const RECV_BUFFER: usize = 32 << 20;
/// `ETH_P_ALL` in network byte order: every protocol.
const ETH_P_ALL: u16 = 0x0003;
/// The name that captures on every interface.
pub const ANY: &str = "any";

/// `ARPHRD_*` device types whose frames start with an Ethernet header.
const ARPHRD_ETHER: u16 = 1;
const ARPHRD_LOOPBACK: u16 = 772;
/// Device types whose frames are IP packets: IP-in-IP and IPv6-in-IPv4 tunnels, raw IP devices, and
/// devices with no link header (TUN, WireGuard).
const ARPHRD_RAW_IP: [u16; 5] = [768, 769, 776, 519, 0xfffe];

/// A frame read by the last system call.
#[derive(Debug, Clone, Copy)]
struct Received {
    /// Bytes captured into its slot.
    captured: usize,
    /// Its length on the wire.
    wire_len: u32,
    ts_ns: u64,
    hatype: u16,
    pkttype: u8,
}

/// An AF_PACKET socket capturing on one interface (or all of them).
#[derive(Debug)]
pub struct AfPacket {
    socket: Socket,
    interface: String,
    /// Bytes per frame slot: the snap length.
    slot: usize,
    /// `BATCH` slots.
    buf: Vec<u8>,
    headers: MultiHeaders<LinkAddr>,
    /// The frames of the last read, and the next one to hand out.
    batch: Vec<Received>,
    next: usize,
    drops: DropCount,
}

impl AfPacket {
    /// Opens a socket capturing on `interface` (`any` for every interface), keeping `snaplen` bytes of each
    /// frame going `direction`.
    pub fn open(interface: &str, snaplen: u32, direction: Direction) -> Result<Self, InputError> {
        let fail = |reason: String| InputError::Interface {
            interface: interface.to_owned(),
            reason,
        };
        let ifindex = match interface {
            ANY => None,
            name => Some(
                nix::net::if_::if_nametoindex(name)
                    .map_err(|_| fail("no such interface (`ip link` lists them)".into()))?,
            ),
        };
        let protocol = Protocol::from(i32::from(ETH_P_ALL.to_be()));
        let socket = Socket::new(Domain::PACKET, Type::RAW, Some(protocol)).map_err(|e| {
            fail(match e.kind() {
                io::ErrorKind::PermissionDenied => {
                    format!("{e}: live capture needs root or the CAP_NET_RAW capability")
                }
                _ => e.to_string(),
            })
        })?;
        let setup = |what: &str, e: io::Error| fail(format!("cannot set {what}: {e}"));
        // The socket sees every interface from the moment it exists: drop everything while the frames
        // queued before the filter are drained, then let the chosen ones through.
        let reject_all = socket_filter::to_socket(&socket_filter::reject_all());
        socket
            .attach_filter(&reject_all)
            .map_err(|e| setup("the socket filter", e))?;
        drain(&socket).map_err(|e| setup("the socket filter", e))?;
        let keep = socket_filter::to_socket(&socket_filter::program(ifindex, direction));
        socket
            .attach_filter(&keep)
            .map_err(|e| setup("the socket filter", e))?;
        // Privileged processes may exceed net.core.rmem_max; others get what it allows.
        if setsockopt(&socket, sockopt::RcvBufForce, &RECV_BUFFER).is_err() {
            socket
                .set_recv_buffer_size(RECV_BUFFER)
                .map_err(|e| setup("the receive buffer", e))?;
        }
        setsockopt(&socket, sockopt::ReceiveTimestampns, &true)
            .map_err(|e| setup("SO_TIMESTAMPNS", e.into()))?;
        setsockopt(&socket, sockopt::RxqOvfl, &1).map_err(|e| setup("SO_RXQ_OVFL", e.into()))?;
        socket
            .set_read_timeout(Some(POLL))
            .map_err(|e| setup("the read timeout", e))?;
        let slot = snaplen.max(1) as usize;
        Ok(Self {
            socket,
            interface: interface.to_owned(),
            slot,
            buf: vec![0; BATCH * slot],
            headers: headers(),
            batch: Vec::with_capacity(BATCH),
            next: 0,
            drops: DropCount::default(),
        })
    }

    /// Frames the kernel dropped for want of room in the socket's buffer, as of the last frame read.
    pub fn kernel_drops(&self) -> u64 {
        self.drops.total
    }

    /// The next frame; [`Read::Idle`] when none came for a while.
    pub fn read(&mut self) -> Result<Read<'_>, InputError> {
        if self.next == self.batch.len() && !self.fill()? {
            return Ok(Read::Idle(now()));
        }
        let i = self.next;
        self.next += 1;
        let r = self.batch[i];
        let Some(link) = link_type(r.hatype) else {
            return Ok(Read::UnsupportedLink);
        };
        let start = i * self.slot;
        Ok(Read::Frame(Packet {
            ts_ns: r.ts_ns,
            data: self.buf.get(start..start + r.captured).unwrap_or_default(),
            wire_len: r.wire_len,
            link,
            direction: match r.pkttype {
                PACKET_OUTGOING => direction::EGRESS,
                _ => direction::INGRESS,
            },
        }))
    }

    /// Reads a batch of frames; `false` when none came before the poll interval ended.
    fn fill(&mut self) -> Result<bool, InputError> {
        self.batch.clear();
        self.next = 0;
        let mut slots = self.buf.chunks_exact_mut(self.slot);
        let mut iovs: [[IoSliceMut<'_>; 1]; BATCH] =
            std::array::from_fn(|_| [IoSliceMut::new(slots.next().unwrap_or_default())]);
        // MSG_TRUNC makes the kernel report the whole length of a frame longer than its slot.
        let flags = MsgFlags::MSG_WAITFORONE | MsgFlags::MSG_TRUNC;
        let msgs = match recvmmsg(
            self.socket.as_raw_fd(),
            &mut self.headers,
            iovs.iter_mut(),
            flags,
            None,
        ) {
            Ok(msgs) => msgs,
            Err(Errno::EAGAIN | Errno::EINTR) => return Ok(false),
            Err(e) => {
                return Err(InputError::Read {
                    interface: self.interface.clone(),
                    reason: e.to_string(),
                });
            }
        };
        let read_at = now();
        // `recvmmsg` leaves each header's control length at what its frame used, so a header whose frame
        // came with only a timestamp has no room for a drop count next time: its frame's control
        // messages would be cut, timestamp and all. The kernel adds the drop count to every frame once the
        // socket has dropped one, and not before; so until then, the headers are renewed after each batch.
        let mut renew = false;
        for m in msgs {
            let mut ts_ns = None;
            let mut counted = false;
            if let Ok(cmsgs) = m.cmsgs() {
                for c in cmsgs {
                    match c {
                        ControlMessageOwned::ScmTimestampns(t) => ts_ns = Some(nanos(t)),
                        ControlMessageOwned::RxqOvfl(n) => {
                            self.drops.saw(n);
                            counted = true;
                        }
                        _ => {}
                    }
                }
            }
            renew |= !counted;
            let (hatype, pkttype) = m.address.map_or((0, 0), |a| (a.hatype(), a.pkttype()));
            self.batch.push(Received {
                captured: m.bytes.min(self.slot),
                wire_len: u32::try_from(m.bytes).unwrap_or(u32::MAX),
                ts_ns: ts_ns.unwrap_or(read_at),
                hatype,
                pkttype,
            });
        }
        if renew {
            self.headers = headers();
        }
        Ok(!self.batch.is_empty())
    }
}

/// Headers for a batch, each with room for a timestamp and a drop count.
fn headers() -> MultiHeaders<LinkAddr> {
    MultiHeaders::preallocate(BATCH, Some(nix::cmsg_space!(TimeSpec, u32)))
}

/// Reads and discards what the socket holds, without waiting.
fn drain(socket: &Socket) -> io::Result<()> {
    let mut scratch = [0u8; 64];
    loop {
        match recv(socket.as_raw_fd(), &mut scratch, MsgFlags::MSG_DONTWAIT) {
            Ok(_) => {}
            Err(Errno::EAGAIN) => return Ok(()),
            Err(Errno::EINTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
}

/// The link type of frames from a device of ARP hardware type `hatype`.
fn link_type(hatype: u16) -> Option<LinkType> {
    match hatype {
        ARPHRD_ETHER | ARPHRD_LOOPBACK => Some(LinkType::Ethernet),
        h if ARPHRD_RAW_IP.contains(&h) => Some(LinkType::Raw),
        _ => None,
    }
}

fn nanos(t: TimeSpec) -> u64 {
    let secs = u64::try_from(t.tv_sec()).unwrap_or(0);
    let frac = u64::try_from(t.tv_nsec()).unwrap_or(0);
    secs.saturating_mul(1_000_000_000).saturating_add(frac)
}

/// The socket's drop count, which the kernel reports as a 32-bit number that wraps.
#[derive(Debug, Default)]
struct DropCount {
    last: u32,
    total: u64,
}

impl DropCount {
    fn saw(&mut self, count: u32) {
        self.total += u64::from(count.wrapping_sub(self.last));
        self.last = count;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_which_devices_send_ethernet_or_ip() {
        assert_eq!(link_type(1), Some(LinkType::Ethernet));
        assert_eq!(link_type(772), Some(LinkType::Ethernet), "loopback");
        assert_eq!(link_type(0xfffe), Some(LinkType::Raw), "tun, wireguard");
        assert_eq!(link_type(768), Some(LinkType::Raw), "ipip");
        assert_eq!(link_type(801), None, "802.11 radiotap");
    }

    #[test]
    fn drop_count_survives_the_kernel_counter_wrapping() {
        let mut d = DropCount::default();
        d.saw(5);
        d.saw(5);
        assert_eq!(d.total, 5);
        d.saw(u32::MAX);
        d.saw(3);
        assert_eq!(d.total, u64::from(u32::MAX) + 4);
    }

    #[test]
    fn counts_frames_the_kernel_dropped() {
        if !crate::probe::input::test_frames::live_capture_possible() {
            return;
        }
        let mut s = AfPacket::open("lo", 64, Direction::Egress).unwrap();
        // Room for a handful of frames only, and nobody reading while 2000 datagrams go out.
        s.socket.set_recv_buffer_size(4096).unwrap();
        let receiver = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let to = receiver.local_addr().unwrap();
        for _ in 0..2000 {
            sender.send_to(&[0; 100], to).unwrap();
        }
        let mut queued = 0;
        while let Read::Frame(_) = s.read().unwrap() {
            queued += 1;
        }
        assert!(queued < 1000, "{queued} frames fit in the buffer");
        // The next frame queued carries the count of those dropped before it, and still its kernel time:
        // its header has room for both, though the frames before it came with a timestamp alone.
        let before = now();
        sender.send_to(b"after", to).unwrap();
        let after = now();
        let arrived = (0..50).find_map(|_| match s.read().unwrap() {
            Read::Frame(p) => Some(p.ts_ns),
            _ => None,
        });
        let ts = arrived.expect("a frame after the flood arrived");
        assert!(before <= ts && ts <= after, "kernel receive time");
        assert!(s.kernel_drops() >= 2000 - queued, "{} dropped", s.kernel_drops());
    }

    #[test]
    fn refuses_an_interface_that_does_not_exist() {
        let err = AfPacket::open("weir-no-such0", 128, Direction::Both).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot capture on weir-no-such0: no such interface (`ip link` lists them)"
        );
    }
}
