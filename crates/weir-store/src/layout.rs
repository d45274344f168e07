//! Where files live: tables, time partitions and file names, and reading them back from a directory.
//!
//! ```text
//! <dir>/flows/2026-11-22/13/part-0000000000000042.parquet            raw: one partition per hour
//! <dir>/flows/2026-11-22/13/merged-0000000000000001-0000000000000040.parquet
//! <dir>/flows_1m/2026-11-22/part-….parquet                            minute rollup: one per day
//! <dir>/flows_1h/2026-11/part-….parquet                               hour rollup: one per month
//! <dir>/quarantine/<table>/<path inside the table>                    files that could not be read
//! ```
//! Partition names are parsed by their shape, so files stay readable whatever the table's configuration
//! says today. Sequence numbers are store-wide: a merged file's range `first..=last` names exactly the parts
//! of its own partition that it replaced, so a part inside a merged file's range is a leftover of a merge
//! that stopped before deleting its inputs, and is never read twice.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use weir_flow::time::{NANOS_PER_SEC, Rfc3339, days_from_civil};

use crate::error::StoreError;

/// The directory that corrupt files are moved to.
pub const QUARANTINE: &str = "quarantine";

/// The file in a table's directory that says from when the table holds every flow (see [`read_since`]).
pub const SINCE: &str = "since";

/// The time buckets of a merged raw file (ns): its rows are in bucket order, and within a bucket in
/// [`RAW_ORDER`] (see `merge.rs` for why). Ten minutes, so that queries still skip pages and row groups by
/// time within an hour's partition.
pub const RAW_BUCKET: i64 = 600 * NANOS_PER_SEC as i64;

/// The columns that order the rows of a merged raw file within each [`RAW_BUCKET`], in order.
pub const RAW_ORDER: [&str; 4] = ["exporter_addr", "dst_addr", "src_addr", crate::schema::TIME];

const HOUR: u64 = 3600 * NANOS_PER_SEC;
const DAY: u64 = 24 * HOUR;

/// How much time one partition of a table covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Granularity {
    /// `YYYY-MM-DD/HH`: the raw table.
    Hour,
    /// `YYYY-MM-DD`: rollups finer than an hour.
    Day,
    /// `YYYY-MM`: rollups of an hour or more.
    Month,
}

impl Granularity {
    /// The partitioning of a table whose rows are `resolution_ns` wide (1 for the raw table): about a few
    /// thousand rows per group of keys in each partition, so that files are neither tiny nor huge.
    pub fn for_resolution(resolution_ns: u64) -> Granularity {
        match resolution_ns {
            r if r < 60 * NANOS_PER_SEC => Granularity::Hour,
            r if r < HOUR => Granularity::Day,
            _ => Granularity::Month,
        }
    }

    /// The start of the partition holding `t` (ns since the epoch).
    pub fn start(self, t: u64) -> u64 {
        match self {
            Granularity::Hour => t - t % HOUR,
            Granularity::Day => t - t % DAY,
            Granularity::Month => {
                let (y, m, _) = ymd(t);
                month_start(y, m)
            }
        }
    }

    /// The start of the partition after the one that starts at `start`.
    pub fn next(self, start: u64) -> u64 {
        match self {
            Granularity::Hour => start.saturating_add(HOUR),
            Granularity::Day => start.saturating_add(DAY),
            Granularity::Month => {
                let (y, m, _) = ymd(start);
                if m == 12 {
                    month_start(y + 1, 1)
                } else {
                    month_start(y, m + 1)
                }
            }
        }
    }

    /// The directory of the partition holding `t`, relative to the table's directory.
    pub fn dir(self, t: u64) -> PathBuf {
        let (text, _) = Rfc3339(self.start(t)).to_bytes();
        let text = String::from_utf8_lossy(&text);
        match self {
            Granularity::Hour => Path::new(&text[..10]).join(&text[11..13]),
            Granularity::Day => PathBuf::from(&text[..10]),
            Granularity::Month => PathBuf::from(&text[..7]),
        }
    }
}

/// (year, month, day) of a time.
fn ymd(t: u64) -> (i64, u32, u32) {
    let (text, _) = Rfc3339(t).to_bytes();
    let num = |a: usize, b: usize| text[a..b].iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
    (i64::from(num(0, 4)), num(5, 7), num(8, 10))
}

fn month_start(y: i64, m: u32) -> u64 {
    (days_from_civil(y, m, 1).max(0) as u64).saturating_mul(DAY)
}

