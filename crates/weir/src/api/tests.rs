//! The API called without a server (`oneshot`), over a store written here with known flows.

use std::net::Ipv6Addr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering as AtomicOrdering};

use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use serde_json::Value as J;
use tower::ServiceExt as _;
use weir_flow::codes::direction;
use weir_flow::{FlowBatch, FlowRecord};
use weir_store::engine::Embedded;
use weir_store::{Store, StoreConfig};

use super::*;
use crate::serve::metrics::Metrics;

/// A store directory removed when dropped.
struct Dir(PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn v4(a: [u8; 4]) -> Ipv6Addr {
    std::net::Ipv4Addr::from(a).to_ipv6_mapped()
}

/// Ten minutes ago, on a whole minute, so every flow is in the default hour and in one rollup bucket.
fn base() -> u64 {
    let minute = 60_000_000_000;
    (now() - 10 * minute) / minute * minute
}

/// Flows: TCP 443 (3 flows, 1000 bytes each, in), UDP 53 (2 flows, 100 bytes each, out, sampled 1:10),
/// ICMP (1 flow, 64 bytes, no direction); all from exporter 192.0.2.1, from 10.0.0.i (the first two with
/// a /16 mask, the others with none) to 198.51.100.7, one a second.
fn flows() -> Vec<FlowRecord> {
    let t = base();
    let flow = |i: u64, proto: u8, port: u16, bytes: u64, sampling: u32, dir: u8| FlowRecord {
        time_received: t + i * 1_000_000_000,
        flow_start: t,
        flow_end: t + i * 1_000_000_000,
        exporter_addr: v4([192, 0, 2, 1]),
        proto,
        src_addr: v4([10, 0, 0, i as u8]),
        src_mask: if i < 2 { 16 } else { 0 },
        dst_addr: v4([198, 51, 100, 7]),
        src_port: 40_000,
        dst_port: port,
        bytes,
        packets: 1,
        flows: 1,
        sampling_rate: sampling,
        flow_direction: dir,
        in_if: 1,
        out_if: 2,
        ..FlowRecord::default()
    };
    vec![
        flow(0, 6, 443, 1000, 1, direction::INGRESS),
        flow(1, 6, 443, 1000, 1, direction::INGRESS),
        flow(2, 6, 443, 1000, 1, direction::INGRESS),
        flow(3, 17, 53, 100, 10, direction::EGRESS),
        flow(4, 17, 53, 100, 10, direction::EGRESS),
        flow(5, 1, 0, 64, 1, direction::UNKNOWN),
    ]
}

fn store() -> Dir {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, AtomicOrdering::Relaxed);
    let dir = Dir(std::env::temp_dir().join(format!("weir-api-{}-{n}", std::process::id())));
    let config = StoreConfig {
        dir: dir.0.clone(),
        min_free_bytes: 0,
        ..StoreConfig::default()
    };
    let (mut store, _) = Store::open(config).unwrap();
    let mut batch = FlowBatch::new();
    batch.extend(&flows());
    store.append(&batch).unwrap();
    store.close().unwrap();
    dir
}

fn api(dir: Option<&Dir>, config: ApiConfig) -> Router {
    let store = dir.map(|d| Arc::new(Embedded::open(&d.0).unwrap()) as Arc<dyn Backend>);
    routes(Api::new(store, Table::defaults(), Metrics::empty(), config))
}

async fn get(app: &Router, uri: &str) -> (StatusCode, J) {
    let req = Request::builder().uri(uri).body(Body::empty()).unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    assert_eq!(
        resp.headers().get(header::CONTENT_TYPE).unwrap(),
        "application/json",
        "{uri}"
    );
    let body = to_bytes(resp.into_body(), 1 << 24).await.unwrap();
    (status, serde_json::from_slice(&body).unwrap())
}

/// The answer to `uri`, which must be a 200.
async fn ok(app: &Router, uri: &str) -> J {
    let (status, a) = get(app, uri).await;
    assert_eq!(status, StatusCode::OK, "{uri}: {a}");
    a
}

/// The rows of an answer as (first column as text, last column as a number).
fn pairs(answer: &J) -> Vec<(String, f64)> {
    pairs_at(answer, 0)
}

