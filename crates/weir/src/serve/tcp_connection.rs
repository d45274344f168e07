//! One IPFIX-over-TCP connection: a thread that reads the stream, splits it into messages with a
//! [`MessageFramer`], and hands each read's messages to the decoder shard of the exporter, as one
//! [`RawBatch`], exactly as if they had come as UDP datagrams from the same address.
//!
//! Templates: the shard keys template state by exporter address, dialect and observation domain
//! ([`weir_proto::DomainKey`]), with no transport session in the key. RFC 7011 scopes templates to a
//! transport session, so, strictly, two connections from one exporter (or TCP and UDP from one exporter)
//! have separate template spaces; here they share one, and templates outlive the connection that brought
//! them. Exporters send their templates again at the start of every session, which replaces the old ones,
//! so this only matters to an exporter that reuses one template id for different templates on simultaneous
//! sessions of the same observation domain. Sequence numbers are per session too: a new session whose
//! numbers start again counts as a restart of the domain.
//!
//! Backpressure rather than drops: when the shard's queue is full, the connection holds the messages it has
//! and stops reading until there is room. TCP's flow control then slows the exporter down, and nothing is
//! lost in between, where a UDP receiver has no choice but to drop. Only this connection waits (it has a
//! thread of its own), so UDP readers and other exporters are not held up. Each wait is counted
//! (`queue_waits`); messages are lost only when the collector stops during a wait, or when the stream ends in
//! the middle of a message, and both are counted.
//!
//! Memory is bounded: the read buffer is one maximum-size message, and a read never takes more than what
//! completes the message being framed, so the framer holds at most one message's worth of unframed bytes.

use std::io::{self, Read};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use tracing::{debug, warn};
use weir_proto::ipfix::MessageFramer;

use super::queue::QueueTx;
use super::receiver::RawBatch;
use super::tcp_listener::{CloseReason, SharedLog, Slot, TcpDropReason, TcpStats, may_log};
use crate::clock::now;

/// The largest IPFIX message: its length field is 16 bits.
pub const MAX_MESSAGE: usize = u16::MAX as usize;
/// Stack of a connection thread: it only reads and copies, its buffers are on the heap.
const STACK: usize = 256 << 10;
/// First and longest pause while waiting for room in a full queue.
const PAUSE_MIN: Duration = Duration::from_millis(1);
const PAUSE_MAX: Duration = Duration::from_millis(50);

/// Everything a connection thread needs.
#[derive(Debug)]
pub struct Connection {
    /// The accepted socket.
    pub stream: TcpStream,
    /// The exporter's address and port.
    pub peer: SocketAddr,
    /// The exporter's address, IPv4-mapped addresses as IPv4: the key of its decoder state.
    pub exporter: IpAddr,
    /// Its place under the connection limit, held until the thread ends.
    pub _slot: Slot,
    /// The listener's counters.
    pub stats: Arc<TcpStats>,
    /// The queue of the exporter's decoder shard.
    pub shard: QueueTx,
    /// Silence after which the connection is closed.
    pub idle_timeout: Duration,
    /// Set when the collector stops.
    pub stop: Arc<AtomicBool>,
    /// The listener's log limiter.
    pub log: SharedLog,
}

impl Connection {
    /// Starts the thread.
    pub fn spawn(self) -> io::Result<JoinHandle<()>> {
        thread::Builder::new()
            .name("weir-tcp".into())
            .stack_size(STACK)
            .spawn(move || self.run())
    }

    fn run(self) {
        debug!(peer = %self.peer, listener = %self.stats.addr, "Accepted an IPFIX connection.");
        let reason = self.read_stream();
        // The acceptor holds another handle on the socket (to shut it down at stop): closing this one
        // would not end the connection.
        let _ = self.stream.shutdown(Shutdown::Both);
        self.stats.closed(reason);
        debug!(peer = %self.peer, reason = reason.as_str(), "Closed an IPFIX connection.");
    }

