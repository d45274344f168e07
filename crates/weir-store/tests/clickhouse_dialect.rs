//! The planner's ClickHouse SQL, run by ClickHouse's own engine (chdb, from PyPI) over the same flows as the
//! embedded store, gives the same answers as DataFusion for every kind of question, so the dialect is
//! right before a ClickHouse server backend is built on it.
//!
//! chdb runs in a Python process (`tests/clickhouse/chdb_server.py`) fed one statement per line; the
//! interpreter is `$WEIR_PYTHON`, or `python3`, and needs `pip install chdb` (`.ci/run` sets one up).
//! Skipped with a message when there is none, unless `WEIR_REQUIRE_CHDB` is set (as in CI).
//! Both engines answer from the raw table: the rollups are the store's own files, which ClickHouse would
//! keep as tables of its own.

mod query_common;

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Mutex;

use query_common::{HOUR, NOW, T0, flows, records, store, value};
use serde_json::{Value as J, json};
use weir_flow::{COLUMNS, Field, Kind as ColumnKind};
use weir_query::backend::{Backend, BackendError, BackendErrorKind, Rows, TimeRange, Value};
use weir_query::filter::{self, ClickHouse, Dialect};
use weir_query::plan::{
    Agg, Answer, Dim, Direction, Flows, Kind, Metric, Order, Query, Series, Table, TopN, Unit, run_at,
};

/// What chdb answered: each column's name and ClickHouse type, and the rows as JSON.
type Answered = (Vec<(String, String)>, Vec<Vec<J>>);

/// ClickHouse's engine in a child process.
struct Chdb {
    child: Child,
    io: Mutex<(BufWriter<ChildStdin>, BufReader<ChildStdout>)>,
}

impl Chdb {
    /// Starts chdb; `None` (after saying why) when it cannot run here and is not required.
    fn start() -> Option<Chdb> {
        let python = std::env::var("WEIR_PYTHON").unwrap_or_else(|_| "python3".into());
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/clickhouse/chdb_server.py");
        let started = Command::new(&python)
            .arg(&script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn();
        let missing = |why: String| {
            assert!(
                std::env::var_os("WEIR_REQUIRE_CHDB").is_none(),
                "chdb is required: {why}"
            );
            println!(
                "{why}: the ClickHouse dialect test is skipped (`{python} -m pip install chdb`, or set \
                 WEIR_PYTHON to an interpreter that has it)"
            );
        };
        let mut child = match started {
            Ok(c) => c,
            Err(e) => {
                missing(format!("cannot run {python}: {e}"));
                return None;
            }
        };
        let stdin = BufWriter::new(child.stdin.take().expect("piped stdin"));
        let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        let mut first = String::new();
        let _ = stdout.read_line(&mut first);
        let chdb = Chdb {
            child,
            io: Mutex::new((stdin, stdout)),
        };
        if !first.contains("\"ready\"") {
            missing(format!("chdb did not start ({})", first.trim()));
            return None;
        }
        Some(chdb)
    }

    /// Runs one statement; the answer's column types and rows, as chdb writes them.
    fn run(&self, sql: &str) -> Result<Answered, String> {
        let mut io = self.io.lock().expect("chdb answer");
        let (stdin, stdout) = &mut *io;
        writeln!(stdin, "{}", json!({ "sql": sql })).expect("writing to chdb");
        stdin.flush().expect("writing to chdb");
        let mut line = String::new();
        stdout.read_line(&mut line).expect("reading from chdb");
        let answer: J = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
        if let Some(e) = answer.get("error") {
            return Err(e.as_str().unwrap_or_default().to_owned());
        }
        let meta = answer["meta"]
            .as_array()
            .expect("chdb answer")
            .iter()
            .map(|m| {
                (
                    m[0].as_str().expect("a JSON string").to_owned(),
                    m[1].as_str().expect("a JSON string").to_owned(),
                )
            })
            .collect();
        let rows = answer["rows"]
            .as_array()
            .expect("chdb answer")
            .iter()
            .map(|r| r.as_array().expect("a JSON array").clone())
            .collect();
        Ok((meta, rows))
    }

    /// Loads `flows` as the table `flows`, typed as the dialect expects.
    fn load(&self, flows: &weir_flow::FlowBatch) {
        let path = std::env::temp_dir().join(format!("weir-chdb-{}.ndjson", std::process::id()));
        let mut out = BufWriter::new(std::fs::File::create(&path).expect("temporary file"));
        for r in records(flows) {
            let mut row = serde_json::Map::new();
            for (c, &f) in COLUMNS.iter().zip(weir_flow::FIELDS) {
                let v = match value(flows, &r, f) {
                    Value::U64(n) | Value::Time(n) => json!(n),
                    Value::Ip(a) => json!(a.to_string()),
                    Value::Str(s) => json!(s),
                    Value::List(l) => json!(l),
                    Value::Bytes(b) => json!(String::from_utf8(b).expect("UTF-8 bytes")),
                    other => panic!("{}: {other:?}", c.name),
                };
                row.insert(c.name.into(), v);
            }
            writeln!(out, "{}", J::Object(row)).expect("temporary file");
        }
        out.flush().expect("temporary file");
        let structure: Vec<String> = COLUMNS
            .iter()
            .map(|c| format!("{} {}", c.name, file_type(c.kind)))
            .collect();
        let select: Vec<String> = COLUMNS
            .iter()
            .map(|c| match c.kind {
                ColumnKind::Time => format!("fromUnixTimestamp64Nano({0}, 'UTC') AS {0}", c.name),
                ColumnKind::Str => format!("toLowCardinality({0}) AS {0}", c.name),
                _ => c.name.to_owned(),
            })
            .collect();
        let sql = format!(
            "CREATE TABLE flows ENGINE = Memory AS SELECT {} FROM file('{}', 'JSONEachRow', '{}')",
            select.join(", "),
            path.display(),
            structure.join(", ")
        );
        self.run(&sql)
            .unwrap_or_else(|e| panic!("loading the flows: {e}"));
        let _ = std::fs::remove_file(path);
    }
}

impl Drop for Chdb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A column's type in the file the flows are loaded from (times as nanoseconds, converted on loading).
fn file_type(kind: ColumnKind) -> &'static str {
    match kind {
        ColumnKind::Time => "Int64",
        ColumnKind::U8 => "UInt8",
        ColumnKind::U16 => "UInt16",
        ColumnKind::U32 => "UInt32",
        ColumnKind::U64 | ColumnKind::Mac => "UInt64",
        ColumnKind::Ip => "IPv6",
        ColumnKind::Str | ColumnKind::Bytes => "String",
        ColumnKind::U32List => "Array(UInt32)",
    }
}

