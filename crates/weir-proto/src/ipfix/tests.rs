use weir_flow::{FlowBatch, extra_fields};

use super::*;
use crate::template::testing::{RECEIVED, capture, counters, feed, feed_files, json};
use crate::template::{FieldSpec, OptionsTemplateRecord, TemplateRecord, VARIABLE_LENGTH};
use crate::{Decoder, ErrorKind};

/// A message with a template set (template 300: sourceIPv4Address, a VMware enterprise element, a
/// variable-length applicationName), an options template set, and a data set of two records (a 1-byte and
/// a 3-byte length form) with padding.
fn vector() -> (Vec<u8>, Message) {
    let bytes = vec![
        0, 10, 0, 88, 0x65, 0x53, 0xf1, 0x00, 0, 0, 0, 40, 0, 0, 0, 9, // header
        0, 2, 0, 24, 1, 44, 0, 3, 0, 8, 0, 4, 0x83, 0x70, 0, 1, 0, 0, 0x1a, 0xdc, 0, 96, 0xff,
        0xff, // templates
        0, 3, 0, 20, 1, 45, 0, 2, 0, 1, 0, 149, 0, 4, 0, 160, 0, 8, 0, 0, // options template, padding
        1, 44, 0, 28, 10, 0, 0, 1, 6, 3, b'd', b'n', b's', // record 1: 1-byte length
        10, 0, 0, 2, 17, 255, 0, 4, b'h', b't', b't', b'p', 0, 0, 0, // record 2: 3-byte length, padding
    ];
    let message = Message {
        header: Header {
            version: 10,
            export_time: 1_700_000_000,
            sequence: 40,
            observation_domain: 9,
        },
        sets: vec![
            Set::Templates {
                records: vec![TemplateRecord {
                    id: 300,
                    fields: vec![
                        FieldSpec::new(8, 4),
                        FieldSpec::enterprise(6876, 880, 1),
                        FieldSpec::new(96, VARIABLE_LENGTH),
                    ],
                }],
                padding: vec![],
            },
            Set::OptionsTemplates {
                records: vec![OptionsTemplateRecord {
                    id: 301,
                    scope_fields: vec![FieldSpec::new(149, 4)],
                    fields: vec![FieldSpec::new(160, 8)],
                }],
                padding: vec![0, 0],
            },
            Set::Data {
                id: 300,
                bytes: bytes[64..].to_vec(),
            },
        ],
    };
    (bytes, message)
}

#[test]
fn message_vector_parses_and_encodes_to_the_same_bytes() {
    let (bytes, expected) = vector();
    let parsed = Message::parse(&bytes).unwrap();
    assert_eq!(parsed, expected);
    assert_eq!(parsed.encode(), bytes);
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(matches!(
        Message::parse(&longer),
        Err(DecodeError::TrailingBytes { offset: 88, count: 1 })
    ));
}

#[test]
fn decodes_variable_length_and_enterprise_fields_into_extra_fields() {
    let (bytes, _) = vector();
    let mut d = Decoder::default();
    let mut out = FlowBatch::new();
    let o = feed(&mut d, &[bytes], &mut out);
    assert_eq!((o[0].records, o[0].error.as_ref()), (2, None));
    let extras: Vec<_> = extra_fields(out.blob(out.cols.extra_fields[1]))
        .map(|e| (e.enterprise, e.id, e.value))
        .collect();
    assert_eq!(extras, [(6876, 880, &[17][..]), (0, 96, b"http")]);
    let v = json(&out, 0);
    assert_eq!(
        v["extra_fields"],
        serde_json::json!({"tenantProtocol": "06", "applicationName": "646e73"})
    );
    assert_eq!(
        (v["src_addr"].as_str(), v["observation_domain"].as_u64()),
        (Some("10.0.0.1"), Some(9))
    );
    let c = counters(&d, Dialect::Ipfix, 9);
    assert_eq!((c.records, c.templates, c.total_errors()), (2, 2, 0));
}

/// Splits a file of IPFIX messages, fed to the framer in `chunk`-byte pieces.
fn frame(bytes: &[u8], chunk: usize) -> Vec<Vec<u8>> {
    let mut f = MessageFramer::new();
    let mut messages = Vec::new();
    for piece in bytes.chunks(chunk) {
        f.push(piece);
        while let Some(m) = f.next_message() {
            messages.push(m.unwrap().to_vec());
        }
    }
    assert_eq!(f.buffered(), 0);
    assert_eq!(f.offset(), bytes.len());
    messages
}

#[test]
fn framer_splits_a_file_of_messages_however_it_is_read() {
    let file = capture("logstash-codec-netflow/ipfix.dat");
    let whole = frame(&file, file.len());
    assert_eq!(whole.iter().map(Vec::len).collect::<Vec<_>>(), [484, 64, 240]);
    for chunk in [1, 3, 16, 17, 100] {
        assert_eq!(frame(&file, chunk), whole, "chunks of {chunk}");
    }
    for m in &whole {
        assert_eq!(&Message::parse(m).unwrap().encode(), m);
    }
}

