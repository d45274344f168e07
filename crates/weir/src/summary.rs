//! The per-exporter summary `weir decode` prints on stderr: what each exporter domain sent, what became of
//! it, and what the capture held besides export datagrams.

use std::fmt::Write as _;
use std::path::Path;

use weir_proto::{Counters, DomainKey, ErrorKind};

use crate::capture::CaptureStats;

/// An aligned table of rows of cells; the first row is the header. Columns of numbers are right-aligned,
/// header included.
pub fn aligned(rows: &[Vec<String>]) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.len())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let is_number = |s: &String| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let numeric: Vec<bool> = (0..cols)
        .map(|c| rows.len() > 1 && rows.iter().skip(1).filter_map(|r| r.get(c)).all(is_number))
        .collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            if c > 0 {
                line.push_str("  ");
            }
            let _ = if numeric[c] {
                write!(line, "{cell:>w$}", w = widths[c])
            } else {
                write!(line, "{cell:<w$}", w = widths[c])
            };
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// One row per exporter domain, in address order, with a line of errors by kind under rows that have any.
pub fn domains(domains: &[(DomainKey, Counters)]) -> String {
    let mut sorted: Vec<_> = domains.iter().collect();
    sorted.sort_by_key(|(k, _)| *k);
    let header = [
        "exporter",
        "dialect",
        "domain",
        "datagrams",
        "bytes",
        "records",
        "options",
        "samples",
        "errors",
        "templates",
        "pending",
        "late",
        "gaps",
        "lost",
        "restarts",
    ];
    let mut rows = vec![header.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>()];
    let mut notes = Vec::new();
    for (k, c) in &sorted {
        let row = [
            k.exporter.to_string(),
            k.dialect.to_string(),
            k.domain.to_string(),
            c.datagrams.to_string(),
            c.bytes.to_string(),
            c.records.to_string(),
            c.options_records.to_string(),
            c.counter_samples.to_string(),
            c.total_errors().to_string(),
            c.templates.to_string(),
            c.pending_sets.to_string(),
            c.late_records.to_string(),
            c.sequence_gaps.to_string(),
            c.lost_records.to_string(),
            c.restarts.to_string(),
        ];
        rows.push(row.to_vec());
        notes.push(errors_by_kind(c));
    }
    // Interleave the error notes under their rows after alignment, so they do not widen the columns.
    let table = aligned(&rows);
    let mut lines = table.lines();
    let mut out = String::new();
    if let Some(h) = lines.next() {
        out.push_str(h);
        out.push('\n');
    }
    for (line, note) in lines.zip(notes) {
        out.push_str(line);
        out.push('\n');
        if let Some(note) = note {
            let _ = writeln!(out, "    errors: {note}");
        }
    }
    out
}

/// `truncated 2, bad_length 1`, or `None` when there were no errors.
fn errors_by_kind(c: &Counters) -> Option<String> {
    let parts: Vec<String> = ErrorKind::ALL
        .iter()
        .filter(|&&k| c.errors_of(k) > 0)
        .map(|&k| format!("{} {}", k.as_str(), c.errors_of(k)))
        .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// One line on what a capture held.
pub fn capture(path: &Path, s: &CaptureStats) -> String {
    let mut line = format!(
        "{}: {} packets, {} UDP datagrams, {} not UDP, {} truncated, {} malformed",
        path.display(),
        s.packets,
        s.datagrams,
        s.not_udp,
        s.truncated,
        s.malformed
    );
    if !s.bad_packets.is_empty() {
        let numbers: Vec<String> = s.bad_packets.iter().map(u64::to_string).collect();
        let more = if s.truncated + s.malformed > s.bad_packets.len() as u64 {
            ", ..."
        } else {
            ""
        };
        let _ = write!(line, " (packets {}{more})", numbers.join(", "));
    }
    if s.fragments > 0 {
        let _ = write!(
            line,
            ", {} fragments ({} datagrams reassembled, {} fragments dropped)",
            s.fragments, s.reassembled, s.fragments_dropped
        );
    }
    if s.unsupported_link > 0 {
        let _ = write!(
            line,
            ", {} on interfaces of unsupported link types",
            s.unsupported_link
        );
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use weir_proto::Dialect;

    #[test]
    fn aligns_columns_and_right_aligns_numbers() {
        let rows = vec![
            vec!["name".into(), "n".into()],
            vec!["a".into(), "1000".into()],
            vec!["bb".into(), "7".into()],
        ];
        assert_eq!(aligned(&rows), "name     n\na     1000\nbb       7\n");
    }

    #[test]
    fn lists_errors_by_kind_under_their_domain() {
        let mut c = Counters {
            datagrams: 3,
            bytes: 100,
            records: 30,
            ..Counters::default()
        };
        c.error(ErrorKind::Truncated);
        c.error(ErrorKind::Truncated);
        c.error(ErrorKind::BadLength);
        let k = DomainKey {
            exporter: "192.0.2.1".parse().unwrap(),
            dialect: Dialect::NetflowV5,
            domain: 0,
        };
        let text = domains(&[(k, c)]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[1].starts_with("192.0.2.1  netflow-v5"), "{text}");
        assert_eq!(lines[2], "    errors: truncated 2, bad_length 1");
    }

    #[test]
    fn names_bad_packets_in_the_capture_line() {
        let s = CaptureStats {
            packets: 9,
            datagrams: 7,
            truncated: 1,
            malformed: 1,
            bad_packets: vec![3, 8],
            ..CaptureStats::default()
        };
        assert_eq!(
            capture(Path::new("x.pcap"), &s),
            "x.pcap: 9 packets, 7 UDP datagrams, 0 not UDP, 1 truncated, 1 malformed (packets 3, 8)"
        );
    }
}
