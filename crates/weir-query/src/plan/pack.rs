//! Keys of several narrow integer dimensions packed into one unsigned 64-bit integer.
//!
//! Engines group by one integer column much faster than by a tuple of columns: a tuple is hashed and
//! compared column by column, or copied into rows first, where one integer is hashed and compared in a
//! single step. A key such as (`src_as`, `dst_as`) or (`proto`, `dst_port`) fits in 64 bits, so it is
//! grouped and sorted as `src_as * 2^32 + dst_as`, and only the few rows of the answer are taken apart
//! again. The packed order is the tuple's order (the first dimension in the highest bits), so ties are
//! broken as they are without packing.

use std::fmt::Write;

use weir_flow::{Field, Kind};

use super::dim::Dim;
use super::sql::Sql;
use crate::backend::Value;

/// The name the packed key goes by inside a statement (no schema column has it).
const KEY: &str = "weir_key";

/// A key of several dimensions that packs into 64 bits.
#[derive(Debug, Clone)]
pub struct Packed {
    /// Each dimension's field and width in bits, highest first.
    parts: Vec<(Field, u32)>,
}

impl Packed {
    /// The packing of `dims`: `None` unless there are at least two, all integer columns of 32 bits or
    /// fewer, 64 bits together.
    pub fn of(dims: &[Dim]) -> Option<Packed> {
        if dims.len() < 2 {
            return None;
        }
        let parts = dims
            .iter()
            .map(|d| match *d {
                Dim::Field(f) => match f.column().kind {
                    Kind::U8 => Some((f, 8)),
                    Kind::U16 => Some((f, 16)),
                    Kind::U32 => Some((f, 32)),
                    _ => None,
                },
                Dim::SrcNet | Dim::DstNet => None,
            })
            .collect::<Option<Vec<_>>>()?;
        (parts.iter().map(|(_, bits)| bits).sum::<u32>() <= 64).then_some(Packed { parts })
    }

    /// The packed key's name, to group and sort by.
    pub fn key(&self, s: &Sql<'_>) -> String {
        let mut out = String::new();
        s.d.column(&mut out, KEY);
        out
    }

    /// `"a" * 2^32 + "b" AS "weir_key"`: the packed key of a row, named.
    pub fn select(&self, s: &Sql<'_>) -> String {
        format!("{} AS {}", self.expr(s), self.key(s))
    }

    /// `"a" * 2^32 + "b"`: the packed key of a row.
    fn expr(&self, s: &Sql<'_>) -> String {
        self.parts
            .iter()
            .enumerate()
            .map(|(i, &(field, _))| match self.shift(i) {
                0 => s.col(field),
                shift => format!("{} * {}", s.col(field), unsigned(s, 1u64 << shift)),
            })
            .collect::<Vec<_>>()
            .join(" + ")
    }

    /// `CASE <packed key> WHEN <k1> THEN 1 … ELSE 0 END`: the slot of a row's key among `keys` (numbered
    /// from 1), looked up as [`Sql::slot_lookup`] looks up a key of one dimension. `None` if a key does not
    /// hold one value of its fields' width per dimension.
    pub fn slot_lookup(&self, s: &Sql<'_>, keys: &[Vec<Value>]) -> Option<String> {
        let mut out = format!("CASE {}", self.expr(s));
        for (i, key) in keys.iter().enumerate() {
            let _ = write!(out, " WHEN {} THEN {}", unsigned(s, self.value(key)?), i + 1);
        }
        out.push_str(" ELSE 0 END");
        Some(out)
    }

    /// The packed value of `key`.
    fn value(&self, key: &[Value]) -> Option<u64> {
        if key.len() != self.parts.len() {
            return None;
        }
        let mut packed = 0u64;
        for (i, (v, &(_, bits))) in key.iter().zip(&self.parts).enumerate() {
            let v = v.as_u64().filter(|&v| v >> bits == 0)?;
            packed |= v << self.shift(i);
        }
        Some(packed)
    }

    /// `SELECT <each dimension of the key, named> , <values> FROM (<inner>) AS p ORDER BY <order>`: the
    /// rows of `inner` (a statement that selects the packed key and `values`) with the key taken apart
    /// again, in the order `order` (which names the dimensions as the answer does).
    pub fn unpack(&self, s: &Sql<'_>, inner: &str, values: &str, order: &str) -> String {
        let key = self.key(s);
        let dims = self
            .parts
            .iter()
            .enumerate()
            .map(|(i, &(field, bits))| {
                let shifted = match self.shift(i) {
                    0 => key.clone(),
                    shift => {
                        let mut out = String::new();
                        s.d.int_quotient(&mut out, &key, &unsigned(s, 1u64 << shift));
                        out
                    }
                };
                let value = if i == 0 {
                    shifted
                } else {
                    format!("{shifted} % {}", unsigned(s, 1u64 << bits))
                };
                format!("{value} AS {}", s.col(field))
            })
            .collect::<Vec<_>>();
        format!("SELECT {}, {values} FROM ({inner}) AS p {order}", dims.join(", "))
    }

    /// Bits below the `i`th dimension's.
    fn shift(&self, i: usize) -> u32 {
        self.parts[i + 1..].iter().map(|(_, bits)| bits).sum()
    }
}

/// An unsigned 64-bit literal in the backend's dialect.
fn unsigned(s: &Sql<'_>, value: u64) -> String {
    let mut out = String::new();
    s.d.unsigned(&mut out, value);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_narrow_integer_tuples_pack() {
        let f = |f: Field| Dim::Field(f);
        assert!(Packed::of(&[f(Field::src_as), f(Field::dst_as)]).is_some());
        assert!(Packed::of(&[f(Field::proto), f(Field::src_port), f(Field::dst_port)]).is_some());
        // One dimension is already one column.
        assert!(Packed::of(&[f(Field::src_as)]).is_none());
        // Over 64 bits, an address, a network, a 64-bit counter.
        assert!(Packed::of(&[f(Field::src_as), f(Field::dst_as), f(Field::proto)]).is_none());
        assert!(Packed::of(&[f(Field::src_addr), f(Field::dst_port)]).is_none());
        assert!(Packed::of(&[Dim::SrcNet, f(Field::dst_port)]).is_none());
        assert!(Packed::of(&[f(Field::bytes), f(Field::proto)]).is_none());
    }

    #[test]
    fn key_values_pack_in_the_fields_order_and_must_fit_their_width() {
        let f = |f: Field| Dim::Field(f);
        let p = Packed::of(&[f(Field::proto), f(Field::src_port), f(Field::dst_port)]).expect("packs");
        let key = |a: u64, b: u64, c: u64| vec![Value::U64(a), Value::U64(b), Value::U64(c)];
        assert_eq!(p.value(&key(6, 1, 443)), Some((6 << 32) | (1 << 16) | 443));
        assert_eq!(p.value(&key(255, 65535, 65535)), Some((1 << 40) - 1));
        assert_eq!(p.value(&key(256, 0, 0)), None);
        assert_eq!(p.value(&key(6, 0, 65536)), None);
        assert_eq!(p.value(&[Value::U64(6), Value::U64(443)]), None);
        assert_eq!(
            p.value(&[Value::U64(6), Value::Str("x".into()), Value::U64(1)]),
            None
        );
    }
}
