use std::net::Ipv6Addr;

use weir_flow::{FlowBatch, extra_fields, ipv4};

use super::*;
use crate::ErrorKind;
use crate::template::testing::{capture, counters, feed_files, json};
use crate::template::{FieldSpec, TemplateRecord};

/// Header, a template flowset (template 256: sourceIPv4Address, octetDeltaCount) and a data flowset with one
/// record.
const VECTOR: &[u8] = &[
    0, 9, 0, 2, 0, 0, 0x03, 0xe8, 0x65, 0x53, 0xf1, 0x00, 0, 0, 0, 7, 0, 0, 0, 3, // header
    0, 0, 0, 16, 1, 0, 0, 2, 0, 8, 0, 4, 0, 1, 0, 4, // template flowset
    1, 0, 0, 12, 10, 0, 0, 1, 0, 0, 0x05, 0xdc, // data flowset
];

fn v4(s: &str) -> Ipv6Addr {
    s.parse::<std::net::Ipv4Addr>().unwrap().to_ipv6_mapped()
}

#[test]
fn packet_vector_parses_and_encodes_to_the_same_bytes() {
    let expected = Packet {
        header: Header {
            version: 9,
            count: 2,
            sys_uptime: 1000,
            unix_secs: 1_700_000_000,
            sequence: 7,
            source_id: 3,
        },
        flowsets: vec![
            FlowSet::Templates {
                records: vec![TemplateRecord {
                    id: 256,
                    fields: vec![FieldSpec::new(8, 4), FieldSpec::new(1, 4)],
                }],
                padding: vec![],
            },
            FlowSet::Data {
                id: 256,
                bytes: vec![10, 0, 0, 1, 0, 0, 0x05, 0xdc],
            },
        ],
    };
    let parsed = Packet::parse(VECTOR).unwrap();
    assert_eq!(parsed, expected);
    assert_eq!(
        parsed.encode(),
        VECTOR,
        "every byte is accounted for and encodes back"
    );
    let mut longer = VECTOR.to_vec();
    longer.push(0);
    assert!(matches!(
        Packet::parse(&longer),
        Err(DecodeError::Truncated { offset: 48, .. })
    ));
}

#[test]
fn every_v9_capture_encodes_back_to_its_bytes() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/captures");
    let mut names: Vec<String> = std::fs::read_dir(dir.join("logstash-codec-netflow"))
        .unwrap()
        .map(|e| {
            format!(
                "logstash-codec-netflow/{}",
                e.unwrap().file_name().to_string_lossy()
            )
        })
        .filter(|n| n.contains("/netflow9_"))
        .collect();
    names.extend((0..2).map(|i| format!("goflow2/netflow_TestDecodeNetFlowV9_{i}.bin")));
    names.sort();
    let mut malformed = Vec::new();
    for name in &names {
        let bytes = capture(name);
        match Packet::parse(&bytes) {
            Ok(p) => assert_eq!(p.encode(), bytes, "{name}"),
            Err(e) => malformed.push((name.as_str(), e)),
        }
    }
    assert_eq!(names.len(), 41);
    // The ACI capture ends with a flowset header whose length is 0.
    assert_eq!(
        malformed,
        [(
            "logstash-codec-netflow/netflow9_test_cisco_aci_tpl256-258.dat",
            DecodeError::BadLength {
                offset: 194,
                what: "set length",
                value: 0
            }
        )]
    );
}

#[test]
fn decodes_the_vector_and_counts_it() {
    let (mut d, mut out) = (crate::Decoder::default(), FlowBatch::new());
    let ex = "192.0.2.1".parse().unwrap();
    let o = d.decode(ex, 5, VECTOR, &mut out);
    assert_eq!((o.records, o.error), (1, None));
    let r = out.row(0).unwrap();
    assert_eq!(
        (r.src_addr, r.bytes, r.flows, r.etype, r.observation_domain),
        (ipv4([10, 0, 0, 1]), 1500, 1, 0x0800, 3)
    );
    assert_eq!(
        (r.time_received, r.exporter_addr, r.sampling_rate),
        (5, v4("192.0.2.1"), 1)
    );
    let c = &d.domains().next().unwrap().1.counters;
    assert_eq!(
        (
            c.datagrams,
            c.records,
            c.templates,
            c.pending_sets,
            c.total_errors()
        ),
        (1, 1, 1, 0, 0)
    );
}

