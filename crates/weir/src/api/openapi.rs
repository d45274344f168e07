//! `GET /api/openapi.json`: the API described in OpenAPI 3.0, built from the same parameter lists the
//! handlers read ([`params_of`]), so the document cannot name a parameter the server refuses.

use serde_json::{Map, Value as J, json};
use weir_flow::{FIELDS, Kind};
use weir_query::plan::{DERIVED, MAX_DIMS, MAX_FLOWS, MAX_OFFSET, MAX_TOP};

use super::params::{COMMON, params_of};
use crate::ask::Ask;

/// What each parameter means, and its schema.
fn parameter(name: &str) -> J {
    let (description, schema) = match name {
        "from" => (
            "Start of the range: RFC 3339 (`2026-11-22T13:00:00Z`), a date, nanoseconds since the epoch, or `now`.",
            json!({ "type": "string" }),
        ),
        "to" => (
            "End of the range, not included. Default: now.",
            json!({ "type": "string" }),
        ),
        "since" => (
            "The range is this long, ending at `to` (`15m`, `1h`, `7d`); default 1h. Not with `from`.",
            json!({ "type": "string" }),
        ),
        "filter" => (
            "Only flows this filter selects, in nfdump's language and more (`proto tcp and dst port 443`, `dst_country = JP`).",
            json!({ "type": "string" }),
        ),
        "dims" => (
            "Comma-separated dimensions the top-N is keyed by: schema field names, or `src_net`/`dst_net` (an address cut to its mask; /24 or /48 when the exporter sent none).",
            json!({ "type": "string", "pattern": format!("^{}$", dims_pattern()) }),
        ),
        "split" => (
            "Comma-separated dimensions the series is split by (the top `limit` keys and Other): schema field names, or `src_net`/`dst_net`.",
            json!({ "type": "string", "pattern": format!("^(?:{})?$", dims_pattern()) }),
        ),
        "by" => (
            "What is measured: bytes (scaled by sampling), packets (scaled) or flows.",
            json!({ "type": "string", "enum": ["bytes", "packets", "flows"] }),
        ),
        "unit" => (
            "Volumes, or rates (bits, packets or flows per second).",
            json!({ "type": "string", "enum": ["total", "rate"] }),
        ),
        "agg" => (
            "How a key's traffic over time becomes one number: total, or avg/max/p95 of the buckets.",
            json!({ "type": "string", "enum": ["total", "avg", "max", "p95"] }),
        ),
        "step" => (
            "Bucket width (`1m`, `5m`, `1h`); default: automatic.",
            json!({ "type": "string" }),
        ),
        "limit" => (
            "Rows of a top-N, series of a split series, or flows of a listing.",
            json!({ "type": "integer", "minimum": 1 }),
        ),
        "offset" => (
            "Flows to skip first.",
            json!({ "type": "integer", "minimum": 0, "maximum": MAX_OFFSET }),
        ),
        "other" => (
            "Whether a top-N has a row (key `Other`) for every other key.",
            json!({ "type": "boolean" }),
        ),
        "order" => (
            "Sort order of the flows: `FIELD`, `FIELD:asc` or `FIELD:desc`; default `time_received:desc`.",
            json!({ "type": "string", "pattern": format!("^(?:(?:{})(?::asc|:desc)?)?$", orderable_names().join("|")) }),
        ),
        "direction" => (
            "Split traffic into in (negative) and out (positive): through interface `IFINDEX` or `IFINDEX@EXPORTER`, or `exporter` as the exporter reports it.",
            json!({ "type": "string" }),
        ),
        "compare" => (
            "Also answer for the period this long before (`1d`, `7d`); empty: the period just before.",
            json!({ "type": "string" }),
        ),
        _ => ("", json!({ "type": "string" })),
    };
    json!({
        "name": name,
        "in": "query",
        "required": false,
        "description": if name == "compare" {
            description.to_owned()
        } else {
            format!("{description} Empty is the same as not given.")
        },
        "schema": schema,
    })
}

