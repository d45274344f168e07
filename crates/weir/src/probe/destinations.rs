//! Where the probe's export datagrams go: any number of `host:port` collectors, each datagram sent to all.
//!
//! Destinations are resolved and checked when the probe starts, so a typo or a collector the host has no
//! route to stops it with a message that names the destination, rather than losing every datagram. Each
//! gets a UDP socket connected to it (`connect` is where the kernel looks the route up).
//!
//! Datagrams are queued and go out together: a run of datagrams of one size (the last may be shorter) leaves
//! in one `sendmsg` with UDP segmentation offload (`UDP_SEGMENT`), so the kernel walks its stack once for the
//! run instead of once a datagram (on loopback, a fifth of the CPU time a datagram costs sent alone). The
//! collector receives the same datagrams. A destination whose kernel or path refuses segmentation gets its
//! datagrams one by one from then on. The pipeline flushes the queue after every batch of expired flows, so
//! queuing adds no delay a collector could see.
//!
//! Sending never holds the cache up for long: a send waits at most [`SEND_WAIT`] for room in the socket's
//! buffer, and once one has timed out, later sends to that destination do not wait at all until one goes
//! through, so a congested path costs one wait, not one per datagram. What cannot be sent is counted per
//! destination and logged at a limited rate.

use std::io::{self, IoSlice};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs, UdpSocket};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::socket::{ControlMessage, MsgFlags, SockaddrStorage, sendmsg};
use socket2::{Domain, Protocol, Socket, Type};
use thiserror::Error;
use tracing::warn;

use crate::ratelimit::{RateLimiter, Verdict};

/// The longest a send waits for room in the socket buffer.
pub const SEND_WAIT: Duration = Duration::from_millis(10);

/// Socket send buffer asked for: room for bursts of a few thousand datagrams (the kernel may give less).
const SEND_BUFFER: usize = 4 << 20;

/// Most datagrams one segmented send carries (the kernel's `UDP_MAX_SEGMENTS`).
const MAX_SEGMENTS: usize = 64;

/// Most bytes one segmented send carries: a UDP payload's limit under an IPv6 header.
const MAX_RUN_BYTES: usize = 65_535 - 8 - 40;

/// Log lines about one destination per [`LOG_INTERVAL`].
const LOG_BURST: u32 = 3;
const LOG_INTERVAL: Duration = Duration::from_secs(60);

/// Why the destinations cannot be used.
#[derive(Debug, Error)]
pub enum DestinationError {
    /// Not `host:port`.
    #[error("export destination `{spec}`: {reason}")]
    BadSpec {
        /// The destination as given.
        spec: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The host name did not resolve.
    #[error("export destination `{spec}`: cannot resolve the host: {source}")]
    Unresolvable {
        /// The destination as given.
        spec: String,
        /// The resolver's error.
        source: io::Error,
    },
    /// The host resolved to no address of the source address's IP version.
    #[error("export destination `{spec}`: no {family} address to send to from source {source_addr}")]
    NoAddressForSource {
        /// The destination as given.
        spec: String,
        /// "IPv4" or "IPv6".
        family: &'static str,
        /// The source address.
        source_addr: IpAddr,
    },
    /// No address of the destination could be bound to or routed to.
    #[error("export destination `{spec}` ({addr}): cannot send there: {source}")]
    Unreachable {
        /// The destination as given.
        spec: String,
        /// The last address tried.
        addr: SocketAddr,
        /// The socket error.
        source: io::Error,
    },
}

/// What was sent to one destination and what could not be.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DestinationCounters {
    /// Datagrams sent.
    pub datagrams: u64,
    /// Their bytes (UDP payload).
    pub bytes: u64,
    /// Datagrams not sent because the socket buffer stayed full (the path or the host is congested).
    pub buffer_full: u64,
    /// Datagrams not sent because the collector refused them (ICMP port unreachable: nothing listens).
    pub refused: u64,
    /// Datagrams not sent for another reason (no route any more, message too long, ...).
    pub other_errors: u64,
}

