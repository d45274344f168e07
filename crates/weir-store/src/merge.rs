//! Merging files of one partition into one, streaming.
//!
//! Every input is sorted by `time_received`, or at least by [`RAW_BUCKET`] for merged raw files, so the
//! inputs are read side by side a batch at a time and merged by time (a k-way merge that moves whole runs:
//! parts written one after the other barely overlap, so runs are long and mostly passed on as zero-copy
//! slices). Memory holds one batch per input and one output chunk, never a whole file or partition. Rollup
//! rows are re-aggregated, and a time bucket is written once every input has moved past it.
//!
//! Raw rows are merged by [`RAW_BUCKET`] of time, and each bucket's rows are sorted by exporter, destination,
//! source and time ([`RAW_ORDER`]) before they are written. Within a bucket, flows to one address then follow
//! each other, so the columns that depend on the destination (its AS, name, country and prefix, the AS path,
//! the output interface and next hops) become long runs that cost almost nothing, and both addresses'
//! dictionary indices repeat. Times pay for it, being in order only bucket by bucket, which is why buckets
//! are short: queries still skip pages and row groups by time, ten minutes at a time, within the hour of a
//! partition.

use std::fs::File;
use std::path::{Path, PathBuf};

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::buffer::ScalarBuffer;
use arrow::compute::{SortColumn, concat, interleave_record_batch, lexsort_to_indices};
use arrow::datatypes::{SchemaRef, TimestampNanosecondType};
use arrow::error::ArrowError;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::error::StoreError;
use crate::files::PartWriter;
use crate::layout::{RAW_BUCKET, RAW_ORDER};
use crate::rollup::Rollup;
use crate::schema::TIME;
use crate::units;

/// Rows read from an input at a time.
const READ_ROWS: usize = 8192;
/// Rows gathered before they are passed on.
const CHUNK_ROWS: usize = 65_536;
/// Runs at least this long on average are passed on as slices; shorter ones are gathered into one batch.
const LONG_RUN: usize = 256;
/// Most rows of one bucket sorted at once: a bucket with more is written as several sorted runs, so that
/// a busy network's merge holds a bounded number of rows in memory (twice about a hundred megabytes: the
/// rows read, and the same sorted).
const SORT_ROWS: usize = 1 << 18;

/// Why a merge stopped.
#[derive(Debug)]
pub(crate) enum MergeError {
    /// An input could not be read as Parquet: it belongs in quarantine.
    Corrupt(PathBuf, StoreError),
    /// Anything else (the output could not be written, an input has another schema); retried later.
    Other(StoreError),
}

