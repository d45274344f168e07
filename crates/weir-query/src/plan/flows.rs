//! Flows: the stored flows themselves, every column, sorted and paged.
//!
//! Many flows share a value of the column asked for (every flow of a datagram has its receive time), and
//! engines order ties as their files and threads happen to give them, which differs from one statement to
//! the next: pages asked one after another would then repeat some flows and skip others. So ties are broken
//! by the columns that tell flows apart ([`TIE_BREAK`]), the same in every backend.

use weir_flow::{COLUMNS, Field};

use super::error::QueryError;
use super::exec::Exec;
use super::query::Flows;
use crate::backend::Value;

/// The columns that order flows with the same value of the column asked for.
const TIE_BREAK: [Field; 12] = [
    Field::time_received,
    Field::exporter_addr,
    Field::observation_domain,
    Field::flow_start,
    Field::flow_end,
    Field::src_addr,
    Field::dst_addr,
    Field::proto,
    Field::src_port,
    Field::dst_port,
    Field::bytes,
    Field::packets,
];

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
    let direction = if f.order.descending { "DESC" } else { "ASC" };
    let order = std::iter::once(f.order.field)
        .chain(TIE_BREAK.into_iter().filter(|&t| t != f.order.field))
        .map(|c| format!("{} {direction}", s.col(c)))
        .collect::<Vec<_>>()
        .join(", ");
    let mut sql = format!(
        "SELECT {all} {} ORDER BY {order} LIMIT {}",
        s.source(x.table, x.range, None),
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
