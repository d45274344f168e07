//! Every kind of query, answered by DataFusion over a store written with the writer's own code, equals
//! the sums computed here straight from the flows; the raw table and the rollups give the same answers.

mod query_common;

use std::collections::HashMap;

use query_common::{
    EXPORTERS, GAP, HOUR, MINUTE, NOW, S, T0, bytes, flows, key_text, packets, records, store, sums_by, value,
};
use weir_flow::codes::packet_size::BUCKETS;
use weir_flow::{FIELDS, Field, FlowBatch, FlowRecord, codes, ipv4};
use weir_query::backend::{TimeRange, Value};
use weir_query::plan::{
    Agg, Answer, Dim, Direction, Flows, Kind, Metric, Order, Query, Series, Table, TopN, Unit, run_at,
};
use weir_store::engine::Embedded;

/// The three hours of flows.
const RANGE: TimeRange = TimeRange {
    from: T0,
    to: T0 + 3 * HOUR,
};

struct Fixture {
    batch: FlowBatch,
    all: Vec<FlowRecord>,
    _dir: query_common::Dir,
    engine: Embedded,
}

fn fixture(name: &str) -> Fixture {
    fixture_of(name, 6000, 3)
}

/// `n` flows, each hour's in `parts` files.
fn fixture_of(name: &str, n: usize, parts: usize) -> Fixture {
    let batch = flows(n);
    let all = records(&batch);
    let (dir, engine) = store(name, &batch, parts);
    Fixture {
        batch,
        all,
        _dir: dir,
        engine,
    }
}

impl Fixture {
    fn ask(&self, q: &Query) -> Answer {
        run_at(&self.engine, &Table::defaults(), q, NOW).unwrap_or_else(|e| panic!("{q:?}: {e}"))
    }

    /// The same query answered by the raw table alone.
    fn ask_raw(&self, q: &Query) -> Answer {
        run_at(&self.engine, &[Table::raw(None)], q, NOW).unwrap_or_else(|e| panic!("{q:?}: {e}"))
    }

    fn within(&self, range: TimeRange) -> Vec<FlowRecord> {
        self.all
            .iter()
            .filter(|r| range.from <= r.time_received && r.time_received < range.to)
            .copied()
            .collect()
    }
}

fn top(dims: Vec<Field>, by: Metric, unit: Unit, agg: Agg, step: Option<u64>, limit: usize) -> Kind {
    Kind::TopN(TopN {
        dims: dims.into_iter().map(Dim::from).collect(),
        by,
        unit,
        agg,
        step,
        limit,
        other: true,
    })
}

fn real(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("{v:?} is not a number"))
}

fn assert_close(got: &Value, want: f64, what: &str) {
    let g = real(got);
    assert!(
        (g - want).abs() <= want.abs() * 1e-12,
        "{what}: got {g}, want {want}"
    );
}

/// Keys ranked by value, largest first: the `limit` top ones and the sum of the rest.
fn ranked(sums: HashMap<String, (Vec<Value>, u64)>, limit: usize) -> (Vec<(Vec<Value>, u64)>, u64) {
    let mut all: Vec<(Vec<Value>, u64)> = sums.into_values().collect();
    all.sort_by_key(|a| std::cmp::Reverse(a.1));
    assert!(
        all.len() <= limit || all[limit - 1].1 != all[limit].1,
        "a tie at the limit makes the test ambiguous"
    );
    let rest = all.iter().skip(limit).map(|(_, v)| v).sum();
    all.truncate(limit);
    (all, rest)
}

