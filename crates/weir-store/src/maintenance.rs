//! Background upkeep of the files: merging the parts of a partition, and retention.
//!
//! Each flush adds a part per partition and table, so a partition collects many small files. Merging
//! follows three rules: when a partition holds more than `merge_parts` parts, they become one merged file;
//! when its newest merged files are [`FANOUT`] of one size tier under 256 MiB, they become one of the next
//! ([`tier`]); when it holds more than [`MANY_MERGED`] merged files, or it is complete (its end is `settle`
//! in the past) and holds more than one file or a part, everything becomes one merged file. So a partition
//! that is still filling holds its newest seconds in parts and the rest in a few merged files per tier
//! (every query of the hour in progress opens each), and each complete partition ends as one merged file
//! (encoded harder than parts, raw rows in the order of `merge.rs`). Files of a gigabyte or more are left as
//! they are, so that a busy hour is not rewritten again and again.
//!
//! A merge writes its output first and deletes its inputs after; the output's name gives the range of
//! sequence numbers it replaces, so a crash in between leaves inputs that readers skip and the next open
//! deletes. Retention deletes whole partitions whose end is older than the table keeps.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::error::StoreError;
use crate::files::{PartWriter, Purpose, free_bytes, sync_dir};
use crate::layout::{self, FileName, Partition};
use crate::merge::{MergeError, Sink, file_source, merge};
use crate::rollup::Rollup;
use crate::stats::{StoreStats, add};
use crate::table::TableFiles;
use crate::units;

/// A file at least this large is never merged again.
const LARGE_FILE: u64 = 1 << 30;

/// Merged files of one size tier that are merged together once there are this many back to back.
const FANOUT: usize = 4;
/// The size below which merged files are all of the first tier; each tier above holds files [`FANOUT`]
/// times larger than the one below.
const TIER_BASE: u64 = 1 << 20;
/// The first tier whose files are not merged by tier (256 MiB and more): a few such files cost a query
/// little, and merging them again would rewrite a busy collector's flows a third and a fourth time.
const TOP_TIER: u32 = 4;
/// More merged files than this in a partition (of tiers that formed no run) are merged all into one.
const MANY_MERGED: usize = 32;

/// A merged file's size tier: 0 under [`TIER_BASE`] times [`FANOUT`], then one more for each [`FANOUT`]-fold.
fn tier(bytes: u64) -> u32 {
    (bytes.max(TIER_BASE) / TIER_BASE).ilog(FANOUT as u64)
}

/// Where among `files` (in sequence order, with their `sizes`) the newest merged files of one tier lie, when
/// there are at least [`FANOUT`] of them back to back (only parts come after them). Merging them as they
/// come keeps a partition that is still filling at a few files per tier, where merging only every
/// `merge_parts` merged files let dozens pile up, each opened by every query of the hour in progress.
fn newest_tier(files: &[(FileName, PathBuf)], sizes: &[u64]) -> Option<std::ops::Range<usize>> {
    let merged = |i: usize| matches!(files[i].0, FileName::Merged(..));
    let end = (0..files.len()).rposition(merged)? + 1;
    let t = tier(sizes[end - 1]);
    if t >= TOP_TIER {
        return None;
    }
    let start = (0..end)
        .rev()
        .take_while(|&i| merged(i) && tier(sizes[i]) == t)
        .last()?;
    (end - start >= FANOUT).then_some(start..end)
}

/// What one maintenance run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct MaintainReport {
    /// Merged files written.
    pub merged: Vec<PathBuf>,
    /// Files deleted by retention.
    pub expired: Vec<PathBuf>,
    /// Files moved to quarantine (from, to).
    pub quarantined: Vec<(PathBuf, PathBuf)>,
}

/// State shared by the store and its maintenance.
#[derive(Debug)]
pub(crate) struct Shared {
    pub dir: PathBuf,
    pub tables: Vec<TableFiles>,
    pub merge_parts: usize,
    pub settle_ns: u64,
    pub min_free_bytes: u64,
    pub stats: Arc<StoreStats>,
    /// Held while files are created or deleted, so that a merge never lists a partition while a part with a
    /// lower sequence number than the newest is still being written (its name would fall inside the merge's
    /// range), and retention never deletes a directory a flush is writing into.
    files: Mutex<()>,
}

impl Shared {
    pub fn new(
        dir: PathBuf,
        tables: Vec<TableFiles>,
        merge_parts: usize,
        settle_ns: u64,
        min_free_bytes: u64,
        stats: Arc<StoreStats>,
    ) -> Shared {
        Shared {
            dir,
            tables,
            merge_parts: merge_parts.max(1),
            settle_ns,
            min_free_bytes,
            stats,
            files: Mutex::new(()),
        }
    }

