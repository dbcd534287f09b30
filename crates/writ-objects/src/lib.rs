//! Writ's object storage: where public and large objects live, in a local
//! folder or an S3-compatible bucket, and the layout of a data folder
//! ([`layout`]).
//!
//! The log keeps its checkpoint, hash tiles and entry bundles here (under
//! the paths of c2sp.org/tlog-tiles), and delivery its sealed packages.
//! Tiles and bundles are written once: [`ObjectStorage::put_once`] refuses to
//! change an object, and succeeds without writing when the object already
//! holds the same bytes (a retry after a write whose answer was lost). Only
//! the public `checkpoint` is replaced.
//!
//! Large objects (sealed packages, gigabytes) never pass through memory
//! whole: [`ObjectStorage::put_file`] uploads a local file in parts and
//! [`ObjectStorage::get_stream`] reads an object as a stream of chunks.

pub mod layout;

use std::collections::BTreeSet;
use std::future::Future;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::pin::Pin;

/// A boxed future, so that storage can sit behind `dyn`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// An object's bytes, chunk by chunk.
pub type ByteStream =
    Pin<Box<dyn futures_core::Stream<Item = Result<bytes::Bytes, StorageError>> + Send>>;

/// An object being read: its size and its bytes.
pub struct ObjectReader {
    pub size: u64,
    pub stream: ByteStream,
}

/// An object found by [`ObjectStorage::list`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listed {
    /// Its path under the storage's root.
    pub path: String,
    /// When it was last written, in seconds since the Unix epoch.
    pub modified: i64,
}

/// The size of the parts large objects are written and read in.
pub const PART_SIZE: usize = 8 * 1024 * 1024;

/// Errors from object storage.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("object `{0}` already exists with different contents")]
    Conflict(String),
    #[error("i/o error on `{path}`: {source}")]
    Io {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("object store error on `{path}`: {message}")]
    Remote { path: String, message: String },
    #[error("invalid object path `{0}`")]
    BadPath(String),
    #[error("storage task failed: {0}")]
    Task(String),
    #[error("injected fault on `{0}`")]
    Injected(String),
    #[error("objects at `{0}`: {1}")]
    Unsupported(String, &'static str),
}

/// Where a deployment keeps its objects: a local folder (`file://DIR` or a
/// plain path) or an S3-compatible bucket and prefix (`s3://bucket/prefix`,
/// with the `s3` feature; endpoint and credentials from the usual `AWS_*`
/// variables). Each kind of object has its own folder under it: the log's
/// under `log/`, sealed packages under `packages/` ([`layout`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ObjectsLocation {
    Dir(PathBuf),
    S3 { bucket: String, prefix: String },
}

impl ObjectsLocation {
    /// Reads `--objects`.
    pub fn parse(url: &str) -> Result<Self, StorageError> {
        if let Some(rest) = url.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(StorageError::Unsupported(url.to_owned(), "no bucket"));
            }
            return Ok(Self::S3 {
                bucket: bucket.to_owned(),
                prefix: prefix.trim_matches('/').to_owned(),
            });
        }
        if let Some(path) = url.strip_prefix("file://") {
            return Ok(Self::Dir(PathBuf::from(path)));
        }
        if url.contains("://") {
            return Err(StorageError::Unsupported(
                url.to_owned(),
                "use a folder, file://DIR or s3://bucket/prefix",
            ));
        }
        Ok(Self::Dir(PathBuf::from(url)))
    }

    /// The storage of one kind of object (`log`, `packages`) under this
    /// location.
    pub fn open(&self, kind: &str) -> Result<std::sync::Arc<dyn ObjectStorage>, StorageError> {
        match self {
            Self::Dir(dir) => Ok(std::sync::Arc::new(LocalDir::new(dir.join(kind)))),
            #[cfg(feature = "s3")]
            Self::S3 { bucket, prefix } => {
                let prefix = if prefix.is_empty() {
                    kind.to_owned()
                } else {
                    format!("{prefix}/{kind}")
                };
                Ok(std::sync::Arc::new(S3::from_env(bucket, &prefix)?))
            }
            #[cfg(not(feature = "s3"))]
            Self::S3 { .. } => Err(StorageError::Unsupported(
                self.to_string(),
                "this build has no S3 support (cargo feature `s3`)",
            )),
        }
    }
}