#[test]
fn summary_counts_every_flow_scaled_by_sampling_in_all_and_per_exporter() {
    let f = fixture("summary");
    let q = Query::new(RANGE, Kind::Summary);
    let (answer, raw) = (f.ask(&q), f.ask_raw(&q));
    assert_eq!(
        (answer.table.as_str(), raw.table.as_str()),
        ("traffic_1h", "flows")
    );
    assert_eq!(
        answer.columns,
        [
            "exporter_addr",
            "exporter_name",
            "flows",
            "bytes",
            "packets",
            "first_seen",
            "last_seen"
        ]
    );
    let sums = |flows: &[&FlowRecord]| {
        [
            flows.iter().map(|r| r.flows).sum::<u64>(),
            flows.iter().map(|r| bytes(r)).sum(),
            flows.iter().map(|r| packets(r)).sum(),
        ]
        .map(Value::U64)
    };
    let mut exporters = EXPORTERS.to_vec();
    exporters.sort_by_key(|(a, _)| *a);
    let lines: Vec<(Value, Value, Vec<&FlowRecord>)> =
        std::iter::once((Value::Null, Value::Null, f.all.iter().collect()))
            .chain(exporters.iter().map(|(addr, name)| {
                let addr = ipv4(*addr);
                let flows = f.all.iter().filter(|r| r.exporter_addr == addr).collect();
                (Value::Ip(addr), Value::Str(name.to_string()), flows)
            }))
            .collect();
    assert_eq!(answer.rows.len(), lines.len());
    for ((addr, name, flows), (rolled, exact)) in lines.iter().zip(answer.rows.iter().zip(&raw.rows)) {
        let first = flows.iter().map(|r| r.time_received).min().expect("flows");
        let last = flows.iter().map(|r| r.time_received).max().expect("flows");
        let mut want = vec![addr.clone(), name.clone()];
        want.extend(sums(flows));
        want.extend([Value::Time(first), Value::Time(last)]);
        assert_eq!(exact, &want, "raw table");
        want[5] = Value::Time(first - first % HOUR);
        want[6] = Value::Time(last - last % HOUR);
        assert_eq!(rolled, &want, "hour rollup: times as fine as the table");
    }
}

#[test]
fn top_n_by_total_ranks_keys_and_puts_the_rest_in_other() {
    let f = fixture("top-total");
    let (leaders, rest) = ranked(sums_by(&f.batch, &f.all, &[Field::src_addr], bytes), 5);
    let q = Query::new(RANGE, top_kind(Unit::Total));
    let answer = f.ask(&q);
    assert_eq!(answer.table, "flows");
    assert_eq!(answer.columns, ["src_addr", "bytes"]);
    assert_eq!(answer.rows, top_rows(&leaders, rest));

    let rate = f.ask(&Query::new(RANGE, top_kind(Unit::Rate)));
    assert_eq!(rate.columns, ["src_addr", "bps"]);
    let secs = (3 * HOUR / S) as f64;
    for (row, (key, v)) in rate
        .rows
        .iter()
        .zip(leaders.iter().map(|(k, v)| (Some(k), v)).chain([(None, &rest)]))
    {
        assert_eq!(key.map(|k| &k[0]).unwrap_or(&Value::Null), &row[0]);
        assert_close(&row[1], *v as f64 * 8.0 / secs, "bits per second over the range");
    }

    fn top_kind(unit: Unit) -> Kind {
        top(vec![Field::src_addr], Metric::Bytes, unit, Agg::Total, None, 5)
    }
}

#[test]
fn keys_of_several_integer_fields_are_ranked_and_read_back_whole() {
    // Such keys are grouped as one packed integer: every bit of every field must come back in place, and
    // ties broken by the fields in order, by total and over buckets alike.
    let f = fixture("top-packed");
    for dims in [
        vec![Field::src_as, Field::dst_as],
        vec![Field::proto, Field::src_port, Field::dst_port],
        vec![Field::in_if, Field::out_if, Field::tos],
    ] {
        let (leaders, rest) = ranked(sums_by(&f.batch, &f.all, &dims, bytes), 4);
        let q = Query::new(
            RANGE,
            top(dims.clone(), Metric::Bytes, Unit::Total, Agg::Total, None, 4),
        );
        assert_eq!(f.ask(&q).rows, top_rows(&leaders, rest), "{dims:?}");
    }
    assert!(
        f.all.iter().any(|r| r.dst_as == 4_200_000_000),
        "the flows hold a 32-bit AS"
    );

    let step = 5 * MINUTE;
    let n = (3 * HOUR / step) as usize;
    let dims = [Field::src_as, Field::dst_as];
    let per_key = buckets(&f, &f.all, &dims, T0, step, n, bytes);
    let mut want: Vec<(Vec<Value>, u64)> = per_key
        .values()
        .map(|(k, s)| (k.clone(), *s.iter().max().expect("buckets")))
        .collect();
    want.sort_by_key(|w| std::cmp::Reverse(w.1));
    assert_ne!(
        want[2].1, want[3].1,
        "a tie at the limit makes the test ambiguous"
    );
    let q = Query::new(
        RANGE,
        top(dims.to_vec(), Metric::Bytes, Unit::Total, Agg::Max, Some(300), 3),
    );
    let got = f.ask_raw(&q);
    assert_eq!(got.rows.len(), 4, "three keys and Other");
    for (row, (key, v)) in got.rows.iter().zip(&want[..3]) {
        assert_eq!(&row[..2], key.as_slice());
        assert_eq!(row[2], Value::U64(*v));
    }

    // A series split by such keys finds each row's slot by its packed key.
    let (top, _) = ranked(totals(&per_key), 3);
    let q = Query::new(
        RANGE,
        Kind::Series(Series {
            step: Some(300),
            split: dims.iter().copied().map(Dim::from).collect(),
            limit: 3,
            by: Metric::Bytes,
            unit: Unit::Total,
        }),
    );
    assert_eq!(f.ask_raw(&q).rows, series_rows(&per_key, &top, T0, step, n));
}

