//! The web UI, embedded in the binary (see `build.rs`): its files at their paths, `index.html` for any
//! other page path (the UI routes in the browser, so a shared link to `/explore` must load it), and a JSON
//! 404 under `/api/`, where a page would only confuse a client.

use axum::Json;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

include!(concat!(env!("OUT_DIR"), "/ui_files.rs"));

/// Answers a GET that no other route took.
pub async fn fallback(uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path();
    if path.starts_with("/api/") || path == "/api" {
        let message = format!("no such API path: {path} (the paths are listed at /api/openapi.json)");
        return (
            StatusCode::NOT_FOUND,
            Json(json!({ "error": { "message": message } })),
        )
            .into_response();
    }
    let wanted = path.trim_start_matches('/');
    let (name, file) = match find(wanted) {
        Some(f) => (wanted, f),
        // Asset names carry a hash of their contents: a missing one is missing, not a page.
        None if wanted.starts_with("assets/") => return StatusCode::NOT_FOUND.into_response(),
        None => match find("index.html") {
            Some(f) => ("index.html", f),
            None => return (StatusCode::NOT_FOUND, "this build of Weir has no web UI\n").into_response(),
        },
    };
    let gzip = accepts_gzip(&headers);
    let (raw, gz) = file;
    let cache = if name.starts_with("assets/") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let mut resp = Response::new(Body::from(if gzip { gz } else { raw }));
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(name)));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if gzip {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    resp
}

/// The embedded file at `path`: its bytes, and gzipped.
fn find(path: &str) -> Option<(&'static [u8], &'static [u8])> {
    UI_FILES
        .iter()
        .find(|(p, _, _)| *p == path)
        .map(|&(_, raw, gz)| (raw, gz))
}

fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or("").trim();
            let refused = parts.any(|p| matches!(p.trim(), "q=0" | "q=0.0" | "q=0.00" | "q=0.000"));
            name.eq_ignore_ascii_case("gzip") && !refused
        })
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("json") => "application/json",
        Some("woff2") => "font/woff2",
        _ => "application/octet-stream",
    }
}
