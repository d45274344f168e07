//! tcpdump's sFlow captures, checked against tcpdump's printed decode (`*.out`): the datagram headers,
//! every sample's sequence and source, flow samples' rate, pool and drops, interface counters, switch and
//! raw-header records are rendered as tcpdump prints them and must match its lines one for one.

use std::fmt::Write;

use super::{decode_all, fixture, udp_payloads};
use crate::error::DecodeError;
use crate::sflow::{CounterData, Datagram, FlowData, HeaderProtocol, Sample};

/// The lines of tcpdump's output this test compares, cut where tcpdump prints what Weir does not model.
fn tcpdump_lines(out: &str) -> Vec<String> {
    let mut lines = Vec::new();
    for line in out.lines() {
        let t = line.trim_start();
        if let Some(at) = line.find("sFlowv5, ") {
            lines.push(line[at..].to_string());
        } else if line.contains("sFlow version") && line.contains("not supported") {
            lines.push("unsupported".into());
        } else if line.contains("(invalid)") {
            lines.push("invalid".into());
        } else if t.starts_with("flow sample") || t.starts_with("expanded flow sample") {
            lines.push(t[..t.find(", input").unwrap_or(t.len())].to_string());
        } else if t.starts_with("ifindex") {
            lines.push(t[..t.find(" (").unwrap_or(t.len())].to_string());
        } else if [
            "counter sample",
            "expanded counter sample",
            "In octets",
            "Out octets",
            "src vlan",
            "protocol ",
        ]
        .iter()
        .any(|p| t.starts_with(p))
        {
            lines.push(t.to_string());
        }
    }
    lines
}

/// The same lines, from Weir's decode.
fn weir_lines(datagrams: &[Vec<u8>]) -> Vec<String> {
    let mut lines = Vec::new();
    for bytes in datagrams {
        let d = match Datagram::parse(bytes) {
            Ok(d) => d,
            Err(DecodeError::UnknownVersion { .. }) => {
                lines.push("unsupported".into());
                continue;
            }
            Err(DecodeError::Truncated { .. }) => {
                lines.push("invalid".into());
                continue;
            }
            Err(e) => panic!("{e}"),
        };
        let h = &d.header;
        let family = if h.agent.is_ipv4() { "IPv4" } else { "IPv6" };
        lines.push(format!(
            "sFlowv5, {family} agent {}, agent-id {}, seqnum {}, uptime {}, samples {}, length {}",
            h.agent,
            h.sub_agent_id,
            h.sequence,
            h.uptime_ms,
            d.samples.len(),
            bytes.len()
        ));
        for s in &d.samples {
            let mut encoded = Vec::new();
            s.write_v5(&mut encoded).unwrap();
            let len = encoded.len() - 8;
            match s {
                Sample::Flow(f) => {
                    let (pre, n) = if f.head.expanded {
                        ("expanded ", 3)
                    } else {
                        ("", 1)
                    };
                    let h = &f.head;
                    lines.push(format!(
                        "{pre}flow sample ({n}), length {len}, seqnum {}, type {}, idx {}, rate {}, pool {}, drops {}",
                        h.sequence, h.source.kind, h.source.index, h.sampling_rate, h.sample_pool, h.drops
                    ));
                    for r in &f.records {
                        match r {
                            FlowData::Switch(s) => lines.push(format!(
                                "src vlan {}, src pri {}, dst vlan {}, dst pri {}",
                                s.src_vlan, s.src_priority, s.dst_vlan, s.dst_priority
                            )),
                            FlowData::RawHeader(h) => {
                                assert_eq!(h.protocol, HeaderProtocol::ETHERNET);
                                lines.push(format!(
                                    "protocol Ethernet (1), length {}, stripped bytes {}, header_size {}",
                                    h.frame_length,
                                    h.stripped,
                                    h.header.len()
                                ));
                            }
                            _ => {}
                        }
                    }
                }
                Sample::Counter(c) => {
                    let (pre, n) = if c.head.expanded {
                        ("expanded ", 4)
                    } else {
                        ("", 2)
                    };
                    lines.push(format!(
                        "{pre}counter sample ({n}), length {len}, seqnum {}, type {}, idx {}, records {}",
                        c.head.sequence,
                        c.head.source.kind,
                        c.head.source.index,
                        c.records.len()
                    ));
                    for r in &c.records {
                        if let CounterData::Generic(g) = r {
                            lines.push(format!(
                                "ifindex {}, iftype {}, ifspeed {}, ifdirection {}",
                                g.if_index, g.if_type, g.if_speed, g.if_direction
                            ));
                            let mut l = String::new();
                            let _ = write!(
                                l,
                                "In octets {}, unicast pkts {}, multicast pkts {}, broadcast pkts {}, discards {}",
                                g.in_octets, g.in_unicast, g.in_multicast, g.in_broadcast, g.in_discards
                            );
                            lines.push(l);
                            lines.push(format!(
                                "Out octets {}, unicast pkts {}, multicast pkts {}, broadcast pkts {}, discards {}",
                                g.out_octets, g.out_unicast, g.out_multicast, g.out_broadcast, g.out_discards
                            ));
                        }
                    }
                }
                Sample::Discarded(_) | Sample::Unknown(_) => {}
            }
        }
    }
    lines
}

