//! The twelve aggregation schemes of Cisco IOS's NetFlow aggregation caches, and the flow fields each keeps.
//!
//! Which fields a scheme keys on follows Cisco's "Configuring NetFlow Aggregation Caches" and the NetFlow v8
//! record layouts (`weir_proto::netflow::v8_schemes`), with the quirks that come with them:
//! - the AS schemes key on the input and output interfaces too, not only on the ASes;
//! - the prefix schemes keep the origin AS and the interface on their side (both for `prefix`);
//! - `prefix-port` keeps prefixes, ports, ToS and interfaces, but no AS;
//! - `protocol-port` keeps only the protocol and ports, while `protocol-port-tos` adds the interfaces;
//! - `bgp-nexthop-tos` has no v8 layout: routers export it in NetFlow v9 only.

use std::fmt;
use std::str::FromStr;

use thiserror::Error;
use weir_proto::netflow::Aggregation;

/// An aggregation scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// Source and destination AS, input and output interface.
    As,
    /// `As` and type of service.
    AsTos,
    /// Source and destination AS, interfaces, type of service and BGP next hop (NetFlow v9 only).
    BgpNextHopTos,
    /// Destination prefix and mask, destination AS, output interface.
    DestinationPrefix,
    /// `DestinationPrefix` and type of service.
    DestinationPrefixTos,
    /// Source and destination prefixes and masks, ASes and interfaces.
    Prefix,
    /// Source and destination prefixes and masks, protocol, ports, type of service and interfaces.
    PrefixPort,
    /// `Prefix` and type of service.
    PrefixTos,
    /// Protocol and ports.
    ProtocolPort,
    /// Protocol, ports, type of service and interfaces.
    ProtocolPortTos,
    /// Source prefix and mask, source AS, input interface.
    SourcePrefix,
    /// `SourcePrefix` and type of service.
    SourcePrefixTos,
}

/// The flow fields a scheme keys on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Keys {
    /// The source prefix and its mask.
    pub src_prefix: bool,
    /// The destination prefix and its mask.
    pub dst_prefix: bool,
    /// The source AS.
    pub src_as: bool,
    /// The destination AS.
    pub dst_as: bool,
    /// The input interface.
    pub in_if: bool,
    /// The output interface.
    pub out_if: bool,
    /// The type of service.
    pub tos: bool,
    /// The protocol and the ports (for ICMP, type and code).
    pub ports: bool,
    /// The BGP next hop.
    pub bgp_next_hop: bool,
}

/// What an AS scheme keeps: both ASes and both interfaces.
const AS: Keys = Keys {
    src_as: true,
    dst_as: true,
    in_if: true,
    out_if: true,
    ..Keys::NONE
};

/// What a source-prefix scheme keeps: the prefix, its AS, the input interface.
const SOURCE: Keys = Keys {
    src_prefix: true,
    src_as: true,
    in_if: true,
    ..Keys::NONE
};

/// What a destination-prefix scheme keeps: the prefix, its AS, the output interface.
const DESTINATION: Keys = Keys {
    dst_prefix: true,
    dst_as: true,
    out_if: true,
    ..Keys::NONE
};

/// What the prefix (matrix) schemes keep: both sides.
const PREFIX: Keys = Keys {
    src_prefix: true,
    dst_prefix: true,
    ..AS
};

impl Keys {
    /// No field.
    pub const NONE: Self = Self {
        src_prefix: false,
        dst_prefix: false,
        src_as: false,
        dst_as: false,
        in_if: false,
        out_if: false,
        tos: false,
        ports: false,
        bgp_next_hop: false,
    };

    const fn with_tos(self) -> Self {
        Self { tos: true, ..self }
    }
}

impl Scheme {
    /// Every scheme, in the order of Cisco's documentation.
    pub const ALL: [Scheme; 12] = [
        Self::As,
        Self::AsTos,
        Self::BgpNextHopTos,
        Self::DestinationPrefix,
        Self::DestinationPrefixTos,
        Self::Prefix,
        Self::PrefixPort,
        Self::PrefixTos,
        Self::ProtocolPort,
        Self::ProtocolPortTos,
        Self::SourcePrefix,
        Self::SourcePrefixTos,
    ];

    /// The scheme's name as in `ip flow-aggregation cache NAME`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::As => "as",
            Self::AsTos => "as-tos",
            Self::BgpNextHopTos => "bgp-nexthop-tos",
            Self::DestinationPrefix => "destination-prefix",
            Self::DestinationPrefixTos => "destination-prefix-tos",
            Self::Prefix => "prefix",
            Self::PrefixPort => "prefix-port",
            Self::PrefixTos => "prefix-tos",
            Self::ProtocolPort => "protocol-port",
            Self::ProtocolPortTos => "protocol-port-tos",
            Self::SourcePrefix => "source-prefix",
            Self::SourcePrefixTos => "source-prefix-tos",
        }
    }

    /// The fields the scheme keys on.
    pub const fn keys(self) -> Keys {
        match self {
            Self::As => AS,
            Self::AsTos => AS.with_tos(),
            Self::BgpNextHopTos => Keys {
                bgp_next_hop: true,
                ..AS.with_tos()
            },
            Self::DestinationPrefix => DESTINATION,
            Self::DestinationPrefixTos => DESTINATION.with_tos(),
            Self::Prefix => PREFIX,
            Self::PrefixPort => Keys {
                src_prefix: true,
                dst_prefix: true,
                in_if: true,
                out_if: true,
                tos: true,
                ports: true,
                ..Keys::NONE
            },
            Self::PrefixTos => PREFIX.with_tos(),
            Self::ProtocolPort => Keys {
                ports: true,
                ..Keys::NONE
            },
            Self::ProtocolPortTos => Keys {
                ports: true,
                tos: true,
                in_if: true,
                out_if: true,
                ..Keys::NONE
            },
            Self::SourcePrefix => SOURCE,
            Self::SourcePrefixTos => SOURCE.with_tos(),
        }
    }

    /// The NetFlow v8 scheme whose records carry this scheme's aggregates; `None` for `bgp-nexthop-tos`,
    /// which only NetFlow v9 (or IPFIX) can carry.
    pub const fn v8(self) -> Option<Aggregation> {
        Some(match self {
            Self::As => Aggregation::AS,
            Self::AsTos => Aggregation::AS_TOS,
            Self::BgpNextHopTos => return None,
            Self::DestinationPrefix => Aggregation::DST_PREFIX,
            Self::DestinationPrefixTos => Aggregation::DST_PREFIX_TOS,
            Self::Prefix => Aggregation::PREFIX,
            Self::PrefixPort => Aggregation::PREFIX_PORT,
            Self::PrefixTos => Aggregation::PREFIX_TOS,
            Self::ProtocolPort => Aggregation::PROTO_PORT,
            Self::ProtocolPortTos => Aggregation::PROTO_PORT_TOS,
            Self::SourcePrefix => Aggregation::SRC_PREFIX,
            Self::SourcePrefixTos => Aggregation::SRC_PREFIX_TOS,
        })
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A scheme name that is not one of the twelve.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error(
    "unknown aggregation scheme `{0}` (expected as, as-tos, bgp-nexthop-tos, destination-prefix, \
         destination-prefix-tos, prefix, prefix-port, prefix-tos, protocol-port, protocol-port-tos, \
         source-prefix or source-prefix-tos)"
)]
pub struct UnknownScheme(pub String);

impl FromStr for Scheme {
    type Err = UnknownScheme;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|scheme| scheme.name() == s)
            .ok_or_else(|| UnknownScheme(s.to_owned()))
    }
}
