//! Flows: the stored flows themselves, every column, sorted and paged.

use weir_flow::COLUMNS;

use super::error::QueryError;
use super::exec::Exec;
use super::query::Flows;
use crate::backend::Value;

/// Runs the listing; returns its columns and rows.
pub fn run(x: &mut Exec<'_>, f: &Flows) -> Result<(Vec<String>, Vec<Vec<Value>>), QueryError> {
    let s = x.sql;
    let all = COLUMNS
        .iter()
        .map(|c| {
            let mut out = String::new();
            s.d.column(&mut out, c.name);
            out
        })
        .collect::<Vec<_>>()
        .join(", ");
    let mut sql = format!(
        "SELECT {all} {} ORDER BY {} {} LIMIT {}",
        s.source(x.table, x.range, None),
        s.col(f.order.field),
        if f.order.descending { "DESC" } else { "ASC" },
        f.limit
    );
    if f.offset > 0 {
        sql.push_str(&format!(" OFFSET {}", f.offset));
    }
    let rows = x.run(sql, COLUMNS.len())?;
    if rows.len() > f.limit {
        return Err(x.bad(format!(
            "{} flows where at most {} were asked for",
            rows.len(),
            f.limit
        )));
    }
    Ok((COLUMNS.iter().map(|c| c.name.to_owned()).collect(), rows))
}
