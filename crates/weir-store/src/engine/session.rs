//! One statement run by DataFusion over an explicit list of Parquet files.
//!
//! Each statement gets a session of its own, with the table registered under its name as a
//! `ListingTable` over exactly the files listed for the range (an empty `MemTable` when there are none;
//! wrapped in [`Spanned`] when the span of their rows' receive times is known),
//! so concurrent queries never see each other's registrations and the engine never lists directories
//! itself. The results stream in and stop at the row limit.

use std::path::PathBuf;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use datafusion::catalog::TableProvider;
use datafusion::common::tree_node::TreeNode;
use datafusion::datasource::MemTable;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl};
use datafusion::error::DataFusionError;
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::{DataFrame, SessionConfig, SessionContext};
use weir_query::backend::{BackendError, BackendErrorKind, Value};

use super::span::Spanned;
use super::values;

/// Why a statement failed.
#[derive(Debug)]
pub enum Failure {
    /// The engine refused the statement, or the answer is too large: no file is to blame.
    Query(BackendError),
    /// Reading the data failed: a file may be damaged or gone.
    Data(BackendError),
}

/// What a statement needs.
#[derive(Debug)]
pub struct Statement<'a> {
    /// The table's name, as the SQL calls it.
    pub table: &'a str,
    /// The table's Arrow schema.
    pub schema: SchemaRef,
    /// The files to read.
    pub files: &'a [PathBuf],
    /// The receive times `[start, end)` every row of the files lies in, if known: conditions on the receive
    /// time that it settles are not evaluated (see [`super::span`]).
    pub span: Option<crate::layout::Span>,
    /// The SQL.
    pub sql: &'a str,
    /// At most this many rows.
    pub max_rows: usize,
}

/// Runs `s` in a new session sharing `runtime` (the memory pool), with `partitions` target partitions.
pub async fn run(
    s: Statement<'_>,
    runtime: Arc<RuntimeEnv>,
    partitions: usize,
) -> Result<(Vec<String>, Vec<Vec<Value>>), Failure> {
    let config = SessionConfig::new()
        .with_target_partitions(partitions.max(1))
        .set_bool("datafusion.execution.parquet.reorder_filters", true);
    let ctx = SessionContext::new_with_config_rt(config, runtime);
    ctx.register_udf(super::net::udf());
    register(&ctx, &s).map_err(|e| Failure::Query(engine(&e)))?;
    let frame = ctx.sql(s.sql).await.map_err(|e| Failure::Query(engine(&e)))?;
    // Listings apply their filters (and the running threshold of their top-K sort) while decoding, so the
    // columns of rows they drop are never decoded: flows are wide, and a listing reads ten times faster
    // this way. Statements that aggregate read every matching row's few columns anyway; for them, filtering
    // while decoding cuts the other columns' pages into scattered row selections (a port matches rows all
    // over a file), which made them half again slower. Pages are skipped by their statistics either way.
    let (mut state, plan) = frame.into_parts();
    state
        .config_mut()
        .options_mut()
        .execution
        .parquet
        .pushdown_filters = filters_while_decoding(&plan);
    let frame = DataFrame::new(state, plan);
    let columns = frame.schema().fields().iter().map(|f| f.name().clone()).collect();
    let mut stream = frame.execute_stream().await.map_err(classify)?;
    let mut batches = Vec::new();
    let mut rows = 0usize;
    while let Some(batch) = std::future::poll_fn(|cx| stream.as_mut().poll_next(cx)).await {
        let batch = batch.map_err(classify)?;
        rows += batch.num_rows();
        if rows > s.max_rows {
            return Err(Failure::Query(BackendError::new(
                BackendErrorKind::TooLarge,
                format!("more than {} rows", s.max_rows),
            )));
        }
        batches.push(batch);
    }
    let rows = values::rows(&batches)
        .map_err(|e| Failure::Query(BackendError::new(BackendErrorKind::Engine, e.to_string())))?;
    Ok((columns, rows))
}

/// Whether the scans of `plan` should apply its filters while decoding: unless it aggregates (see `run`).
fn filters_while_decoding(plan: &LogicalPlan) -> bool {
    !plan
        .exists(|p| Ok(matches!(p, LogicalPlan::Aggregate(_))))
        .unwrap_or(false)
}

fn register(ctx: &SessionContext, s: &Statement<'_>) -> Result<(), DataFusionError> {
    if s.files.is_empty() {
        let empty = MemTable::try_new(s.schema.clone(), vec![vec![]])?;
        ctx.register_table(s.table, Arc::new(empty))?;
        return Ok(());
    }
    let urls = s
        .files
        .iter()
        .map(|p| ListingTableUrl::parse(p.to_string_lossy()))
        .collect::<Result<Vec<_>, _>>()?;
    let options = ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(".parquet");
    let config = ListingTableConfig::new_with_multi_paths(urls)
        .with_listing_options(options)
        .with_schema(s.schema.clone());
    let table: Arc<dyn TableProvider> = Arc::new(ListingTable::try_new(config)?);
    let table = match s.span {
        Some((start, end)) => Arc::new(Spanned::new(table, start, end)),
        None => table,
    };
    ctx.register_table(s.table, table)?;
    Ok(())
}

/// An error of the engine itself: the SQL, the plan, or an internal fault.
fn engine(e: &DataFusionError) -> BackendError {
    BackendError::new(BackendErrorKind::Engine, e.to_string())
}

/// Sorts an execution error: running out of memory means the answer is too large; errors that come from
/// reading (Parquet, Arrow, I/O, object store) may be a damaged or vanished file.
fn classify(e: DataFusionError) -> Failure {
    match e.find_root() {
        DataFusionError::ResourcesExhausted(m) => {
            Failure::Query(BackendError::new(BackendErrorKind::TooLarge, m.clone()))
        }
        DataFusionError::SQL(..)
        | DataFusionError::Plan(_)
        | DataFusionError::SchemaError(..)
        | DataFusionError::NotImplemented(_)
        | DataFusionError::Configuration(_)
        | DataFusionError::Internal(_) => Failure::Query(engine(&e)),
        _ => Failure::Data(BackendError::new(BackendErrorKind::Io, e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn only_statements_that_do_not_aggregate_filter_while_decoding() {
        let ctx = SessionContext::new();
        let schema = crate::schema::raw_schema();
        ctx.register_table(
            "flows",
            Arc::new(MemTable::try_new(schema, vec![vec![]]).unwrap()),
        )
        .unwrap();
        let decodes = |sql: &'static str| {
            let ctx = ctx.clone();
            async move { filters_while_decoding(ctx.sql(sql).await.unwrap().logical_plan()) }
        };
        let listing = "SELECT * FROM flows WHERE dst_port = 443 ORDER BY time_received DESC LIMIT 20";
        assert!(decodes(listing).await);
        let top = "SELECT dst_as, SUM(bytes) AS b FROM flows WHERE dst_port = 443 GROUP BY dst_as ORDER BY b";
        assert!(!decodes(top).await);
        assert!(!decodes("SELECT SUM(bytes) FROM (SELECT bytes FROM flows WHERE proto = 6) AS f").await);
    }
}
