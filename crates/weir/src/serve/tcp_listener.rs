//! IPFIX over TCP (RFC 7011 section 10.4): the listening sockets, the threads that accept connections, and
//! the connection limit.
//!
//! Each TCP listen address has one acceptor thread; each connection it admits is read by a thread of its own
//! ([`Connection`]). Threads rather than async tasks, because exporters keep a few long-lived connections
//! (one per exporting process), so their number is small and bounded by `tcp_max_connections`; a blocking
//! read with a timeout gives the idle timeout for free; and the rest of the collector is threads and
//! crossbeam channels already, while the one async runtime serves HTTP, where a busy exporter must not slow
//! `/metrics` down. A connection thread costs a small stack and a 64 KiB read buffer.
//!
//! The acceptor applies the allow-list and the limit as soon as a connection is accepted (a refused
//! connection is closed at once, and counted), and owns the threads it starts: when the collector stops it
//! closes its listening socket, shuts every connection down (which wakes their blocked reads) and waits for
//! them, so that their last messages are in the decoder queues before the shards drain them.

use std::io;
use std::net::{IpAddr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};
use tracing::warn;
use weir_flow::time::NANOS_PER_SEC;

use super::config::ServeConfig;
use super::queue::QueueTx;
use super::receiver::shard_of;
use super::tcp_connection::Connection;
use crate::clock::now;
use crate::ratelimit::{RateLimiter, Verdict};

/// How long an accept waits before the acceptor checks whether it should stop.
const POLL: Duration = Duration::from_millis(100);
/// Connections the kernel queues before they are accepted.
const BACKLOG: i32 = 128;
/// Framing and read errors logged per exporter per interval.
const LOG_BURST: u32 = 5;
const LOG_INTERVAL: u64 = 60 * NANOS_PER_SEC;

/// The rate limiter of a listener's per-exporter log lines, shared by its connections.
pub type SharedLog = Arc<Mutex<RateLimiter<IpAddr>>>;

/// Whether a line about `exporter` may be logged now, and how many were held back before it.
pub fn may_log(log: &SharedLog, exporter: IpAddr) -> Option<u64> {
    match log
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .check(&exporter, now())
    {
        Verdict::Log { suppressed } => Some(suppressed),
        Verdict::Suppress => None,
    }
}

/// Why a connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefuseReason {
    /// `tcp_max_connections` were open already.
    Limit,
    /// The exporter is not on the allow-list.
    NotAllowed,
}

impl RefuseReason {
    /// Every reason, indexing [`TcpStats::refused`].
    pub const ALL: [Self; 2] = [Self::Limit, Self::NotAllowed];

    /// The metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Limit => "limit",
            Self::NotAllowed => "not_allowed",
        }
    }
}

/// Why a connection was closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// The exporter closed it.
    Eof,
    /// It stayed silent for `tcp_idle_timeout`.
    Idle,
    /// Its stream could not be split into IPFIX messages.
    Framing,
    /// A read failed (a reset, for one).
    Error,
    /// The collector stopped.
    Shutdown,
}

impl CloseReason {
    /// Every reason, indexing [`TcpStats::closes`].
    pub const ALL: [Self; 5] = [Self::Eof, Self::Idle, Self::Framing, Self::Error, Self::Shutdown];

    /// The metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Eof => "eof",
            Self::Idle => "idle",
            Self::Framing => "framing",
            Self::Error => "error",
            Self::Shutdown => "shutdown",
        }
    }
}

/// Why messages received over TCP were lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpDropReason {
    /// The connection ended in the middle of a message.
    Incomplete,
    /// The collector stopped while the message waited for room in its decoder queue, or in its middle.
    Shutdown,
}

impl TcpDropReason {
    /// Every reason, indexing [`TcpStats::drops`].
    pub const ALL: [Self; 2] = [Self::Incomplete, Self::Shutdown];

    /// The metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Incomplete => "incomplete",
            Self::Shutdown => "shutdown",
        }
    }
}

