//! Golden files: every test capture decoded by `weir decode`, compared with the NDJSON and the per-exporter
//! summary checked in under `fixtures/golden/`. The expected files were read by eye once; regenerate them on
//! purpose with `WEIR_BLESS=1 cargo test -p weir --test golden`, and review the diff.

#![allow(clippy::unwrap_used)] // helpers fail the test on any unexpected error

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use common::weir;

fn captures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/captures")
}

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/golden")
}

/// One golden case: a capture, or the raw datagram files of one device in the order an exporter sends them.
#[derive(Debug)]
enum Case {
    Capture(PathBuf),
    Raw(Vec<PathBuf>),
}

/// The device a raw datagram file belongs to: its name without the `_tpl…`, `_opttpl…` or `_data…` part.
fn device_of(stem: &str) -> &str {
    ["_opttpl", "_tpl", "_data"]
        .iter()
        .filter_map(|m| stem.find(m))
        .min()
        .map_or(stem, |i| &stem[..i])
}

/// Every capture and every device's raw files, by case name.
fn cases() -> BTreeMap<String, Case> {
    let mut cases = BTreeMap::new();
    let mut raw: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    let mut walk = vec![captures_dir()];
    while let Some(dir) = walk.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let Some(ext) = path.extension().and_then(|e| e.to_str()) else {
                if path.is_dir() {
                    walk.push(path);
                }
                continue;
            };
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            match ext {
                "pcap" | "pcapng" => {
                    cases.insert(stem, Case::Capture(path));
                }
                "dat" | "bin" => raw.entry(device_of(&stem).to_owned()).or_default().push(path),
                _ => {}
            }
        }
    }
    for (device, mut files) in raw {
        // Templates before data, as exporters send them; otherwise by name.
        files.sort_by_key(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (!name.contains("tpl"), name)
        });
        cases.insert(device, Case::Raw(files));
    }
    cases
}

/// Runs `weir decode` on a case: the NDJSON flows and the summary printed on stderr.
fn decode(case: &Case) -> (String, String) {
    // Paths relative to the captures, so that the summaries do not depend on where the repository is.
    let relative = |p: &PathBuf| p.strip_prefix(captures_dir()).unwrap().to_owned();
    let mut cmd = weir();
    cmd.current_dir(captures_dir()).arg("decode");
    match case {
        Case::Capture(path) => cmd.arg(relative(path)),
        Case::Raw(files) => cmd
            .arg("--exporter")
            .arg("192.0.2.1")
            .arg("--raw")
            .args(files.iter().map(relative)),
    };
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{case:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn every_capture_decodes_to_its_golden_flows_and_summary() {
    let bless = std::env::var_os("WEIR_BLESS").is_some();
    fs::create_dir_all(golden_dir()).unwrap();
    let cases = cases();
    assert!(cases.len() > 40, "only {} cases found", cases.len());
    let mut failed = Vec::new();
    let mut expected_files = Vec::new();
    for (name, case) in &cases {
        let (flows, summary) = decode(case);
        for (suffix, got) in [("ndjson", &flows), ("summary.txt", &summary)] {
            let file = golden_dir().join(format!("{name}.{suffix}"));
            expected_files.push(file.clone());
            if bless {
                fs::write(&file, got).unwrap();
                continue;
            }
            match fs::read_to_string(&file) {
                Ok(want) if &want == got => {}
                Ok(_) => failed.push(format!("{} differs", file.display())),
                Err(e) => failed.push(format!("{}: {e}", file.display())),
            }
        }
    }
    for entry in fs::read_dir(golden_dir()).unwrap() {
        let path = entry.unwrap().path();
        if !expected_files.contains(&path) {
            failed.push(format!("{} has no capture any more", path.display()));
        }
    }
    assert!(
        failed.is_empty(),
        "golden files differ (rerun with WEIR_BLESS=1 and review the diff):\n{}",
        failed.join("\n")
    );
}
