//! SQL for DataFusion over Parquet: addresses are `FixedSizeBinary(16)` (IPv4-mapped), MACs `UInt64`, times
//! nanosecond timestamps in UTC, lists `List(UInt32)`, strings dictionary-encoded UTF-8.

use std::fmt::Write;
use std::net::{IpAddr, Ipv6Addr};

use super::Dialect;

/// DataFusion's SQL (PostgreSQL-like).
#[derive(Debug, Clone, Copy, Default)]
pub struct DataFusion;

impl Dialect for DataFusion {
    /// Quoted, because several schema names (`bytes`, `proto`) are words DataFusion's parser knows.
    fn column(&self, out: &mut String, name: &str) {
        let _ = write!(out, "\"{name}\"");
    }

    /// A binary literal cast to the column's type, so that the comparison stays on the column's own
    /// type and Parquet statistics can prune on it.
    fn addr(&self, out: &mut String, addr: Ipv6Addr) {
        out.push_str("arrow_cast(X'");
        for b in addr.octets() {
            let _ = write!(out, "{b:02x}");
        }
        out.push_str("', 'FixedSizeBinary(16)')");
    }

    fn time(&self, out: &mut String, ns: u64) {
        let _ = write!(out, "to_timestamp_nanos({ns})");
    }

    /// Whether DataFusion's SQL parser reads a backslash in a string as an escape depends on the parser
    /// dialect it is configured with, so a string never carries one: the runs of text without `'` or `\`
    /// are quoted, and those two characters are written as `chr(39)` and `chr(92)`, joined with `||`
    /// (DataFusion folds the constant before planning).
    fn string(&self, out: &mut String, s: &str) {
        if !s.contains(['\'', '\\']) {
            let _ = write!(out, "'{s}'");
            return;
        }
        out.push('(');
        let mut first = true;
        let mut piece = |out: &mut String, args: std::fmt::Arguments<'_>| {
            if !std::mem::take(&mut first) {
                out.push_str(" || ");
            }
            let _ = out.write_fmt(args);
        };
        let mut rest = s;
        while let Some(cut) = rest.find(['\'', '\\']) {
            if cut > 0 {
                piece(out, format_args!("'{}'", &rest[..cut]));
            }
            piece(out, format_args!("chr({})", rest.as_bytes()[cut]));
            rest = &rest[cut + 1..];
        }
        if !rest.is_empty() {
            piece(out, format_args!("'{rest}'"));
        }
        out.push(')');
    }

    fn boolean(&self, out: &mut String, value: bool) {
        out.push_str(if value { "TRUE" } else { "FALSE" });
    }

    fn bits_all(&self, out: &mut String, column: &str, mask: u64) {
        let _ = write!(out, "({column} & {mask}) = {mask}");
    }

    fn list_has_any(&self, out: &mut String, column: &str, values: &[u32]) {
        match values {
            [one] => {
                let _ = write!(out, "array_has({column}, {one})");
            }
            _ => {
                let _ = write!(out, "array_has_any({column}, make_array(");
                for (i, v) in values.iter().enumerate() {
                    let _ = write!(out, "{}{v}", if i > 0 { ", " } else { "" });
                }
                out.push_str("))");
            }
        }
    }

    fn duration_ns(&self, out: &mut String) {
        out.push_str("GREATEST(CAST(\"flow_end\" AS BIGINT) - CAST(\"flow_start\" AS BIGINT), 0)");
    }

    /// `/` on integers truncates in DataFusion.
    fn int_div(&self, out: &mut String, expr: &str, by: u64) {
        let _ = write!(out, "{expr} / {by}");
    }

    fn float(&self, out: &mut String, expr: &str) {
        let _ = write!(out, "CAST({expr} AS DOUBLE)");
    }

    /// Quoted like columns; the embedded store registers each table under its own name.
    fn table(&self, out: &mut String, name: &str) {
        let _ = write!(out, "\"{name}\"");
    }

    /// `date_bin` counts buckets from the Unix epoch unless told otherwise.
    fn time_bucket(&self, out: &mut String, expr: &str, step: u64) {
        let _ = write!(out, "date_bin(INTERVAL '{step} seconds', {expr})");
    }

    fn int_quotient(&self, out: &mut String, num: &str, den: &str) {
        let _ = write!(out, "{num} / {den}");
    }

    /// A bare integer is an `Int64`, and DataFusion widens `Int64` with `UInt64` to a decimal.
    fn unsigned(&self, out: &mut String, value: u64) {
        let _ = write!(out, "arrow_cast({value}, 'UInt64')");
    }

    /// `weir_net(addr, mask, v4, v6)`, a function the embedded engine registers in every session. It
    /// gives the network's binary key ([`net_key`](crate::plan::net_key)): DataFusion groups and compares
    /// fixed-width bytes faster than text, and only the few keys of an answer are ever written out.
    fn net(&self, out: &mut String, addr: &str, mask: &str, v4: u8, v6: u8) {
        let _ = write!(out, "weir_net({addr}, {mask}, {v4}, {v6})");
    }

    /// As variable-length bytes: DataFusion 55 builds a `CASE` lookup table for binary values, but not
    /// correctly for fixed-size ones.
    fn lookup_bytes(&self, out: &mut String, expr: &str) {
        let _ = write!(out, "arrow_cast({expr}, 'Binary')");
    }

    fn net_literal(&self, out: &mut String, net: (IpAddr, u8)) {
        out.push_str("arrow_cast(X'");
        for b in crate::plan::net_key(net) {
            let _ = write!(out, "{b:02x}");
        }
        let _ = write!(out, "', 'FixedSizeBinary({})')", crate::plan::NET_KEY_LEN);
    }
}
