//! The pieces every query's SQL is built from, written through the backend's [`Dialect`].
//!
//! Only fixed keywords, schema names, numbers formatted here and literals written by the dialect reach
//! the SQL, as in the filter compiler. Sums over one direction are `SUM(CASE WHEN … THEN x END)`: the
//! missing `ELSE` leaves other rows NULL, which sums skip, so no literal zero has to match the column's
//! unsigned type in either engine.

use std::fmt::Write;

use weir_flow::{Field, Kind as ColumnKind};

use super::dim::{DEFAULT_V4_PREFIX, DEFAULT_V6_PREFIX, Dim};
use super::measure::Side;
use super::query::{Direction, Metric, Query};
use super::table::Table;
use crate::backend::{TimeRange, Value};
use crate::filter::Dialect;

/// Writes SQL for one query in one dialect.
#[derive(Debug, Clone, Copy)]
pub struct Sql<'q> {
    /// The backend's dialect.
    pub d: &'q dyn Dialect,
    /// The query the SQL answers (its filter and direction go into every statement).
    pub query: &'q Query,
}

impl Sql<'_> {
    /// A column reference.
    pub fn col(&self, field: Field) -> String {
        let mut out = String::new();
        self.d.column(&mut out, field.column().name);
        out
    }

    /// A dimension's value: its column, or the network made of an address and its mask.
    pub fn dim(&self, d: Dim) -> String {
        let (addr, mask) = match d {
            Dim::Field(f) => return self.col(f),
            Dim::SrcNet => (Field::src_addr, Field::src_mask),
            Dim::DstNet => (Field::dst_addr, Field::dst_mask),
        };
        let mut out = String::new();
        self.d.net(
            &mut out,
            &self.col(addr),
            &self.col(mask),
            DEFAULT_V4_PREFIX,
            DEFAULT_V6_PREFIX,
        );
        out
    }

    /// `"a", <net> AS "src_net"`: a key's values, each named as the answer names it.
    pub fn key_select(&self, dims: &[Dim]) -> String {
        dims.iter()
            .map(|&d| match d {
                Dim::Field(f) => self.col(f),
                _ => {
                    let mut out = format!("{} AS ", self.dim(d));
                    self.d.column(&mut out, d.name());
                    out
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `"a", "src_net"`: a key's values by the names [`key_select`](Self::key_select) gives them, to group
    /// and sort by and to read from a subquery.
    pub fn key_names(&self, dims: &[Dim]) -> String {
        dims.iter()
            .map(|d| {
                let mut out = String::new();
                self.d.column(&mut out, d.name());
                out
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// A table reference.
    pub fn table(&self, table: &Table) -> String {
        let mut out = String::new();
        self.d.table(&mut out, &table.name);
        out
    }

    /// `FROM <table> WHERE <range> AND (<filter>) AND (<direction>) [AND <extra>]`.
    pub fn source(&self, table: &Table, range: TimeRange, extra: Option<&str>) -> String {
        let time = self.col(Field::time_received);
        let mut out = format!("FROM {} WHERE {time} >= ", self.table(table));
        self.d.time(&mut out, range.from);
        let _ = write!(out, " AND {time} < ");
        self.d.time(&mut out, range.to);
        if let Some(f) = &self.query.filter {
            let _ = write!(out, " AND ({})", f.to_sql(self.d));
        }
        if let Some(dir) = self.direction_condition() {
            let _ = write!(out, " AND {dir}");
        }
        if let Some(extra) = extra {
            let _ = write!(out, " AND {extra}");
        }
        out
    }

    /// The flows a direction keeps: through the interface (of the exporter), or with a known direction.
    fn direction_condition(&self) -> Option<String> {
        match self.query.direction? {
            Direction::Interface { index, exporter } => {
                let mut out = format!(
                    "({} = {index} OR {} = {index})",
                    self.col(Field::in_if),
                    self.col(Field::out_if)
                );
                if let Some(addr) = exporter {
                    let _ = write!(out, " AND {} = ", self.col(Field::exporter_addr));
                    self.d.addr(&mut out, addr);
                }
                Some(out)
            }
            Direction::Exporter => Some(format!(
                "{} IN ({}, {})",
                self.col(Field::flow_direction),
                weir_flow::codes::direction::INGRESS,
                weir_flow::codes::direction::EGRESS
            )),
        }
    }

    /// The condition that puts a flow on `side` (`None` for everything).
    fn side_condition(&self, side: Side) -> Option<String> {
        let direction = self.query.direction?;
        let code = |c: u8| format!("{} = {c}", self.col(Field::flow_direction));
        match (side, direction) {
            (Side::All, _) => None,
            (Side::In, Direction::Interface { index, .. }) => {
                Some(format!("{} = {index}", self.col(Field::in_if)))
            }
            (Side::Out, Direction::Interface { index, .. }) => {
                Some(format!("{} = {index}", self.col(Field::out_if)))
            }
            (Side::In, Direction::Exporter) => Some(code(weir_flow::codes::direction::INGRESS)),
            (Side::Out, Direction::Exporter) => Some(code(weir_flow::codes::direction::EGRESS)),
        }
    }

    /// The traffic of one stored row: bytes and packets scaled by the sampling rate, flows as counted.
    pub fn traffic(&self, metric: Metric) -> String {
        let rate = self.col(Field::sampling_rate);
        match metric {
            Metric::Bytes => format!("{} * {rate}", self.col(Field::bytes)),
            Metric::Packets => format!("{} * {rate}", self.col(Field::packets)),
            Metric::Flows => self.col(Field::flows),
        }
    }

    /// `SUM(x) AS alias`, or one sum per direction (`alias_in`, `alias_out`); `only` narrows every sum to
    /// the rows it holds for.
    pub fn sums(&self, x: &str, only: Option<&str>, alias: &str) -> String {
        self.per_side(alias, |side| {
            let cond = match (self.side_condition(side), only) {
                (Some(a), Some(b)) => Some(format!("{a} AND ({b})")),
                (Some(a), None) => Some(a),
                (None, Some(b)) => Some(b.to_owned()),
                (None, None) => None,
            };
            match cond {
                Some(c) => format!("SUM(CASE WHEN {c} THEN {x} END)"),
                None => format!("SUM({x})"),
            }
        })
    }

    /// `expr(side) AS alias[_in|_out]` for each side, comma-separated.
    pub fn per_side(&self, alias: &str, mut expr: impl FnMut(Side) -> String) -> String {
        Side::of(self.query.direction)
            .iter()
            .map(|&side| format!("{} AS {}", expr(side), self.alias(alias, side)))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `alias[_in], alias[_out]`: the per-side values [`per_side`](Self::per_side) named, to select again.
    pub fn aliases(&self, alias: &str) -> String {
        Side::of(self.query.direction)
            .iter()
            .map(|&side| self.alias(alias, side))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The alias of a per-side value.
    pub fn alias(&self, alias: &str, side: Side) -> String {
        match side {
            Side::All => alias.to_owned(),
            Side::In => format!("{alias}_in"),
            Side::Out => format!("{alias}_out"),
        }
    }

    /// The sum of the per-side values `alias`, NULL counting as zero: what keys are ranked by.
    pub fn score(&self, alias: &str) -> String {
        match self.query.direction {
            None => alias.to_owned(),
            Some(_) => format!("COALESCE({alias}_in, 0) + COALESCE({alias}_out, 0)"),
        }
    }

    /// The bucket of `step` seconds of a row's `time_received`.
    pub fn bucket(&self, step: u64) -> String {
        let mut out = String::new();
        self.d
            .time_bucket(&mut out, &self.col(Field::time_received), step);
        out
    }

    /// A literal of `dim`'s type holding `value` (a key value the backend returned).
    pub fn literal(&self, dim: Dim, value: &Value) -> Option<String> {
        let mut out = String::new();
        let Dim::Field(field) = dim else {
            // A network, read back as text from the backend.
            let Value::Str(s) = value else { return None };
            self.d.net_literal(&mut out, super::dim::parse_net(s)?);
            return Some(out);
        };
        match (field.column().kind, value) {
            (ColumnKind::Ip, Value::Ip(a)) => self.d.addr(&mut out, *a),
            (ColumnKind::Str, Value::Str(s)) => self.d.string(&mut out, s),
            (ColumnKind::Time, v) => self.d.time(&mut out, v.as_u64()?),
            (ColumnKind::U8 | ColumnKind::U16 | ColumnKind::U32 | ColumnKind::U64 | ColumnKind::Mac, v) => {
                let _ = write!(out, "{}", v.as_u64()?);
            }
            _ => return None,
        }
        Some(out)
    }

    /// `CASE <key> WHEN <k1> THEN 1 … ELSE 0 END`: the slot of a row's key of the one dimension `dim` among
    /// `keys` (numbered from 1), by the names [`derived_source`](Self::derived_source) gives. Engines look
    /// such a `CASE` up in a table made once, where a `CASE` of tests compares each row with every key in
    /// turn: the tests were as costly as ranking the keys. `None` if a key has the wrong type.
    pub fn slot_lookup(&self, dim: Dim, keys: &[Vec<Value>]) -> Option<String> {
        let bytes = match dim {
            Dim::Field(f) => f.column().kind == ColumnKind::Ip,
            Dim::SrcNet | Dim::DstNet => true,
        };
        let lookup = |expr: &str| {
            if !bytes {
                return expr.to_owned();
            }
            let mut out = String::new();
            self.d.lookup_bytes(&mut out, expr);
            out
        };
        let mut out = format!("CASE {}", lookup(&self.key_names(&[dim])));
        for (i, key) in keys.iter().enumerate() {
            let [value] = key.as_slice() else { return None };
            let _ = write!(out, " WHEN {} THEN {}", lookup(&self.literal(dim, value)?), i + 1);
        }
        out.push_str(" ELSE 0 END");
        Some(out)
    }

    /// `(a = x AND <net> = y)`: a row has this key.
    pub fn key_match(&self, dims: &[Dim], key: &[Value]) -> Option<String> {
        self.key_test(dims, key, |d| self.dim(d))
    }

    /// `(a = x AND "src_net" = y)`: a row of [`derived_source`](Self::derived_source) has this key.
    pub fn key_match_named(&self, dims: &[Dim], key: &[Value]) -> Option<String> {
        self.key_test(dims, key, |d| self.key_names(&[d]))
    }

    fn key_test(&self, dims: &[Dim], key: &[Value], value: impl Fn(Dim) -> String) -> Option<String> {
        let parts = dims
            .iter()
            .zip(key)
            .map(|(&d, v)| Some(format!("{} = {}", value(d), self.literal(d, v)?)))
            .collect::<Option<Vec<_>>>()?;
        Some(format!("({})", parts.join(" AND ")))
    }

    /// `from` (a [`source`](Self::source)) with the derived dimensions of `dims` computed once per row and
    /// named, `FROM (SELECT *, <net> AS "src_net" FROM …) AS f`, so that statements testing a row's key
    /// several times do not compute it each time; `from` itself when `dims` has none.
    pub fn derived_source(&self, dims: &[Dim], from: &str) -> String {
        let derived: Vec<Dim> = dims
            .iter()
            .copied()
            .filter(|d| !matches!(d, Dim::Field(_)))
            .collect();
        if derived.is_empty() {
            return from.to_owned();
        }
        format!("FROM (SELECT *, {} {from}) AS f", self.key_select(&derived))
    }
}
