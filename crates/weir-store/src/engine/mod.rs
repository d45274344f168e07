//! The embedded query engine: the planner's SQL run by DataFusion over the store's Parquet files.
//!
//! [`Embedded`] implements [`Backend`]. For each statement it lists the table's files whose partitions
//! overlap the range (through [`layout::files`], which also leaves out inputs of a merge that finished),
//! hands exactly those to DataFusion and converts the result to plain rows. Queries run on a Tokio
//! runtime of its own, of at most two threads, so they never take the collector's threads; DataFusion
//! splits scans into as many partitions as there are cores, and its memory pool bounds what a query may
//! hold.
//!
//! A damaged file never fails a whole query: when reading fails, each listed file is read through
//! ([`check`]), the damaged ones are moved to `quarantine/` (and never read again), each is named in a
//! warning of the answer, and the statement runs again without them. Files that vanished between listing
//! and reading (a merge or retention removed them) fail the statement too ([`disk`] sees to it), and it runs
//! again over the partitions listed anew.
//!
//! [`Embedded::query`](Backend::query) blocks; from async code, call it on a blocking thread.

mod candidates;
mod check;
mod disk;
mod net;
mod session;
mod span;
mod values;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use thiserror::Error;
use weir_query::backend::{Backend, BackendError, BackendErrorKind, HeavyKeys, Rows, TimeRange};
use weir_query::filter::{DataFusion, Dialect};
use weir_query::plan::{Dim, Metric, Table};

use crate::{layout, schema};
use session::{Failure, Statement};

/// How many times a statement is run again after setting damaged or vanished files aside.
const ATTEMPTS: usize = 4;

/// Limits of the embedded engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineConfig {
    /// A statement running longer fails with [`BackendErrorKind::Timeout`] (default 60 s).
    pub time_limit: Duration,
    /// Memory DataFusion may hold for the sorts, groups and joins of all running statements together, in
    /// bytes (default 1 GiB); beyond it, it spills to the temporary directory or fails with
    /// [`BackendErrorKind::TooLarge`].
    pub memory_limit: usize,
    /// A statement returning more rows fails with [`BackendErrorKind::TooLarge`] (default 1 million).
    pub max_rows: usize,
    /// Threads of the engine's runtime (default: 2, or 1 on a single core).
    pub threads: usize,
    /// Partitions DataFusion splits scans into (default: the number of cores).
    pub partitions: usize,
}

impl Default for EngineConfig {
    fn default() -> EngineConfig {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        EngineConfig {
            time_limit: Duration::from_secs(60),
            memory_limit: 1 << 30,
            max_rows: 1_000_000,
            threads: cores.min(2),
            partitions: cores,
        }
    }
}

