//! Rows waiting for the next flush, put in time order and cut at partition boundaries.

use arrow::array::{AsArray, RecordBatch};
use arrow::datatypes::{SchemaRef, TimestampNanosecondType};
use arrow::error::ArrowError;

use crate::layout::Granularity;
use crate::merge::{MergeError, Sink, Source, merge};
use crate::schema::TIME;

/// The time column of a batch (every stored schema has one).
fn times(batch: &RecordBatch) -> &[i64] {
    batch
        .column_by_name(TIME)
        .and_then(|c| c.as_primitive_opt::<TimestampNanosecondType>())
        .map_or(&[], |a| a.values())
}

/// `batches`, each sorted by time, as batches in time order overall: as they are when they follow each other
/// (the usual case: flows arrive in time order), else merged (zero-copy slices where the runs are long).
pub(crate) fn in_time_order(
    batches: Vec<RecordBatch>,
    schema: &SchemaRef,
) -> Result<Vec<RecordBatch>, ArrowError> {
    let batches: Vec<RecordBatch> = batches.into_iter().filter(|b| b.num_rows() > 0).collect();
    let ordered = batches
        .windows(2)
        .all(|w| times(&w[0]).last() <= times(&w[1]).first());
    if ordered {
        return Ok(batches);
    }
    let sources: Vec<Source> = batches
        .into_iter()
        .map(|b| Box::new(std::iter::once(Ok(b))) as Source)
        .collect();
    let mut out = Vec::new();
    merge(sources, schema, Sink::Collect(&mut out)).map_err(|e| match e {
        MergeError::Corrupt(_, e) | MergeError::Other(e) => ArrowError::ComputeError(e.to_string()),
    })?;
    Ok(out)
}

/// Cuts batches in time order into one run of slices per partition, in time order: `(partition start,
/// slices)`.
pub(crate) fn by_partition(
    batches: &[RecordBatch],
    granularity: Granularity,
) -> Vec<(u64, Vec<RecordBatch>)> {
    let mut out: Vec<(u64, Vec<RecordBatch>)> = Vec::new();
    for batch in batches {
        let t = times(batch);
        let mut at = 0;
        while at < t.len() {
            let start = granularity.start(u64::try_from(t[at]).unwrap_or(0));
            let end = i64::try_from(granularity.next(start)).unwrap_or(i64::MAX);
            let len = t[at..].partition_point(|&x| x < end);
            let slice = batch.slice(at, len);
            match out.last_mut() {
                Some((s, slices)) if *s == start => slices.push(slice),
                _ => out.push((start, vec![slice])),
            }
            at += len;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use weir_flow::{FlowBatch, FlowRecord};

    use super::*;
    use crate::convert::to_record_batch;
    use crate::schema::raw_schema;

    const HOUR: u64 = 3_600_000_000_000;

    fn batch(times: &[u64]) -> RecordBatch {
        let mut b = FlowBatch::new();
        for &t in times {
            b.push(&FlowRecord {
                time_received: t,
                bytes: t,
                ..FlowRecord::default()
            });
        }
        to_record_batch(&b).unwrap()
    }

    fn all_times(batches: &[RecordBatch]) -> Vec<i64> {
        batches.iter().flat_map(|b| times(b).to_vec()).collect()
    }

    #[test]
    fn batches_in_order_are_kept_as_they_are() {
        let input = vec![batch(&[1, 2, 3]), batch(&[3, 4])];
        let out = in_time_order(input.clone(), &raw_schema()).unwrap();
        assert_eq!(out, input);
    }

    #[test]
    fn overlapping_batches_are_merged_by_time() {
        let input = vec![
            batch(&[1, 5, 9, 10]),
            batch(&[2, 3, 11]),
            batch(&[]),
            batch(&[0, 12]),
        ];
        let out = in_time_order(input, &raw_schema()).unwrap();
        assert_eq!(all_times(&out), [0, 1, 2, 3, 5, 9, 10, 11, 12]);
        let bytes: Vec<u64> = out
            .iter()
            .flat_map(|b| {
                b.column_by_name("bytes")
                    .unwrap()
                    .as_primitive::<arrow::datatypes::UInt64Type>()
                    .values()
                    .to_vec()
            })
            .collect();
        assert_eq!(bytes, [0, 1, 2, 3, 5, 9, 10, 11, 12], "rows move whole");
    }

    #[test]
    fn cuts_at_partition_boundaries() {
        let h = 500_000 * HOUR;
        let input = [batch(&[h - 1, h, h + 5]), batch(&[h + 6, h + HOUR, h + 3 * HOUR])];
        let parts = by_partition(&input, Granularity::Hour);
        let starts: Vec<u64> = parts.iter().map(|(s, _)| *s).collect();
        assert_eq!(starts, [h - HOUR, h, h + HOUR, h + 3 * HOUR]);
        assert_eq!(all_times(&parts[1].1), [h as i64, h as i64 + 5, h as i64 + 6]);
        assert_eq!(parts[1].1.len(), 2, "slices of both batches");
    }
}
