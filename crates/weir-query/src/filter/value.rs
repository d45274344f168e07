//! Literal values as users write them: numbers with nfdump's scale suffixes, addresses and prefixes, MACs,
//! times, BGP communities and protocol names; and the canonical text each is printed back as.
//!
//! Every parser here returns a message (without position) that the caller places at the offending token.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use weir_flow::time::{NANOS_PER_SEC, days_from_civil};

use super::ast::Net;

/// An unsigned integer: decimal, or hexadecimal after `0x`. A decimal may end in a scale suffix, 1000-based
/// as in nfdump: `k`/`K` (10^3), `m`/`M` (10^6), `g`/`G` (10^9), `t`/`T` (10^12).
pub(crate) fn uint(text: &str) -> Result<u64, String> {
    let too_large = || format!("`{text}` is too large");
    if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        if hex.is_empty() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!("`{text}` is not a number"));
        }
        return u64::from_str_radix(hex, 16).map_err(|_| too_large());
    }
    let (digits, scale) = match text.as_bytes().last() {
        Some(b'k' | b'K') => (&text[..text.len() - 1], 1_000),
        Some(b'm' | b'M') => (&text[..text.len() - 1], 1_000_000),
        Some(b'g' | b'G') => (&text[..text.len() - 1], 1_000_000_000),
        Some(b't' | b'T') => (&text[..text.len() - 1], 1_000_000_000_000),
        _ => (text, 1),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("`{text}` is not a number"));
    }
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .ok_or_else(too_large)
}

/// An IPv4 or IPv6 address, in the schema's address type.
pub(crate) fn addr(text: &str) -> Option<Ipv6Addr> {
    if let Ok(v4) = text.parse::<Ipv4Addr>() {
        return Some(v4.to_ipv6_mapped());
    }
    text.parse::<Ipv6Addr>().ok()
}

/// An IPv4 address that may leave out trailing zero bytes (`172.16` is `172.16.0.0`), as nfdump allows in
/// front of a prefix length.
fn short_v4(text: &str) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    for (n, part) in text.split('.').enumerate() {
        let slot = octets.get_mut(n)?;
        if part.is_empty() || part.len() > 3 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        *slot = part.parse().ok()?;
    }
    Some(Ipv4Addr::from(octets))
}

/// A prefix `addr/len`, or an address alone (a host). IPv4 lengths count IPv4 bits. Host bits are cleared.
pub(crate) fn net(text: &str) -> Result<Net, String> {
    let Some((a, len)) = text.split_once('/') else {
        return addr(text)
            .map(Net::host)
            .ok_or_else(|| format!("`{text}` is not an address"));
    };
    let bad = || format!("`{text}` is not a prefix (address/length)");
    if len.is_empty() || len.len() > 3 || !len.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let len: u8 = len.parse().map_err(|_| bad())?;
    let (base, len, max) = match short_v4(a) {
        Some(v4) => (v4.to_ipv6_mapped(), len.saturating_add(96), 32),
        None => (a.parse::<Ipv6Addr>().map_err(|_| bad())?, len, 128),
    };
    Net::new(base, len).ok_or_else(|| format!("prefix length in `{text}` is longer than {max} bits"))
}

/// nfdump's `net a.b.c.d m.m.m.m`: an IPv4 address and a contiguous netmask.
pub(crate) fn masked_net(address: &str, mask: &str) -> Result<Net, String> {
    let base = address
        .parse::<Ipv4Addr>()
        .map_err(|_| format!("`{address}` is not an IPv4 address"))?;
    let m = u32::from(
        mask.parse::<Ipv4Addr>()
            .map_err(|_| format!("`{mask}` is not a netmask"))?,
    );
    if m.leading_ones() + m.trailing_zeros() != 32 {
        return Err(format!("netmask `{mask}` is not contiguous"));
    }
    Net::new(base.to_ipv6_mapped(), 96 + m.leading_ones() as u8)
        .ok_or_else(|| format!("netmask `{mask}` is longer than 32 bits"))
}

/// Whether a word is a dotted IPv4 address, so that `net 10.0.0.0 255.0.0.0` reads the second word as a mask.
pub(crate) fn is_dotted_quad(text: &str) -> bool {
    text.parse::<Ipv4Addr>().is_ok()
}

