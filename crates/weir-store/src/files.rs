//! Writing one Parquet file durably: `<name>.tmp`, fsync, rename, fsync of the directory.
//!
//! Until the rename, the file does not exist under its name, so a crash leaves either the whole file or a
//! `.tmp` that the next open deletes; the directory fsync makes the rename itself survive a power cut. Only
//! then are the file's flows acknowledged.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, BinaryArray, RecordBatch, StringArray};
use arrow::buffer::Buffer;
use arrow::datatypes::{DataType, SchemaRef};
use parquet::basic::{Compression, Encoding, ZstdLevel};
use parquet::errors::ParquetError;
use parquet::file::metadata::SortingColumn;
use parquet::file::properties::{EnabledStatistics, WriterProperties, WriterVersion};
use parquet::schema::types::ColumnPath;

use crate::encode::Encoder;
use crate::error::StoreError;
use crate::heavy;
use crate::layout::RAW_ORDER;
use crate::schema::TIME;
use crate::units;

/// Rows per row group of a part: large enough for good compression and few footer entries, small enough
/// that a flush holds little in memory.
pub const ROW_GROUP_ROWS: usize = 1 << 20;

/// Rows per row group of a merged file: an hour of a busy collector's flows in one group, so that each
/// column's dictionary (addresses, ports, ASes) is written once for the hour rather than once per group; the
/// encoded group is held in memory until it is complete (about fifty megabytes).
pub const MERGED_ROW_GROUP_ROWS: usize = 1 << 21;

/// Largest dictionary of a column chunk. Parquet's default (1 MiB) holds 65,536 addresses, a few minutes of a
/// busy network's distinct addresses; past it the writer falls back to plain values, which cost twice as
/// much. Dictionaries of up to two million addresses keep an hour of them dictionary-encoded.
const DICTIONARY_BYTES: usize = 32 << 20;

/// What a file is for, which decides how hard its encoding works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A flush's part: sorted by `time_received`, and encoded for speed alone (see [`flush_properties`]),
    /// since flushes are on the flows' path and parts are soon merged.
    Flush,
    /// A file written in one stream, sorted by `time_received`: encoded as merged files are, but with
    /// zstd's fastest level.
    Part,
    /// A merge's output, kept for the table's retention and read by every query over its time: compressed
    /// harder. `sorted_by_time` says whether its rows are in `time_received` order (rollups) or in the raw
    /// table's order (see `merge`), which Parquet's sort metadata cannot express.
    Merged { sorted_by_time: bool },
}

/// zstd's level for parts: its fastest, so that encoding keeps up with the collector.
const PART_LEVEL: i32 = 1;
/// zstd's level for merged files: about a tenth smaller than level 1 on flows, at twice its (background) time.
const MERGED_LEVEL: i32 = 9;

