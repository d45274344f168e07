//! Arrow result batches to the planner's rows of plain [`Value`]s.
//!
//! Results are small (the planner asks for top keys, buckets and pages of flows), so rows are built one
//! value at a time; each column is matched on its type once, not per value.

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{
    DataType, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, TimeUnit,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType,
    UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow::error::ArrowError;
use std::net::Ipv6Addr;
use weir_query::backend::Value;

/// The rows of `batches`, in order.
pub fn rows(batches: &[RecordBatch]) -> Result<Vec<Vec<Value>>, ArrowError> {
    let mut out = Vec::with_capacity(batches.iter().map(RecordBatch::num_rows).sum());
    for batch in batches {
        let first = out.len();
        out.extend((0..batch.num_rows()).map(|_| Vec::with_capacity(batch.num_columns())));
        for column in batch.columns() {
            append(column, &mut out[first..])?;
        }
    }
    Ok(out)
}

/// Appends the value of each row of `array` to the matching row of `rows`.
fn append(array: &ArrayRef, rows: &mut [Vec<Value>]) -> Result<(), ArrowError> {
    fn each(array: &dyn Array, rows: &mut [Vec<Value>], value: impl Fn(usize) -> Value) {
        for (i, row) in rows.iter_mut().enumerate() {
            row.push(if array.is_null(i) { Value::Null } else { value(i) });
        }
    }
    macro_rules! prim {
        ($t:ty, $variant:ident, $conv:ty) => {{
            let a = array.as_primitive::<$t>();
            each(array, rows, |i| Value::$variant(<$conv>::from(a.value(i))));
        }};
    }
    match array.data_type() {
        DataType::Null => each(array, rows, |_| Value::Null),
        DataType::Boolean => {
            let a = array.as_boolean();
            each(array, rows, |i| Value::U64(u64::from(a.value(i))));
        }
        DataType::UInt8 => prim!(UInt8Type, U64, u64),
        DataType::UInt16 => prim!(UInt16Type, U64, u64),
        DataType::UInt32 => prim!(UInt32Type, U64, u64),
        DataType::UInt64 => prim!(UInt64Type, U64, u64),
        DataType::Int8 => prim!(Int8Type, I64, i64),
        DataType::Int16 => prim!(Int16Type, I64, i64),
        DataType::Int32 => prim!(Int32Type, I64, i64),
        DataType::Int64 => prim!(Int64Type, I64, i64),
        DataType::Float32 => prim!(Float32Type, F64, f64),
        DataType::Float64 => prim!(Float64Type, F64, f64),
        DataType::Timestamp(unit, _) => {
            let per_unit: i64 = match unit {
                TimeUnit::Second => 1_000_000_000,
                TimeUnit::Millisecond => 1_000_000,
                TimeUnit::Microsecond => 1_000,
                TimeUnit::Nanosecond => 1,
            };
            let raw = |i: usize| match unit {
                TimeUnit::Second => array.as_primitive::<TimestampSecondType>().value(i),
                TimeUnit::Millisecond => array.as_primitive::<TimestampMillisecondType>().value(i),
                TimeUnit::Microsecond => array.as_primitive::<TimestampMicrosecondType>().value(i),
                TimeUnit::Nanosecond => array.as_primitive::<TimestampNanosecondType>().value(i),
            };
            each(array, rows, |i| {
                Value::Time(u64::try_from(raw(i).saturating_mul(per_unit)).unwrap_or(0))
            });
        }
        DataType::Utf8 => {
            let a = array.as_string::<i32>();
            each(array, rows, |i| Value::Str(a.value(i).to_owned()));
        }
        DataType::LargeUtf8 => {
            let a = array.as_string::<i64>();
            each(array, rows, |i| Value::Str(a.value(i).to_owned()));
        }
        DataType::Utf8View => {
            let a = array.as_string_view();
            each(array, rows, |i| Value::Str(a.value(i).to_owned()));
        }
        DataType::FixedSizeBinary(16) => {
            let a = array.as_fixed_size_binary();
            each(array, rows, |i| {
                let octets: [u8; 16] = a.value(i).try_into().unwrap_or([0; 16]);
                Value::Ip(Ipv6Addr::from(octets))
            });
        }
        DataType::FixedSizeBinary(w) if usize::try_from(*w) == Ok(weir_query::plan::NET_KEY_LEN) => {
            // A network's key (`engine/net.rs`), read back as the text every backend answers with.
            let a = array.as_fixed_size_binary();
            each(array, rows, |i| {
                match weir_query::plan::net_from_key(a.value(i)) {
                    Some((addr, len)) => Value::Str(format!("{addr}/{len}")),
                    None => Value::Null,
                }
            });
        }
        DataType::Binary => {
            let a = array.as_binary::<i32>();
            each(array, rows, |i| Value::Bytes(a.value(i).to_vec()));
        }
        DataType::LargeBinary => {
            let a = array.as_binary::<i64>();
            each(array, rows, |i| Value::Bytes(a.value(i).to_vec()));
        }
        DataType::List(item) if item.data_type() == &DataType::UInt32 => {
            let a = array.as_list::<i32>();
            each(array, rows, |i| {
                let values = a.value(i);
                Value::List(values.as_primitive::<UInt32Type>().values().to_vec())
            });
        }
        DataType::Dictionary(_, _) | DataType::BinaryView | DataType::Decimal128(..) => {
            let target = match array.data_type() {
                DataType::Dictionary(_, v) => v.as_ref().clone(),
                DataType::BinaryView => DataType::Binary,
                _ => DataType::Float64,
            };
            append(&cast(array, &target)?, rows)?;
        }
        other => {
            return Err(ArrowError::InvalidArgumentError(format!(
                "no plain value for results of type {other}"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{
        DictionaryArray, FixedSizeBinaryArray, Int64Array, ListBuilder, StringArray, TimestampSecondArray,
        UInt32Builder, UInt64Array,
    };
    use arrow::datatypes::{Field, Int32Type as Keys, Schema};

    use super::*;

    #[test]
    fn every_stored_type_becomes_a_plain_value() {
        let addr = weir_flow::ipv4([192, 0, 2, 1]);
        let mut list = ListBuilder::new(UInt32Builder::new());
        list.values().append_slice(&[3356, 174]);
        list.append(true);
        list.append(false);
        let dict: DictionaryArray<Keys> = vec!["dns", "dns"].into_iter().collect();
        let columns: Vec<ArrayRef> = vec![
            Arc::new(UInt64Array::from(vec![Some(7), None])),
            Arc::new(Int64Array::from(vec![-3, 4])),
            Arc::new(TimestampSecondArray::from(vec![60, 0])),
            Arc::new(StringArray::from(vec!["a", "b"])),
            Arc::new(FixedSizeBinaryArray::try_from_iter([addr.octets(), [0; 16]].into_iter()).unwrap()),
            Arc::new(list.finish()),
            Arc::new(dict),
        ];
        let fields: Vec<Field> = columns
            .iter()
            .enumerate()
            .map(|(i, c)| Field::new(format!("c{i}"), c.data_type().clone(), true))
            .collect();
        let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap();
        let rows = rows(&[batch]).unwrap();
        assert_eq!(
            rows[0],
            [
                Value::U64(7),
                Value::I64(-3),
                Value::Time(60_000_000_000),
                Value::Str("a".into()),
                Value::Ip(addr),
                Value::List(vec![3356, 174]),
                Value::Str("dns".into()),
            ]
        );
        assert_eq!(rows[1][0], Value::Null);
        assert_eq!(rows[1][5], Value::Null);
    }
}
