//! The HTTP listener: `/metrics` for Prometheus, `/healthz` for liveness checks, the API
//! ([`crate::api`]) and the web UI ([`ui`](super::ui)).
//!
//! Every response carries security headers; request bodies are capped (every route is a GET); when
//! credentials are configured, every path but `/healthz` needs them ([`Auth`]), and changes need the admin
//! role. Responses are counted by status class and refusals by reason on `/metrics`.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::net::TcpListener;

use super::metrics::Metrics;
use super::ui;
use crate::api::auth::{Auth, Refusal, Role};
use crate::api::{self, Api, ApiError};
use crate::exposition::CONTENT_TYPE;

/// Largest request body taken.
const MAX_BODY: usize = 64 << 10;

/// The headers every response carries: no sniffing, no framing, no referrers, and a content policy that
/// lets the page load only its own scripts and styles (ECharts and the views set inline styles).
const SECURITY_HEADERS: [(header::HeaderName, &str); 5] = [
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::REFERRER_POLICY, "no-referrer"),
    (
        header::CONTENT_SECURITY_POLICY,
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; \
         connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
    ),
    (
        header::HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    ),
];

/// What the HTTP listener counts.
#[derive(Debug, Default)]
pub struct HttpStats {
    /// Responses by status class: 1xx-2xx, 3xx, 4xx, 5xx.
    responses: [AtomicU64; 4],
    /// Requests refused by authentication, by [`Refusal`] (missing, invalid, forbidden).
    refusals: [AtomicU64; 3],
}

