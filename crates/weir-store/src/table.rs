//! A table as the writer sees it: its description, where its files go and what they hold.

use std::path::{Path, PathBuf};

use arrow::datatypes::SchemaRef;
use weir_query::plan::Table;

use crate::layout::Granularity;
use crate::schema::table_schema;

/// One stored table.
#[derive(Debug, Clone)]
pub(crate) struct TableFiles {
    /// The table's description (name, resolution, retention).
    pub table: Table,
    /// `<store dir>/<table name>`.
    pub dir: PathBuf,
    /// How its partitions are cut.
    pub granularity: Granularity,
    /// The columns of its files.
    pub schema: SchemaRef,
}

impl TableFiles {
    pub fn new(store_dir: &Path, table: Table) -> TableFiles {
        let granularity = if table.is_raw() {
            Granularity::Hour
        } else {
            Granularity::for_resolution(table.resolution_ns())
        };
        TableFiles {
            schema: table_schema(&table),
            dir: store_dir.join(&table.name),
            table,
            granularity,
        }
    }
}
