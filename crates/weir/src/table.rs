//! Flows as an aligned text table of the main columns (`weir decode --format table`).
//!
//! The table streams: column widths are those of the widest value seen so far, so a capture of any size
//! is printed without holding its flows, and columns only shift where a wider value first appears.

use std::io::{self, Write};

use weir_flow::ndjson::{display_ip, display_mac};
use weir_flow::time::Rfc3339;
use weir_flow::{ColumnRef, Field, FlowBatch, Kind};

/// The columns shown, by schema name.
const SHOWN: [Field; 12] = [
    Field::time_received,
    Field::exporter_addr,
    Field::in_if,
    Field::out_if,
    Field::proto,
    Field::src_addr,
    Field::src_port,
    Field::dst_addr,
    Field::dst_port,
    Field::packets,
    Field::bytes,
    Field::sampling_rate,
];

/// Writes batches of flows as table rows under one header.
#[derive(Debug)]
pub struct FlowTable {
    widths: [usize; SHOWN.len()],
    header_written: bool,
}

impl Default for FlowTable {
    fn default() -> Self {
        Self {
            widths: SHOWN.map(|f| f.column().name.len()),
            header_written: false,
        }
    }
}

impl FlowTable {
    /// Writes every flow of `batch`, with the header before the first.
    pub fn write_batch(&mut self, w: &mut impl Write, batch: &FlowBatch) -> io::Result<()> {
        let rows: Vec<[String; SHOWN.len()]> = (0..batch.len())
            .map(|i| SHOWN.map(|f| cell(batch, f, i)))
            .collect();
        for row in &rows {
            for (width, c) in self.widths.iter_mut().zip(row) {
                *width = (*width).max(c.len());
            }
        }
        if !self.header_written && !rows.is_empty() {
            self.header_written = true;
            self.write_row(w, &SHOWN.map(|f| f.column().name.to_owned()))?;
        }
        for row in &rows {
            self.write_row(w, row)?;
        }
        Ok(())
    }

    fn write_row(&self, w: &mut impl Write, cells: &[String]) -> io::Result<()> {
        let mut line = String::new();
        for (n, ((c, width), field)) in cells.iter().zip(self.widths).zip(SHOWN).enumerate() {
            if n > 0 {
                line.push_str("  ");
            }
            if matches!(field.column().kind, Kind::U8 | Kind::U16 | Kind::U32 | Kind::U64) {
                line.push_str(&format!("{c:>width$}"));
            } else {
                line.push_str(&format!("{c:<width$}"));
            }
        }
        writeln!(w, "{}", line.trim_end())
    }
}

/// One value as text; unknown times are `-`.
fn cell(batch: &FlowBatch, field: Field, i: usize) -> String {
    match batch.cols.get(field) {
        ColumnRef::Time(v) => match v[i] {
            0 => "-".into(),
            t => Rfc3339(t).to_string(),
        },
        ColumnRef::U8(v) => v[i].to_string(),
        ColumnRef::U16(v) => v[i].to_string(),
        ColumnRef::U32(v) => v[i].to_string(),
        ColumnRef::U64(v) => v[i].to_string(),
        ColumnRef::Ip(v) => display_ip(v[i]).to_string(),
        ColumnRef::Mac(v) => display_mac(v[i]),
        ColumnRef::Str(v) => batch.str(v[i]).to_owned(),
        ColumnRef::U32List(v) => batch
            .list(v[i])
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(" "),
        ColumnRef::Bytes(v) => format!("{} bytes", batch.blob(v[i]).len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use weir_flow::FlowRecord;

    #[test]
    fn writes_a_header_once_and_aligned_rows() {
        let mut b = FlowBatch::new();
        let rec = FlowRecord {
            time_received: 1_700_000_000_000_000_000,
            exporter_addr: weir_flow::ipv4([192, 0, 2, 1]),
            src_addr: weir_flow::ipv4([10, 0, 0, 1]),
            dst_addr: "2001:db8::1".parse().unwrap(),
            proto: 6,
            src_port: 443,
            bytes: 1_000_000,
            packets: 1000,
            sampling_rate: 1,
            ..FlowRecord::default()
        };
        b.push(&rec);
        let mut out = Vec::new();
        let mut t = FlowTable::default();
        t.write_batch(&mut out, &b).unwrap();
        t.write_batch(&mut out, &b).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert_eq!(
            lines[0],
            concat!(
                "time_received         exporter_addr  in_if  out_if  proto  src_addr  src_port  dst_addr     ",
                "dst_port  packets    bytes  sampling_rate"
            )
        );
        assert_eq!(
            lines[1],
            concat!(
                "2023-11-14T22:13:20Z  192.0.2.1          0       0      6  10.0.0.1       443  2001:db8::1  ",
                "       0     1000  1000000              1"
            )
        );
        assert_eq!(lines[1], lines[2]);
    }
}