impl std::fmt::Display for ObjectsLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Dir(dir) => write!(f, "file://{}", dir.display()),
            Self::S3 { bucket, prefix } if prefix.is_empty() => write!(f, "s3://{bucket}"),
            Self::S3 { bucket, prefix } => write!(f, "s3://{bucket}/{prefix}"),
        }
    }
}

/// Object storage: the log's objects, sealed packages.
pub trait ObjectStorage: Send + Sync + 'static {
    /// Writes objects that must not change once written, and returns once all
    /// of them are durable. An object that exists with the same bytes is left
    /// alone; one with other bytes is an error ([`StorageError::Conflict`]).
    fn put_once(&self, objects: Vec<(String, Vec<u8>)>) -> BoxFuture<'_, Result<(), StorageError>>;

    /// Replaces an object durably (the public checkpoint).
    fn put(&self, path: String, data: Vec<u8>) -> BoxFuture<'_, Result<(), StorageError>>;

    /// Reads an object; `None` if it does not exist.
    fn get(&self, path: String) -> BoxFuture<'_, Result<Option<Vec<u8>>, StorageError>>;

    /// Writes the contents of a local file under `path`, durably, replacing
    /// an object of that name, without holding the file in memory.
    fn put_file(&self, path: String, file: PathBuf) -> BoxFuture<'_, Result<(), StorageError>> {
        let _ = file;
        Box::pin(async move { Err(StorageError::Unsupported(path, "large objects")) })
    }

    /// Reads an object as a stream; `None` if it does not exist.
    fn get_stream(
        &self,
        path: String,
    ) -> BoxFuture<'_, Result<Option<ObjectReader>, StorageError>> {
        Box::pin(async move { Err(StorageError::Unsupported(path, "large objects")) })
    }

    /// Deletes an object; deleting one that does not exist succeeds.
    fn delete(&self, path: String) -> BoxFuture<'_, Result<(), StorageError>> {
        Box::pin(async move { Err(StorageError::Unsupported(path, "deleting objects")) })
    }

    /// Every object, with when it was written, in no particular order.
    fn list(&self) -> BoxFuture<'_, Result<Vec<Listed>, StorageError>> {
        Box::pin(async move { Err(StorageError::Unsupported(String::new(), "listing objects")) })
    }

    /// Where the object would be on this machine's disk, when the storage
    /// is a local folder: a large object can then be written there in place
    /// (atomically, by its writer) rather than copied in.
    fn local_path(&self, path: &str) -> Option<PathBuf> {
        let _ = path;
        None
    }
}

/// Object storage in a local folder (the default): `<root>/checkpoint`,
/// `<root>/tile/...`.
///
/// Every object is written to a temporary file, flushed to disk, then linked
/// into place, so that an object is either absent or complete; the folders are
/// flushed too, so that the new names survive a power loss.
#[derive(Clone, Debug)]
pub struct LocalDir {
    root: PathBuf,
    fsync: bool,
}

