//! Resumable collection: drive a connector over a job's granted pairs,
//! spool each pair's records durably, then seal the package.
//!
//! Progress lives in the job's work folder:
//!
//! - `<i>.ndjson`: the spool of the i-th granted pair (in sorted order);
//! - `progress.json`: the job's fingerprint and the pairs whose spool is
//!   complete, with each spool's size and SHA-256, written atomically
//!   (temporary file, fsync, rename, fsync of the folder) after each pair.
//!
//! Spools are not synced: they are sealed and deleted within moments, so
//! most of their pages never need to reach the disk, and a run that resumes
//! after a crash re-hashes each spool it keeps against `progress.json`
//! ([`Spooled::is_intact`]) instead of trusting it.
//!
//! Collection and sealing overlap: a second thread appends each pair to the
//! package as soon as its spool is complete, while the next pair is being
//! collected.
//!
//! An interrupted collection, run again with the same job, skips the pairs
//! already done and redoes the one it was in. The package appears under its
//! final name only once it is complete (`writ-seal` writes it atomically);
//! the work folder is removed afterwards. A work folder left by a different
//! job (another fingerprint) is started afresh.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use writ_seal::{
    PackageHeader, PackageWriter, Recipient, SealError, Sealed, Spool, Spooled, file_path,
};

use crate::scope::{Dropped, Scope, ScopedError};
use crate::{ConnectError, Connector};

/// What to collect and where to put it.
#[derive(Clone, Debug)]
pub struct Job {
    pub header: PackageHeader,
    pub scope: Scope,
    /// The agency's age recipient.
    pub recipient: Recipient,
    /// Where progress and spools are kept; created if missing.
    pub work_dir: PathBuf,
    /// The package's final path (`<case>.age`).
    pub dest: PathBuf,
}