/// The rows of an answer as (column `at` as text, last column as a number).
fn pairs_at(answer: &J, at: usize) -> Vec<(String, f64)> {
    answer["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let r = r.as_array().unwrap();
            let key = match &r[at] {
                J::String(s) => s.clone(),
                other => other.to_string(),
            };
            (key, r[r.len() - 1].as_f64().unwrap())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_top_n_scaled_by_sampling_with_other() {
    let dir = store();
    let app = api(Some(&dir), ApiConfig::default());
    let a = ok(&app, "/api/v1/top?dims=proto&limit=2").await;
    assert_eq!(a["columns"], serde_json::json!(["proto", "bytes"]));
    assert_eq!(
        pairs(&a),
        [("6".into(), 3000.0), ("17".into(), 2000.0), ("null".into(), 64.0)],
        "UDP's 200 bytes stand for 2000 at 1:10"
    );
    let (_, a) = get(
        &app,
        "/api/v1/top?dims=dst_port&by=flows&other=false&filter=proto%20tcp%20or%20proto%20udp",
    )
    .await;
    assert_eq!(pairs(&a), [("443".into(), 3.0), ("53".into(), 2.0)]);
    assert!(a["range"]["from"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_summary_series_flows_and_sizes() {
    let dir = store();
    let app = api(Some(&dir), ApiConfig::default());
    let a = ok(&app, "/api/v1/summary").await;
    let total = a["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r[0].is_null())
        .expect("a total row");
    let col = |name: &str| {
        a["columns"]
            .as_array()
            .unwrap()
            .iter()
            .position(|c| c == name)
            .unwrap()
    };
    assert_eq!(total[col("flows")], 6);
    assert_eq!(total[col("bytes")], 3000 + 2000 + 64);

    let a = ok(
        &app,
        "/api/v1/series?split=proto&step=1m&unit=rate&direction=exporter",
    )
    .await;
    assert_eq!(a["step"], 60);
    let cols = a["columns"].as_array().unwrap();
    assert!(
        cols.contains(&"direction".into()) && cols.contains(&"bps".into()),
        "{a}"
    );
    let bps = cols.iter().position(|c| c == "bps").unwrap();
    let dir_col = cols.iter().position(|c| c == "direction").unwrap();
    let sum = |d: &str| -> f64 {
        a["rows"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r[dir_col] == d)
            .map(|r| r[bps].as_f64().unwrap())
            .sum()
    };
    assert_eq!(sum("in"), -3000.0 * 8.0 / 60.0, "in is negative");
    assert_eq!(sum("out"), 2000.0 * 8.0 / 60.0);

    let a = ok(&app, "/api/v1/flows?order=bytes:asc&limit=2&offset=1").await;
    let cols = a["columns"].as_array().unwrap();
    let bytes = cols.iter().position(|c| c == "bytes").unwrap();
    let src = cols.iter().position(|c| c == "src_addr").unwrap();
    let rows = a["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(
        (rows[0][bytes].as_u64(), rows[1][bytes].as_u64()),
        (Some(100), Some(100))
    );
    assert!(
        rows[0][src].as_str().unwrap().starts_with("10.0.0."),
        "{}",
        rows[0][src]
    );

    let a = ok(&app, "/api/v1/sizes").await;
    assert!(!a["rows"].as_array().unwrap().is_empty());

    let (status, a) = get(&app, "/api/v1/exporters").await;
    assert_eq!(
        (status, a),
        (StatusCode::OK, serde_json::json!({ "exporters": [] })),
        "no decoder has seen an exporter; the sampling rates' question is answered all the same"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compares_with_the_period_before() {
    let dir = store();
    let app = api(Some(&dir), ApiConfig::default());
    let a = ok(&app, "/api/v1/top?dims=proto&compare=").await;
    assert_eq!(pairs(&a)[0], ("6".into(), 3000.0));
    assert_eq!(
        pairs(&a["compare"]),
        [
            ("6".into(), 0.0),
            ("17".into(), 0.0),
            ("1".into(), 0.0),
            ("null".into(), 0.0)
        ],
        "nothing an hour before, for each key of this hour"
    );
    // Flows 3 to 5 (UDP and ICMP), set beside flows 0 to 2 (TCP): the earlier period answers for UDP,
    // this period's top key, and puts TCP, its own top key, in Other.
    let s = 1_000_000_000;
    let uri = format!(
        "/api/v1/top?dims=proto&limit=1&from={}&to={}&compare=3",
        base() + 3 * s,
        base() + 6 * s
    );
    let a = ok(&app, &uri).await;
    assert_eq!(pairs(&a), [("17".into(), 2000.0), ("null".into(), 64.0)]);
    assert_eq!(
        pairs(&a["compare"]),
        [("17".into(), 0.0), ("null".into(), 3000.0)]
    );
    let uri = format!(
        "/api/v1/series?split=proto&limit=1&step=1s&from={}&to={}&compare=3&by=flows&unit=total",
        base() + 3 * s,
        base() + 6 * s
    );
    let a = ok(&app, &uri).await;
    // The series' keys, in order, each with its total ("null" for Other).
    let keys = |a: &J| {
        let mut k: Vec<(String, f64)> = Vec::new();
        for (key, v) in pairs_at(a, 1) {
            match k.iter_mut().find(|(x, _)| *x == key) {
                Some((_, total)) => *total += v,
                None => k.push((key, v)),
            }
        }
        k
    };
    assert_eq!(keys(&a), [("17".into(), 2.0), ("null".into(), 1.0)]);
    assert_eq!(
        keys(&a["compare"]),
        [("17".into(), 0.0), ("null".into(), 3.0)],
        "UDP had no flows before; TCP is Other"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ranks_subnet_pairs_by_each_flows_mask() {
    let dir = store();
    let app = api(Some(&dir), ApiConfig::default());
    let a = ok(&app, "/api/v1/top?dims=src_net,dst_net&by=flows&other=false").await;
    assert_eq!(a["columns"], serde_json::json!(["src_net", "dst_net", "flows"]));
    assert_eq!(
        a["rows"],
        serde_json::json!([
            ["10.0.0.0/24", "198.51.100.0/24", 4],
            ["10.0.0.0/16", "198.51.100.0/24", 2]
        ]),
        "masked by src_mask, or /24 without one"
    );
    let a = ok(&app, "/api/v1/series?split=src_net&by=flows&unit=total&step=60s").await;
    let total = |net: &str| -> f64 {
        a["rows"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r[1] == net)
            .map(|r| r[2].as_f64().unwrap())
            .sum()
    };
    assert_eq!((total("10.0.0.0/24"), total("10.0.0.0/16")), (4.0, 2.0));
    let (status, a) = get(&app, "/api/v1/top?dims=src_net&filter=src_net%20%3D%201").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{a}");
    // The UI's drill-down filters for each network (ui/src/drill.ts) select exactly its flows.
    for (filter, flows) in [
        ("src net 10.0.0.0/16 and src_mask = 16", 2),
        (
            "src net 10.0.0.0/24 and (src_mask = 24 or src_mask = 0 or src_mask > 32)",
            4,
        ),
    ] {
        let uri = format!(
            "/api/v1/flows?filter={}",
            form_urlencoded::byte_serialize(filter.as_bytes()).collect::<String>()
        );
        let a = ok(&app, &uri).await;
        assert_eq!(a["rows"].as_array().unwrap().len(), flows, "{filter}: {a}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_questions_get_400s_that_name_the_parameter() {
    let dir = store();
    let app = api(Some(&dir), ApiConfig::default());
    for (uri, param) in [
        ("/api/v1/top", "dims"),
        ("/api/v1/top?dims=dst_contry", "dims"),
        ("/api/v1/top?dims=bytes", "dims"),
        ("/api/v1/top?dims=proto&limit=0", "limit"),
        ("/api/v1/top?dims=proto&limit=1000000000", "limit"),
        ("/api/v1/top?dims=proto&limt=5", "query"),
        ("/api/v1/top?dims=proto&by=octets", "by"),
        ("/api/v1/series?step=1s&since=30d", "step"),
        ("/api/v1/flows?offset=99999999999", "offset"),
        ("/api/v1/flows?order=nope", "order"),
        ("/api/v1/flows?direction=exporter", "query"),
        ("/api/v1/sizes?from=2026-01-02&to=2026-01-01", "from"),
        ("/api/v1/summary?since=forever", "since"),
        ("/api/v1/summary?filter=%28%28%28", "filter"),
    ] {
        let (status, body) = get(&app, uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
        assert_eq!(body["error"]["param"], param, "{uri}: {body}");
        assert!(!body["error"]["message"].as_str().unwrap().is_empty());
    }
    let (_, body) = get(
        &app,
        "/api/v1/summary?filter=proto%20tcp%20and%0A%20dst%20prot%2080",
    )
    .await;
    assert_eq!(
        (body["error"]["line"].as_u64(), body["error"]["column"].as_u64()),
        (Some(2), Some(6)),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_filters_are_refused_quickly() {
    let dir = store();
    let app = api(Some(&dir), ApiConfig::default());
    let deep = format!(
        "/api/v1/summary?filter={}proto%20tcp{}",
        "(".repeat(5000),
        ")".repeat(5000)
    );
    let (status, body) = get(&app, &deep).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let long = format!("/api/v1/summary?filter={}", "not%20".repeat(9_000));
    assert_eq!(get(&app, &long).await.0, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn without_a_store_questions_get_a_503_and_the_rest_works() {
    let app = api(None, ApiConfig::default());
    let (status, body) = get(&app, "/api/v1/summary").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(
        get(&app, "/api/v1/top?dims=nope").await.0,
        StatusCode::BAD_REQUEST,
        "checked first"
    );
    let (status, body) = get(&app, "/api/v1/exporters").await;
    assert_eq!(
        (status, body),
        (StatusCode::OK, serde_json::json!({ "exporters": [] }))
    );
}

#[tokio::test]
async fn checks_filters_and_lists_fields() {
    let app = api(None, ApiConfig::default());
    assert_eq!(
        get(&app, "/api/v1/filter?q=proto%20tcp").await.1,
        serde_json::json!({ "ok": true })
    );
    let (status, body) = get(&app, "/api/v1/filter?q=dst_contry%20%3D%20JP").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["ok"], false);
    assert_eq!(
        (body["error"]["line"].as_u64(), body["error"]["column"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(body["error"]["suggestion"], "dst_country");
    assert_eq!(get(&app, "/api/v1/filter").await.1["error"]["param"], "q");
    assert_eq!(
        get(&app, "/api/v1/filter?q=a&q=b").await.0,
        StatusCode::BAD_REQUEST
    );

    let (_, body) = get(&app, "/api/v1/fields").await;
    let fields = body["fields"].as_array().unwrap();
    assert_eq!(fields.len(), weir_flow::COLUMNS.len() + 2);
    let net = fields.iter().find(|f| f["name"] == "src_net").unwrap();
    assert_eq!(
        (net["dimension"].as_bool(), net["filter"].as_bool()),
        (Some(true), Some(false))
    );
    let dst = fields.iter().find(|f| f["name"] == "dst_addr").unwrap();
    assert_eq!(
        (dst["kind"].as_str(), dst["dimension"].as_bool()),
        (Some("ip"), Some(true))
    );
}

#[tokio::test]
async fn the_openapi_document_names_every_parameter_the_server_takes() {
    let app = api(None, ApiConfig::default());
    let doc = ok(&app, "/api/openapi.json").await;
    for (path, ask) in [
        ("/api/v1/top", Ask::Top),
        ("/api/v1/series", Ask::Series),
        ("/api/v1/flows", Ask::Flows),
        ("/api/v1/summary", Ask::Summary),
        ("/api/v1/sizes", Ask::Sizes),
    ] {
        let documented: Vec<&str> = doc["paths"][path]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        let taken: Vec<&str> = params::COMMON
            .iter()
            .chain(params::params_of(ask))
            .copied()
            .collect();
        assert_eq!(documented, taken, "{path}");
        for p in doc["paths"][path]["get"]["parameters"].as_array().unwrap() {
            assert!(
                !p["description"].as_str().unwrap().is_empty(),
                "{path} {}",
                p["name"]
            );
        }
    }
    for path in [
        "/api/v1/exporters",
        "/api/v1/fields",
        "/api/v1/filter",
        "/api/openapi.json",
    ] {
        assert!(doc["paths"][path]["get"].is_object(), "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn questions_beyond_the_concurrency_limit_wait_then_give_up() {
    let dir = store();
    let config = ApiConfig {
        concurrent_queries: 1,
        queue_timeout: Duration::from_millis(1),
        ..ApiConfig::default()
    };
    let store = Arc::new(Embedded::open(&dir.0).unwrap()) as Arc<dyn Backend>;
    let api = Api::new(Some(store), Table::defaults(), Metrics::empty(), config);
    let held = api.permits.clone().acquire_owned().await.unwrap();
    let app = routes(api);
    let (status, body) = get(&app, "/api/v1/summary").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    drop(held);
    assert_eq!(get(&app, "/api/v1/summary").await.0, StatusCode::OK);
}