#[test]
fn top_addresses_are_ranked_among_the_files_heaviest_and_every_key_when_those_may_not_hold_them() {
    // Files of thousands of addresses each: more than their lists hold.
    let f = fixture_of("top-heavy", 30_000, 1);
    // Whether the answer's last ranking statement tested rows against the files' heaviest addresses.
    let among_heavy = |a: &Answer| a.statements.iter().any(|s| s.contains("\"src_addr\" IN ("));
    let sources = |by: Metric, limit: usize| {
        Query::new(
            RANGE,
            top(vec![Field::src_addr], by, Unit::Total, Agg::Total, None, limit),
        )
    };
    let q = sources(Metric::Bytes, 5);
    let answer = f.ask(&q);
    assert!(among_heavy(&answer), "{:?}", answer.statements);
    assert_eq!(
        answer.statements.len(),
        2,
        "the candidates' ranking stood: {:?}",
        answer.statements
    );
    let (leaders, rest) = ranked(sums_by(&f.batch, &f.all, &[Field::src_addr], bytes), 5);
    assert_eq!(answer.rows, top_rows(&leaders, rest));

    // The top thousand of 10/8, where nearly every address has a flow of its own: the lists hold fewer of
    // them, or the last has less than an address outside them may have, so every key is ranked.
    const MANY: usize = 1000;
    let mut narrow = sources(Metric::Bytes, MANY);
    narrow.filter = Some(weir_query::filter::parse("src_addr << 10.0.0.0/8").unwrap());
    let answer = f.ask(&narrow);
    assert!(among_heavy(&answer));
    assert_eq!(
        answer.statements.len(),
        3,
        "ranked again over every key: {:?}",
        answer.statements
    );
    let tens: Vec<FlowRecord> = f
        .all
        .iter()
        .filter(|r| r.src_addr.to_ipv4_mapped().is_some_and(|a| a.octets()[0] == 10))
        .copied()
        .collect();
    let mut all: Vec<(Vec<Value>, u64)> = sums_by(&f.batch, &tens, &[Field::src_addr], bytes)
        .into_values()
        .collect();
    all.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| key_text(&a.0).cmp(&key_text(&b.0))));
    let got: Vec<u64> = answer.rows[..MANY]
        .iter()
        .map(|r| r[1].as_u64().unwrap())
        .collect();
    let want: Vec<u64> = all[..MANY].iter().map(|(_, v)| *v).collect();
    assert_eq!(got, want);
    for row in &answer.rows[..MANY] {
        assert!(
            all.iter()
                .any(|(k, v)| k[0] == row[0] && Value::U64(*v) == row[1]),
            "{row:?}"
        );
    }

    // By packets and by flows too, each with its own bounds.
    for (metric, amount) in [
        (Metric::Packets, packets as fn(&FlowRecord) -> u64),
        (Metric::Flows, |r: &FlowRecord| r.flows),
    ] {
        let q = sources(metric, 3);
        let answer = f.ask(&q);
        let sums = sums_by(&f.batch, &f.all, &[Field::src_addr], amount);
        let mut all: Vec<u64> = sums.values().map(|(_, v)| *v).collect();
        all.sort_unstable_by(|a, b| b.cmp(a));
        let got: Vec<u64> = answer.rows[..3].iter().map(|r| r[1].as_u64().unwrap()).collect();
        assert_eq!(got, all[..3], "{metric:?}");
        assert_eq!(
            answer.rows[3][1],
            Value::U64(all[3..].iter().sum()),
            "{metric:?}: Other"
        );
    }
}

/// Per key of `dims`, its traffic in each of the `n` buckets of `step` from `from` (zero-filled).
fn buckets(
    f: &Fixture,
    flows: &[FlowRecord],
    dims: &[Field],
    from: u64,
    step: u64,
    n: usize,
    amount: impl Fn(&FlowRecord) -> u64,
) -> HashMap<String, (Vec<Value>, Vec<u64>)> {
    let mut out: HashMap<String, (Vec<Value>, Vec<u64>)> = HashMap::new();
    for r in flows {
        let key: Vec<Value> = dims.iter().map(|&d| value(&f.batch, r, d)).collect();
        let b = ((r.time_received - from) / step) as usize;
        out.entry(key_text(&key)).or_insert_with(|| (key, vec![0; n])).1[b] += amount(r);
    }
    out
}

