//! Writers that hash and count what passes through them (no IO of their own).

use std::io::{self, Write};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use sha2::{Digest, Sha256};

/// Passes every byte to `inner` and hashes it with SHA-256 on the way.
#[derive(Debug)]
pub struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> HashingWriter<W> {
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
        }
    }

    /// Bytes written so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    pub fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }

    /// The inner writer, the lowercase hex SHA-256 and the byte count.
    pub fn finish(self) -> (W, String, u64) {
        (self.inner, hex(&self.hasher.finalize()), self.bytes)
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        // Hash only what the inner writer took, so that a short write is
        // hashed exactly once when the caller retries the rest.
        let taken = buf.get(..n).unwrap_or(buf);
        self.hasher.update(taken);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Lowercase hexadecimal.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

/// SHA-256 of a byte string, lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Like [`HashingWriter`], but the caller's thread only copies: the
/// bytes are hashed on a second thread and written to the inner writer on a
/// third, so that producing, hashing and writing them overlap. Bytes are
/// handed over in blocks of 256 KiB through bounded channels, so at most a
/// few MiB are in flight.
///
/// The inner writer belongs to the writing thread until
/// [`finish`](ParallelHashingWriter::finish) returns it: `flush` does not
/// wait for it, and a write error is reported by the next block handed over
/// or by `finish`.
#[derive(Debug)]
pub struct ParallelHashingWriter<W> {
    pending: Vec<u8>,
    tx: Option<SyncSender<Vec<u8>>>,
    // Blocks come back once written and are reused: allocating a fresh
    // 256 KiB block each time costs an mmap and page faults.
    free: Receiver<Vec<u8>>,
    hasher: Option<JoinHandle<String>>,
    writer: Option<JoinHandle<(W, io::Result<()>)>>,
    bytes: u64,
}

const BLOCK: usize = 256 * 1024;
const BLOCKS_IN_FLIGHT: usize = 4;

impl<W: Write + Send + 'static> ParallelHashingWriter<W> {
    pub fn new(mut inner: W) -> io::Result<Self> {
        let (tx, rx) = sync_channel::<Vec<u8>>(BLOCKS_IN_FLIGHT);
        let (hashed_tx, hashed) = sync_channel::<Vec<u8>>(BLOCKS_IN_FLIGHT);
        let (free_tx, free) = sync_channel::<Vec<u8>>(2 * BLOCKS_IN_FLIGHT + 2);
        let hasher = std::thread::Builder::new()
            .name("writ-seal-hash".into())
            .spawn(move || {
                let mut hasher = Sha256::new();
                for block in rx {
                    hasher.update(&block);
                    if hashed_tx.send(block).is_err() {
                        // The writing thread stopped on an error, which
                        // `finish` reports.
                        break;
                    }
                }
                hex(&hasher.finalize())
            })?;
        let writer = std::thread::Builder::new()
            .name("writ-seal-write".into())
            .spawn(move || {
                for mut block in hashed {
                    if let Err(e) = inner.write_all(&block) {
                        return (inner, Err(e));
                    }
                    block.clear();
                    let _ = free_tx.try_send(block);
                }
                (inner, Ok(()))
            })?;
        Ok(Self {
            pending: Vec::with_capacity(BLOCK),
            tx: Some(tx),
            free,
            hasher: Some(hasher),
            writer: Some(writer),
            bytes: 0,
        })
    }

    fn send(&mut self) -> io::Result<()> {
        let next = self
            .free
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(BLOCK));
        let block = std::mem::replace(&mut self.pending, next);
        let sent = self.tx.as_ref().is_some_and(|tx| tx.send(block).is_ok());
        if sent {
            Ok(())
        } else {
            // A thread stopped: say why.
            drop(self.tx.take());
            Err(self.join().err().unwrap_or_else(stopped))
        }
    }

    /// Waits for both threads: the inner writer and the digest, or the
    /// first error.
    fn join(&mut self) -> io::Result<(W, String)> {
        let digest = self.hasher.take().map(JoinHandle::join);
        let written = self.writer.take().map(JoinHandle::join);
        match (written, digest) {
            (Some(Ok((_, Err(e)))), _) => Err(e),
            (Some(Ok((inner, Ok(())))), Some(Ok(digest))) => Ok((inner, digest)),
            _ => Err(stopped()),
        }
    }

    /// The inner writer, the lowercase hex SHA-256 and the byte count, once
    /// every byte has been hashed and written.
    pub fn finish(mut self) -> io::Result<(W, String, u64)> {
        if !self.pending.is_empty() {
            self.send()?;
        }
        drop(self.tx.take());
        let (inner, digest) = self.join()?;
        Ok((inner, digest, self.bytes))
    }
}

fn stopped() -> io::Error {
    io::Error::other("the hashing or writing thread stopped")
}

impl<W: Write + Send + 'static> Write for ParallelHashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let room = BLOCK.saturating_sub(self.pending.len()).max(1);
        let taken = buf.get(..room).unwrap_or(buf);
        self.pending.extend_from_slice(taken);
        self.bytes += taken.len() as u64;
        if self.pending.len() >= BLOCK {
            self.send()?;
        }
        Ok(taken.len())
    }

    /// Does not wait for the writing thread: [`ParallelHashingWriter::finish`]
    /// does.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
