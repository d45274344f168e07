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
    w.write_all(b"{")?;
    for (n, (&field, col)) in FIELDS.iter().zip(COLUMNS).enumerate() {
        if n > 0 {
            w.write_all(b",")?;
        }
        write!(w, "\"{}\":", col.name)?;
        match batch.cols.get(field) {
            ColumnRef::Time(v) => match v[i] {
                0 => w.write_all(b"null")?,
                t => write!(w, "\"{}\"", Rfc3339(t))?,
            },
            ColumnRef::U8(v) => write!(w, "{}", v[i])?,
            ColumnRef::U16(v) => write!(w, "{}", v[i])?,
            ColumnRef::U32(v) => write!(w, "{}", v[i])?,
            ColumnRef::U64(v) => write!(w, "{}", v[i])?,
            ColumnRef::Ip(v) => write!(w, "\"{}\"", display_ip(v[i]))?,
            ColumnRef::Mac(v) => write!(w, "\"{}\"", display_mac(v[i]))?,
            ColumnRef::Str(v) => serde_json::to_writer(&mut *w, batch.str(v[i]))?,
            ColumnRef::U32List(v) => serde_json::to_writer(&mut *w, batch.list(v[i]))?,
            ColumnRef::Bytes(v) => {
                w.write_all(b"{")?;
                for (k, e) in extra_fields(batch.blob(v[i])).enumerate() {
                    if k > 0 {
                        w.write_all(b",")?;
                    }
                    match namer(e.enterprise, e.id) {
                        Some(name) => serde_json::to_writer(&mut *w, name)?,
                        None => write!(w, "\"{}.{}\"", e.enterprise, e.id)?,
                    }
                    w.write_all(b":\"")?;
                    for b in e.value {
                        write!(w, "{b:02x}")?;
                    }
                    w.write_all(b"\"")?;
                }
                w.write_all(b"}")?;
            }
        }
    }
    w.write_all(b"}\n")
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
}
