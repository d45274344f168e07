//! Decoder shards: each thread owns one [`Decoder`] and the exporters hashed to it, so template state needs
//! no locks. A shard decodes the receiver's batches into [`FlowBatch`]es for the sink, checks now and then
//! for data that waited too long for its template, and publishes its exporters' counters for `/metrics`.

use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use tracing::warn;
use weir_flow::FlowBatch;
use weir_flow::time::NANOS_PER_SEC;
use weir_proto::{Counters, Decoder, DomainKey, Limits};

use super::queue::QueueRx;
use crate::clock::now;
use crate::ratelimit::{RateLimiter, Verdict};

/// Flows a batch collects before it goes to the sink.
const FLUSH_ROWS: usize = 4096;
/// How long flows wait for more before they go to the sink anyway.
const FLUSH_AFTER: Duration = Duration::from_millis(200);
/// How often counters are published and pending data expired.
const PUBLISH_EVERY: Duration = Duration::from_secs(1);
/// Decode errors logged per exporter per interval.
const LOG_BURST: u32 = 5;
const LOG_INTERVAL: u64 = 60 * NANOS_PER_SEC;

/// What a shard shows the rest of the collector.
#[derive(Debug, Default)]
pub struct ShardState {
    /// Its exporters' counters as of the last publication.
    counters: Mutex<Vec<(DomainKey, Counters)>>,
}

impl ShardState {
    /// The last published counters.
    pub fn counters(&self) -> Vec<(DomainKey, Counters)> {
        self.counters
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Replaces the published counters.
    pub fn publish(&self, counters: Vec<(DomainKey, Counters)>) {
        *self.counters.lock().unwrap_or_else(PoisonError::into_inner) = counters;
    }
}

/// A copy of every domain's counters.
fn snapshot(decoder: &Decoder) -> Vec<(DomainKey, Counters)> {
    decoder.domains().map(|(k, d)| (*k, d.counters.clone())).collect()
}

/// One decoder thread's ends.
#[derive(Debug)]
pub struct Shard {
    /// Datagrams from the receiver.
    pub input: QueueRx,
    /// Flows to the sink.
    pub output: Sender<FlowBatch>,
    /// Emptied batches coming back from the sink, to reuse their allocations.
    pub recycled: Receiver<FlowBatch>,
    /// Where counters are published.
    pub state: Arc<ShardState>,
    /// The decoder's bounds.
    pub limits: Limits,
}

impl Shard {
    /// Starts the thread. It ends, after handing over its last flows, when every receiver is gone.
    pub fn spawn(self, name: String) -> std::io::Result<JoinHandle<()>> {
        thread::Builder::new().name(name).spawn(move || self.run())
    }

    fn run(self) {
        let mut decoder = Decoder::new(self.limits.clone());
        let mut limiter = RateLimiter::new(LOG_BURST, LOG_INTERVAL);
        let mut flows = self.fresh_batch();
        let mut last_flush = Instant::now();
        let mut last_publish = Instant::now();
        let mut writer_gone = false;
        loop {
            match self.input.channel().recv_timeout(FLUSH_AFTER) {
                Ok(batch) => {
                    for (exporter, datagram) in batch.iter() {
                        let outcome = decoder.decode(exporter, batch.received, datagram, &mut flows);
                        if let Some(e) = outcome.error {
                            log_error(&mut limiter, exporter, &outcome.domain, &e);
                        }
                    }
                    self.input.done(&batch);
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            if flows.len() >= FLUSH_ROWS || (!flows.is_empty() && last_flush.elapsed() >= FLUSH_AFTER) {
                let full = std::mem::replace(&mut flows, self.fresh_batch());
                if self.output.send(full).is_err() && !writer_gone {
                    writer_gone = true;
                    warn!("The flow writer stopped; flows are being discarded.");
                }
                last_flush = Instant::now();
            }
            if last_publish.elapsed() >= PUBLISH_EVERY {
                decoder.expire(now());
                self.state.publish(snapshot(&decoder));
                last_publish = Instant::now();
            }
        }
        if !flows.is_empty() {
            let _ = self.output.send(flows);
        }
        for (exporter, n) in limiter.take_suppressed() {
            warn!(exporter = %exporter, suppressed = n, "More decode errors from this exporter were not logged.");
        }
        self.state.publish(snapshot(&decoder));
    }

    fn fresh_batch(&self) -> FlowBatch {
        self.recycled
            .try_recv()
            .unwrap_or_else(|_| FlowBatch::with_capacity(FLUSH_ROWS))
    }
}

fn log_error(
    limiter: &mut RateLimiter<IpAddr>,
    exporter: IpAddr,
    domain: &DomainKey,
    e: &weir_proto::DecodeError,
) {
    if let Verdict::Log { suppressed } = limiter.check(&exporter, now()) {
        warn!(
            exporter = %exporter,
            dialect = %domain.dialect,
            domain = domain.domain,
            offset = e.offset(),
            suppressed = (suppressed > 0).then_some(suppressed),
            "Cannot decode datagram: {e}."
        );
    }
}
