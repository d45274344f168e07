//! The tables flows are stored in: the raw table and its rollups, described once for the planner and every
//! backend.
//!
//! A rollup keeps `time_received` floored to its resolution and some of the columns the schema marks
//! `rollup` (by default all of them), and sums `bytes`, `packets` and `flows` over the flows that share them.
//! Its rows answer any question that only groups or filters on those columns, with a fraction of the rows to
//! read. A rollup that keeps fewer columns has fewer rows: the `traffic_*` rollups keep what the headline
//! graphs (traffic by exporter, protocol and application) need, and answer those in a few hundred thousand
//! rows a day where the wide rollups, keyed also by interfaces and ASes, hold nearly a row per flow.

use weir_flow::{COLUMNS, FIELDS, Field, time::NANOS_PER_SEC};

/// Default retention of the raw table: 15 days.
pub const RAW_RETENTION: u64 = 15 * 86_400;
/// Default retention of the 1-minute rollup: 90 days.
pub const MINUTE_RETENTION: u64 = 90 * 86_400;
/// Default retention of the 1-hour rollup: 730 days.
pub const HOUR_RETENTION: u64 = 730 * 86_400;

/// The group keys of the narrow `traffic_1m` and `traffic_1h` rollups: enough to draw traffic by exporter,
/// protocol and application, scaled by the sampling rate, in or out by the exporter's flow direction.
pub const TRAFFIC_KEYS: [Field; 8] = [
    Field::exporter_addr,
    Field::exporter_name,
    Field::observation_domain,
    Field::sampling_rate,
    Field::flow_direction,
    Field::etype,
    Field::proto,
    Field::app,
];

/// A set of schema fields, one bit per column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FieldSet(u128);

const _: () = assert!(COLUMNS.len() <= 128, "FieldSet holds at most 128 columns");

impl FieldSet {
    /// Every column of the schema.
    pub fn all() -> FieldSet {
        FIELDS.iter().copied().collect()
    }

    /// Adds `field`.
    pub fn insert(&mut self, field: Field) {
        self.0 |= 1 << field as u32;
    }

    /// Whether `field` is in the set.
    pub fn contains(self, field: Field) -> bool {
        self.0 & (1 << field as u32) != 0
    }

    /// The number of fields in the set.
    pub fn len(self) -> u32 {
        self.0.count_ones()
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether every field of `self` is in `other`.
    pub fn is_subset(self, other: FieldSet) -> bool {
        self.0 & !other.0 == 0
    }

    /// The fields of `self` not in `other`, in schema order.
    pub fn missing_from(self, other: FieldSet) -> impl Iterator<Item = Field> {
        FIELDS
            .iter()
            .copied()
            .filter(move |&f| self.contains(f) && !other.contains(f))
    }
}

impl FromIterator<Field> for FieldSet {
    fn from_iter<I: IntoIterator<Item = Field>>(iter: I) -> FieldSet {
        let mut set = FieldSet::default();
        iter.into_iter().for_each(|f| set.insert(f));
        set
    }
}

/// One stored table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// The table's name, which is also its directory in the embedded store (`flows`, `flows_1m`).
    pub name: String,
    /// Rollups: the width of a row's time bucket, in seconds. `None` for the raw table (one row per flow).
    pub resolution: Option<u64>,
    /// Columns that hold one value per row as received, and so can be filtered and grouped on. In a rollup
    /// `bytes`, `packets` and `flows` are sums and are not among them.
    pub columns: FieldSet,
    /// How long rows are kept, in seconds; `None` keeps them forever.
    pub retention: Option<u64>,
    /// The first instant (ns) the table holds every flow from: set for a rollup added to a store that
    /// already held flows, which has none of those. `None`: from the store's beginning.
    pub since: Option<u64>,
}

impl Table {
    /// The raw table `flows`: every column of every flow.
    pub fn raw(retention: Option<u64>) -> Table {
        Table {
            name: "flows".into(),
            resolution: None,
            columns: FieldSet::all(),
            retention,
            since: None,
        }
    }

    /// A rollup called `name`, with rows of `resolution` seconds (at least 1) keyed by the schema's rollup
    /// columns.
    pub fn rollup(name: impl Into<String>, resolution: u64, retention: Option<u64>) -> Table {
        Table {
            name: name.into(),
            resolution: Some(resolution.max(1)),
            columns: Self::rollup_columns(),
            retention,
            since: None,
        }
    }