impl DestinationCounters {
    /// Datagrams that could not be sent, whatever the reason.
    pub fn errors(&self) -> u64 {
        self.buffer_full + self.refused + self.other_errors
    }
}

/// One collector.
#[derive(Debug)]
struct Target {
    spec: String,
    addr: SocketAddr,
    socket: UdpSocket,
    /// A send timed out and none went through since: do not wait.
    congested: bool,
    /// Whether runs go out segmented; cleared for good when the kernel refuses it.
    segmenting: bool,
    counters: DestinationCounters,
}

/// Queued datagrams: `count` of `size` bytes back to back in `bytes`, the last maybe shorter (`short_end`),
/// which is what one segmented send can carry.
#[derive(Debug, Default)]
struct Run {
    bytes: Vec<u8>,
    size: usize,
    count: usize,
    short_end: bool,
}

impl Run {
    /// Whether `len` more bytes can join the run as its next datagram.
    fn takes(&self, len: usize) -> bool {
        self.count == 0
            || (!self.short_end
                && len <= self.size
                && self.count < MAX_SEGMENTS
                && self.bytes.len() + len <= MAX_RUN_BYTES)
    }

    fn push(&mut self, datagram: &[u8]) {
        if self.count == 0 {
            self.size = datagram.len();
        }
        self.short_end = datagram.len() < self.size;
        self.bytes.extend_from_slice(datagram);
        self.count += 1;
    }

    fn clear(&mut self) {
        self.bytes.clear();
        self.count = 0;
        self.short_end = false;
    }
}

/// Every destination of the probe's export.
#[derive(Debug)]
pub struct Destinations {
    targets: Vec<Target>,
    queued: Run,
    limiter: RateLimiter<usize>,
    started: Instant,
}

impl Destinations {
    /// Resolves and connects every destination in `specs` (`host:port`, IPv6 literals in brackets), sending
    /// from `source` if given (which must be an address of this host), from the address the route gives
    /// otherwise. Fails on the first destination that cannot be used.
    pub fn open(specs: &[String], source: Option<IpAddr>) -> Result<Self, DestinationError> {
        let targets = specs
            .iter()
            .map(|spec| connect(spec, source))
            .collect::<Result<_, _>>()?;
        Ok(Destinations {
            targets,
            queued: Run::default(),
            limiter: RateLimiter::new(LOG_BURST, LOG_INTERVAL.as_nanos() as u64),
            started: Instant::now(),
        })
    }

    /// Queues `datagram` for every destination; it leaves at the next [`flush`](Self::flush) at the latest.
    pub fn queue(&mut self, datagram: &[u8]) {
        if !self.queued.takes(datagram.len()) {
            self.flush();
        }
        self.queued.push(datagram);
    }

    /// Sends the queued datagrams to every destination; what fails is counted and logged, never returned.
    pub fn flush(&mut self) {
        if self.queued.count == 0 {
            return;
        }
        for (i, t) in self.targets.iter_mut().enumerate() {
            let Err(e) = t.send_run(&self.queued) else {
                continue;
            };
            let now = self.started.elapsed().as_nanos() as u64;
            if let Verdict::Log { suppressed } = self.limiter.check(&i, now) {
                warn!(
                    destination = %t.spec,
                    addr = %t.addr,
                    error = %e,
                    suppressed,
                    "Could not send an export datagram."
                );
            }
        }
        self.queued.clear();
    }

    /// Each destination as given, the address it resolved to, and its counters.
    pub fn counters(&self) -> impl Iterator<Item = (&str, SocketAddr, &DestinationCounters)> {
        self.targets
            .iter()
            .map(|t| (t.spec.as_str(), t.addr, &t.counters))
    }
}

