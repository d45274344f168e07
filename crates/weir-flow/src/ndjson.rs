//! Flows as NDJSON: one object per flow, keys exactly the schema's column names, in schema order.

use std::io::{self, Write};
use std::net::{IpAddr, Ipv6Addr};

use crate::FlowBatch;
use crate::extra::extra_fields;
use crate::schema::{COLUMNS, ColumnRef, FIELDS};
use crate::time::Rfc3339;

/// Names an extra information element by (enterprise, id), for readable `extra_fields` keys.
pub type ElementNamer = fn(u32, u16) -> Option<&'static str>;

/// The address as users write it: IPv4-mapped addresses print as IPv4.
pub fn display_ip(a: Ipv6Addr) -> IpAddr {
    match a.to_ipv4_mapped() {
        Some(v4) => IpAddr::V4(v4),
        None => IpAddr::V6(a),
    }
}

/// A MAC address held in the low 48 bits of a `u64`, as `aa:bb:cc:dd:ee:ff`.
pub fn display_mac(m: u64) -> String {
    let b = m.to_be_bytes();
    format!(
        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        b[2], b[3], b[4], b[5], b[6], b[7]
    )
}

/// Writes row `i` of `batch` as one JSON object and a newline.
///
/// Times are RFC 3339 strings (`null` when unknown), addresses and MACs strings, lists arrays, and
/// `extra_fields` an object keyed by element name (from `namer`) or `enterprise.id`, values in hex.
pub fn write_row(w: &mut impl Write, batch: &FlowBatch, i: usize, namer: ElementNamer) -> io::Result<()> {
    let mut line = Vec::with_capacity(1024);
    format_row(&mut line, batch, i, namer);
    w.write_all(&line)
}

/// Writes every flow of `batch`, one line each, formatting into one reused buffer.
pub fn write_batch(w: &mut impl Write, batch: &FlowBatch, namer: ElementNamer) -> io::Result<()> {
    let mut buf = Vec::with_capacity(64 * 1024);
    for i in 0..batch.len() {
        format_row(&mut buf, batch, i, namer);
        if buf.len() >= 60 * 1024 {
            w.write_all(&buf)?;
            buf.clear();
        }
    }
    w.write_all(&buf)
}

/// Appends row `i` as JSON and a newline. Formatting is by hand (integers with `itoa`, times and addresses
/// into stack buffers) because writing NDJSON is the main cost of `weir decode` and of the NDJSON sink.
fn format_row(out: &mut Vec<u8>, batch: &FlowBatch, i: usize, namer: ElementNamer) {
    let mut num = itoa::Buffer::new();
    out.push(b'{');
    for (n, (&field, col)) in FIELDS.iter().zip(COLUMNS).enumerate() {
        if n > 0 {
            out.push(b',');
        }
        out.push(b'"');
        out.extend_from_slice(col.name.as_bytes());
        out.extend_from_slice(b"\":");
        match batch.cols.get(field) {
            ColumnRef::Time(v) => match v[i] {
                0 => out.extend_from_slice(b"null"),
                t => {
                    let (bytes, len) = Rfc3339(t).to_bytes();
                    out.push(b'"');
                    out.extend_from_slice(&bytes[..len]);
                    out.push(b'"');
                }
            },
            ColumnRef::U8(v) => out.extend_from_slice(num.format(v[i]).as_bytes()),
            ColumnRef::U16(v) => out.extend_from_slice(num.format(v[i]).as_bytes()),
            ColumnRef::U32(v) => out.extend_from_slice(num.format(v[i]).as_bytes()),
            ColumnRef::U64(v) => out.extend_from_slice(num.format(v[i]).as_bytes()),
            ColumnRef::Ip(v) => {
                out.push(b'"');
                format_ip(out, v[i], &mut num);
                out.push(b'"');
            }
            ColumnRef::Mac(v) => {
                out.push(b'"');
                let b = v[i].to_be_bytes();
                for (k, byte) in b[2..].iter().enumerate() {
                    if k > 0 {
                        out.push(b':');
                    }
                    push_hex(out, *byte);
                }
                out.push(b'"');
            }
            ColumnRef::Str(v) => format_str(out, batch.str(v[i])),
            ColumnRef::U32List(v) => {
                out.push(b'[');
                for (k, x) in batch.list(v[i]).iter().enumerate() {
                    if k > 0 {
                        out.push(b',');
                    }
                    out.extend_from_slice(num.format(*x).as_bytes());
                }
                out.push(b']');
            }
            ColumnRef::Bytes(v) => {
                out.push(b'{');
                for (k, e) in extra_fields(batch.blob(v[i])).enumerate() {
                    if k > 0 {
                        out.push(b',');
                    }
                    match namer(e.enterprise, e.id) {
                        Some(name) => format_str(out, name),
                        None => {
                            out.push(b'"');
                            out.extend_from_slice(num.format(e.enterprise).as_bytes());
                            out.push(b'.');
                            out.extend_from_slice(num.format(e.id).as_bytes());
                            out.push(b'"');
                        }
                    }
                    out.extend_from_slice(b":\"");
                    e.value.iter().for_each(|&b| push_hex(out, b));
                    out.push(b'"');
                }
                out.push(b'}');
            }
        }
    }
    out.extend_from_slice(b"}\n");
}

