//! The SQL the planner writes for every kind of query, in both dialects, reviewed once and pinned in
//! `tests/plan_golden/{datafusion,clickhouse}.sql`. Regenerate on purpose with
//! `WEIR_BLESS=1 cargo test -p weir-query --test plan_golden`, and review the diff.

mod common;

use std::fmt::Write;
use std::path::PathBuf;

use common::Recorder;
use weir_flow::Field;
use weir_query::backend::{TimeRange, Value};
use weir_query::filter::{self, ClickHouse, DataFusion, Dialect};
use weir_query::plan::{
    Agg, Dim, Direction, Flows, Kind, Metric, Order, Query, Series, Table, TopN, Unit, run_at,
};

/// 2026-11-22T00:00:00Z.
const MIDNIGHT: u64 = 1_795_305_600_000_000_000;
const HOUR: u64 = 3_600_000_000_000;
const NOW: u64 = MIDNIGHT + 12 * HOUR;

fn ip(a: u8, b: u8, c: u8, d: u8) -> Value {
    Value::Ip(weir_flow::ipv4([a, b, c, d]))
}

/// One case: a name, the query, and the rows each statement gets back (what later statements build on).
struct Case {
    name: &'static str,
    query: Query,
    answers: Vec<Vec<Vec<Value>>>,
}

fn query(from: u64, to: u64, filter_text: &str, kind: Kind) -> Query {
    let mut q = Query::new(TimeRange::new(from, to), kind);
    if !filter_text.is_empty() {
        q.filter = Some(filter::parse(filter_text).expect("filter parses"));
    }
    q
}

fn cases() -> Vec<Case> {
    let day = (MIDNIGHT - 24 * HOUR, MIDNIGHT);
    let top = |dims: Vec<Field>, agg: Agg, step: Option<u64>| {
        Kind::TopN(TopN {
            dims: dims.into_iter().map(Dim::from).collect(),
            by: Metric::Bytes,
            unit: Unit::Rate,
            agg,
            step,
            limit: 2,
            other: true,
        })
    };
    let mut with_direction = query(day.0, day.1, "", top(vec![Field::dst_as], Agg::Max, Some(3600)));
    with_direction.direction = Some(Direction::Exporter);
    let mut summary_in_out = query(day.0, day.1, "proto tcp", Kind::Summary);
    summary_in_out.direction = Some(Direction::Interface {
        index: 3,
        exporter: Some(weir_flow::ipv4([192, 0, 2, 1])),
    });
    let mut split = query(
        MIDNIGHT,
        MIDNIGHT + HOUR,
        "dst_country = JP",
        Kind::Series(Series {
            step: None,
            split: vec![Dim::Field(Field::app)],
            limit: 2,
            by: Metric::Packets,
            unit: Unit::Rate,
        }),
    );
    split.direction = Some(Direction::Interface {
        index: 7,
        exporter: None,
    });
    let mut nets = query(
        MIDNIGHT,
        MIDNIGHT + HOUR,
        "",
        Kind::TopN(TopN {
            dims: vec![Dim::SrcNet, Dim::DstNet],
            by: Metric::Bytes,
            unit: Unit::Total,
            agg: Agg::Total,
            step: None,
            limit: 1,
            other: false,
        }),
    );
    nets.compare = Some(86_400);
    let mut as_pairs = query(
        day.0,
        day.1,
        "dst port 443",
        Kind::TopN(TopN {
            dims: vec![Dim::Field(Field::src_as), Dim::Field(Field::dst_as)],
            by: Metric::Bytes,
            unit: Unit::Total,
            agg: Agg::Total,
            step: None,
            limit: 2,
            other: false,
        }),
    );
    as_pairs.direction = Some(Direction::Exporter);
    vec![
        Case {
            name: "top subnet pair by bytes, beside the same key the day before",
            query: nets,
            answers: vec![
                vec![vec![
                    Value::Str("192.0.2.0/24".into()),
                    Value::Str("2001:db8::/32".into()),
                    Value::U64(900),
                ]],
                vec![],
            ],
        },
        Case {
            name: "series split by destination network",
            query: query(
                MIDNIGHT,
                MIDNIGHT + HOUR,
                "",
                Kind::Series(Series {
                    step: Some(600),
                    split: vec![Dim::DstNet],
                    limit: 2,
                    by: Metric::Bytes,
                    unit: Unit::Total,
                }),
            ),
            answers: vec![vec![vec![Value::Str("198.51.100.0/24".into()), Value::U64(900)]]],
        },
        Case {
            name: "summary over a day of whole hours",
            query: query(day.0, day.1, "proto tcp", Kind::Summary),
            answers: vec![],
        },
        Case {
            name: "summary in and out of one exporter's interface",
            query: summary_in_out,
            answers: vec![],
        },
        Case {
            name: "top destination ASes by total bytes, with Other",
            query: query(
                day.0,
                day.1,
                "dst_country = JP",
                Kind::TopN(TopN {
                    dims: vec![Dim::Field(Field::dst_as)],
                    by: Metric::Bytes,
                    unit: Unit::Total,
                    agg: Agg::Total,
                    step: None,
                    limit: 2,
                    other: true,
                }),
            ),
            answers: vec![vec![
                vec![Value::U64(15169), Value::U64(900)],
                vec![Value::U64(13335), Value::U64(500)],
            ]],
        },
        Case {
            name: "top AS pairs for HTTPS, in and out by the exporter's direction (one packed key)",
            query: as_pairs,
            answers: vec![vec![
                vec![Value::U64(64500), Value::U64(15169), Value::U64(900), Value::Null],
                vec![
                    Value::U64(64500),
                    Value::U64(13335),
                    Value::U64(5),
                    Value::U64(500),
                ],
            ]],
        },
        Case {
            name: "top source address and port by 95th percentile of 5-minute rates, with Other",
            query: query(
                day.0,
                day.1,
                "",
                top(vec![Field::src_addr, Field::dst_port], Agg::P95, Some(300)),
            ),
            answers: vec![vec![
                vec![ip(192, 0, 2, 1), Value::U64(443), Value::U64(900)],
                vec![ip(198, 51, 100, 7), Value::U64(53), Value::U64(500)],
            ]],
        },
        Case {
            name: "top destination ASes by hourly maximum, in and out by the exporter's direction",
            query: with_direction,
            answers: vec![vec![
                vec![Value::U64(15169), Value::U64(900), Value::Null],
                vec![Value::U64(13335), Value::U64(5), Value::U64(500)],
            ]],
        },
        Case {
            name: "series of all traffic over a day, automatic step",
            query: query(
                day.0,
                day.1,
                "",
                Kind::Series(Series {
                    step: None,
                    split: vec![],
                    limit: 10,
                    by: Metric::Bytes,
                    unit: Unit::Rate,
                }),
            ),
            answers: vec![],
        },
        Case {
            name: "series split by application, in and out of an interface",
            query: split,
            answers: vec![vec![
                vec![Value::Str("dns".into()), Value::U64(10), Value::U64(20)],
                vec![Value::Str("it's".into()), Value::U64(1), Value::U64(2)],
            ]],
        },
        Case {
            name: "flows to a prefix, newest first, third page of ten",
            query: query(
                MIDNIGHT,
                MIDNIGHT + HOUR,
                "dst net 10.0.0.0/8",
                Kind::Flows(Flows {
                    order: Order::default(),
                    limit: 10,
                    offset: 20,
                }),
            ),
            answers: vec![],
        },
        Case {
            name: "flows by most bytes",
            query: query(
                MIDNIGHT,
                MIDNIGHT + HOUR,
                "",
                Kind::Flows(Flows {
                    order: Order {
                        field: Field::bytes,
                        descending: true,
                    },
                    limit: 5,
                    offset: 0,
                }),
            ),
            answers: vec![],
        },
        Case {
            name: "packet sizes",
            query: query(MIDNIGHT, MIDNIGHT + HOUR, "proto udp", Kind::Sizes),
            answers: vec![],
        },
    ]
}

