//! [`FilterError`]: what is wrong with a filter and where, as line and column a user can find.

use thiserror::Error;

/// A filter that cannot be parsed or does not fit the schema.
///
/// Positions are 1-based; columns count characters, not bytes, so they match what an editor shows.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{message} at {line}:{column}{}", Hint(.suggestion.as_deref()))]
pub struct FilterError {
    /// Line of the offending token, from 1.
    pub line: u32,
    /// Column of the offending token, from 1, in characters.
    pub column: u32,
    /// Byte offset of the offending token in the filter text, for highlighting it.
    pub offset: usize,
    /// What is wrong, e.g. "unknown field `dst_contry`".
    pub message: String,
    /// The nearest valid word, when the mistake looks like a typo.
    pub suggestion: Option<String>,
}

/// Formats the optional "did you mean" part of an error (filter and query errors alike).
pub(crate) struct Hint<'a>(pub(crate) Option<&'a str>);

impl std::fmt::Display for Hint<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(s) => write!(f, "; did you mean `{s}`?"),
            None => Ok(()),
        }
    }
}

impl FilterError {
    /// An error at byte `offset` of `src`, with its line and column worked out from the text.
    pub(crate) fn at(src: &str, offset: usize, message: impl Into<String>) -> Self {
        let offset = offset.min(src.len());
        let before = src.get(..offset).unwrap_or(src);
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        Self {
            line: before.matches('\n').count() as u32 + 1,
            column: before[line_start..].chars().count() as u32 + 1,
            offset,
            message: message.into(),
            suggestion: None,
        }
    }

    /// The same error with a suggestion.
    pub(crate) fn suggest(mut self, suggestion: Option<&str>) -> Self {
        self.suggestion = suggestion.map(str::to_owned);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_lines_and_characters_from_one() {
        let src = "proto tcp and\n  é dst_contry = JP";
        let e = FilterError::at(src, src.find("dst_").unwrap(), "unknown field `dst_contry`");
        assert_eq!((e.line, e.column), (2, 5));
        assert_eq!(e.to_string(), "unknown field `dst_contry` at 2:5");
        let e = e.suggest(Some("dst_country"));
        assert_eq!(
            e.to_string(),
            "unknown field `dst_contry` at 2:5; did you mean `dst_country`?"
        );
        assert_eq!(FilterError::at(src, src.len() + 9, "end").offset, src.len());
    }
}