/// Parses a partition directory's path relative to its table (`2026-11-22/13`, `2026-11-22`, `2026-11`)
/// into its time range `[start, end)`.
pub fn parse_partition(rel: &Path) -> Option<(u64, u64)> {
    let mut parts = rel.iter().map(|p| p.to_str());
    let first = parts.next()??;
    let second = parts.next();
    if parts.next().is_some() {
        return None;
    }
    let digits = |s: &str| -> Option<u32> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    let fields: Vec<&str> = first.split('-').collect();
    let (granularity, start) = match (fields.as_slice(), second) {
        ([y, m], None) if y.len() == 4 && m.len() == 2 => {
            let m = digits(m).filter(|m| (1..=12).contains(m))?;
            (Granularity::Month, month_start(i64::from(digits(y)?), m))
        }
        ([y, m, d], hour) if y.len() == 4 && m.len() == 2 && d.len() == 2 => {
            let (y, m, d) = (i64::from(digits(y)?), digits(m)?, digits(d)?);
            if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
                return None;
            }
            let day = u64::try_from(days_from_civil(y, m, d)).ok()? * DAY;
            match hour {
                None => (Granularity::Day, day),
                Some(h) => {
                    let h = h?;
                    if h.len() != 2 {
                        return None;
                    }
                    let hour = digits(h).filter(|h| *h < 24)?;
                    (Granularity::Hour, day + u64::from(hour) * HOUR)
                }
            }
        }
        _ => return None,
    };
    Some((start, granularity.next(start)))
}

/// What a data file's name says about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileName {
    /// `part-<seq>.parquet`: one flush.
    Part(u64),
    /// `merged-<first>-<last>.parquet`: the parts `first..=last` of its partition, merged.
    Merged(u64, u64),
}

impl FileName {
    /// Parses a file name; `None` for anything else (including `.tmp` files).
    pub fn parse(name: &str) -> Option<FileName> {
        let stem = name.strip_suffix(".parquet")?;
        let seq =
            |s: &str| (s.len() == 16 && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok())?;
        if let Some(s) = stem.strip_prefix("part-") {
            return Some(FileName::Part(seq(s)?));
        }
        let (a, b) = stem.strip_prefix("merged-")?.split_once('-')?;
        let (a, b) = (seq(a)?, seq(b)?);
        (a <= b).then_some(FileName::Merged(a, b))
    }

    /// The first and last sequence numbers the file holds.
    pub fn seqs(self) -> (u64, u64) {
        match self {
            FileName::Part(s) => (s, s),
            FileName::Merged(a, b) => (a, b),
        }
    }

    /// Whether this file's range lies inside `other`'s (and it is not `other`).
    pub fn covered_by(self, other: FileName) -> bool {
        let ((a, b), (c, d)) = (self.seqs(), other.seqs());
        self != other && c <= a && b <= d
    }
}

impl std::fmt::Display for FileName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FileName::Part(s) => write!(f, "part-{s:016}.parquet"),
            FileName::Merged(a, b) => write!(f, "merged-{a:016}-{b:016}.parquet"),
        }
    }
}

/// One time partition of a table, as found on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    /// The partition's directory.
    pub dir: PathBuf,
    /// Its directory relative to the table's (`2026-11-22/13`).
    pub rel: PathBuf,
    /// The first nanosecond it covers.
    pub start: u64,
    /// The first nanosecond after it.
    pub end: u64,
}

/// What a partition directory holds.
#[derive(Debug, Default)]
pub struct Contents {
    /// Data files to read, sorted by first sequence number; none of them covered by another.
    pub files: Vec<(FileName, PathBuf)>,
    /// Data files whose range another file covers: inputs of a merge that were not deleted yet.
    pub covered: Vec<PathBuf>,
    /// `.tmp` files: writes that did not finish.
    pub tmp: Vec<PathBuf>,
}

