//! The routing table file: one route per line.
//!
//! ```text
//! # prefix          origin AS   next hop      BGP next hop
//! 10.1.0.0/16       64512       192.0.2.1     198.51.100.7
//! 10.2.0.0 255.255.0.0  64513   192.0.2.1
//! 2001:db8::/32     64514       -             2001:db8:ffff::1
//! 0.0.0.0/0
//! ```
//!
//! Fields are separated by spaces or tabs; `#` starts a comment; blank lines are skipped. Only the prefix is
//! required: the origin AS, next hop and BGP next hop may be left out from the right, or written `-`, and
//! are then 0 or unspecified. An IPv4 prefix takes a length (`/16`) or, as in a router's configuration, a
//! dotted netmask in the next field. A prefix with bits set past its length is refused rather than
//! silently truncated: it is more often a typo (`10.1.0.0/8`) than meant.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use thiserror::Error;

use super::Route;
use super::ranges::Bits;

/// What is wrong at a place in a routing table file.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Problem {
    /// The file is not UTF-8 text.
    #[error("not UTF-8 text")]
    NotUtf8,
    /// A field that should be an address is not one.
    #[error("`{0}` is not an IPv4 or IPv6 address")]
    BadAddress(String),
    /// A prefix length that is not a number up to the address width.
    #[error("prefix length `{text}` is not a number from 0 to {max}")]
    BadLength {
        /// The length as written.
        text: String,
        /// The address width: 32 or 128.
        max: u8,
    },
    /// A prefix with neither a length nor a netmask.
    #[error("prefix `{0}` needs a length (`/24`) or, for IPv4, a netmask")]
    MissingLength(String),
    /// A netmask whose one bits are not contiguous from the left.
    #[error("`{0}` is not a netmask (its one bits must be contiguous from the left)")]
    BadNetmask(String),
    /// A prefix with bits set past its length.
    #[error("`{0}` has bits set past its length")]
    HostBits(String),
    /// An IPv6 prefix in the IPv4-mapped range, which flows never use (IPv4 flows match IPv4 prefixes).
    #[error("`{0}` is IPv4-mapped: write the prefix as IPv4")]
    MappedPrefix(String),
    /// An AS number that is not a number up to 4294967295.
    #[error("AS `{0}` is not a number from 0 to 4294967295")]
    BadAs(String),
    /// A field after the BGP next hop.
    #[error("unexpected field `{0}` after the BGP next hop")]
    ExtraField(String),
    /// A prefix listed twice.
    #[error("{prefix} is listed twice (first on line {first_line})")]
    Duplicate {
        /// The prefix.
        prefix: String,
        /// The line that listed it first.
        first_line: usize,
    },
}

/// A routing table file that cannot be used, and where.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{file}:{line}:{column}: {problem}")]
pub struct RouteFileError {
    /// The file.
    pub file: String,
    /// Line number, from 1.
    pub line: usize,
    /// Column (in characters), from 1.
    pub column: usize,
    /// What is wrong.
    pub problem: Problem,
}

/// A parsed route and the line it came from.
pub(crate) struct Parsed {
    pub(crate) route: Route,
    pub(crate) line: usize,
}

/// A problem at a byte offset of a line, before the file name and line number are known.
struct At {
    offset: usize,
    problem: Problem,
}

/// Reads every route of `bytes`; `file` names the file in errors.
pub(crate) fn parse(file: &str, bytes: &[u8]) -> Result<Vec<Parsed>, RouteFileError> {
    let syntax = |line: usize, text: &str, offset: usize, problem| RouteFileError {
        file: file.to_owned(),
        line,
        column: text[..offset].chars().count() + 1,
        problem,
    };
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let valid = std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default();
            let line_start = valid.rfind('\n').map_or(0, |i| i + 1);
            let line = valid.matches('\n').count() + 1;
            return Err(syntax(
                line,
                &valid[line_start..],
                valid.len() - line_start,
                Problem::NotUtf8,
            ));
        }
    };
    let mut routes = Vec::new();
    for (i, line) in text.split('\n').enumerate() {
        let content = line.split('#').next().unwrap_or_default();
        match parse_line(content) {
            Ok(Some(route)) => routes.push(Parsed { route, line: i + 1 }),
            Ok(None) => {}
            Err(At { offset, problem }) => return Err(syntax(i + 1, line, offset, problem)),
        }
    }
    Ok(routes)
}

