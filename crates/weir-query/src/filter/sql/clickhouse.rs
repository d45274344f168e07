//! SQL for ClickHouse: addresses are `IPv6` (IPv4-mapped), MACs `UInt64`, times `DateTime64(9, 'UTC')`,
//! lists `Array(UInt32)`, strings `LowCardinality(String)`.

use std::fmt::Write;
use std::net::{IpAddr, Ipv6Addr};

use super::Dialect;

/// ClickHouse's SQL.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClickHouse;

impl Dialect for ClickHouse {
    /// Bare: schema names are plain identifiers, and ClickHouse lets keywords name columns.
    fn column(&self, out: &mut String, name: &str) {
        out.push_str(name);
    }

    /// `IPv6` values compare as addresses, so prefixes are ranges between two of them.
    fn addr(&self, out: &mut String, addr: Ipv6Addr) {
        let _ = write!(out, "toIPv6('{addr}')");
    }

    fn time(&self, out: &mut String, ns: u64) {
        let _ = write!(out, "fromUnixTimestamp64Nano(toInt64({ns}), 'UTC')");
    }

    /// ClickHouse reads backslash escapes in every string, so backslashes and quotes are escaped with one,
    /// and control characters are written as `\xHH`.
    fn string(&self, out: &mut String, s: &str) {
        out.push('\'');
        for c in s.chars() {
            match c {
                '\\' | '\'' => {
                    out.push('\\');
                    out.push(c);
                }
                c if c.is_ascii_control() => {
                    let _ = write!(out, "\\x{:02x}", u32::from(c));
                }
                c => out.push(c),
            }
        }
        out.push('\'');
    }

    fn boolean(&self, out: &mut String, value: bool) {
        out.push_str(if value { "true" } else { "false" });
    }

    fn bits_all(&self, out: &mut String, column: &str, mask: u64) {
        let _ = write!(out, "bitAnd({column}, {mask}) = {mask}");
    }

    fn list_has_any(&self, out: &mut String, column: &str, values: &[u32]) {
        match values {
            [one] => {
                let _ = write!(out, "has({column}, {one})");
            }
            _ => {
                let _ = write!(out, "hasAny({column}, [");
                for (i, v) in values.iter().enumerate() {
                    let _ = write!(out, "{}{v}", if i > 0 { ", " } else { "" });
                }
                out.push_str("])");
            }
        }
    }

    fn duration_ns(&self, out: &mut String) {
        out.push_str("greatest(toUnixTimestamp64Nano(flow_end) - toUnixTimestamp64Nano(flow_start), 0)");
    }

    /// `/` always divides as floats in ClickHouse.
    fn int_div(&self, out: &mut String, expr: &str, by: u64) {
        let _ = write!(out, "intDiv({expr}, {by})");
    }

    fn float(&self, out: &mut String, expr: &str) {
        let _ = write!(out, "toFloat64({expr})");
    }

    fn table(&self, out: &mut String, name: &str) {
        out.push_str(name);
    }

    /// Always an interval of seconds, whatever the step, so that buckets are counted from the epoch as
    /// DataFusion's `date_bin` counts them.
    fn time_bucket(&self, out: &mut String, expr: &str, step: u64) {
        let _ = write!(out, "toStartOfInterval({expr}, INTERVAL {step} SECOND)");
    }

    fn int_quotient(&self, out: &mut String, num: &str, den: &str) {
        let _ = write!(out, "intDiv({num}, {den})");
    }

    fn unsigned(&self, out: &mut String, value: u64) {
        let _ = write!(out, "toUInt64({value})");
    }

    /// IPv4-mapped addresses are cut as `IPv4` (`IPv4NumToString` writes them without the mapping), others
    /// as `IPv6`; the range functions give the first address of the prefix.
    fn net(&self, out: &mut String, addr: &str, mask: &str, v4: u8, v6: u8) {
        let len4 = format!("toUInt8(if({mask} BETWEEN 1 AND 32, {mask}, {v4}))");
        let len6 = format!("toUInt8(if({mask} BETWEEN 1 AND 128, {mask}, {v6}))");
        let _ = write!(
            out,
            "if({addr} BETWEEN toIPv6('::ffff:0.0.0.0') AND toIPv6('::ffff:255.255.255.255'), \
             concat(IPv4NumToString(tupleElement(IPv4CIDRToRange(CAST({addr} AS IPv4), {len4}), 1)), '/', toString({len4})), \
             concat(IPv6NumToString(tupleElement(IPv6CIDRToRange({addr}, {len6}), 1)), '/', toString({len6})))"
        );
    }

    /// As it is: ClickHouse compares addresses and text directly.
    fn lookup_bytes(&self, out: &mut String, expr: &str) {
        out.push_str(expr);
    }

    fn net_literal(&self, out: &mut String, (addr, len): (IpAddr, u8)) {
        self.string(out, &format!("{addr}/{len}"));
    }
}