impl HttpStats {
    /// Status classes as labels, in the order of [`HttpStats::responses_by_class`].
    pub const CLASSES: [&'static str; 4] = ["2xx", "3xx", "4xx", "5xx"];
    /// Refusal reasons as labels, in the order of [`HttpStats::refusals_by_reason`].
    pub const REFUSALS: [&'static str; 3] = ["missing", "invalid", "forbidden"];

    fn count(&self, status: StatusCode) {
        let class = match status.as_u16() {
            0..=299 => 0,
            300..=399 => 1,
            400..=499 => 2,
            _ => 3,
        };
        self.responses[class].fetch_add(1, Ordering::Relaxed);
    }

    fn refused(&self, r: Refusal) {
        let i = match r {
            Refusal::Missing => 0,
            Refusal::Invalid => 1,
            Refusal::Forbidden => 2,
        };
        self.refusals[i].fetch_add(1, Ordering::Relaxed);
    }

    /// Responses so far, by [`HttpStats::CLASSES`].
    pub fn responses_by_class(&self) -> [u64; 4] {
        self.responses.each_ref().map(|a| a.load(Ordering::Relaxed))
    }

    /// Refusals so far, by [`HttpStats::REFUSALS`].
    pub fn refusals_by_reason(&self) -> [u64; 3] {
        self.refusals.each_ref().map(|a| a.load(Ordering::Relaxed))
    }
}

/// The guard's view: the credentials and where to count.
#[derive(Debug, Clone)]
struct Guard {
    auth: Arc<Auth>,
    stats: Arc<HttpStats>,
}

/// The routes, without a server, so that they can be called directly in tests.
pub fn app(metrics: Arc<Metrics>, api: Api, auth: Arc<Auth>) -> Router {
    let guard = Guard {
        auth,
        stats: metrics.http.clone(),
    };
    Router::new()
        .route("/metrics", get(metrics_page))
        .with_state(metrics)
        .merge(api::routes(api))
        .fallback(ui::fallback)
        .route("/healthz", get(healthz))
        .layer(middleware::from_fn_with_state(guard, guard_layer))
        .layer(DefaultBodyLimit::max(MAX_BODY))
}

/// Checks credentials, adds the security headers and counts the response.
async fn guard_layer(State(g): State<Guard>, req: Request, next: Next) -> Response {
    let mut resp = match admit(&g.auth, &req) {
        Ok(()) => next.run(req).await,
        Err(refusal) => {
            g.stats.refused(refusal);
            refuse(refusal)
        }
    };
    let h = resp.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        h.insert(name, HeaderValue::from_static(value));
    }
    g.stats.count(resp.status());
    resp
}

/// Whether `req` may go on: always for `/healthz` and without configured credentials; else with
/// credentials whose role allows the method.
fn admit(auth: &Auth, req: &Request) -> Result<(), Refusal> {
    if !auth.required() || req.uri().path() == "/healthz" {
        return Ok(());
    }
    let needs = match *req.method() {
        Method::GET | Method::HEAD | Method::OPTIONS => Role::Viewer,
        _ => Role::Admin,
    };
    let header = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    auth.check(header, needs).map(drop)
}

fn refuse(r: Refusal) -> Response {
    let status = match r {
        Refusal::Missing | Refusal::Invalid => StatusCode::UNAUTHORIZED,
        Refusal::Forbidden => StatusCode::FORBIDDEN,
    };
    let mut resp = ApiError::status(status, r.to_string()).into_response();
    if status == StatusCode::UNAUTHORIZED {
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"Weir\", charset=\"UTF-8\""),
        );
    }
    resp
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
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::auth::{AuthConfig, Token, new_token, sha256_from_hex};
    use axum::body::{Body, to_bytes};
    use axum::http::Request;
    use tower::ServiceExt as _;

    fn router(auth: Auth) -> (Router, Arc<Metrics>) {
        let m = Metrics::empty();
        let api = Api::new(None, vec![], m.clone(), Default::default());
        (app(m.clone(), api, Arc::new(auth)), m)
    }

    async fn send(app: &Router, method: Method, path: &str, auth: Option<&str>) -> (StatusCode, Response) {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(a) = auth {
            req = req.header(header::AUTHORIZATION, a);
        }
        let resp = app
            .clone()
            .oneshot(req.body(Body::empty()).unwrap())
            .await
            .unwrap();
        (resp.status(), resp)
    }

    async fn get(path: &str) -> (StatusCode, Option<String>, String) {
        let (app, _) = router(Auth::default());
        let (status, resp) = send(&app, Method::GET, path, None).await;
        let ct = resp
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_owned());
        let body = to_bytes(resp.into_body(), 1 << 20).await.unwrap();
        (status, ct, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn serves_metrics_in_the_text_format() {
        let (status, ct, body) = get("/metrics").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(ct.as_deref(), Some(CONTENT_TYPE));
        assert!(body.contains("weir_sink_flows_total 0\n"), "{body}");
    }

    #[tokio::test]
    async fn answers_health_checks_and_json_404s_under_the_api() {
        assert_eq!(
            get("/healthz").await,
            (
                StatusCode::OK,
                Some("text/plain; charset=utf-8".into()),
                "ok\n".into()
            )
        );
        let (status, ct, body) = get("/api/v2/nope").await;
        assert_eq!(
            (status, ct.as_deref()),
            (StatusCode::NOT_FOUND, Some("application/json"))
        );
        assert!(body.contains("/api/openapi.json"), "{body}");
        assert_eq!(get("/assets/missing-0000.js").await.0, StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn serves_the_ui_for_page_paths_compressed_when_asked() {
        let (status, ct, body) = get("/explore").await;
        assert_eq!(
            (status, ct.as_deref()),
            (StatusCode::OK, Some("text/html; charset=utf-8"))
        );
        assert!(body.contains("<script"), "{body}");
        let (app, _) = router(Auth::default());
        let req = Request::builder()
            .uri("/")
            .header(header::ACCEPT_ENCODING, "br, gzip;q=0.8")
            .body(Body::empty())
            .unwrap();
        let resp = app.oneshot(req).await.unwrap();
        assert_eq!(resp.headers()[header::CONTENT_ENCODING], "gzip");
        assert_eq!(resp.headers()[header::X_FRAME_OPTIONS], "DENY");
        assert!(resp.headers().contains_key(header::CONTENT_SECURITY_POLICY));
    }

    #[tokio::test]
    async fn with_credentials_configured_everything_but_health_needs_them() {
        let (token, digest) = new_token().unwrap();
        let auth = Auth::new(AuthConfig {
            tokens: vec![Token {
                name: "prometheus".into(),
                role: Role::Viewer,
                sha256: sha256_from_hex(&digest).unwrap(),
            }],
            users: vec![],
        });
        let (app, m) = router(auth);
        let bearer = format!("Bearer {token}");
        let (status, resp) = send(&app, Method::GET, "/metrics", None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(
            resp.headers()[header::WWW_AUTHENTICATE]
                .to_str()
                .unwrap()
                .starts_with("Basic")
        );
        assert_eq!(
            send(&app, Method::GET, "/api/v1/fields", Some("Bearer nope"))
                .await
                .0,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            send(&app, Method::GET, "/api/v1/fields", Some(&bearer)).await.0,
            StatusCode::OK
        );
        assert_eq!(
            send(&app, Method::GET, "/metrics", Some(&bearer)).await.0,
            StatusCode::OK
        );
        assert_eq!(send(&app, Method::GET, "/healthz", None).await.0, StatusCode::OK);
        assert_eq!(
            send(&app, Method::POST, "/api/v1/fields", Some(&bearer)).await.0,
            StatusCode::FORBIDDEN,
            "changes need an admin"
        );
        assert_eq!(m.http.refusals_by_reason(), [1, 1, 1]);
        assert_eq!(m.http.responses_by_class()[0], 3);
        assert!(
            m.render()
                .contains("weir_http_refusals_total{reason=\"forbidden\"} 1\n")
        );
    }
}
