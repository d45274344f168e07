//! The engine's limits: a statement past its time or its row limit fails with a typed error, and a store
//! directory that is not there is refused at open.

mod query_common;

use std::time::Duration;

use query_common::{Dir, HOUR, NOW, T0, flows, write_store};
use weir_query::backend::{BackendErrorKind, TimeRange};
use weir_query::plan::{Flows, Kind, Order, Query, QueryError, Table, run_at};
use weir_store::engine::{Embedded, EngineConfig, EngineError};

fn listing(limit: usize) -> Query {
    Query::new(
        TimeRange::new(T0, T0 + 3 * HOUR),
        Kind::Flows(Flows {
            order: Order::default(),
            limit,
            offset: 0,
        }),
    )
}

fn engine(dir: &Dir, config: EngineConfig) -> Embedded {
    Embedded::with_config(&dir.0, config, Table::defaults()).expect("engine")
}

fn kind_of(result: Result<weir_query::plan::Answer, QueryError>) -> BackendErrorKind {
    match result {
        Err(QueryError::Backend { source, .. }) => source.kind,
        other => panic!("expected a backend error, got {other:?}"),
    }
}

#[test]
fn statements_past_their_limits_fail_with_the_limit_named() {
    let dir = Dir::new("limits");
    write_store(&dir.0, &flows(2000), 1);
    let tables = Table::defaults();

    let slow = engine(
        &dir,
        EngineConfig {
            time_limit: Duration::from_nanos(1),
            ..EngineConfig::default()
        },
    );
    assert_eq!(
        kind_of(run_at(&slow, &tables, &listing(1000), NOW)),
        BackendErrorKind::Timeout
    );

    let small = engine(
        &dir,
        EngineConfig {
            max_rows: 50,
            ..EngineConfig::default()
        },
    );
    let e = run_at(&small, &tables, &listing(51), NOW).unwrap_err();
    assert_eq!(e.to_string(), "flows: answer too large: more than 50 rows");
    assert_eq!(
        run_at(&small, &tables, &listing(50), NOW)
            .expect("within the limit")
            .rows
            .len(),
        50
    );
}

#[test]
fn a_missing_store_is_refused_at_open() {
    let dir = Dir::new("missing");
    let gone = dir.0.join("nothing-here");
    match Embedded::open(&gone) {
        Err(EngineError::NoStore(path)) => assert_eq!(path, gone),
        other => panic!("expected NoStore, got {other:?}"),
    }
}

#[test]
fn an_empty_store_answers_zero() {
    let dir = Dir::new("empty");
    let engine = engine(&dir, EngineConfig::default());
    let answer = run_at(
        &engine,
        &Table::defaults(),
        &Query::new(TimeRange::new(T0, T0 + HOUR), Kind::Summary),
        NOW,
    )
    .expect("answered");
    assert_eq!(answer.rows.len(), 1, "the total row alone");
    assert_eq!(
        answer.rows[0][2..5],
        [0u64, 0, 0].map(weir_query::backend::Value::U64)
    );
    assert!(
        run_at(&engine, &Table::defaults(), &listing(10), NOW)
            .expect("answered")
            .rows
            .is_empty()
    );
}

#[test]
fn async_callers_get_an_error_instead_of_a_panic_and_may_drop_the_engine() {
    let dir = Dir::new("async");
    write_store(&dir.0, &flows(100), 1);
    let outer = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    outer.block_on(async {
        let engine = engine(&dir, EngineConfig::default());
        let e = run_at(&engine, &Table::defaults(), &listing(10), NOW).unwrap_err();
        assert_eq!(
            e.to_string(),
            "flows: query engine error: queries block: run them on a blocking thread, not in async code"
        );
        drop(engine);
    });
}
