//! `GET /api/v1/exporters`: what the collector knows of each exporter's export domains, from the counters
//! its decoder shards publish every second, with the sampling rates of the exporter's recent flows.

use std::net::IpAddr;

use serde_json::{Map, Value as J, json};
use weir_proto::{Counters, DomainKey, ErrorKind};
use weir_query::backend::Value;
use weir_query::plan::Answer;

/// One object per domain (exporter, dialect, observation domain), sorted: every counter, errors by kind,
/// and `sampling_rates` (`[{"rate", "flows"}]`, of every domain of the exporter together) from `rates`, a
/// top-N by exporter and sampling rate, when there is a store.
pub fn json(domains: &[(DomainKey, Counters)], rates: Option<&Answer>) -> J {
    let list: Vec<J> = domains
        .iter()
        .map(|(k, c)| {
            let errors: Map<String, J> = ErrorKind::ALL
                .iter()
                .map(|&e| (e.as_str().to_owned(), J::from(c.errors_of(e))))
                .collect();
            json!({
                "exporter": k.exporter.to_string(),
                "dialect": k.dialect.as_str(),
                "domain": k.domain,
                "datagrams": c.datagrams,
                "bytes": c.bytes,
                "records": c.records,
                "options_records": c.options_records,
                "counter_samples": c.counter_samples,
                "errors": c.errors.iter().sum::<u64>(),
                "errors_by_kind": errors,
                "templates": c.templates,
                "pending_sets": c.pending_sets,
                "late_records": c.late_records,
                "sequence_gaps": c.sequence_gaps,
                "lost_records": c.lost_records,
                "restarts": c.restarts,
                "sampling_rates": rates.map(|a| sampling_of(a, k.exporter)),
            })
        })
        .collect();
    json!({ "exporters": list })
}

/// The `(rate, flows)` rows of `answer` (columns `exporter_addr`, `sampling_rate`, `flows`) for `exporter`,
/// which the store keeps IPv4-mapped.
fn sampling_of(answer: &Answer, exporter: IpAddr) -> J {
    let col = |name| answer.column(name);
    let (Some(e), Some(r), Some(f)) = (col("exporter_addr"), col("sampling_rate"), col("flows")) else {
        return J::Array(vec![]);
    };
    let rows = answer.rows.iter().filter(|row| {
        matches!(row.get(e), Some(Value::Ip(a)) if IpAddr::V6(*a).to_canonical() == exporter.to_canonical())
    });
    J::Array(
        rows.map(|row| json!({ "rate": row[r].as_u64(), "flows": row[f].as_u64() }))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use weir_proto::Dialect;
    use weir_query::backend::TimeRange;

    use super::*;

    #[test]
    fn every_counter_and_the_exporter_s_sampling_rates() {
        let key = DomainKey {
            exporter: "192.0.2.1".parse().unwrap(),
            dialect: Dialect::NetflowV9,
            domain: 0,
        };
        let mut c = Counters {
            datagrams: 10,
            records: 300,
            lost_records: 4,
            ..Counters::default()
        };
        c.error(ErrorKind::Truncated);
        let ip = |s: &str| Value::Ip(s.parse::<std::net::Ipv4Addr>().unwrap().to_ipv6_mapped());
        let rates = Answer {
            columns: ["exporter_addr", "sampling_rate", "flows"]
                .map(String::from)
                .into(),
            rows: vec![
                vec![ip("192.0.2.1"), Value::U64(1000), Value::U64(250)],
                vec![ip("192.0.2.9"), Value::U64(1), Value::U64(7)],
                vec![ip("192.0.2.1"), Value::U64(1), Value::U64(50)],
            ],
            table: "traffic_1m".into(),
            range: TimeRange::new(0, 1),
            step: None,
            warnings: vec![],
            statements: vec![],
            compare: None,
        };
        let j = json(&[(key, c)], Some(&rates));
        let e = &j["exporters"][0];
        assert_eq!(
            (e["exporter"].as_str(), e["dialect"].as_str()),
            (Some("192.0.2.1"), Some("netflow-v9"))
        );
        assert_eq!(
            (e["records"].as_u64(), e["lost_records"].as_u64()),
            (Some(300), Some(4))
        );
        assert_eq!(
            (e["errors"].as_u64(), e["errors_by_kind"]["truncated"].as_u64()),
            (Some(1), Some(1))
        );
        assert_eq!(
            e["sampling_rates"],
            json!([{ "rate": 1000, "flows": 250 }, { "rate": 1, "flows": 50 }])
        );
        assert_eq!(
            json(&[(key, Counters::default())], None)["exporters"][0]["sampling_rates"],
            J::Null
        );
    }
}