impl LocalDir {
    /// Storage under `root` (created on first write).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            fsync: true,
        }
    }

    /// Turns flushing to disk off. Only for benchmarks and generated test
    /// data: without it a power loss can lose objects a checkpoint covers.
    pub fn without_fsync(mut self) -> Self {
        self.fsync = false;
        self
    }

    /// The folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn file(&self, path: &str) -> Result<PathBuf, StorageError> {
        if !valid_stored_path(path) {
            return Err(StorageError::BadPath(path.to_owned()));
        }
        Ok(self.root.join(path))
    }

    /// Writes `data` to a fresh temporary name beside the object's file
    /// (flushed when `fsync` is on), creating its folder; returns the file,
    /// its folder and the temporary name.
    fn write_temp(
        &self,
        path: &str,
        data: &[u8],
    ) -> Result<(PathBuf, PathBuf, PathBuf), StorageError> {
        let file = self.file(path)?;
        let io_err = |source| StorageError::Io {
            path: path.to_owned(),
            source,
        };
        let dir = file
            .parent()
            .ok_or_else(|| StorageError::BadPath(path.to_owned()))?
            .to_path_buf();
        std::fs::create_dir_all(&dir).map_err(io_err)?;
        let tmp = temp_name(&file);
        let mut f = std::fs::File::create(&tmp).map_err(io_err)?;
        f.write_all(data).map_err(io_err)?;
        if self.fsync {
            f.sync_data().map_err(io_err)?;
        }
        Ok((file, dir, tmp))
    }

    fn write_once(
        &self,
        path: &str,
        data: &[u8],
        dirs: &mut BTreeSet<PathBuf>,
    ) -> Result<(), StorageError> {
        let io_err = |source| StorageError::Io {
            path: path.to_owned(),
            source,
        };
        let (file, dir, tmp) = self.write_temp(path, data)?;
        let dir = dir.as_path();
        // A hard link never replaces an existing name: create-only.
        let linked = std::fs::hard_link(&tmp, &file);
        let _ = std::fs::remove_file(&tmp);
        match linked {
            Ok(()) => {
                dirs.insert(dir.to_path_buf());
                Ok(())
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                let existing = std::fs::read(&file).map_err(io_err)?;
                if existing == data {
                    Ok(())
                } else {
                    Err(StorageError::Conflict(path.to_owned()))
                }
            }
            Err(e) => Err(io_err(e)),
        }
    }

    fn sync_dirs(&self, dirs: &BTreeSet<PathBuf>) -> Result<(), StorageError> {
        if !self.fsync {
            return Ok(());
        }
        for dir in dirs {
            // Flush the folder and each new folder up to the root, so that
            // the new names are durable.
            let mut d = dir.as_path();
            loop {
                std::fs::File::open(d)
                    .and_then(|f| f.sync_all())
                    .map_err(|source| StorageError::Io {
                        path: d.display().to_string(),
                        source,
                    })?;
                if d == self.root {
                    break;
                }
                match d.parent() {
                    Some(p) if p.starts_with(&self.root) => d = p,
                    _ => break,
                }
            }
        }
        Ok(())
    }

    /// The synchronous form of [`ObjectStorage::put_once`].
    pub fn put_once_blocking(&self, objects: &[(String, Vec<u8>)]) -> Result<(), StorageError> {
        let dirs = self.write_group(objects)?;
        self.sync_dirs(&dirs)
    }

    /// Writes objects once; returns the folders to flush.
    fn write_group(
        &self,
        objects: &[(String, Vec<u8>)],
    ) -> Result<BTreeSet<PathBuf>, StorageError> {
        let mut dirs = BTreeSet::new();
        for (path, data) in objects {
            self.write_once(path, data, &mut dirs)?;
        }
        Ok(dirs)
    }

    /// The synchronous form of [`ObjectStorage::put`].
    pub fn put_blocking(&self, path: &str, data: &[u8]) -> Result<(), StorageError> {
        let (file, dir, tmp) = self.write_temp(path, data)?;
        std::fs::rename(&tmp, &file).map_err(|source| StorageError::Io {
            path: path.to_owned(),
            source,
        })?;
        self.sync_dirs(&BTreeSet::from([dir]))
    }

    /// The synchronous form of [`ObjectStorage::get`].
    pub fn get_blocking(&self, path: &str) -> Result<Option<Vec<u8>>, StorageError> {
        let file = self.file(path)?;
        match std::fs::read(&file) {
            Ok(data) => Ok(Some(data)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(StorageError::Io {
                path: path.to_owned(),
                source,
            }),
        }
    }
}