/// The writer properties of a file of `schema` for `purpose`: zstd, statistics per column chunk and per page
/// for the time (so that readers skip pages by time; the other columns are not sorted, and page statistics
/// of all fifty would cost a tenth of the encoding for pages that a filter seldom skips), and dictionaries
/// (except for the columns in `without_dictionary`) large enough for an hour of addresses.
///
/// Files are written in Parquet's format 2, whose writer dictionary-encodes fixed-size binary columns (the
/// addresses: dictionary indices take about a third of the plain values' room after compression); plain
/// values are what such a column falls back to if its dictionary overflows. Times are delta-encoded (sorted,
/// or nearly, so deltas are small), but for the receive time of merged raw files.
pub fn writer_properties(
    schema: &SchemaRef,
    without_dictionary: &[usize],
    purpose: Purpose,
) -> WriterProperties {
    let (level, rows) = match purpose {
        Purpose::Flush => return flush_properties(schema),
        Purpose::Part => (PART_LEVEL, ROW_GROUP_ROWS),
        Purpose::Merged { .. } => (MERGED_LEVEL, MERGED_ROW_GROUP_ROWS),
    };
    // A merged raw file, in the raw table's order rather than by time (see `merge.rs`).
    let raw_order = matches!(
        purpose,
        Purpose::Merged {
            sorted_by_time: false
        }
    );
    let level = ZstdLevel::try_new(level).unwrap_or_default();
    let mut props = WriterProperties::builder()
        .set_writer_version(WriterVersion::PARQUET_2_0)
        .set_compression(Compression::ZSTD(level))
        .set_max_row_group_row_count(Some(rows))
        .set_dictionary_page_size_limit(DICTIONARY_BYTES)
        .set_statistics_enabled(EnabledStatistics::Chunk);
    for (i, field) in schema.fields().iter().enumerate() {
        let col = ColumnPath::from(field.name().as_str());
        match field.data_type() {
            DataType::Timestamp(..) => {
                // Out of time order, a merged raw file's receive times jump back at every address, and
                // deltas take 40 bits; but flows arrive a datagram at a time, some twenty to a receive
                // time, so a dictionary of its times costs a quarter of that.
                let dictionary = raw_order && field.name() == TIME;
                props = props
                    .set_column_dictionary_enabled(col.clone(), dictionary)
                    .set_column_encoding(col.clone(), Encoding::DELTA_BINARY_PACKED);
            }
            DataType::FixedSizeBinary(_) => {
                // The address a merged raw file's rows are sorted by (after the exporter) comes in runs of
                // one value, and neighbouring values share their first bytes: zstd takes plain values to a
                // fifth less than dictionary indices and the dictionary.
                let dictionary = !(raw_order && field.name() == RAW_ORDER[1]);
                props = props
                    .set_column_dictionary_enabled(col.clone(), dictionary)
                    .set_column_encoding(col.clone(), Encoding::PLAIN);
            }
            _ => {}
        }
        if without_dictionary.contains(&i) {
            props = props.set_column_dictionary_enabled(col, false);
        }
        if field.name() == TIME {
            props = props.set_column_statistics_enabled(ColumnPath::from(TIME), EnabledStatistics::Page);
            if !raw_order {
                props = props.set_sorting_columns(sorted_by(i));
            }
        }
    }
    props.build()
}

/// The writer properties of a flush's part. A flush encodes every flow the collector receives, on the flows'
/// path: dictionaries, delta encoding, statistics of addresses and strings and zstd took three quarters of its
/// time, and the parts they shrank live only until their partition is merged. So every column is written as
/// plain values compressed with LZ4 (about 55 bytes a flow against 23), with statistics where they are cheap
/// and can skip something: per page for the time, per column chunk for numbers.
fn flush_properties(schema: &SchemaRef) -> WriterProperties {
    let mut props = WriterProperties::builder()
        .set_writer_version(WriterVersion::PARQUET_2_0)
        .set_compression(Compression::LZ4_RAW)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_dictionary_enabled(false)
        .set_encoding(Encoding::PLAIN)
        .set_statistics_enabled(EnabledStatistics::Chunk);
    for (i, field) in schema.fields().iter().enumerate() {
        let col = ColumnPath::from(field.name().as_str());
        if matches!(
            field.data_type(),
            DataType::FixedSizeBinary(_) | DataType::Utf8 | DataType::Binary | DataType::List(_)
        ) {
            props = props.set_column_statistics_enabled(col, EnabledStatistics::None);
        } else if field.name() == TIME {
            props = props
                .set_column_statistics_enabled(col, EnabledStatistics::Page)
                .set_sorting_columns(sorted_by(i));
        }
    }
    props.build()
}

/// The sort order a file declares: ascending by its column `i` (the receive time).
fn sorted_by(i: usize) -> Option<Vec<SortingColumn>> {
    Some(vec![SortingColumn {
        column_idx: i32::try_from(i).unwrap_or(i32::MAX),
        descending: false,
        nulls_first: false,
    }])
}

/// A Parquet file being written under `<path>.tmp`. Dropping it before [`commit`](Self::commit) deletes the
/// temporary file, so a failed write (a full disk) leaves nothing behind.
///
/// The Parquet writer is made at the first write, when the rows show which string and binary columns hold
/// only empty values: those are written without a dictionary (see [`allocated_values`] for why that
/// matters), the others with one.
///
/// Rows are given in the table's schema and stored in the file's (see [`crate::units`]): the table's unless
/// [`with_layout`](Self::with_layout) says otherwise.
#[derive(Debug)]
pub struct PartWriter {
    path: PathBuf,
    tmp: PathBuf,
    /// The columns as the file stores them.
    file_schema: SchemaRef,
    purpose: Purpose,
    state: State,
    rows: u64,
    committed: bool,
    /// The traffic per address, for the footer's lists of the heaviest ([`crate::heavy`]).
    heavy: Option<heavy::Counter>,
}