/// The fields of a line with their byte offsets.
fn fields(line: &str) -> impl Iterator<Item = (usize, &str)> {
    line.split([' ', '\t', '\r'])
        .filter(|f| !f.is_empty())
        .map(move |f| (f.as_ptr().addr() - line.as_ptr().addr(), f))
}

/// A route from one line without its comment; `None` for a blank line.
fn parse_line(line: &str) -> Result<Option<Route>, At> {
    let mut fields = fields(line).peekable();
    let Some((offset, prefix)) = fields.next() else {
        return Ok(None);
    };
    let (addr, len) = match prefix.split_once('/') {
        Some((addr, len)) => {
            let addr = address(offset, addr)?;
            (addr, length(offset + prefix.len() - len.len(), len, width(addr))?)
        }
        None => match address(offset, prefix)? {
            IpAddr::V4(addr) => {
                let mask = fields
                    .next_if(|(_, f)| f.contains('.'))
                    .ok_or_else(|| at(offset, Problem::MissingLength(shown(prefix))))?;
                (IpAddr::V4(addr), netmask(mask)?)
            }
            IpAddr::V6(_) => return Err(at(offset, Problem::MissingLength(shown(prefix)))),
        },
    };
    let network = match addr {
        IpAddr::V4(a) => a.to_bits().is_network(len),
        IpAddr::V6(a) if a.to_ipv4_mapped().is_some() => {
            return Err(at(offset, Problem::MappedPrefix(shown(prefix))));
        }
        IpAddr::V6(a) => a.to_bits().is_network(len),
    };
    if !network {
        return Err(at(offset, Problem::HostBits(shown(prefix))));
    }
    let asn = match fields.next() {
        None | Some((_, "-")) => 0,
        Some((offset, f)) => u32::from_str(f).map_err(|_| at(offset, Problem::BadAs(shown(f))))?,
    };
    let next_hop = optional_address(fields.next())?;
    let bgp_next_hop = optional_address(fields.next())?;
    if let Some((offset, f)) = fields.next() {
        return Err(at(offset, Problem::ExtraField(shown(f))));
    }
    Ok(Some(Route {
        prefix: weir_flow::ip(addr),
        len,
        asn,
        next_hop,
        bgp_next_hop,
    }))
}

fn at(offset: usize, problem: Problem) -> At {
    At { offset, problem }
}

fn width(addr: IpAddr) -> u8 {
    match addr {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    }
}

fn address(offset: usize, text: &str) -> Result<IpAddr, At> {
    IpAddr::from_str(text).map_err(|_| at(offset, Problem::BadAddress(shown(text))))
}

fn optional_address(field: Option<(usize, &str)>) -> Result<Ipv6Addr, At> {
    match field {
        None | Some((_, "-")) => Ok(Ipv6Addr::UNSPECIFIED),
        Some((offset, f)) => address(offset, f).map(weir_flow::ip),
    }
}

fn length(offset: usize, text: &str, max: u8) -> Result<u8, At> {
    u8::from_str(text).ok().filter(|&len| len <= max).ok_or_else(|| {
        at(
            offset,
            Problem::BadLength {
                text: shown(text),
                max,
            },
        )
    })
}

fn netmask((offset, text): (usize, &str)) -> Result<u8, At> {
    let mask = Ipv4Addr::from_str(text).map_err(|_| at(offset, Problem::BadAddress(shown(text))))?;
    let bits = mask.to_bits();
    let len = bits.leading_ones();
    if bits.count_ones() != len {
        return Err(at(offset, Problem::BadNetmask(shown(text))));
    }
    Ok(len as u8)
}

/// A field as quoted in an error: at most 64 characters, so a garbage line does not make a huge message.
fn shown(text: &str) -> String {
    const MAX: usize = 64;
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_owned(),
    }
}