/// A MAC address as `00:11:22:33:44:55`, `00-11-22-33-44-55` or Cisco's `0011.2233.4455`, in the low 48
/// bits of a `u64`.
pub(crate) fn mac(text: &str) -> Option<u64> {
    let hex: String = match text.len() {
        17 => {
            let sep = text.as_bytes()[2];
            if !matches!(sep, b':' | b'-') {
                return None;
            }
            let groups: Vec<&str> = text.split(sep as char).collect();
            if groups.len() != 6 || groups.iter().any(|g| g.len() != 2) {
                return None;
            }
            groups.concat()
        }
        14 => {
            let groups: Vec<&str> = text.split('.').collect();
            if groups.len() != 3 || groups.iter().any(|g| g.len() != 4) {
                return None;
            }
            groups.concat()
        }
        _ => return None,
    };
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u64::from_str_radix(&hex, 16).ok()
}

/// Prints a MAC as `00:11:22:33:44:55`.
pub(crate) struct Mac(pub u64);

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0.to_be_bytes();
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            b[2], b[3], b[4], b[5], b[6], b[7]
        )
    }
}

/// The latest time a store can hold: timestamps are signed 64-bit nanoseconds in Arrow and ClickHouse.
pub(crate) const MAX_TIME: u64 = i64::MAX as u64;

/// A time: nanoseconds since the epoch as an integer, or RFC 3339 (`2024-03-01T12:00:00Z`,
/// `2024-03-01T12:00:00.250+09:00`; a date alone is its midnight UTC; no offset means UTC).
pub fn time(text: &str) -> Result<u64, String> {
    let ns = if text.bytes().all(|b| b.is_ascii_digit()) {
        text.parse::<u64>()
            .map_err(|_| format!("`{text}` is too large"))?
    } else {
        rfc3339(text).ok_or_else(|| {
            format!("`{text}` is not a time (RFC 3339, e.g. 2024-03-01T12:00:00Z, or nanoseconds)")
        })?
    };
    if ns > MAX_TIME {
        return Err(format!("`{text}` is later than a store can hold"));
    }
    Ok(ns)
}

/// Reads exactly `n` ASCII digits at the front of `s`.
fn digits(s: &mut &[u8], n: usize) -> Option<u32> {
    let (head, rest) = s.split_at_checked(n)?;
    if !head.iter().all(u8::is_ascii_digit) {
        return None;
    }
    *s = rest;
    Some(head.iter().fold(0, |v, d| v * 10 + u32::from(d - b'0')))
}

/// Takes `c` off the front of `s` if it is there.
fn eat(s: &mut &[u8], c: u8) -> bool {
    match s.split_first() {
        Some((&first, rest)) if first == c => {
            *s = rest;
            true
        }
        _ => false,
    }
}

fn rfc3339(text: &str) -> Option<u64> {
    let mut s = text.as_bytes();
    let y = digits(&mut s, 4)?;
    let m = eat(&mut s, b'-').then(|| digits(&mut s, 2))??;
    let d = eat(&mut s, b'-').then(|| digits(&mut s, 2))??;
    let month_days = [
        31,
        28 + u32::from(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)),
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if y < 1970 || !(1..=12).contains(&m) || d == 0 || d > month_days[m as usize - 1] {
        return None;
    }
    let (mut secs, mut nanos, mut offset) = (0i64, 0u64, 0i64);
    if eat(&mut s, b'T') || eat(&mut s, b't') {
        let h = digits(&mut s, 2)?;
        let min = eat(&mut s, b':').then(|| digits(&mut s, 2))??;
        let sec = if eat(&mut s, b':') { digits(&mut s, 2)? } else { 0 };
        if h > 23 || min > 59 || sec > 59 {
            return None;
        }
        secs = i64::from(h * 3600 + min * 60 + sec);
        if eat(&mut s, b'.') {
            let frac = s.iter().take_while(|b| b.is_ascii_digit()).count();
            if frac == 0 || frac > 9 {
                return None;
            }
            nanos = u64::from(digits(&mut s, frac)?) * 10u64.pow(9 - frac as u32);
        }
        if eat(&mut s, b'Z') || eat(&mut s, b'z') {
        } else if let Some(sign) = s.first().copied().filter(|c| matches!(c, b'+' | b'-')) {
            s = &s[1..];
            let oh = digits(&mut s, 2)?;
            let om = eat(&mut s, b':').then(|| digits(&mut s, 2))??;
            if oh > 23 || om > 59 {
                return None;
            }
            offset = i64::from(oh * 3600 + om * 60) * if sign == b'+' { 1 } else { -1 };
        }
    }
    if !s.is_empty() {
        return None;
    }
    let epoch_secs = days_from_civil(i64::from(y), m, d) * 86_400 + secs - offset;
    let secs = u64::try_from(epoch_secs).ok()?;
    secs.checked_mul(NANOS_PER_SEC)?.checked_add(nanos)
}

