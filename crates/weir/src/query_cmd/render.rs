//! Query answers as an aligned table, CSV or NDJSON.
//!
//! Every format shows the same rows and columns, named by their schema names. The table is for eyes:
//! traffic figures get SI units (`1.25 G`), addresses and times their usual text. CSV and NDJSON are for
//! programs: exact numbers, RFC 3339 times, one JSON object per row keyed by column name.

use std::io::{self, Write};

use clap::ValueEnum;
use weir_flow::{Column, Kind};
use weir_query::backend::Value;

use crate::ask::{exact, json_value};

/// How answers are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns, traffic with SI units.
    Table,
    /// Comma-separated values with a header row.
    Csv,
    /// One JSON object per row.
    Json,
}

/// Writes `rows` under `columns` in `format`.
pub fn write(w: &mut impl Write, format: Format, columns: &[String], rows: &[Vec<Value>]) -> io::Result<()> {
    match format {
        Format::Table => table(w, columns, rows),
        Format::Csv => csv(w, columns, rows),
        Format::Json => json(w, columns, rows),
    }
}

/// Whether the column holds a schema field that is shown as its raw value (keys such as ports, interface
/// indexes, ASes), rather than a traffic figure.
fn is_key(column: &str) -> bool {
    Column::by_name(column).is_some_and(|c| c.dimension || c.kind == Kind::Time)
}

fn table(w: &mut impl Write, columns: &[String], rows: &[Vec<Value>]) -> io::Result<()> {
    let keys: Vec<bool> = columns.iter().map(|c| is_key(c)).collect();
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|row| row.iter().zip(&keys).map(|(v, &key)| human(v, key)).collect())
        .collect();
    let mut widths: Vec<usize> = columns.iter().map(|c| c.len()).collect();
    for row in &cells {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let right: Vec<bool> = (0..columns.len())
        .map(|i| {
            rows.iter()
                .any(|r| matches!(r.get(i), Some(Value::U64(_) | Value::I64(_) | Value::F64(_))))
        })
        .collect();
    let line = |w: &mut dyn Write, cells: &mut dyn Iterator<Item = &str>| -> io::Result<()> {
        let mut out = String::new();
        for (i, cell) in cells.enumerate() {
            if i > 0 {
                out.push_str("  ");
            }
            let pad = widths[i].saturating_sub(cell.chars().count());
            if right[i] {
                out.extend(std::iter::repeat_n(' ', pad));
                out.push_str(cell);
            } else {
                out.push_str(cell);
                out.extend(std::iter::repeat_n(' ', pad));
            }
        }
        writeln!(w, "{}", out.trim_end())
    };
    line(w, &mut columns.iter().map(String::as_str))?;
    for row in &cells {
        line(w, &mut row.iter().map(String::as_str))?;
    }
    Ok(())
}

fn csv(w: &mut impl Write, columns: &[String], rows: &[Vec<Value>]) -> io::Result<()> {
    let header: Vec<String> = columns.iter().map(|c| csv_field(c)).collect();
    writeln!(w, "{}", header.join(","))?;
    for row in rows {
        let cells: Vec<String> = row.iter().map(|v| csv_field(&exact(v))).collect();
        writeln!(w, "{}", cells.join(","))?;
    }
    Ok(())
}

/// A CSV field, quoted (RFC 4180) when it holds a comma, a quote or a line break.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// One object per row, its keys in column order (written by hand: a JSON map would sort them).
fn json(w: &mut impl Write, columns: &[String], rows: &[Vec<Value>]) -> io::Result<()> {
    for row in rows {
        for (i, (name, v)) in columns.iter().zip(row).enumerate() {
            w.write_all(if i == 0 { b"{" } else { b"," })?;
            serde_json::to_writer(&mut *w, name)?;
            w.write_all(b":")?;
            serde_json::to_writer(&mut *w, &json_value(v))?;
        }
        writeln!(w, "{}", if row.is_empty() { "{}" } else { "}" })?;
    }
    Ok(())
}

/// The value as eyes read it: traffic figures with SI units, keys as they are.
fn human(v: &Value, key: bool) -> String {
    match v {
        Value::Null if !key => "-".to_owned(),
        Value::U64(n) if !key => si(*n as f64),
        Value::I64(n) if !key => si(*n as f64),
        Value::F64(x) if !key => si(*x),
        Value::Str(s) if s.is_empty() => "-".to_owned(),
        _ => exact(v),
    }
}

/// `x` with an SI prefix and three significant digits: `999`, `1.25 k`, `12.5 M`, `-3.40 G`.
pub fn si(x: f64) -> String {
    let a = x.abs();
    if a < 1000.0 {
        return if x.fract() == 0.0 {
            format!("{x}")
        } else {
            format!("{x:.2}")
        };
    }
    let (scaled, prefix) = [
        (1e18, "E"),
        (1e15, "P"),
        (1e12, "T"),
        (1e9, "G"),
        (1e6, "M"),
        (1e3, "k"),
    ]
    .into_iter()
    .find(|(p, _)| a >= *p)
    .map_or((x, ""), |(p, s)| (x / p, s));
    let digits = if scaled.abs() >= 100.0 {
        0
    } else if scaled.abs() >= 10.0 {
        1
    } else {
        2
    };
    format!("{scaled:.digits$} {prefix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows() -> (Vec<String>, Vec<Vec<Value>>) {
        let columns = ["dst_addr", "dst_port", "bytes", "share"]
            .map(String::from)
            .to_vec();
        let rows = vec![
            vec![
                Value::Ip(weir_flow::ipv4([192, 0, 2, 1])),
                Value::U64(443),
                Value::U64(1_250_000_000),
                Value::F64(0.625),
            ],
            vec![
                Value::Str("Other".into()),
                Value::Null,
                Value::U64(750),
                Value::F64(0.375),
            ],
        ];
        (columns, rows)
    }

    fn render(format: Format) -> String {
        let (c, r) = rows();
        let mut out = Vec::new();
        write(&mut out, format, &c, &r).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn tables_align_and_give_traffic_si_units() {
        assert_eq!(
            render(Format::Table),
            "dst_addr   dst_port   bytes  share\n\
             192.0.2.1       443  1.25 G   0.62\n\
             Other                   750   0.38\n"
        );
    }

    #[test]
    fn csv_and_json_keep_exact_values_and_schema_names() {
        assert_eq!(
            render(Format::Csv),
            "dst_addr,dst_port,bytes,share\n192.0.2.1,443,1250000000,0.625\nOther,,750,0.375\n"
        );
        assert_eq!(
            render(Format::Json),
            "{\"dst_addr\":\"192.0.2.1\",\"dst_port\":443,\"bytes\":1250000000,\"share\":0.625}\n\
             {\"dst_addr\":\"Other\",\"dst_port\":null,\"bytes\":750,\"share\":0.375}\n"
        );
    }

    #[test]
    fn csv_quotes_what_needs_quoting() {
        assert_eq!(csv_field("Gi0/1, uplink"), "\"Gi0/1, uplink\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }

    #[test]
    fn si_units_keep_three_digits() {
        assert_eq!(si(999.0), "999");
        assert_eq!(si(1250.0), "1.25 k");
        assert_eq!(si(12_500_000.0), "12.5 M");
        assert_eq!(si(-3.4e9), "-3.40 G");
        assert_eq!(si(0.5), "0.50");
    }
}