/// Counters of one TCP listen address, shared by its acceptor, its connections and `/metrics`.
#[derive(Debug)]
pub struct TcpStats {
    /// The address actually bound.
    pub addr: SocketAddr,
    /// Connections open now.
    pub open: AtomicU64,
    /// Connections accepted (and not refused).
    pub accepted: AtomicU64,
    /// Connections refused, by [`RefuseReason`].
    pub refused: [AtomicU64; RefuseReason::ALL.len()],
    /// Failed accepts.
    pub accept_errors: AtomicU64,
    /// IPFIX messages framed.
    pub messages: AtomicU64,
    /// Bytes read.
    pub bytes: AtomicU64,
    /// Streams that could not be framed (each closes its connection).
    pub framing_errors: AtomicU64,
    /// Times a connection stopped reading because its decoder queue was full.
    pub queue_waits: AtomicU64,
    /// Connections closed, by [`CloseReason`].
    pub closes: [AtomicU64; CloseReason::ALL.len()],
    /// Messages lost, by [`TcpDropReason`].
    pub drops: [AtomicU64; TcpDropReason::ALL.len()],
}

impl TcpStats {
    /// Zeroed counters for `addr`.
    pub fn new(addr: SocketAddr) -> Self {
        Self {
            addr,
            open: AtomicU64::new(0),
            accepted: AtomicU64::new(0),
            refused: Default::default(),
            accept_errors: AtomicU64::new(0),
            messages: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            framing_errors: AtomicU64::new(0),
            queue_waits: AtomicU64::new(0),
            closes: Default::default(),
            drops: Default::default(),
        }
    }

    /// Counts a refused connection.
    pub fn refused(&self, reason: RefuseReason) {
        self.refused[reason as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// Connections refused for `reason`.
    pub fn refused_of(&self, reason: RefuseReason) -> u64 {
        self.refused[reason as usize].load(Ordering::Relaxed)
    }

    /// Counts a closed connection.
    pub fn closed(&self, reason: CloseReason) {
        self.closes[reason as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// Connections closed for `reason`.
    pub fn closes_of(&self, reason: CloseReason) -> u64 {
        self.closes[reason as usize].load(Ordering::Relaxed)
    }

    /// Counts `n` lost messages.
    pub fn dropped(&self, reason: TcpDropReason, n: u64) {
        self.drops[reason as usize].fetch_add(n, Ordering::Relaxed);
    }

    /// Messages lost for `reason`.
    pub fn drops_of(&self, reason: TcpDropReason) -> u64 {
        self.drops[reason as usize].load(Ordering::Relaxed)
    }
}

/// The connection limit, shared by every TCP listener.
#[derive(Debug)]
pub struct ConnectionSlots {
    open: AtomicUsize,
    max: usize,
}

impl ConnectionSlots {
    /// Room for `max` connections at once.
    pub fn new(max: usize) -> Arc<Self> {
        Arc::new(Self {
            open: AtomicUsize::new(0),
            max,
        })
    }

    /// A slot for one connection to the listener of `stats`, or `None` when every slot is taken.
    pub fn take(self: &Arc<Self>, stats: &Arc<TcpStats>) -> Option<Slot> {
        self.open
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max).then_some(n + 1)
            })
            .ok()?;
        stats.open.fetch_add(1, Ordering::Relaxed);
        Some(Slot {
            slots: self.clone(),
            stats: stats.clone(),
        })
    }
}

/// One connection's place under the limit, given back when dropped.
#[derive(Debug)]
pub struct Slot {
    slots: Arc<ConnectionSlots>,
    stats: Arc<TcpStats>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.slots.open.fetch_sub(1, Ordering::AcqRel);
        self.stats.open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Binds a listening socket to `addr` (port 0 picks one).
pub fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    // A restarted collector can bind again while the old connections linger in TIME_WAIT.
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    // accept(2) honours SO_RCVTIMEO on Linux, which wakes the acceptor up to check whether to stop.
    socket.set_read_timeout(Some(POLL))?;
    Ok(socket.into())
}

/// Everything an acceptor thread needs.
#[derive(Debug)]
pub struct Acceptor {
    /// The listening socket, from [`bind`].
    pub listener: TcpListener,
    /// Its counters.
    pub stats: Arc<TcpStats>,
    /// The limit on open connections, shared with the other TCP listeners.
    pub slots: Arc<ConnectionSlots>,
    /// The shards' queues.
    pub shards: Vec<QueueTx>,
    /// The allow-list and the idle timeout.
    pub config: Arc<ServeConfig>,
    /// Set when the acceptor and its connections should stop.
    pub stop: Arc<AtomicBool>,
}

impl Acceptor {
    /// Starts the thread. It ends once the collector stops and its connections are closed.
    pub fn spawn(self, name: String) -> io::Result<JoinHandle<()>> {
        thread::Builder::new().name(name).spawn(move || self.run())
    }

