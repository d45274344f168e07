//! A full disk: ingestion stalls (flows stay buffered, then are dropped and counted), files already written
//! stay intact, and writing resumes when space returns. Runs in a small tmpfs mounted in a mount namespace
//! of its own (`unshare -Urm`), so that the disk really fills.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::*;
use weir_store::files::free_bytes;
use weir_store::{Store, StoreError};

/// Set in the child process: the tmpfs to run in.
const TMPFS: &str = "WEIR_STORE_TEST_TMPFS";

/// Runs `test` of this file again in a child process, inside a fresh 4 MiB tmpfs at a scratch directory.
fn in_small_tmpfs(test: &str) {
    let mnt = scratch(&test.replace("::", "-"));
    let exe = std::env::current_exe().unwrap();
    let script =
        r#"mount -t tmpfs -o size=4m weir-test "$0" && exec "$1" --exact "$2" --nocapture --test-threads=1"#;
    let status = Command::new("unshare")
        .args(["-Urm", "sh", "-c", script])
        .arg(&mnt)
        .arg(&exe)
        .arg(test)
        .env(TMPFS, &mnt)
        .status()
        .expect("unshare (util-linux) runs");
    assert!(status.success(), "{test} in a tmpfs failed (its output is above)");
}

/// Fills the file system holding `dir` to its last page; returns the file doing it.
fn fill(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    let mut f = File::create(&path).unwrap();
    for chunk in [1 << 16, 4096, 1] {
        let buf = vec![0u8; chunk];
        while f.write_all(&buf).is_ok() {}
    }
    let _ = f.sync_all();
    path
}

/// Every file under `dir` with its bytes.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    tree(dir)
        .into_iter()
        .map(|p| (p.clone(), fs::read(dir.join(&p)).unwrap()))
        .collect()
}

#[test]
fn a_full_disk_stalls_ingestion_until_space_returns() {
    let Ok(mnt) = std::env::var(TMPFS) else {
        return in_small_tmpfs("disk_full::a_full_disk_stalls_ingestion_until_space_returns");
    };
    let mnt = PathBuf::from(mnt);
    let dir = mnt.join("data");
    let mut c = config(&dir);
    c.max_buffer_flows = 12_000;
    let (mut store, _) = Store::open(c).unwrap();
    let stats = store.stats();
    store.append(&flows(T0, SEC / 10, 2_000)).unwrap();
    store.flush().unwrap();
    let before = snapshot(&dir);

    let ballast = fill(&mnt, "ballast");
    assert!(free_bytes(&mnt).unwrap() < 4096);
    store.append(&flows(T0 + 200 * SEC, SEC / 10, 5_000)).unwrap();
    let err = store.flush().unwrap_err();
    assert!(err.is_disk_full(), "{err}");
    assert!(
        err.to_string().contains("/data/flows/2026-11-22/13/part-"),
        "the error names the file: {err}"
    );
    assert_eq!(count(&stats, "stalled"), 1);
    assert_eq!(count(&stats, "buffer_flows"), 5_000);
    assert_eq!(acknowledged(&stats), 2_000);
    // Retried at each flush, still failing, still buffered.
    assert!(store.flush().is_err());
    assert_eq!(count(&stats, "flush_errors"), 2);
    // The buffer fills, then whole batches are dropped and counted.
    store.append(&flows(T0 + 700 * SEC, SEC / 10, 6_000)).unwrap();
    let dropped = store
        .append(&flows(T0 + 1300 * SEC, SEC / 10, 3_000))
        .unwrap_err();
    assert!(
        matches!(
            dropped,
            StoreError::BufferFull {
                buffered: 11_000,
                dropped: 3_000
            }
        ),
        "{dropped}"
    );
    assert_eq!(count(&stats, "dropped_buffer_full"), 3_000);
    assert_eq!(count(&stats, "flows_appended"), 16_000);
    // Nothing on disk was touched, and no half-written file is left.
    assert_eq!(snapshot(&dir), before);

    // Space returns: the next flush writes everything buffered.
    fs::remove_file(&ballast).unwrap();
    assert_eq!(store.flush().unwrap(), 13_000);
    assert_eq!(count(&stats, "stalled"), 0);
    assert_eq!(count(&stats, "buffer_flows"), 0);
    store.close().unwrap();
    let raw = read_table(&dir, "flows");
    assert_eq!(raw.num_rows(), 13_000);
    assert!(times(&raw).is_sorted());
    assert_eq!(
        sum(&read_table(&dir, "flows_1m"), "flows"),
        13_000,
        "rollups caught up too"
    );
    assert!(tree(&dir).iter().all(|p| !p.ends_with(".tmp")));
}

#[test]
fn the_space_reserve_stalls_before_the_disk_is_full() {
    let Ok(mnt) = std::env::var(TMPFS) else {
        return in_small_tmpfs("disk_full::the_space_reserve_stalls_before_the_disk_is_full");
    };
    let mnt = PathBuf::from(mnt);
    let dir = mnt.join("data");
    // A reserve of 1 MiB, with 512 KiB of ballast that takes the free space below it.
    let (store, _) = Store::open(config(&dir)).unwrap();
    drop(store);
    let free = free_bytes(&mnt).unwrap();
    let reserve = free - 1024 * 1024;
    let ballast = mnt.join("ballast");
    fs::write(&ballast, vec![0u8; 1536 * 1024]).unwrap();
    let mut c = config(&dir);
    c.min_free_bytes = reserve;
    let (mut store, _) = Store::open(c).unwrap();
    let stats = store.stats();
    store.append(&flows(T0, SEC, 1_000)).unwrap();
    match store.flush() {
        Err(StoreError::DiskFull {
            free,
            reserve: r,
            path,
        }) => {
            assert!(free < reserve && r == reserve, "{free} < {r}");
            assert!(path.starts_with(dir.join("flows")), "{}", path.display());
        }
        other => panic!("expected the reserve to stop the flush, got {other:?}"),
    }
    assert_eq!(count(&stats, "stalled"), 1);
    assert!(
        tree(&dir).is_empty(),
        "nothing written, not even a tmp file: {:?}",
        tree(&dir)
    );
    fs::remove_file(&ballast).unwrap();
    assert_eq!(store.flush().unwrap(), 1_000);
    assert_eq!(count(&stats, "stalled"), 0);
}