/// Each key's total over its buckets, as [`ranked`] takes them.
fn totals(per_key: &HashMap<String, (Vec<Value>, Vec<u64>)>) -> HashMap<String, (Vec<Value>, u64)> {
    per_key
        .iter()
        .map(|(t, (k, s))| (t.clone(), (k.clone(), s.iter().sum())))
        .collect()
}

/// The rows of a top-N: each leading key with its value, then Other with `rest`.
fn top_rows(leaders: &[(Vec<Value>, u64)], rest: u64) -> Vec<Vec<Value>> {
    let width = leaders.first().map_or(1, |(k, _)| k.len());
    leaders
        .iter()
        .map(|(k, v)| [k.clone(), vec![Value::U64(*v)]].concat())
        .chain([std::iter::repeat_n(Value::Null, width)
            .chain([Value::U64(rest)])
            .collect()])
        .collect()
}

/// The rows of a series split by `top` (keys of `per_key`'s), bucket by bucket from `from`: each top key's
/// value, then Other with everything else in the bucket.
fn series_rows(
    per_key: &HashMap<String, (Vec<Value>, Vec<u64>)>,
    top: &[(Vec<Value>, u64)],
    from: u64,
    step: u64,
    n: usize,
) -> Vec<Vec<Value>> {
    let width = top.first().map_or(0, |(k, _)| k.len());
    let mut rows = Vec::new();
    for b in 0..n {
        let t = Value::Time(from + b as u64 * step);
        let mut rest: u64 = per_key.values().map(|(_, s)| s[b]).sum();
        for (key, _) in top {
            let v = per_key[&key_text(key)].1[b];
            rest -= v;
            rows.push([vec![t.clone()], key.clone(), vec![Value::U64(v)]].concat());
        }
        rows.push(
            std::iter::once(t)
                .chain(std::iter::repeat_n(Value::Null, width))
                .chain([Value::U64(rest)])
                .collect(),
        );
    }
    rows
}

/// The 95th percentile as burstable billing takes it: the top 5 % (rounded down) dropped.
fn p95(mut values: Vec<u64>) -> u64 {
    values.sort_unstable_by(|a, b| b.cmp(a));
    values[values.len() / 20]
}

#[test]
fn top_n_over_buckets_takes_average_maximum_and_95th_percentile_with_empty_buckets_as_zero() {
    let f = fixture("top-buckets");
    let step = 5 * MINUTE;
    let n = (3 * HOUR / step) as usize;
    let per_key = buckets(&f, &f.all, &[Field::dst_as], T0, step, n, bytes);
    let mut totals = vec![0u64; n];
    for (_, series) in per_key.values() {
        totals.iter_mut().zip(series).for_each(|(t, v)| *t += v);
    }
    for agg in [Agg::Avg, Agg::Max, Agg::P95] {
        let reduce = |series: &[u64]| match agg {
            Agg::Max => *series.iter().max().expect("buckets") as f64,
            Agg::P95 => p95(series.to_vec()) as f64,
            _ => series.iter().sum::<u64>() as f64 / n as f64,
        };
        let mut want: Vec<(Vec<Value>, f64, &Vec<u64>)> =
            per_key.values().map(|(k, s)| (k.clone(), reduce(s), s)).collect();
        want.sort_by(|a, b| b.1.total_cmp(&a.1));
        want.truncate(3);
        let mut other = totals.clone();
        for (_, _, s) in &want {
            other.iter_mut().zip(s.iter()).for_each(|(o, v)| *o -= v);
        }
        let q = Query::new(
            RANGE,
            top(vec![Field::dst_as], Metric::Bytes, Unit::Rate, agg, Some(300), 3),
        );
        for answer in [f.ask(&q), f.ask_raw(&q)] {
            assert_eq!(answer.step, Some(300));
            assert_eq!(answer.rows.len(), 4, "{agg:?}");
            for (row, (key, v)) in answer.rows.iter().zip(
                want.iter()
                    .map(|(k, v, _)| (k[0].clone(), *v))
                    .chain([(Value::Null, reduce(&other))]),
            ) {
                assert_eq!(row[0], key, "{agg:?} from {}", answer.table);
                assert_close(
                    &row[1],
                    v * 8.0 / 300.0,
                    &format!("{agg:?} bps of {key:?} from {}", answer.table),
                );
            }
        }
        assert_eq!(f.ask(&q).table, "flows_1m");
    }
}

