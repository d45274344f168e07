//! API errors as JSON: the status, what was wrong, and with which parameter, so a client can point at it.
//! Failures inside the store are logged with their details and answered with a reference only.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex, PoisonError};

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tracing::error;
use weir_query::backend::BackendErrorKind;
use weir_query::plan::QueryError;

use weir_flow::time::NANOS_PER_SEC;

use crate::ask::WordError;
use crate::clock::now;
use crate::ratelimit::{RateLimiter, Verdict};

/// Lines logged a minute for each kind of internal failure.
const LOG_BURST: u32 = 5;

/// An error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// What went wrong, for the user.
    pub message: String,
    /// The query parameter at fault, when one is.
    pub param: Option<&'static str>,
    /// Line and column in a filter, from 1.
    pub at: Option<(u32, u32)>,
}

impl ApiError {
    /// A 400 about `param`.
    pub fn bad(param: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
            param: Some(param),
            at: None,
        }
    }

    /// An error of `status` not tied to a parameter.
    pub fn status(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            param: None,
            at: None,
        }
    }

    /// A failure the user cannot fix: logged in full (at most [`LOG_BURST`] lines a minute for each kind
    /// of failure, with a count of those held back), answered with a reference to the log line.
    pub fn internal(what: &'static str, detail: &dyn std::fmt::Display) -> ApiError {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        static LIMITER: LazyLock<Mutex<RateLimiter<&'static str>>> =
            LazyLock::new(|| Mutex::new(RateLimiter::new(LOG_BURST, 60 * NANOS_PER_SEC)));
        let id = NEXT.fetch_add(1, Ordering::Relaxed);
        let verdict = LIMITER
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .check(&what, now());
        if let Verdict::Log { suppressed } = verdict {
            error!(reference = id, error = %detail, suppressed, "API: {what} failed.");
        }
        ApiError::status(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("{what} failed; the server's log says why (reference {id})"),
        )
    }

    /// The error as the JSON object it is answered with.
    pub fn body(&self) -> serde_json::Value {
        let mut e = json!({ "message": self.message });
        if let Some(p) = self.param {
            e["param"] = p.into();
        }
        if let Some((line, column)) = self.at {
            e["line"] = line.into();
            e["column"] = column.into();
        }
        json!({ "error": e })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body())).into_response()
    }
}

impl From<WordError> for ApiError {
    fn from(e: WordError) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            message: e.message,
            param: Some(e.param),
            at: e.at,
        }
    }
}

impl From<QueryError> for ApiError {
    /// Questions that cannot be asked are the client's to fix (400), with the parameter at fault; an
    /// answer too large or too slow is too (422, 503 with advice); anything else is the server's.
    fn from(e: QueryError) -> ApiError {
        use QueryError as Q;
        let param = match &e {
            Q::EmptyRange { .. } | Q::ReversedRange { .. } => "from",
            Q::RangeTooLate { .. } => "to",
            Q::StepTooSmall { .. } => "step",
            Q::ZeroLimit { .. } | Q::LimitTooLarge { .. } => "limit",
            Q::OffsetTooLarge { .. } => "offset",
            Q::UnknownField { .. }
            | Q::NotADimension { .. }
            | Q::NoDimensions
            | Q::DuplicateDimension { .. }
            | Q::TooManyDimensions { .. } => "dims",
            Q::NotOrderable { .. } => "order",
            Q::NotApplicable { option, .. } => option,
            Q::ZeroCompare => "compare",
            Q::Backend { source, .. } => {
                return match source.kind {
                    BackendErrorKind::TooLarge => ApiError::status(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "the answer is too large: narrow the time range or the filter, or lower the limit",
                    ),
                    BackendErrorKind::Timeout => ApiError::status(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "the query ran past its time limit: narrow the time range or the filter",
                    ),
                    _ => ApiError::internal("the query", &e),
                };
            }
            Q::NoRawTable | Q::BadAnswer { .. } => return ApiError::internal("the query", &e),
        };
        ApiError::bad(param, e.to_string())
    }
}
