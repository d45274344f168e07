//! The sink: one thread taking the shards' flows into the store and, if asked, into an NDJSON copy, buffered
//! and flushed whenever the queue goes quiet. When a store flush is due, the sink hands what it holds to the
//! flush thread, which writes it (so flows become durable and queryable within the flush interval) while the
//! sink goes on appending: encoding a second of flows takes about as long as receiving them. A flush that
//! comes due while the last is still being written waits, and the sink keeps appending to it. When every
//! shard is gone the sink waits for the flush thread, flushes both outputs and closes the store.

use std::fs::{self, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use tracing::{error, info, warn};
use weir_flow::FlowBatch;
use weir_flow::time::NANOS_PER_SEC;
use weir_store::{Flush, FlushWriter, Recovery, Store};

use super::config::Output;
use crate::clock::now;
use crate::flow_output::write_ndjson;
use crate::ratelimit::{RateLimiter, Verdict};

/// How long the sink waits for a batch before it looks at the clock: the NDJSON copy is flushed when the
/// queue has been quiet this long, and a store flush is never late by more.
const TICK: Duration = Duration::from_millis(100);

/// The sink's counters, shared with `/metrics`.
#[derive(Debug, Default)]
pub struct SinkStats {
    /// Flows taken from the queue.
    pub flows: AtomicU64,
    /// Failed writes to the NDJSON copy (each may lose the flows of one batch).
    pub errors: AtomicU64,
}

/// Opens the NDJSON copy: standard output, or a file appended to, its directory made if needed.
pub fn open(output: &Output) -> io::Result<Box<dyn Write + Send>> {
    match output {
        Output::Stdout => Ok(Box::new(io::stdout())),
        Output::File(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                fs::create_dir_all(dir)?;
            }
            Ok(Box::new(OpenOptions::new().create(true).append(true).open(path)?))
        }
    }
}

/// Where the sink puts flows.
pub struct Outputs {
    /// The embedded store.
    pub store: Option<Store>,
    /// The NDJSON copy.
    pub ndjson: Option<Box<dyn Write + Send>>,
}

/// The writer thread's ends.
#[derive(Debug)]
pub struct Sink {
    /// Flows from the shards.
    pub input: Receiver<FlowBatch>,
    /// Emptied batches back to the shards.
    pub recycle: Sender<FlowBatch>,
    /// Its counters.
    pub stats: Arc<SinkStats>,
}

impl Sink {
    /// Starts the thread; it ends, after flushing, when every shard is gone.
    pub fn spawn(self, outputs: Outputs) -> io::Result<JoinHandle<()>> {
        thread::Builder::new()
            .name("weir-sink".into())
            .spawn(move || self.run(outputs))
    }

    fn run(self, outputs: Outputs) {
        let Outputs { mut store, ndjson } = outputs;
        let flusher = match &store {
            Some(store) => match Flusher::spawn(store.writer()) {
                Ok(flusher) => Some(flusher),
                Err(e) => {
                    // Flushing on this thread still stores every flow, only with pauses in appending.
                    warn!(error = %e, "Cannot start the flush thread; the sink flushes the store itself.");
                    None
                }
            },
            None => None,
        };
        let mut out = ndjson.map(|o| BufWriter::with_capacity(1 << 20, o));
        let mut write_errors = RateLimiter::new(1, 10 * NANOS_PER_SEC);
        let mut store_errors = RateLimiter::new(1, 10 * NANOS_PER_SEC);
        loop {
            match self.input.recv_timeout(TICK) {
                Ok(mut batch) => {
                    self.stats.flows.fetch_add(batch.len() as u64, Ordering::Relaxed);
                    if let Some(store) = &mut store
                        && let Err(e) = store.append(&batch)
                    {
                        // Counted by the store (dropped flows); logged here at most every few seconds.
                        if let Verdict::Log { suppressed } = store_errors.check(&(), now()) {
                            warn!(error = %e, suppressed, "Cannot store flows.");
                        }
                    }
                    if let Some(out) = &mut out
                        && let Err(e) = write_ndjson(out, &batch)
                    {
                        self.write_error(&mut write_errors, &e);
                    }
                    batch.clear();
                    let _ = self.recycle.try_send(batch);
                }
                Err(RecvTimeoutError::Timeout) => {
                    if let Some(out) = &mut out
                        && let Err(e) = out.flush()
                    {
                        self.write_error(&mut write_errors, &e);
                    }
                }
                Err(RecvTimeoutError::Disconnected) => break,
            }
            if let Some(store) = &mut store
                && store.flush_due()
            {
                // A failed flush keeps its flows for the next one; the store counts and logs it.
                match &flusher {
                    Some(flusher) if flusher.idle() => {
                        if let Err(flush) = flusher.hand(store.take()) {
                            let _ = store.writer().write(flush);
                        }
                    }
                    Some(_) => {}
                    None => {
                        let _ = store.flush();
                    }
                }
            }
        }
        if let Some(flusher) = flusher {
            flusher.finish();
        }
        if let Some(mut out) = out
            && let Err(e) = out.flush()
        {
            self.stats.errors.fetch_add(1, Ordering::Relaxed);
            warn!(error = %e, "Cannot write the last flows as NDJSON.");
        }
        if let Some(store) = store {
            close(store);
        }
    }