/// A BGP standard community: a number, or `asn:value` with each half at most 65535.
pub(crate) fn community(text: &str) -> Result<u32, String> {
    let Some((high, low)) = text.split_once(':') else {
        return uint(text).and_then(|n| u32::try_from(n).map_err(|_| format!("`{text}` is too large")));
    };
    let half = |h: &str| {
        (!h.is_empty() && h.len() <= 5 && h.bytes().all(|b| b.is_ascii_digit()))
            .then(|| h.parse::<u16>().ok())
            .flatten()
    };
    match (half(high), half(low)) {
        (Some(h), Some(l)) => Ok(u32::from(h) << 16 | u32::from(l)),
        _ => Err(format!(
            "`{text}` is not a community (asn:value, each at most 65535)"
        )),
    }
}

/// Prints a community as `asn:value`.
pub(crate) struct Community(pub u32);

impl fmt::Display for Community {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.0 >> 16, self.0 & 0xffff)
    }
}

/// IP protocols users name, with their numbers (names as in nfdump and /etc/protocols).
pub(crate) const PROTOCOLS: &[(&str, u8)] = &[
    ("icmp", 1),
    ("igmp", 2),
    ("ipip", 4),
    ("tcp", 6),
    ("egp", 8),
    ("udp", 17),
    ("ipv6", 41),
    ("rsvp", 46),
    ("gre", 47),
    ("esp", 50),
    ("ah", 51),
    ("icmp6", 58),
    ("ipv6-icmp", 58),
    ("eigrp", 88),
    ("ospf", 89),
    ("pim", 103),
    ("vrrp", 112),
    ("l2tp", 115),
    ("sctp", 132),
];

/// The number of a protocol named in [`PROTOCOLS`], case-insensitively.
pub(crate) fn protocol(name: &str) -> Option<u8> {
    PROTOCOLS
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|&(_, p)| p)
}

/// Prints a prefix: an address alone for a host, IPv4 notation for IPv4-mapped prefixes of at least 96 bits.
pub(crate) struct NetText(pub Net);

impl fmt::Display for NetText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0;
        match (n.addr().to_ipv4_mapped(), n.prefix_len()) {
            (Some(v4), 128) => write!(f, "{v4}"),
            (Some(v4), len @ 96..) => write!(f, "{v4}/{}", len - 96),
            (_, 128) => write!(f, "{}", n.addr()),
            (_, len) => write!(f, "{}/{len}", n.addr()),
        }
    }
}

