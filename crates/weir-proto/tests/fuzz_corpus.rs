//! Runs every fuzz body over its committed corpus, so that a normal test run catches what fuzzing once found.

use std::path::Path;

use weir_proto::fuzzing::decode_session;

fn run(target: &str, version: &[u8], skip_first_byte: bool) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus").join(target);
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let data = std::fs::read(entry.unwrap().path()).unwrap();
        if skip_first_byte {
            if let Some((&pick, rest)) = data.split_first() {
                decode_session(rest, &[0, [1, 5, 7, 8][usize::from(pick % 4)]]);
            }
        } else {
            decode_session(&data, version);
        }
        n += 1;
    }
    assert!(n > 0, "empty corpus in {}", dir.display());
}

#[test]
fn decoder_corpus() {
    run("decoder", &[], false);
}

#[test]
fn netflow_legacy_corpus() {
    run("netflow_legacy", &[], true);
}

#[test]
fn netflow_v9_corpus() {
    run("netflow_v9", &[0, 9], false);
}

#[test]
fn ipfix_corpus() {
    run("ipfix", &[0, 10], false);
}

#[test]
fn sflow_corpus() {
    run("sflow", &[0, 0, 0, 5], false);
}
