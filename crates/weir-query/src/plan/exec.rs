//! Running a plan's statements on the chosen table, and reading their rows strictly: a row of the wrong
//! shape is an error naming the table, never a silent zero.

use super::answer::Answer;
use super::choose::Choice;
use super::dim::Dim;
use super::error::QueryError;
use super::query::Metric;
use super::sql::Sql;
use super::table::Table;
use crate::backend::{Backend, HeavyKeys, Rows, TimeRange, Value};

/// What a question's statements gave: the answer's columns and rows, and the keys it answered for (a
/// top-N's, or a split series'; empty for other questions).
#[derive(Debug)]
pub struct Answered {
    /// Column names.
    pub columns: Vec<String>,
    /// Rows.
    pub rows: Vec<Vec<Value>>,
    /// The keys.
    pub keys: Vec<Vec<Value>>,
}

impl Answered {
    /// An answer without keys.
    pub fn unkeyed((columns, rows): (Vec<String>, Vec<Vec<Value>>)) -> Answered {
        Answered {
            columns,
            rows,
            keys: Vec::new(),
        }
    }
}

/// One query being answered from one table.
pub struct Exec<'a> {
    backend: &'a dyn Backend,
    /// The table answering.
    pub table: &'a Table,
    /// The range answered.
    pub range: TimeRange,
    /// The bucket width, when there are buckets.
    pub step: Option<u64>,
    /// The SQL writer.
    pub sql: Sql<'a>,
    warnings: Vec<String>,
    statements: Vec<String>,
}

impl std::fmt::Debug for Exec<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Exec")
            .field("table", &self.table.name)
            .field("range", &self.range)
            .field("step", &self.step)
            .finish_non_exhaustive()
    }
}

impl<'a> Exec<'a> {
    /// Answers from `choice` through `backend`, writing SQL with `sql`.
    pub fn new(backend: &'a dyn Backend, choice: Choice<'a>, sql: Sql<'a>) -> Exec<'a> {
        Exec {
            backend,
            table: choice.table,
            range: choice.range,
            step: choice.step,
            sql,
            warnings: choice.warning.into_iter().collect(),
            statements: Vec::new(),
        }
    }

    /// The backend's candidates for the top keys of `dims` by `metric` over the range answered.
    pub fn heavy_keys(&self, dims: &[Dim], metric: Metric) -> Option<HeavyKeys> {
        self.backend.heavy_keys(self.table, self.range, dims, metric)
    }

    /// Runs `sql`; every row must have `width` values.
    pub fn run(&mut self, sql: String, width: usize) -> Result<Vec<Vec<Value>>, QueryError> {
        let result = self.backend.query(self.table, self.range, &sql);
        self.statements.push(sql);
        let Rows { rows, warnings, .. } = result.map_err(|source| QueryError::Backend {
            table: self.table.name.clone(),
            source,
        })?;
        for w in warnings {
            if !self.warnings.contains(&w) {
                self.warnings.push(w);
            }
        }
        if let Some(row) = rows.iter().find(|r| r.len() != width) {
            return Err(self.bad(format!(
                "a row of {} values where {width} were asked for",
                row.len()
            )));
        }
        Ok(rows)
    }

    /// An error about the backend's answer.
    pub fn bad(&self, message: impl Into<String>) -> QueryError {
        QueryError::BadAnswer {
            table: self.table.name.clone(),
            message: message.into(),
        }
    }

    /// A sum: a non-negative integer, or NULL for a sum over no rows.
    pub fn count(&self, v: &Value) -> Result<u64, QueryError> {
        match v {
            Value::Null => Ok(0),
            v => v
                .as_u64()
                .ok_or_else(|| self.bad(format!("{v:?} where a count was expected"))),
        }
    }

    /// A time.
    pub fn time(&self, v: &Value) -> Result<u64, QueryError> {
        match v {
            Value::Time(t) => Ok(*t),
            v => Err(self.bad(format!("{v:?} where a time was expected"))),
        }
    }

    /// The answer of `columns` and `rows`, with what was run and warned along the way.
    pub fn answer(self, columns: Vec<String>, rows: Vec<Vec<Value>>) -> Answer {
        Answer {
            columns,
            rows,
            table: self.table.name.clone(),
            range: self.range,
            step: self.step,
            warnings: self.warnings,
            statements: self.statements,
            compare: None,
        }
    }
}