#[test]
fn decodes_softflowd_with_uptime_relative_times() {
    let (d, out, outcomes) = feed_files(&["netflow9_test_valid01.dat"]);
    assert_eq!(outcomes[0].error, None);
    assert_eq!(out.len(), 7);
    let v = json(&out, 0);
    assert_eq!(v["src_addr"], "172.16.32.100");
    assert_eq!(v["dst_addr"], "172.16.32.248");
    assert_eq!(
        (
            v["src_port"].as_u64(),
            v["dst_port"].as_u64(),
            v["proto"].as_u64()
        ),
        (Some(123), Some(123), Some(17))
    );
    assert_eq!(
        (v["bytes"].as_u64(), v["packets"].as_u64(), v["etype"].as_u64()),
        (Some(76), Some(1), Some(0x0800))
    );
    // Header: unix_secs 2015-10-08T19:04:30Z, sysUpTime 43_859 ms later than the flow's last switched time.
    let h = Header::parse(&mut Reader::new(&capture(
        "logstash-codec-netflow/netflow9_test_valid01.dat",
    )))
    .unwrap();
    assert_eq!(h.unix_secs, 1_444_331_070);
    assert_eq!(v["flow_end"], "2015-10-08T19:03:46.141Z");
    let c = counters(&d, Dialect::NetflowV9, 0);
    assert_eq!(
        (c.datagrams, c.records, c.templates, c.total_errors()),
        (1, 7, 2, 0)
    );
}

#[test]
fn keeps_mac_addresses() {
    let (_, out, _) = feed_files(&["netflow9_test_macaddr_tpl.dat", "netflow9_test_macaddr_data.dat"]);
    // The template datagram's options record is not a flow, so this is the data file's first record.
    let v = json(&out, 0);
    assert_eq!(v["src_mac"], "00:50:56:c0:00:01");
    assert_eq!(v["dst_mac"], "00:0c:29:70:86:09");
    assert_eq!(
        (v["src_port"].as_u64(), v["dst_port"].as_u64()),
        (Some(65058), Some(22))
    );
}

#[test]
fn cisco_asa_events_get_bytes_and_times() {
    let (d, out, _) = feed_files(&[
        "netflow9_test_cisco_asa_1_tpl.dat",
        "netflow9_test_cisco_asa_1_data.dat",
    ]);
    assert_eq!(out.len(), 14);
    let v = json(&out, 1);
    assert_eq!(
        (v["src_addr"].as_str(), v["dst_addr"].as_str()),
        (Some("192.168.23.22"), Some("164.164.37.11"))
    );
    assert_eq!(
        (v["src_port"].as_u64(), v["in_if"].as_u64(), v["out_if"].as_u64()),
        (Some(17549), Some(2), Some(3))
    );
    assert_eq!(
        (
            v["proto"].as_u64(),
            v["icmp_type"].as_u64(),
            v["icmp_code"].as_u64()
        ),
        (Some(1), Some(8), Some(0))
    );
    // in_permanent_bytes (octetTotalCount) is the byte count; NSEL's event time ends the flow.
    assert_eq!(v["bytes"], 56);
    assert_eq!(v["flow_start"], "2015-10-09T09:47:48.169Z");
    assert_eq!(v["flow_end"], "2015-10-09T09:47:50.179Z");
    // conn_id (IE 148) and the NSEL fields stay in extra_fields.
    assert_eq!(v["extra_fields"]["flowId"], "00002135");
    assert_eq!(v["extra_fields"]["0.40005"], "02");
    assert_eq!(counters(&d, Dialect::NetflowV9, 0).templates, 13);

    let (_, out, _) = feed_files(&[
        "netflow9_test_cisco_asa_2_tpl_26x.dat",
        "netflow9_test_cisco_asa_2_tpl_27x.dat",
        "netflow9_test_cisco_asa_2_data.dat",
    ]);
    assert_eq!(out.len(), 19);
    let v = json(&out, 18);
    // initiatorOctets fill bytes; responderOctets (14178) is kept.
    assert_eq!(
        (v["bytes"].as_u64(), v["src_addr"].as_str()),
        (Some(69), Some("192.168.0.1"))
    );
    assert_eq!(v["extra_fields"]["responderOctets"], "00003762");
    assert_eq!(v["flow_start"], "2016-07-21T13:50:36.395Z");
}