#[test]
fn framer_rejects_impossible_lengths_with_the_stream_offset() {
    let file = capture("logstash-codec-netflow/ipfix.dat");
    let mut f = MessageFramer::new();
    f.push(&file[..484]);
    f.push(&[0, 10, 0, 15, 0, 0]);
    assert!(f.next_message().unwrap().is_ok());
    let e = DecodeError::BadLength {
        offset: 486,
        what: "message length",
        value: 15,
    };
    assert_eq!(f.next_message(), Some(Err(e.clone())));
    f.push(&file[484..]);
    assert_eq!(f.next_message(), Some(Err(e)), "framing is lost for good");
    let mut g = MessageFramer::new();
    g.push(&[0, 9, 0, 20]);
    assert_eq!(
        g.next_message(),
        Some(Err(DecodeError::UnknownVersion {
            offset: 0,
            version: 9
        }))
    );
    let mut h = MessageFramer::new();
    h.push(&[0, 10]);
    assert_eq!(h.next_message(), None, "waits for the length");
}

#[test]
fn softflowd_uptime_fields_use_system_init_time_from_options() {
    let messages = frame(&capture("logstash-codec-netflow/ipfix.dat"), 788);
    let mut d = Decoder::default();
    let mut out = FlowBatch::new();
    let outcomes = feed(&mut d, &messages, &mut out);
    assert!(outcomes.iter().all(|o| o.error.is_none()));
    assert_eq!(out.len(), 12);
    let v = json(&out, 0);
    assert_eq!(
        (v["src_addr"].as_str(), v["dst_addr"].as_str()),
        (Some("192.168.253.1"), Some("192.168.253.128"))
    );
    assert_eq!(
        (
            v["bytes"].as_u64(),
            v["packets"].as_u64(),
            v["tcp_flags"].as_u64()
        ),
        (Some(260), Some(5), Some(16))
    );
    // systemInitTimeMilliseconds 1431516013506; flowStartSysUpTime 0, flowEndSysUpTime 12726.
    assert_eq!(
        (v["flow_start"].as_str(), v["flow_end"].as_str()),
        (Some("2015-05-13T11:20:13.506Z"), Some("2015-05-13T11:20:26.232Z"))
    );
    assert_eq!(v["sampling_rate"], 1);
    let v = json(&out, 5);
    assert_eq!(
        (
            v["src_port"].as_u64(),
            v["dst_port"].as_u64(),
            v["tcp_flags"].as_u64()
        ),
        (Some(49935), Some(443), Some(26))
    );
    let c = counters(&d, Dialect::Ipfix, 0);
    assert_eq!((c.records, c.options_records, c.total_errors()), (12, 1, 0));
}

#[test]
fn every_ipfix_capture_encodes_back_to_its_bytes() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/captures/logstash-codec-netflow");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if !name.starts_with("ipfix") {
            continue;
        }
        let bytes = capture(&format!("logstash-codec-netflow/{name}"));
        for m in frame(&bytes, bytes.len()) {
            assert_eq!(Message::parse(&m).unwrap().encode(), m, "{name}");
            n += 1;
        }
    }
    assert_eq!(n, 27);
}

#[test]
fn netscaler_variable_length_strings_are_kept() {
    let (d, out, outcomes) = feed_files(&["ipfix_test_netscaler_tpl.dat", "ipfix_test_netscaler_data.dat"]);
    assert!(outcomes.iter().all(|o| o.error.is_none()));
    assert_eq!(out.len(), 3);
    let v = json(&out, 2);
    assert_eq!(
        (v["src_addr"].as_str(), v["dst_addr"].as_str()),
        (Some("192.168.0.1"), Some("10.0.0.1"))
    );
    assert_eq!(
        (v["in_if"].as_u64(), v["out_if"].as_u64(), v["bytes"].as_u64()),
        (Some(8), Some(2147483651), Some(1541))
    );
    assert_eq!(
        v["flow_start"].as_str().map(|t| &t[..19]),
        Some("2016-11-11T12:09:19")
    );
    let values: Vec<&[u8]> = extra_fields(out.blob(out.cols.extra_fields[2]))
        .filter(|e| e.enterprise == 5951)
        .map(|e| e.value)
        .collect();
    // Netscaler sends its strings NUL-terminated; the bytes are kept as sent.
    assert!(values.contains(&&b"/aa/bb/ccccc/ddddddddddddddddddddddddd\0"[..]));
    assert!(values.contains(&&b"11.222.33.255\0"[..]));
    assert!(
        values.iter().any(|v| v.len() > 255 && v.starts_with(b"beer=")),
        "3-byte length form"
    );
    // One set in the data message refers to a template this capture never sends.
    let c = counters(&d, Dialect::Ipfix, 0);
    assert_eq!((c.records, c.pending_sets, c.templates), (3, 1, 7));
}

