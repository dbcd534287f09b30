//! [`AgeWriter`]: an age v1 file written by a pipeline of threads.
//!
//! The age payload is a sequence of independent 64 KiB STREAM chunks, each
//! with its own nonce (its counter and a last-chunk flag), so chunks can be
//! encrypted in any order on any core. The pipeline:
//!
//! 1. the caller's thread copies plaintext into *segments* (16 chunks laid
//!    out with a gap for each tag, so encryption works in place);
//! 2. one encryption thread per core takes whole segments from a shared
//!    queue and encrypts their chunks;
//! 3. one output thread puts segments back in order and writes them;
//! 4. one hashing thread hashes the bytes written (the SHA-256 of the age
//!    file, which the log commits to), so hashing overlaps with encryption
//!    and writing instead of following them.
//!
//! Memory is bounded by a fixed pool of segments: the caller blocks until
//! the hashing thread has hashed one and handed it back, so at most
//! [`SEGMENTS`] × 1 MiB are in flight whatever the size of the file.

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use sha2::{Digest, Sha256};

use crate::SealError;
use crate::agev1::{CHUNK, PayloadCipher, Sealing, TAG, encrypt_chunk, payload_cipher};
use crate::hash::hex;

/// Chunks per segment: 1 MiB of plaintext, large enough that handing a
/// segment between threads costs nothing next to encrypting it.
const SEGMENT_CHUNKS: usize = 16;
/// A chunk and its tag.
const STRIDE: usize = CHUNK + TAG;
const SEGMENT_PLAIN: usize = SEGMENT_CHUNKS * CHUNK;
const SEGMENT_BYTES: usize = SEGMENT_CHUNKS * STRIDE;
/// Segments in the pool: enough to keep every core and the output busy.
pub const SEGMENTS: usize = 8;
/// At most this many encryption threads, whatever the machine.
const MAX_WORKERS: usize = 4;

struct Segment {
    /// The STREAM counter of its first chunk.
    first_chunk: u64,
    /// Which segment of the file this is, for putting them back in order.
    index: u64,
    buf: Vec<u8>,
    /// Plaintext bytes in it.
    plain: usize,
    /// Whether it ends the payload (its last chunk carries the flag).
    last: bool,
    /// Bytes to write once encrypted.
    out: usize,
}

impl Segment {
    fn new() -> Self {
        Self {
            first_chunk: 0,
            index: 0,
            buf: vec![0u8; SEGMENT_BYTES],
            plain: 0,
            last: false,
            out: 0,
        }
    }

    /// Copies plaintext in at the current position (within one chunk);
    /// returns how much was taken.
    fn fill(&mut self, data: &[u8]) -> usize {
        let room = self.chunk_room();
        let n = data.len().min(room);
        let at = self.position();
        if let (Some(dst), Some(src)) = (self.buf.get_mut(at..at + n), data.get(..n)) {
            dst.copy_from_slice(src);
            self.plain += n;
            n
        } else {
            0
        }
    }

    /// Reads plaintext straight into the current chunk; returns the bytes
    /// read (0 at the end of `reader`).
    fn read_from(&mut self, reader: &mut impl Read) -> io::Result<usize> {
        let room = self.chunk_room();
        let at = self.position();
        let Some(dst) = self.buf.get_mut(at..at + room) else {
            return Ok(0);
        };
        let n = reader.read(dst)?;
        self.plain += n;
        Ok(n)
    }

    fn full(&self) -> bool {
        self.plain == SEGMENT_PLAIN
    }

    fn chunk_room(&self) -> usize {
        if self.full() {
            0
        } else {
            CHUNK - self.plain % CHUNK
        }
    }

    /// Where the next plaintext byte goes: chunk by chunk, skipping the
    /// tag after each.
    fn position(&self) -> usize {
        (self.plain / CHUNK) * STRIDE + self.plain % CHUNK
    }