#[test]
fn interface_names_from_options_fill_flows() {
    let (d, out, outcomes) = feed_files(&[
        "netflow9_test_cisco_asr9k_opttpl256.dat",
        "netflow9_test_cisco_asr9k_data256.dat",
        "netflow9_test_cisco_asr9k_tpl260.dat",
        "netflow9_test_cisco_asr9k_data260.dat",
    ]);
    assert!(outcomes.iter().all(|o| o.error.is_none()));
    let cache = d.domains().next().unwrap().1.template_cache().unwrap();
    assert_eq!(cache.options().interface_name(104), Some("TenGigE0_6_0_2"));
    let v = json(&out, 20);
    assert_eq!((v["in_if"].as_u64(), v["out_if"].as_u64()), (Some(75), Some(158)));
    assert_eq!(v["in_if_name"], cache.options().interface_name(75).unwrap());
    assert_eq!(
        (
            v["src_as"].as_u64(),
            v["dst_as"].as_u64(),
            v["bgp_next_hop"].as_str()
        ),
        (Some(15169), Some(64498), Some("10.0.14.27"))
    );
    assert_eq!(
        (v["forwarding_status"].as_u64(), v["flow_direction"].as_u64()),
        (Some(64), Some(2))
    );
    let c = counters(&d, Dialect::NetflowV9, 2177);
    assert_eq!((c.records, c.options_records), (21, 19));
}

#[test]
fn zero_length_fields_are_skipped() {
    let (_, out, outcomes) = feed_files(&["netflow9_test_0length_fields_tpl_data.dat"]);
    assert_eq!(outcomes[0].error, None);
    assert_eq!(out.len(), 10);
    let v = json(&out, 9);
    assert_eq!(
        (v["src_addr"].as_str(), v["dst_addr"].as_str()),
        (Some("192.168.1.33"), Some("239.255.255.250"))
    );
    assert_eq!(
        (
            v["in_if"].as_u64(),
            v["out_if"].as_u64(),
            v["flow_direction"].as_u64()
        ),
        (Some(2), Some(3), Some(2))
    );
    // in_bytes is 0; out_bytes (postOctetDeltaCount) is kept, not promoted over octetDeltaCount.
    assert_eq!(v["bytes"], 0);
    assert_eq!(v["extra_fields"]["postOctetDeltaCount"], "00000020");
}

#[test]
fn sampling_options_set_the_rate() {
    let (d, out, outcomes) = feed_files(&["netflow9_test_invalid01.dat"]);
    assert_eq!(outcomes[0].error, None);
    assert_eq!(out.len(), 2);
    assert!(out.cols.sampling_rate.iter().all(|&r| r == 100));
    assert_eq!(out.cols.etype, [0x86dd, 0x0800]);
    assert_eq!(counters(&d, Dialect::NetflowV9, 0).options_records, 1);
}

#[test]
fn reduced_size_encoding_decodes() {
    let (d, out, _) = feed_files(&["netflow9_test_iptnetflow_reduced_size_encoding_tpldata260.dat"]);
    assert_eq!(out.len(), 12);
    let v = json(&out, 11);
    assert_eq!((v["bytes"].as_u64(), v["packets"].as_u64()), (Some(187), Some(3)));
    assert_eq!(
        (v["src_addr"].as_str(), v["src_port"].as_u64()),
        (Some("2.17.140.47"), Some(443))
    );
    // The same datagram carries data for templates it does not define: held, not lost.
    let c = counters(&d, Dialect::NetflowV9, 0);
    assert_eq!((c.records, c.pending_sets), (12, 6));
}

