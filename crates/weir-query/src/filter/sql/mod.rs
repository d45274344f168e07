//! Filters as SQL `WHERE` conditions, for every store through one [`Dialect`].
//!
//! The compiler here writes the structure (`AND`, `OR`, `NOT`, comparisons, `IN`, `BETWEEN`, `LIKE`,
//! `CASE`), which both engines read alike; everything that differs between engines (how a column, an
//! address, a time or a string is written, list and bit functions, integer division, casts) is a method of
//! [`Dialect`].
//!
//! No filter can inject SQL: the output holds only fixed keywords, schema column names (ASCII snake_case
//! from `weir_flow::COLUMNS`), integers formatted from `u64`s, addresses formatted from `Ipv6Addr`s, and
//! strings the user typed, which reach the output only through [`Dialect::string`], whose implementations
//! are tested to give back the exact string under their engine's quoting rules.
//!
//! Addresses are compared as 16-byte values (IPv4 mapped into IPv6), so an address is an equality and a
//! prefix is a `BETWEEN` of its first and last address, which both engines can use to skip row groups or
//! granules by their min/max statistics.

mod clickhouse;
mod datafusion;

use std::fmt::Write;
use std::net::{IpAddr, Ipv6Addr};

use weir_flow::{Field, Kind};

pub use clickhouse::ClickHouse;
pub use datafusion::DataFusion;

use super::ast::{Derived, Expr, Pred};
use super::glob;

/// What differs between the SQL engines Weir stores flows in.
///
/// Methods append to `out`. `column` arguments are column references already written by
/// [`column`](Self::column).
pub trait Dialect: std::fmt::Debug {
    /// A reference to the column called `name` (a schema name: ASCII lower case, digits and `_`).
    fn column(&self, out: &mut String, name: &str);
    /// An address literal comparable with an address column.
    fn addr(&self, out: &mut String, addr: Ipv6Addr);
    /// A time literal comparable with a time column; `ns` is at most `i64::MAX`.
    fn time(&self, out: &mut String, ns: u64);
    /// A string literal that the engine reads back as exactly `s`, whatever `s` holds.
    fn string(&self, out: &mut String, s: &str);
    /// `TRUE` or `FALSE`.
    fn boolean(&self, out: &mut String, value: bool);
    /// Whether every bit of `mask` is set in the integer `column`.
    fn bits_all(&self, out: &mut String, column: &str, mask: u64);
    /// Whether the list `column` holds any of `values` (at least one).
    fn list_has_any(&self, out: &mut String, column: &str, values: &[u32]);
    /// The flow's duration in nanoseconds as a signed 64-bit integer: `flow_end - flow_start`, or 0 when the
    /// end is not after the start.
    fn duration_ns(&self, out: &mut String);
    /// The integer expression `expr` divided by `by`, truncated.
    fn int_div(&self, out: &mut String, expr: &str, by: u64);
    /// The integer expression `expr` as a 64-bit float.
    fn float(&self, out: &mut String, expr: &str);
    /// A reference to the table called `name` (ASCII lower case, digits and `_`).
    fn table(&self, out: &mut String, name: &str);
    /// The start of the bucket of `step` seconds (counted from the Unix epoch) holding the time
    /// expression `expr`, as a time.
    fn time_bucket(&self, out: &mut String, expr: &str, step: u64);
    /// The integer expression `num` divided by the integer expression `den` (never zero), truncated.
    fn int_quotient(&self, out: &mut String, num: &str, den: &str);
    /// An integer literal typed as an unsigned 64-bit integer, so that a `CASE` mixing it with an unsigned
    /// column stays an unsigned integer.
    fn unsigned(&self, out: &mut String, value: u64);
    /// The network of the address column `addr` under the prefix length column `mask`, cut as
    /// [`net`](crate::plan::net) cuts it (a mask of 0 or one too long for the address's family is taken as
    /// `v4` or `v6` bits), in a form of the engine's choosing that [`net_literal`](Self::net_literal)
    /// compares with and that the backend reads back as text (`192.0.2.0/24`, `2001:db8::/48`).
    fn net(&self, out: &mut String, addr: &str, mask: &str, v4: u8, v6: u8);
    /// A network literal comparable with [`net`](Self::net).
    fn net_literal(&self, out: &mut String, net: (IpAddr, u8));
    /// The address or network expression `expr` (a column, a [`net`](Self::net) or a literal of either) in
    /// the form the engine's `CASE expr WHEN … END` looks up in a table rather than testing each `WHEN`.
    fn lookup_bytes(&self, out: &mut String, expr: &str);
}

/// `expr` as a SQL condition in `dialect`.
pub(crate) fn to_sql(expr: &Expr, dialect: &dyn Dialect) -> String {
    let mut out = String::new();
    Writer { d: dialect }.expr(&mut out, expr);
    out
}

/// Whether `e` is written with `AND`, `OR` or `BETWEEN` outside any parentheses of its own, so that it
/// needs them as an operand of `AND` or `OR`.
fn has_top_level_connective(e: &Expr) -> bool {
    match e {
        Expr::And(_) | Expr::Or(_) => true,
        Expr::Pred(Pred::Flags { .. }) => true,
        Expr::Pred(Pred::Addr { nets, .. }) => {
            let hosts = nets.iter().filter(|n| n.is_host()).count();
            hosts < nets.len()
        }
        _ => false,
    }
}

