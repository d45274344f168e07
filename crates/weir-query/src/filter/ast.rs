//! The checked filter: every field is a schema column and every value has that column's type.
//!
//! nfdump's primitives are rewritten into these nodes as they are parsed (`port 80` is
//! `src_port = 80 or dst_port = 80`), so the SQL compiler and the evaluator know one small language.
//! And and or are n-ary and never directly nested in themselves, so a long chain of `or` is a flat list
//! rather than a deep tree, and every walk over the tree is as deep as the filter's parentheses.

use std::cmp::Ordering;
use std::net::Ipv6Addr;

use weir_flow::Field;

/// A filter expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// Every flow (`any`, or an empty filter).
    Any,
    /// One test on a flow.
    Pred(Pred),
    /// The operand does not hold.
    Not(Box<Expr>),
    /// Every operand holds; at least two operands, none of them an `And`.
    And(Vec<Expr>),
    /// Some operand holds; at least two operands, none of them an `Or`.
    Or(Vec<Expr>),
}

impl Expr {
    /// `a and b`, flattening operands that are themselves `and`s; one operand is itself, none is `any`.
    pub fn and(items: impl IntoIterator<Item = Expr>) -> Expr {
        Self::join(items, true)
    }

    /// `a or b`, flattening operands that are themselves `or`s; one operand is itself, none is `not any`.
    pub fn or(items: impl IntoIterator<Item = Expr>) -> Expr {
        Self::join(items, false)
    }

    fn join(items: impl IntoIterator<Item = Expr>, and: bool) -> Expr {
        let mut out = Vec::new();
        for item in items {
            match item {
                Expr::And(inner) if and => out.extend(inner),
                Expr::Or(inner) if !and => out.extend(inner),
                other => out.push(other),
            }
        }
        match (out.len(), and) {
            (1, _) => out.pop().unwrap_or(Expr::Any),
            (0, true) => Expr::Any,
            (0, false) => Expr::Not(Box::new(Expr::Any)),
            (_, true) => Expr::And(out),
            (_, false) => Expr::Or(out),
        }
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CmpOp {
    /// `=` (also `==`, `eq`).
    Eq,
    /// `!=` (also `ne`).
    Ne,
    /// `<` (also `lt`).
    Lt,
    /// `<=` (also `le`).
    Le,
    /// `>` (also `gt`).
    Gt,
    /// `>=` (also `ge`).
    Ge,
}

impl CmpOp {
    /// Every operator.
    pub const ALL: [CmpOp; 6] = [Self::Eq, Self::Ne, Self::Lt, Self::Le, Self::Gt, Self::Ge];

    /// Whether `left op right` holds, given how `left` compares with `right`.
    #[inline]
    pub fn holds(self, left_vs_right: Ordering) -> bool {
        match self {
            Self::Eq => left_vs_right == Ordering::Equal,
            Self::Ne => left_vs_right != Ordering::Equal,
            Self::Lt => left_vs_right == Ordering::Less,
            Self::Le => left_vs_right != Ordering::Greater,
            Self::Gt => left_vs_right == Ordering::Greater,
            Self::Ge => left_vs_right != Ordering::Less,
        }
    }

    /// The operator as the filter language and SQL both write it.
    pub fn symbol(self) -> &'static str {
        match self {
            Self::Eq => "=",
            Self::Ne => "!=",
            Self::Lt => "<",
            Self::Le => "<=",
            Self::Gt => ">",
            Self::Ge => ">=",
        }
    }
}

/// An address prefix, in the schema's one address type (IPv4 is IPv4-mapped, so an IPv4 `/8` is a `/104`).
/// Bits past the prefix length are always zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Net {
    addr: Ipv6Addr,
    len: u8,
}

impl Net {
    /// The prefix of `len` bits (at most 128) that contains `addr`; host bits are cleared, as nfdump does.
    pub fn new(addr: Ipv6Addr, len: u8) -> Option<Net> {
        let mask = Self::mask(len)?;
        Some(Net {
            addr: Ipv6Addr::from(u128::from(addr) & mask),
            len,
        })
    }

    /// The one-address prefix of `addr`.
    pub fn host(addr: Ipv6Addr) -> Net {
        Net { addr, len: 128 }
    }

    fn mask(len: u8) -> Option<u128> {
        match len {
            0 => Some(0),
            1..=128 => Some(u128::MAX << (128 - u32::from(len))),
            _ => None,
        }
    }

    /// The first address of the prefix.
    pub fn addr(self) -> Ipv6Addr {
        self.addr
    }

    /// The prefix length in IPv6 bits.
    pub fn prefix_len(self) -> u8 {
        self.len
    }

    /// Whether the prefix is one address.
    pub fn is_host(self) -> bool {
        self.len == 128
    }

