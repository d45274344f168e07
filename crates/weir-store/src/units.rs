//! Flow times stored in the coarsest unit that holds them exactly.
//!
//! The schema's times are nanoseconds, but routers stamp a flow's start and end in milliseconds (NetFlow v5
//! and v9, most IPFIX). In nanoseconds the ends of consecutive flows differ by up to a quarter of a minute,
//! 10¹⁰ ns, so Parquet's delta encoding spends 35 bits on each and zstd finds little to take out; in
//! milliseconds the same differences take 15 bits. So a file stores each time column other than
//! `time_received` as Parquet `TIMESTAMP(MILLIS)` or `TIMESTAMP(MICROS)` when every value it holds is a whole
//! number of that unit, and in nanoseconds otherwise: nothing is rounded. `time_received` stays in
//! nanoseconds: it is the partitioning key that queries filter and files are pruned by, and being sorted it
//! costs a fraction of a byte a flow whatever its unit.
//!
//! Readers see the table's nanoseconds whatever a file holds: DataFusion casts each file's columns to the
//! schema the table is registered with, and merges read through [`convert`].

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, PrimitiveArray, RecordBatch};
use arrow::datatypes::{
    ArrowTimestampType, DataType, Field, Schema, SchemaRef, TimeUnit, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType,
};
use arrow::error::ArrowError;

use crate::schema::TIME;

/// Nanoseconds in each unit a file may store flow times in, coarsest first.
const UNITS: [(TimeUnit, i64); 3] = [
    (TimeUnit::Millisecond, 1_000_000),
    (TimeUnit::Microsecond, 1_000),
    (TimeUnit::Nanosecond, 1),
];

/// Whether a field of the table's schema may be stored in a coarser unit.
fn coarsens(field: &Field) -> bool {
    field.name() != TIME && matches!(field.data_type(), DataType::Timestamp(TimeUnit::Nanosecond, _))
}

fn nanos_per(unit: TimeUnit) -> i64 {
    UNITS.iter().find(|(u, _)| *u == unit).map_or(1, |(_, n)| *n)
}

/// `schema` with each coarsening field in `unit_of(field index)`.
fn with_units(schema: &SchemaRef, unit_of: impl Fn(usize) -> TimeUnit) -> SchemaRef {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| match f.data_type() {
            DataType::Timestamp(_, tz) if coarsens(f) => f
                .as_ref()
                .clone()
                .with_data_type(DataType::Timestamp(unit_of(i), tz.clone())),
            _ => f.as_ref().clone(),
        })
        .collect();
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

/// The schema of a file holding `batches` (of the table's `schema`): each time column other than
/// `time_received` in the coarsest unit that holds all its values exactly.
pub fn coarsest(schema: &SchemaRef, batches: &[RecordBatch]) -> SchemaRef {
    with_units(schema, |i| {
        let exact = |&(_, n): &&(TimeUnit, i64)| {
            batches.iter().all(|b| {
                b.column(i)
                    .as_primitive_opt::<TimestampNanosecondType>()
                    .is_some_and(|a| a.values().iter().all(|v| v % n == 0))
            })
        };
        UNITS.iter().find(exact).map_or(TimeUnit::Nanosecond, |(u, _)| *u)
    })
}

/// The schema of a file holding the rows of files of `schemas`: each time column in the finest unit any of
/// them stores it in (those values are exact in it), so that a merge never rounds.
pub fn finest(schema: &SchemaRef, schemas: &[SchemaRef]) -> SchemaRef {
    with_units(schema, |i| {
        let name = schema.field(i).name();
        schemas
            .iter()
            .filter_map(|s| match s.field_with_name(name).map(|f| f.data_type()) {
                Ok(DataType::Timestamp(u, _)) => Some(*u),
                _ => None,
            })
            .min_by_key(|u| nanos_per(*u))
            .unwrap_or(TimeUnit::Millisecond)
    })
}

/// `batch` with its columns in `schema`'s types, time columns converted between units: a table's rows as a
/// file of `schema` stores them, or a file's rows in the table's nanoseconds. Going to a coarser unit fails
/// unless every value is a whole number of it.
pub fn convert(batch: &RecordBatch, schema: &SchemaRef) -> Result<RecordBatch, ArrowError> {
    if batch.schema().fields() == schema.fields() {
        return Ok(batch.clone());
    }
    let columns = batch
        .columns()
        .iter()
        .zip(schema.fields())
        .map(|(c, f)| match (c.data_type(), f.data_type()) {
            (DataType::Timestamp(from, _), DataType::Timestamp(to, _)) if from != to => {
                rescale(c, nanos_per(*from), nanos_per(*to), f.name())
            }
            _ => Ok(c.clone()),
        })
        .collect::<Result<Vec<_>, _>>()?;
    RecordBatch::try_new(schema.clone(), columns)
}

