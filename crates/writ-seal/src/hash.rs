//! Writers that hash and count what passes through them (no IO of their own).

use std::io::{self, Write};

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

/// Like [`HashingWriter`], but hashes on a second thread, so that hashing
/// the age file overlaps with encrypting it. Bytes are handed over in
/// blocks of [`BLOCK`] through a bounded channel, so at most a few MiB are
/// in flight.
#[derive(Debug)]
pub struct ParallelHashingWriter<W> {
    inner: W,
    pending: Vec<u8>,
    tx: Option<std::sync::mpsc::SyncSender<Vec<u8>>>,
    // Blocks come back once hashed and are reused: allocating a fresh
    // 256 KiB block each time costs an mmap and page faults.
    free: std::sync::mpsc::Receiver<Vec<u8>>,
    hasher: Option<std::thread::JoinHandle<String>>,
    bytes: u64,
}

const BLOCK: usize = 256 * 1024;
const BLOCKS_IN_FLIGHT: usize = 4;

impl<W: Write> ParallelHashingWriter<W> {
    pub fn new(inner: W) -> io::Result<Self> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(BLOCKS_IN_FLIGHT);
        let (free_tx, free) = std::sync::mpsc::sync_channel::<Vec<u8>>(BLOCKS_IN_FLIGHT + 1);
        let hasher = std::thread::Builder::new()
            .name("writ-seal-hash".into())
            .spawn(move || {
                let mut hasher = Sha256::new();
                for mut block in rx {
                    hasher.update(&block);
                    block.clear();
                    let _ = free_tx.try_send(block);
                }
                hex(&hasher.finalize())
            })?;
        Ok(Self {
            inner,
            pending: Vec::with_capacity(BLOCK),
            tx: Some(tx),
            free,
            hasher: Some(hasher),
            bytes: 0,
        })
    }

    fn send(&mut self) -> io::Result<()> {
        let next = self
            .free
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(BLOCK));
        let block = std::mem::replace(&mut self.pending, next);
        match &self.tx {
            Some(tx) => tx
                .send(block)
                .map_err(|_| io::Error::other("the hashing thread stopped")),
            None => Err(io::Error::other("the hashing thread stopped")),
        }
    }

    /// The inner writer, the lowercase hex SHA-256 and the byte count.
    pub fn finish(mut self) -> io::Result<(W, String, u64)> {
        if !self.pending.is_empty() {
            self.send()?;
        }
        drop(self.tx.take());
        let digest = self
            .hasher
            .take()
            .ok_or_else(|| io::Error::other("the hashing thread stopped"))?
            .join()
            .map_err(|_| io::Error::other("the hashing thread failed"))?;
        Ok((self.inner, digest, self.bytes))
    }
}

impl<W: Write> Write for ParallelHashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        let taken = buf.get(..n).unwrap_or(buf);
        self.pending.extend_from_slice(taken);
        self.bytes += n as u64;
        if self.pending.len() >= BLOCK {
            self.send()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
