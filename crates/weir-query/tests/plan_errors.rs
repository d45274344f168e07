//! Questions the planner refuses before asking any store: each error is typed and says exactly what is wrong.

mod common;

use common::Recorder;
use weir_flow::Field;
use weir_query::backend::TimeRange;
use weir_query::filter::DataFusion;
use weir_query::plan::{
    Agg, Dim, Direction, Flows, Kind, Metric, Order, Query, QueryError, Series, Table, TopN, Unit, field,
    run_at,
};

const S: u64 = 1_000_000_000;
const DAY: u64 = 86_400 * S;
const NOW: u64 = 20_000 * DAY;

fn top(dims: Vec<Field>, limit: usize) -> Kind {
    Kind::TopN(TopN {
        dims: dims.into_iter().map(Dim::from).collect(),
        by: Metric::Bytes,
        unit: Unit::Total,
        agg: Agg::Total,
        step: None,
        limit,
        other: false,
    })
}

fn series(step: Option<u64>, split: Vec<Field>, limit: usize) -> Kind {
    Kind::Series(Series {
        step,
        split: split.into_iter().map(Dim::from).collect(),
        limit,
        by: Metric::Bytes,
        unit: Unit::Rate,
    })
}

fn flows(field: Field, limit: usize, offset: usize) -> Kind {
    Kind::Flows(Flows {
        order: Order {
            field,
            descending: false,
        },
        limit,
        offset,
    })
}

fn day(kind: Kind) -> Query {
    Query::new(TimeRange::new(NOW - DAY, NOW), kind)
}

