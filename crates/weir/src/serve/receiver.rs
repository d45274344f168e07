//! The receiver: UDP sockets and the threads that only read them.
//!
//! Each listen address gets one socket per reader thread, all bound to the same port with `SO_REUSEPORT`;
//! the kernel spreads exporters over them by address, so one exporter's datagrams keep their order. A
//! reader takes up to [`BATCH`] datagrams per system call (`recvmmsg`, through `nix`, which keeps this crate
//! free of `unsafe`), stamps them with the receive time, and hands them over bounded queues to the decoder
//! shard of their exporter. It never waits: when a queue is full the datagrams are dropped and counted.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::{self, IoSliceMut};
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use nix::errno::Errno;
use nix::sys::socket::{
    MsgFlags, MultiHeaders, SockaddrLike, SockaddrStorage, recvmmsg, setsockopt, sockopt,
};
use socket2::{Domain, Protocol, Socket, Type};
use tracing::warn;

use super::config::ServeConfig;
use super::kernel_drops;
use super::queue::QueueTx;
use weir_flow::time::NANOS_PER_SEC;

use crate::clock::now;
use crate::ratelimit::{RateLimiter, Verdict};

/// Datagrams read per system call at most.
pub const BATCH: usize = 32;
/// How long a read waits before the reader checks whether it should stop.
const POLL: Duration = Duration::from_millis(100);

/// Why the receiver dropped a datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    /// The decoder's queue was full.
    QueueFull,
    /// The exporter is not on the allow-list.
    NotAllowed,
    /// Longer than the largest datagram received whole.
    Oversize,
}

impl DropReason {
    /// Every reason, indexing [`ListenerStats::drops`].
    pub const ALL: [DropReason; 3] = [Self::QueueFull, Self::NotAllowed, Self::Oversize];

    /// The metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::QueueFull => "queue_full",
            Self::NotAllowed => "not_allowed",
            Self::Oversize => "oversize",
        }
    }
}

/// Counters of one listen address, shared by its readers and `/metrics`.
#[derive(Debug)]
pub struct ListenerStats {
    /// The address actually bound.
    pub addr: SocketAddr,
    /// Datagrams read.
    pub datagrams: AtomicU64,
    /// Bytes of those datagrams.
    pub bytes: AtomicU64,
    /// Datagrams dropped, by [`DropReason`].
    pub drops: [AtomicU64; DropReason::ALL.len()],
    /// Failed reads.
    pub errors: AtomicU64,
    /// Receive buffer the kernel reports for each socket, in bytes.
    pub recv_buffer: u64,
    /// The sockets' inodes, to find their kernel drop counts.
    pub inodes: Vec<u64>,
}

impl ListenerStats {
    fn new(addr: SocketAddr, recv_buffer: u64, inodes: Vec<u64>) -> Self {
        Self {
            inodes,
            addr,
            datagrams: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            drops: Default::default(),
            errors: AtomicU64::new(0),
            recv_buffer,
        }
    }

    fn dropped(&self, reason: DropReason, n: u64) {
        self.drops[reason as usize].fetch_add(n, Ordering::Relaxed);
    }

    /// Datagrams dropped for `reason`.
    pub fn drops_of(&self, reason: DropReason) -> u64 {
        self.drops[reason as usize].load(Ordering::Relaxed)
    }
}

/// Datagrams read together, for one decoder shard: their bytes end to end, and where each one is.
#[derive(Debug)]
pub struct RawBatch {
    /// When they were received, nanoseconds since the epoch.
    pub received: u64,
    data: Vec<u8>,
    items: Vec<(IpAddr, u32, u32)>,
}

impl RawBatch {
    /// An empty batch of datagrams received at `received`.
    pub fn new(received: u64) -> Self {
        Self {
            received,
            data: Vec::new(),
            items: Vec::new(),
        }
    }

    /// An empty batch with room for `bytes` of datagrams, when their total is known beforehand.
    pub fn with_capacity(received: u64, bytes: usize) -> Self {
        Self {
            received,
            data: Vec::with_capacity(bytes),
            items: Vec::new(),
        }
    }

