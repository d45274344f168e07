//! Helpers shared by the tests that run the `weir` binary.

// Each test file uses some of these; a failed unwrap in a helper is a failed test.
#![allow(dead_code, clippy::unwrap_used)]

pub mod server;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

/// The binary under test.
pub fn weir() -> Command {
    Command::new(env!("CARGO_BIN_EXE_weir"))
}

/// Runs `weir` with `args` and returns what it did.
pub fn run(args: &[&str]) -> Output {
    weir().args(args).output().expect("weir runs")
}

/// A file of the test captures.
pub fn fixture(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/captures")
        .join(rel)
        .to_string_lossy()
        .into_owned()
}

/// A directory of its own for one test, removed afterwards.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> Self {
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("weir-test-{}-{n}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    pub fn path(&self, file: &str) -> String {
        self.0.join(file).to_string_lossy().into_owned()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// The NDJSON lines of `text`, parsed.
pub fn flows(text: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(text)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// `weir query --data DIR ARGS --format json` over all time, parsed.
pub fn query(data: &str, args: &[&str]) -> Vec<serde_json::Value> {
    let out = weir()
        .args([
            "query", "--data", data, "--from", "0", "--to", "now", "--format", "json",
        ])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    flows(&out.stdout)
}

/// Flows without the fields that depend on how and when they were received (the receive time, flow times
/// taken from it, as sFlow's are, and the exporter address), sorted, for comparing the flows of one capture
/// decoded from a file and received over the network.
pub fn comparable(mut flows: Vec<serde_json::Value>) -> Vec<String> {
    let mut out: Vec<String> = flows
        .iter_mut()
        .map(|f| {
            let o = f.as_object_mut().unwrap();
            let received = o.remove("time_received");
            for time in ["flow_start", "flow_end"] {
                if o.get(time) == received.as_ref() {
                    o.remove(time);
                }
            }
            o.remove("exporter_addr");
            serde_json::to_string(o).unwrap()
        })
        .collect();
    out.sort();
    out
}
