//! The sink: one thread writing the shards' flows as NDJSON, buffered, flushed whenever the queue goes
//! quiet and when the collector stops.

use std::fs::{self, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use tracing::warn;
use weir_flow::FlowBatch;
use weir_flow::time::NANOS_PER_SEC;

use super::config::Output;
use crate::clock::now;
use crate::flow_output::write_ndjson;
use crate::ratelimit::{RateLimiter, Verdict};

/// How long the queue may be quiet before buffered flows are flushed.
const IDLE_FLUSH: Duration = Duration::from_millis(500);

/// The sink's counters, shared with `/metrics`.
#[derive(Debug, Default)]
pub struct SinkStats {
    /// Flows written.
    pub flows: AtomicU64,
    /// Failed writes (each may lose the flows of one batch).
    pub errors: AtomicU64,
}

/// Opens the output: standard output, or a file appended to, its directory made if needed.
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
    pub fn spawn(self, out: Box<dyn Write + Send>) -> io::Result<JoinHandle<()>> {
        thread::Builder::new()
            .name("weir-sink".into())
            .spawn(move || self.run(out))
    }

    fn run(self, out: Box<dyn Write + Send>) {
        let mut out = BufWriter::with_capacity(1 << 20, out);
        let mut errors = RateLimiter::new(1, 10 * NANOS_PER_SEC);
        loop {
            let result = match self.input.recv_timeout(IDLE_FLUSH) {
                Ok(mut batch) => {
                    let written = write_ndjson(&mut out, &batch);
                    if written.is_ok() {
                        self.stats.flows.fetch_add(batch.len() as u64, Ordering::Relaxed);
                    }
                    batch.clear();
                    let _ = self.recycle.try_send(batch);
                    written
                }
                Err(RecvTimeoutError::Timeout) => out.flush(),
                Err(RecvTimeoutError::Disconnected) => break,
            };
            if let Err(e) = result {
                self.stats.errors.fetch_add(1, Ordering::Relaxed);
                if let Verdict::Log { suppressed } = errors.check(&(), now()) {
                    warn!(error = %e, suppressed, "Cannot write flows.");
                }
            }
        }
        if let Err(e) = out.flush() {
            self.stats.errors.fetch_add(1, Ordering::Relaxed);
            warn!(error = %e, "Cannot write the last flows.");
        }
    }
}