/// An address as users write it (IPv4-mapped as IPv4), without quotes.
fn format_ip(out: &mut Vec<u8>, a: Ipv6Addr, num: &mut itoa::Buffer) {
    match a.to_ipv4_mapped() {
        Some(v4) => {
            for (k, octet) in v4.octets().into_iter().enumerate() {
                if k > 0 {
                    out.push(b'.');
                }
                out.extend_from_slice(num.format(octet).as_bytes());
            }
        }
        None => {
            // IPv6 text form (RFC 5952) is intricate; std's is right, and IPv6 is the rarer case.
            let _infallible = write!(out, "{a}");
        }
    }
}

/// A JSON string. Names, countries and AS names rarely need escaping, so the common case is a copy.
fn format_str(out: &mut Vec<u8>, s: &str) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        let _infallible = serde_json::to_writer(&mut *out, s);
    }
}

fn push_hex(out: &mut Vec<u8>, b: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(HEX[usize::from(b >> 4)]);
    out.push(HEX[usize::from(b & 0xf)]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{FlowRecord, push_extra};

    #[test]
    fn writes_schema_names_and_readable_values() {
        let mut b = FlowBatch::new();
        let mut extra = Vec::new();
        push_extra(&mut extra, 9, 12235, &[0xab]);
        push_extra(&mut extra, 0, 95, &[1]);
        let r = FlowRecord {
            time_received: 1_700_000_000_000_000_000,
            src_addr: "192.0.2.1"
                .parse::<std::net::Ipv4Addr>()
                .unwrap()
                .to_ipv6_mapped(),
            dst_addr: "2001:db8::1".parse().unwrap(),
            src_mac: 0x0011_2233_4455,
            bytes: 1500,
            in_if_name: b.intern("ge-0/0/0"),
            dst_as_path: b.push_list(&[64500, 64501]),
            extra_fields: b.push_blob(&extra),
            ..FlowRecord::default()
        };
        b.push(&r);
        let mut out = Vec::new();
        write_row(&mut out, &b, 0, |pen, id| {
            (pen == 0 && id == 95).then_some("applicationId")
        })
        .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["time_received"], "2023-11-14T22:13:20Z");
        assert_eq!(v["flow_start"], serde_json::Value::Null);
        assert_eq!(v["src_addr"], "192.0.2.1");
        assert_eq!(v["dst_addr"], "2001:db8::1");
        assert_eq!(v["src_mac"], "00:11:22:33:44:55");
        assert_eq!(v["bytes"], 1500);
        assert_eq!(v["in_if_name"], "ge-0/0/0");
        assert_eq!(v["dst_as_path"], serde_json::json!([64500, 64501]));
        assert_eq!(
            v["extra_fields"],
            serde_json::json!({"9.12235": "ab", "applicationId": "01"})
        );
        assert_eq!(v.as_object().unwrap().len(), COLUMNS.len());
    }

    #[test]
    fn escapes_strings_and_writes_batches_line_by_line() {
        let mut b = FlowBatch::new();
        let name = b.intern("port \"A\"\\1\n");
        b.push(&FlowRecord {
            in_if_name: name,
            ..FlowRecord::default()
        });
        b.push(&FlowRecord {
            bytes: u64::MAX,
            ..FlowRecord::default()
        });
        let mut out = Vec::new();
        write_batch(&mut out, &b, |_, _| None).unwrap();
        let lines: Vec<serde_json::Value> = out
            .split(|&c| c == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_slice(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["in_if_name"], "port \"A\"\\1\n");
        assert_eq!(lines[0]["src_addr"], "::");
        assert_eq!(lines[1]["bytes"], u64::MAX);
    }
}