impl Target {
    /// Sends the run's datagrams, in one segmented send when it can.
    fn send_run(&mut self, run: &Run) -> io::Result<()> {
        if run.count > 1 && self.segmenting {
            match self.send_segmented(run) {
                // Kernels before 4.18, paths whose MTU a datagram exceeds, devices without checksum
                // offload: the datagrams go one by one, now and from now on.
                Err(e)
                    if matches!(
                        Errno::from_raw(e.raw_os_error().unwrap_or(0)),
                        Errno::EINVAL | Errno::EIO | Errno::ENOPROTOOPT | Errno::EOPNOTSUPP
                    ) =>
                {
                    self.segmenting = false;
                }
                result => return self.count(result, run.count, run.bytes.len()),
            }
        }
        let mut result = Ok(());
        for datagram in run.bytes.chunks(run.size) {
            let sent = self.send_one(datagram);
            if let Err(e) = self.count(sent, 1, datagram.len()) {
                result = Err(e);
            }
        }
        result
    }

    fn send_segmented(&self, run: &Run) -> io::Result<()> {
        let size = u16::try_from(run.size).map_err(|_| io::Error::from(Errno::EINVAL))?;
        let cmsg = [ControlMessage::UdpGsoSegments(&size)];
        let iov = [IoSlice::new(&run.bytes)];
        let n = sendmsg::<SockaddrStorage>(self.socket.as_raw_fd(), &iov, &cmsg, MsgFlags::empty(), None)
            .map_err(io::Error::from)?;
        whole(n, run.bytes.len())
    }

    fn send_one(&self, datagram: &[u8]) -> io::Result<()> {
        whole(self.socket.send(datagram)?, datagram.len())
    }

    /// Counts `datagrams` datagrams of `bytes` bytes in all as sent or as lost to `result`'s error.
    fn count(&mut self, result: io::Result<()>, datagrams: usize, bytes: usize) -> io::Result<()> {
        let n = datagrams as u64;
        let c = &mut self.counters;
        match &result {
            Ok(()) => {
                c.datagrams += n;
                c.bytes += bytes as u64;
                if self.congested && self.socket.set_nonblocking(false).is_ok() {
                    self.congested = false;
                }
            }
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                c.buffer_full += n;
                if !self.congested && self.socket.set_nonblocking(true).is_ok() {
                    self.congested = true;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => c.refused += n,
            Err(_) => c.other_errors += n,
        }
        result
    }
}

/// A send of `sent` bytes out of `len` as a result: UDP sends all or nothing, but say so if not.
fn whole(sent: usize, len: usize) -> io::Result<()> {
    if sent == len {
        Ok(())
    } else {
        Err(io::Error::other(format!("sent {sent} of {len} bytes")))
    }
}

/// Splits `host:port`, refusing what cannot be one.
fn split(spec: &str) -> Result<(&str, u16), &'static str> {
    let (host, port) = spec.rsplit_once(':').ok_or("expected host:port")?;
    if host.is_empty() {
        return Err("no host before the port");
    }
    if host.contains(':') && !(host.starts_with('[') && host.ends_with(']')) {
        return Err("an IPv6 address needs brackets, as in [2001:db8::1]:2055");
    }
    match port.parse::<u16>() {
        Ok(0) => Err("port 0 is not a port to send to"),
        Ok(p) => Ok((host, p)),
        Err(_) => Err("the port is not a number from 1 to 65535"),
    }
}