#[derive(Debug)]
enum State {
    /// Created, nothing written yet.
    Open(File),
    Writing(Box<Encoder>),
    /// Committed, or failed.
    Done,
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
        Ok(PartWriter {
            path,
            tmp,
            heavy: None,
            file_schema: schema,
            purpose: Purpose::Part,
            state: State::Open(file),
            rows: 0,
            committed: false,
        })
    }

    /// Stores the rows as `file_schema` (the table's schema, flow times in other units: see
    /// [`crate::units`]) says, encoded for `purpose`. Rows written later must fit `file_schema` exactly.
    pub fn with_layout(mut self, file_schema: SchemaRef, purpose: Purpose) -> PartWriter {
        self.file_schema = file_schema;
        self.purpose = purpose;
        self
    }

    /// The path the file will have once committed.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Makes the Parquet writer, with properties for the rows in `sample`.
    fn start(&mut self, sample: &[RecordBatch]) -> Result<(), StoreError> {
        if !matches!(self.state, State::Open(_)) {
            return Ok(());
        }
        let State::Open(file) = std::mem::replace(&mut self.state, State::Done) else {
            return Ok(());
        };
        let props = writer_properties(&self.file_schema, &empty_columns(sample), self.purpose);
        // Subnet pairs are listed in merged files only: counting them costs a flush as much again as the
        // addresses, on the flows' path.
        let pairs = matches!(self.purpose, Purpose::Merged { .. });
        self.heavy = sample
            .first()
            .and_then(|rb| heavy::Counter::for_schema(&rb.schema(), pairs));
        let writer =
            Encoder::new(file, self.file_schema.clone(), props).map_err(|source| StoreError::Parquet {
                path: self.tmp.clone(),
                source,
            })?;
        self.state = State::Writing(Box::new(writer));
        Ok(())
    }

    /// Appends rows.
    pub fn write(&mut self, rb: &RecordBatch) -> Result<(), StoreError> {
        self.write_all(std::slice::from_ref(rb))
    }

    /// Appends the rows of `batches`, in order, encoding them in one go (in parallel when there are many).
    pub fn write_all(&mut self, batches: &[RecordBatch]) -> Result<(), StoreError> {
        self.start(batches)?;
        let State::Writing(writer) = &mut self.state else {
            return Ok(());
        };
        if let Some(counter) = &mut self.heavy {
            batches.iter().for_each(|rb| counter.observe(rb));
        }
        let stored: Result<Vec<RecordBatch>, _> = batches
            .iter()
            .map(|rb| units::convert(&allocated_values(rb), &self.file_schema))
            .collect();
        let result = stored
            .map_err(|e| ParquetError::ArrowError(e.to_string()))
            .and_then(|batches| writer.write(&batches).map(|()| batches));
        let batches = match result {
            Ok(batches) => batches,
            Err(source) => {
                // A failed write may have encoded some columns and not others: the file cannot be finished.
                self.state = State::Done;
                return Err(StoreError::Parquet {
                    path: self.tmp.clone(),
                    source,
                });
            }
        };
        self.rows += batches.iter().map(|rb| rb.num_rows() as u64).sum::<u64>();
        Ok(())
    }

    /// Finishes the file, makes it durable and gives it its name; returns its size in bytes.
    pub fn commit(mut self) -> Result<u64, StoreError> {
        self.start(&[])?;
        let State::Writing(writer) = std::mem::replace(&mut self.state, State::Done) else {
            let failed = std::io::Error::other("an earlier write to this file failed");
            return Err(StoreError::Io {
                path: self.tmp.clone(),
                source: failed,
            });
        };
        let tmp = self.tmp.clone();
        let metadata = self
            .heavy
            .take()
            .map(heavy::Counter::metadata)
            .unwrap_or_default();
        let done = (|| {
            let file = writer.finish(metadata).map_err(|source| StoreError::Parquet {
                path: tmp.clone(),
                source,
            })?;
            file.sync_all().map_err(StoreError::io(&tmp))?;
            let size = file.metadata().map_err(StoreError::io(&tmp))?.len();
            fs::rename(&tmp, &self.path).map_err(StoreError::io(&self.path))?;
            Ok(size)
        })();
        // Not renamed: the temporary file is removed on drop.
        self.committed = done.is_ok();
        let size = done?;
        sync_dir(self.path.parent().unwrap_or(Path::new(".")))?;
        Ok(size)
    }
}