#[test]
fn data_without_templates_waits_then_expires() {
    let mut d = Decoder::default();
    let mut out = FlowBatch::new();
    let data = capture("logstash-codec-netflow/ipfix_test_netscaler_data.dat");
    let o = feed(&mut d, std::slice::from_ref(&data), &mut out);
    assert_eq!((o[0].records, o[0].error.as_ref()), (0, None));
    let held = counters(&d, Dialect::Ipfix, 0).pending_sets;
    assert_eq!(held, 4);
    d.expire(RECEIVED + d.limits().pending_hold_ns);
    assert_eq!(
        counters(&d, Dialect::Ipfix, 0).pending_sets,
        held,
        "not yet past the hold time"
    );
    d.expire(RECEIVED + d.limits().pending_hold_ns + 1);
    let c = counters(&d, Dialect::Ipfix, 0);
    assert_eq!(
        (c.pending_sets, c.errors_of(ErrorKind::TemplateTimeout)),
        (0, held)
    );
    // Sent again, and followed by its templates: decoded late.
    feed(
        &mut d,
        &[
            data,
            capture("logstash-codec-netflow/ipfix_test_netscaler_tpl.dat"),
        ],
        &mut out,
    );
    let c = counters(&d, Dialect::Ipfix, 0);
    assert_eq!((c.late_records, c.records, c.pending_sets), (3, 3, 1));
}

#[test]
fn vmware_ipv6_flows_and_vendor_elements() {
    let (_, out, _) = feed_files(&[
        "ipfix_test_vmware_vds_tpl.dat",
        "ipfix_test_vmware_vds_data264.dat",
        "ipfix_test_vmware_vds_data266.dat",
        "ipfix_test_vmware_vds_data266_267.dat",
    ]);
    assert_eq!(out.len(), 5);
    let v = json(&out, 4);
    assert_eq!(
        (v["src_addr"].as_str(), v["dst_addr"].as_str()),
        (Some("fe80::5187:5cd8:d750:cdc9"), Some("ff02::1:3"))
    );
    assert_eq!(
        (v["bytes"].as_u64(), v["dst_port"].as_u64(), v["etype"].as_u64()),
        (Some(144), Some(5355), Some(0x86dd))
    );
    let v = json(&out, 0);
    assert_eq!(
        (v["flow_start"].as_str(), v["flow_direction"].as_u64()),
        (Some("2016-12-22T12:17:37Z"), Some(2))
    );
    assert_eq!(
        v["extra_fields"]["vxlanExportRole"], "00",
        "named from the VMware registry"
    );
}

#[test]
fn openbsd_pflow_and_mikrotik_decode() {
    let (_, out, _) = feed_files(&[
        "ipfix_test_openbsd_pflow_tpl.dat",
        "ipfix_test_openbsd_pflow_data.dat",
    ]);
    assert_eq!(out.len(), 26);
    let v = json(&out, 25);
    assert_eq!(
        (v["src_addr"].as_str(), v["dst_addr"].as_str()),
        (Some("192.168.0.1"), Some("192.168.0.17"))
    );
    assert_eq!(
        (v["bytes"].as_u64(), v["packets"].as_u64(), v["dst_port"].as_u64()),
        (Some(6425), Some(8), Some(64026))
    );
    assert_eq!(
        (v["flow_start"].as_str(), v["flow_end"].as_str()),
        (Some("2016-07-21T13:29:59Z"), Some("2016-07-21T13:30:01Z"))
    );

    let (d, out, _) = feed_files(&[
        "ipfix_test_mikrotik_tpl.dat",
        "ipfix_test_mikrotik_data258.dat",
        "ipfix_test_mikrotik_data259.dat",
    ]);
    assert_eq!(out.len(), 46);
    let v = json(&out, 0);
    assert_eq!(
        (v["next_hop"].as_str(), v["in_if"].as_u64(), v["out_if"].as_u64()),
        (Some("192.168.224.1"), Some(13), Some(7))
    );
    assert_eq!(v["extra_fields"]["postNATSourceIPv4Address"], "c0a8e6d8");
    assert_eq!(counters(&d, Dialect::Ipfix, 0).records, 46);
}

#[test]
fn options_only_messages_count_options_records() {
    let (d, out, _) = feed_files(&[
        "ipfix_test_juniper_mx240_junos151r6s3_opttpl512.dat",
        "ipfix_test_juniper_mx240_junos151r6s3_data512.dat",
    ]);
    assert_eq!(out.len(), 0);
    let c = counters(&d, Dialect::Ipfix, 524_288);
    assert_eq!((c.options_records, c.templates, c.records), (1, 1, 0));
}

#[test]
fn yaf_lists_are_kept_whole() {
    let (_, out, _) = feed_files(&[
        "ipfix_test_yaf_tpls_option_tpl.dat",
        "ipfix_test_yaf_tpl45841.dat",
        "ipfix_test_yaf_data45841.dat",
        "ipfix_test_yaf_data45873.dat",
    ]);
    assert_eq!(out.len(), 2);
    let v = json(&out, 0);
    assert_eq!(
        (v["src_addr"].as_str(), v["dst_port"].as_u64()),
        (Some("172.16.32.201"), Some(53))
    );
    assert!(
        v["extra_fields"]["subTemplateMultiList"]
            .as_str()
            .is_some_and(|s| !s.is_empty())
    );
}
