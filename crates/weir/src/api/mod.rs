//! The HTTP API: the query layer's questions over JSON, the schema for completion, filter checking with
//! line and column, the collector's per-exporter counters, and the OpenAPI document that describes it all.
//!
//! Every question is answered by the same planner as `weir query` ([`crate::ask`] reads the same words), on
//! a thread of its own: the embedded engine blocks on a runtime of its own.
//! At most [`ApiConfig::concurrent_queries`] run at once; more wait, and give up with a 503 after
//! [`ApiConfig::queue_timeout`], so a burst of heavy questions cannot take every thread.

mod answer;
pub mod auth;
mod error;
mod exporters;
mod fields;
pub mod lockout;
mod openapi;
mod params;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value as J, json};
use tokio::sync::Semaphore;
use weir_query::backend::Backend;
use weir_query::filter;
use weir_query::plan::{self, Answer, Query, Table};

use crate::ask::{self, Ask};
use crate::clock::now;
use crate::serve::metrics::Metrics;
pub use error::ApiError;

/// Limits of the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiConfig {
    /// A question running longer is stopped and answered with a 503.
    pub query_time_limit: Duration,
    /// Questions answered at once.
    pub concurrent_queries: usize,
    /// How long a question waits for its turn before a 503.
    pub queue_timeout: Duration,
}

impl Default for ApiConfig {
    fn default() -> ApiConfig {
        ApiConfig {
            query_time_limit: Duration::from_secs(30),
            concurrent_queries: 4,
            queue_timeout: Duration::from_secs(10),
        }
    }
}

/// What the handlers share.
#[derive(Clone)]
pub struct Api {
    /// The store, if there is one (without it, questions about flows get a 503).
    store: Option<Arc<dyn Backend>>,
    /// The store's tables, which decide which one answers.
    tables: Vec<Table>,
    /// The collector's counters, for `/api/v1/exporters`.
    metrics: Arc<Metrics>,
    /// One permit per question running.
    permits: Arc<Semaphore>,
    config: ApiConfig,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api")
            .field("store", &self.store.is_some())
            .field("tables", &self.tables)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Api {
    /// The API over `store` (with its `tables`) and the collector's `metrics`.
    pub fn new(
        store: Option<Arc<dyn Backend>>,
        tables: Vec<Table>,
        metrics: Arc<Metrics>,
        config: ApiConfig,
    ) -> Api {
        Api {
            store,
            tables,
            metrics,
            permits: Arc::new(Semaphore::new(config.concurrent_queries.max(1))),
            config,
        }
    }
}

/// The API's routes, under `/api`.
pub fn routes(api: Api) -> Router {
    let ask_route = |ask: Ask| get(move |State(api): State<Api>, RawQuery(q): RawQuery| answer(api, ask, q));
    Router::new()
        .route("/api/v1/summary", ask_route(Ask::Summary))
        .route("/api/v1/top", ask_route(Ask::Top))
        .route("/api/v1/series", ask_route(Ask::Series))
        .route("/api/v1/flows", ask_route(Ask::Flows))
        .route("/api/v1/sizes", ask_route(Ask::Sizes))
        .route("/api/v1/exporters", get(exporters))
        .route("/api/v1/fields", get(|| async { Json(fields::fields()) }))
        .route("/api/v1/filter", get(check_filter))
        .route("/api/openapi.json", get(|| async { Json(openapi::document()) }))
        .with_state(api)
}

/// Answers one question.
async fn answer(api: Api, ask: Ask, query: Option<String>) -> Result<Json<J>, ApiError> {
    let words = params::words(ask, query.as_deref())?;
    let question = ask::query(ask, &words, now())?;
    let mut a = run(&api, question).await?;
    ask::show_macs(&a.columns, &mut a.rows);
    if let Some(c) = a.compare.as_deref_mut() {
        ask::show_macs(&c.columns, &mut c.rows);
    }
    Ok(Json(answer::json(&a)))
}

/// Runs a checked question on the store, once a slot is free.
async fn run(api: &Api, question: Query) -> Result<Answer, ApiError> {
    plan::validate(&question)?;
    let Some(store) = api.store.clone() else {
        return Err(ApiError::status(
            StatusCode::SERVICE_UNAVAILABLE,
            "this server keeps no flows (it runs without a store)",
        ));
    };
    let permit = tokio::time::timeout(api.config.queue_timeout, api.permits.clone().acquire_owned())
        .await
        .map_err(|_| {
            ApiError::status(
                StatusCode::SERVICE_UNAVAILABLE,
                "too many questions are being answered; try again shortly",
            )
        })?
        .map_err(|e| ApiError::internal("waiting for a query slot", &e))?;
    let tables = api.tables.clone();
    // A thread of its own rather than Tokio's blocking pool: the engine blocks on a runtime of its own,
    // which it refuses to do from any thread that belongs to a runtime.
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("weir-api-query".into())
        .spawn(move || {
            let _permit = permit;
            let _ = tx.send(plan::run(store.as_ref(), &tables, &question));
        })
        .map_err(|e| ApiError::internal("starting a query thread", &e))?;
    let result = rx.await.map_err(|e| ApiError::internal("the query", &e))?;
    Ok(result?)
}

/// `GET /api/v1/filter?q=TEXT`: whether a filter parses and fits the schema, and where it does not.
async fn check_filter(RawQuery(q): RawQuery) -> Result<Json<J>, ApiError> {
    let text = params::strict(q.as_deref(), &["q"])?.pop().map(|(_, v)| v);
    let text = text.ok_or_else(|| ApiError::bad("q", "give the filter to check as `q`"))?;
    Ok(Json(match filter::parse(&text) {
        Ok(_) => json!({ "ok": true }),
        Err(e) => json!({
            "ok": false,
            "error": {
                "message": e.to_string(),
                "line": e.line,
                "column": e.column,
                "offset": text.get(..e.offset).map_or(0, |s| s.chars().count()),
                "suggestion": e.suggestion,
            }
        }),
    }))
}

/// `GET /api/v1/exporters`: the decoders' counters for each export domain, and the sampling rates each
/// exporter's flows carried over the last hour (from the store, which knows them whatever the dialect
/// announced them in: v5 headers, v9/IPFIX options, sFlow samples).
async fn exporters(State(api): State<Api>) -> Result<Json<J>, ApiError> {
    let domains = api.metrics.domains();
    let rates = match api.store {
        Some(_) => {
            let words = ask::Words {
                since: Some("1h".into()),
                dims: vec!["exporter_addr".into(), "sampling_rate".into()],
                by: Some("flows".into()),
                limit: Some(plan::MAX_TOP),
                other: Some(false),
                ..ask::Words::default()
            };
            Some(run(&api, ask::query(Ask::Top, &words, now())?).await?)
        }
        None => None,
    };
    Ok(Json(exporters::json(&domains, rates.as_ref())))
}

#[cfg(test)]
mod tests;
