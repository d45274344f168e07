//! What a top-N is keyed by and a series split by: schema dimensions, and networks made from addresses.
//!
//! A network (`src_net`, `dst_net`) is an address cut to its route's prefix length as the exporter gave it
//! (`src_mask`, `dst_mask`), so that traffic between subnets can be ranked without listing every host. Many
//! exporters send no masks (a mask of 0); their addresses are cut to /24 (IPv4) or /48 (IPv6), the
//! prefixes operators aggregate by when they have nothing better. Each backend writes the network as text
//! (`192.0.2.0/24`, `2001:db8::/48`) through its [`Dialect`](crate::filter::Dialect), so a key read back
//! from one statement can be matched in the next.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};

use weir_flow::{FIELDS, Field};

use super::error::QueryError;
use crate::filter::suggest;

/// Prefix length for an IPv4 address whose mask is unknown (0) or impossible (over 32).
pub const DEFAULT_V4_PREFIX: u8 = 24;
/// Prefix length for an IPv6 address whose mask is unknown (0) or impossible (over 128).
pub const DEFAULT_V6_PREFIX: u8 = 48;

/// One part of a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dim {
    /// A schema column, as stored.
    Field(Field),
    /// `src_addr` cut to `src_mask`.
    SrcNet,
    /// `dst_addr` cut to `dst_mask`.
    DstNet,
}

/// The dimensions that are not schema columns, with what they hold (for help, the API and the UI).
pub const DERIVED: &[(Dim, &str)] = &[
    (
        Dim::SrcNet,
        "Source network: src_addr cut to src_mask, or to /24 (IPv4) and /48 (IPv6) when the exporter sent no mask.",
    ),
    (
        Dim::DstNet,
        "Destination network: dst_addr cut to dst_mask, or to /24 (IPv4) and /48 (IPv6) when the exporter sent no mask.",
    ),
];

impl Dim {
    /// The name users type, and the answer's column name.
    pub fn name(self) -> &'static str {
        match self {
            Dim::Field(f) => f.column().name,
            Dim::SrcNet => "src_net",
            Dim::DstNet => "dst_net",
        }
    }

    /// The stored columns the dimension is made from.
    pub fn columns(self) -> Vec<Field> {
        match self {
            Dim::Field(f) => vec![f],
            Dim::SrcNet => vec![Field::src_addr, Field::src_mask],
            Dim::DstNet => vec![Field::dst_addr, Field::dst_mask],
        }
    }
}

impl fmt::Display for Dim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl From<Field> for Dim {
    fn from(f: Field) -> Dim {
        Dim::Field(f)
    }
}

/// The network `addr` is in under the prefix length `mask`, the way every backend writes a network key:
/// IPv4 (mapped) addresses as IPv4, and a mask of 0 or one too long for the family taken as `v4` or `v6`
/// bits.
///
/// ```
/// use weir_query::plan::net;
///
/// assert_eq!(net("::ffff:192.0.2.77".parse().unwrap(), 0, 24, 48), ("192.0.2.0".parse().unwrap(), 24));
/// assert_eq!(net("2001:db8:1:2::1".parse().unwrap(), 32, 24, 48), ("2001:db8::".parse().unwrap(), 32));
/// ```
///
/// Inlined into other crates: the engine cuts every row's address with it, and a call per row cost as
/// much as the cut.
#[inline]
pub fn net(addr: Ipv6Addr, mask: u8, v4: u8, v6: u8) -> (IpAddr, u8) {
    match addr.to_ipv4_mapped() {
        Some(a) => {
            let len = if (1..=32).contains(&mask) {
                mask
            } else {
                v4.min(32)
            };
            let keep = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
            (std::net::Ipv4Addr::from(u32::from(a) & keep).into(), len)
        }
        None => {
            let len = if (1..=128).contains(&mask) {
                mask
            } else {
                v6.min(128)
            };
            let keep = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
            (Ipv6Addr::from(u128::from(addr) & keep).into(), len)
        }
    }
}

/// Bytes in a network's binary key: [`net_key`].
pub const NET_KEY_LEN: usize = 17;

