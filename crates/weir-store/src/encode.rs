//! A Parquet file written with its columns encoded in parallel.
//!
//! Encoding is what a flush spends its time on: about fifty columns per flow, each hashed into a dictionary,
//! measured for statistics and compressed. Columns are independent until they are laid out in the file, so
//! each row group's columns are encoded on up to [`threads`] threads (which take the next column as they
//! finish one, since an address column costs ten times a column of empty strings), and the finished column
//! chunks are then appended in schema order. Small writes (a quiet flush, a few rollup rows) stay on the
//! calling thread, where starting threads would cost more than it saves.

use std::fs::File;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use parquet::arrow::arrow_writer::{ArrowColumnWriter, ArrowRowGroupWriterFactory, compute_leaves};
use parquet::arrow::{ArrowSchemaConverter, add_encoded_arrow_schema_to_metadata};
use parquet::errors::{ParquetError, Result};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;

/// Rows below which a write is encoded on the calling thread.
const PARALLEL_ROWS: usize = 16 * 1024;

/// How many threads encode a write: the cores, at most four.
fn threads() -> usize {
    thread::available_parallelism().map_or(1, usize::from).min(4)
}

/// The leaves of one field (one for every column of the store's schemas; more for nested types).
type FieldWriters = Vec<ArrowColumnWriter>;

/// Writes record batches of one schema to a Parquet file, cutting row groups at `max_rows`.
pub struct Encoder {
    file: SerializedFileWriter<File>,
    factory: ArrowRowGroupWriterFactory,
    schema: SchemaRef,
    /// The writers of the row group being written, by field.
    fields: Vec<Mutex<FieldWriters>>,
    /// How many leaf columns each field has, in schema order.
    leaves: Vec<usize>,
    group_rows: usize,
    groups: usize,
    max_rows: usize,
    threads: usize,
}

impl std::fmt::Debug for Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encoder")
            .field("group_rows", &self.group_rows)
            .field("groups", &self.groups)
            .finish_non_exhaustive()
    }
}

impl Encoder {
    /// Starts a file of `schema` in `file`, with the Arrow schema in its metadata (so that readers get
    /// back the same types) and row groups of at most `props`' maximum row count.
    pub fn new(file: File, schema: SchemaRef, mut props: WriterProperties) -> Result<Encoder> {
        let descr = ArrowSchemaConverter::new()
            .with_coerce_types(props.coerce_types())
            .convert(&schema)?;
        add_encoded_arrow_schema_to_metadata(&schema, &mut props);
        let max_rows = props.max_row_group_row_count().unwrap_or(usize::MAX).max(1);
        let file = SerializedFileWriter::new(file, descr.root_schema_ptr(), Arc::new(props))?;
        let factory = ArrowRowGroupWriterFactory::new(&file, schema.clone());
        let leaves = schema
            .fields()
            .iter()
            .map(|f| {
                descr
                    .columns()
                    .iter()
                    .filter(|c| c.path().parts().first() == Some(f.name()))
                    .count()
            })
            .collect();
        let mut encoder = Encoder {
            file,
            factory,
            schema,
            fields: Vec::new(),
            leaves,
            group_rows: 0,
            groups: 0,
            max_rows,
            threads: threads(),
        };
        encoder.fields = encoder.new_group()?;
        Ok(encoder)
    }

    /// Column writers for the next row group, grouped by field.
    fn new_group(&self) -> Result<Vec<Mutex<FieldWriters>>> {
        let mut writers = self.factory.create_column_writers(self.groups)?.into_iter();
        Ok(self
            .leaves
            .iter()
            .map(|&n| Mutex::new(writers.by_ref().take(n).collect()))
            .collect())
    }

    /// Encodes `batches` (of the encoder's schema), closing row groups as they fill up.
    pub fn write(&mut self, batches: &[RecordBatch]) -> Result<()> {
        let mut group: Vec<RecordBatch> = Vec::new();
        for batch in batches {
            let mut at = 0;
            while at < batch.num_rows() {
                let take = (batch.num_rows() - at).min(self.max_rows - self.group_rows);
                group.push(batch.slice(at, take));
                self.group_rows += take;
                at += take;
                if self.group_rows == self.max_rows {
                    self.encode(&std::mem::take(&mut group))?;
                    self.close_group()?;
                }
            }
        }
        self.encode(&group)
    }