    /// Reads messages until the connection ends, and says why it ended.
    fn read_stream(&self) -> CloseReason {
        if let Err(e) = self.stream.set_read_timeout(Some(self.idle_timeout)) {
            self.warn_error(&e);
            return CloseReason::Error;
        }
        let mut framer = MessageFramer::new();
        let mut buf = vec![0u8; MAX_MESSAGE];
        loop {
            // After the loop below, what the framer holds is shorter than the message it starts, so there
            // is room for at least one byte.
            let room = MAX_MESSAGE.saturating_sub(framer.buffered()).max(1);
            let read = (&self.stream).read(buf.get_mut(..room).unwrap_or_default());
            let n = match read {
                Ok(0) => return self.end(CloseReason::Eof, &framer),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                    return self.end(CloseReason::Idle, &framer);
                }
                Err(e) => {
                    if !self.stop.load(Ordering::Relaxed) {
                        self.warn_error(&e);
                    }
                    return self.end(CloseReason::Error, &framer);
                }
            };
            self.stats.bytes.fetch_add(n as u64, Ordering::Relaxed);
            framer.push(buf.get(..n).unwrap_or_default());
            // The messages are at most what the framer holds: one allocation, and none for a read that
            // completes no message.
            let held = framer.buffered();
            let mut batch = None;
            let broken = loop {
                match framer.next_message() {
                    None => break None,
                    Some(Ok(message)) => batch
                        .get_or_insert_with(|| RawBatch::with_capacity(now(), held))
                        .push(self.exporter, message),
                    Some(Err(e)) => break Some(e),
                }
            };
            if let Some(batch) = batch {
                self.stats
                    .messages
                    .fetch_add(batch.len() as u64, Ordering::Relaxed);
                if !self.hand_over(batch) {
                    return CloseReason::Shutdown;
                }
            }
            if let Some(e) = broken {
                self.stats.framing_errors.fetch_add(1, Ordering::Relaxed);
                if let Some(suppressed) = may_log(&self.log, self.exporter) {
                    warn!(
                        exporter = %self.exporter,
                        peer = %self.peer,
                        offset = e.offset(),
                        suppressed = (suppressed > 0).then_some(suppressed),
                        "Closing an IPFIX connection whose stream cannot be split into messages: {e}."
                    );
                }
                return CloseReason::Framing;
            }
        }
    }

    /// The reason to report for a connection that stopped reading for `reason`, after counting the message
    /// it ends in the middle of, if any. Once the collector stops, every end is a shutdown.
    fn end(&self, reason: CloseReason, framer: &MessageFramer) -> CloseReason {
        let (reason, lost) = if self.stop.load(Ordering::Relaxed) {
            (CloseReason::Shutdown, TcpDropReason::Shutdown)
        } else {
            (reason, TcpDropReason::Incomplete)
        };
        if framer.buffered() > 0 {
            self.stats.dropped(lost, 1);
        }
        reason
    }

    /// Hands a read's messages to the shard, waiting as long as its queue is full (see the module's doc).
    /// False if the collector stopped first: the messages are then dropped and counted.
    fn hand_over(&self, mut batch: RawBatch) -> bool {
        let mut pause = PAUSE_MIN;
        let mut waited = false;
        loop {
            match self.shard.offer(batch) {
                Ok(()) => return true,
                Err(b) => batch = b,
            }
            if self.stop.load(Ordering::Relaxed) {
                self.stats.dropped(TcpDropReason::Shutdown, batch.len() as u64);
                return false;
            }
            if !waited {
                waited = true;
                self.stats.queue_waits.fetch_add(1, Ordering::Relaxed);
            }
            thread::sleep(pause);
            pause = (pause * 2).min(PAUSE_MAX);
        }
    }

    fn warn_error(&self, e: &io::Error) {
        if let Some(suppressed) = may_log(&self.log, self.exporter) {
            warn!(
                exporter = %self.exporter,
                peer = %self.peer,
                error = %e,
                suppressed = (suppressed > 0).then_some(suppressed),
                "Cannot read an IPFIX connection; closing it."
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ratelimit::RateLimiter;
    use crate::serve::queue::{QueueRx, queue};
    use crate::serve::tcp_listener::ConnectionSlots;
    use std::io::Write;
    use std::net::TcpListener;
    use std::path::Path;
    use std::sync::Mutex;
    use std::time::Instant;

    /// The three messages of an RFC 5655 file: 484, 64 and 240 bytes.
    fn ipfix_file() -> Vec<u8> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fixtures/captures/logstash-codec-netflow/ipfix.dat");
        std::fs::read(path).unwrap()
    }

    fn wait_until(what: &str, cond: impl Fn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while !cond() {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            thread::sleep(Duration::from_millis(2));
        }
    }

    /// A connection thread reading from a loopback socket, and the other ends.
    struct Harness {
        client: TcpStream,
        server: TcpStream,
        stats: Arc<TcpStats>,
        rx: QueueRx,
        stop: Arc<AtomicBool>,
        handle: JoinHandle<()>,
    }

    fn connect(queue_batches: usize, idle_timeout: Duration) -> Harness {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        client.set_nodelay(true).unwrap();
        let (stream, peer) = listener.accept().unwrap();
        let server = stream.try_clone().unwrap();
        let stats = Arc::new(TcpStats::new(listener.local_addr().unwrap()));
        let (tx, rx) = queue(queue_batches, 1 << 20);
        let stop = Arc::new(AtomicBool::new(false));
        let connection = Connection {
            stream,
            peer,
            exporter: peer.ip(),
            _slot: ConnectionSlots::new(1).take(&stats).unwrap(),
            stats: stats.clone(),
            shard: tx,
            idle_timeout,
            stop: stop.clone(),
            log: Arc::new(Mutex::new(RateLimiter::new(5, 1))),
        };
        let handle = connection.spawn().unwrap();
        Harness {
            client,
            server,
            stats,
            rx,
            stop,
            handle,
        }
    }

    /// Every message handed over so far, in order.
    fn drain(rx: &QueueRx) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        while let Ok(batch) = rx.channel().try_recv() {
            rx.done(&batch);
            out.extend(batch.iter().map(|(_, m)| m.to_vec()));
        }
        out
    }

    impl Harness {
        fn messages(&self) -> Vec<Vec<u8>> {
            drain(&self.rx)
        }

        /// Waits for the thread to end; its counters and the messages it handed over.
        fn finish(self) -> (Arc<TcpStats>, Vec<Vec<u8>>) {
            let Self {
                stats, rx, handle, ..
            } = self;
            handle.join().unwrap();
            assert_eq!(stats.open.load(Ordering::Relaxed), 0, "the slot is given back");
            (stats, drain(&rx))
        }
    }

    fn drops(stats: &TcpStats) -> [u64; 2] {
        TcpDropReason::ALL.map(|r| stats.drops_of(r))
    }

    #[test]
    fn hands_over_messages_split_across_reads() {
        let file = ipfix_file();
        let mut h = connect(64, Duration::from_secs(5));
        for piece in file.chunks(7) {
            h.client.write_all(piece).unwrap();
            thread::sleep(Duration::from_micros(200));
        }
        h.client.shutdown(Shutdown::Write).unwrap();
        let (stats, messages) = h.finish();
        assert_eq!(messages.iter().map(Vec::len).collect::<Vec<_>>(), [484, 64, 240]);
        assert_eq!(messages.concat(), file);
        assert_eq!(stats.messages.load(Ordering::Relaxed), 3);
        assert_eq!(stats.bytes.load(Ordering::Relaxed), 788);
        assert_eq!(stats.closes_of(CloseReason::Eof), 1);
        assert_eq!(stats.framing_errors.load(Ordering::Relaxed), 0);
        assert_eq!(drops(&stats), [0, 0]);
    }

    #[test]
    fn closes_a_stream_that_cannot_be_framed_after_handing_over_what_came_before() {
        let file = ipfix_file();
        // A NetFlow v9 header (v9 has no stream framing), and an IPFIX length shorter than a header.
        for garbage in [&[0u8, 9, 0, 1, 0, 0, 0, 0][..], &[0, 10, 0, 15, 0, 0]] {
            let mut h = connect(64, Duration::from_secs(5));
            let mut stream = file[..484].to_vec();
            stream.extend_from_slice(garbage);
            h.client.write_all(&stream).unwrap();
            let mut rest = Vec::new();
            h.client.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let closed = h.client.read_to_end(&mut rest);
            assert!(
                closed.is_ok() || closed.is_err_and(|e| e.kind() == io::ErrorKind::ConnectionReset),
                "the server closes the connection"
            );
            let (stats, messages) = h.finish();
            assert_eq!(messages, [file[..484].to_vec()], "{garbage:?}");
            assert_eq!(stats.framing_errors.load(Ordering::Relaxed), 1);
            assert_eq!(stats.closes_of(CloseReason::Framing), 1);
            assert_eq!(stats.messages.load(Ordering::Relaxed), 1);
            assert_eq!(drops(&stats), [0, 0]);
        }
    }

    #[test]
    fn counts_a_message_cut_short_by_the_close() {
        let file = ipfix_file();
        let mut h = connect(64, Duration::from_secs(5));
        h.client.write_all(&file[..500]).unwrap();
        h.client.shutdown(Shutdown::Write).unwrap();
        let (stats, messages) = h.finish();
        assert_eq!(messages.len(), 1);
        assert_eq!(stats.closes_of(CloseReason::Eof), 1);
        assert_eq!(stats.drops_of(TcpDropReason::Incomplete), 1);
    }

    #[test]
    fn closes_silent_connections() {
        let h = connect(64, Duration::from_millis(50));
        let started = Instant::now();
        let (stats, messages) = h.finish();
        assert!(started.elapsed() >= Duration::from_millis(50));
        assert!(messages.is_empty());
        assert_eq!(stats.closes_of(CloseReason::Idle), 1);
        assert_eq!(drops(&stats), [0, 0]);
    }

    #[test]
    fn stops_reading_while_the_queue_is_full_and_loses_nothing() {
        let file = ipfix_file();
        let (first, second, third) = (&file[..484], &file[484..548], &file[548..]);
        let mut h = connect(1, Duration::from_secs(5));
        h.client.write_all(first).unwrap();
        wait_until("the first batch", || h.rx.len() == 1);
        h.client.write_all(second).unwrap();
        wait_until("a wait", || h.stats.queue_waits.load(Ordering::Relaxed) == 1);
        assert_eq!(h.messages(), [first.to_vec()]);
        wait_until("the second batch", || h.rx.len() == 1);
        h.client.write_all(third).unwrap();
        h.client.shutdown(Shutdown::Write).unwrap();
        let mut got = h.messages();
        wait_until("the third batch", || h.rx.len() == 1 || h.handle.is_finished());
        let (stats, rest) = h.finish();
        got.extend(rest);
        assert_eq!(got, [second.to_vec(), third.to_vec()]);
        assert_eq!(stats.closes_of(CloseReason::Eof), 1);
        assert_eq!(drops(&stats), [0, 0]);
    }

    #[test]
    fn drops_and_counts_messages_waiting_when_stopped() {
        let file = ipfix_file();
        let mut h = connect(1, Duration::from_secs(5));
        h.client.write_all(&file[..484]).unwrap();
        wait_until("the first batch", || h.rx.len() == 1);
        h.client.write_all(&file[484..]).unwrap();
        wait_until("a wait", || h.stats.queue_waits.load(Ordering::Relaxed) == 1);
        h.stop.store(true, Ordering::Relaxed);
        let (stats, messages) = h.finish();
        assert_eq!(messages, [file[..484].to_vec()]);
        assert_eq!(stats.closes_of(CloseReason::Shutdown), 1);
        // The second and third messages came in one read or two: the first wait holds at least one.
        assert!(stats.drops_of(TcpDropReason::Shutdown) >= 1);
        assert_eq!(stats.drops_of(TcpDropReason::Incomplete), 0);
    }

    #[test]
    fn a_shut_down_socket_ends_its_blocked_read_as_a_shutdown() {
        let file = ipfix_file();
        let mut h = connect(64, Duration::from_secs(60));
        h.client.write_all(&file[..100]).unwrap();
        wait_until("the bytes", || h.stats.bytes.load(Ordering::Relaxed) == 100);
        h.stop.store(true, Ordering::Relaxed);
        h.server.shutdown(Shutdown::Both).unwrap();
        let (stats, messages) = h.finish();
        assert!(messages.is_empty());
        assert_eq!(stats.closes_of(CloseReason::Shutdown), 1);
        assert_eq!(
            drops(&stats),
            [0, 1],
            "the message in the middle counts as a shutdown loss"
        );
    }
}
