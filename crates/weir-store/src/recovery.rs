//! What `Store::open` finds and repairs: unfinished writes, merge leftovers, unreadable files, and the next
//! sequence number.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::error::StoreError;
use crate::files::sync_dir;
use crate::layout::{self, FileName, QUARANTINE};
use crate::table::TableFiles;

/// What opening the store found and did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Recovery {
    /// Data files found readable.
    pub files: usize,
    /// `.tmp` files of writes that did not finish, deleted.
    pub tmp_removed: Vec<PathBuf>,
    /// Inputs of a merge whose output was complete, deleted.
    pub leftovers_removed: Vec<PathBuf>,
    /// Files whose footer could not be read, moved to quarantine (from, to), with the reason.
    pub quarantined: Vec<(PathBuf, PathBuf, String)>,
    /// The sequence number the next file gets: one past the highest found anywhere, quarantine included.
    pub next_seq: u64,
}

/// Scans every table under `dir`, repairing as it goes.
pub(crate) fn recover(dir: &Path, tables: &[TableFiles]) -> Result<Recovery, StoreError> {
    let mut r = Recovery {
        next_seq: 1,
        ..Recovery::default()
    };
    for table in tables {
        for p in layout::partitions(&table.dir)? {
            let contents = layout::contents(&p.dir)?;
            let changed = !contents.tmp.is_empty() || !contents.covered.is_empty();
            for path in contents.tmp {
                fs::remove_file(&path).map_err(StoreError::io(&path))?;
                r.tmp_removed.push(path);
            }
            for path in contents.covered {
                see(&mut r, &path);
                fs::remove_file(&path).map_err(StoreError::io(&path))?;
                r.leftovers_removed.push(path);
            }
            for (name, path) in contents.files {
                r.next_seq = r.next_seq.max(name.seqs().1 + 1);
                match check(&path)? {
                    None => r.files += 1,
                    Some(reason) => {
                        let moved = layout::quarantine(dir, &path)?;
                        r.quarantined.push((path, moved, reason));
                    }
                }
            }
            if changed {
                sync_dir(&p.dir)?;
            }
        }
    }
    see_all(&mut r, &dir.join(QUARANTINE))?;
    Ok(r)
}

/// Reads a file's footer and schema: `Some(reason)` when they are not Parquet. A file that cannot be opened
/// at all (permissions) is an error of the store, not of the file, and stays where it is.
fn check(path: &Path) -> Result<Option<String>, StoreError> {
    let file = File::open(path).map_err(StoreError::io(path))?;
    Ok(ParquetRecordBatchReaderBuilder::try_new(file)
        .err()
        .map(|e| e.to_string()))
}

fn see(r: &mut Recovery, path: &Path) {
    if let Some(name) = path
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(FileName::parse)
    {
        r.next_seq = r.next_seq.max(name.seqs().1 + 1);
    }
}

/// Counts the sequence numbers of every file under `dir`, so that no new file takes a quarantined one's name.
fn see_all(r: &mut Recovery, dir: &Path) -> Result<(), StoreError> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(StoreError::io(dir)(e)),
    };
    for entry in entries {
        let entry = entry.map_err(StoreError::io(dir))?;
        if entry.file_type().map_err(StoreError::io(entry.path()))?.is_dir() {
            see_all(r, &entry.path())?;
        } else {
            see(r, &entry.path());
        }
    }
    Ok(())
}