/// Where merged rows go.
pub(crate) enum Sink<'a> {
    /// Kept in memory, as zero-copy slices where runs are long.
    Collect(&'a mut Vec<RecordBatch>),
    /// Straight into the output file (raw table).
    Raw(&'a mut PartWriter),
    /// Re-aggregated at the rollup's resolution, then into the output file.
    Rollup(&'a mut PartWriter, Box<Rollup>),
}

/// Batches of one input, in time order.
pub(crate) type Source = Box<dyn Iterator<Item = Result<RecordBatch, MergeError>>>;

/// Opens a file as a merge input, checking that it has the table's columns; its rows come in the table's
/// `schema` (flow times in nanoseconds). Returns the file's own schema beside it.
pub(crate) fn file_source(path: &Path, schema: &SchemaRef) -> Result<(Source, SchemaRef), MergeError> {
    let file = File::open(path).map_err(|e| MergeError::Other(StoreError::io(path)(e)))?;
    let corrupt = |source| {
        MergeError::Corrupt(
            path.into(),
            StoreError::Parquet {
                path: path.into(),
                source,
            },
        )
    };
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(corrupt)?;
    let file_schema = builder.schema().clone();
    if !units::same_columns(&file_schema, schema) {
        let source = ArrowError::SchemaError("columns differ from the table's".into());
        return Err(MergeError::Other(StoreError::Arrow {
            path: path.into(),
            source,
        }));
    }
    let reader = builder.with_batch_size(READ_ROWS).build().map_err(corrupt)?;
    let path = path.to_path_buf();
    let table = schema.clone();
    let source = reader.map(move |r| {
        let corrupt = |source| {
            MergeError::Corrupt(
                path.clone(),
                StoreError::Arrow {
                    path: path.clone(),
                    source,
                },
            )
        };
        units::convert(&r.map_err(corrupt)?, &table).map_err(|source| {
            MergeError::Other(StoreError::Arrow {
                path: path.clone(),
                source,
            })
        })
    });
    Ok((Box::new(source), file_schema))
}

/// One input, positioned at its next row.
struct Input {
    source: Source,
    batch: RecordBatch,
    times: ScalarBuffer<i64>,
    pos: usize,
    /// Index of `batch` in the chunk being gathered, if it is there already.
    in_chunk: Option<usize>,
}

impl Input {
    fn new(source: Source, schema: &SchemaRef) -> Result<Option<Input>, MergeError> {
        let mut input = Input {
            source,
            batch: RecordBatch::new_empty(schema.clone()),
            times: ScalarBuffer::from(Vec::new()),
            pos: 0,
            in_chunk: None,
        };
        Ok(input.next_batch()?.then_some(input))
    }

    /// Loads the next non-empty batch; false at the end of the input.
    fn next_batch(&mut self) -> Result<bool, MergeError> {
        for batch in self.source.by_ref() {
            let batch = batch?;
            if batch.num_rows() == 0 {
                continue;
            }
            let times = batch
                .column_by_name(TIME)
                .and_then(|c| c.as_primitive_opt::<TimestampNanosecondType>())
                .map(|a| a.values().clone())
                .ok_or_else(|| {
                    let source = ArrowError::SchemaError(format!("no {TIME} column of nanosecond times"));
                    MergeError::Other(StoreError::Arrow {
                        path: PathBuf::new(),
                        source,
                    })
                })?;
            (self.batch, self.times, self.pos, self.in_chunk) = (batch, times, 0, None);
            return Ok(true);
        }
        Ok(false)
    }

    fn head(&self) -> i64 {
        self.times[self.pos]
    }
}

/// Rows gathered from the inputs, in time order, as runs of their batches.
#[derive(Default)]
struct Chunk {
    batches: Vec<RecordBatch>,
    runs: Vec<(usize, usize, usize)>,
    rows: usize,
}

/// Merges `inputs` (each sorted by time, or by [`RAW_BUCKET`] for [`Sink::Raw`]) into `sink`; returns the
/// rows read.
pub(crate) fn merge(inputs: Vec<Source>, schema: &SchemaRef, mut sink: Sink<'_>) -> Result<u64, MergeError> {
    let mut open = Vec::with_capacity(inputs.len());
    for source in inputs {
        open.extend(Input::new(source, schema)?);
    }
    // Inputs are merged by `key` of their times: the time itself, or the raw table's bucket.
    let (width, limit) = match sink {
        Sink::Raw(_) => (RAW_BUCKET, SORT_ROWS),
        _ => (1, CHUNK_ROWS),
    };
    let key = |t: i64| t.div_euclid(width);
    let mut chunk = Chunk::default();
    let mut rows = 0u64;
    while !open.is_empty() {
        let (mut best, mut bound) = (0, i64::MAX);
        for i in 1..open.len() {
            let (k, kb) = (key(open[i].head()), key(open[best].head()));
            if k < kb {
                bound = kb;
                best = i;
            } else {
                bound = bound.min(k);
            }
        }
        let input = &mut open[best];
        let head = key(input.head());
        if width > 1 {
            // A run stays in one bucket, so that a chunk holds one bucket's rows to sort.
            bound = bound.min(head);
        }
        let end = input.pos + input.times[input.pos..].partition_point(|&t| key(t) <= bound);
        let b = *input.in_chunk.get_or_insert_with(|| {
            chunk.batches.push(input.batch.clone());
            chunk.batches.len() - 1
        });
        chunk.runs.push((b, input.pos, end - input.pos));
        chunk.rows += end - input.pos;
        rows += (end - input.pos) as u64;
        input.pos = end;
        if end == input.times.len() && !input.next_batch()? {
            open.swap_remove(best);
        }
        let next = open.iter().map(Input::head).min();
        if chunk.rows >= limit || (width > 1 && next.map(key) != Some(head)) {
            emit(std::mem::take(&mut chunk), &mut sink, next)?;
            open.iter_mut().for_each(|i| i.in_chunk = None);
        }
    }
    emit(chunk, &mut sink, None)?;
    Ok(rows)
}

/// The rows of `batches` as one batch sorted by [`RAW_ORDER`] (those of its columns the schema has). Only
/// the key columns are put together to be sorted; the rows are then gathered from `batches` in one copy.
fn sort_raw(batches: &[RecordBatch]) -> Result<RecordBatch, ArrowError> {
    let keys = RAW_ORDER
        .iter()
        .filter_map(|name| {
            let columns: Option<Vec<&dyn Array>> = batches
                .iter()
                .map(|b| b.column_by_name(name).map(|c| c.as_ref()))
                .collect();
            columns.filter(|c| !c.is_empty())
        })
        .map(|columns| {
            Ok(SortColumn {
                values: concat(&columns)?,
                options: None,
            })
        })
        .collect::<Result<Vec<_>, ArrowError>>()?;
    let mut rows = Vec::with_capacity(batches.iter().map(RecordBatch::num_rows).sum());
    for (b, batch) in batches.iter().enumerate() {
        rows.extend((0..batch.num_rows()).map(|r| (b, r)));
    }
    let order: Vec<(usize, usize)> = if keys.is_empty() {
        rows
    } else {
        let sorted = lexsort_to_indices(&keys, None)?;
        sorted.values().iter().map(|&i| rows[i as usize]).collect()
    };
    let refs: Vec<&RecordBatch> = batches.iter().collect();
    interleave_record_batch(&refs, &order)
}

/// Passes a chunk on; `next` is the earliest time any input still holds (`None`: the inputs are done).
fn emit(chunk: Chunk, sink: &mut Sink<'_>, next: Option<i64>) -> Result<(), MergeError> {
    match sink {
        Sink::Collect(out) => {
            out.extend(gather(chunk).map_err(|source| arrow_error_at(Path::new(""), source))?);
            Ok(())
        }
        Sink::Raw(writer) => {
            // One bucket's rows (or part of them), sorted in one gathering copy.
            let runs: Vec<RecordBatch> = chunk
                .runs
                .iter()
                .map(|&(b, start, len)| chunk.batches[b].slice(start, len))
                .collect();
            if runs.is_empty() {
                return Ok(());
            }
            let sorted = sort_raw(&runs).map_err(|source| arrow_error_at(writer.path(), source))?;
            writer.write(&sorted).map_err(MergeError::Other)
        }
        Sink::Rollup(writer, rollup) => {
            let at = |source| arrow_error_at(writer.path(), source);
            for b in &gather(chunk).map_err(at)? {
                rollup.add_record_batch(b).map_err(at)?;
            }
            let done = match next {
                Some(t) => rollup.take_before(u64::try_from(t).unwrap_or(0)),
                None => rollup.finish(),
            }
            .map_err(at)?;
            if done.num_rows() > 0 {
                writer.write(&done).map_err(MergeError::Other)?;
            }
            Ok(())
        }
    }
}

/// A chunk's rows in order: its runs as zero-copy slices when they are long, else gathered into one batch.
fn gather(chunk: Chunk) -> Result<Vec<RecordBatch>, ArrowError> {
    if chunk.runs.len() * LONG_RUN <= chunk.rows {
        return Ok(chunk
            .runs
            .iter()
            .map(|&(b, start, len)| chunk.batches[b].slice(start, len))
            .collect());
    }
    let refs: Vec<&RecordBatch> = chunk.batches.iter().collect();
    let indices: Vec<(usize, usize)> = chunk
        .runs
        .iter()
        .flat_map(|&(b, start, len)| (start..start + len).map(move |r| (b, r)))
        .collect();
    Ok(vec![interleave_record_batch(&refs, &indices)?])
}

fn arrow_error_at(path: &Path, source: ArrowError) -> MergeError {
    MergeError::Other(StoreError::Arrow {
        path: path.into(),
        source,
    })
}
