//! A backend for planner tests: it records the SQL it is given and answers with rows set up in advance.

// Each test file uses a part of it.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::sync::Mutex;

use weir_query::backend::{Backend, BackendError, Rows, TimeRange, Value};
use weir_query::filter::Dialect;
use weir_query::plan::Table;

/// Answers each statement with the next of its canned results (an error, or rows), then with no rows.
#[derive(Debug)]
pub struct Recorder {
    dialect: &'static (dyn Dialect + Sync),
    answers: Mutex<VecDeque<Result<Rows, BackendError>>>,
    /// (table, range, SQL) of every statement, in order.
    pub seen: Mutex<Vec<(String, TimeRange, String)>>,
}

impl Recorder {
    pub fn new(dialect: &'static (dyn Dialect + Sync)) -> Recorder {
        Recorder {
            dialect,
            answers: Mutex::new(VecDeque::new()),
            seen: Mutex::new(Vec::new()),
        }
    }

    /// Queues `rows` (with no warnings) as the answer to the next statement.
    pub fn then(self, rows: Vec<Vec<Value>>) -> Recorder {
        self.then_rows(Rows {
            columns: Vec::new(),
            rows,
            warnings: Vec::new(),
        })
    }

    /// Queues `rows` as the answer to the next statement.
    pub fn then_rows(self, rows: Rows) -> Recorder {
        self.answers.lock().expect("lock").push_back(Ok(rows));
        self
    }

    /// Queues an error as the answer to the next statement.
    pub fn then_fail(self, e: BackendError) -> Recorder {
        self.answers.lock().expect("lock").push_back(Err(e));
        self
    }
}

impl Backend for Recorder {
    fn dialect(&self) -> &dyn Dialect {
        self.dialect
    }

    fn query(&self, table: &Table, range: TimeRange, sql: &str) -> Result<Rows, BackendError> {
        self.seen
            .lock()
            .expect("lock")
            .push((table.name.clone(), range, sql.to_owned()));
        self.answers
            .lock()
            .expect("lock")
            .pop_front()
            .unwrap_or_else(|| Ok(Rows::default()))
    }
}
