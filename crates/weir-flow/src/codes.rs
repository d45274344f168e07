//! Named values of the schema's coded columns, so code says `etype::IPV6` rather than `0x86dd`.

/// Values of [`flow_direction`](crate::FlowRecord::flow_direction).
pub mod direction {
    /// The exporter did not say.
    pub const UNKNOWN: u8 = 0;
    /// Observed entering the observation point.
    pub const INGRESS: u8 = 1;
    /// Observed leaving the observation point.
    pub const EGRESS: u8 = 2;
}

/// Values of [`forwarding_status`](crate::FlowRecord::forwarding_status) (IPFIX IE 89: status in the top two
/// bits, reason code in the low six).
pub mod forwarding {
    /// Status unknown.
    pub const UNKNOWN: u8 = 0x00;
    /// Forwarded, reason unknown.
    pub const FORWARDED: u8 = 0x40;
    /// Dropped, reason unknown.
    pub const DROPPED: u8 = 0x80;
    /// Consumed (terminated by the device), reason unknown.
    pub const CONSUMED: u8 = 0xc0;

    /// The status part of a forwarding status byte: `FORWARDED`, `DROPPED`, `CONSUMED` or `UNKNOWN`.
    pub fn status(v: u8) -> u8 {
        v & 0xc0
    }
}

/// Values of [`flow_end_reason`](crate::FlowRecord::flow_end_reason) (IPFIX IE 136).
pub mod end_reason {
    /// The exporter did not say.
    pub const UNKNOWN: u8 = 0;
    /// No packet for the inactive timeout.
    pub const IDLE_TIMEOUT: u8 = 1;
    /// The flow lived for the active timeout.
    pub const ACTIVE_TIMEOUT: u8 = 2;
    /// The end of the flow was seen (TCP FIN or RST).
    pub const END_OF_FLOW: u8 = 3;
    /// Forced end (the exporter shut down, or the cache was flushed).
    pub const FORCED_END: u8 = 4;
    /// Lack of resources (the cache was full).
    pub const LACK_OF_RESOURCES: u8 = 5;
}

/// Values of [`etype`](crate::FlowRecord::etype).
pub mod etype {
    /// IPv4.
    pub const IPV4: u16 = 0x0800;
    /// IPv6.
    pub const IPV6: u16 = 0x86dd;
    /// ARP.
    pub const ARP: u16 = 0x0806;
    /// 802.1Q VLAN tag.
    pub const VLAN: u16 = 0x8100;
    /// 802.1ad service VLAN tag (QinQ).
    pub const QINQ: u16 = 0x88a8;
    /// MPLS unicast.
    pub const MPLS: u16 = 0x8847;
    /// MPLS multicast.
    pub const MPLS_MULTICAST: u16 = 0x8848;
}

/// IP protocol numbers used by name in code.
pub mod proto {
    /// ICMP.
    pub const ICMP: u8 = 1;
    /// TCP.
    pub const TCP: u8 = 6;
    /// UDP.
    pub const UDP: u8 = 17;
    /// GRE.
    pub const GRE: u8 = 47;
    /// ESP.
    pub const ESP: u8 = 50;
    /// ICMPv6.
    pub const ICMPV6: u8 = 58;
    /// SCTP.
    pub const SCTP: u8 = 132;
}

/// The packet sizes of Cisco's `show ip cache flow`.
pub mod packet_size {
    /// Upper bounds of the buckets, in bytes of IP packet: 1-32, 33-64, ..., 545-576, then 1024 up to 4608
    /// in steps of 512. Larger packets count in the last bucket, as on Cisco.
    pub const BUCKETS: [u32; 26] = [
        32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448, 480, 512, 544, 576, 1024, 1536,
        2048, 2560, 3072, 3584, 4096, 4608,
    ];
}