impl LocalDir {
    /// The synchronous form of [`ObjectStorage::put_file`]: a copy to a
    /// temporary name, flushed, then renamed into place.
    pub fn put_file_blocking(&self, path: &str, source: &Path) -> Result<(), StorageError> {
        let io_err = |source| StorageError::Io {
            path: path.to_owned(),
            source,
        };
        let file = self.file(path)?;
        let dir = file
            .parent()
            .ok_or_else(|| StorageError::BadPath(path.to_owned()))?
            .to_path_buf();
        std::fs::create_dir_all(&dir).map_err(io_err)?;
        let tmp = temp_name(&file);
        let copied = (|| {
            let mut from = std::fs::File::open(source)?;
            let mut to = std::fs::File::create(&tmp)?;
            io::copy(&mut from, &mut to)?;
            if self.fsync {
                to.sync_data()?;
            }
            std::fs::rename(&tmp, &file)
        })();
        if let Err(e) = copied {
            let _ = std::fs::remove_file(&tmp);
            return Err(io_err(e));
        }
        self.sync_dirs(&BTreeSet::from([dir]))
    }

    /// The synchronous form of [`ObjectStorage::delete`].
    pub fn delete_blocking(&self, path: &str) -> Result<(), StorageError> {
        match std::fs::remove_file(self.file(path)?) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(StorageError::Io {
                path: path.to_owned(),
                source,
            }),
        }
    }

    /// The synchronous form of [`ObjectStorage::list`], without the
    /// temporary files of unfinished writes.
    pub fn list_blocking(&self) -> Result<Vec<Listed>, StorageError> {
        let mut out = Vec::new();
        let mut stack = vec![String::new()];
        while let Some(rel) = stack.pop() {
            let dir = self.root.join(&rel);
            let io_err = |source| StorageError::Io {
                path: dir.display().to_string(),
                source,
            };
            let entries = match std::fs::read_dir(&dir) {
                Ok(e) => e,
                Err(e) if e.kind() == io::ErrorKind::NotFound && rel.is_empty() => break,
                Err(e) => return Err(io_err(e)),
            };
            for entry in entries {
                let entry = entry.map_err(io_err)?;
                let name = entry.file_name().to_string_lossy().into_owned();
                let child = if rel.is_empty() {
                    name.clone()
                } else {
                    format!("{rel}/{name}")
                };
                let meta = entry.metadata().map_err(io_err)?;
                if meta.is_dir() {
                    stack.push(child);
                } else if !name.contains(".tmp-") {
                    let modified = meta
                        .modified()
                        .ok()
                        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
                    out.push(Listed {
                        path: child,
                        modified,
                    });
                }
            }
        }
        Ok(out)
    }
}

/// Threads writing the objects of one `put_once` on a local folder.
const WRITE_THREADS: usize = 8;

/// Lowercase hex of a few random bytes.
fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

fn temp_name(file: &Path) -> PathBuf {
    let mut rnd = [0u8; 8];
    let _ = getrandom::fill(&mut rnd);
    let mut name = file.as_os_str().to_owned();
    name.push(format!(".tmp-{}", hex(&rnd)));
    PathBuf::from(name)
}

/// Whether a storage may hold an object under this name: relative, its
/// segments non-empty and made of letters, digits, `.`, `_` and `-`, none of
/// them `.` or `..`. Log objects and packages (`<case>.age`) qualify; what a
/// log serves is narrower (`writ_tlog::storage::valid_object_path`).
pub fn valid_stored_path(path: &str) -> bool {
    !path.is_empty()
        && path.split('/').all(|seg| {
            !seg.is_empty()
                && seg != "."
                && seg != ".."
                && seg
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        })
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StorageError> + Send + 'static,
) -> Result<T, StorageError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StorageError::Task(e.to_string()))?
}