impl Drop for PartWriter {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// Indices of the string and binary columns that hold only empty values in every batch of `sample` (none
/// for an empty sample).
pub fn empty_columns(sample: &[RecordBatch]) -> Vec<usize> {
    let Some(first) = sample.first() else {
        return Vec::new();
    };
    (0..first.num_columns())
        .filter(|&i| {
            sample.iter().all(|rb| {
                let c = rb.column(i);
                match c.data_type() {
                    DataType::Utf8 => all_empty(c.as_string::<i32>().value_offsets()),
                    DataType::Binary => all_empty(c.as_binary::<i32>().value_offsets()),
                    _ => false,
                }
            })
        })
        .collect()
}

/// Whether offsets delimit only empty values (a slice of a larger array may share a non-empty buffer).
fn all_empty(offsets: &[i32]) -> bool {
    offsets.first() == offsets.last()
}

/// `rb` with every empty values buffer of its string and binary columns replaced by a real, empty
/// allocation.
///
/// An empty Arrow buffer points at a dangling address. The Parquet writer compares each string with the
/// page's minimum and maximum and with its dictionary entries, and glibc's AVX-512 `memcmp`, asked to
/// compare zero bytes at such an address, loads through a fully masked vector whose fault must be
/// suppressed by a microcode assist: about a microsecond per comparison, so that a column of empty strings
/// (every enrichment column before enrichment is configured) cost more than all the other columns together.
/// With memory behind the pointer the statistics take nanoseconds. The dictionary's own storage of a column
/// that only ever saw the empty string is dangling too, which is why [`PartWriter`] writes such columns
/// without a dictionary.
pub fn allocated_values(rb: &RecordBatch) -> std::borrow::Cow<'_, RecordBatch> {
    let dangling = |c: &ArrayRef| match c.data_type() {
        DataType::Utf8 => c.as_string::<i32>().values().is_empty(),
        DataType::Binary => c.as_binary::<i32>().values().is_empty(),
        _ => false,
    };
    if !rb.columns().iter().any(dangling) {
        return std::borrow::Cow::Borrowed(rb);
    }
    let columns: Vec<ArrayRef> = rb
        .columns()
        .iter()
        .map(|c| -> ArrayRef {
            if !dangling(c) {
                return c.clone();
            }
            let values = Buffer::from_vec(Vec::<u8>::with_capacity(64));
            match c.data_type() {
                DataType::Utf8 => {
                    let (offsets, _, nulls) = c.as_string::<i32>().clone().into_parts();
                    Arc::new(StringArray::new(offsets, values, nulls))
                }
                _ => {
                    let (offsets, _, nulls) = c.as_binary::<i32>().clone().into_parts();
                    Arc::new(BinaryArray::new(offsets, values, nulls))
                }
            }
        })
        .collect();
    // Same schema, same lengths: only the buffers behind empty values changed.
    std::borrow::Cow::Owned(RecordBatch::try_new(rb.schema(), columns).unwrap_or_else(|_| rb.clone()))
}