/// Compares the lines; returns the datagrams and how many flow samples, counter samples and unsupported
/// datagrams tcpdump saw.
fn compare(name: &str) -> (Vec<Vec<u8>>, [usize; 3]) {
    let datagrams = udp_payloads(&fixture(&format!("tcpdump/{name}.pcap")));
    let expected = tcpdump_lines(&String::from_utf8(fixture(&format!("tcpdump/{name}.out"))).unwrap());
    let got = weir_lines(&datagrams);
    assert!(!expected.is_empty());
    for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
        assert_eq!(g, e, "{name}: line {i}");
    }
    assert_eq!(got.len(), expected.len(), "{name}: line count");
    let count = |p: &[&str]| {
        expected
            .iter()
            .filter(|l| p.iter().any(|p| l.starts_with(p)))
            .count()
    };
    let tally = [
        count(&["flow sample", "expanded flow sample"]),
        count(&["counter sample", "expanded counter sample"]),
        count(&["unsupported"]),
    ];
    (datagrams, tally)
}

#[test]
fn matches_tcpdump_on_an_ipv6_agent() {
    let (datagrams, [flows, counters, _]) = compare("sflow-print-v6");
    let (d, batch, outcomes) = decode_all(&datagrams);
    assert!(outcomes.iter().all(|o| o.error.is_none()));
    let c = &d.domains().next().unwrap().1.counters;
    assert_eq!(
        (
            c.datagrams as usize,
            c.records as usize,
            c.counter_samples as usize
        ),
        (datagrams.len(), flows, counters)
    );
    assert_eq!(batch.len(), flows);
    // The datagram sequence runs without a gap; each port's flow samples are in sequence.
    assert_eq!((c.sequence_gaps, c.lost_records, c.restarts), (0, 0, 0));
}

#[test]
fn matches_tcpdump_on_thirty_counter_datagrams() {
    let (datagrams, [_, counters, unsupported]) = compare("sflow_multiple_counter_30_pdus");
    let (d, _, outcomes) = decode_all(&datagrams);
    // What tcpdump calls unsupported sFlow versions start 00 05 00 01: NetFlow v5 sent to the sFlow port.
    let other = outcomes
        .iter()
        .filter(|o| o.domain.dialect != crate::Dialect::Sflow)
        .count();
    assert_eq!((outcomes.len(), other), (30, unsupported));
    assert!(
        outcomes
            .iter()
            .filter(|o| o.domain.dialect == crate::Dialect::Sflow)
            .all(|o| o.error.is_none())
    );
    let sflow: Vec<_> = d
        .domains()
        .filter(|(k, _)| k.dialect == crate::Dialect::Sflow)
        .collect();
    let samples: u64 = sflow.iter().map(|(_, dom)| dom.counters.counter_samples).sum();
    assert_eq!(samples as usize, counters);
    // The latest generic counters are kept per source and ifIndex.
    let kept: usize = sflow
        .iter()
        .map(|(_, dom)| dom.sflow_state().map_or(0, |s| s.interfaces().count()))
        .sum();
    let distinct: std::collections::HashSet<_> = datagrams
        .iter()
        .filter_map(|g| Datagram::parse(g).ok())
        .flat_map(|g| {
            let sub = g.header.sub_agent_id;
            g.samples.into_iter().filter_map(move |s| match s {
                Sample::Counter(c) => c.records.iter().find_map(|r| match r {
                    CounterData::Generic(x) => Some((sub, c.head.source, x.if_index)),
                    CounterData::Unknown(_) => None,
                }),
                _ => None,
            })
        })
        .collect();
    assert_eq!(kept, distinct.len());
}

#[test]
fn matches_tcpdump_on_an_expanded_flow_sample() {
    let (_, [flows, counters, _]) = compare("sflow_expanded");
    assert_eq!((flows, counters), (1, 0));
}

#[test]
fn the_crash_reproducer_gives_a_clean_error() {
    let (datagrams, _) = compare("sflow_print-segv");
    let (_, batch, outcomes) = decode_all(&datagrams);
    assert_eq!(batch.len(), 0);
    assert_eq!(
        outcomes[0].error,
        Some(DecodeError::Truncated {
            offset: 8,
            needed: 4,
            available: 0
        })
    );
    // The whole captured frame, past the UDP length, is garbage too: an error, no panic.
    let pcap = fixture("tcpdump/sflow_print-segv.pcap");
    let (_, _, outcomes) = decode_all(&[pcap[24 + 16 + 42..].to_vec()]);
    assert!(outcomes[0].error.is_some());
}