/// When the table in `table_dir` began to hold every flow (ns), if it began after the store did: a rollup
/// added to a store that already held flows has none of the earlier ones, and the planner must not ask it
/// about them. The file holds the time as decimal nanoseconds; a missing or unreadable one means "always".
pub fn read_since(table_dir: &Path) -> Option<u64> {
    fs::read_to_string(table_dir.join(SINCE))
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Creates `table_dir` and records in it that the table holds every flow from `since_ns` on, durably
/// (written aside, fsync'd, renamed, directory fsync'd) before any of the table's files exist.
pub fn write_since(table_dir: &Path, since_ns: u64) -> Result<(), StoreError> {
    fs::create_dir_all(table_dir).map_err(StoreError::io(table_dir))?;
    let (path, tmp) = (table_dir.join(SINCE), table_dir.join("since.tmp"));
    let write = || -> io::Result<()> {
        let mut f = fs::File::create(&tmp)?;
        io::Write::write_all(&mut f, format!("{since_ns}\n").as_bytes())?;
        f.sync_all()?;
        fs::rename(&tmp, &path)
    };
    write().map_err(StoreError::io(&path))?;
    crate::files::sync_dir(table_dir)
}

/// Lists the partitions of the table in `table_dir` (missing: none), sorted by start time. Directories whose
/// names are not partitions are skipped.
pub fn partitions(table_dir: &Path) -> Result<Vec<Partition>, StoreError> {
    let mut found = Vec::new();
    for top in subdirs(table_dir)? {
        let Some(name) = top.file_name().map(PathBuf::from) else {
            continue;
        };
        let before = found.len();
        for hour in subdirs(&top)? {
            let Some(h) = hour.file_name() else { continue };
            let rel = name.join(h);
            if let Some((start, end)) = parse_partition(&rel) {
                found.push(Partition {
                    dir: hour,
                    rel,
                    start,
                    end,
                });
            }
        }
        // A day that holds hours is their parent, not a partition of its own.
        if found.len() == before
            && let Some((start, end)) = parse_partition(&name)
        {
            found.push(Partition {
                dir: top.clone(),
                rel: name,
                start,
                end,
            });
        }
    }
    found.sort_by_key(|p| (p.start, p.end));
    Ok(found)
}

fn subdirs(dir: &Path) -> Result<Vec<PathBuf>, StoreError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(StoreError::io(dir)(e)),
    };
    let mut dirs = Vec::new();
    for entry in entries {
        let entry = entry.map_err(StoreError::io(dir))?;
        if entry.file_type().map_err(StoreError::io(entry.path()))?.is_dir() {
            dirs.push(entry.path());
        }
    }
    Ok(dirs)
}

/// Reads what the partition directory `dir` holds.
pub fn contents(dir: &Path) -> Result<Contents, StoreError> {
    let mut contents = Contents::default();
    let mut names = Vec::new();
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(contents),
        Err(e) => return Err(StoreError::io(dir)(e)),
    };
    for entry in entries {
        let entry = entry.map_err(StoreError::io(dir))?;
        let path = entry.path();
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        if name.ends_with(".tmp") {
            contents.tmp.push(path);
        } else if let Some(n) = FileName::parse(&name) {
            names.push((n, path));
        }
    }
    names.sort_by_key(|(n, _)| n.seqs());
    let merged: Vec<FileName> = names
        .iter()
        .map(|(n, _)| *n)
        .filter(|n| matches!(n, FileName::Merged(..)))
        .collect();
    for (n, path) in names {
        if merged.iter().any(|&m| n.covered_by(m)) {
            contents.covered.push(path);
        } else {
            contents.files.push((n, path));
        }
    }
    Ok(contents)
}

/// The data files of `table` under the store directory `dir` whose partitions overlap `[from_ns, to_ns)`,
/// in time order. Inputs of a merge still on disk beside its output are left out, so no flow is read twice.
pub fn files(dir: &Path, table: &str, from_ns: u64, to_ns: u64) -> Result<Vec<PathBuf>, StoreError> {
    Ok(files_spanning(dir, table, from_ns, to_ns)?.0)
}

/// Receive times `[start, end)`, in nanoseconds since the Unix epoch.
pub type Span = (u64, u64);

/// The files [`files`] lists, and the span of receive times `[start, end)` of the partitions holding them
/// (every row of the files lies in it; `None` when no file is listed).
pub fn files_spanning(
    dir: &Path,
    table: &str,
    from_ns: u64,
    to_ns: u64,
) -> Result<(Vec<PathBuf>, Option<Span>), StoreError> {
    let mut out = Vec::new();
    let mut span: Option<Span> = None;
    for p in partitions(&dir.join(table))? {
        if p.start < to_ns && from_ns < p.end {
            let listed = contents(&p.dir)?.files;
            if listed.is_empty() {
                continue;
            }
            out.extend(listed.into_iter().map(|(_, path)| path));
            span = Some(span.map_or((p.start, p.end), |(s, e)| (s.min(p.start), e.max(p.end))));
        }
    }
    Ok((out, span))
}