/// Writes `batches` as a flush's part at `path` (see [`flush_properties`]) and commits it; returns its size in bytes.
/// Flow times are stored in the coarsest unit that holds them all exactly.
pub fn write_file(path: PathBuf, schema: SchemaRef, batches: &[RecordBatch]) -> Result<u64, StoreError> {
    let file_schema = units::coarsest(&schema, batches);
    let mut w = PartWriter::create(path, schema)?.with_layout(file_schema, Purpose::Flush);
    w.write_all(batches)?;
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
    use arrow::array::UInt64Array;
    use arrow::datatypes::{DataType, Field, Schema};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("weir-store-files-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    fn read(path: &Path) -> Vec<RecordBatch> {
        let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap()).unwrap();
        reader.build().unwrap().collect::<Result<_, _>>().unwrap()
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
        assert_eq!(read(&path), [rb]);
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
    fn columns_of_empty_strings_are_written_without_a_dictionary() {
        use arrow::array::AsArray;
        use parquet::file::reader::{FileReader, SerializedFileReader};
        let dir = scratch("empty-strings");
        let schema = Arc::new(Schema::new(vec![
            Field::new("empty", DataType::Utf8, false),
            Field::new("names", DataType::Utf8, false),
        ]));
        let empty = Arc::new(StringArray::from(vec![""; 1000]));
        let names = Arc::new(StringArray::from_iter_values(
            (0..1000).map(|i| ["xe-0/0/1", ""][i % 2]),
        ));
        let rb = RecordBatch::try_new(schema.clone(), vec![empty, names]).unwrap();
        assert_eq!(empty_columns(std::slice::from_ref(&rb)), [0]);
        let fixed = allocated_values(&rb);
        assert!(matches!(fixed, std::borrow::Cow::Owned(_)));
        assert_eq!(fixed.as_ref(), &rb, "same values");
        assert_eq!(fixed.column(0).as_string::<i32>().values().capacity(), 64);
        let path = dir.join("part-0000000000000001.parquet");
        let mut w = PartWriter::create(path.clone(), schema).unwrap();
        w.write(&rb).unwrap();
        w.commit().unwrap();
        let reader = SerializedFileReader::new(File::open(&path).unwrap()).unwrap();
        let dictionary = |i: usize| {
            reader
                .metadata()
                .row_group(0)
                .column(i)
                .dictionary_page_offset()
                .is_some()
        };
        assert!(!dictionary(0) && dictionary(1));
        assert_eq!(read(&path), [rb]);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn flush_parts_are_plain_lz4_with_statistics_of_time_and_numbers_only() {
        use parquet::file::page_index::column_index::ColumnIndexMetaData;
        use parquet::file::reader::{FileReader, SerializedFileReader};
        use parquet::file::serialized_reader::ReadOptionsBuilder;
        let dir = scratch("flush-part");
        let schema = Arc::new(Schema::new(vec![
            Field::new(
                TIME,
                DataType::Timestamp(arrow::datatypes::TimeUnit::Nanosecond, None),
                false,
            ),
            Field::new("addr", DataType::FixedSizeBinary(16), false),
            Field::new("name", DataType::Utf8, false),
            Field::new("bytes", DataType::UInt64, false),
        ]));
        let rows = 3000;
        let rb = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(arrow::array::TimestampNanosecondArray::from_iter_values(0..rows)),
                Arc::new(
                    arrow::array::FixedSizeBinaryArray::try_from_iter((0..rows).map(|i| [(i % 7) as u8; 16]))
                        .unwrap(),
                ),
                Arc::new(StringArray::from_iter_values(
                    (0..rows).map(|i| ["ae0", "xe-0/0/1"][(i % 2) as usize]),
                )),
                Arc::new(UInt64Array::from_iter_values((0..rows).map(|i| i as u64 * 3))),
            ],
        )
        .unwrap();
        let path = dir.join("part-0000000000000001.parquet");
        write_file(path.clone(), schema, std::slice::from_ref(&rb)).unwrap();
        let reader = SerializedFileReader::new(File::open(&path).unwrap()).unwrap();
        let group = reader.metadata().row_group(0);
        for (i, column) in group.columns().iter().enumerate() {
            assert_eq!(column.compression(), Compression::LZ4_RAW, "column {i}");
            assert!(
                column.dictionary_page_offset().is_none(),
                "column {i}: no dictionary"
            );
            assert!(
                column
                    .encodings()
                    .all(|e| e == Encoding::PLAIN || e == Encoding::RLE),
                "column {i}: plain values"
            );
            let statistics = column.statistics().is_some();
            assert_eq!(
                statistics,
                i == 0 || i == 3,
                "column {i}: statistics of the time and numbers only"
            );
        }
        let options = ReadOptionsBuilder::new().with_page_index().build();
        let indexed = SerializedFileReader::new_with_options(File::open(&path).unwrap(), options).unwrap();
        let index = indexed.metadata().column_index().expect("page statistics");
        assert!(
            !matches!(index[0][0], ColumnIndexMetaData::NONE),
            "page statistics of the time"
        );
        assert!(
            matches!(index[0][1], ColumnIndexMetaData::NONE),
            "none of the addresses"
        );
        assert_eq!(
            arrow::compute::concat_batches(&rb.schema(), &read(&path)).unwrap(),
            rb
        );
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn reports_free_space() {
        assert!(free_bytes(&std::env::temp_dir()).unwrap() > 0);
        let err = free_bytes(Path::new("/nonexistent/weir")).unwrap_err();
        assert!(err.to_string().starts_with("/nonexistent/weir: "), "{err}");
    }
}