/// Prints a string quoted, escaping quotes and backslashes, as the lexer reads it back.
pub(crate) struct Quoted<'a>(pub &'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"")?;
        for c in self.0.chars() {
            if matches!(c, '"' | '\\') {
                f.write_str("\\")?;
            }
            write!(f, "{c}")?;
        }
        f.write_str("\"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use weir_flow::ipv4;

    #[test]
    fn scales_numbers_by_powers_of_1000() {
        assert_eq!(uint("1500"), Ok(1500));
        assert_eq!(uint("10k"), Ok(10_000));
        assert_eq!(uint("2M"), Ok(2_000_000));
        assert_eq!(uint("1g"), Ok(1_000_000_000));
        assert_eq!(uint("3T"), Ok(3_000_000_000_000));
        assert_eq!(uint("0x86dd"), Ok(0x86dd));
        assert!(uint("20000000T").unwrap_err().contains("too large"));
        assert!(uint("1.5k").unwrap_err().contains("not a number"));
        assert!(uint("k").is_err() && uint("0x").is_err() && uint("-1").is_err());
    }

    #[test]
    fn reads_prefixes_in_every_form() {
        let ten = Net::new(ipv4([10, 0, 0, 0]), 104).unwrap();
        assert_eq!(net("10.0.0.0/8"), Ok(ten));
        assert_eq!(net("10/8"), Ok(ten));
        assert_eq!(net("10.1.2.3/8"), Ok(ten));
        assert_eq!(masked_net("10.0.0.0", "255.0.0.0"), Ok(ten));
        assert_eq!(NetText(net("172.16/12").unwrap()).to_string(), "172.16.0.0/12");
        assert_eq!(
            NetText(net("2001:db8::/32").unwrap()).to_string(),
            "2001:db8::/32"
        );
        assert_eq!(NetText(net("192.0.2.1").unwrap()).to_string(), "192.0.2.1");
        assert!(net("10.0.0.0/33").unwrap_err().contains("longer than 32 bits"));
        assert!(
            net("2001:db8::/129")
                .unwrap_err()
                .contains("longer than 128 bits")
        );
        assert!(net("10.0.0.0/x").is_err() && net("10.0.0.256/8").is_err() && net("10.0/").is_err());
        assert!(
            masked_net("10.0.0.0", "255.0.255.0")
                .unwrap_err()
                .contains("contiguous")
        );
        assert!(is_dotted_quad("255.255.0.0") && !is_dotted_quad("10.0.0.0/8"));
    }

    #[test]
    fn reads_macs_in_three_notations() {
        for text in ["00:1b:21:3c:4d:5e", "00-1B-21-3C-4D-5E", "001b.213c.4d5e"] {
            assert_eq!(mac(text), Some(0x001b_213c_4d5e), "{text}");
        }
        assert_eq!(Mac(0x001b_213c_4d5e).to_string(), "00:1b:21:3c:4d:5e");
        for bad in [
            "00:1b:21:3c:4d",
            "00:1b:21:3c:4d:5g",
            "00:1b-21:3c:4d:5e",
            "001b.213c.4d5",
        ] {
            assert_eq!(mac(bad), None, "{bad}");
        }
    }

    #[test]
    fn reads_rfc3339_times_with_offsets() {
        let noon = 1_709_294_400 * NANOS_PER_SEC;
        assert_eq!(time("2024-03-01T12:00:00Z"), Ok(noon));
        assert_eq!(time("2024-03-01T21:00:00+09:00"), Ok(noon));
        assert_eq!(time("2024-03-01T12:00Z"), Ok(noon));
        assert_eq!(time("2024-03-01T12:00:00.25Z"), Ok(noon + 250_000_000));
        assert_eq!(time("2024-03-01"), Ok(noon - 12 * 3600 * NANOS_PER_SEC));
        assert_eq!(time(&noon.to_string()), Ok(noon));
        assert_eq!(
            time(&weir_flow::time::Rfc3339(noon + 1).to_string()),
            Ok(noon + 1)
        );
        for bad in [
            "2024-02-30",
            "2024-13-01",
            "2024-03-01T24:00:00Z",
            "2024-03-01T12:00:00.Z",
            "1969-12-31",
        ] {
            assert!(time(bad).is_err(), "{bad}");
        }
        assert!(time("9223372036854775808").unwrap_err().contains("later than"));
    }

    #[test]
    fn reads_communities_as_asn_and_value() {
        assert_eq!(community("65000:100"), Ok(65000 << 16 | 100));
        assert_eq!(community("4259840100"), Ok(4_259_840_100));
        assert_eq!(Community(65000 << 16 | 100).to_string(), "65000:100");
        assert!(community("65536:1").is_err() && community(":1").is_err());
    }

    #[test]
    fn quotes_strings_so_the_lexer_reads_them_back() {
        assert_eq!(Quoted(r#"a "b" \c"#).to_string(), r#""a \"b\" \\c""#);
        assert_eq!(protocol("TCP"), Some(6));
        assert_eq!(protocol("tcpp"), None);
    }
}
