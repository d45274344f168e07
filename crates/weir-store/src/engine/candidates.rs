//! The candidates for a top-N of addresses or subnet pairs: the heaviest keys of each file over a range,
//! read from the files' footers ([`crate::heavy`]), with the sum of their bounds.
//!
//! Footers are read once per file: files never change once committed, and a file's name is never used
//! again, so the lists are cached by path. The cache forgets everything when it holds more than
//! [`CACHED_FILES`] files (retention and merges remove files; their entries would otherwise stay).

use std::collections::{BTreeSet, HashMap};
use std::fs::File;
use std::net::Ipv6Addr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use parquet::file::metadata::ParquetMetaDataReader;
use weir_query::backend::{HeavyKeys, Value};
use weir_query::plan::{Metric, NET_KEY_LEN, net_from_key};

use crate::heavy::{self, List};

/// Most candidates handed to the planner: beyond, testing each row against them is no longer cheaper
/// than grouping every key, and the statement would be long.
pub const MAX_CANDIDATES: usize = 4096;
/// Files whose lists are kept in memory.
const CACHED_FILES: usize = 8192;

/// The lists of the files read so far, by path: per listed field, the file's list, or `None` if it has
/// none (written before lists existed, or with too many addresses).
#[derive(Debug, Default)]
pub struct Lists {
    files: Mutex<HashMap<PathBuf, Arc<Vec<Option<List>>>>>,
}

impl Lists {
    /// The candidates for the top keys of the dimensions `name` (one of [`heavy::LISTS`]) by `metric` over
    /// `files`; `None` if one of them has no list for it (or cannot be read), or if there would be too many.
    pub fn candidates(&self, files: &[PathBuf], name: &str, metric: Metric) -> Option<HeavyKeys> {
        let at = heavy::LISTS.iter().position(|l| *l == name)?;
        let mut keys = BTreeSet::new();
        let mut bound = 0u64;
        for path in files {
            let lists = self.of(path)?;
            let list = lists.get(at)?.as_ref()?;
            bound = bound.saturating_add(list.bound(metric));
            keys.extend(list.keys.iter().cloned());
            if keys.len() > MAX_CANDIDATES {
                return None;
            }
        }
        Some(HeavyKeys {
            keys: keys.iter().map(|k| values(name, k)).collect::<Option<_>>()?,
            bound,
        })
    }

    /// The lists of the file at `path`, read from its footer the first time.
    fn of(&self, path: &Path) -> Option<Arc<Vec<Option<List>>>> {
        if let Some(lists) = self.lock().get(path) {
            return Some(lists.clone());
        }
        let lists = Arc::new(read(path)?);
        let mut files = self.lock();
        if files.len() >= CACHED_FILES {
            files.clear();
        }
        files.insert(path.to_path_buf(), lists.clone());
        Some(lists)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<PathBuf, Arc<Vec<Option<List>>>>> {
        self.files.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The lists in the footer of the file at `path`, one per listed dimension; `None` if it cannot be read.
fn read(path: &Path) -> Option<Vec<Option<List>>> {
    let file = File::open(path).ok()?;
    let metadata = ParquetMetaDataReader::new().parse_and_finish(&file).ok()?;
    let entries = metadata.file_metadata().key_value_metadata();
    Some(heavy::LISTS.iter().map(|l| heavy::list(entries, l)).collect())
}

/// A key of the dimensions `name` as the planner has its values: an address, or a pair of networks as
/// text.
fn values(name: &str, key: &[u8]) -> Option<Vec<Value>> {
    match name {
        heavy::PAIRS => {
            let (src, dst) = key.split_at_checked(NET_KEY_LEN)?;
            let text = |k: &[u8]| net_from_key(k).map(|(addr, len)| Value::Str(format!("{addr}/{len}")));
            Some(vec![text(src)?, text(dst)?])
        }
        _ => Some(vec![Value::Ip(Ipv6Addr::from(<[u8; 16]>::try_from(key).ok()?))]),
    }
}