    pub fn lock(&self) -> MutexGuard<'_, ()> {
        self.files.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A handle that merges and expires files; cheap to clone and usable from another thread than the store's,
/// so that a long merge never holds up flushes.
#[derive(Debug, Clone)]
pub struct Maintenance {
    pub(crate) shared: Arc<Shared>,
}

impl Maintenance {
    /// Merges what needs merging and applies retention as of `now_ns`. Every partition is tried even when
    /// one fails; the first error is returned after the rest is done. A file that cannot be read is moved to
    /// quarantine and the merge it was part of is retried at the next run.
    pub fn run(&self, now_ns: u64) -> Result<MaintainReport, StoreError> {
        let s = &*self.shared;
        let mut report = MaintainReport::default();
        let mut first_error = None;
        for table in &s.tables {
            let partitions = match layout::partitions(&table.dir) {
                Ok(p) => p,
                Err(e) => {
                    add(&s.stats.maintenance_errors, 1);
                    first_error.get_or_insert(e);
                    continue;
                }
            };
            for p in partitions {
                let done = if table.table.keeps(p.end, now_ns) {
                    self.merge_partition(table, &p, now_ns, &mut report)
                } else {
                    self.expire(&p, &mut report)
                };
                if let Err(e) = done {
                    add(&s.stats.maintenance_errors, 1);
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(report),
        }
    }

    fn expire(&self, p: &Partition, report: &mut MaintainReport) -> Result<(), StoreError> {
        let _files = self.shared.lock();
        let entries = fs::read_dir(&p.dir).map_err(StoreError::io(&p.dir))?;
        for entry in entries {
            let path = entry.map_err(StoreError::io(&p.dir))?.path();
            fs::remove_file(&path).map_err(StoreError::io(&path))?;
            add(&self.shared.stats.files_deleted_retention, 1);
            report.expired.push(path);
        }
        fs::remove_dir(&p.dir).map_err(StoreError::io(&p.dir))?;
        // An hour's directory sits in its day's: remove the day once its last hour is gone.
        if p.rel.components().count() > 1
            && let Some(parent) = p.dir.parent()
        {
            let _ = fs::remove_dir(parent);
        }
        Ok(())
    }

    fn merge_partition(
        &self,
        table: &TableFiles,
        p: &Partition,
        now_ns: u64,
        report: &mut MaintainReport,
    ) -> Result<(), StoreError> {
        let s = &*self.shared;
        let files = {
            let _files = s.lock();
            layout::contents(&p.dir)?.files
        };
        // Files already large are final: merging them again would rewrite gigabytes for no gain. Only the
        // files after the last of them (in sequence order) are candidates, so that an output's range never
        // covers a file it does not hold.
        let sizes: Vec<u64> = files
            .iter()
            .map(|(_, path)| fs::metadata(path).map_or(0, |m| m.len()))
            .collect();
        let from = sizes.iter().rposition(|&n| n >= LARGE_FILE).map_or(0, |i| i + 1);
        let candidates = &files[from..];
        let (parts, merged): (Vec<_>, Vec<_>) = candidates
            .iter()
            .partition(|(n, _)| matches!(n, FileName::Part(_)));
        let complete = p.end.saturating_add(s.settle_ns) <= now_ns;
        // A complete partition ends as one merged file, even when it holds one part only: merged files are
        // encoded harder and in the raw table's order.
        let unmerged = candidates.len() > 1 || !parts.is_empty();
        let inputs: Vec<&(FileName, PathBuf)> = if merged.len() > MANY_MERGED || (complete && unmerged) {
            candidates.iter().collect()
        } else if let Some(run) = newest_tier(candidates, &sizes[from..]) {
            candidates[run].iter().collect()
        } else if parts.len() > s.merge_parts {
            // Merged files inside the parts' range (none, unless a merge was interrupted oddly) go in too, so
            // that the output's range covers nothing it does not hold.
            let (lo, hi) = (parts[0].0.seqs().0, parts[parts.len() - 1].0.seqs().1);
            candidates
                .iter()
                .filter(|(n, _)| lo <= n.seqs().0 && n.seqs().1 <= hi)
                .collect()
        } else {
            return Ok(());
        };
        let first = inputs.iter().map(|(n, _)| n.seqs().0).min().unwrap_or(0);
        let last = inputs.iter().map(|(n, _)| n.seqs().1).max().unwrap_or(0);
        let size: u64 = inputs
            .iter()
            .filter_map(|(_, path)| fs::metadata(path).ok())
            .map(|m| m.len())
            .sum();
        if free_bytes(&p.dir)? < s.min_free_bytes.saturating_add(size) {
            // Not an error: the merge waits for space, and the files stay readable as they are.
            return Ok(());
        }
        let out = p.dir.join(FileName::Merged(first, last).to_string());
        let mut sources = Vec::with_capacity(inputs.len());
        let mut schemas = Vec::with_capacity(inputs.len());
        let mut opened = Ok(());
        for (_, path) in &inputs {
            match file_source(path, &table.schema) {
                Ok((src, schema)) => {
                    sources.push(src);
                    schemas.push(schema);
                }
                Err(e) => {
                    opened = Err(e);
                    break;
                }
            }
        }
        let merged = opened.and_then(|()| {
            // The output stores flow times in the finest unit any input does, so that no time is rounded.
            let file_schema = units::finest(&table.schema, &schemas);
            let purpose = Purpose::Merged {
                sorted_by_time: !table.table.is_raw(),
            };
            let mut writer = PartWriter::create(out.clone(), table.schema.clone())
                .map_err(MergeError::Other)?
                .with_layout(file_schema, purpose);
            let sink = if table.table.is_raw() {
                Sink::Raw(&mut writer)
            } else {
                let rollup = Rollup::new(table.table.resolution_ns(), table.schema.clone());
                Sink::Rollup(&mut writer, Box::new(rollup))
            };
            merge(sources, &table.schema, sink)?;
            Ok(writer)
        });
        let writer = match merged {
            Ok(writer) => writer,
            Err(MergeError::Corrupt(path, error)) => {
                let moved = layout::quarantine(&s.dir, &path)?;
                add(&s.stats.files_quarantined, 1);
                tracing::error!(file = %path.display(), to = %moved.display(), %error, "Quarantined a file that cannot be read.");
                report.quarantined.push((path, moved));
                return Ok(());
            }
            Err(MergeError::Other(e)) => return Err(e),
        };
        let size = writer.commit()?;
        add(&s.stats.merges, 1);
        add(&s.stats.bytes_written, size);
        report.merged.push(out);
        let _files = s.lock();
        for (_, path) in &inputs {
            remove_input(path)?;
        }
        sync_dir(&p.dir)
    }
}

fn remove_input(path: &Path) -> Result<(), StoreError> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(StoreError::io(path)(e)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_grow_fourfold_from_a_megabyte() {
        assert_eq!(tier(0), 0);
        assert_eq!(tier(4 * TIER_BASE - 1), 0);
        assert_eq!(tier(4 * TIER_BASE), 1);
        assert_eq!(tier(16 * TIER_BASE), 2);
        assert_eq!(tier(LARGE_FILE), 5);
    }

    #[test]
    fn the_newest_merged_files_of_one_tier_merge_once_there_are_four() {
        let mb = TIER_BASE;
        let files = |names: &[FileName]| -> Vec<(FileName, PathBuf)> {
            names.iter().map(|&n| (n, PathBuf::from(n.to_string()))).collect()
        };
        let m = FileName::Merged;
        let p = FileName::Part;
        // Three small merged files after a larger one, and parts: not yet.
        let f = files(&[m(1, 10), m(11, 12), m(13, 14), m(15, 16), p(17), p(18)]);
        assert_eq!(newest_tier(&f, &[20 * mb, mb, mb, mb, 1, 1]), None);
        // A fourth: those four, not the larger one before them nor the parts after.
        let f = files(&[m(1, 10), m(11, 12), m(13, 14), m(15, 16), m(17, 18), p(19)]);
        assert_eq!(newest_tier(&f, &[20 * mb, mb, mb, mb, mb, 1]), Some(1..5));
        // Four of the tier above once those are one: all five, newest last.
        let sizes = [5 * mb, 6 * mb, 7 * mb, 8 * mb, 4 * mb];
        let f = files(&[m(1, 2), m(3, 4), m(5, 6), m(7, 8), m(9, 10)]);
        assert_eq!(newest_tier(&f, &sizes), Some(0..5));
        // Files of 256 MiB and more are left for the partition's end.
        let f = files(&[m(1, 2), m(3, 4), m(5, 6), m(7, 8)]);
        assert_eq!(newest_tier(&f, &[300 * mb; 4]), None);
        // Only parts, or a run broken by a part (left by a merge that was interrupted): nothing.
        assert_eq!(newest_tier(&files(&[p(1), p(2)]), &[1, 1]), None);
        let f = files(&[m(1, 2), m(3, 4), p(5), m(6, 7), m(8, 9)]);
        assert_eq!(newest_tier(&f, &[mb; 5]), None);
    }
}
