//! How the planner turns a backend's rows into answers: zero-filled buckets, Other, rates, signs of
//! directions, comparisons, warnings, and backend answers it cannot use.

mod common;

use common::Recorder;
use weir_flow::Field;
use weir_query::backend::{BackendError, BackendErrorKind, Rows, TimeRange, Value};
use weir_query::filter::DataFusion;
use weir_query::plan::{
    Agg, Dim, Direction, Kind, Metric, Query, QueryError, Series, Table, TopN, Unit, run_at,
};

const S: u64 = 1_000_000_000;
const HOUR: u64 = 3600 * S;
/// 2024-10-04T00:00:00Z.
const NOW: u64 = 20_000 * 24 * HOUR;

fn top(limit: usize, agg: Agg, unit: Unit) -> Kind {
    Kind::TopN(TopN {
        dims: vec![Dim::Field(Field::dst_as)],
        by: Metric::Bytes,
        unit,
        agg,
        step: Some(60),
        limit,
        other: true,
    })
}

fn hour(kind: Kind) -> Query {
    Query::new(TimeRange::new(NOW - HOUR, NOW), kind)
}

#[test]
fn backend_errors_name_the_table_and_the_file() {
    let backend = Recorder::new(&DataFusion).then_fail(
        BackendError::new(BackendErrorKind::Io, "permission denied")
            .in_file("traffic_1h/2024-10/part-7.parquet"),
    );
    let e = run_at(&backend, &Table::defaults(), &hour(Kind::Summary), NOW).unwrap_err();
    assert!(matches!(&e, QueryError::Backend { table, .. } if table == "traffic_1h"));
    assert_eq!(
        e.to_string(),
        "traffic_1h: storage error in traffic_1h/2024-10/part-7.parquet: permission denied"
    );
}

#[test]
fn rows_of_the_wrong_shape_are_refused() {
    let backend = Recorder::new(&DataFusion).then(vec![vec![Value::U64(1), Value::U64(2)]]);
    let e = run_at(&backend, &Table::defaults(), &hour(Kind::Summary), NOW).unwrap_err();
    assert_eq!(
        e.to_string(),
        "traffic_1h: unexpected answer: a row of 2 values where 7 were asked for"
    );
    let text = Value::Str("many".into());
    let backend = Recorder::new(&DataFusion).then(vec![vec![Value::U64(15169), text]]);
    let e = run_at(
        &backend,
        &Table::defaults(),
        &hour(top(5, Agg::Total, Unit::Total)),
        NOW,
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .ends_with("Str(\"many\") where a count was expected"),
        "{e}"
    );
}

#[test]
fn warnings_of_every_statement_are_kept_once() {
    let warned = |rows: Vec<Vec<Value>>, warnings: &[&str]| Rows {
        columns: vec![],
        rows,
        warnings: warnings.iter().map(|w| w.to_string()).collect(),
    };
    let backend = Recorder::new(&DataFusion)
        .then_rows(warned(
            vec![vec![Value::U64(1), Value::U64(10)]],
            &["quarantined a"],
        ))
        .then_rows(warned(
            vec![vec![Value::U64(30)]],
            &["quarantined a", "quarantined b"],
        ));
    let answer = run_at(
        &backend,
        &Table::defaults(),
        &hour(top(1, Agg::Total, Unit::Total)),
        NOW,
    )
    .unwrap();
    assert_eq!(answer.warnings, ["quarantined a", "quarantined b"]);
    assert_eq!(
        answer.rows,
        [
            vec![Value::U64(1), Value::U64(10)],
            vec![Value::Null, Value::U64(20)]
        ]
    );
}

#[test]
fn other_is_zero_without_a_statement_when_fewer_keys_than_the_limit() {
    let backend = Recorder::new(&DataFusion).then(vec![vec![Value::U64(64500), Value::U64(7)]]);
    let answer = run_at(
        &backend,
        &Table::defaults(),
        &hour(top(2, Agg::Max, Unit::Total)),
        NOW,
    )
    .unwrap();
    assert_eq!(answer.statements.len(), 1);
    assert_eq!(answer.columns, ["dst_as", "bytes"]);
    assert_eq!(
        answer.rows,
        [
            vec![Value::U64(64500), Value::U64(7)],
            vec![Value::Null, Value::U64(0)]
        ]
    );
}

