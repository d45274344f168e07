//! The in-memory predicate: a checked [`Expr`] compiled into a tree whose leaves hold a column reader and
//! values in the form the test needs (address ranges as `u128`, sorted lists), so that evaluating a flow
//! allocates nothing and reads each column once per test.

use std::cmp::Ordering;

use weir_flow::codes::proto;
use weir_flow::{FlowBatch, FlowRecord, ListRef, Sym};

use super::access::{Access, access};
use super::ast::{CmpOp, Derived, Expr, Pred};
use super::glob;

/// A compiled filter.
#[derive(Debug, Clone)]
pub(crate) struct Program {
    root: Node,
}

#[derive(Debug, Clone)]
enum Node {
    Const(bool),
    Not(Box<Node>),
    And(Box<[Node]>),
    Or(Box<[Node]>),
    Cmp {
        get: fn(&FlowRecord) -> u64,
        op: CmpOp,
        value: u64,
    },
    In {
        get: fn(&FlowRecord) -> u64,
        sorted: Box<[u64]>,
    },
    Addr {
        get: fn(&FlowRecord) -> std::net::Ipv6Addr,
        ranges: Box<[(u128, u128)]>,
    },
    Str {
        get: fn(&FlowRecord) -> Sym,
        value: Box<str>,
    },
    StrIn {
        get: fn(&FlowRecord) -> Sym,
        values: Box<[Box<str>]>,
    },
    Glob {
        get: fn(&FlowRecord) -> Sym,
        pattern: Box<str>,
    },
    List {
        get: fn(&FlowRecord) -> ListRef,
        sorted: Box<[u32]>,
    },
    Flags {
        mask: u16,
    },
    Derived {
        quantity: Derived,
        op: CmpOp,
        value: u64,
    },
}

impl Program {
    pub(crate) fn compile(expr: &Expr) -> Program {
        Program { root: node(expr) }
    }

    #[inline]
    pub(crate) fn matches(&self, flow: &FlowRecord, batch: &FlowBatch) -> bool {
        self.root.eval(flow, batch)
    }
}

fn sorted<T: Ord + Copy>(values: &[T]) -> Box<[T]> {
    let mut v = values.to_vec();
    v.sort_unstable();
    v.dedup();
    v.into_boxed_slice()
}

fn node(expr: &Expr) -> Node {
    match expr {
        Expr::Any => Node::Const(true),
        Expr::Not(inner) => Node::Not(Box::new(node(inner))),
        Expr::And(items) => Node::And(items.iter().map(node).collect()),
        Expr::Or(items) => Node::Or(items.iter().map(node).collect()),
        Expr::Pred(p) => leaf(p),
    }
}

/// The node of one test. A test whose column has another shape than the test (which the parser never
/// produces) matches nothing.
fn leaf(p: &Pred) -> Node {
    match p {
        Pred::Cmp { field, op, value } => match access(*field) {
            Access::Uint(get) => Node::Cmp {
                get,
                op: *op,
                value: *value,
            },
            _ => Node::Const(false),
        },
        Pred::In { field, values } => match access(*field) {
            Access::Uint(get) => Node::In {
                get,
                sorted: sorted(values),
            },
            _ => Node::Const(false),
        },
        Pred::Addr { field, nets } => match access(*field) {
            Access::Ip(get) => Node::Addr {
                get,
                ranges: nets
                    .iter()
                    .map(|n| (u128::from(n.addr()), u128::from(n.last())))
                    .collect(),
            },
            _ => Node::Const(false),
        },
        Pred::Str { field, value } => match access(*field) {
            Access::Str(get) => Node::Str {
                get,
                value: value.as_str().into(),
            },
            _ => Node::Const(false),
        },
        Pred::StrIn { field, values } => match access(*field) {
            Access::Str(get) => Node::StrIn {
                get,
                values: values.iter().map(|v| v.as_str().into()).collect(),
            },
            _ => Node::Const(false),
        },
        Pred::Glob { field, pattern } => match access(*field) {
            Access::Str(get) => Node::Glob {
                get,
                pattern: pattern.as_str().into(),
            },
            _ => Node::Const(false),
        },
        Pred::ListHas { field, values } => match access(*field) {
            Access::List(get) => Node::List {
                get,
                sorted: sorted(values),
            },
            _ => Node::Const(false),
        },
        Pred::Flags { mask } => Node::Flags { mask: (*mask).into() },
        Pred::Derived { quantity, op, value } => Node::Derived {
            quantity: *quantity,
            op: *op,
            value: *value,
        },
    }
}