/// Resolves `spec` and connects a socket to the first of its addresses that can be sent to.
fn connect(spec: &str, source: Option<IpAddr>) -> Result<Target, DestinationError> {
    let bad = |reason| DestinationError::BadSpec {
        spec: spec.to_owned(),
        reason,
    };
    let (host, port) = split(spec).map_err(bad)?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|source| DestinationError::Unresolvable {
            spec: spec.to_owned(),
            source,
        })?
        .filter(|a| source.is_none_or(|s| s.is_ipv4() == a.is_ipv4()))
        .collect();
    if let (Some(s), true) = (source, addrs.is_empty()) {
        return Err(DestinationError::NoAddressForSource {
            spec: spec.to_owned(),
            family: if s.is_ipv4() { "IPv4" } else { "IPv6" },
            source_addr: s,
        });
    }
    let mut last = None;
    for addr in addrs {
        match socket_to(addr, source) {
            Ok(socket) => {
                return Ok(Target {
                    spec: spec.to_owned(),
                    addr,
                    socket,
                    congested: false,
                    segmenting: true,
                    counters: DestinationCounters::default(),
                });
            }
            Err(e) => last = Some((addr, e)),
        }
    }
    let (addr, source) = last.unwrap_or_else(|| {
        let none = io::Error::new(io::ErrorKind::NotFound, "the host has no address");
        (SocketAddr::from((Ipv4Addr::UNSPECIFIED, port)), none)
    });
    Err(DestinationError::Unreachable {
        spec: spec.to_owned(),
        addr,
        source,
    })
}