#[test]
fn bad_questions_are_refused_with_precise_errors() {
    let mut backwards = day(Kind::Summary);
    backwards.range = TimeRange::new(NOW, NOW - DAY);
    let mut empty = day(Kind::Summary);
    empty.range = TimeRange::new(NOW, NOW);
    let mut too_late = day(Kind::Summary);
    too_late.range = TimeRange::new(NOW, u64::MAX);
    let mut directed_flows = day(flows(Field::time_received, 10, 0));
    directed_flows.direction = Some(Direction::Exporter);
    let mut compared_flows = day(flows(Field::time_received, 10, 0));
    compared_flows.compare = Some(3600);
    let mut zero_compare = day(Kind::Summary);
    zero_compare.compare = Some(0);
    let mut p95_fine_step = day(top(vec![Field::dst_as], 10));
    if let Kind::TopN(t) = &mut p95_fine_step.kind {
        t.agg = Agg::P95;
        t.step = Some(1);
    }
    let cases: Vec<(Query, QueryError, &str)> = vec![
        (
            empty,
            QueryError::EmptyRange { at: NOW },
            "empty time range: it starts and ends at 2024-10-04T00:00:00Z",
        ),
        (
            backwards,
            QueryError::ReversedRange {
                from: NOW,
                to: NOW - DAY,
            },
            "time range ends at 2024-10-03T00:00:00Z before it starts at 2024-10-04T00:00:00Z",
        ),
        (
            too_late,
            QueryError::RangeTooLate {
                to: u64::MAX,
                max: i64::MAX as u64,
            },
            "time range ends at 2554-07-21T23:34:33.709551615Z, after the last time a store holds \
             (2262-04-11T23:47:16.854775807Z)",
        ),
        (
            day(series(Some(10), vec![], 10)),
            QueryError::StepTooSmall {
                step: 10,
                min: 18,
                max_points: 5000,
            },
            "step of 10 s is too small for this range: at least 18 s (at most 5000 points)",
        ),
        (
            day(series(Some(0), vec![], 10)),
            QueryError::StepTooSmall {
                step: 0,
                min: 18,
                max_points: 5000,
            },
            "step of 0 s is too small for this range: at least 18 s (at most 5000 points)",
        ),
        (
            p95_fine_step,
            QueryError::StepTooSmall {
                step: 1,
                min: 18,
                max_points: 5000,
            },
            "step of 1 s is too small for this range: at least 18 s (at most 5000 points)",
        ),
        (
            day(top(vec![Field::dst_as], 1001)),
            QueryError::LimitTooLarge {
                what: "top-N",
                limit: 1001,
                max: 1000,
            },
            "the top-N limit of 1001 is too large: at most 1000",
        ),
        (
            day(top(vec![Field::dst_as], 0)),
            QueryError::ZeroLimit { what: "top-N" },
            "the top-N limit must be at least 1",
        ),
        (
            day(series(None, vec![Field::app], 51)),
            QueryError::LimitTooLarge {
                what: "series split",
                limit: 51,
                max: 50,
            },
            "the series split limit of 51 is too large: at most 50",
        ),
        (
            day(flows(Field::time_received, 100_001, 0)),
            QueryError::LimitTooLarge {
                what: "flows",
                limit: 100_001,
                max: 100_000,
            },
            "the flows limit of 100001 is too large: at most 100000",
        ),
        (
            day(flows(Field::time_received, 10, 1_000_001)),
            QueryError::OffsetTooLarge {
                offset: 1_000_001,
                max: 1_000_000,
            },
            "an offset of 1000001 flows is too large: at most 1000000",
        ),
        (
            day(flows(Field::dst_as_path, 10, 0)),
            QueryError::NotOrderable { field: "dst_as_path" },
            "flows cannot be sorted by `dst_as_path`",
        ),
        (
            day(top(vec![Field::bytes], 10)),
            QueryError::NotADimension {
                field: "bytes",
                role: "top-N key",
            },
            "`bytes` is not a dimension and cannot be a top-N key",
        ),
        (
            day(series(None, vec![Field::time_received], 10)),
            QueryError::NotADimension {
                field: "time_received",
                role: "series split",
            },
            "`time_received` is not a dimension and cannot be a series split",
        ),
        (
            day(top(vec![], 10)),
            QueryError::NoDimensions,
            "a top-N needs at least one dimension",
        ),
        (
            day(top(vec![Field::app, Field::proto, Field::app], 10)),
            QueryError::DuplicateDimension {
                field: "app",
                role: "top-N key",
            },
            "`app` appears twice in the top-N key",
        ),
        (
            day(top(
                vec![
                    Field::app,
                    Field::proto,
                    Field::src_as,
                    Field::dst_as,
                    Field::in_if,
                    Field::out_if,
                    Field::vlan,
                ],
                10,
            )),
            QueryError::TooManyDimensions {
                role: "top-N key",
                count: 7,
                max: 6,
            },
            "a top-N key of 7 dimensions is too many: at most 6",
        ),
        (
            directed_flows,
            QueryError::NotApplicable {
                option: "direction",
                kind: "flows",
            },
            "direction does not apply to a flows query",
        ),
        (
            compared_flows,
            QueryError::NotApplicable {
                option: "compare",
                kind: "flows",
            },
            "compare does not apply to a flows query",
        ),
        (
            zero_compare,
            QueryError::ZeroCompare,
            "compare needs an offset of at least 1 s",
        ),
    ];
    let tables = Table::defaults();
    for (query, want, message) in cases {
        let backend = Recorder::new(&DataFusion);
        let got = run_at(&backend, &tables, &query, NOW).expect_err(message);
        assert_eq!(got, want, "{message}");
        assert_eq!(got.to_string(), message);
        assert!(
            backend.seen.lock().unwrap().is_empty(),
            "{message}: no store is asked"
        );
    }
}

#[test]
fn field_names_are_checked_with_a_suggestion() {
    assert_eq!(field("Dst_Port"), Ok(Field::dst_port));
    assert_eq!(
        field("src_adr"),
        Err(QueryError::UnknownField {
            name: "src_adr".into(),
            suggestion: Some("src_addr"),
        })
    );
    assert_eq!(
        field("bandwidth").unwrap_err().to_string(),
        "unknown field `bandwidth`"
    );
}

#[test]
fn a_table_list_without_the_raw_table_is_refused() {
    let backend = Recorder::new(&DataFusion);
    let tables = [Table::rollup("flows_1m", 60, None)];
    assert_eq!(
        run_at(&backend, &tables, &day(Kind::Summary), NOW),
        Err(QueryError::NoRawTable)
    );
}