#[test]
fn a_zero_length_flowset_is_a_counted_error_and_earlier_templates_stay() {
    let (d, out, outcomes) = feed_files(&[
        "netflow9_test_cisco_aci_tpl256-258.dat",
        "netflow9_test_cisco_aci_data256.dat",
    ]);
    assert_eq!(
        outcomes[0].error,
        Some(DecodeError::BadLength {
            offset: 194,
            what: "set length",
            value: 0
        })
    );
    assert_eq!((outcomes[1].records, outcomes[1].error.as_ref()), (3, None));
    let c = counters(&d, Dialect::NetflowV9, 1);
    assert_eq!(
        (c.errors_of(ErrorKind::BadLength), c.templates, c.records),
        (1, 3, 3)
    );
    assert!(extra_fields(out.blob(out.cols.extra_fields[0])).count() < 40);
}

#[test]
fn goflow2_vectors_decode() {
    let datagrams: Vec<Vec<u8>> = (0..2)
        .map(|i| capture(&format!("goflow2/netflow_TestDecodeNetFlowV9_{i}.bin")))
        .collect();
    let mut d = crate::Decoder::default();
    let mut out = FlowBatch::new();
    let outcomes = crate::template::testing::feed(&mut d, &datagrams, &mut out);
    assert_eq!(outcomes.iter().map(|o| o.records).collect::<Vec<_>>(), [0, 21]);
    let v = json(&out, 20);
    assert_eq!(
        (v["src_addr"].as_str(), v["dst_addr"].as_str()),
        (Some("205.185.216.18"), Some("82.142.13.101"))
    );
    assert_eq!(
        (v["bytes"].as_u64(), v["in_if"].as_u64(), v["out_if"].as_u64()),
        (Some(1380), Some(353), Some(304))
    );
    let c = counters(&d, Dialect::NetflowV9, 256);
    assert_eq!((c.records, c.templates), (21, 1));
}

#[test]
fn lost_packets_count_as_average_records() {
    let (mut d, mut out) = (crate::Decoder::default(), FlowBatch::new());
    let ex = "192.0.2.1".parse().unwrap();
    d.decode(ex, 1, VECTOR, &mut out);
    let mut next = VECTOR.to_vec();
    next[12..16].copy_from_slice(&10u32.to_be_bytes());
    d.decode(ex, 2, &next, &mut out);
    let c = &d.domains().next().unwrap().1.counters;
    // Packets 8 and 9 were lost; packets so far carried 1 record each.
    assert_eq!((c.sequence_gaps, c.lost_records), (1, 2));
}

#[test]
fn each_device_decodes_its_templates_then_its_data() {
    // Flow counts as logstash-codec-netflow's spec has them (its options records excluded).
    let devices: &[(&[&str], usize)] = &[
        (
            &[
                "netflow9_test_cisco_nbar_tpl262.dat",
                "netflow9_test_cisco_nbar_data262.dat",
            ],
            5,
        ),
        (
            &[
                "netflow9_test_cisco_asr9k_tpl260.dat",
                "netflow9_test_cisco_asr9k_data260.dat",
            ],
            21,
        ),
        (
            &[
                "netflow9_test_nprobe_tpl.dat",
                "netflow9_test_softflowd_tpl_data.dat",
                "netflow9_test_nprobe_data.dat",
            ],
            8,
        ),
        (
            &[
                "netflow9_test_cisco_asa_1_tpl.dat",
                "netflow9_test_cisco_asa_1_data.dat",
            ],
            14,
        ),
        (
            &[
                "netflow9_test_cisco_asa_2_tpl_26x.dat",
                "netflow9_test_cisco_asa_2_tpl_27x.dat",
                "netflow9_test_cisco_asa_2_data.dat",
            ],
            19,
        ),
    ];
    for &(files, flows) in devices {
        let (d, out, outcomes) = feed_files(files);
        assert!(outcomes.iter().all(|o| o.error.is_none()), "{files:?}");
        assert_eq!(out.len(), flows, "{files:?}");
        let held: u64 = d.domains().map(|(_, dom)| dom.counters.pending_sets).sum();
        assert_eq!(held, 0, "{files:?}");
    }
}