/// A timestamp array of `from_ns`-nanosecond units in units of `to_ns` nanoseconds.
fn rescale(c: &ArrayRef, from_ns: i64, to_ns: i64, name: &str) -> Result<ArrayRef, ArrowError> {
    let values: Vec<i64> = raw(c).ok_or_else(|| ArrowError::CastError(format!("{name}: not a timestamp")))?;
    let scaled: Vec<i64> = if from_ns >= to_ns {
        let k = from_ns / to_ns;
        values
            .iter()
            .map(|&v| {
                v.checked_mul(k)
                    .ok_or_else(|| ArrowError::CastError(format!("{name}: {v} out of range")))
            })
            .collect::<Result<_, _>>()?
    } else {
        let k = to_ns / from_ns;
        if let Some(v) = values.iter().find(|&&v| v % k != 0) {
            return Err(ArrowError::CastError(format!(
                "{name}: {v} is not a whole number of units"
            )));
        }
        values.iter().map(|&v| v / k).collect()
    };
    let nulls = c.nulls().cloned();
    Ok(match to_ns {
        1_000_000 => Arc::new(PrimitiveArray::<TimestampMillisecondType>::new(
            scaled.into(),
            nulls,
        )),
        1_000 => Arc::new(PrimitiveArray::<TimestampMicrosecondType>::new(
            scaled.into(),
            nulls,
        )),
        _ => Arc::new(PrimitiveArray::<TimestampNanosecondType>::new(
            scaled.into(),
            nulls,
        )),
    })
}

fn raw(c: &ArrayRef) -> Option<Vec<i64>> {
    fn values<T: ArrowTimestampType>(c: &ArrayRef) -> Option<Vec<i64>> {
        c.as_primitive_opt::<T>().map(|a| a.values().to_vec())
    }
    values::<TimestampNanosecondType>(c)
        .or_else(|| values::<TimestampMicrosecondType>(c))
        .or_else(|| values::<TimestampMillisecondType>(c))
}

/// Whether two schemas have the same columns, allowing time columns in different units.
pub fn same_columns(a: &Schema, b: &Schema) -> bool {
    let kind = |t: &DataType| match t {
        DataType::Timestamp(_, tz) => DataType::Timestamp(TimeUnit::Nanosecond, tz.clone()),
        t => t.clone(),
    };
    a.fields().len() == b.fields().len()
        && a.fields()
            .iter()
            .zip(b.fields())
            .all(|(x, y)| x.name() == y.name() && kind(x.data_type()) == kind(y.data_type()))
}

#[cfg(test)]
mod tests {
    use arrow::array::UInt64Array;

    use super::*;

    fn schema() -> SchemaRef {
        let ns = DataType::Timestamp(TimeUnit::Nanosecond, None);
        Arc::new(Schema::new(vec![
            Field::new(TIME, ns.clone(), false),
            Field::new("flow_end", ns, false),
            Field::new("bytes", DataType::UInt64, false),
        ]))
    }

    fn batch(ends: &[i64]) -> RecordBatch {
        let times = PrimitiveArray::<TimestampNanosecondType>::from(vec![7_000_123; ends.len()]);
        let ends = PrimitiveArray::<TimestampNanosecondType>::from(ends.to_vec());
        let bytes = UInt64Array::from(vec![1; ends.len()]);
        RecordBatch::try_new(schema(), vec![Arc::new(times), Arc::new(ends), Arc::new(bytes)]).unwrap()
    }

    fn unit(schema: &SchemaRef, name: &str) -> DataType {
        schema.field_with_name(name).unwrap().data_type().clone()
    }

    #[test]
    fn flow_times_take_the_coarsest_exact_unit_and_read_back_the_same() {
        let ms = batch(&[5_000_000, 7_000_000]);
        let us = batch(&[5_000_000, 7_001_000]);
        let ns = batch(&[5_000_000, 7_000_001]);
        for (batches, want) in [
            (vec![ms.clone()], TimeUnit::Millisecond),
            (vec![ms.clone(), us.clone()], TimeUnit::Microsecond),
            (vec![us.clone(), ns.clone()], TimeUnit::Nanosecond),
        ] {
            let file = coarsest(&schema(), &batches);
            assert_eq!(unit(&file, "flow_end"), DataType::Timestamp(want, None));
            assert_eq!(unit(&file, TIME), unit(&schema(), TIME), "the receive time stays");
            for b in &batches {
                let stored = convert(b, &file).unwrap();
                assert_eq!(&convert(&stored, &schema()).unwrap(), b);
            }
        }
        let file = coarsest(&schema(), &[ms]);
        let err = convert(&ns, &file).unwrap_err();
        assert!(err.to_string().contains("7000001"), "{err}");
    }

    #[test]
    fn a_merge_keeps_the_finest_unit_of_its_inputs() {
        let ms = coarsest(&schema(), &[batch(&[5_000_000])]);
        let us = coarsest(&schema(), &[batch(&[5_001_000])]);
        let both = finest(&schema(), &[ms.clone(), us.clone()]);
        assert_eq!(unit(&both, "flow_end"), unit(&us, "flow_end"));
        assert_eq!(finest(&schema(), std::slice::from_ref(&ms)), ms);
        assert!(same_columns(&ms, &schema()) && same_columns(&us, &ms));
        let other = Schema::new(vec![Field::new(TIME, DataType::UInt64, false)]);
        assert!(!same_columns(&other, &schema()));
    }
}