    /// Adds a datagram from `exporter`.
    pub fn push(&mut self, exporter: IpAddr, datagram: &[u8]) {
        self.items
            .push((exporter, self.data.len() as u32, datagram.len() as u32));
        self.data.extend_from_slice(datagram);
    }

    /// Number of datagrams.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Bytes of the datagrams.
    pub fn bytes(&self) -> usize {
        self.data.len()
    }

    /// Each datagram with its exporter's address.
    pub fn iter(&self) -> impl Iterator<Item = (IpAddr, &[u8])> {
        self.items.iter().map(|&(ip, start, len)| {
            let (start, len) = (start as usize, len as usize);
            (ip, self.data.get(start..start + len).unwrap_or_default())
        })
    }
}

/// Sockets bound to one listen address.
#[derive(Debug)]
pub struct Listener {
    /// One per reader thread.
    pub sockets: Vec<UdpSocket>,
    /// Its counters.
    pub stats: Arc<ListenerStats>,
}

/// Binds `count` sockets to `addr` with `SO_REUSEPORT` and large receive buffers. With port 0, the first
/// socket picks the port and the others join it.
pub fn bind(addr: SocketAddr, count: usize, recv_buffer: usize) -> io::Result<Listener> {
    let mut sockets = Vec::with_capacity(count);
    let mut bound = addr;
    let mut granted = 0;
    for _ in 0..count.max(1) {
        let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
        socket.set_reuse_port(true)?;
        // Privileged processes may exceed net.core.rmem_max; others get what it allows. The kernel
        // takes a C int.
        let size = recv_buffer.min(i32::MAX as usize);
        if setsockopt(&socket, sockopt::RcvBufForce, &size).is_err() {
            socket.set_recv_buffer_size(recv_buffer)?;
        }
        granted = socket.recv_buffer_size()?;
        socket.set_read_timeout(Some(POLL))?;
        socket.bind(&bound.into())?;
        if let Some(local) = socket.local_addr()?.as_socket() {
            bound = local;
        }
        sockets.push(UdpSocket::from(socket));
    }
    // Linux reports twice the size asked for (the other half is its bookkeeping); anything below the
    // request means a limit was hit.
    if granted < recv_buffer {
        warn!(
            addr = %bound,
            asked = recv_buffer,
            granted,
            "The kernel granted a smaller receive buffer than asked for; bursts may be dropped. \
             Raise net.core.rmem_max to allow more."
        );
    }
    let inodes = sockets.iter().filter_map(kernel_drops::socket_inode).collect();
    Ok(Listener {
        sockets,
        stats: Arc::new(ListenerStats::new(bound, granted as u64, inodes)),
    })
}

/// The shard an exporter's datagrams go to: the same one for as long as Weir runs.
pub fn shard_of(exporter: IpAddr, shards: usize) -> usize {
    let mut h = DefaultHasher::new();
    exporter.hash(&mut h);
    (h.finish() % shards.max(1) as u64) as usize
}

/// Everything a reader thread needs.
#[derive(Debug)]
pub struct Reader {
    /// The socket it reads.
    pub socket: UdpSocket,
    /// Its listener's counters.
    pub stats: Arc<ListenerStats>,
    /// The shards' queues.
    pub shards: Vec<QueueTx>,
    /// The allow-list and sizes.
    pub config: Arc<ServeConfig>,
    /// Set when the reader should stop.
    pub stop: Arc<AtomicBool>,
}

impl Reader {
    /// Starts the thread.
    pub fn spawn(self, name: String) -> io::Result<JoinHandle<()>> {
        thread::Builder::new().name(name).spawn(move || self.run())
    }