    fn write_error(&self, limiter: &mut RateLimiter<()>, e: &io::Error) {
        self.stats.errors.fetch_add(1, Ordering::Relaxed);
        if let Verdict::Log { suppressed } = limiter.check(&(), now()) {
            warn!(error = %e, suppressed, "Cannot write flows as NDJSON.");
        }
    }
}

/// The thread that writes the store's flushes, one at a time.
struct Flusher {
    work: Sender<Flush>,
    thread: JoinHandle<()>,
}

impl Flusher {
    fn spawn(writer: FlushWriter) -> io::Result<Flusher> {
        let (work, flushes) = crossbeam_channel::bounded::<Flush>(1);
        let thread = thread::Builder::new().name("weir-flush".into()).spawn(move || {
            for flush in flushes {
                // Counted and logged by the store; what failed is kept for the next write.
                let _ = writer.write(flush);
            }
        })?;
        Ok(Flusher { work, thread })
    }

    /// Whether the last flush handed over has been taken up, so that another can wait in line. A flush
    /// comes due again every tick until then, so the sink's buffer grows instead of the queue of flushes.
    fn idle(&self) -> bool {
        self.work.is_empty()
    }

    /// Queues `flush` (there is room: the sink is the only sender and waits until the queue is empty), or
    /// gives it back if the thread is gone (it panicked), for the sink to write itself.
    fn hand(&self, flush: Flush) -> Result<(), Flush> {
        self.work.send(flush).map_err(|e| e.into_inner())
    }

    /// Waits until every flush handed over is written.
    fn finish(self) {
        drop(self.work);
        if self.thread.join().is_err() {
            error!("The flush thread panicked.");
        }
    }
}

/// Flushes what is buffered and closes the store, saying how it went.
fn close(store: Store) {
    let stats = store.stats();
    match store.close() {
        Ok(acknowledged) => info!(acknowledged, "Closed the store: every flow received is on disk."),
        Err(e) => error!(
            error = %e,
            dropped = stats.dropped_at_close.load(Ordering::Relaxed),
            "Closed the store without writing its last flows."
        ),
    }
}

/// Logs what opening the store found and repaired.
pub fn log_recovery(dir: &Path, recovery: &Recovery) {
    for (from, to, reason) in &recovery.quarantined {
        warn!(
            file = %from.display(),
            moved_to = %to.display(),
            reason = %reason,
            "Quarantined an unreadable store file."
        );
    }
    info!(
        dir = %dir.display(),
        files = recovery.files,
        unfinished_writes_removed = recovery.tmp_removed.len(),
        merge_leftovers_removed = recovery.leftovers_removed.len(),
        quarantined = recovery.quarantined.len(),
        "Opened the store."
    );
}
