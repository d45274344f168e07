//! Writing one Parquet file durably: `<name>.tmp`, fsync, rename, fsync of the directory.
//!
//! Until the rename, the file does not exist under its name, so a crash leaves either the whole file or a
//! `.tmp` that the next open deletes; the directory fsync makes the rename itself survive a power cut. Only
//! then are the file's flows acknowledged.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, Encoding, ZstdLevel};
use parquet::file::metadata::SortingColumn;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;

use crate::error::StoreError;
use crate::schema::TIME;

/// Rows per row group: large enough for good compression and few footer entries, small enough that a merge
/// holds one group of one file in memory at a time.
pub const ROW_GROUP_ROWS: usize = 1 << 20;

/// The writer properties of every file: zstd, page statistics (so that readers skip pages by time),
/// dictionaries (the default, which Parquet drops by itself for a column whose dictionary grows too large),
/// delta encoding for times (sorted, so deltas are small), and `time_received` declared as the sort order.
pub fn writer_properties(schema: &SchemaRef) -> WriterProperties {
    let mut props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_statistics_enabled(EnabledStatistics::Page);
    for (i, field) in schema.fields().iter().enumerate() {
        if matches!(field.data_type(), arrow::datatypes::DataType::Timestamp(..)) {
            let col = ColumnPath::from(field.name().as_str());
            props = props
                .set_column_dictionary_enabled(col.clone(), false)
                .set_column_encoding(col, Encoding::DELTA_BINARY_PACKED);
        }
        if field.name() == TIME {
            props = props.set_sorting_columns(Some(vec![SortingColumn {
                column_idx: i as i32,
                descending: false,
                nulls_first: false,
            }]));
        }
    }
    props.build()
}

/// A Parquet file being written under `<path>.tmp`. Dropping it before [`commit`](Self::commit) deletes the
/// temporary file, so a failed write (a full disk) leaves nothing behind.
#[derive(Debug)]
pub struct PartWriter {
    path: PathBuf,
    tmp: PathBuf,
    writer: Option<ArrowWriter<File>>,
    rows: u64,
}

impl PartWriter {
    /// Starts writing the file that will be at `path`, creating its directory if needed.
    pub fn create(path: PathBuf, schema: SchemaRef) -> Result<PartWriter, StoreError> {
        let dir = path.parent().unwrap_or(Path::new("."));
        create_dir_durably(dir)?;
        let mut tmp = path.clone().into_os_string();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        let file = File::create(&tmp).map_err(StoreError::io(&tmp))?;
        let props = writer_properties(&schema);
        let writer = match ArrowWriter::try_new(file, schema, Some(props)) {
            Ok(w) => w,
            Err(source) => {
                let _ = fs::remove_file(&tmp);
                return Err(StoreError::Parquet { path: tmp, source });
            }
        };
        Ok(PartWriter {
            path,
            tmp,
            writer: Some(writer),
            rows: 0,
        })
    }

    /// The path the file will have once committed.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Appends rows.
    pub fn write(&mut self, rb: &RecordBatch) -> Result<(), StoreError> {
        let Some(writer) = self.writer.as_mut() else {
            return Ok(());
        };
        writer.write(rb).map_err(|source| StoreError::Parquet {
            path: self.tmp.clone(),
            source,
        })?;
        self.rows += rb.num_rows() as u64;
        Ok(())
    }

    /// Finishes the file, makes it durable and gives it its name; returns its size in bytes.
    pub fn commit(mut self) -> Result<u64, StoreError> {
        let Some(mut writer) = self.writer.take() else {
            return Ok(0);
        };
        let tmp = self.tmp.clone();
        let done = (|| {
            writer.finish().map_err(|source| StoreError::Parquet {
                path: tmp.clone(),
                source,
            })?;
            let file = writer.inner();
            file.sync_all().map_err(StoreError::io(&tmp))?;
            let size = file.metadata().map_err(StoreError::io(&tmp))?.len();
            fs::rename(&tmp, &self.path).map_err(StoreError::io(&self.path))?;
            Ok(size)
        })();
        if done.is_err() {
            let _ = fs::remove_file(&tmp);
            return done;
        }
        sync_dir(self.path.parent().unwrap_or(Path::new(".")))?;
        done
    }
}

impl Drop for PartWriter {
    fn drop(&mut self) {
        if self.writer.take().is_some() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// Writes `batches` as the file at `path` and commits it; returns its size in bytes.
pub fn write_file(path: PathBuf, schema: SchemaRef, batches: &[RecordBatch]) -> Result<u64, StoreError> {
    let mut w = PartWriter::create(path, schema)?;
    for rb in batches {
        w.write(rb)?;
    }
    w.commit()
}

/// fsyncs a directory, so that the entries just created or renamed in it survive a crash.
pub fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(StoreError::io(dir))
}

/// Creates `dir` and its missing parents, fsyncing the parent of each directory created.
fn create_dir_durably(dir: &Path) -> Result<(), StoreError> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut missing = vec![dir];
    let mut up = dir.parent();
    while let Some(p) = up.filter(|p| !p.as_os_str().is_empty() && !p.is_dir()) {
        missing.push(p);
        up = p.parent();
    }
    fs::create_dir_all(dir).map_err(StoreError::io(dir))?;
    for d in missing.iter().rev() {
        sync_dir(
            d.parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new(".")),
        )?;
    }
    Ok(())
}

/// Bytes available to unprivileged writers on the file system holding `dir`.
pub fn free_bytes(dir: &Path) -> Result<u64, StoreError> {
    let st = nix::sys::statvfs::statvfs(dir).map_err(|e| StoreError::Io {
        path: dir.into(),
        source: std::io::Error::from(e),
    })?;
    Ok((st.blocks_available() as u64).saturating_mul(st.fragment_size() as u64))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::UInt64Array;
    use arrow::datatypes::{DataType, Field, Schema};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("weir-store-files-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    fn batch() -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![Field::new("bytes", DataType::UInt64, false)]));
        RecordBatch::try_new(schema, vec![Arc::new(UInt64Array::from(vec![1500u64, 40, 576]))]).unwrap()
    }

    #[test]
    fn committed_file_reads_back_and_leaves_no_tmp() {
        let dir = scratch("commit");
        let path = dir.join("flows/2026-11-22/13/part-0000000000000001.parquet");
        let rb = batch();
        let size = write_file(path.clone(), rb.schema(), std::slice::from_ref(&rb)).unwrap();
        assert_eq!(size, fs::metadata(&path).unwrap().len());
        let names: Vec<_> = fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, [path.file_name().unwrap()]);
        let read: Vec<RecordBatch> = ParquetRecordBatchReaderBuilder::try_new(File::open(&path).unwrap())
            .unwrap()
            .build()
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(read, [rb]);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn abandoned_writer_removes_its_tmp_file() {
        let dir = scratch("abandon");
        let path = dir.join("part-0000000000000001.parquet");
        let rb = batch();
        let mut w = PartWriter::create(path.clone(), rb.schema()).unwrap();
        w.write(&rb).unwrap();
        assert!(dir.join("part-0000000000000001.parquet.tmp").exists());
        drop(w);
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 0);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn reports_free_space() {
        assert!(free_bytes(&std::env::temp_dir()).unwrap() > 0);
        let err = free_bytes(Path::new("/nonexistent/weir")).unwrap_err();
        assert!(err.to_string().starts_with("/nonexistent/weir: "), "{err}");
    }
}
