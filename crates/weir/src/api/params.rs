//! Query strings read into [`Words`], strictly: an unknown or repeated parameter is an error that names
//! it, because a misspelt `limt=5` silently ignored gives an answer to a question nobody asked.

use weir_query::filter::suggest;

use super::error::ApiError;
use crate::ask::{Ask, Words};

/// Parameters every question takes.
pub const COMMON: &[&str] = &["from", "to", "since", "filter"];

/// The parameters `ask` takes besides [`COMMON`].
pub fn params_of(ask: Ask) -> &'static [&'static str] {
    match ask {
        Ask::Summary => &["direction", "compare"],
        Ask::Sizes => &[],
        Ask::Flows => &["order", "limit", "offset"],
        Ask::Series => &["split", "limit", "by", "unit", "step", "direction", "compare"],
        Ask::Top => &[
            "dims",
            "by",
            "unit",
            "agg",
            "step",
            "limit",
            "other",
            "direction",
            "compare",
        ],
    }
}

/// The parameters of a query string, each one of `known` (by its name there) and given once; anything else
/// is a 400 that names it.
pub fn strict(query: Option<&str>, known: &[&'static str]) -> Result<Vec<(&'static str, String)>, ApiError> {
    let mut out: Vec<(&'static str, String)> = Vec::new();
    for (key, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        let Some(&name) = known.iter().find(|&&n| n == key) else {
            let hint = suggest::nearest(&key, known.iter().copied())
                .map_or_else(String::new, |s| format!("; did you mean `{s}`?"));
            return Err(ApiError::bad(
                "query",
                format!(
                    "unknown parameter `{key}`{hint} (this takes {})",
                    known.join(", ")
                ),
            ));
        };
        if out.iter().any(|(n, _)| *n == name) {
            return Err(ApiError::bad(name, format!("`{name}` is given twice")));
        }
        out.push((name, value.into_owned()));
    }
    Ok(out)
}

/// Reads the query string of a question of kind `ask`.
pub fn words(ask: Ask, query: Option<&str>) -> Result<Words, ApiError> {
    let known: Vec<&'static str> = COMMON.iter().chain(params_of(ask)).copied().collect();
    let mut w = Words::default();
    for (name, value) in strict(query, &known)? {
        // An empty free text is a parameter left unset (forms send them so); `compare=` asks for the period
        // just before, and an empty number, boolean or word of a fixed set is an error, as the document says.
        let free = matches!(
            name,
            "from" | "to" | "since" | "filter" | "dims" | "split" | "step" | "order" | "direction"
        );
        if value.is_empty() && free {
            continue;
        }
        match name {
            "from" => w.from = Some(value),
            "to" => w.to = Some(value),
            "since" => w.since = Some(value),
            "filter" => w.filter = Some(value),
            "dims" | "split" => {
                w.dims = value
                    .split(',')
                    .map(str::trim)
                    .filter(|d| !d.is_empty())
                    .map(str::to_owned)
                    .collect();
            }
            "by" => w.by = Some(value),
            "unit" => w.unit = Some(value),
            "agg" => w.agg = Some(value),
            "step" => w.step = Some(value),
            "limit" => match number(name, &value)? {
                0 => return Err(ApiError::bad(name, "`limit` must be at least 1")),
                n => w.limit = Some(n),
            },
            "offset" => w.offset = Some(number(name, &value)?),
            "other" => w.other = Some(boolean(name, &value)?),
            "order" => w.order = Some(value),
            "direction" => w.direction = Some(value),
            "compare" => w.compare = Some(value),
            _ => unreachable!("every known parameter is read above"),
        }
    }
    Ok(w)
}

/// A count: digits only, within `usize` (the planner checks the limits that apply).
fn number(name: &'static str, value: &str) -> Result<usize, ApiError> {
    value
        .parse()
        .map_err(|_| ApiError::bad(name, format!("`{name}` must be a whole number, not {value:?}")))
}

fn boolean(name: &'static str, value: &str) -> Result<bool, ApiError> {
    match value {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err(ApiError::bad(
            name,
            format!("`{name}` must be true or false, not {value:?}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_parameter_of_a_top_n() {
        let w = words(
            Ask::Top,
            Some("dims=src_as,%20dst_as&by=packets&unit=rate&agg=p95&step=5m&limit=3&other=false&direction=exporter&compare=1d&since=2h&filter=proto%20tcp"),
        )
        .unwrap();
        assert_eq!(w.dims, ["src_as", "dst_as"]);
        assert_eq!((w.limit, w.other), (Some(3), Some(false)));
        assert_eq!(w.filter.as_deref(), Some("proto tcp"));
        assert_eq!(w.compare.as_deref(), Some("1d"));
    }

    #[test]
    fn refuses_unknown_repeated_and_malformed_parameters() {
        let e = words(Ask::Top, Some("limt=5")).unwrap_err();
        assert!(e.message.contains("did you mean `limit`"), "{}", e.message);
        let e = words(Ask::Flows, Some("dims=proto")).unwrap_err();
        assert!(e.message.starts_with("unknown parameter `dims`"), "{}", e.message);
        let e = words(Ask::Top, Some("limit=1&limit=2")).unwrap_err();
        assert_eq!(e.param, Some("limit"));
        assert_eq!(
            words(Ask::Top, Some("limit=-1")).unwrap_err().param,
            Some("limit")
        );
        assert_eq!(
            words(Ask::Series, Some("limit=0")).unwrap_err().param,
            Some("limit")
        );
        assert_eq!(
            words(Ask::Top, Some("limit=99999999999999999999999"))
                .unwrap_err()
                .param,
            Some("limit")
        );
        assert_eq!(
            words(Ask::Top, Some("other=maybe")).unwrap_err().param,
            Some("other")
        );
    }

    #[test]
    fn empty_values_are_unset_but_compare() {
        let w = words(Ask::Top, Some("dims=proto&since=&from=&step=&compare=")).unwrap();
        assert_eq!((w.since, w.from, w.step), (None, None, None));
        assert_eq!(w.compare.as_deref(), Some(""));
        assert_eq!(
            words(Ask::Flows, Some("offset=")).unwrap_err().param,
            Some("offset")
        );
        let now = 1_764_000_000_000_000_000;
        let e = crate::ask::query(Ask::Series, &words(Ask::Series, Some("unit=")).unwrap(), now);
        assert_eq!(e.unwrap_err().param, "unit");
    }

    #[test]
    fn series_are_split_by_split() {
        assert_eq!(words(Ask::Series, Some("split=proto")).unwrap().dims, ["proto"]);
        assert!(words(Ask::Series, Some("dims=proto")).is_err());
        assert!(words(Ask::Sizes, None).is_ok());
    }
}