    /// Encrypts every chunk in place and writes each tag after its chunk.
    /// Only the last chunk of the file may be short, so the result is one
    /// contiguous run of bytes.
    fn encrypt(&mut self, cipher: &PayloadCipher) -> Result<(), SealError> {
        // An empty payload is one empty, final chunk.
        let chunks = self.plain.div_ceil(CHUNK).max(1);
        let mut out = 0;
        for i in 0..chunks {
            let len = (self.plain - i * CHUNK).min(CHUNK);
            let start = i * STRIDE;
            let last = self.last && i + 1 == chunks;
            let chunk = self
                .buf
                .get_mut(start..start + len)
                .ok_or_else(|| pipeline("a chunk out of its segment"))?;
            let tag = encrypt_chunk(cipher, self.first_chunk + i as u64, last, chunk)?;
            self.buf
                .get_mut(start + len..start + len + TAG)
                .ok_or_else(|| pipeline("a tag out of its segment"))?
                .copy_from_slice(&tag);
            out = start + len + TAG;
        }
        self.out = out;
        Ok(())
    }
}

/// An age v1 file to one recipient, encrypted on every core and hashed as
/// it is written to `W`. Call [`finish`](AgeWriter::finish) to end the
/// payload; dropping the writer abandons the file (its threads stop).
pub struct AgeWriter<W: Write + Send + 'static> {
    /// The segment being filled.
    current: Option<Segment>,
    /// A full segment held back until more data arrives, since only then
    /// is it known not to be the last.
    held: Option<Segment>,
    next_index: u64,
    work: Option<SyncSender<Segment>>,
    free: Receiver<Segment>,
    workers: Vec<JoinHandle<()>>,
    output: Option<JoinHandle<Result<Written<W>, SealError>>>,
}

impl<W: Write + Send + 'static> std::fmt::Debug for AgeWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgeWriter")
            .field("segments", &self.next_index)
            .finish_non_exhaustive()
    }
}

/// The output of a finished [`AgeWriter`].
#[derive(Debug)]
pub struct Written<W> {
    pub inner: W,
    /// SHA-256 of every byte written (header, nonce, payload), lowercase hex.
    pub sha256: String,
    pub bytes: u64,
}

