//! Runs every fuzz body over its committed corpus, so that a normal test run catches what fuzzing once found.

use std::path::Path;

use weir_proto::fuzzing;

fn run(target: &str, body: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("corpus entry").path();
        body(&std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())));
        n += 1;
    }
    assert!(n > 0, "empty corpus in {}", dir.display());
}

#[test]
fn decoder_corpus() {
    run("decoder", fuzzing::any);
}

#[test]
fn netflow_legacy_corpus() {
    run("netflow_legacy", fuzzing::netflow_legacy);
}

#[test]
fn netflow_v9_corpus() {
    run("netflow_v9", fuzzing::netflow_v9);
}

#[test]
fn ipfix_corpus() {
    run("ipfix", fuzzing::ipfix);
}

#[test]
fn sflow_corpus() {
    run("sflow", fuzzing::sflow);
}
