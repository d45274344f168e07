//! Runs the filter fuzz body over its committed corpus, so that a normal test run catches what fuzzing once
//! found.

use std::path::Path;

#[test]
fn filter_corpus() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/filter");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("corpus entry").path();
        weir_query::fuzzing::filter(
            &std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
        );
        n += 1;
    }
    assert!(n > 0, "empty corpus in {}", dir.display());
}