/// A finished collection.
#[derive(Clone, Debug)]
pub struct Collected {
    pub sealed: Sealed,
    /// Records the connector returned outside the scope, dropped.
    pub dropped: Dropped,
    /// Pairs taken from an earlier, interrupted run.
    pub resumed: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error(transparent)]
    Scope(#[from] ScopedError),
    #[error("connector: {0}")]
    Connect(#[from] ConnectError),
    #[error(transparent)]
    Seal(#[from] SealError),
    #[error("{what} `{path}`: {source}")]
    Io {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read progress: {0}")]
    Progress(#[from] serde_json::Error),
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Progress {
    job: String,
    done: Vec<PairDone>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct PairDone {
    spooled: Spooled,
    dropped: Dropped,
}

const PROGRESS: &str = "progress.json";

/// Collects and seals `job` from `connector`, resuming an interrupted run.
pub fn collect(job: &Job, connector: &dyn Connector) -> Result<Collected, CollectError> {
    collect_with(job, connector, &mut |_| {})
}

/// [`collect`], calling `on_pair` after each pair is durably spooled (with
/// the number of pairs done so far).
pub fn collect_with(
    job: &Job,
    connector: &dyn Connector,
    on_pair: &mut dyn FnMut(usize),
) -> Result<Collected, CollectError> {
    let dir = &job.work_dir;
    fs::create_dir_all(dir).map_err(io("cannot create work folder", dir))?;
    let fingerprint = fingerprint(job)?;
    let mut progress = match read_progress(dir)? {
        Some(p) if p.job == fingerprint => p,
        _ => Progress {
            job: fingerprint,
            done: Vec::new(),
        },
    };
    let pairs: Vec<(&str, writ_model::Category)> = job.scope.pairs().collect();
    // Keep the done pairs that are still whole on disk; anything after the
    // first gap is redone.
    let mut kept = Vec::new();
    for (i, done) in progress.done.iter().enumerate() {
        let expected = pairs
            .get(i)
            .and_then(|(a, c)| file_path(a, *c).ok())
            .is_some_and(|p| p == done.spooled.entry.path);
        if !(expected && done.spooled.is_intact()) {
            break;
        }
        kept.push(done.clone());
    }
    progress.done = kept;
    let resumed = progress.done.len();

    // Pairs go to the sealing thread as they are spooled; `None` says that
    // every pair was sent. If collection fails, the channel closes without
    // it and the sealing thread abandons the package.
    let (tx, rx) = std::sync::mpsc::sync_channel::<Option<Spooled>>(pairs.len() + 1);
    let sealed = std::thread::scope(|scope| -> Result<Sealed, CollectError> {
        let sealing = scope.spawn(move || seal_as_spooled(job, &rx));
        let collected = (|| -> Result<(), CollectError> {
            let send = |spooled: &Spooled| {
                // A closed channel means sealing failed: its error is
                // reported once it is joined.
                let _ = tx.send(Some(spooled.clone()));
            };
            for done in &progress.done {
                send(&done.spooled);
            }
            for (i, (account, category)) in pairs.iter().enumerate().skip(resumed) {
                let path = file_path(account, *category)?;
                let spool_path = dir.join(format!("{i}.ndjson"));
                let mut spool = Spool::create(&spool_path)?;
                let mut records = job.scope.records(connector, account, *category)?;
                for record in records.by_ref() {
                    spool.line(record?.data.as_str().as_bytes())?;
                }
                let dropped = records.dropped();
                let spooled = spool.finish_unsynced(path)?;
                send(&spooled);
                progress.done.push(PairDone { spooled, dropped });
                write_progress(dir, &progress)?;
                on_pair(progress.done.len());
            }
            let _ = tx.send(None);
            Ok(())
        })();
        drop(tx);
        let sealed = sealing.join().map_err(|_| {
            CollectError::Seal(SealError::Mismatch("the sealing thread panicked".into()))
        })?;
        collected?;
        Ok(sealed?)
    })?;
    let mut dropped = Dropped::default();
    for d in &progress.done {
        dropped.add(d.dropped);
    }
    // The package is durable under its name; the spools are no longer needed.
    fs::remove_dir_all(dir).map_err(io("cannot remove work folder", dir))?;
    Ok(Collected {
        sealed,
        dropped,
        resumed,
    })
}

/// Seals the spools received from `rx` in order, until `None`.
fn seal_as_spooled(
    job: &Job,
    rx: &std::sync::mpsc::Receiver<Option<Spooled>>,
) -> Result<Sealed, SealError> {
    let mut writer = PackageWriter::create(&job.dest, &job.recipient, job.header.clone())?;
    loop {
        match rx.recv() {
            Ok(Some(spooled)) => writer.append_spooled(&spooled)?,
            Ok(None) => return writer.finish(),
            // Collection stopped: the package is dropped unfinished, and
            // nothing appears under its name.
            Err(_) => {
                return Err(SealError::Mismatch(
                    "collection stopped before every pair was spooled".into(),
                ));
            }
        }
    }
}

/// Identifies a job, so that a work folder is only resumed by the same job.
fn fingerprint(job: &Job) -> Result<String, CollectError> {
    let text = serde_json::to_vec(&(
        &job.header,
        &job.scope,
        job.recipient.to_string(),
        &job.dest,
    ))?;
    Ok(writ_seal::hash::sha256_hex(&text))
}

fn read_progress(dir: &Path) -> Result<Option<Progress>, CollectError> {
    let path = dir.join(PROGRESS);
    match fs::read(&path) {
        Ok(bytes) => Ok(serde_json::from_slice(&bytes).ok()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(CollectError::Io {
            what: "cannot read",
            path,
            source: e,
        }),
    }
}

fn write_progress(dir: &Path, progress: &Progress) -> Result<(), CollectError> {
    let path = dir.join(PROGRESS);
    let temp = dir.join(".progress.json.tmp");
    let bytes = serde_json::to_vec_pretty(progress)?;
    let mut file = fs::File::create(&temp).map_err(io("cannot write", &temp))?;
    file.write_all(&bytes)
        .and_then(|()| file.sync_all())
        .map_err(io("cannot write", &temp))?;
    fs::rename(&temp, &path).map_err(io("cannot write", &path))?;
    writ_seal::sync_dir(dir)?;
    Ok(())
}

fn io(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> CollectError {
    let path = path.to_owned();
    move |source| CollectError::Io { what, path, source }
}
