//! Packet headers (Ethernet to L4), as sampled by sFlow and read by the probe.
