//! The filter language through DataFusion's SQL selects exactly the flows `Filter::matches` selects in
//! memory, over the same flows written as a store.

mod query_common;

use std::collections::BTreeSet;

use query_common::{HOUR, MINUTE, NOW, T0, flows, records, store};
use weir_flow::time::Rfc3339;
use weir_query::backend::{TimeRange, Value};
use weir_query::filter;
use weir_query::plan::{Flows, Kind, Order, Query, run_at};

#[test]
fn sql_filters_select_the_flows_the_predicate_selects() {
    let batch = flows(3000);
    let all = records(&batch);
    let (dir, engine) = store("filters", &batch, 2);
    // Some files store flow times in milliseconds, others in nanoseconds (see `query_common::flows`): the
    // same SQL reads both.
    let units: BTreeSet<String> = weir_store::layout::files(&dir.0, "flows", 0, u64::MAX)
        .unwrap()
        .iter()
        .map(|path| {
            let file = std::fs::File::open(path).unwrap();
            let reader =
                parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
            reader
                .schema()
                .field_with_name("flow_end")
                .unwrap()
                .data_type()
                .to_string()
        })
        .collect();
    assert_eq!(units.len(), 2, "{units:?}");
    let tables = engine.tables();
    let half_past = Rfc3339(T0 + 30 * MINUTE);
    let ninety = Rfc3339(T0 + 90 * MINUTE);
    let filters = [
        "any".to_owned(),
        "src net 10.0.0.0/8".into(),
        "dst_addr << 2001:db8::/32".into(),
        "dst_addr in [2001:db8:1::/48, 192.0.2.7]".into(),
        "host 192.0.2.7".into(),
        "src ip in [192.0.2.1, 192.0.2.2, 192.0.2.3]".into(),
        "not dst net 198.51.100.0/24".into(),
        "router ip 192.0.2.254".into(),
        "next ip 192.0.2.1 and bgp next ip 203.0.113.2".into(),
        "ipv6".into(),
        "proto tcp and dst port in [80, 443]".into(),
        "port 53".into(),
        "dst port > 1024".into(),
        "src as 64496".into(),
        "dst as in [15169, 13335]".into(),
        "as 64501".into(),
        "app = dns".into(),
        "app in [https, http] and dst_country = JP".into(),
        "app != dns and app != \"\"".into(),
        "dst_domain = \"it's.example.org\"".into(),
        "src_domain ~ \"*.example.com\"".into(),
        "in_if_name ~ \"xe-0/0/*\" and out_if_name = \"et-1/0/2\"".into(),
        "in if 2 or out if 3".into(),
        "flags S".into(),
        "flags SA and not flags R".into(),
        "icmp-type 8".into(),
        "tos 0x10 or vlan 100".into(),
        "src mac 00:11:22:33:44:55".into(),
        "dst_as_path = 3356".into(),
        "dst_as_path in [174, 64502]".into(),
        "dst_communities = 65000:100".into(),
        "dst_communities in [65001:300, 65000:100]".into(),
        format!("time_received >= {half_past} and time_received < {ninety}"),
        format!("flow_start > {half_past}"),
        "bytes > 100000 or packets < 5".into(),
        "flows > 1".into(),
        "sampling_rate = 100".into(),
        "duration > 1000".into(),
        "duration = 0".into(),
        "bps > 1M".into(),
        "pps >= 10 and bpp < 100".into(),
        "bpp > 1400".into(),
        "flow_direction = 1 and forwarding_status = 0x80".into(),
        "exporter_name = edge-2 and observation_domain in [0, 2]".into(),
        "threat = botnet".into(),
        "etype = 0x86dd and in_if_boundary = 2".into(),
    ];
    let mut wrong = Vec::new();
    for text in &filters {
        let f = filter::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        let want: BTreeSet<u64> = all
            .iter()
            .filter(|r| f.matches(r, &batch))
            .map(|r| r.time_received)
            .collect();
        let mut q = Query::new(
            TimeRange::new(T0, T0 + 3 * HOUR),
            Kind::Flows(Flows {
                order: Order::default(),
                limit: 100_000,
                offset: 0,
            }),
        );
        q.filter = Some(f);
        let answer = match run_at(&engine, &tables, &q, NOW) {
            Ok(a) => a,
            Err(e) => {
                wrong.push(format!("{text}: {e}"));
                continue;
            }
        };
        let got: BTreeSet<u64> = answer
            .rows
            .iter()
            .map(|row| match row[0] {
                Value::Time(t) => t,
                ref other => panic!("{text}: time_received is {other:?}"),
            })
            .collect();
        if got != want {
            wrong.push(format!(
                "{text}: DataFusion selected {} flows, the predicate {} ({} only in SQL, {} only in memory)",
                got.len(),
                want.len(),
                got.difference(&want).count(),
                want.difference(&got).count()
            ));
        }
        assert!(!want.is_empty(), "{text} selects no flow: a weak case");
        assert!(
            text == "any" || want.len() < all.len(),
            "{text} selects every flow: a weak case"
        );
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
