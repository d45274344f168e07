//! The Arrow schemas of the stored tables, generated from [`weir_flow::COLUMNS`].
//!
//! The raw table has every column; a rollup table keeps `time_received` (floored to its resolution), the
//! columns marked `rollup` (or those of them its [`Table`] lists) as group keys, and `bytes`, `packets` and
//! `flows` as sums. Rollup columns keep the
//! raw table's names and types, so one query runs unchanged against either. Every column is non-nullable: the
//! flow schema has a zero value for every kind, and a null would be a second way to say "unknown".

use std::sync::{Arc, LazyLock};

use arrow::datatypes::{DataType, Field, FieldRef, Schema, SchemaRef, TimeUnit};
use weir_flow::{COLUMNS, Column, FIELDS, Kind};
use weir_query::plan::Table;

/// The columns a rollup table sums rather than groups by.
pub const SUMS: [&str; 3] = ["bytes", "packets", "flows"];

/// The name of the time column, the partitioning and sort key of every table.
pub const TIME: &str = "time_received";

/// The Arrow type that stores a column of `kind`.
pub fn data_type(kind: Kind) -> DataType {
    match kind {
        Kind::Time => DataType::Timestamp(TimeUnit::Nanosecond, None),
        Kind::U8 => DataType::UInt8,
        Kind::U16 => DataType::UInt16,
        Kind::U32 => DataType::UInt32,
        Kind::U64 | Kind::Mac => DataType::UInt64,
        Kind::Ip => DataType::FixedSizeBinary(16),
        Kind::Str => DataType::Utf8,
        Kind::U32List => DataType::List(list_item()),
        Kind::Bytes => DataType::Binary,
    }
}

/// The item field of `List(UInt32)` columns: Arrow's conventional name, never null.
pub fn list_item() -> FieldRef {
    static ITEM: LazyLock<FieldRef> = LazyLock::new(|| Arc::new(Field::new("item", DataType::UInt32, false)));
    ITEM.clone()
}

/// Whether a rollup table has this column (as a group key, the time bucket or a sum).
pub fn in_rollup(column: &Column) -> bool {
    column.rollup || column.name == TIME || SUMS.contains(&column.name)
}

/// Whether a rollup table groups by this column (every rollup column but the time bucket and the sums).
pub fn is_rollup_key(column: &Column) -> bool {
    in_rollup(column) && column.name != TIME && !SUMS.contains(&column.name)
}

fn field(column: &Column) -> Field {
    Field::new(column.name, data_type(column.kind), false)
}

/// The schema of the raw table: every column of [`COLUMNS`], in schema order.
pub fn raw_schema() -> SchemaRef {
    static RAW: LazyLock<SchemaRef> =
        LazyLock::new(|| Arc::new(Schema::new(COLUMNS.iter().map(field).collect::<Vec<_>>())));
    RAW.clone()
}

/// The schema of every rollup table: the time bucket, the group keys and the sums, in schema order.
pub fn rollup_schema() -> SchemaRef {
    static ROLLUP: LazyLock<SchemaRef> = LazyLock::new(|| {
        Arc::new(Schema::new(
            COLUMNS
                .iter()
                .filter(|c| in_rollup(c))
                .map(field)
                .collect::<Vec<_>>(),
        ))
    });
    ROLLUP.clone()
}

/// The schema of `table`'s files: [`raw_schema`], [`rollup_schema`], or for a rollup keeping fewer columns
/// the time bucket, its keys and the sums, in schema order.
pub fn table_schema(table: &Table) -> SchemaRef {
    if table.is_raw() {
        return raw_schema();
    }
    if table.columns == Table::rollup_columns() {
        return rollup_schema();
    }
    let keeps = |(c, f): &(&Column, &weir_flow::Field)| {
        in_rollup(c) && (!is_rollup_key(c) || table.columns.contains(**f))
    };
    Arc::new(Schema::new(
        COLUMNS
            .iter()
            .zip(FIELDS)
            .filter(keeps)
            .map(|(c, _)| field(c))
            .collect::<Vec<_>>(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_schema_has_every_column_in_order() {
        let schema = raw_schema();
        assert_eq!(schema.fields().len(), COLUMNS.len());
        for (f, c) in schema.fields().iter().zip(COLUMNS) {
            assert_eq!(f.name(), c.name);
            assert!(!f.is_nullable(), "{}", c.name);
        }
        let t = schema.field_with_name("src_addr").map(|f| f.data_type().clone());
        assert_eq!(t.ok(), Some(DataType::FixedSizeBinary(16)));
        let t = schema
            .field_with_name("dst_as_path")
            .map(|f| f.data_type().clone());
        assert_eq!(t.ok(), Some(DataType::List(list_item())));
    }

    #[test]
    fn a_narrow_rollup_keeps_its_keys_the_time_and_the_sums() {
        let keys = [weir_flow::Field::proto, weir_flow::Field::exporter_addr];
        let schema = table_schema(&Table::rollup_of("t", 60, &keys, None));
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        assert_eq!(
            names,
            [TIME, "exporter_addr", "proto", "bytes", "packets", "flows"]
        );
        assert_eq!(table_schema(&Table::rollup("w", 60, None)), rollup_schema());
        assert_eq!(table_schema(&Table::raw(None)), raw_schema());
    }

    #[test]
    fn rollup_schema_keeps_time_keys_and_sums_only() {
        let schema = rollup_schema();
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        assert_eq!(names.first(), Some(&TIME));
        assert_eq!(&names[names.len() - 3..], &SUMS);
        for name in [
            "src_addr",
            "dst_port",
            "flow_start",
            "extra_fields",
            "dst_as_path",
        ] {
            assert!(!names.contains(&name), "{name} is not a rollup column");
        }
        for name in [
            "exporter_addr",
            "in_if",
            "proto",
            "sampling_rate",
            "src_as",
            "app",
        ] {
            assert!(names.contains(&name), "{name} is a rollup key");
        }
        for f in schema.fields() {
            assert_eq!(raw_schema().field_with_name(f.name()).ok(), Some(f.as_ref()));
        }
    }
}