impl ObjectStorage for LocalDir {
    fn put_once(&self, objects: Vec<(String, Vec<u8>)>) -> BoxFuture<'_, Result<(), StorageError>> {
        let this = self.clone();
        Box::pin(async move {
            // Flushing is mostly waiting for the disk: write in several
            // threads so that the flushes overlap.
            let mut groups: Vec<Vec<(String, Vec<u8>)>> =
                (0..WRITE_THREADS).map(|_| Vec::new()).collect();
            for (i, object) in objects.into_iter().enumerate() {
                groups[i % WRITE_THREADS].push(object);
            }
            let mut tasks = Vec::new();
            for group in groups.into_iter().filter(|g| !g.is_empty()) {
                let this = this.clone();
                tasks.push(tokio::task::spawn_blocking(move || {
                    this.write_group(&group)
                }));
            }
            let mut dirs = BTreeSet::new();
            let mut first_error = None;
            for t in tasks {
                match t.await.map_err(|e| StorageError::Task(e.to_string())) {
                    Ok(Ok(d)) => dirs.extend(d),
                    Ok(Err(e)) | Err(e) => {
                        first_error.get_or_insert(e);
                    }
                }
            }
            if let Some(e) = first_error {
                return Err(e);
            }
            blocking(move || this.sync_dirs(&dirs)).await
        })
    }

    fn put(&self, path: String, data: Vec<u8>) -> BoxFuture<'_, Result<(), StorageError>> {
        let this = self.clone();
        Box::pin(blocking(move || this.put_blocking(&path, &data)))
    }

    fn get(&self, path: String) -> BoxFuture<'_, Result<Option<Vec<u8>>, StorageError>> {
        let this = self.clone();
        Box::pin(blocking(move || this.get_blocking(&path)))
    }

    fn put_file(&self, path: String, file: PathBuf) -> BoxFuture<'_, Result<(), StorageError>> {
        let this = self.clone();
        Box::pin(blocking(move || this.put_file_blocking(&path, &file)))
    }

    fn get_stream(
        &self,
        path: String,
    ) -> BoxFuture<'_, Result<Option<ObjectReader>, StorageError>> {
        Box::pin(async move {
            let file = self.file(&path)?;
            let io_err = |source| StorageError::Io {
                path: path.clone(),
                source,
            };
            let opened = match tokio::fs::File::open(&file).await {
                Ok(f) => f,
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(io_err(e)),
            };
            let size = opened.metadata().await.map_err(io_err)?.len();
            Ok(Some(ObjectReader {
                size,
                stream: file_stream(opened, path),
            }))
        })
    }

    fn delete(&self, path: String) -> BoxFuture<'_, Result<(), StorageError>> {
        let this = self.clone();
        Box::pin(blocking(move || this.delete_blocking(&path)))
    }

    fn list(&self) -> BoxFuture<'_, Result<Vec<Listed>, StorageError>> {
        let this = self.clone();
        Box::pin(blocking(move || this.list_blocking()))
    }

    fn local_path(&self, path: &str) -> Option<PathBuf> {
        self.file(path).ok()
    }
}

/// A local file's bytes as a stream of chunks of up to 256 KiB.
fn file_stream(file: tokio::fs::File, path: String) -> ByteStream {
    use tokio::io::AsyncReadExt as _;
    const CHUNK: usize = 256 * 1024;
    Box::pin(futures_util::stream::try_unfold(
        (file, path),
        |(mut file, path)| async move {
            let mut buf = bytes::BytesMut::zeroed(CHUNK);
            let mut filled = 0;
            while filled < CHUNK {
                let n = file
                    .read(&mut buf[filled..])
                    .await
                    .map_err(|source| StorageError::Io {
                        path: path.clone(),
                        source,
                    })?;
                if n == 0 {
                    break;
                }
                filled += n;
            }
            if filled == 0 {
                return Ok(None);
            }
            buf.truncate(filled);
            Ok(Some((buf.freeze(), (file, path))))
        },
    ))
}

#[cfg(feature = "s3")]
pub use s3::S3;

#[cfg(feature = "s3")]
mod s3 {
    //! S3-compatible storage through `object_store`. Tiles and bundles are
    //! written with `PutMode::Create`, so the store itself refuses a second
    //! write; the checkpoint's compare-and-swap stays in the trusted store.