#[test]
fn top_n_by_95th_percentile_counts_keys_busy_in_few_buckets_as_zero() {
    let f = fixture("top-p95-zero");
    let step = 5 * MINUTE;
    let n = (3 * HOUR / step) as usize;
    let per_addr = buckets(&f, &f.all, &[Field::src_addr], T0, step, n, bytes);
    let mut all: Vec<(Vec<Value>, u64, Vec<u64>)> = per_addr
        .into_values()
        .map(|(k, s)| (k, p95(s.clone()), s))
        .collect();
    let addr = |k: &[Value]| match k[0] {
        Value::Ip(a) => a,
        _ => panic!("an address"),
    };
    // Largest first; equal values by address, as the engine breaks ties.
    all.sort_by(|a, b| b.1.cmp(&a.1).then(addr(&a.0).cmp(&addr(&b.0))));
    let busy = all.iter().filter(|(_, v, _)| *v > 0).count();
    assert!(busy > 3 && busy + 3 < all.len(), "keys on both sides of zero");
    let limit = busy + 3;
    let mut other = vec![0u64; n];
    for (_, _, s) in &all[limit..] {
        other.iter_mut().zip(s).for_each(|(o, v)| *o += v);
    }
    let q = Query::new(
        RANGE,
        top(
            vec![Field::src_addr],
            Metric::Bytes,
            Unit::Total,
            Agg::P95,
            Some(300),
            limit,
        ),
    );
    let answer = f.ask(&q);
    let mut want: Vec<Vec<Value>> = all[..limit]
        .iter()
        .map(|(k, v, _)| vec![k[0].clone(), Value::U64(*v)])
        .collect();
    want.push(vec![Value::Null, Value::U64(p95(other))]);
    assert_eq!(answer.rows, want);
    assert_eq!(
        answer.rows[limit - 1][1],
        Value::U64(0),
        "a key with too few busy buckets is at zero"
    );
}

#[test]
fn series_fill_empty_buckets_and_split_the_top_keys_from_other() {
    let f = fixture("series");
    // Ten minutes before the gap in reception to fifteen after it.
    let range = TimeRange::new(GAP.0 - 10 * MINUTE, GAP.1 + 15 * MINUTE);
    let n = ((range.to - range.from) / MINUTE) as usize;
    let within = f.within(range);
    let per_app = buckets(&f, &within, &[Field::app], range.from, MINUTE, n, packets);
    let (top, _) = ranked(totals(&per_app), 2);
    let q = Query::new(
        range,
        Kind::Series(Series {
            step: Some(60),
            split: vec![Dim::Field(Field::app)],
            limit: 2,
            by: Metric::Packets,
            unit: Unit::Total,
        }),
    );
    let (answer, raw) = (f.ask(&q), f.ask_raw(&q));
    assert_eq!(answer.table, "traffic_1m");
    assert_eq!(answer.columns, ["time_received", "app", "packets"]);
    let mut want = Vec::new();
    for b in 0..n {
        let t = Value::Time(range.from + b as u64 * MINUTE);
        let mut rest: u64 = within
            .iter()
            .filter(|r| (r.time_received - range.from) / MINUTE == b as u64)
            .map(packets)
            .sum();
        for (key, _) in &top {
            let v = per_app[&key_text(key)].1[b];
            rest -= v;
            want.push(vec![t.clone(), key[0].clone(), Value::U64(v)]);
        }
        want.push(vec![t, Value::Null, Value::U64(rest)]);
    }
    assert_eq!(answer.rows, want);
    assert_eq!(raw.rows, want, "the raw table gives the rollup's answer");
    let gap_rows = answer
        .rows
        .iter()
        .filter(|r| matches!(r[0], Value::Time(t) if (GAP.0..GAP.1).contains(&t)))
        .count();
    assert_eq!(gap_rows, 15 * 3, "every minute of the gap is there, at zero");

    // Unsplit, with the automatic step: one series of every bucket.
    let q = Query::new(
        RANGE,
        Kind::Series(Series {
            step: None,
            split: vec![],
            limit: 10,
            by: Metric::Flows,
            unit: Unit::Rate,
        }),
    );
    let answer = f.ask(&q);
    let step = answer.step.expect("a step");
    assert_eq!((step, answer.rows.len()), (60, 180));
    let per_bucket = buckets(&f, &f.all, &[], T0, step * S, 180, |r| r.flows);
    let (_, series) = &per_bucket[&key_text(&[])];
    for (row, v) in answer.rows.iter().zip(series) {
        assert_close(&row[1], *v as f64 / step as f64, "flows per second");
    }
}