struct Writer<'d> {
    d: &'d dyn Dialect,
}

impl Writer<'_> {
    fn expr(&self, out: &mut String, e: &Expr) {
        match e {
            Expr::Any => self.d.boolean(out, true),
            Expr::Pred(p) => self.pred(out, p),
            Expr::Not(inner) => {
                out.push_str("NOT (");
                self.expr(out, inner);
                out.push(')');
            }
            Expr::And(items) => self.join(out, items, " AND "),
            Expr::Or(items) => self.join(out, items, " OR "),
        }
    }

    fn join(&self, out: &mut String, items: &[Expr], sep: &str) {
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.push_str(sep);
            }
            if has_top_level_connective(item) {
                out.push('(');
                self.expr(out, item);
                out.push(')');
            } else {
                self.expr(out, item);
            }
        }
    }

    fn column(&self, field: Field) -> String {
        let mut c = String::new();
        self.d.column(&mut c, field.column().name);
        c
    }

    /// A value of an integer, time or MAC column.
    fn scalar(&self, out: &mut String, field: Field, value: u64) {
        if field.column().kind == Kind::Time {
            self.d.time(out, value);
        } else {
            let _ = write!(out, "{value}");
        }
    }

    /// `item, item, …`.
    fn items<T>(&self, out: &mut String, items: &[T], mut one: impl FnMut(&mut String, &T)) {
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            one(out, item);
        }
    }

    fn pred(&self, out: &mut String, p: &Pred) {
        match p {
            Pred::Cmp { field, op, value } => {
                let _ = write!(out, "{} {} ", self.column(*field), op.symbol());
                self.scalar(out, *field, *value);
            }
            Pred::In { field, values } => {
                let _ = write!(out, "{} IN (", self.column(*field));
                self.items(out, values, |out, v| self.scalar(out, *field, *v));
                out.push(')');
            }
            Pred::Addr { field, nets } => {
                let col = self.column(*field);
                let hosts: Vec<Ipv6Addr> = nets.iter().filter(|n| n.is_host()).map(|n| n.addr()).collect();
                let mut first = true;
                let mut sep = |out: &mut String| {
                    if !std::mem::take(&mut first) {
                        out.push_str(" OR ");
                    }
                };
                match hosts.as_slice() {
                    [] => {}
                    [one] => {
                        sep(out);
                        let _ = write!(out, "{col} = ");
                        self.d.addr(out, *one);
                    }
                    _ => {
                        sep(out);
                        let _ = write!(out, "{col} IN (");
                        self.items(out, &hosts, |out, a| self.d.addr(out, *a));
                        out.push(')');
                    }
                }
                for n in nets.iter().filter(|n| !n.is_host()) {
                    sep(out);
                    let _ = write!(out, "{col} BETWEEN ");
                    self.d.addr(out, n.addr());
                    out.push_str(" AND ");
                    self.d.addr(out, n.last());
                }
            }
            Pred::Str { field, value } => {
                let _ = write!(out, "{} = ", self.column(*field));
                self.d.string(out, value);
            }
            Pred::StrIn { field, values } => {
                let _ = write!(out, "{} IN (", self.column(*field));
                self.items(out, values, |out, v| self.d.string(out, v));
                out.push(')');
            }
            Pred::Glob { field, pattern } => {
                let _ = write!(out, "{} LIKE ", self.column(*field));
                self.d.string(out, &glob::to_like(pattern));
            }
            Pred::ListHas { field, values } => self.d.list_has_any(out, &self.column(*field), values),
            Pred::Flags { mask } => {
                let (proto, flags) = (self.column(Field::proto), self.column(Field::tcp_flags));
                let _ = write!(out, "{proto} = {} AND ", weir_flow::codes::proto::TCP);
                self.d.bits_all(out, &flags, u64::from(*mask));
            }
            Pred::Derived { quantity, op, value } => {
                self.derived(out, *quantity);
                let _ = write!(out, " {} {value}", op.symbol());
            }
        }
    }

    /// A derived quantity, defined as in [`Derived`]: rates are floats, 0 when the flow has no duration
    /// (or, for `bpp`, no packets).
    fn derived(&self, out: &mut String, q: Derived) {
        let mut d = String::new();
        self.d.duration_ns(&mut d);
        let (bytes, packets) = (self.column(Field::bytes), self.column(Field::packets));
        let float = |e: &str| {
            let mut f = String::new();
            self.d.float(&mut f, e);
            f
        };
        match q {
            Derived::Duration => self.d.int_div(out, &d, 1_000_000),
            Derived::Bps => {
                let _ = write!(
                    out,
                    "CASE WHEN {d} > 0 THEN {} * 8000000000 / {d} ELSE 0 END",
                    float(&bytes)
                );
            }
            Derived::Pps => {
                let _ = write!(
                    out,
                    "CASE WHEN {d} > 0 THEN {} * 1000000000 / {d} ELSE 0 END",
                    float(&packets)
                );
            }
            Derived::Bpp => {
                let _ = write!(
                    out,
                    "CASE WHEN {packets} > 0 THEN {} / {packets} ELSE 0 END",
                    float(&bytes)
                );
            }
        }
    }
}