    use std::sync::Arc;

    use futures_util::{StreamExt as _, TryStreamExt as _};
    use object_store::path::Path as ObjectPath;
    use object_store::{
        ObjectStore, ObjectStoreExt as _, PutMode, PutOptions, PutPayload, WriteMultipart,
    };
    use tokio::io::AsyncReadExt as _;

    use super::{
        BoxFuture, Listed, ObjectReader, ObjectStorage, PART_SIZE, StorageError, valid_stored_path,
    };

    /// Parts of a multipart upload in flight at once.
    const PARTS_IN_FLIGHT: usize = 4;

    /// Objects in a bucket under a prefix.
    #[derive(Clone, Debug)]
    pub struct S3 {
        store: Arc<dyn ObjectStore>,
        prefix: String,
    }

    impl S3 {
        /// Any `object_store` store, objects under `prefix` (may be empty).
        pub fn new(store: Arc<dyn ObjectStore>, prefix: &str) -> Self {
            Self {
                store,
                prefix: prefix.trim_matches('/').to_owned(),
            }
        }

        /// An S3 bucket configured from the usual `AWS_*` variables.
        pub fn from_env(bucket: &str, prefix: &str) -> Result<Self, StorageError> {
            let store = object_store::aws::AmazonS3Builder::from_env()
                .with_bucket_name(bucket)
                .build()
                .map_err(|e| StorageError::Remote {
                    path: bucket.to_owned(),
                    message: e.to_string(),
                })?;
            Ok(Self::new(Arc::new(store), prefix))
        }

        fn location(&self, path: &str) -> Result<ObjectPath, StorageError> {
            if !valid_stored_path(path) {
                return Err(StorageError::BadPath(path.to_owned()));
            }
            Ok(if self.prefix.is_empty() {
                ObjectPath::from(path)
            } else {
                ObjectPath::from(format!("{}/{path}", self.prefix))
            })
        }

        async fn get_inner(&self, path: &str) -> Result<Option<Vec<u8>>, StorageError> {
            let location = self.location(path)?;
            let remote = |e: object_store::Error| StorageError::Remote {
                path: path.to_owned(),
                message: e.to_string(),
            };
            match self.store.get(&location).await {
                Ok(res) => Ok(Some(res.bytes().await.map_err(remote)?.to_vec())),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(remote(e)),
            }
        }

        async fn put_create(&self, path: String, data: Vec<u8>) -> Result<(), StorageError> {
            let location = self.location(&path)?;
            let opts = PutOptions {
                mode: PutMode::Create,
                ..PutOptions::default()
            };
            match self
                .store
                .put_opts(&location, PutPayload::from(data.clone()), opts)
                .await
            {
                Ok(_) => Ok(()),
                Err(object_store::Error::AlreadyExists { .. }) => {
                    match self.get_inner(&path).await? {
                        Some(existing) if existing == data => Ok(()),
                        _ => Err(StorageError::Conflict(path)),
                    }
                }
                Err(e) => Err(StorageError::Remote {
                    path,
                    message: e.to_string(),
                }),
            }
        }
    }

    impl ObjectStorage for S3 {
        fn put_once(
            &self,
            objects: Vec<(String, Vec<u8>)>,
        ) -> BoxFuture<'_, Result<(), StorageError>> {
            Box::pin(async move {
                let mut set = tokio::task::JoinSet::new();
                for (path, data) in objects {
                    let this = self.clone();
                    set.spawn(async move { this.put_create(path, data).await });
                }
                while let Some(res) = set.join_next().await {
                    res.map_err(|e| StorageError::Task(e.to_string()))??;
                }
                Ok(())
            })
        }

