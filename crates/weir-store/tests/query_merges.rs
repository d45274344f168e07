//! Queries that run while the upkeep merges the very files they read: a merge writes its output before it
//! deletes its inputs, so a query may list files that vanish before it reads them, or find the output beside
//! inputs not yet deleted. Every answer must still count every flow exactly once.

mod query_common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use query_common::{Dir, HOUR, NOW, T0, bytes, flows, records};
use weir_flow::FlowBatch;
use weir_query::backend::{TimeRange, Value};
use weir_query::plan::{Kind, Query, Table, run_at};
use weir_store::engine::{Embedded, EngineConfig};
use weir_store::{Store, StoreConfig, layout};

/// Flushes per round: each writes a part into every hourly partition.
const FLUSHES: usize = 16;
/// Rounds of writing parts and merging them under running queries.
const ROUNDS: usize = 4;

#[test]
fn answers_count_every_flow_once_while_parts_are_merged_under_them() {
    let batch = flows(4800);
    let all = records(&batch);
    let want_bytes: u64 = all.iter().map(bytes).sum();
    let want_flows: u64 = all.iter().map(|r| r.flows).sum();
    let tables = vec![Table::raw(None)];
    let range = TimeRange::new(T0, T0 + 3 * HOUR);
    let question = Query::new(range, Kind::Summary);
    for round in 0..ROUNDS {
        let dir = Dir::new(&format!("merges-{round}"));
        let config = StoreConfig {
            dir: dir.0.clone(),
            tables: tables.clone(),
            flush_interval: Duration::MAX,
            min_free_bytes: 0,
            merge_parts: 4,
            settle: Duration::ZERO,
            ..StoreConfig::default()
        };
        let (mut store, _) = Store::open(config).expect("store");
        // Every flush takes every FLUSHES-th flow, so each of the three hours gets a part per flush.
        for first in 0..FLUSHES {
            let mut piece = FlowBatch::new();
            for i in (first..batch.len()).step_by(FLUSHES) {
                piece.push_from(&batch, i);
            }
            store.append(&piece).expect("append");
            store.flush().expect("flush");
        }
        let parts = layout::files(&dir.0, "flows", range.from, range.to).expect("files");
        assert_eq!(parts.len(), 3 * FLUSHES, "a part per hour and flush");

        let engine = Embedded::with_config(&dir.0, EngineConfig::default(), tables.clone()).expect("engine");
        let merging = AtomicBool::new(true);
        let asked = AtomicBool::new(false);
        let answers = thread::scope(|s| {
            let asking = s.spawn(|| {
                let mut answers = 0;
                // Ask until the merge is over, and at least a few times.
                while merging.load(Ordering::Acquire) || answers < 3 {
                    asked.store(true, Ordering::Release);
                    let answer = run_at(&engine, &tables, &question, NOW).expect("answered during a merge");
                    assert!(answer.warnings.is_empty(), "{:?}", answer.warnings);
                    let total = &answer.rows[0];
                    let at = |name: &str| answer.column(name).expect("column");
                    assert_eq!(
                        (&total[at("flows")], &total[at("bytes")]),
                        (&Value::U64(want_flows), &Value::U64(want_bytes)),
                        "round {round}, answer {answers}"
                    );
                    answers += 1;
                }
                answers
            });
            // The merge starts once a query is on its way, so that the two overlap.
            while !asked.load(Ordering::Acquire) {
                thread::yield_now();
            }
            let report = store.maintain(NOW).expect("merged");
            merging.store(false, Ordering::Release);
            assert!(!report.merged.is_empty(), "the parts were merged");
            asking.join().expect("the asking thread")
        });
        assert!(answers >= 3);
        let after = layout::files(&dir.0, "flows", range.from, range.to).expect("files");
        assert_eq!(after.len(), 3, "one file per hour once merged: {after:?}");
    }
}