/// The dimensions a key may have: one to [`MAX_DIMS`] of their names, comma-separated (the server also
/// reads names in any case, and refuses a name given twice). Generated requests then ask real questions
/// instead of naming fields that do not exist.
fn dims_pattern() -> String {
    let names = dimension_names().join("|");
    format!("(?:{names})(?:,(?:{names})){{0,{}}}", MAX_DIMS - 1)
}

/// Every name a key's dimension can have: the derived ones and the schema's dimension columns.
fn dimension_names() -> Vec<&'static str> {
    DERIVED
        .iter()
        .map(|(d, _)| d.name())
        .chain(
            FIELDS
                .iter()
                .map(|f| f.column())
                .filter(|c| c.dimension)
                .map(|c| c.name),
        )
        .collect()
}

/// Every field flows can be listed in the order of (lists and opaque bytes have none).
fn orderable_names() -> Vec<&'static str> {
    FIELDS
        .iter()
        .map(|f| f.column())
        .filter(|c| !matches!(c.kind, Kind::U32List | Kind::Bytes))
        .map(|c| c.name)
        .collect()
}

fn error_responses(ok: J) -> J {
    let error = json!({ "description": "", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } });
    let with = |d: &str| {
        let mut e = error.clone();
        e["description"] = d.into();
        e
    };
    json!({
        "200": ok,
        "400": with("The question cannot be asked as put: the parameter at fault is named."),
        "401": with("Authentication is required."),
        "403": with("The credentials do not allow this."),
        "422": with("The answer would be too large."),
        "503": with("No store, too many questions at once, or the query ran past its time limit."),
    })
}

fn question(ask: Ask, summary: &str) -> J {
    let mut params: Vec<J> = COMMON
        .iter()
        .chain(params_of(ask))
        .map(|p| parameter(p))
        .collect();
    if ask == Ask::Top {
        for p in params.iter_mut().filter(|p| p["name"] == "dims") {
            p["required"] = true.into();
            p["schema"]["minLength"] = 1.into();
        }
    }
    // The most rows a top-N or a listing gives (a series' limit applies only when it is split).
    let most = match ask {
        Ask::Top => Some(MAX_TOP),
        Ask::Flows => Some(MAX_FLOWS),
        _ => None,
    };
    if let Some(most) = most {
        for p in params.iter_mut().filter(|p| p["name"] == "limit") {
            p["schema"]["maximum"] = most.into();
        }
    }
    json!({
        "get": {
            "summary": summary,
            "parameters": params,
            "responses": error_responses(json!({
                "description": "The answer.",
                "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Answer" } } }
            })),
        }
    })
}

fn plain(summary: &str, schema: J, parameters: J) -> J {
    json!({
        "get": {
            "summary": summary,
            "parameters": parameters,
            "responses": error_responses(json!({
                "description": "OK",
                "content": { "application/json": { "schema": schema } }
            })),
        }
    })
}