    /// A rollup like [`rollup`](Self::rollup) keyed by `keys` only (and the time bucket).
    pub fn rollup_of(
        name: impl Into<String>,
        resolution: u64,
        keys: &[Field],
        retention: Option<u64>,
    ) -> Table {
        let mut columns: FieldSet = keys.iter().copied().collect();
        columns.insert(Field::time_received);
        Table {
            columns,
            ..Self::rollup(name, resolution, retention)
        }
    }

    /// The columns a rollup can keep: the time bucket and the columns the schema marks `rollup`.
    pub fn rollup_columns() -> FieldSet {
        FIELDS.iter().copied().filter(|f| f.column().rollup).collect()
    }

    /// The tables the store keeps by default: `flows` (15 days), `flows_1m` and `traffic_1m` (90 days),
    /// `flows_1h` and `traffic_1h` (2 years).
    pub fn defaults() -> Vec<Table> {
        vec![
            Table::raw(Some(RAW_RETENTION)),
            Table::rollup("flows_1m", 60, Some(MINUTE_RETENTION)),
            Table::rollup("flows_1h", 3600, Some(HOUR_RETENTION)),
            Table::rollup_of("traffic_1m", 60, &TRAFFIC_KEYS, Some(MINUTE_RETENTION)),
            Table::rollup_of("traffic_1h", 3600, &TRAFFIC_KEYS, Some(HOUR_RETENTION)),
        ]
    }

    /// Whether this is the raw table.
    pub fn is_raw(&self) -> bool {
        self.resolution.is_none()
    }

    /// The resolution in nanoseconds; 1 for the raw table, whose times are exact.
    pub fn resolution_ns(&self) -> u64 {
        self.resolution.map_or(1, |s| s.saturating_mul(NANOS_PER_SEC))
    }

    /// Whether rows from `from` (ns) on are held at `now` (ns): still kept, and not from before the table
    /// began.
    pub fn keeps(&self, from: u64, now: u64) -> bool {
        self.since.is_none_or(|since| from >= since)
            && self
                .retention
                .is_none_or(|secs| from >= now.saturating_sub(secs.saturating_mul(NANOS_PER_SEC)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rollups_keep_the_schema_rollup_columns_only() {
        let t = Table::rollup("flows_1m", 60, None);
        assert!(t.columns.contains(Field::time_received));
        assert!(t.columns.contains(Field::dst_as));
        assert!(!t.columns.contains(Field::src_addr));
        assert!(!t.columns.contains(Field::bytes));
        assert!(Table::raw(None).columns.contains(Field::extra_fields));
        assert_eq!(t.resolution_ns(), 60_000_000_000);
        assert_eq!(Table::raw(None).resolution_ns(), 1);
    }

    #[test]
    fn narrow_rollups_keep_their_keys_and_the_time() {
        let t = Table::rollup_of("traffic_1m", 60, &TRAFFIC_KEYS, None);
        assert_eq!(t.columns.len(), TRAFFIC_KEYS.len() as u32 + 1);
        assert!(t.columns.contains(Field::time_received) && t.columns.contains(Field::proto));
        assert!(!t.columns.contains(Field::in_if));
        assert!(t.columns.is_subset(Table::rollup_columns()));
        assert!(!Table::raw(None).columns.is_subset(t.columns));
    }

    #[test]
    fn retention_counts_back_from_now() {
        let t = Table::rollup("flows_1m", 60, Some(100));
        let now = 1_000 * NANOS_PER_SEC;
        assert!(t.keeps(900 * NANOS_PER_SEC, now));
        assert!(!t.keeps(899 * NANOS_PER_SEC, now));
        assert!(Table::raw(None).keeps(0, now));
        let late = Table {
            since: Some(950 * NANOS_PER_SEC),
            ..t
        };
        assert!(late.keeps(950 * NANOS_PER_SEC, now) && !late.keeps(940 * NANOS_PER_SEC, now));
    }

    #[test]
    fn field_sets_list_what_the_other_lacks() {
        let want: FieldSet = [Field::src_addr, Field::proto, Field::bytes]
            .into_iter()
            .collect();
        let have = Table::rollup("r", 60, None).columns;
        assert_eq!(
            want.missing_from(have).collect::<Vec<_>>(),
            [Field::src_addr, Field::bytes]
        );
    }
}