/// Every case's statements, as the golden file holds them.
fn render(dialect: &'static (dyn Dialect + Sync)) -> String {
    let tables = Table::defaults();
    let mut out = String::new();
    for case in cases() {
        let mut backend = Recorder::new(dialect);
        for rows in case.answers {
            backend = backend.then(rows);
        }
        let answer =
            run_at(&backend, &tables, &case.query, NOW).unwrap_or_else(|e| panic!("{}: {e}", case.name));
        let _ = writeln!(out, "-- {} (table {})", case.name, answer.table);
        for sql in &answer.statements {
            let _ = writeln!(out, "{sql};");
        }
        for sql in answer.compare.iter().flat_map(|c| &c.statements) {
            let _ = writeln!(out, "-- compared with:\n{sql};");
        }
        out.push('\n');
    }
    out
}

#[test]
fn each_dialect_gets_the_reviewed_sql_for_every_kind() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/plan_golden");
    let bless = std::env::var_os("WEIR_BLESS").is_some();
    let mut wrong = Vec::new();
    for (file, dialect) in [
        ("datafusion.sql", &DataFusion as &'static (dyn Dialect + Sync)),
        ("clickhouse.sql", &ClickHouse),
    ] {
        let path = dir.join(file);
        let got = render(dialect);
        if bless {
            std::fs::write(&path, &got).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&path).unwrap_or_default();
        if got != want {
            let first = got
                .lines()
                .zip(want.lines())
                .find(|(g, w)| g != w)
                .map(|(g, w)| format!("\n  got  {g}\n  want {w}"))
                .unwrap_or_default();
            wrong.push(format!("{file} differs{first}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "golden SQL differs (rerun with WEIR_BLESS=1 and review the diff):\n{}",
        wrong.join("\n")
    );
}