#[test]
fn other_by_maximum_is_the_largest_bucket_of_what_the_top_keys_leave() {
    let t = |m: u64| Value::Time(NOW - HOUR + m * 60 * S);
    let backend = Recorder::new(&DataFusion)
        .then(vec![vec![Value::U64(1), Value::U64(600)]])
        // Per bucket: all traffic, the top key's.
        .then(vec![
            vec![t(0), Value::U64(1000), Value::U64(600)],
            vec![t(5), Value::U64(450), Value::Null],
            vec![t(9), Value::U64(300), Value::U64(100)],
        ]);
    let answer = run_at(
        &backend,
        &Table::defaults(),
        &hour(top(1, Agg::Max, Unit::Rate)),
        NOW,
    )
    .unwrap();
    assert_eq!(answer.step, Some(60));
    assert_eq!(answer.columns, ["dst_as", "bps"]);
    assert_eq!(
        answer.rows,
        [
            vec![Value::U64(1), Value::F64(600.0 * 8.0 / 60.0)],
            vec![Value::Null, Value::F64(450.0 * 8.0 / 60.0)]
        ]
    );
}

#[test]
fn series_fill_every_bucket_and_report_rates_per_step() {
    let series = Kind::Series(Series {
        step: Some(60),
        split: vec![],
        limit: 10,
        by: Metric::Packets,
        unit: Unit::Rate,
    });
    let mut q = hour(series);
    q.range = TimeRange::new(NOW - 5 * 60 * S, NOW);
    let t = |m: u64| NOW - 5 * 60 * S + m * 60 * S;
    let backend = Recorder::new(&DataFusion).then(vec![
        vec![Value::Time(t(1)), Value::I64(0), Value::U64(120)],
        vec![Value::Time(t(3)), Value::I64(0), Value::U64(60)],
    ]);
    let answer = run_at(&backend, &Table::defaults(), &q, NOW).unwrap();
    assert_eq!(answer.table, "traffic_1m");
    assert_eq!(answer.columns, ["time_received", "pps"]);
    let want: Vec<Vec<Value>> = [0.0, 2.0, 0.0, 1.0, 0.0]
        .iter()
        .enumerate()
        .map(|(m, &pps)| vec![Value::Time(t(m as u64)), Value::F64(pps)])
        .collect();
    assert_eq!(answer.rows, want);
}

#[test]
fn directions_sign_traffic_in_negative() {
    let mut q = hour(top(2, Agg::Total, Unit::Total));
    q.direction = Some(Direction::Interface {
        index: 4,
        exporter: None,
    });
    let backend =
        Recorder::new(&DataFusion).then(vec![vec![Value::U64(15169), Value::U64(300), Value::Null]]);
    let answer = run_at(&backend, &Table::defaults(), &q, NOW).unwrap();
    assert_eq!(answer.columns, ["dst_as", "direction", "bytes"]);
    let dir = |d: &str| Value::Str(d.into());
    assert_eq!(
        answer.rows,
        [
            vec![Value::U64(15169), dir("in"), Value::I64(-300)],
            vec![Value::U64(15169), dir("out"), Value::I64(0)],
            vec![Value::Null, dir("in"), Value::I64(0)],
            vec![Value::Null, dir("out"), Value::I64(0)],
        ],
        "one key under a limit of two: nothing else"
    );
}

#[test]
fn compare_asks_the_same_question_of_the_earlier_range() {
    let mut q = hour(Kind::Summary);
    q.compare = Some(86_400);
    let backend = Recorder::new(&DataFusion);
    let answer = run_at(&backend, &Table::defaults(), &q, NOW).unwrap();
    let seen = backend.seen.lock().unwrap();
    let ranges: Vec<TimeRange> = seen.iter().map(|(_, r, _)| *r).collect();
    let day = 24 * HOUR;
    assert_eq!(ranges, [q.range, TimeRange::new(NOW - HOUR - day, NOW - day)]);
    let earlier = answer.compare.expect("compared");
    assert_eq!(earlier.range, TimeRange::new(NOW - HOUR - day, NOW - day));
    assert!(earlier.compare.is_none());
    assert_eq!(
        answer.rows[0][..5],
        [
            Value::Null,
            Value::Null,
            Value::U64(0),
            Value::U64(0),
            Value::U64(0)
        ],
        "no rows: a total of zero"
    );
}
