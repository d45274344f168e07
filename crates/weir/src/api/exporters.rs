//! `GET /api/v1/exporters`: what the collector knows of each exporter's export domains, from the counters
//! its decoder shards publish every second.

use serde_json::{Map, Value as J, json};
use weir_proto::{Counters, DomainKey, ErrorKind};

/// One object per domain (exporter, dialect, observation domain), sorted: every counter, errors by kind.
pub fn json(domains: &[(DomainKey, Counters)]) -> J {
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
            })
        })
        .collect();
    json!({ "exporters": list })
}
