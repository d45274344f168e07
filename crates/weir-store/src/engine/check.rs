//! Finding the damaged file among those a query read.
//!
//! When a query fails while reading data, the engine's error rarely says which file was at fault. Each
//! file is then read in three passes, each cheaper than the next and run only if the previous one passed:
//! the footer (metadata, schema), every page of every column chunk (headers, checksums, decompression),
//! and the whole file decoded to Arrow (values). The first failure names the row group and column when
//! the pass knows them.

use std::fs::File;
use std::path::Path;

use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::file::reader::{FileReader, SerializedFileReader};

/// What is wrong with a file: where, and the reader's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damage(pub String);

/// Reads `path` through; `Ok(None)` when it is sound, `Ok(Some(damage))` when it is not, `Err` when it
/// cannot be opened at all (it vanished: a merge or retention removed it since it was listed).
pub fn check(path: &Path) -> std::io::Result<Option<Damage>> {
    let file = File::open(path)?;
    let reader = match SerializedFileReader::new(file.try_clone()?) {
        Ok(r) => r,
        Err(e) => return Ok(Some(Damage(format!("footer: {e}")))),
    };
    let schema = reader.metadata().file_metadata().schema_descr_ptr();
    for g in 0..reader.num_row_groups() {
        let group = match reader.get_row_group(g) {
            Ok(group) => group,
            Err(e) => return Ok(Some(Damage(format!("row group {g}: {e}")))),
        };
        for c in 0..group.num_columns() {
            let column = schema.column(c).path().string();
            let at =
                |e: parquet::errors::ParquetError| Damage(format!("row group {g}, column `{column}`: {e}"));
            let pages = match group.get_column_page_reader(c) {
                Ok(pages) => pages,
                Err(e) => return Ok(Some(at(e))),
            };
            for page in pages {
                if let Err(e) = page {
                    return Ok(Some(at(e)));
                }
            }
        }
    }
    let decoded = ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(|b| b.build())
        .map_err(|e| Damage(format!("decoding: {e}")));
    match decoded {
        Err(d) => Ok(Some(d)),
        Ok(batches) => Ok(batches
            .into_iter()
            .find_map(|b| b.err())
            .map(|e| Damage(format!("decoding: {e}")))),
    }
}