/// The document.
pub fn document() -> J {
    let mut paths = Map::new();
    for (path, ask, summary) in [
        (
            "/api/v1/summary",
            Ask::Summary,
            "Flows, bytes, packets, first and last seen, in all and per exporter.",
        ),
        (
            "/api/v1/top",
            Ask::Top,
            "The keys of one or more dimensions with the most traffic, with an Other row.",
        ),
        (
            "/api/v1/series",
            Ask::Series,
            "Traffic over time in buckets, in all or split by dimensions.",
        ),
        (
            "/api/v1/flows",
            Ask::Flows,
            "The flows themselves, every schema field, ordered and paged.",
        ),
        (
            "/api/v1/sizes",
            Ask::Sizes,
            "Packets by size, in the buckets of Cisco's `show ip cache flow`.",
        ),
    ] {
        paths.insert(path.into(), question(ask, summary));
    }
    paths.insert(
        "/api/v1/exporters".into(),
        plain(
            "Each exporter's export domains and the collector's counters for them.",
            json!({ "type": "object", "required": ["exporters"], "properties": { "exporters": { "type": "array", "items": { "type": "object" } } } }),
            json!([]),
        ),
    );
    paths.insert(
        "/api/v1/fields".into(),
        plain(
            "The schema: every field's name, kind, whether it is a dimension, whether rollups keep it, whether filters can test it; then the dimensions made from fields (networks).",
            json!({ "type": "object", "required": ["fields"], "properties": { "fields": { "type": "array", "items": {
                "type": "object",
                "required": ["name", "kind", "dimension", "rollup", "filter", "doc"],
                "properties": {
                    "name": { "type": "string" }, "kind": { "type": "string" },
                    "dimension": { "type": "boolean" }, "rollup": { "type": "boolean" },
                    "filter": { "type": "boolean" }, "doc": { "type": "string" }
                }
            } } } }),
            json!([]),
        ),
    );
    paths.insert(
        "/api/v1/filter".into(),
        plain(
            "Checks a filter: `ok`, or the error with its line and column.",
            json!({ "type": "object", "required": ["ok"], "properties": {
                "ok": { "type": "boolean" },
                "error": { "type": "object", "properties": {
                    "message": { "type": "string" }, "line": { "type": "integer" }, "column": { "type": "integer" },
                    "offset": { "type": "integer" }, "suggestion": { "type": "string", "nullable": true }
                } }
            } }),
            json!([{ "name": "q", "in": "query", "required": true, "description": "The filter.", "schema": { "type": "string" } }]),
        ),
    );
    paths.insert(
        "/api/openapi.json".into(),
        plain("This document.", json!({ "type": "object" }), json!([])),
    );
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Weir",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Questions about the flows Weir collected, and the collector's state. Traffic is scaled by each flow's sampling rate. Keys carry the schema's field names; a row whose key columns are all null stands for every other key (the Other row of a top-N or series)."
        },
        "paths": paths,
        "components": {
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": { "error": { "type": "object", "required": ["message"], "properties": {
                        "message": { "type": "string" },
                        "param": { "type": "string" },
                        "line": { "type": "integer" },
                        "column": { "type": "integer" }
                    } } }
                },
                "Answer": {
                    "type": "object",
                    "required": ["columns", "rows", "table", "range", "step", "warnings", "compare"],
                    "properties": {
                        "columns": { "type": "array", "items": { "type": "string" } },
                        "rows": { "type": "array", "items": { "type": "array", "items": {} } },
                        "table": { "type": "string" },
                        "range": { "type": "object", "required": ["from", "to"], "properties": {
                            "from": { "type": "string" }, "to": { "type": "string" } } },
                        "step": { "type": "integer", "nullable": true },
                        "warnings": { "type": "array", "items": { "type": "string" } },
                        "compare": { "allOf": [{ "$ref": "#/components/schemas/Answer" }], "nullable": true }
                    }
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use weir_query::plan::{Dim, dim};

    use super::*;

    #[test]
    fn the_dimensions_documented_are_those_a_key_can_have() {
        let names = dimension_names();
        for name in &names {
            let d = dim(name).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(!matches!(d, Dim::Field(f) if !f.column().dimension), "{name}");
        }
        assert!(names.contains(&"src_net") && names.contains(&"dst_port"));
        assert!(!names.contains(&"bytes"), "a metric is no dimension");
        let pattern = dims_pattern();
        let alternatives = format!("(?:{})", names.join("|"));
        assert_eq!(
            pattern,
            format!("{alternatives}(?:,{alternatives}){{0,{}}}", MAX_DIMS - 1)
        );
    }

    #[test]
    fn flows_are_documented_as_orderable_by_what_the_planner_orders_by() {
        use weir_query::backend::TimeRange;
        use weir_query::plan::{Flows, Kind as Question, Order, Query, validate};
        let names = orderable_names();
        assert!(names.contains(&"time_received") && !names.contains(&"dst_as_path"));
        for f in FIELDS {
            let q = Query::new(
                TimeRange::new(0, 1),
                Question::Flows(Flows {
                    order: Order {
                        field: *f,
                        descending: true,
                    },
                    limit: 1,
                    offset: 0,
                }),
            );
            let name = f.column().name;
            assert_eq!(validate(&q).is_ok(), names.contains(&name), "{name}");
        }
    }
}
