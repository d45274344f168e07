//! The HTTP listener: `/metrics` for Prometheus, `/healthz` for liveness checks, the API
//! ([`crate::api`]) and the web UI ([`ui`](super::ui)).
//!
//! Every response carries security headers; request bodies are capped (every route is a GET); when
//! credentials are configured, every path but `/healthz` needs them ([`Auth`]), changes need the admin
//! role, and an address that keeps sending wrong ones is refused for a while ([`Lockout`]). Responses are
//! counted by status class and refusals by reason on `/metrics`.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::net::TcpListener;

use super::metrics::Metrics;
use super::ui;
use crate::api::auth::{Auth, Refusal, Role};
use crate::api::lockout::Lockout;
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
    /// Requests refused by authentication, by [`Refusal`] (missing, invalid, forbidden, locked out).
    refusals: [AtomicU64; 4],
    /// Client addresses locked out for sending wrong credentials.
    lockouts: AtomicU64,
}

impl HttpStats {
    /// Status classes as labels, in the order of [`HttpStats::responses_by_class`].
    pub const CLASSES: [&'static str; 4] = ["2xx", "3xx", "4xx", "5xx"];
    /// Refusal reasons as labels, in the order of [`HttpStats::refusals_by_reason`].
    pub const REFUSALS: [&'static str; 4] = ["missing", "invalid", "forbidden", "locked_out"];

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
            Refusal::LockedOut => 3,
        };
        self.refusals[i].fetch_add(1, Ordering::Relaxed);
    }

    /// Client addresses locked out so far.
    pub fn lockouts(&self) -> u64 {
        self.lockouts.load(Ordering::Relaxed)
    }

    /// Responses so far, by [`HttpStats::CLASSES`].
    pub fn responses_by_class(&self) -> [u64; 4] {
        self.responses.each_ref().map(|a| a.load(Ordering::Relaxed))
    }

    /// Refusals so far, by [`HttpStats::REFUSALS`].
    pub fn refusals_by_reason(&self) -> [u64; 4] {
        self.refusals.each_ref().map(|a| a.load(Ordering::Relaxed))
    }
}

/// The guard's view: the credentials and where to count.
#[derive(Debug, Clone)]
struct Guard {
    auth: Arc<Auth>,
    lockout: Arc<Lockout>,
    stats: Arc<HttpStats>,
}

/// The routes, without a server, so that they can be called directly in tests.
pub fn app(metrics: Arc<Metrics>, api: Api, auth: Arc<Auth>) -> Router {
    let guard = Guard {
        auth,
        lockout: Arc::default(),
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
    let mut resp = match admit(&g, &req) {
        Ok(()) => next.run(req).await,
        Err((refusal, retry)) => {
            g.stats.refused(refusal);
            refuse(refusal, retry)
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
/// credentials whose role allows the method, from an address not locked out (the refusal then says in how
/// many seconds to try again).
fn admit(g: &Guard, req: &Request) -> Result<(), (Refusal, Option<u64>)> {
    if !g.auth.required() || req.uri().path() == "/healthz" {
        return Ok(());
    }
    // Requests built in-process (tests) have no peer address and are never locked out.
    let client = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    if let Some(ip) = client
        && let Some(wait) = g.lockout.refused_for(ip, Instant::now())
    {
        return Err((Refusal::LockedOut, Some(wait.as_secs().max(1))));
    }
    let needs = match *req.method() {
        Method::GET | Method::HEAD | Method::OPTIONS => Role::Viewer,
        _ => Role::Admin,
    };
    let header = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    match g.auth.check(header, needs) {
        Ok(_) => Ok(()),
        Err(Refusal::Invalid) => {
            if let Some(ip) = client
                && g.lockout.failed(ip, Instant::now())
            {
                g.stats.lockouts.fetch_add(1, Ordering::Relaxed);
            }
            Err((Refusal::Invalid, None))
        }
        Err(r) => Err((r, None)),
    }
}

fn refuse(r: Refusal, retry_after: Option<u64>) -> Response {
    let status = match r {
        Refusal::Missing | Refusal::Invalid => StatusCode::UNAUTHORIZED,
        Refusal::Forbidden => StatusCode::FORBIDDEN,
        Refusal::LockedOut => StatusCode::TOO_MANY_REQUESTS,
    };
    let mut resp = ApiError::status(status, r.to_string()).into_response();
    if let Some(secs) = retry_after {
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
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
    let app = app.into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::auth::{AuthConfig, Token, new_token, sha256_from_hex};
    use crate::api::lockout::{LOCKOUT, MAX_FAILURES};
    use axum::body::{Body, to_bytes};
    use axum::http::Request;
    use tower::ServiceExt as _;

    fn router(auth: Auth) -> (Router, Arc<Metrics>) {
        let m = Metrics::empty();
        let api = Api::new(None, vec![], m.clone(), Default::default());
        (app(m.clone(), api, Arc::new(auth)), m)
    }

    /// Credentials of one viewer's API token, and the `Authorization` header that carries it.
    fn viewer_token() -> (Auth, String) {
        let (token, digest) = new_token().unwrap();
        let auth = Auth::new(AuthConfig {
            tokens: vec![Token {
                name: "viewer".into(),
                role: Role::Viewer,
                sha256: sha256_from_hex(&digest).unwrap(),
            }],
            users: vec![],
        });
        (auth, format!("Bearer {token}"))
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
        let (auth, bearer) = viewer_token();
        let (app, m) = router(auth);
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
        assert_eq!(m.http.refusals_by_reason(), [1, 1, 1, 0]);
        assert_eq!(m.http.responses_by_class()[0], 3);
        assert!(
            m.render()
                .contains("weir_http_refusals_total{reason=\"forbidden\"} 1\n")
        );
    }

    #[tokio::test]
    async fn an_address_that_keeps_guessing_is_locked_out_and_told_when_to_come_back() {
        let (auth, good) = viewer_token();
        let (app, m) = router(auth);
        let from = |ip: &str, auth: &str| {
            let mut req = Request::builder()
                .uri("/api/v1/fields")
                .header(header::AUTHORIZATION, auth)
                .body(Body::empty())
                .unwrap();
            let peer: SocketAddr = format!("{ip}:40000").parse().unwrap();
            req.extensions_mut().insert(ConnectInfo(peer));
            let app = app.clone();
            async move { app.oneshot(req).await.unwrap() }
        };
        for _ in 0..MAX_FAILURES {
            assert_eq!(
                from("192.0.2.7", "Bearer guess").await.status(),
                StatusCode::UNAUTHORIZED
            );
        }
        let resp = from("192.0.2.7", &good).await;
        assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS, "even right ones");
        let retry: u64 = resp.headers()[header::RETRY_AFTER]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(retry > 0 && retry <= LOCKOUT.as_secs());
        assert_eq!(
            from("192.0.2.8", &good).await.status(),
            StatusCode::OK,
            "others go on"
        );
        assert_eq!(m.http.lockouts(), 1);
        assert_eq!(m.http.refusals_by_reason()[3], 1);
        assert!(m.render().contains("weir_http_lockouts_total 1\n"));
    }
}