        fn put(&self, path: String, data: Vec<u8>) -> BoxFuture<'_, Result<(), StorageError>> {
            Box::pin(async move {
                let location = self.location(&path)?;
                self.store
                    .put(&location, PutPayload::from(data))
                    .await
                    .map(|_| ())
                    .map_err(|e| StorageError::Remote {
                        path,
                        message: e.to_string(),
                    })
            })
        }

        fn get(&self, path: String) -> BoxFuture<'_, Result<Option<Vec<u8>>, StorageError>> {
            Box::pin(async move { self.get_inner(&path).await })
        }

        fn put_file(
            &self,
            path: String,
            file: std::path::PathBuf,
        ) -> BoxFuture<'_, Result<(), StorageError>> {
            Box::pin(async move {
                let location = self.location(&path)?;
                let io_err = |source| StorageError::Io {
                    path: file.display().to_string(),
                    source,
                };
                let remote = |e: object_store::Error| StorageError::Remote {
                    path: path.clone(),
                    message: e.to_string(),
                };
                let mut from = tokio::fs::File::open(&file).await.map_err(io_err)?;
                let size = from.metadata().await.map_err(io_err)?.len();
                if size <= PART_SIZE as u64 {
                    let mut data = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
                    from.read_to_end(&mut data).await.map_err(io_err)?;
                    self.store
                        .put(&location, PutPayload::from(data))
                        .await
                        .map_err(remote)?;
                    return Ok(());
                }
                // Parts go up while the next is read; at most
                // PARTS_IN_FLIGHT parts are held in memory.
                let upload = self.store.put_multipart(&location).await.map_err(remote)?;
                let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
                let mut buf = vec![0u8; 1024 * 1024];
                loop {
                    let n = match from.read(&mut buf).await {
                        Ok(0) => break,
                        Ok(n) => n,
                        Err(e) => {
                            let _ = writer.abort().await;
                            return Err(io_err(e));
                        }
                    };
                    if let Err(e) = writer.wait_for_capacity(PARTS_IN_FLIGHT).await {
                        let _ = writer.abort().await;
                        return Err(remote(e));
                    }
                    writer.write(&buf[..n]);
                }
                writer.finish().await.map_err(remote)?;
                Ok(())
            })
        }

        fn get_stream(
            &self,
            path: String,
        ) -> BoxFuture<'_, Result<Option<ObjectReader>, StorageError>> {
            Box::pin(async move {
                let location = self.location(&path)?;
                match self.store.get(&location).await {
                    Ok(res) => {
                        let size = res.meta.size;
                        let stream = res.into_stream().map_err(move |e| StorageError::Remote {
                            path: path.clone(),
                            message: e.to_string(),
                        });
                        Ok(Some(ObjectReader {
                            size,
                            stream: stream.boxed(),
                        }))
                    }
                    Err(object_store::Error::NotFound { .. }) => Ok(None),
                    Err(e) => Err(StorageError::Remote {
                        path,
                        message: e.to_string(),
                    }),
                }
            })
        }

        fn delete(&self, path: String) -> BoxFuture<'_, Result<(), StorageError>> {
            Box::pin(async move {
                let location = self.location(&path)?;
                match self.store.delete(&location).await {
                    Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                    Err(e) => Err(StorageError::Remote {
                        path,
                        message: e.to_string(),
                    }),
                }
            })
        }

        fn list(&self) -> BoxFuture<'_, Result<Vec<Listed>, StorageError>> {
            Box::pin(async move {
                let prefix =
                    (!self.prefix.is_empty()).then(|| ObjectPath::from(self.prefix.as_str()));
                let metas: Vec<object_store::ObjectMeta> = self
                    .store
                    .list(prefix.as_ref())
                    .try_collect()
                    .await
                    .map_err(|e| StorageError::Remote {
                        path: self.prefix.clone(),
                        message: e.to_string(),
                    })?;
                let strip = if self.prefix.is_empty() {
                    String::new()
                } else {
                    format!("{}/", self.prefix)
                };
                Ok(metas
                    .into_iter()
                    .filter_map(|m| {
                        let path = m.location.as_ref().strip_prefix(&strip)?.to_owned();
                        Some(Listed {
                            path,
                            modified: m.last_modified.timestamp(),
                        })
                    })
                    .collect())
            })
        }
    }
}
