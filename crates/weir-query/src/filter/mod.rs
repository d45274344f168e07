//! The filter language: what users type to select flows, in the CLI, the API, live views and detection
//! rules. It is a superset of nfdump's filter syntax, plus a comparison on every schema column by name.
//!
//! ```text
//! proto tcp and dst port in [80, 443] and not src net 10.0.0.0/8
//! dst_country = JP and src_as in [15169, 13335]
//! (flags S and not flags A) or bps > 10M
//! in_if_name ~ "xe-0/0/*" && dst_addr << 2001:db8::/32
//! ```
//!
//! # Structure
//! `or` (`||`) binds loosest, then `and` (`&&`), then `not` (`!`); parentheses group. Keywords and field
//! names are case-insensitive; string values are case-sensitive. `#` starts a comment to the end of the
//! line. An empty filter selects every flow, as `any` does.
//!
//! # Comparisons on schema columns
//! `FIELD OP VALUE` or `FIELD in [V1, V2 …]` (commas optional), for every column of
//! `weir_flow::COLUMNS` but `extra_fields`:
//! - numbers: `= == != < <= > >=` and nfdump's words `eq ne lt le gt ge`. Numbers are decimal or `0x` hex;
//!   a decimal may end in `k`, `M`, `G` or `T` (either case), which multiply by powers of **1000**, as in
//!   nfdump (`bytes > 1M` is more than 1 000 000 bytes). Each value is checked against the column's range.
//!   `proto` also takes names (`tcp`, `udp`, `icmp`, `icmp6`, `gre`, `esp`, …).
//! - times (`time_received`, `flow_start`, `flow_end`): the same operators, with RFC 3339 values
//!   (`2024-03-01T12:00:00Z`, an offset, or a date alone for its midnight UTC) or nanoseconds.
//! - MACs (`src_mac`, `dst_mac`): `00:11:22:33:44:55`, `00-11-…` or `0011.2233.4455`.
//! - addresses: `=` and `!=` with one address, `<<` with a prefix (`dst_addr << 10.0.0.0/8`: contained in
//!   it), `in` with addresses and prefixes.
//! - strings: `=`, `!=`, `in`, and `~` with a glob in which `*` matches any run of characters
//!   (`src_domain ~ "*.example.com"`); there is no other wildcard. Values are bare words or quoted with
//!   `"` or `'` (a backslash escapes a quote or a backslash).
//! - lists (`dst_as_path`, `dst_communities`): `= n` holds when the list contains `n`, `!= n` when it does
//!   not, `in [..]` when it contains any of them; communities may be written `65000:100`.
//!
//! # nfdump primitives
//! `any`; `ipv4`/`inet`, `ipv6`/`inet6` (by `etype`); `proto tcp|udp|icmp|<n>`; `[src|dst] ip|host ADDR`,
//! `[src|dst] ip in [ADDR|PREFIX …]`; `[src|dst] net PREFIX` (also `172.16/12` and `net 10.0.0.0
//! 255.0.0.0`; host bits are cleared); `[src|dst] port [OP] n`, `port in [..]`; `[src|dst] as [OP] n`;
//! `[src|dst] mask n`; `[src|dst] vlan n`; `[src|dst|in|out] mac MAC`; `[in|out] if n`; `icmp-type n`,
//! `icmp-code n` (and an ICMP or ICMPv6 flow); `flags LETTERS` (a TCP flow with every listed flag set:
//! `F S R P A U E C`, `X` for `FSRPAU`) or `flags [OP] n`; `tos n`; `router ip ADDR` (the exporter);
//! `next ip ADDR`; `bgp next ip ADDR`; `packets|bytes|flows [OP] n`; `duration|bps|pps|bpp [OP] n`.
//! Without `src` or `dst`, address, port, AS, mask, MAC and interface primitives match either side.
//!
//! # Derived quantities
//! `duration` is `flow_end - flow_start` in whole milliseconds (nfdump's unit), 0 when the end is not after
//! the start. `bps = bytes * 8 / seconds` and `pps = packets / seconds` use the duration in nanoseconds
//! and are 0 for a flow of zero duration, as in nfdump; `bpp = bytes / packets` is 0 for a flow without
//! packets. Rates are real numbers: the in-memory predicate compares them exactly, SQL in double precision.
//! Counters are compared as stored, before sampling is scaled in (the `sampling_rate` column is there to
//! filter on).

mod access;
mod ast;
mod bind;
mod display;
mod error;
mod eval;
mod glob;
mod lexer;
mod nfdump;
mod parser;
pub mod sql;
pub mod suggest;
mod value;

use std::fmt;

use weir_flow::{FlowBatch, FlowRecord};

pub use ast::{CmpOp, Derived, Expr, Net, Pred};
pub use error::FilterError;
pub(crate) use error::Hint;
pub use parser::MAX_DEPTH;
pub use sql::{ClickHouse, DataFusion, Dialect};
pub use value::time as parse_time;

/// Parses and checks a filter against the schema, and compiles it.
///
/// ```
/// use weir_query::filter::{self, DataFusion};
///
/// let f = filter::parse("proto tcp and dst port 443").unwrap();
/// assert_eq!(f.to_string(), "proto = 6 and dst_port = 443");
/// assert_eq!(f.to_sql(&DataFusion), r#""proto" = 6 AND "dst_port" = 443"#);
///
/// let e = filter::parse("dst_contry = JP").unwrap_err();
/// assert_eq!(e.to_string(), "unknown field `dst_contry` at 1:1; did you mean `dst_country`?");
/// ```
pub fn parse(src: &str) -> Result<Filter, FilterError> {
    let expr = parser::parse(src)?;
    let program = eval::Program::compile(&expr);
    Ok(Filter { expr, program })
}

/// A checked filter, ready to evaluate on flows or to be written as SQL. Its `Display` is the filter in
/// canonical form, which [`parse`] reads back to the same [`Expr`].
#[derive(Debug, Clone)]
pub struct Filter {
    expr: Expr,
    program: eval::Program,
}

impl Filter {
    /// The checked expression.
    pub fn expr(&self) -> &Expr {
        &self.expr
    }

    /// Whether `flow` passes the filter. Strings and lists in a [`FlowRecord`] are handles into the pools of
    /// the [`FlowBatch`] it belongs to, so the batch comes along. Allocates nothing.
    #[inline]
    pub fn matches(&self, flow: &FlowRecord, batch: &FlowBatch) -> bool {
        self.program.matches(flow, batch)
    }

    /// The filter as a SQL condition (the body of a `WHERE`) in `dialect`.
    pub fn to_sql(&self, dialect: &dyn Dialect) -> String {
        sql::to_sql(&self.expr, dialect)
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.expr.fmt(f)
    }
}