/// Why the engine could not start.
#[derive(Debug, Error)]
pub enum EngineError {
    /// The store's directory is missing or not a directory.
    #[error("no store at {}", .0.display())]
    NoStore(PathBuf),
    /// The runtime's threads could not start.
    #[error("cannot start the query threads: {0}")]
    Runtime(#[source] std::io::Error),
    /// DataFusion refused the configuration.
    #[error("cannot set up the query engine: {0}")]
    Setup(String),
}

/// The embedded store, queried with DataFusion.
pub struct Embedded {
    dir: PathBuf,
    config: EngineConfig,
    tables: Vec<Table>,
    /// Always `Some` until dropped.
    runtime: Option<tokio::runtime::Runtime>,
    env: Arc<RuntimeEnv>,
    /// The files' lists of their heaviest addresses.
    lists: candidates::Lists,
}

impl Drop for Embedded {
    /// Without waiting for the runtime's threads, so that the engine may be dropped from async code too.
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl fmt::Debug for Embedded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Embedded")
            .field("dir", &self.dir)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Embedded {
    /// Opens the store in `dir` with the default limits and tables.
    pub fn open(dir: impl AsRef<Path>) -> Result<Embedded, EngineError> {
        Embedded::with_config(dir, EngineConfig::default(), Table::defaults())
    }

    /// Opens the store in `dir` with these limits and tables (their retention decides which answers).
    pub fn with_config(
        dir: impl AsRef<Path>,
        config: EngineConfig,
        tables: Vec<Table>,
    ) -> Result<Embedded, EngineError> {
        let dir = dir.as_ref();
        let dir = dir
            .canonicalize()
            .ok()
            .filter(|d| d.is_dir())
            .ok_or_else(|| EngineError::NoStore(dir.to_path_buf()))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(config.threads.max(1))
            .thread_name("weir-query")
            .enable_time()
            .build()
            .map_err(EngineError::Runtime)?;
        let env = RuntimeEnvBuilder::new()
            .with_memory_limit(config.memory_limit, 1.0)
            .build_arc()
            .map_err(|e| EngineError::Setup(e.to_string()))?;
        env.register_object_store(
            ObjectStoreUrl::local_filesystem().as_ref(),
            Arc::new(disk::Disk::default()),
        );
        // Rollups added to a store that already held flows begin later than the others.
        let tables = tables
            .into_iter()
            .map(|t| Table {
                since: layout::read_since(&dir.join(&t.name)),
                ..t
            })
            .collect();
        Ok(Embedded {
            dir,
            config,
            tables,
            runtime: Some(runtime),
            env,
            lists: candidates::Lists::default(),
        })
    }

    /// The tables the store keeps, for the planner.
    pub fn tables(&self) -> Vec<Table> {
        self.tables.clone()
    }

    /// The store's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A path as the warnings show it: relative to the store.
    fn show(&self, path: &Path) -> String {
        path.strip_prefix(&self.dir).unwrap_or(path).display().to_string()
    }

    /// Reads every file of `files` through and quarantines the damaged ones, with a warning each.
    /// Returns whether anything changed (a file set aside, or one gone since it was listed).
    fn set_aside_damaged(
        &self,
        files: &[PathBuf],
        deadline: Instant,
        warnings: &mut Vec<String>,
    ) -> Result<bool, BackendError> {
        let mut changed = false;
        for file in files {
            if Instant::now() >= deadline {
                return Err(self.timeout());
            }
            let damage = match check::check(file) {
                Ok(None) => continue,
                Ok(Some(damage)) => damage,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    changed = true;
                    continue;
                }
                Err(e) => {
                    return Err(
                        BackendError::new(BackendErrorKind::Io, e.to_string()).in_file(self.show(file))
                    );
                }
            };
            let shown = self.show(file);
            layout::quarantine(&self.dir, file).map_err(|e| {
                BackendError::new(
                    BackendErrorKind::Corrupt,
                    format!("{}; setting it aside failed: {e}", damage.0),
                )
                .in_file(shown.clone())
            })?;
            tracing::warn!(file = %shown, damage = %damage.0, "Quarantined a damaged file.");
            warnings.push(format!("quarantined {shown}: {}", damage.0));
            changed = true;
        }
        Ok(changed)
    }

    fn timeout(&self) -> BackendError {
        BackendError::new(
            BackendErrorKind::Timeout,
            format!("still running after {} s", self.config.time_limit.as_secs_f64()),
        )
    }
}

impl Backend for Embedded {
    fn dialect(&self) -> &dyn Dialect {
        &DataFusion
    }

    fn query(&self, table: &Table, range: TimeRange, sql: &str) -> Result<Rows, BackendError> {
        let Some(runtime) = &self.runtime else {
            return Err(BackendError::new(
                BackendErrorKind::Engine,
                "the engine is shut down",
            ));
        };
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(BackendError::new(
                BackendErrorKind::Engine,
                "queries block: run them on a blocking thread, not in async code",
            ));
        }
        let schema = schema::table_schema(table);
        let deadline = Instant::now() + self.config.time_limit;
        let mut warnings = Vec::new();
        let mut failure = None;
        for _ in 0..ATTEMPTS {
            let (files, span) = layout::files_spanning(&self.dir, &table.name, range.from, range.to)
                .map_err(|e| BackendError::new(BackendErrorKind::Io, e.to_string()))?;
            let statement = Statement {
                table: &table.name,
                schema: schema.clone(),
                files: &files,
                span,
                sql,
                max_rows: self.config.max_rows,
            };
            let left = deadline.saturating_duration_since(Instant::now());
            let run = session::run(statement, self.env.clone(), self.config.partitions);
            let result = runtime
                .block_on(async { tokio::time::timeout(left, run).await })
                .map_err(|_| self.timeout())?;
            match result {
                Ok((columns, rows)) => {
                    return Ok(Rows {
                        columns,
                        rows,
                        warnings,
                    });
                }
                Err(Failure::Query(e)) => return Err(e),
                Err(Failure::Data(e)) => {
                    if !self.set_aside_damaged(&files, deadline, &mut warnings)? {
                        return Err(e);
                    }
                    failure = Some(e);
                }
            }
        }
        Err(failure.unwrap_or_else(|| BackendError::new(BackendErrorKind::Engine, "no attempt was made")))
    }

    fn heavy_keys(&self, table: &Table, range: TimeRange, dims: &[Dim], metric: Metric) -> Option<HeavyKeys> {
        let name = dims.iter().map(|d| d.name()).collect::<Vec<_>>().join(",");
        let (files, _) = layout::files_spanning(&self.dir, &table.name, range.from, range.to).ok()?;
        self.lists.candidates(&files, &name, metric)
    }
}
