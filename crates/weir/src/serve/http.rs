//! The HTTP listener: `/metrics` for Prometheus, `/healthz` for liveness checks, and the API
//! ([`crate::api`]).

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::net::TcpListener;

use super::metrics::Metrics;
use crate::api::{self, Api};
use crate::exposition::CONTENT_TYPE;

/// The routes, without a server, so that they can be called directly in tests.
pub fn app(metrics: Arc<Metrics>, api: Api) -> Router {
    Router::new()
        .route("/metrics", get(metrics_page))
        .route("/healthz", get(healthz))
        .with_state(metrics)
        .merge(api::routes(api))
}

async fn metrics_page(State(metrics): State<Arc<Metrics>>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], metrics.render())
}

async fn healthz() -> &'static str {
    "ok\n"
}

/// Serves `app` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    metrics: Arc<Metrics>,
    api: Api,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app(metrics, api))
        .with_graceful_shutdown(shutdown)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::{Body, to_bytes};
    use axum::http::{Request, StatusCode};
    use crossbeam_channel::bounded;
    use tower::ServiceExt as _;

    fn metrics() -> Arc<Metrics> {
        let (_tx, rx) = bounded(1);
        Arc::new(Metrics {
            listeners: vec![],
            tcp: vec![],
            shards: vec![],
            sink: (rx, Arc::default()),
            store: None,
        })
    }

    async fn get(path: &str) -> (StatusCode, Option<String>, String) {
        let req = Request::builder().uri(path).body(Body::empty()).unwrap();
        let m = metrics();
        let api = Api::new(None, vec![], m.clone(), Default::default());
        let resp = app(m, api).oneshot(req).await.unwrap();
        let status = resp.status();
        let ct = resp
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_owned());
        let body = to_bytes(resp.into_body(), 1 << 20).await.unwrap();
        (status, ct, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn serves_metrics_in_the_text_format() {
        let (status, ct, body) = get("/metrics").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(ct.as_deref(), Some(CONTENT_TYPE));
        assert!(body.contains("weir_sink_flows_total 0\n"), "{body}");
    }

    #[tokio::test]
    async fn answers_health_checks() {
        assert_eq!(
            get("/healthz").await,
            (
                StatusCode::OK,
                Some("text/plain; charset=utf-8".into()),
                "ok\n".into()
            )
        );
        assert_eq!(get("/nope").await.0, StatusCode::NOT_FOUND);
    }
}
