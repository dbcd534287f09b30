//! [`EarlySync`]: a package file that has its writeback started as it is
//! written.
//!
//! A package is synced before it is renamed into place. Left to itself, the
//! kernel keeps a gigabyte of freshly written package in memory and writes
//! all of it during that final sync, while the CPU waits. Here a second
//! thread syncs the file's data (`fdatasync`) every [`SYNC_EVERY`] bytes, so
//! that the disk writes while the pipeline encrypts, and the final sync finds
//! little left. These syncs add nothing to durability, which rests on the
//! final one, but their errors count: once one sync of an open file has
//! reported a write error, a later sync of the same open file may not
//! report it again, so any error of an early sync fails the package.

use std::fs::File;
use std::io::{self, Write};
use std::sync::mpsc::{SyncSender, sync_channel};
use std::thread::JoinHandle;

/// Bytes written between two early syncs (tried against 4, 8, 64 and 256
/// MiB with `writ bench seal`: the crate's `BENCHMARKS.md`).
pub const SYNC_EVERY: u64 = 16 * 1024 * 1024;

pub struct EarlySync {
    file: File,
    unsynced: u64,
    wake: Option<SyncSender<()>>,
    syncer: Option<JoinHandle<io::Result<u32>>>,
}

impl EarlySync {
    pub fn new(file: File) -> io::Result<Self> {
        let clone = file.try_clone()?;
        // One request waiting at most: a sync asked for while another runs
        // covers everything written by the time it starts.
        let (wake, requests) = sync_channel::<()>(1);
        let syncer = std::thread::Builder::new()
            .name("writ-seal-sync".into())
            .spawn(move || {
                let mut syncs = 0u32;
                for () in requests {
                    clone.sync_data()?;
                    syncs += 1;
                }
                Ok(syncs)
            })?;
        Ok(EarlySync {
            file,
            unsynced: 0,
            wake: Some(wake),
            syncer: Some(syncer),
        })
    }

    /// Stops the syncing thread and returns the file (not yet synced in
    /// full), with the number of early syncs made; the first error of an
    /// early sync, if there was one.
    pub fn finish(mut self) -> io::Result<(File, u32)> {
        drop(self.wake.take());
        let syncs = match self.syncer.take().map(JoinHandle::join) {
            Some(Ok(result)) => result?,
            Some(Err(_)) => return Err(io::Error::other("the syncing thread panicked")),
            None => 0,
        };
        Ok((self.file, syncs))
    }
}

impl Write for EarlySync {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.unsynced += n as u64;
        if self.unsynced >= SYNC_EVERY {
            self.unsynced = 0;
            if let Some(wake) = &self.wake {
                // Full: a sync is waiting already. Gone: the thread stopped
                // on an error, which `finish` reports.
                let _ = wake.try_send(());
            }
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn a_long_file_is_synced_on_the_way_and_written_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("package");
        let mut out = EarlySync::new(File::create(&path).unwrap()).unwrap();
        let block = vec![7u8; 1 << 20];
        let blocks = 3 * SYNC_EVERY / block.len() as u64 + 1;
        for _ in 0..blocks {
            out.write_all(&block).unwrap();
        }
        let (file, syncs) = out.finish().unwrap();
        file.sync_all().unwrap();
        assert!((1..=3).contains(&syncs), "{syncs} early syncs");
        let mut read = Vec::new();
        File::open(&path).unwrap().read_to_end(&mut read).unwrap();
        assert_eq!(read.len() as u64, blocks * block.len() as u64);
        assert!(read.iter().all(|&b| b == 7));
    }

    #[test]
    fn an_early_sync_that_fails_fails_the_file() {
        // Writes to /dev/null succeed, and syncing it fails (EINVAL): the
        // error of the early sync must come out of `finish`.
        let null = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/null")
            .unwrap();
        let mut out = EarlySync::new(null).unwrap();
        let block = vec![0u8; 1 << 20];
        for _ in 0..2 * SYNC_EVERY / block.len() as u64 {
            out.write_all(&block).unwrap();
        }
        assert!(out.finish().is_err());
    }

    #[test]
    fn a_short_file_is_not_synced_early() {
        let dir = tempfile::tempdir().unwrap();
        let mut out = EarlySync::new(File::create(dir.path().join("p")).unwrap()).unwrap();
        out.write_all(b"age-encryption.org/v1\n").unwrap();
        assert_eq!(out.finish().unwrap().1, 0);
    }
}
