//! The local file system as DataFusion sees it, with one difference: a file that is not there is an error.
//!
//! DataFusion takes a listed path whose `head` says "not found" for a directory and lists it instead, which
//! finds nothing. For the store, whose merges and retention delete files that a running query may have just
//! listed, that turns a vanished file into silently missing flows. Here every "not found" becomes an error
//! of its own, so the statement fails, the engine lists the partition again and runs it over what is there
//! now (the merged output that replaced the file).

use std::fmt;
use std::ops::Range;

use async_trait::async_trait;
use datafusion::object_store::local::LocalFileSystem;
use datafusion::object_store::path::Path;
use datafusion::object_store::{
    CopyOptions, Error, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMultipartOptions, PutOptions, PutPayload, PutResult, RenameOptions, Result,
};
use futures::stream::BoxStream;

/// What the error of a vanished file says; the engine recognises it by this.
pub const VANISHED: &str = "the file vanished while the query ran";

/// [`LocalFileSystem`] where reading a missing file fails with [`VANISHED`] rather than "not found".
#[derive(Debug, Default)]
pub struct Disk {
    local: LocalFileSystem,
}

impl fmt::Display for Disk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "weir store files ({})", self.local)
    }
}

/// Turns "not found" into an error that DataFusion passes on.
fn vanished(e: Error) -> Error {
    match e {
        Error::NotFound { path, .. } => Error::Generic {
            store: "weir",
            source: format!("{path}: {VANISHED}").into(),
        },
        e => e,
    }
}

#[async_trait]
impl ObjectStore for Disk {
    async fn put_opts(&self, location: &Path, payload: PutPayload, opts: PutOptions) -> Result<PutResult> {
        self.local.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> Result<Box<dyn MultipartUpload>> {
        self.local.put_multipart_opts(location, opts).await
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> Result<GetResult> {
        self.local.get_opts(location, options).await.map_err(vanished)
    }

    async fn get_ranges(&self, location: &Path, ranges: &[Range<u64>]) -> Result<Vec<bytes::Bytes>> {
        self.local.get_ranges(location, ranges).await.map_err(vanished)
    }

    fn delete_stream(&self, locations: BoxStream<'static, Result<Path>>) -> BoxStream<'static, Result<Path>> {
        self.local.delete_stream(locations)
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, Result<ObjectMeta>> {
        self.local.list(prefix)
    }

    fn list_with_offset(
        &self,
        prefix: Option<&Path>,
        offset: &Path,
    ) -> BoxStream<'static, Result<ObjectMeta>> {
        self.local.list_with_offset(prefix, offset)
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> Result<ListResult> {
        self.local.list_with_delimiter(prefix).await
    }

    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> Result<()> {
        self.local.copy_opts(from, to, options).await
    }

    async fn rename_opts(&self, from: &Path, to: &Path, options: RenameOptions) -> Result<()> {
        self.local.rename_opts(from, to, options).await
    }
}