impl<W: Write + Send + 'static> AgeWriter<W> {
    /// Starts an age file to `recipient` with a fresh file key, ephemeral
    /// share and nonce, encrypting on as many threads as there are cores.
    pub fn new(out: W, recipient: &age::x25519::Recipient) -> Result<Self, SealError> {
        let workers = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .clamp(1, MAX_WORKERS);
        Self::with_sealing(out, Sealing::new(recipient)?, workers)
    }

    /// Starts an age file with the given header, nonce and payload key on
    /// `workers` encryption threads.
    pub fn with_sealing(out: W, sealing: Sealing, workers: usize) -> Result<Self, SealError> {
        let cipher = payload_cipher(&sealing.payload_key)?;
        let mut prefix = sealing.header;
        prefix.extend_from_slice(&sealing.nonce);

        let (work_tx, work_rx) = sync_channel::<Segment>(SEGMENTS);
        let work_rx = Arc::new(Mutex::new(work_rx));
        let (done_tx, done_rx) = channel::<Result<Segment, SealError>>();
        let (free_tx, free_rx) = channel::<Segment>();
        for _ in 0..SEGMENTS {
            let _ = free_tx.send(Segment::new());
        }
        let spawn_error = |e: io::Error| SealError::Stream {
            what: "cannot start a sealing thread",
            source: e,
        };
        let mut handles = Vec::new();
        for n in 0..workers.max(1) {
            let (work_rx, done_tx, cipher) = (work_rx.clone(), done_tx.clone(), cipher.clone());
            let handle = std::thread::Builder::new()
                .name(format!("writ-seal-encrypt-{n}"))
                .spawn(move || encrypt_loop(&work_rx, &done_tx, &cipher))
                .map_err(spawn_error)?;
            handles.push(handle);
        }
        drop(done_tx);
        let output = std::thread::Builder::new()
            .name("writ-seal-output".into())
            .spawn(move || output_loop(out, prefix, &done_rx, &free_tx))
            .map_err(spawn_error)?;
        Ok(Self {
            current: None,
            held: None,
            next_index: 0,
            work: Some(work_tx),
            free: free_rx,
            workers: handles,
            output: Some(output),
        })
    }

    /// Copies `reader` to its end into the payload, reading straight into
    /// the segments (no intermediate buffer); returns the bytes copied.
    pub fn copy_from(&mut self, reader: &mut impl Read) -> io::Result<u64> {
        let mut copied = 0u64;
        loop {
            let read = self.segment()?.read_from(reader);
            match read {
                Ok(0) => return Ok(copied),
                Ok(n) => {
                    copied += n as u64;
                    self.release_held()?;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Ends the payload (the last chunk carries the final flag), waits for
    /// every thread and returns the output with its hash and size.
    pub fn finish(mut self) -> Result<Written<W>, SealError> {
        let current = self.current.take().filter(|s| s.plain > 0);
        let last = match (current, self.held.take()) {
            (Some(current), Some(held)) => {
                self.send(held)?;
                current
            }
            (Some(current), None) => current,
            (None, Some(held)) => held,
            // An empty payload: one empty, final chunk.
            (None, None) => match self.free.recv() {
                Ok(segment) => fresh(segment, 0),
                Err(_) => return Err(self.failure()),
            },
        };
        let mut last = last;
        last.last = true;
        self.send(last)?;
        self.join()
    }

    /// The segment being filled; a full one is held back and a fresh one
    /// taken from the pool.
    fn segment(&mut self) -> io::Result<&mut Segment> {
        if self.current.as_ref().is_some_and(Segment::full) {
            // The held segment was released when data went into this one.
            self.held = self.current.take();
        }
        if self.current.is_none() {
            let segment = match self.free.recv() {
                Ok(segment) => fresh(segment, self.next_index),
                // The output thread stopped: its error says why.
                Err(_) => return Err(into_io(self.failure())),
            };
            self.next_index += 1;
            self.current = Some(segment);
        }
        self.current
            .as_mut()
            .ok_or_else(|| into_io(pipeline("no segment")))
    }

    /// Sends the held segment once data follows it.
    fn release_held(&mut self) -> io::Result<()> {
        match self.held.take() {
            Some(held) => self.send(held).map_err(into_io),
            None => Ok(()),
        }
    }

    fn send(&mut self, segment: Segment) -> Result<(), SealError> {
        let sent = self.work.as_ref().map(|w| w.send(segment));
        match sent {
            Some(Ok(())) => Ok(()),
            _ => Err(self.failure()),
        }
    }

    fn join(&mut self) -> Result<Written<W>, SealError> {
        drop(self.work.take());
        for handle in self.workers.drain(..) {
            handle
                .join()
                .map_err(|_| pipeline("an encryption thread panicked"))?;
        }
        match self.output.take() {
            Some(handle) => handle
                .join()
                .map_err(|_| pipeline("the output thread panicked"))?,
            None => Err(pipeline("the output thread is gone")),
        }
    }

    /// The error that stopped the pipeline.
    fn failure(&mut self) -> SealError {
        match self.join() {
            Err(e) => e,
            Ok(_) => pipeline("the pipeline stopped early"),
        }
    }
}

impl<W: Write + Send + 'static> Write for AgeWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let mut taken = 0;
        while taken < buf.len() {
            let rest = buf.get(taken..).unwrap_or(&[]);
            taken += self.segment()?.fill(rest);
            self.release_held()?;
        }
        Ok(taken)
    }

    /// Nothing to flush: a segment can be encrypted only once it is known
    /// whether it is the last, which [`AgeWriter::finish`] decides.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<W: Write + Send + 'static> Drop for AgeWriter<W> {
    fn drop(&mut self) {
        // Closing the queue lets the threads run out and stop; they are
        // not waited for, and the half-written output is the caller's to
        // discard.
        drop(self.work.take());
    }
}

/// A segment from the pool, reset to be the `index`-th of the file. Every
/// segment but the last is full, so its first chunk is known from its index.
fn fresh(mut segment: Segment, index: u64) -> Segment {
    segment.index = index;
    segment.first_chunk = index * SEGMENT_CHUNKS as u64;
    segment.plain = 0;
    segment.last = false;
    segment.out = 0;
    segment
}

fn encrypt_loop(
    work: &Mutex<Receiver<Segment>>,
    done: &Sender<Result<Segment, SealError>>,
    cipher: &PayloadCipher,
) {
    loop {
        let next = match work.lock() {
            Ok(queue) => queue.recv(),
            Err(_) => return,
        };
        let Ok(mut segment) = next else { return };
        let result = segment.encrypt(cipher).map(|()| segment);
        let failed = result.is_err();
        if done.send(result).is_err() || failed {
            return;
        }
    }
}

fn output_loop<W: Write>(
    mut out: W,
    prefix: Vec<u8>,
    done: &Receiver<Result<Segment, SealError>>,
    free: &Sender<Segment>,
) -> Result<Written<W>, SealError> {
    let write_error = |e: io::Error| SealError::Stream {
        what: "cannot write the package",
        source: e,
    };
    // Writing (a copy into the page cache) and hashing are both sequential
    // over the file, so each has its own thread: a segment goes from here
    // to the hashing thread once written, and from there back to the pool.
    std::thread::scope(|scope| {
        let (hash_tx, hash_rx) = channel::<Segment>();
        let mut hasher = Sha256::new();
        hasher.update(&prefix);
        let hashing = std::thread::Builder::new()
            .name("writ-seal-hash".into())
            .spawn_scoped(scope, move || {
                for segment in hash_rx {
                    hasher.update(segment.buf.get(..segment.out).unwrap_or_default());
                    // The caller may have finished and dropped its end of
                    // the pool.
                    let _ = free.send(segment);
                }
                hex(&hasher.finalize())
            })
            .map_err(|e| SealError::Stream {
                what: "cannot start a sealing thread",
                source: e,
            })?;
        out.write_all(&prefix).map_err(write_error)?;
        let mut bytes = prefix.len() as u64;
        let mut waiting: BTreeMap<u64, Segment> = BTreeMap::new();
        let mut next = 0u64;
        for result in done {
            let segment = result?;
            waiting.insert(segment.index, segment);
            while let Some(segment) = waiting.remove(&next) {
                let data = segment
                    .buf
                    .get(..segment.out)
                    .ok_or_else(|| pipeline("a segment longer than its buffer"))?;
                out.write_all(data).map_err(write_error)?;
                bytes += data.len() as u64;
                next += 1;
                let last = segment.last;
                if hash_tx.send(segment).is_err() {
                    return Err(pipeline("the hashing thread stopped"));
                }
                if last {
                    out.flush().map_err(write_error)?;
                    drop(hash_tx);
                    let sha256 = hashing
                        .join()
                        .map_err(|_| pipeline("the hashing thread panicked"))?;
                    return Ok(Written {
                        inner: out,
                        sha256,
                        bytes,
                    });
                }
            }
        }
        Err(pipeline("the payload ended without its last chunk"))
    })
}

fn pipeline(what: &str) -> SealError {
    SealError::Stream {
        what: "sealing pipeline",
        source: io::Error::other(what.to_owned()),
    }
}

fn into_io(e: SealError) -> io::Error {
    match e {
        SealError::Stream { source, .. } | SealError::Io { source, .. } => source,
        other => io::Error::other(other.to_string()),
    }
}
