//! Writing NDJSON records while hashing and counting them.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::SealError;
use crate::hash::HashingWriter;
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

/// A file of records on its way into a package: written, hashed and counted
/// in one pass, then synced to disk.
#[derive(Debug)]
pub struct Spool {
    path: PathBuf,
    writer: RecordWriter<File>,
}

/// A spool file ready to be sealed: its manifest entry, where it is and its
/// size. Serializable so that a collection can record it as done.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Spooled {
    pub entry: FileEntry,
    pub spool: PathBuf,
    pub size: u64,
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
        Ok(Self {
            path: path.to_owned(),
            writer: RecordWriter::new(file),
        })
    }

    pub fn record<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), SealError> {
        self.writer.record(value)
    }

    pub fn line(&mut self, line: &[u8]) -> Result<(), SealError> {
        self.writer.line(line)
    }

    pub fn records(&self) -> u64 {
        self.writer.records()
    }

    /// Flushes and syncs the file, and names it `entry_path` in the package.
    pub fn finish(self, entry_path: String) -> Result<Spooled, SealError> {
        let (file, sha256, records, size) = self.writer.finish()?;
        file.sync_all()
            .map_err(SealError::io("cannot sync spool file", &self.path))?;
        Ok(Spooled {
            entry: FileEntry {
                path: entry_path,
                sha256,
                records,
            },
            spool: self.path,
            size,
        })
    }
}