/// One value of ClickHouse type `ty` as JSON, as the store's engine would give it.
fn convert(column: &str, ty: &str, v: &J) -> Result<Value, String> {
    if v.is_null() {
        return Ok(Value::Null);
    }
    let inner = |prefix: &str| ty.strip_prefix(prefix).and_then(|t| t.strip_suffix(')'));
    if let Some(t) = inner("Nullable(").or_else(|| inner("LowCardinality(")) {
        return convert(column, t, v);
    }
    let bad = || format!("{column}: {v} as {ty}");
    Ok(match ty {
        t if t.starts_with("UInt") => Value::U64(v.as_u64().ok_or_else(bad)?),
        t if t.starts_with("Int") => Value::I64(v.as_i64().ok_or_else(bad)?),
        t if t.starts_with("Float") => Value::F64(v.as_f64().ok_or_else(bad)?),
        "String" => {
            let s = v.as_str().ok_or_else(bad)?.to_owned();
            match weir_flow::Column::by_name(column) {
                Some(c) if c.kind == ColumnKind::Bytes => Value::Bytes(s.into_bytes()),
                _ => Value::Str(s),
            }
        }
        "IPv6" => Value::Ip(
            v.as_str()
                .ok_or_else(bad)?
                .parse::<Ipv6Addr>()
                .map_err(|_| bad())?,
        ),
        "IPv4" => Value::Ip(
            v.as_str()
                .ok_or_else(bad)?
                .parse::<Ipv4Addr>()
                .map_err(|_| bad())?
                .to_ipv6_mapped(),
        ),
        t if t.starts_with("DateTime") => {
            let text = format!("{}Z", v.as_str().ok_or_else(bad)?.replace(' ', "T"));
            Value::Time(filter::parse_time(&text)?)
        }
        t if t.starts_with("Array(") => Value::List(
            v.as_array()
                .ok_or_else(bad)?
                .iter()
                .map(|x| x.as_u64().and_then(|n| u32::try_from(n).ok()))
                .collect::<Option<_>>()
                .ok_or_else(bad)?,
        ),
        _ => return Err(bad()),
    })
}

impl Backend for Chdb {
    fn dialect(&self) -> &dyn Dialect {
        &ClickHouse
    }