#[test]
fn directions_report_traffic_in_negative_and_out_positive() {
    let f = fixture("direction");
    let edge1 = ipv4(EXPORTERS[0].0);
    let mut q = Query::new(
        RANGE,
        top(
            vec![Field::dst_as],
            Metric::Bytes,
            Unit::Total,
            Agg::Total,
            None,
            3,
        ),
    );
    q.direction = Some(Direction::Interface {
        index: 2,
        exporter: Some(edge1),
    });
    let answer = f.ask(&q);
    assert_eq!(answer.table, "flows_1h");
    assert_eq!(answer.columns, ["dst_as", "direction", "bytes"]);
    let of_edge1: Vec<FlowRecord> = f
        .all
        .iter()
        .filter(|r| r.exporter_addr == edge1)
        .copied()
        .collect();
    let ins = sums_by(&f.batch, &of_edge1, &[Field::dst_as], |r| {
        if r.in_if == 2 { bytes(r) } else { 0 }
    });
    let outs = sums_by(&f.batch, &of_edge1, &[Field::dst_as], |r| {
        if r.out_if == 2 { bytes(r) } else { 0 }
    });
    let both: HashMap<String, (Vec<Value>, u64)> = ins
        .iter()
        .map(|(k, (key, v))| (k.clone(), (key.clone(), v + outs[k].1)))
        .collect();
    let (top, _) = ranked(both, 3);
    let total_in: u64 = ins.values().map(|(_, v)| v).sum();
    let total_out: u64 = outs.values().map(|(_, v)| v).sum();
    let mut want = Vec::new();
    let (mut rest_in, mut rest_out) = (total_in as i64, total_out as i64);
    for (key, _) in &top {
        let (i, o) = (ins[&key_text(key)].1 as i64, outs[&key_text(key)].1 as i64);
        rest_in -= i;
        rest_out -= o;
        want.push(vec![key[0].clone(), Value::Str("in".into()), Value::I64(-i)]);
        want.push(vec![key[0].clone(), Value::Str("out".into()), Value::I64(o)]);
    }
    want.push(vec![Value::Null, Value::Str("in".into()), Value::I64(-rest_in)]);
    want.push(vec![Value::Null, Value::Str("out".into()), Value::I64(rest_out)]);
    assert_eq!(answer.rows, want);

    let mut q = Query::new(RANGE, Kind::Summary);
    q.direction = Some(Direction::Exporter);
    let answer = f.ask(&q);
    assert_eq!(
        answer.columns,
        [
            "exporter_addr",
            "exporter_name",
            "direction",
            "flows",
            "bytes",
            "packets",
            "first_seen",
            "last_seen"
        ]
    );
    let side = |code: u8| f.all.iter().filter(move |r| r.flow_direction == code);
    let in_bytes: u64 = side(codes::direction::INGRESS).map(bytes).sum();
    let out_bytes: u64 = side(codes::direction::EGRESS).map(bytes).sum();
    assert_eq!(
        answer.rows[0][2..5],
        [
            Value::Str("in".into()),
            Value::I64(-(side(1).map(|r| r.flows).sum::<u64>() as i64)),
            Value::I64(-(in_bytes as i64))
        ]
    );
    assert_eq!(
        answer.rows[1][2..5],
        [
            Value::Str("out".into()),
            Value::I64(side(2).map(|r| r.flows).sum::<u64>() as i64),
            Value::I64(out_bytes as i64)
        ]
    );
}

#[test]
fn compare_answers_the_earlier_range_beside() {
    let f = fixture("compare");
    let last_hour = TimeRange::new(T0 + 2 * HOUR, T0 + 3 * HOUR);
    let kind = top(
        vec![Field::app],
        Metric::Packets,
        Unit::Total,
        Agg::Total,
        None,
        2,
    );
    let mut q = Query::new(last_hour, kind.clone());
    q.compare = Some(3600);
    let answer = f.ask(&q);
    let earlier_range = TimeRange::new(T0 + HOUR, T0 + 2 * HOUR);
    let earlier = f.ask(&Query::new(earlier_range, kind));
    let compared = answer.compare.expect("compared");
    assert_eq!(compared.range, earlier.range);
    // The earlier hour answers for this hour's keys, in this hour's order, and Other for the rest.
    let flows = f.within(earlier_range);
    let by_app = sums_by(&f.batch, &flows, &[Field::app], packets);
    let mut want: Vec<Vec<Value>> = answer.rows[..2]
        .iter()
        .map(|row| {
            let v = by_app.get(&key_text(&row[..1])).map_or(0, |(_, v)| *v);
            vec![row[0].clone(), Value::U64(v)]
        })
        .collect();
    let listed: u64 = want.iter().map(|r| r[1].as_u64().unwrap()).sum();
    let all: u64 = flows.iter().map(packets).sum();
    want.push(vec![Value::Null, Value::U64(all - listed)]);
    assert_eq!(compared.rows, want);
    assert_ne!(answer.rows, compared.rows, "two different hours");
    assert_ne!(
        earlier.rows[..2],
        answer.rows[..2],
        "the earlier hour ranks other keys first"
    );
}