    /// Encodes slices that all belong to the current row group.
    fn encode(&self, slices: &[RecordBatch]) -> Result<()> {
        let rows: usize = slices.iter().map(RecordBatch::num_rows).sum();
        if rows == 0 {
            return Ok(());
        }
        let next = AtomicUsize::new(0);
        let work = || -> Result<()> {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(writers) = self.fields.get(i) else {
                    return Ok(());
                };
                let mut writers = writers.lock().unwrap_or_else(PoisonError::into_inner);
                let field = self.schema.field(i);
                for slice in slices {
                    let leaves = compute_leaves(field, slice.column(i))?;
                    for (writer, leaf) in writers.iter_mut().zip(&leaves) {
                        writer.write(leaf)?;
                    }
                }
            }
        };
        if rows < PARALLEL_ROWS || self.threads < 2 {
            return work();
        }
        thread::scope(|s| {
            let helpers: Vec<_> = (1..self.threads).map(|_| s.spawn(work)).collect();
            let mut result = work();
            for helper in helpers {
                let done = helper
                    .join()
                    .unwrap_or_else(|_| Err(ParquetError::General("an encoding thread panicked".into())));
                result = result.and(done);
            }
            result
        })
    }

    /// Finishes the current row group's columns and appends them to the file as a row group.
    fn close_group(&mut self) -> Result<()> {
        let fields = std::mem::take(&mut self.fields);
        let mut group = self.file.next_row_group()?;
        for writers in fields {
            for writer in writers.into_inner().unwrap_or_else(PoisonError::into_inner) {
                writer.close()?.append_to_row_group(&mut group)?;
            }
        }
        group.close()?;
        self.groups += 1;
        self.group_rows = 0;
        self.fields = self.new_group()?;
        Ok(())
    }

    /// Closes the last row group and writes the footer, with `metadata` among its entries; returns the
    /// file, flushed.
    pub fn finish(mut self, metadata: Vec<KeyValue>) -> Result<File> {
        if self.group_rows > 0 {
            self.close_group()?;
        }
        metadata
            .into_iter()
            .for_each(|kv| self.file.append_key_value_metadata(kv));
        self.file.into_inner()
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use arrow::array::{ArrayRef, ListArray, StringArray, UInt64Array};
    use arrow::datatypes::{DataType, Field, Schema, UInt32Type};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use parquet::file::reader::{FileReader, SerializedFileReader};

    use super::*;

    fn scratch(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("weir-store-encode-{}-{name}.parquet", std::process::id()))
    }

    /// `rows` rows of a number, a string and a list, numbered from `first`.
    fn batch(schema: &SchemaRef, first: u64, rows: u64) -> RecordBatch {
        let numbers = UInt64Array::from_iter_values(first..first + rows);
        let names = StringArray::from_iter_values((first..first + rows).map(|i| format!("if-{}", i % 7)));
        let lists = ListArray::from_iter_primitive::<UInt32Type, _, _>(
            (first..first + rows).map(|i| Some((0..i % 3).map(|j| Some(j as u32)))),
        );
        let columns: Vec<ArrayRef> = vec![Arc::new(numbers), Arc::new(names), Arc::new(lists)];
        RecordBatch::try_new(schema.clone(), columns).unwrap()
    }

    fn schema() -> SchemaRef {
        let item = Arc::new(Field::new("item", DataType::UInt32, true));
        Arc::new(Schema::new(vec![
            Field::new("n", DataType::UInt64, false),
            Field::new("name", DataType::Utf8, false),
            Field::new("path", DataType::List(item), false),
        ]))
    }

    /// Writes `sizes`-row batches with row groups of `max_rows`; returns what reads back and the row
    /// groups' sizes.
    fn round_trip(
        name: &str,
        sizes: &[u64],
        max_rows: usize,
    ) -> (Vec<RecordBatch>, Vec<RecordBatch>, Vec<i64>) {
        let schema = schema();
        let mut first = 0;
        let batches: Vec<RecordBatch> = sizes
            .iter()
            .map(|&n| {
                first += n;
                batch(&schema, first - n, n)
            })
            .collect();
        let path = scratch(name);
        let props = WriterProperties::builder()
            .set_max_row_group_row_count(Some(max_rows))
            .build();
        let mut encoder = Encoder::new(File::create(&path).unwrap(), schema, props).unwrap();
        encoder.write(&batches[..1]).unwrap();
        encoder.write(&batches[1..]).unwrap();
        encoder.finish(Vec::new()).unwrap();
        let reader = SerializedFileReader::new(File::open(&path).unwrap()).unwrap();
        let groups = reader
            .metadata()
            .row_groups()
            .iter()
            .map(|g| g.num_rows())
            .collect();
        let read = ParquetRecordBatchReaderBuilder::try_new(File::open(&path).unwrap())
            .unwrap()
            .build()
            .unwrap()
            .collect::<std::result::Result<Vec<_>, _>>()
            .unwrap();
        let _ = std::fs::remove_file(&path);
        (batches, read, groups)
    }

    fn concat(batches: &[RecordBatch]) -> RecordBatch {
        arrow::compute::concat_batches(&batches[0].schema(), batches).unwrap()
    }

    #[test]
    fn row_groups_are_cut_at_the_maximum_across_writes() {
        let (written, read, groups) = round_trip("groups", &[70, 130, 50], 100);
        assert_eq!(groups, [100, 100, 50]);
        assert_eq!(concat(&read), concat(&written));
    }

    #[test]
    fn large_writes_encoded_on_several_threads_read_back_the_same() {
        let (written, read, groups) = round_trip("parallel", &[1000, 3 * PARALLEL_ROWS as u64, 77], 40_000);
        assert_eq!(groups, [40_000, 10_229]);
        assert_eq!(concat(&read), concat(&written));
    }
}