/// A network as a fixed-width key, for engines that group by bytes faster than by text: the network's
/// address as IPv6 (IPv4 mapped), then its prefix length. [`net`] never gives an IPv6 network inside the
/// mapped range, so the key says the family without a flag.
///
/// ```
/// use weir_query::plan::{net_from_key, net_key};
///
/// let n = ("192.0.2.0".parse().unwrap(), 24);
/// assert_eq!(net_key(n)[10..], [0xff, 0xff, 192, 0, 2, 0, 24]);
/// assert_eq!(net_from_key(&net_key(n)), Some(n));
/// ```
#[inline]
pub fn net_key((addr, len): (IpAddr, u8)) -> [u8; NET_KEY_LEN] {
    let octets = match addr {
        IpAddr::V4(a) => a.to_ipv6_mapped().octets(),
        IpAddr::V6(a) => a.octets(),
    };
    let mut key = [0; NET_KEY_LEN];
    key[..16].copy_from_slice(&octets);
    key[16] = len;
    key
}

/// The network a [`net_key`] holds; `None` for bytes of another length.
pub fn net_from_key(key: &[u8]) -> Option<(IpAddr, u8)> {
    let (octets, len) = key.split_first_chunk::<16>()?;
    let &[len] = len else { return None };
    let addr = Ipv6Addr::from(*octets);
    Some(match addr.to_ipv4_mapped() {
        Some(a) => (a.into(), len),
        None => (addr.into(), len),
    })
}

/// A network as backends write it, `addr/len`; `None` for anything else.
pub fn parse_net(s: &str) -> Option<(IpAddr, u8)> {
    let (addr, len) = s.split_once('/')?;
    Some((addr.parse().ok()?, len.parse().ok()?))
}

/// The dimension called `name` (any ASCII case): a derived one or a schema field, or an error with the
/// nearest name of either.
///
/// ```
/// use weir_query::plan::{Dim, dim};
///
/// assert_eq!(dim("SRC_NET"), Ok(Dim::SrcNet));
/// assert_eq!(dim("dst_as"), Ok(Dim::Field(weir_flow::Field::dst_as)));
/// let e = dim("dst_nett").unwrap_err();
/// assert_eq!(e.to_string(), "unknown field `dst_nett`; did you mean `dst_net`?");
/// ```
pub fn dim(name: &str) -> Result<Dim, QueryError> {
    if let Some(&(d, _)) = DERIVED.iter().find(|(d, _)| d.name().eq_ignore_ascii_case(name)) {
        return Ok(d);
    }
    if let Some(&f) = FIELDS.iter().find(|f| f.column().name.eq_ignore_ascii_case(name)) {
        return Ok(Dim::Field(f));
    }
    let names = DERIVED
        .iter()
        .map(|(d, _)| d.name())
        .chain(FIELDS.iter().map(|f| f.column().name));
    Err(QueryError::UnknownField {
        name: name.to_owned(),
        suggestion: suggest::nearest(name, names),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_are_made_of_an_address_and_its_mask() {
        assert_eq!(Dim::SrcNet.columns(), vec![Field::src_addr, Field::src_mask]);
        assert_eq!(Dim::DstNet.columns(), vec![Field::dst_addr, Field::dst_mask]);
        assert_eq!(Dim::Field(Field::proto).columns(), vec![Field::proto]);
    }

    #[test]
    fn networks_cut_addresses_to_their_mask_or_the_default() {
        let v4 = |s: &str| s.parse::<std::net::Ipv4Addr>().unwrap().to_ipv6_mapped();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(net(v4("10.1.2.3"), 8, 24, 48), (ip("10.0.0.0"), 8));
        assert_eq!(net(v4("10.1.2.3"), 32, 24, 48), (ip("10.1.2.3"), 32));
        assert_eq!(net(v4("10.1.2.3"), 33, 24, 48), (ip("10.1.2.0"), 24));
        assert_eq!(net(v4("10.1.2.3"), 0, 0, 48), (ip("0.0.0.0"), 0));
        let a: Ipv6Addr = "2001:db8:aaaa:bbbb::1".parse().unwrap();
        assert_eq!(net(a, 0, 24, 48), (ip("2001:db8:aaaa::"), 48));
        assert_eq!(net(a, 128, 24, 48), (ip("2001:db8:aaaa:bbbb::1"), 128));
        assert_eq!(net(a, 129, 24, 64), (ip("2001:db8:aaaa:bbbb::"), 64));
    }

    #[test]
    fn names_read_case_insensitively_with_suggestions() {
        assert_eq!(dim("Dst_Net"), Ok(Dim::DstNet));
        assert_eq!(dim("proto"), Ok(Dim::Field(Field::proto)));
        assert!(matches!(
            dim("src_nte"),
            Err(QueryError::UnknownField {
                suggestion: Some("src_net"),
                ..
            })
        ));
    }
}