/// Moves the file at `path` (inside `dir/<table>/`) to `dir/quarantine/<table>/<same relative path>`, where
/// it is kept for inspection and never read or deleted; returns the new path.
pub fn quarantine(dir: &Path, path: &Path) -> Result<PathBuf, StoreError> {
    let rel = path.strip_prefix(dir).unwrap_or(path);
    let rel: PathBuf = rel
        .components()
        .filter(|c| matches!(c, std::path::Component::Normal(_)))
        .collect();
    let target = dir.join(QUARANTINE).join(rel);
    if let Some(parent) = target.parent() {
        fs::create_dir_all(parent).map_err(StoreError::io(parent))?;
    }
    fs::rename(path, &target).map_err(StoreError::io(path))?;
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-22T13:45:10.5Z
    const T: u64 = 1_795_355_110_500_000_000;

    #[test]
    fn partition_directories_follow_the_granularity() {
        assert_eq!(Granularity::Hour.dir(T), Path::new("2026-11-22/13"));
        assert_eq!(Granularity::Day.dir(T), Path::new("2026-11-22"));
        assert_eq!(Granularity::Month.dir(T), Path::new("2026-11"));
        assert_eq!(Granularity::for_resolution(1), Granularity::Hour);
        assert_eq!(Granularity::for_resolution(60 * NANOS_PER_SEC), Granularity::Day);
        assert_eq!(
            Granularity::for_resolution(3600 * NANOS_PER_SEC),
            Granularity::Month
        );
    }

    #[test]
    fn partition_names_parse_back_to_their_ranges() {
        for g in [Granularity::Hour, Granularity::Day, Granularity::Month] {
            let (start, end) = parse_partition(&g.dir(T)).unwrap();
            assert_eq!(start, g.start(T), "{g:?}");
            assert_eq!(end, g.next(start), "{g:?}");
            assert!(start <= T && T < end, "{g:?}");
        }
        let (start, end) = parse_partition(Path::new("2026-12")).unwrap();
        assert_eq!(Rfc3339(start).to_string(), "2026-12-01T00:00:00Z");
        assert_eq!(Rfc3339(end).to_string(), "2027-01-01T00:00:00Z");
        for bad in [
            "2026-13",
            "2026-11-22/24",
            "2026-11-22/1",
            "20261122",
            "2026-11-22/13/00",
            "quarantine",
            "x-y",
        ] {
            assert_eq!(parse_partition(Path::new(bad)), None, "{bad}");
        }
    }

    #[test]
    fn file_names_round_trip() {
        for n in [FileName::Part(42), FileName::Merged(1, 40)] {
            assert_eq!(FileName::parse(&n.to_string()), Some(n));
        }
        assert_eq!(FileName::Part(42).to_string(), "part-0000000000000042.parquet");
        for bad in [
            "part-42.parquet",
            "part-0000000000000042.parquet.tmp",
            "merged-0000000000000009-0000000000000001.parquet",
        ] {
            assert_eq!(FileName::parse(bad), None, "{bad}");
        }
        assert!(FileName::Part(3).covered_by(FileName::Merged(1, 40)));
        assert!(FileName::Merged(1, 20).covered_by(FileName::Merged(1, 40)));
        assert!(!FileName::Merged(1, 40).covered_by(FileName::Merged(1, 40)));
        assert!(!FileName::Part(41).covered_by(FileName::Merged(1, 40)));
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("weir-store-layout-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn lists_files_of_overlapping_partitions_without_merge_leftovers() {
        let dir = scratch("list");
        let touch = |rel: &str| {
            let p = dir.join(rel);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, b"").unwrap();
        };
        touch("flows/2026-11-22/12/part-0000000000000001.parquet");
        touch("flows/2026-11-22/13/part-0000000000000002.parquet");
        touch("flows/2026-11-22/13/part-0000000000000005.parquet");
        touch("flows/2026-11-22/13/merged-0000000000000002-0000000000000004.parquet");
        touch("flows/2026-11-22/13/part-0000000000000006.parquet.tmp");
        touch("flows/2026-11-22/14/part-0000000000000007.parquet");
        fs::create_dir_all(dir.join("flows/not-a-partition")).unwrap();
        let hour = Granularity::Hour.start(T);
        let names = |v: Vec<PathBuf>| -> Vec<String> {
            v.iter()
                .map(|p| p.strip_prefix(dir.join("flows")).unwrap().display().to_string())
                .collect()
        };
        let got = names(files(&dir, "flows", hour, hour + HOUR).unwrap());
        assert_eq!(
            got,
            [
                "2026-11-22/13/merged-0000000000000002-0000000000000004.parquet",
                "2026-11-22/13/part-0000000000000005.parquet"
            ]
        );
        let got = names(files(&dir, "flows", hour - 1, hour + HOUR + 1).unwrap());
        assert_eq!(got.len(), 4);
        assert!(got[0].starts_with("2026-11-22/12/") && got[3].starts_with("2026-11-22/14/"));
        assert!(files(&dir, "flows_1m", 0, u64::MAX).unwrap().is_empty());
        let c = contents(&dir.join("flows/2026-11-22/13")).unwrap();
        assert_eq!(c.covered.len(), 1);
        assert_eq!(c.tmp.len(), 1);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn quarantine_keeps_the_relative_path() {
        let dir = scratch("quarantine");
        let file = dir.join("flows/2026-11-22/13/part-0000000000000002.parquet");
        fs::create_dir_all(file.parent().unwrap()).unwrap();
        fs::write(&file, b"not parquet").unwrap();
        let moved = quarantine(&dir, &file).unwrap();
        assert_eq!(
            moved,
            dir.join("quarantine/flows/2026-11-22/13/part-0000000000000002.parquet")
        );
        assert_eq!(fs::read(&moved).unwrap(), b"not parquet");
        assert!(!file.exists());
        let _ = fs::remove_dir_all(&dir);
    }
}
