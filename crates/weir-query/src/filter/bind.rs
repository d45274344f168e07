//! Binding names and values to the schema: which column a word names, and what a value means for a column
//! of a given kind. This is where a string compared with an address, or `port 70000`, is caught.

use weir_flow::{FIELDS, Field, Kind};

use super::value;

/// The field a word names: a schema column name, in any ASCII case.
pub(crate) fn field(name: &str) -> Option<Field> {
    FIELDS
        .iter()
        .copied()
        .find(|f| f.column().name.eq_ignore_ascii_case(name))
}

/// nfdump's words that start a term, for suggestions (schema names are offered too).
pub(crate) const KEYWORDS: &[&str] = &[
    "any",
    "ipv4",
    "inet",
    "ipv6",
    "inet6",
    "src",
    "dst",
    "in",
    "out",
    "ip",
    "host",
    "net",
    "port",
    "as",
    "mask",
    "mac",
    "if",
    "vlan",
    "tos",
    "icmp-type",
    "icmp-code",
    "flags",
    "router",
    "next",
    "bgp",
    "proto",
    "packets",
    "bytes",
    "flows",
    "duration",
    "bps",
    "pps",
    "bpp",
    "not",
];

/// Every word a term can start with: nfdump's keywords, then the schema's column names.
pub(crate) fn term_words() -> impl Iterator<Item = &'static str> {
    KEYWORDS
        .iter()
        .copied()
        .chain(FIELDS.iter().map(|f| f.column().name))
}

/// What values of a kind are called in messages.
pub(crate) fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Time => "a time",
        Kind::U8 | Kind::U16 | Kind::U32 | Kind::U64 => "a number",
        Kind::Ip => "an address",
        Kind::Mac => "a MAC address",
        Kind::Str => "a string",
        Kind::U32List => "a list",
        Kind::Bytes => "raw bytes",
    }
}

/// The largest value an integer column holds.
fn max_of(kind: Kind) -> u64 {
    match kind {
        Kind::U8 => u8::MAX.into(),
        Kind::U16 => u16::MAX.into(),
        Kind::U32 => u32::MAX.into(),
        Kind::Mac => (1 << 48) - 1,
        Kind::Time => value::MAX_TIME,
        _ => u64::MAX,
    }
}

/// A message and, when the value looks like a misspelt name, the name.
pub(crate) type ValueError = (String, Option<&'static str>);

/// The value `text` means for `field`, an integer, time or MAC column; `label` is the word the user typed
/// for the column (a field name or an nfdump keyword), for messages.
pub(crate) fn scalar(field: Field, label: &str, text: &str) -> Result<u64, ValueError> {
    let kind = field.column().kind;
    let n = match kind {
        Kind::Time => value::time(text).map_err(|m| (m, None))?,
        Kind::Mac => match value::mac(text) {
            Some(m) => m,
            None => value::uint(text).map_err(|_| (format!("`{text}` is not a MAC address"), None))?,
        },
        _ if field == Field::proto && text.starts_with(|c: char| c.is_ascii_alphabetic()) => {
            return value::protocol(text).map(u64::from).ok_or_else(|| {
                let names = value::PROTOCOLS.iter().map(|&(n, _)| n);
                (
                    format!("unknown protocol `{text}`"),
                    super::suggest::nearest(text, names),
                )
            });
        }
        _ => value::uint(text).map_err(|m| (m, None))?,
    };
    let max = max_of(kind);
    if n > max {
        return Err((
            format!("`{text}` is out of range for `{label}` (at most {max})"),
            None,
        ));
    }
    Ok(n)
}

/// A list element for a list column: communities may be written `asn:value`.
pub(crate) fn list_item(field: Field, text: &str) -> Result<u32, String> {
    if field == Field::dst_communities {
        return value::community(text);
    }
    value::uint(text).and_then(|n| u32::try_from(n).map_err(|_| format!("`{text}` is too large")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_fields_in_any_case() {
        assert_eq!(field("DST_COUNTRY"), Some(Field::dst_country));
        assert_eq!(field("dst_contry"), None);
    }

    #[test]
    fn checks_values_against_the_column() {
        assert_eq!(scalar(Field::dst_port, "port", "443"), Ok(443));
        assert_eq!(
            scalar(Field::dst_port, "port", "70000").unwrap_err().0,
            "`70000` is out of range for `port` (at most 65535)"
        );
        assert_eq!(scalar(Field::proto, "proto", "udp"), Ok(17));
        assert_eq!(scalar(Field::proto, "proto", "ud").unwrap_err().1, Some("udp"));
        assert_eq!(
            scalar(Field::src_mac, "src_mac", "00:00:5e:00:53:01"),
            Ok(0x5e00_5301)
        );
        assert!(scalar(Field::src_mac, "src_mac", "0x1000000000000").is_err());
        assert_eq!(
            scalar(Field::flow_start, "flow_start", "1970-01-01T00:00:01Z"),
            Ok(1_000_000_000)
        );
        assert_eq!(list_item(Field::dst_communities, "65000:1"), Ok(65000 << 16 | 1));
        assert!(list_item(Field::dst_as_path, "65000:1").is_err());
    }
}
