//! Queries that run while the upkeep merges the very files they read: a merge writes its output before it
//! deletes its inputs, so a query may list files that vanish before it reads them, or find the output beside
//! inputs not yet deleted. Every answer must still count every flow exactly once.

mod query_common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use query_common::{Dir, HOUR, NOW, T0, bytes, flows, records};
use weir_flow::FlowBatch;
use weir_query::backend::{TimeRange, Value};
use weir_query::plan::{Agg, Dim, Kind, Metric, Query, Table, TopN, Unit, run_at};
use weir_store::engine::{Embedded, EngineConfig};
use weir_store::{Store, StoreConfig, layout};

/// Flushes per round: each writes a part into every hourly partition.
const FLUSHES: usize = 16;
/// Rounds of writing parts and merging them under running queries.
const ROUNDS: usize = 4;

/// A store in `dir` that flushes and merges (`merge_parts` parts at a time) only when told to.
fn manual(dir: &Dir, tables: &[Table], merge_parts: usize) -> StoreConfig {
    StoreConfig {
        dir: dir.0.clone(),
        tables: tables.to_vec(),
        flush_interval: Duration::MAX,
        min_free_bytes: 0,
        merge_parts,
        settle: Duration::ZERO,
        ..StoreConfig::default()
    }
}

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
        let config = manual(&dir, &tables, 4);
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

#[test]
fn subnet_pairs_are_ranked_among_the_merged_files_heaviest() {
    let batch = flows(30_000);
    let all = records(&batch);
    let tables = vec![Table::raw(None)];
    let range = TimeRange::new(T0, T0 + 3 * HOUR);
    let dir = Dir::new("merged-pairs");
    let config = manual(&dir, &tables, 2);
    let (mut store, _) = Store::open(config).expect("store");
    for first in 0..2 {
        let mut piece = FlowBatch::new();
        for i in (first..batch.len()).step_by(2) {
            piece.push_from(&batch, i);
        }
        store.append(&piece).expect("append");
        store.flush().expect("flush");
    }
    let engine = Embedded::with_config(&dir.0, EngineConfig::default(), tables.clone()).expect("engine");
    let pairs = Query::new(
        range,
        Kind::TopN(TopN {
            dims: vec![Dim::SrcNet, Dim::DstNet],
            by: Metric::Bytes,
            unit: Unit::Total,
            agg: Agg::Total,
            step: None,
            limit: 5,
            other: true,
        }),
    );
    // Flushes' parts have no lists of pairs: every pair is ranked.
    let before = run_at(&engine, &tables, &pairs, NOW).expect("answered");
    assert!(!before.statements[0].contains(" IN ("), "{:?}", before.statements);
    assert!(!store.maintain(NOW).expect("merged").merged.is_empty());
    let after = run_at(&engine, &tables, &pairs, NOW).expect("answered");
    assert!(
        after.statements[0].contains(" IN (") && after.statements.len() == 2,
        "the candidates' ranking stood: {:?}",
        after.statements
    );
    assert_eq!(after.rows, before.rows);

    let cut = |a: std::net::Ipv6Addr, m: u8| {
        let (addr, len) = weir_query::plan::net(a, m, 24, 48);
        format!("{addr}/{len}")
    };
    let mut sums: HashMap<(String, String), u64> = HashMap::new();
    for r in &all {
        *sums
            .entry((cut(r.src_addr, r.src_mask), cut(r.dst_addr, r.dst_mask)))
            .or_default() += bytes(r);
    }
    let mut want: Vec<((String, String), u64)> = sums.into_iter().collect();
    want.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let got: Vec<((String, String), u64)> = after.rows[..5]
        .iter()
        .map(|r| match (&r[0], &r[1], &r[2]) {
            (Value::Str(s), Value::Str(d), v) => ((s.clone(), d.clone()), v.as_u64().expect("bytes")),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(got, want[..5]);
}