/// Membership in a sorted slice: a scan for the short lists filters usually hold, a binary search beyond.
#[inline]
fn contains<T: Ord + Copy>(sorted: &[T], v: T) -> bool {
    if sorted.len() <= 16 {
        sorted.contains(&v)
    } else {
        sorted.binary_search(&v).is_ok()
    }
}

impl Node {
    fn eval(&self, r: &FlowRecord, b: &FlowBatch) -> bool {
        match self {
            Node::Const(v) => *v,
            Node::Not(inner) => !inner.eval(r, b),
            Node::And(items) => items.iter().all(|n| n.eval(r, b)),
            Node::Or(items) => items.iter().any(|n| n.eval(r, b)),
            Node::Cmp { get, op, value } => op.holds(get(r).cmp(value)),
            Node::In { get, sorted } => contains(sorted, get(r)),
            Node::Addr { get, ranges } => {
                let a = u128::from(get(r));
                ranges.iter().any(|&(lo, hi)| lo <= a && a <= hi)
            }
            Node::Str { get, value } => b.str(get(r)) == &**value,
            Node::StrIn { get, values } => {
                let s = b.str(get(r));
                values.iter().any(|v| &**v == s)
            }
            Node::Glob { get, pattern } => glob::matches(pattern, b.str(get(r))),
            Node::List { get, sorted } => b.list(get(r)).iter().any(|&v| contains(sorted, v)),
            Node::Flags { mask } => r.proto == proto::TCP && r.tcp_flags & mask == *mask,
            Node::Derived { quantity, op, value } => op.holds(derived(*quantity, r, *value)),
        }
    }
}

/// How a flow's derived quantity compares with `n`, exactly: rates are compared by cross-multiplying in
/// 128 bits rather than by dividing, so no rounding moves a flow across a boundary.
pub(crate) fn derived(quantity: Derived, r: &FlowRecord, n: u64) -> Ordering {
    const NS_PER_MS: u64 = 1_000_000;
    const NS_PER_S: u128 = 1_000_000_000;
    let d = r.flow_end.saturating_sub(r.flow_start);
    let n128 = u128::from(n);
    match quantity {
        Derived::Duration => (d / NS_PER_MS).cmp(&n),
        Derived::Bps | Derived::Pps if d == 0 => 0.cmp(&n),
        Derived::Bps => (u128::from(r.bytes) * 8 * NS_PER_S).cmp(&(n128 * u128::from(d))),
        Derived::Pps => (u128::from(r.packets) * NS_PER_S).cmp(&(n128 * u128::from(d))),
        Derived::Bpp if r.packets == 0 => 0.cmp(&n),
        Derived::Bpp => u128::from(r.bytes).cmp(&(n128 * u128::from(r.packets))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flow(bytes: u64, packets: u64, ms: u64) -> FlowRecord {
        FlowRecord {
            bytes,
            packets,
            flow_start: 1_000_000_000,
            flow_end: 1_000_000_000 + ms * 1_000_000,
            ..FlowRecord::default()
        }
    }

    #[test]
    fn derives_rates_exactly_and_zero_without_time_or_packets() {
        use Derived::*;
        use Ordering::*;
        let f = flow(1_000, 10, 2_000);
        assert_eq!(derived(Duration, &f, 2_000), Equal);
        assert_eq!(derived(Bps, &f, 4_000), Equal);
        assert_eq!(derived(Bps, &f, 3_999), Greater);
        assert_eq!(derived(Pps, &f, 5), Equal);
        assert_eq!(derived(Bpp, &f, 100), Equal);
        assert_eq!(derived(Bpp, &f, 101), Less);
        let instant = flow(1_500, 1, 0);
        assert_eq!(derived(Bps, &instant, 0), Equal);
        assert_eq!(derived(Pps, &instant, 1), Less);
        let empty = flow(0, 0, 5);
        assert_eq!(derived(Bpp, &empty, 0), Equal);
        let backwards = FlowRecord {
            flow_start: 10,
            flow_end: 5,
            ..flow(1, 1, 0)
        };
        assert_eq!(derived(Duration, &backwards, 0), Equal);
        let huge = flow(u64::MAX, u64::MAX, 1);
        assert_eq!(derived(Bps, &huge, u64::MAX), Greater);
    }
}
