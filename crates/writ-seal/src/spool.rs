//! Writing NDJSON records while hashing and counting them.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::SealError;
use crate::hash::{HashingWriter, ParallelHashingWriter};
use crate::manifest::FileEntry;

/// Large enough that hashing and file writes work on big blocks.
const BUFFER: usize = 256 * 1024;

/// Writes one JSON record a line to any writer, hashing and counting them.
/// No IO of its own beyond the writer it is given.
#[derive(Debug)]
pub struct RecordWriter<W: Write> {
    // Buffer before hashing, so that the hasher sees large blocks rather
    // than the many small writes of the JSON serializer.
    out: BufWriter<HashingWriter<W>>,
    records: u64,
}

impl<W: Write> RecordWriter<W> {
    pub fn new(inner: W) -> Self {
        Self {
            out: BufWriter::with_capacity(BUFFER, HashingWriter::new(inner)),
            records: 0,
        }
    }

    /// Appends one record as a line of compact JSON.
    pub fn record<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), SealError> {
        // Compact serde_json output never holds a raw newline (they are
        // escaped inside strings), so one record is exactly one line.
        serde_json::to_writer(&mut self.out, value)?;
        self.out
            .write_all(b"\n")
            .map_err(SealError::stream("cannot write a record"))?;
        self.records += 1;
        Ok(())
    }

    /// Appends one record that is already a line of JSON (without its
    /// newline). The line is taken as it is: the caller vouches that it is
    /// JSON; a newline inside it is refused, since it would split a record.
    pub fn line(&mut self, line: &[u8]) -> Result<(), SealError> {
        if line.contains(&b'\n') {
            return Err(SealError::BadRecord(
                "a newline inside a record would split it".into(),
            ));
        }
        self.out
            .write_all(line)
            .and_then(|()| self.out.write_all(b"\n"))
            .map_err(SealError::stream("cannot write a record"))?;
        self.records += 1;
        Ok(())
    }

    /// Records written so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Flushes and returns the inner writer, the SHA-256, the record count
    /// and the byte count.
    pub fn finish(self) -> Result<(W, String, u64, u64), SealError> {
        let records = self.records;
        let hashing = self.out.into_inner().map_err(|e| SealError::Stream {
            what: "cannot flush records",
            source: e.into_error(),
        })?;
        let (inner, sha256, bytes) = hashing.finish();
        Ok((inner, sha256, records, bytes))
    }
}

/// A file of records on its way into a package: counted on the caller's
/// thread, hashed on a second one and written on a third
/// (`ParallelHashingWriter`), so that hashing and writing overlap with
/// producing the records.
#[derive(Debug)]
pub struct Spool {
    path: PathBuf,
    // Buffers on its own (blocks handed to the hashing thread), so it needs
    // no `BufWriter` in front, which would copy every byte once more.
    out: ParallelHashingWriter<File>,
    records: u64,
}

/// A spool file ready to be sealed: its manifest entry, where it is and its
/// size. Serializable so that a collection can record it as done.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Spooled {
    pub entry: FileEntry,
    pub spool: PathBuf,
    pub size: u64,
}

impl Spooled {
    /// Whether the spool file still holds exactly the bytes it was written
    /// with (size and SHA-256): how a spool that was never synced is
    /// trusted again after a crash.
    pub fn is_intact(&self) -> bool {
        let Ok(file) = File::open(&self.spool) else {
            return false;
        };
        if file.metadata().map(|m| m.len()).ok() != Some(self.size) {
            return false;
        }
        let mut hashing = HashingWriter::new(std::io::sink());
        let copied = std::io::copy(
            &mut std::io::BufReader::with_capacity(BUFFER, file),
            &mut hashing,
        );
        let (_, sha256, bytes) = hashing.finish();
        copied.is_ok() && bytes == self.size && sha256 == self.entry.sha256
    }
}

impl Spool {
    /// Creates (or truncates) the spool file at `path`.
    pub fn create(path: &Path) -> Result<Self, SealError> {
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .map_err(SealError::io("cannot create spool file", path))?;
        let out =
            ParallelHashingWriter::new(file).map_err(SealError::stream("cannot start hashing"))?;
        Ok(Self {
            path: path.to_owned(),
            out,
            records: 0,
        })
    }

    /// Appends one record as a line of compact JSON.
    pub fn record<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), SealError> {
        // Compact serde_json output never holds a raw newline, so one
        // record is exactly one line.
        serde_json::to_writer(&mut self.out, value)?;
        self.out
            .write_all(b"\n")
            .map_err(SealError::stream("cannot write a record"))?;
        self.records += 1;
        Ok(())
    }

    /// Appends one record that is already a line of JSON (see
    /// [`RecordWriter::line`]).
    pub fn line(&mut self, line: &[u8]) -> Result<(), SealError> {
        if line.contains(&b'\n') {
            return Err(SealError::BadRecord(
                "a newline inside a record would split it".into(),
            ));
        }
        self.out
            .write_all(line)
            .and_then(|()| self.out.write_all(b"\n"))
            .map_err(SealError::stream("cannot write a record"))?;
        self.records += 1;
        Ok(())
    }

    pub fn records(&self) -> u64 {
        self.records
    }

    /// Flushes and syncs the file, and names it `entry_path` in the package.
    pub fn finish(self, entry_path: String) -> Result<Spooled, SealError> {
        let (file, spooled) = self.close(entry_path)?;
        file.sync_all()
            .map_err(SealError::io("cannot sync spool file", &spooled.spool))?;
        Ok(spooled)
    }

    /// Flushes the file without syncing it. Cheaper when the spool is
    /// sealed and deleted soon after (its pages may never reach the disk),
    /// but a crash may lose or tear it: check [`Spooled::is_intact`] before
    /// trusting it again.
    pub fn finish_unsynced(self, entry_path: String) -> Result<Spooled, SealError> {
        Ok(self.close(entry_path)?.1)
    }

    fn close(self, entry_path: String) -> Result<(File, Spooled), SealError> {
        let (file, sha256, size) = self
            .out
            .finish()
            .map_err(SealError::io("cannot write spool file", &self.path))?;
        let spooled = Spooled {
            entry: FileEntry {
                path: entry_path,
                sha256,
                records: self.records,
            },
            spool: self.path,
            size,
        };
        Ok((file, spooled))
    }
}