    fn run(self) {
        let log: SharedLog = Arc::new(Mutex::new(RateLimiter::new(LOG_BURST, LOG_INTERVAL)));
        let mut own_log = RateLimiter::new(1, 10 * NANOS_PER_SEC);
        let mut connections: Vec<(TcpStream, JoinHandle<()>)> = Vec::new();
        while !self.stop.load(Ordering::Relaxed) {
            match self.listener.accept() {
                Ok((stream, peer)) => {
                    if let Some(c) = self.admit(stream, peer, &log, &mut own_log) {
                        connections.push(c);
                    }
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
                    ) => {}
                Err(e) => {
                    // Out of file descriptors, for one: the connection waits in the backlog meanwhile.
                    self.stats.accept_errors.fetch_add(1, Ordering::Relaxed);
                    if let Verdict::Log { suppressed } = own_log.check(&"accept", now()) {
                        warn!(addr = %self.stats.addr, error = %e, suppressed, "Cannot accept a TCP connection.");
                    }
                    thread::sleep(POLL);
                }
            }
            reap(&mut connections);
        }
        let Self { listener, stats, .. } = self;
        drop(listener);
        for (stream, _) in &connections {
            let _ = stream.shutdown(Shutdown::Both);
        }
        for (_, handle) in connections {
            if handle.join().is_err() {
                warn!(addr = %stats.addr, "A TCP connection thread panicked.");
            }
        }
        let suppressed = log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take_suppressed();
        for (exporter, n) in suppressed {
            warn!(exporter = %exporter, suppressed = n, "More TCP errors from this exporter were not logged.");
        }
    }