    fn query(&self, _table: &Table, _range: TimeRange, sql: &str) -> Result<Rows, BackendError> {
        let (meta, rows) = self
            .run(sql)
            .map_err(|e| BackendError::new(BackendErrorKind::Engine, format!("{e}\n{sql}")))?;
        let rows = rows
            .iter()
            .map(|r| {
                r.iter()
                    .zip(&meta)
                    .map(|(v, (name, ty))| convert(name, ty, v))
                    .collect::<Result<Vec<_>, _>>()
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| BackendError::new(BackendErrorKind::Engine, e))?;
        Ok(Rows {
            columns: meta.into_iter().map(|(n, _)| n).collect(),
            rows,
            warnings: Vec::new(),
        })
    }
}

/// Questions of every kind, with filters, directions and comparisons.
fn questions() -> Vec<(&'static str, Query)> {
    let range = TimeRange::new(T0, T0 + 3 * HOUR);
    let q = |kind: Kind, filter_text: &str| {
        let mut q = Query::new(range, kind);
        if !filter_text.is_empty() {
            q.filter = Some(filter::parse(filter_text).expect("a filter"));
        }
        q
    };
    let top = |dims: Vec<Dim>, by: Metric, unit: Unit, agg: Agg, step: Option<u64>| {
        Kind::TopN(TopN {
            dims,
            by,
            unit,
            agg,
            step,
            limit: 5,
            other: true,
        })
    };
    let series = |split: Vec<Dim>| {
        Kind::Series(Series {
            step: Some(600),
            split,
            limit: 3,
            by: Metric::Bytes,
            unit: Unit::Rate,
        })
    };
    let f = |field: Field| Dim::Field(field);
    let mut by_exporter = q(series(vec![f(Field::proto)]), "");
    by_exporter.direction = Some(Direction::Exporter);
    let mut through_if = q(
        top(
            vec![f(Field::app)],
            Metric::Packets,
            Unit::Rate,
            Agg::Max,
            Some(600),
        ),
        "",
    );
    through_if.direction = Some(Direction::Interface {
        index: 2,
        exporter: Some(weir_flow::ipv4([192, 0, 2, 254])),
    });
    let mut compared = q(
        top(vec![Dim::DstNet], Metric::Bytes, Unit::Total, Agg::Total, None),
        "",
    );
    compared.range = TimeRange::new(T0 + 2 * HOUR, T0 + 3 * HOUR);
    compared.compare = Some(3600);
    let mut summary_in_out = q(Kind::Summary, "proto tcp");
    summary_in_out.direction = Some(Direction::Exporter);
    vec![
        ("summary", q(Kind::Summary, "")),
        ("summary in and out", summary_in_out),
        (
            "top AS pairs",
            q(
                top(
                    vec![f(Field::src_as), f(Field::dst_as)],
                    Metric::Bytes,
                    Unit::Total,
                    Agg::Total,
                    None,
                ),
                "dst port 443",
            ),
        ),
        (
            "top subnet pairs",
            q(
                top(
                    vec![Dim::SrcNet, Dim::DstNet],
                    Metric::Packets,
                    Unit::Rate,
                    Agg::Total,
                    None,
                ),
                "",
            ),
        ),
        (
            "top talkers by 95th percentile",
            q(
                top(
                    vec![f(Field::src_addr)],
                    Metric::Bytes,
                    Unit::Rate,
                    Agg::P95,
                    Some(300),
                ),
                "not proto icmp",
            ),
        ),
        ("top applications through an interface", through_if),
        ("subnets compared with the hour before", compared),
        ("series by protocol, in and out", by_exporter),
        ("series by source network", q(series(vec![Dim::SrcNet]), "")),
        (
            "series by subnet pair",
            q(series(vec![Dim::SrcNet, Dim::DstNet]), ""),
        ),
        (
            "series by protocol and port",
            q(series(vec![f(Field::proto), f(Field::dst_port)]), ""),
        ),
        (
            "flows",
            q(
                Kind::Flows(Flows {
                    order: Order::default(),
                    limit: 25,
                    offset: 5,
                }),
                "proto tcp and flags S and dst_country = JP",
            ),
        ),
        (
            "sizes",
            q(Kind::Sizes, "src net 10.0.0.0/8 or dst net 2001:db8:1::/48"),
        ),
        (
            "filters of every sort",
            q(
                Kind::Summary,
                "(bps > 1k or duration > 30000) and dst_as_path = 3356 and not app = dns \
                 and src_mac = 00:11:22:33:44:55 and dst_domain ~ \"*.example.*\" and tos in [0, 16]",
            ),
        ),
    ]
}

#[test]
fn clickhouse_answers_every_question_as_the_embedded_store_does() {
    let Some(chdb) = Chdb::start() else { return };
    let batch = flows(3000);
    let (_dir, embedded) = store("clickhouse-dialect", &batch, 3);
    chdb.load(&batch);
    let raw = [Table::raw(None)];
    let rows = |a: &Answer| (a.columns.clone(), a.rows.clone());
    for (name, question) in questions() {
        let ours = run_at(&embedded, &raw, &question, NOW).unwrap_or_else(|e| panic!("{name}: {e}"));
        let theirs = run_at(&chdb, &raw, &question, NOW).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!ours.rows.is_empty(), "{name}: no rows, nothing compared");
        assert_eq!(rows(&theirs), rows(&ours), "{name}");
        let compared = |a: &Answer| a.compare.as_deref().map(rows);
        assert_eq!(compared(&theirs), compared(&ours), "{name}: the earlier period");
    }
}