    /// The last address of the prefix.
    pub fn last(self) -> Ipv6Addr {
        let host_bits = Self::mask(self.len).map_or(0, |m| !m);
        Ipv6Addr::from(u128::from(self.addr) | host_bits)
    }
}

/// A quantity computed from several columns.
///
/// The flow's duration is `flow_end - flow_start` (0 when the end is not after the start). Rates are
/// real numbers computed from the duration in nanoseconds: `bps = bytes * 8 / seconds`,
/// `pps = packets / seconds`, and are 0 for a flow of zero duration (as in nfdump); `bpp = bytes / packets`
/// is 0 for a flow of no packets. Counters are compared as stored, before sampling is scaled in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Derived {
    /// Duration in whole milliseconds (nfdump's unit), truncated.
    Duration,
    /// Bits per second.
    Bps,
    /// Packets per second.
    Pps,
    /// Bytes per packet.
    Bpp,
}

impl Derived {
    /// Every derived quantity.
    pub const ALL: [Derived; 4] = [Self::Duration, Self::Bps, Self::Pps, Self::Bpp];

    /// The name users type.
    pub fn name(self) -> &'static str {
        match self {
            Self::Duration => "duration",
            Self::Bps => "bps",
            Self::Pps => "pps",
            Self::Bpp => "bpp",
        }
    }
}

/// One test on a flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pred {
    /// An integer, time (nanoseconds) or MAC column compared with a value.
    Cmp {
        /// The column.
        field: Field,
        /// The operator.
        op: CmpOp,
        /// The value, within the column's range.
        value: u64,
    },
    /// An integer, time or MAC column equal to one of the values.
    In {
        /// The column.
        field: Field,
        /// The values, as written.
        values: Vec<u64>,
    },
    /// An address column within one of the prefixes (a host is a `/128`).
    Addr {
        /// The column.
        field: Field,
        /// The prefixes, as written.
        nets: Vec<Net>,
    },
    /// A string column equal to a value (case-sensitive).
    Str {
        /// The column.
        field: Field,
        /// The value.
        value: String,
    },
    /// A string column equal to one of the values.
    StrIn {
        /// The column.
        field: Field,
        /// The values, as written.
        values: Vec<String>,
    },
    /// A string column matching a glob in which `*` stands for any run of characters.
    Glob {
        /// The column.
        field: Field,
        /// The pattern.
        pattern: String,
    },
    /// A list column (AS path, communities) holding one of the values.
    ListHas {
        /// The column.
        field: Field,
        /// The values, as written.
        values: Vec<u32>,
    },
    /// A TCP flow with every one of these TCP flags set (nfdump's `flags`).
    Flags {
        /// The flags, in TCP header bit order (FIN = 1 … CWR = 128).
        mask: u8,
    },
    /// A derived quantity compared with a value.
    Derived {
        /// The quantity.
        quantity: Derived,
        /// The operator.
        op: CmpOp,
        /// The value.
        value: u64,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nets_clear_host_bits_and_span_their_range() {
        let n = Net::new(weir_flow::ipv4([10, 1, 2, 3]), 104).unwrap();
        assert_eq!(n.addr(), weir_flow::ipv4([10, 0, 0, 0]));
        assert_eq!(n.last(), weir_flow::ipv4([10, 255, 255, 255]));
        assert_eq!(
            Net::new(Ipv6Addr::LOCALHOST, 0).unwrap().last(),
            Ipv6Addr::from(u128::MAX)
        );
        assert_eq!(Net::new(Ipv6Addr::LOCALHOST, 129), None);
        assert!(Net::host(Ipv6Addr::LOCALHOST).is_host());
    }

    #[test]
    fn joining_flattens_and_unwraps_single_operands() {
        let p = |v| Expr::Pred(Pred::Flags { mask: v });
        assert_eq!(Expr::and([p(1)]), p(1));
        assert_eq!(
            Expr::and([Expr::and([p(1), p(2)]), Expr::or([p(3), p(4)])]),
            Expr::And(vec![p(1), p(2), Expr::Or(vec![p(3), p(4)])])
        );
    }

    #[test]
    fn operators_hold_as_their_symbols_say() {
        use Ordering::*;
        let table = [
            (CmpOp::Eq, [false, true, false]),
            (CmpOp::Ne, [true, false, true]),
            (CmpOp::Lt, [true, false, false]),
            (CmpOp::Le, [true, true, false]),
            (CmpOp::Gt, [false, false, true]),
            (CmpOp::Ge, [false, true, true]),
        ];
        for (op, want) in table {
            assert_eq!(
                [Less, Equal, Greater].map(|o| op.holds(o)),
                want,
                "{}",
                op.symbol()
            );
        }
    }
}