    /// Applies the allow-list and the limit to a new connection, and starts its thread. Returns a handle
    /// on the socket (to shut it down at stop) and the thread.
    fn admit(
        &self,
        stream: TcpStream,
        peer: SocketAddr,
        log: &SharedLog,
        own_log: &mut RateLimiter<&'static str>,
    ) -> Option<(TcpStream, JoinHandle<()>)> {
        let exporter = peer.ip().to_canonical();
        if !self.config.allows(exporter) {
            self.stats.refused(RefuseReason::NotAllowed);
            return None;
        }
        let Some(slot) = self.slots.take(&self.stats) else {
            self.stats.refused(RefuseReason::Limit);
            if let Verdict::Log { suppressed } = own_log.check(&"limit", now()) {
                warn!(
                    addr = %self.stats.addr,
                    exporter = %exporter,
                    max = self.config.tcp_max_connections,
                    suppressed,
                    "Refusing a TCP connection: too many are open. Raise --tcp-max-connections to allow more."
                );
            }
            return None;
        };
        self.stats.accepted.fetch_add(1, Ordering::Relaxed);
        let shard = self.shards.get(shard_of(exporter, self.shards.len())).cloned();
        let started = stream.try_clone().and_then(|handle| {
            let connection = Connection {
                stream,
                peer,
                exporter,
                _slot: slot,
                stats: self.stats.clone(),
                shard: shard.ok_or_else(|| io::Error::other("no decoder shard"))?,
                idle_timeout: self.config.tcp_idle_timeout,
                stop: self.stop.clone(),
                log: log.clone(),
            };
            Ok((handle, connection.spawn()?))
        });
        match started {
            Ok(c) => Some(c),
            Err(e) => {
                self.stats.closed(CloseReason::Error);
                if let Verdict::Log { suppressed } = own_log.check(&"start", now()) {
                    warn!(addr = %self.stats.addr, exporter = %exporter, error = %e, suppressed, "Cannot start reading a TCP connection.");
                }
                None
            }
        }
    }
}

/// Waits for the connection threads that have ended.
fn reap(connections: &mut Vec<(TcpStream, JoinHandle<()>)>) {
    let mut i = 0;
    while let Some((_, handle)) = connections.get(i) {
        if handle.is_finished() {
            let (_, handle) = connections.swap_remove(i);
            if handle.join().is_err() {
                warn!("A TCP connection thread panicked.");
            }
        } else {
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serve::queue::queue;
    use std::io::Read;
    use std::time::Instant;

    fn wait_until(what: &str, cond: impl Fn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while !cond() {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            thread::sleep(Duration::from_millis(5));
        }
    }

    /// Reads until the server closes the connection; true if it did.
    fn closed_by_server(client: &mut TcpStream) -> bool {
        client.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut buf = [0u8; 16];
        matches!(client.read(&mut buf), Ok(0))
            || matches!(client.read(&mut buf), Err(e) if e.kind() == io::ErrorKind::ConnectionReset)
    }

    #[test]
    fn slots_bound_connections_over_every_listener() {
        let slots = ConnectionSlots::new(2);
        let a = Arc::new(TcpStats::new("127.0.0.1:1".parse().unwrap()));
        let b = Arc::new(TcpStats::new("127.0.0.1:2".parse().unwrap()));
        let first = slots.take(&a).unwrap();
        let second = slots.take(&b).unwrap();
        assert!(slots.take(&a).is_none(), "the limit is over both listeners");
        assert_eq!(
            (a.open.load(Ordering::Relaxed), b.open.load(Ordering::Relaxed)),
            (1, 1)
        );
        drop(first);
        assert_eq!(a.open.load(Ordering::Relaxed), 0);
        let third = slots.take(&b).unwrap();
        assert_eq!(b.open.load(Ordering::Relaxed), 2);
        drop((second, third));
        assert_eq!(b.open.load(Ordering::Relaxed), 0);
        assert_eq!(slots.open.load(Ordering::Relaxed), 0);
    }

    fn start(
        config: ServeConfig,
        slots: Arc<ConnectionSlots>,
    ) -> (Arc<TcpStats>, Arc<AtomicBool>, JoinHandle<()>) {
        let listener = bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let stats = Arc::new(TcpStats::new(listener.local_addr().unwrap()));
        let (tx, _rx) = queue(16, 1 << 20);
        let stop = Arc::new(AtomicBool::new(false));
        let acceptor = Acceptor {
            listener,
            stats: stats.clone(),
            slots,
            shards: vec![tx],
            config: Arc::new(config),
            stop: stop.clone(),
        };
        (stats, stop, acceptor.spawn("test-acceptor".into()).unwrap())
    }

    #[test]
    fn refuses_exporters_not_allowed() {
        let mut config = ServeConfig::default();
        config.allow.push("192.0.2.0/24".parse().unwrap());
        let (stats, stop, handle) = start(config, ConnectionSlots::new(4));
        let mut client = TcpStream::connect(stats.addr).unwrap();
        assert!(closed_by_server(&mut client));
        wait_until("the refusal", || stats.refused_of(RefuseReason::NotAllowed) == 1);
        stop.store(true, Ordering::Relaxed);
        handle.join().unwrap();
        assert_eq!(stats.accepted.load(Ordering::Relaxed), 0);
        assert_eq!(stats.refused_of(RefuseReason::Limit), 0);
    }

    #[test]
    fn refuses_connections_over_the_limit_and_closes_the_rest_at_stop() {
        let (stats, stop, handle) = start(ServeConfig::default(), ConnectionSlots::new(1));
        let mut first = TcpStream::connect(stats.addr).unwrap();
        wait_until("the first connection", || stats.open.load(Ordering::Relaxed) == 1);
        let mut second = TcpStream::connect(stats.addr).unwrap();
        assert!(closed_by_server(&mut second));
        assert_eq!(stats.refused_of(RefuseReason::Limit), 1);
        stop.store(true, Ordering::Relaxed);
        handle.join().unwrap();
        assert!(closed_by_server(&mut first), "stopping closes open connections");
        assert_eq!(stats.accepted.load(Ordering::Relaxed), 1);
        assert_eq!(stats.open.load(Ordering::Relaxed), 0);
        assert_eq!(stats.closes_of(CloseReason::Shutdown), 1);
        assert!(
            TcpStream::connect(stats.addr).is_err(),
            "the listening socket is closed"
        );
    }
}
