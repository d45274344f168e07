//! A progress line on the terminal while a long query runs, so a scan of days of flows does not look hung.
//!
//! The line appears only when standard error is a terminal and the query has run for half a second, and
//! is erased when it ends: quick answers and piped output are left exactly as they are.

use std::io::{IsTerminal, Write};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// How long a query runs before the line appears, and how often it is redrawn.
const DELAY: Duration = Duration::from_millis(500);
const TICK: Duration = Duration::from_millis(200);

/// Runs `work`, showing the time it has taken so far on the terminal while it runs.
pub fn while_running<T>(work: impl FnOnce() -> T) -> T {
    if !std::io::stderr().is_terminal() {
        return work();
    }
    let (done, finished) = mpsc::channel::<()>();
    let start = Instant::now();
    let painter = thread::spawn(move || {
        let mut shown = false;
        let spinner = ['|', '/', '-', '\\'];
        let mut i = 0;
        loop {
            let wait = if shown { TICK } else { DELAY };
            if finished.recv_timeout(wait) != Err(mpsc::RecvTimeoutError::Timeout) {
                break;
            }
            shown = true;
            i += 1;
            let mut err = std::io::stderr().lock();
            let _ = write!(
                err,
                "\r{} scanning flows… {:.1} s",
                spinner[i % spinner.len()],
                start.elapsed().as_secs_f64()
            );
            let _ = err.flush();
        }
        if shown {
            let _ = write!(std::io::stderr(), "\r\x1b[2K");
        }
    });
    let result = work();
    let _ = done.send(());
    let _ = painter.join();
    result
}
