//! Embeds the web UI: every file under `ui/dist` (built by `npm run build` in `ui/`, and committed, so that
//! building Weir needs no Node.js) becomes a `(path, bytes, gzipped bytes)` entry of `UI_FILES` in
//! `$OUT_DIR/ui_files.rs`. Compressing here, once, spares the server compressing a megabyte of JavaScript
//! for every browser that loads the page.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::{env, fs};

use flate2::Compression;
use flate2::write::GzEncoder;

fn main() {
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let dist = manifest.join("../../ui/dist");
    println!("cargo::rerun-if-changed={}", dist.display());
    let mut files = Vec::new();
    if dist.is_dir() {
        walk(&dist, &mut files);
    }
    files.sort();
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").unwrap_or_default());
    let mut out =
        String::from("/// The web UI's files: path relative to `ui/dist`, contents, contents gzipped.\n");
    out.push_str("pub static UI_FILES: &[(&str, &[u8], &[u8])] = &[\n");
    for (i, path) in files.iter().enumerate() {
        let rel = path.strip_prefix(&dist).unwrap_or(path);
        let rel = rel.to_string_lossy().replace('\\', "/");
        let abs = path.canonicalize().unwrap_or_else(|_| path.clone());
        let gz = out_dir.join(format!("ui-{i}.gz"));
        let bytes = fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
        let compressed = encoder.write_all(&bytes).and_then(|()| encoder.finish());
        let compressed = compressed.unwrap_or_else(|e| panic!("cannot compress {}: {e}", path.display()));
        if let Err(e) = fs::write(&gz, compressed) {
            panic!("cannot write {}: {e}", gz.display());
        }
        out.push_str(&format!(
            "    ({rel:?}, include_bytes!({:?}), include_bytes!({:?})),\n",
            abs.display().to_string(),
            gz.display().to_string()
        ));
    }
    out.push_str("];\n");
    let dest = out_dir.join("ui_files.rs");
    if let Err(e) = fs::write(&dest, out) {
        panic!("cannot write {}: {e}", dest.display());
    }
}

/// Every file under `dir`, depth first; directories are watched for new files too.
fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
    println!("cargo::rerun-if-changed={}", dir.display());
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, files);
        } else {
            println!("cargo::rerun-if-changed={}", path.display());
            files.push(path);
        }
    }
}
