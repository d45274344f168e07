//! `--parquet`: the flows as one Parquet file of the store's raw schema and writer settings, for other
//! engines (DuckDB, chDB, pandas) to read the very flows the store holds.

use std::path::Path;

use anyhow::Context as _;
use weir_flow::FlowBatch;
use weir_store::convert::to_record_batch;
use weir_store::files::PartWriter;
use weir_store::schema::raw_schema;

/// The file being written (under a temporary name until it is complete).
#[derive(Debug)]
pub struct ParquetOutput {
    writer: PartWriter,
}

impl ParquetOutput {
    /// Starts the file at `path`.
    pub fn create(path: &Path) -> anyhow::Result<Self> {
        // A bare file name is in the current directory, which the writer syncs once the file is renamed.
        let path = match path.parent() {
            Some(dir) if dir.as_os_str().is_empty() => Path::new(".").join(path),
            _ => path.to_owned(),
        };
        let writer = PartWriter::create(path.clone(), raw_schema())
            .with_context(|| format!("cannot create {}", path.display()))?;
        Ok(ParquetOutput { writer })
    }

    /// Adds the flows of `batch` (already in time order, so the file is too).
    pub fn write(&mut self, batch: &FlowBatch) -> anyhow::Result<()> {
        let rb = to_record_batch(batch)
            .with_context(|| format!("cannot convert flows for {}", self.writer.path().display()))?;
        self.writer.write(&rb)?;
        Ok(())
    }

    /// Completes the file; the flows and bytes written.
    pub fn finish(self) -> anyhow::Result<(u64, u64)> {
        let rows = self.writer.rows();
        Ok((rows, self.writer.commit()?))
    }
}