    fn run(self) {
        let slot = self.config.max_datagram.max(1);
        let mut buf = vec![0u8; BATCH * slot];
        let mut headers = MultiHeaders::<SockaddrStorage>::preallocate(BATCH, None);
        let mut received: Vec<(usize, Option<SocketAddr>, bool)> = Vec::with_capacity(BATCH);
        let mut pending: Vec<Option<RawBatch>> = self.shards.iter().map(|_| None).collect();
        let mut error_log = RateLimiter::new(1, 10 * NANOS_PER_SEC);
        while !self.stop.load(Ordering::Relaxed) {
            received.clear();
            let result = {
                let mut iovs: Vec<[IoSliceMut<'_>; 1]> =
                    buf.chunks_exact_mut(slot).map(|c| [IoSliceMut::new(c)]).collect();
                // MSG_TRUNC makes the kernel report a longer datagram's real length.
                let flags = MsgFlags::MSG_WAITFORONE | MsgFlags::MSG_TRUNC;
                recvmmsg(
                    self.socket.as_raw_fd(),
                    &mut headers,
                    iovs.iter_mut(),
                    flags,
                    None,
                )
                .map(|msgs| {
                    for m in msgs {
                        let truncated = m.flags.contains(MsgFlags::MSG_TRUNC) || m.bytes > slot;
                        received.push((m.bytes, m.address.and_then(socket_addr), truncated));
                    }
                })
            };
            match result {
                Ok(()) => {}
                Err(Errno::EAGAIN | Errno::EINTR) => continue,
                Err(e) => {
                    self.stats.errors.fetch_add(1, Ordering::Relaxed);
                    if let Verdict::Log { suppressed } = error_log.check(&(), now()) {
                        warn!(addr = %self.stats.addr, error = %e, suppressed, "Cannot read from the socket.");
                    }
                    thread::sleep(Duration::from_millis(10));
                    continue;
                }
            }
            self.distribute(&buf, slot, &received, &mut pending);
        }
    }

    /// Sorts one read's datagrams into per-shard batches and hands them over without waiting.
    fn distribute(
        &self,
        buf: &[u8],
        slot: usize,
        received: &[(usize, Option<SocketAddr>, bool)],
        pending: &mut [Option<RawBatch>],
    ) {
        let time = now();
        let (mut datagrams, mut bytes) = (0, 0);
        for (i, &(len, src, truncated)) in received.iter().enumerate() {
            datagrams += 1;
            bytes += len as u64;
            let Some(src) = src else { continue };
            let exporter = src.ip().to_canonical();
            if truncated {
                self.stats.dropped(DropReason::Oversize, 1);
            } else if !self.config.allows(exporter) {
                self.stats.dropped(DropReason::NotAllowed, 1);
            } else {
                let shard = shard_of(exporter, pending.len());
                let datagram = buf.get(i * slot..i * slot + len.min(slot)).unwrap_or_default();
                pending[shard]
                    .get_or_insert_with(|| RawBatch::new(time))
                    .push(exporter, datagram);
            }
        }
        self.stats.datagrams.fetch_add(datagrams, Ordering::Relaxed);
        self.stats.bytes.fetch_add(bytes, Ordering::Relaxed);
        for (queue, batch) in self.shards.iter().zip(pending.iter_mut()) {
            let Some(batch) = batch.take() else { continue };
            if let Err(b) = queue.offer(batch) {
                self.stats.dropped(DropReason::QueueFull, b.len() as u64);
            }
        }
    }
}

fn socket_addr(s: SockaddrStorage) -> Option<SocketAddr> {
    match s.family() {
        Some(nix::sys::socket::AddressFamily::Inet) => s.as_sockaddr_in().map(|a| SocketAddr::from(*a)),
        Some(nix::sys::socket::AddressFamily::Inet6) => s.as_sockaddr_in6().map(|a| SocketAddr::from(*a)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serve::queue::queue;

    #[test]
    fn one_exporter_always_hits_one_shard() {
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let first = shard_of(a, 4);
        assert!((0..100).all(|_| shard_of(a, 4) == first));
        let spread: std::collections::HashSet<_> = (0..64u8)
            .map(|i| shard_of(IpAddr::from([10, 0, 0, i]), 4))
            .collect();
        assert_eq!(spread.len(), 4, "exporters spread over every shard");
    }

    #[test]
    fn batches_keep_datagrams_apart() {
        let mut b = RawBatch::new(7);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        b.push(a, b"one");
        b.push(a, b"");
        b.push(a, b"three");
        let got: Vec<_> = b.iter().map(|(_, d)| d.to_vec()).collect();
        assert_eq!(got, vec![b"one".to_vec(), vec![], b"three".to_vec()]);
    }

    #[test]
    fn receives_and_counts_drops_by_reason() {
        let listener = bind("127.0.0.1:0".parse().unwrap(), 1, 1 << 20).unwrap();
        let addr = listener.stats.addr;
        assert_ne!(addr.port(), 0);
        let (tx, rx) = queue(1, 1 << 20);
        let mut cfg = ServeConfig {
            max_datagram: 64,
            ..ServeConfig::default()
        };
        cfg.allow.push("127.0.0.1/32".parse().unwrap());
        let stop = Arc::new(AtomicBool::new(false));
        let stats = listener.stats.clone();
        let reader = Reader {
            socket: listener.sockets.into_iter().next().unwrap(),
            stats: stats.clone(),
            shards: vec![tx],
            config: Arc::new(cfg),
            stop: stop.clone(),
        };
        let handle = reader.spawn("test-reader".into()).unwrap();
        let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
        sender.send_to(b"first", addr).unwrap();
        let batch = rx.channel().recv_timeout(Duration::from_secs(5)).unwrap();
        rx.done(&batch);
        let got: Vec<_> = batch.iter().map(|(ip, d)| (ip, d.to_vec())).collect();
        assert_eq!(got, vec![(IpAddr::from([127, 0, 0, 1]), b"first".to_vec())]);
        assert!(batch.received > 0);
        // The queue holds one batch: fill it, then the next datagram is dropped as queue_full.
        sender.send_to(b"second", addr).unwrap();
        sender.send_to(&[0u8; 100], addr).unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while stats.datagrams.load(Ordering::Relaxed) < 3 && std::time::Instant::now() < deadline {
            thread::sleep(Duration::from_millis(5));
        }
        sender.send_to(b"third", addr).unwrap();
        while stats.drops_of(DropReason::QueueFull) < 1 && std::time::Instant::now() < deadline {
            thread::sleep(Duration::from_millis(5));
        }
        stop.store(true, Ordering::Relaxed);
        handle.join().unwrap();
        assert_eq!(stats.datagrams.load(Ordering::Relaxed), 4);
        assert_eq!(stats.bytes.load(Ordering::Relaxed), 5 + 6 + 100 + 5);
        assert_eq!(stats.drops_of(DropReason::Oversize), 1);
        assert_eq!(stats.drops_of(DropReason::QueueFull), 1);
        assert_eq!(stats.drops_of(DropReason::NotAllowed), 0);
    }

    #[test]
    fn drops_exporters_not_allowed() {
        let listener = bind("127.0.0.1:0".parse().unwrap(), 1, 1 << 20).unwrap();
        let addr = listener.stats.addr;
        let (tx, rx) = queue(4, 1 << 20);
        let mut cfg = ServeConfig::default();
        cfg.allow.push("192.0.2.0/24".parse().unwrap());
        let stop = Arc::new(AtomicBool::new(false));
        let stats = listener.stats.clone();
        let reader = Reader {
            socket: listener.sockets.into_iter().next().unwrap(),
            stats: stats.clone(),
            shards: vec![tx],
            config: Arc::new(cfg),
            stop: stop.clone(),
        };
        let handle = reader.spawn("test-reader".into()).unwrap();
        UdpSocket::bind("127.0.0.1:0")
            .unwrap()
            .send_to(b"x", addr)
            .unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while stats.drops_of(DropReason::NotAllowed) < 1 && std::time::Instant::now() < deadline {
            thread::sleep(Duration::from_millis(5));
        }
        stop.store(true, Ordering::Relaxed);
        handle.join().unwrap();
        assert_eq!(stats.drops_of(DropReason::NotAllowed), 1);
        assert!(rx.channel().try_recv().is_err());
    }
}