#[test]
fn pages_of_flows_sorted_by_a_column_of_many_ties_list_every_flow_once() {
    let f = fixture("flow-pages");
    let mut seen = Vec::new();
    let page = 500;
    for offset in (0..f.all.len()).step_by(page) {
        let q = Query::new(
            RANGE,
            Kind::Flows(Flows {
                order: Order {
                    field: Field::proto,
                    descending: false,
                },
                limit: page,
                offset,
            }),
        );
        let answer = f.ask(&q);
        let at = answer.column("time_received").expect("time column");
        seen.extend(answer.rows.iter().map(|r| r[at].clone()));
    }
    // Every flow of the fixture has a receive time of its own.
    let mut times: Vec<u64> = seen.iter().map(|v| v.as_u64().expect("a time")).collect();
    times.sort_unstable();
    times.dedup();
    assert_eq!((seen.len(), times.len()), (f.all.len(), f.all.len()));
}

#[test]
fn flows_are_listed_in_order_a_page_at_a_time_with_every_column() {
    let f = fixture("flows");
    let q = Query::new(
        RANGE,
        Kind::Flows(Flows {
            order: Order::default(),
            limit: 7,
            offset: 0,
        }),
    );
    let answer = f.ask(&q);
    assert_eq!(answer.columns.len(), FIELDS.len());
    let mut newest = f.all.clone();
    newest.sort_by_key(|r| std::cmp::Reverse(r.time_received));
    for (row, rec) in answer.rows.iter().zip(&newest[..7]) {
        let want: Vec<Value> = FIELDS.iter().map(|&field| value(&f.batch, rec, field)).collect();
        assert_eq!(row, &want);
    }
    assert_eq!(answer.rows.len(), 7);

    let q = Query::new(
        RANGE,
        Kind::Flows(Flows {
            order: Order {
                field: Field::bytes,
                descending: true,
            },
            limit: 10,
            offset: 5,
        }),
    );
    let answer = f.ask(&q);
    let at = answer.column("bytes").expect("bytes column");
    let mut sizes: Vec<u64> = f.all.iter().map(|r| r.bytes).collect();
    sizes.sort_unstable_by(|a, b| b.cmp(a));
    let got: Vec<Value> = answer.rows.iter().map(|r| r[at].clone()).collect();
    let want: Vec<Value> = sizes[5..15].iter().map(|&b| Value::U64(b)).collect();
    assert_eq!(got, want);
}

#[test]
fn sizes_are_the_packets_of_each_bucket_of_average_size() {
    let f = fixture("sizes");
    let answer = f.ask(&Query::new(RANGE, Kind::Sizes));
    assert_eq!(answer.columns, ["packet_size_max", "packets", "fraction"]);
    let mut counts = [0u64; BUCKETS.len()];
    for r in f.all.iter().filter(|r| r.packets > 0) {
        let size = r.bytes / r.packets;
        let i = BUCKETS
            .iter()
            .position(|&edge| size <= u64::from(edge))
            .unwrap_or(BUCKETS.len() - 1);
        counts[i] += packets(r);
    }
    let total: u64 = counts.iter().sum();
    assert_eq!(answer.rows.len(), BUCKETS.len());
    for ((row, edge), n) in answer.rows.iter().zip(BUCKETS).zip(counts) {
        assert_eq!(row[..2], [Value::U64(edge.into()), Value::U64(n)]);
        assert_close(
            &row[2],
            n as f64 / total as f64,
            &format!("fraction up to {edge}"),
        );
    }
    assert!(
        counts.iter().filter(|&&c| c > 0).count() >= 6,
        "a spread of sizes"
    );
}

