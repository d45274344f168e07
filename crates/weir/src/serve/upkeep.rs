//! The store's upkeep thread: merges the small parts that each flush leaves, and deletes what is past a
//! table's retention, beside the sink so that a long merge never holds up the flows. It runs once at
//! start (a store closed for a while may hold expired partitions) and then every [`INTERVAL`].

use std::io;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError};
use tracing::{debug, info, warn};
use weir_store::{Maintenance, now_ns};

/// How often merges and retention are looked at. Parts pile up at one per second and table partition at
/// most, so this keeps a partition within a few dozen files.
pub(crate) const INTERVAL: Duration = Duration::from_secs(15);

/// Starts the thread; it ends when `stop` is dropped or sent to, after the run in progress.
pub fn spawn(maintenance: Maintenance, stop: Receiver<()>) -> io::Result<JoinHandle<()>> {
    thread::Builder::new().name("weir-upkeep".into()).spawn(move || {
        loop {
            run_once(&maintenance);
            match stop.recv_timeout(INTERVAL) {
                Err(RecvTimeoutError::Timeout) => {}
                Ok(()) | Err(RecvTimeoutError::Disconnected) => break,
            }
        }
    })
}

/// One run. Errors are counted by the store (`maintenance_errors`) and retried at the next run; at one
/// run per interval, logging each is already rate-limited.
fn run_once(maintenance: &Maintenance) {
    match maintenance.run(now_ns()) {
        Ok(report) => {
            for (from, to) in &report.quarantined {
                warn!(
                    file = %from.display(),
                    moved_to = %to.display(),
                    "Quarantined an unreadable store file found while merging."
                );
            }
            if !report.expired.is_empty() {
                info!(
                    files = report.expired.len(),
                    "Deleted store files past their table's retention."
                );
            }
            if !report.merged.is_empty() {
                debug!(files = report.merged.len(), "Merged store parts.");
            }
        }
        Err(e) => warn!(error = %e, "Store upkeep failed; it is retried at the next run."),
    }
}
