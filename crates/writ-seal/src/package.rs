//! Writing the sealed package: tar inside age, hashed, written atomically.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use age::x25519::Recipient;

use crate::SealError;
use crate::early_sync::EarlySync;
use crate::manifest::{FileEntry, MANIFEST_PATH, Manifest, PackageHeader, check_entry_path};
use crate::spool::Spooled;
use crate::writer::AgeWriter;

// No buffer between the age writer and the file: it writes whole segments.
type Sink = AgeWriter<EarlySync>;

/// A package being written. Files are appended one by one; [`finish`]
/// appends the manifest, closes the age stream, syncs the file and renames
/// it into place. Until then the package exists only as a hidden temporary
/// file beside its destination, removed if the writer is dropped, so that an
/// interrupted sealing never leaves a partial package under its final name.
///
/// [`finish`]: PackageWriter::finish
pub struct PackageWriter {
    dest: PathBuf,
    header: PackageHeader,
    temp: tempfile::TempPath,
    tar: tar::Builder<Sink>,
    files: Vec<FileEntry>,
}

impl std::fmt::Debug for PackageWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PackageWriter")
            .field("dest", &self.dest)
            .field("header", &self.header)
            .field("files", &self.files)
            .finish_non_exhaustive()
    }
}

/// A sealed package as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sealed {
    pub path: PathBuf,
    /// SHA-256 of the age file, lowercase hex: what the `disclosed` event
    /// commits to.
    pub sha256: String,
    /// Size of the age file in bytes.
    pub size: u64,
    pub manifest: Manifest,
}

impl PackageWriter {
    /// Starts a package that will be renamed to `dest` when finished.
    pub fn create(
        dest: &Path,
        recipient: &Recipient,
        header: PackageHeader,
    ) -> Result<Self, SealError> {
        let dir = parent(dest);
        let named = tempfile::Builder::new()
            .prefix(".writ-seal-")
            .suffix(".partial")
            .tempfile_in(dir)
            .map_err(SealError::io("cannot create a temporary package in", dir))?;
        let (file, temp) = named.into_parts();
        let file = EarlySync::new(file).map_err(SealError::io("cannot start syncing", &temp))?;
        let stream = AgeWriter::new(file, recipient)?;
        let mut tar = tar::Builder::new(stream);
        tar.mode(tar::HeaderMode::Deterministic);
        Ok(Self {
            dest: dest.to_owned(),
            header,
            temp,
            tar,
            files: Vec::new(),
        })
    }

    /// Appends one file of `size` bytes read from `data`, under the entry
    /// (path, hash and count) computed when it was written.
    pub fn append(
        &mut self,
        entry: FileEntry,
        size: u64,
        data: impl Read,
    ) -> Result<(), SealError> {
        check_entry_path(&entry.path)?;
        if entry.path == MANIFEST_PATH || self.files.iter().any(|f| f.path == entry.path) {
            return Err(SealError::BadPath(entry.path));
        }
        let mut header = self.tar_header(size);
        // `take` guards the tar framing: a reader longer than announced
        // cannot spill into the next entry, and a shorter one is an error.
        let mut data = data.take(size);
        let copied = if header.set_path(&entry.path).is_ok() {
            // A path that fits the header: write the header ourselves and
            // read the data straight into the age writer's segments (tar's
            // own copy goes through an 8 KiB buffer).
            header.set_cksum();
            self.copy_entry(&header, &mut data)
        } else {
            // Longer paths need tar's GNU long-name entries.
            let mut counted = CountingReader {
                inner: &mut data,
                bytes: 0,
            };
            self.tar
                .append_data(&mut header, &entry.path, &mut counted)
                .map(|()| counted.bytes)
        }
        .map_err(SealError::stream("cannot write package entry"))?;
        if copied != size {
            return Err(SealError::Mismatch(format!(
                "`{}` gave {copied} bytes where {size} were announced",
                entry.path
            )));
        }
        self.files.push(entry);
        Ok(())
    }

    /// Appends a spool file.
    pub fn append_spooled(&mut self, spooled: &Spooled) -> Result<(), SealError> {
        let file = File::open(&spooled.spool)
            .map_err(SealError::io("cannot open spool file", &spooled.spool))?;
        let len = file
            .metadata()
            .map_err(SealError::io("cannot read spool file", &spooled.spool))?
            .len();
        if len != spooled.size {
            return Err(SealError::Mismatch(format!(
                "spool file `{}` has {len} bytes where {} were written",
                spooled.spool.display(),
                spooled.size
            )));
        }
        self.append(spooled.entry.clone(), spooled.size, file)
    }

    /// Appends the manifest, closes the stream and moves the package into
    /// place (fsync of the file, rename, fsync of the directory).
    pub fn finish(mut self) -> Result<Sealed, SealError> {
        let manifest = Manifest::new(self.header.clone(), std::mem::take(&mut self.files));
        let bytes = manifest.to_bytes()?;
        let mut header = self.tar_header(bytes.len() as u64);
        self.tar
            .append_data(&mut header, MANIFEST_PATH, bytes.as_slice())
            .map_err(SealError::stream("cannot write the manifest"))?;
        let stream = self
            .tar
            .into_inner()
            .map_err(SealError::stream("cannot end the tar"))?;
        let written = stream.finish()?;
        let (file, sha256, size) = (written.inner, written.sha256, written.bytes);
        let (file, _) = file
            .finish()
            .map_err(SealError::io("cannot sync package", &self.temp))?;
        file.sync_all()
            .map_err(SealError::io("cannot sync package", &self.temp))?;
        drop(file);
        self.temp.persist(&self.dest).map_err(|e| SealError::Io {
            what: "cannot move the package into place at",
            path: self.dest.clone(),
            source: e.error,
        })?;
        sync_dir(parent(&self.dest))?;
        Ok(Sealed {
            path: self.dest,
            sha256,
            size,
            manifest,
        })
    }

    /// Writes a header and its data, padded to the tar block size; returns
    /// the number of data bytes.
    fn copy_entry(&mut self, header: &tar::Header, data: &mut impl Read) -> std::io::Result<u64> {
        let out = self.tar.get_mut();
        out.write_all(header.as_bytes())?;
        let copied = out.copy_from(data)?;
        let pad = (512 - (copied % 512)) % 512;
        out.write_all(&[0u8; 512][..usize::try_from(pad).unwrap_or(0)])?;
        Ok(copied)
    }

    fn tar_header(&self, size: u64) -> tar::Header {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_size(size);
        header.set_mode(0o644);
        header.set_mtime(u64::try_from(self.header.created_at.as_second()).unwrap_or(0));
        header
    }
}

/// Seals spool files into a package at `dest`.
pub fn seal_spools(
    dest: &Path,
    recipient: &Recipient,
    header: PackageHeader,
    spools: &[Spooled],
) -> Result<Sealed, SealError> {
    let mut writer = PackageWriter::create(dest, recipient, header)?;
    for spooled in spools {
        writer.append_spooled(spooled)?;
    }
    writer.finish()
}

/// Syncs a directory, so that a rename or a new file in it is durable.
pub fn sync_dir(dir: &Path) -> Result<(), SealError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(SealError::io("cannot sync directory", dir))
}

fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

struct CountingReader<R> {
    inner: R,
    bytes: u64,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }
}