#[test]
fn series_split_by_network_count_rows_of_a_top_network_range_but_another_mask_once() {
    let f = fixture("series-nets");
    let range = TimeRange::new(T0, T0 + HOUR);
    let n = (HOUR / (10 * MINUTE)) as usize;
    let within = f.within(range);
    let net = |r: &FlowRecord| {
        let (a, len) = weir_query::plan::net(r.src_addr, r.src_mask, 24, 48);
        format!("{a}/{len}")
    };
    let mut per_net: HashMap<String, Vec<u64>> = HashMap::new();
    for r in &within {
        let b = ((r.time_received - range.from) / (10 * MINUTE)) as usize;
        per_net.entry(net(r)).or_insert_with(|| vec![0; n])[b] += packets(r);
    }
    let (top, _) = ranked(
        per_net
            .iter()
            .map(|(k, s)| (k.clone(), (vec![Value::Str(k.clone())], s.iter().sum())))
            .collect(),
        2,
    );
    // The fixture's addresses come with masks of 0, 8 and 24: a top network's range holds rows of others.
    let in_range = |r: &FlowRecord, key: &Value| {
        let Value::Str(k) = key else { return false };
        let Some((a, len)) = k.split_once('/') else {
            return false;
        };
        let (Ok(a), Ok(len)) = (a.parse::<std::net::Ipv4Addr>(), len.parse::<u32>()) else {
            return false;
        };
        let keep = u32::MAX.checked_shl(32 - len).unwrap_or(0);
        r.src_addr
            .to_ipv4_mapped()
            .is_some_and(|x| u32::from(x) & keep == u32::from(a))
    };
    let near = within
        .iter()
        .filter(|r| {
            top.iter()
                .any(|(k, _)| in_range(r, &k[0]) && Value::Str(net(r)) != k[0])
        })
        .count();
    assert!(near > 0, "rows in a top network's range, of another network");
    let q = Query::new(
        range,
        Kind::Series(Series {
            step: Some(600),
            split: vec![Dim::SrcNet],
            limit: 2,
            by: Metric::Packets,
            unit: Unit::Total,
        }),
    );
    let answer = f.ask_raw(&q);
    let mut want = Vec::new();
    for b in 0..n {
        let t = Value::Time(range.from + b as u64 * 10 * MINUTE);
        let mut rest: u64 = within
            .iter()
            .filter(|r| (r.time_received - range.from) / (10 * MINUTE) == b as u64)
            .map(packets)
            .sum();
        for (key, _) in &top {
            let Value::Str(k) = &key[0] else { unreachable!() };
            let v = per_net[k].get(b).copied().unwrap_or_default();
            rest -= v;
            want.push(vec![t.clone(), key[0].clone(), Value::U64(v)]);
        }
        want.push(vec![t, Value::Null, Value::U64(rest)]);
    }
    assert_eq!(answer.rows, want);
}

#[test]
fn subnet_pairs_in_either_order_are_ranked_and_split_as_the_flows_sum() {
    // Each network is cut under its own flow's mask, and the pair keeps the order asked for.
    let f = fixture("subnet-pairs");
    let range = TimeRange::new(T0, T0 + HOUR);
    let n = (HOUR / (10 * MINUTE)) as usize;
    let within = f.within(range);
    let text = |(a, len): (std::net::IpAddr, u8)| Value::Str(format!("{a}/{len}"));
    for dims in [[Dim::SrcNet, Dim::DstNet], [Dim::DstNet, Dim::SrcNet]] {
        let key = |r: &FlowRecord| {
            let src = text(weir_query::plan::net(r.src_addr, r.src_mask, 24, 48));
            let dst = text(weir_query::plan::net(r.dst_addr, r.dst_mask, 24, 48));
            match dims[0] {
                Dim::SrcNet => vec![src, dst],
                _ => vec![dst, src],
            }
        };
        let mut per_pair: HashMap<String, (Vec<Value>, Vec<u64>)> = HashMap::new();
        for r in &within {
            let b = ((r.time_received - range.from) / (10 * MINUTE)) as usize;
            let k = key(r);
            per_pair.entry(key_text(&k)).or_insert_with(|| (k, vec![0; n])).1[b] += bytes(r);
        }
        let (top, rest) = ranked(totals(&per_pair), 3);
        let q = Query::new(
            range,
            Kind::TopN(TopN {
                dims: dims.to_vec(),
                by: Metric::Bytes,
                unit: Unit::Total,
                agg: Agg::Total,
                step: None,
                limit: 3,
                other: true,
            }),
        );
        assert_eq!(f.ask_raw(&q).rows, top_rows(&top, rest), "{dims:?}");

        let q = Query::new(
            range,
            Kind::Series(Series {
                step: Some(600),
                split: dims.to_vec(),
                limit: 3,
                by: Metric::Bytes,
                unit: Unit::Total,
            }),
        );
        let want = series_rows(&per_pair, &top, range.from, 10 * MINUTE, n);
        assert_eq!(f.ask_raw(&q).rows, want, "{dims:?}");
    }
}