/// A UDP socket bound to `source` (or any address) and connected to `addr`.
fn socket_to(addr: SocketAddr, source: Option<IpAddr>) -> io::Result<UdpSocket> {
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    // A smaller buffer than asked for still works; only a failure to set the timeout matters.
    let _ = socket.set_send_buffer_size(SEND_BUFFER);
    socket.set_write_timeout(Some(SEND_WAIT))?;
    let any = match addr {
        SocketAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        SocketAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    };
    socket.bind(&SocketAddr::new(source.unwrap_or(any), 0).into())?;
    socket.connect(&addr.into())?;
    Ok(socket.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn specs(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| s.to_string()).collect()
    }

    fn receiver() -> (UdpSocket, String) {
        let r = UdpSocket::bind("127.0.0.1:0").unwrap();
        r.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let spec = r.local_addr().unwrap().to_string();
        (r, spec)
    }

    #[test]
    fn sends_each_datagram_to_every_destination_and_counts_it() {
        let (a, spec_a) = receiver();
        let (b, spec_b) = receiver();
        let mut d = Destinations::open(&specs(&[&spec_a, &spec_b]), None).unwrap();
        for i in 0..3u8 {
            d.queue(&[i; 100]);
        }
        d.flush();
        let mut buf = [0u8; 200];
        for r in [&a, &b] {
            for i in 0..3u8 {
                let n = r.recv(&mut buf).unwrap();
                assert_eq!(&buf[..n], &[i; 100]);
            }
        }
        let counted: Vec<_> = d.counters().map(|(spec, _, c)| (spec.to_owned(), *c)).collect();
        let sent = DestinationCounters {
            datagrams: 3,
            bytes: 300,
            ..DestinationCounters::default()
        };
        assert_eq!(counted, [(spec_a, sent), (spec_b, sent)]);
    }

    #[test]
    fn queued_datagrams_of_any_sizes_arrive_whole_and_in_order() {
        let (r, spec) = receiver();
        let mut d = Destinations::open(&specs(&[&spec]), None).unwrap();
        // Runs of equal sizes, shorter ends, a longer datagram after a run, more than a run can carry.
        // Small, so that all of them fit the receiver's default buffer.
        let mut sizes = vec![140, 140, 140, 70, 140, 20, 20, 145];
        sizes.extend(std::iter::repeat_n(100, 150));
        sizes.extend([99, 1]);
        let datagrams: Vec<Vec<u8>> = sizes
            .iter()
            .enumerate()
            .map(|(i, &n)| (0..n).map(|j| (i + j) as u8).collect())
            .collect();
        for (i, datagram) in datagrams.iter().enumerate() {
            d.queue(datagram);
            if i == 5 {
                d.flush();
            }
        }
        d.flush();
        let mut buf = [0u8; 2000];
        for (i, datagram) in datagrams.iter().enumerate() {
            let n = r.recv(&mut buf).unwrap();
            assert_eq!(&buf[..n], &datagram[..], "datagram {i}");
        }
        let (_, _, c) = d.counters().next().unwrap();
        assert_eq!(c.datagrams, datagrams.len() as u64);
        assert_eq!(c.bytes, sizes.iter().sum::<usize>() as u64);
        assert_eq!(c.errors(), 0);
        assert!(d.targets[0].segmenting, "runs went out segmented");
    }

    #[test]
    fn counts_datagrams_a_collector_refuses_and_keeps_sending() {
        // A port nothing listens on: the kernel's port unreachable comes back as an error on a later send.
        let (closed, _) = receiver();
        let port = closed.local_addr().unwrap().port();
        drop(closed);
        let (open, spec_open) = receiver();
        let mut d = Destinations::open(&specs(&[&format!("127.0.0.1:{port}"), &spec_open]), None).unwrap();
        for _ in 0..10 {
            d.queue(b"flows");
            d.flush();
            std::thread::sleep(Duration::from_millis(2));
        }
        let counters: Vec<DestinationCounters> = d.counters().map(|(_, _, c)| *c).collect();
        assert!(counters[0].refused >= 1, "{:?}", counters[0]);
        assert_eq!(counters[0].datagrams + counters[0].errors(), 10);
        assert_eq!(counters[1].datagrams, 10, "the other destination is not held up");
        let mut buf = [0u8; 16];
        assert_eq!(open.recv(&mut buf).unwrap(), 5);
    }

    #[test]
    fn refuses_destinations_that_are_not_host_and_port() {
        for (spec, reason) in [
            ("collector", "expected host:port"),
            (":2055", "no host before the port"),
            (
                "2001:db8::1:2055",
                "an IPv6 address needs brackets, as in [2001:db8::1]:2055",
            ),
            ("collector:0", "port 0 is not a port to send to"),
            ("collector:netflow", "the port is not a number from 1 to 65535"),
        ] {
            match Destinations::open(&specs(&[spec]), None) {
                Err(DestinationError::BadSpec { spec: s, reason: r }) => {
                    assert_eq!((s.as_str(), r), (spec, reason))
                }
                other => panic!("{spec}: {other:?}"),
            }
        }
    }

    #[test]
    fn refuses_hosts_that_do_not_resolve() {
        let e = Destinations::open(&specs(&["no-such-host.invalid:2055"]), None).unwrap_err();
        assert!(matches!(e, DestinationError::Unresolvable { .. }), "{e}");
        assert!(
            e.to_string()
                .starts_with("export destination `no-such-host.invalid:2055`: cannot resolve")
        );
    }

    #[test]
    fn refuses_a_destination_it_cannot_send_to() {
        // A link-local address without its interface has no route.
        let e = Destinations::open(&specs(&["[fe80::1]:2055"]), None).unwrap_err();
        let DestinationError::Unreachable { addr, .. } = &e else {
            panic!("{e}");
        };
        assert_eq!(addr.to_string(), "[fe80::1]:2055");
        assert!(e.to_string().contains("cannot send there"), "{e}");
    }

    #[test]
    fn refuses_a_source_of_the_wrong_ip_version_or_not_of_this_host() {
        let source = Some(IpAddr::V4(Ipv4Addr::LOCALHOST));
        let e = Destinations::open(&specs(&["[::1]:2055"]), source).unwrap_err();
        assert_eq!(
            e.to_string(),
            "export destination `[::1]:2055`: no IPv4 address to send to from source 127.0.0.1"
        );
        // 198.51.100.0/24 is for documentation: no host has it.
        let foreign = Some(IpAddr::V4(Ipv4Addr::new(198, 51, 100, 254)));
        let e = Destinations::open(&specs(&["127.0.0.1:2055"]), foreign).unwrap_err();
        assert!(matches!(e, DestinationError::Unreachable { .. }), "{e}");
    }
}
