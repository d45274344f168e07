//! `--out`: the flows written through Weir's embedded store, as the collector writes them: the raw table
//! partitioned by hour, the 1-minute and 1-hour rollups, parts merged.
//!
//! Parts are cut by size (a flush every million flows or so, the store's own threshold), not by time, so
//! the same seed lays out the same files however fast the machine is. Nothing is deleted for age: the
//! generated day may lie further back than a table's retention, and the store keeps it all.

use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use weir_flow::FlowBatch;
use weir_query::plan::Table;
use weir_store::{Store, StoreConfig};

/// The store being filled.
#[derive(Debug)]
pub struct StoreOutput {
    store: Store,
    dir: String,
}

impl StoreOutput {
    /// Opens a new store in `dir`, which must be empty or absent (flows generated twice into one store
    /// would be counted twice), with `tables` (their retention ignored).
    pub fn create(dir: &Path, tables: Vec<Table>) -> anyhow::Result<Self> {
        let name = dir.display().to_string();
        if let Ok(mut entries) = dir.read_dir()
            && entries.next().is_some()
        {
            anyhow::bail!("{name} is not empty: give a new directory for the store");
        }
        let tables = tables
            .into_iter()
            .map(|t| Table { retention: None, ..t })
            .collect();
        let config = StoreConfig {
            dir: dir.to_owned(),
            tables,
            flush_interval: Duration::MAX,
            ..StoreConfig::default()
        };
        let (store, _) = Store::open(config).with_context(|| format!("cannot open a store in {name}"))?;
        Ok(StoreOutput { store, dir: name })
    }

    /// Adds the flows of `batch`, writing parts as the buffer fills.
    pub fn write(&mut self, batch: &FlowBatch) -> anyhow::Result<()> {
        self.store
            .append(batch)
            .with_context(|| format!("cannot store flows in {}", self.dir))?;
        if self.store.flush_due() {
            self.store
                .flush()
                .with_context(|| format!("cannot write flows to {}", self.dir))?;
        }
        Ok(())
    }

    /// Writes what is buffered, merges the parts as a live collector's maintenance would have by the time
    /// it had received them all, and closes the store; the flows acknowledged.
    ///
    /// A collector flushes every second and merges every `merge_parts` (32) parts, so only its last half
    /// minute of flows is ever in parts. Parts cut by size cover far more: the hour in progress at the end
    /// of the generated day (when it ends now) would stay in a few large parts, which the collector would
    /// long have merged. So every partition is merged as a complete one is.
    pub fn finish(mut self) -> anyhow::Result<u64> {
        self.store
            .flush()
            .with_context(|| format!("cannot write flows to {}", self.dir))?;
        self.store
            .maintain(u64::MAX)
            .with_context(|| format!("cannot merge the parts of {}", self.dir))?;
        self.store
            .close()
            .with_context(|| format!("cannot close the store in {}", self.dir))
    }
}
