//! `writ check`: the consistency check (`fsck`) of a data folder.
//!
//! Three things are checked, each against the one before:
//!
//! 1. the log: its published checkpoint's signature, every entry bundle and
//!    hash tile recomputed up to the checkpoint's root (as `writ log verify`
//!    does), and the trusted store's own last checkpoint against it;
//! 2. every event row that claims a log index: the entry at that index is
//!    byte for byte the stored entry (entries the sequencer made durable but
//!    has not published yet are checked against its staged batches);
//! 3. every package row whose object should exist: the object is there,
//!    with the recorded size and SHA-256.
//!
//! Faults go to standard output, one a line, naming what and where;
//! progress goes to standard error. Exit code 0 when everything is
//! consistent, 1 when anything is not, 2 when the data folder cannot be
//! read as one.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use writ_objects::layout;

use anyhow::Context as _;
use clap::Args;
use sha2::{Digest as _, Sha256};
use writ_tlog::tiles::{self, TILE_WIDTH};
use writ_tlog::trusted::{SqliteStore, TrustedStore};
use writ_tlog::verify::{DirFetch, Fetch as _, VerifyError, verify_log};
use writ_tlog::{CHECKPOINT_PATH, NoteSigner};

use crate::input::BadInput;

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// The data folder.
    #[arg(long, env = "WRIT_DATA", default_value = "./writ-data")]
    pub data: PathBuf,
    /// The case store [default: sqlite://<data>/writ.db]; on PostgreSQL the
    /// log's trusted store is read from the same database.
    #[arg(long, env = "WRIT_DATABASE")]
    pub database: Option<String>,
    /// The objects folder [default: <data>/objects] (a local folder: for a
    /// bucket, check a synchronised copy).
    #[arg(long)]
    pub objects: Option<PathBuf>,
}

/// Faults of one class printed in full; beyond this only counted, so that
/// a wrecked store does not bury the first, most useful lines.
const PRINT_PER_CLASS: usize = 50;

/// Rows read per query.
const PAGE: i64 = 4096;

/// The faults found, by class.
#[derive(Default)]
struct Faults {
    counts: BTreeMap<&'static str, usize>,
}

impl Faults {
    fn report(&mut self, class: &'static str, message: String) {
        let n = self.counts.entry(class).or_default();
        *n += 1;
        if *n <= PRINT_PER_CLASS {
            println!("{class}: {message}");
        } else if *n == PRINT_PER_CLASS + 1 {
            println!("{class}: (further faults of this class are only counted)");
        }
    }

    fn total(&self) -> usize {
        self.counts.values().sum()
    }
}

fn progress(message: &str) {
    eprintln!("check: {message}");
}

pub fn run(args: CheckArgs) -> anyhow::Result<ExitCode> {
    if !args.data.is_dir() {
        return Err(BadInput(format!("--data `{}` is not a folder", args.data.display())).into());
    }
    let db = writ_tlog::database_path(&args.data);
    let url = match &args.database {
        Some(url) => url.clone(),
        None if db.exists() => format!("sqlite://{}", db.display()),
        None => {
            return Err(BadInput(format!(
                "no case store in `{}`: `{}` is missing (give --database for PostgreSQL)",
                args.data.display(),
                db.display()
            ))
            .into());
        }
    };
    let objects = args
        .objects
        .clone()
        .unwrap_or_else(|| layout::objects(&args.data));
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?
        .block_on(check(&args.data, &url, &objects))
}

async fn check(data: &Path, url: &str, objects: &Path) -> anyhow::Result<ExitCode> {
    let postgres = url.starts_with("postgres:") || url.starts_with("postgresql:");
    let trusted: Arc<dyn TrustedStore> = if postgres {
        Arc::new(
            writ_tlog::trusted_pg::PgStore::reader(url)
                .await
                .context("cannot open the log's trusted store")?,
        )
    } else {
        let path = writ_tlog::database_path(data);
        Arc::new(
            SqliteStore::open(&path)
                .await
                .with_context(|| format!("cannot open `{}`", path.display()))?,
        )
    };
    let store = writ_store::Store::open(url)
        .await
        .context("cannot open the case store")?;
    let mut faults = Faults::default();

    // 1. The log.
    let identity = trusted
        .identity()
        .await?
        .ok_or_else(|| BadInput("the store has no log key: is this a data folder?".into()))?;
    let vkey = NoteSigner::new(&identity.origin, &identity.seed)?.verifier();
    let log_dir = objects.join(layout::LOG);
    let fetch = DirFetch(log_dir.clone());
    let stored = trusted.checkpoint().await?;
    progress(&format!("verifying the log in `{}`", log_dir.display()));
    let published = match fetch.fetch(CHECKPOINT_PATH) {
        Ok(None) if stored.is_none() => {
            progress("the log is empty: nothing published yet");
            None
        }
        _ => {
            let mut last = 0u64;
            let result = verify_log(&fetch, &vkey, None, &mut |done, total| {
                if done - last >= 1 << 16 || done == total {
                    progress(&format!("log: {done}/{total} entries verified"));
                    last = done;
                }
            });
            match result {
                Ok(v) => Some(v.checkpoint),
                Err(e) => {
                    let place = match &e {
                        VerifyError::Missing(p)
                        | VerifyError::Malformed { path: p, .. }
                        | VerifyError::TileMismatch(p)
                        | VerifyError::Fetch { path: p, .. } => {
                            format!(" (`{}`)", log_dir.join(p).display())
                        }
                        _ => String::new(),
                    };
                    faults.report("log", format!("{e}{place}"));
                    // Still read what the checkpoint claims, to check the
                    // events against as much of the log as can be read.
                    fetch
                        .fetch(CHECKPOINT_PATH)
                        .ok()
                        .flatten()
                        .and_then(|b| String::from_utf8(b).ok())
                        .and_then(|n| vkey.open_checkpoint(&n).ok())
                }
            }
        }
    };
    let size = published.as_ref().map_or(0, |c| c.size);
    if let Some(stored) = &stored {
        if stored.size < size {
            // A copy of the database taken before the objects, while the
            // sequencer ran, holds the entries between the two staged; a
            // server opens such a log only once `checkpoint` is set back to
            // the trusted store's (the next sequencer integrates them into
            // the same tree). Anything else is a rollback.
            match staged_reproduce(trusted.as_ref(), &fetch, stored.size, size).await {
                Ok(true) => faults.report(
                    "log",
                    format!(
                        "the published checkpoint has {size} entries, the trusted store's {}; the \
                         store holds the {} entries between them staged, byte for byte (a \
                         database copied before the objects): write the trusted store's \
                         checkpoint note over `log/checkpoint` (docs/reliability.md, \
                         \"PostgreSQL and a bucket\") and check again",
                        stored.size,
                        size - stored.size
                    ),
                ),
                Ok(false) => faults.report(
                    "log",
                    format!(
                        "the published checkpoint has {size} entries, the trusted store's only {}: \
                         the store was rolled back",
                        stored.size
                    ),
                ),
                Err(e) => faults.report("log", format!("cannot read the staged entries: {e}")),
            }
        } else if let Some(p) = &published
            && stored.size == p.size
            && stored.root != p.root
        {
            faults.report(
                "log",
                format!(
                    "fork: the trusted store's checkpoint of size {} has another root than the \
                     published one",
                    stored.size
                ),
            );
        }
    } else if published.is_some() {
        faults.report(
            "log",
            "a checkpoint is published but the trusted store has none".into(),
        );
    }

    // Entries made durable but not yet published.
    let mut staged: BTreeMap<u64, Vec<u8>> = BTreeMap::new();
    for batch in trusted.staged(size).await? {
        match tiles::split_bundle(&batch.entries) {
            Ok(entries) => {
                for (i, e) in entries.into_iter().enumerate() {
                    staged.insert(batch.first + i as u64, e.to_vec());
                }
            }
            Err(e) => faults.report(
                "log",
                format!("staged batch from index {} is malformed: {e}", batch.first),
            ),
        }
    }
    progress(&format!(
        "log: {size} entries published, {} staged",
        staged.len()
    ));

    // 2. The events.
    progress("checking the events against the log");
    let mut bundle: Option<(u64, Bundle)> = None;
    let mut after = -1i64;
    let mut checked = 0u64;
    loop {
        let page = store.logged_events_after(after, PAGE).await?;
        for ev in &page {
            let what = match &ev.case_id {
                Some(case) => format!("event {} ({} of case {case})", ev.seq, ev.kind),
                None => format!("event {} ({})", ev.seq, ev.kind),
            };
            if ev.log_index == after {
                faults.report(
                    "event",
                    format!("{what} claims log index {after}, as another event does"),
                );
                continue;
            }
            after = ev.log_index;
            let Ok(index) = u64::try_from(ev.log_index) else {
                faults.report(
                    "event",
                    format!("{what} has a negative log index {}", ev.log_index),
                );
                continue;
            };
            let entry: Option<Result<&[u8], String>> = if index < size {
                let tile = index / TILE_WIDTH;
                if bundle.as_ref().is_none_or(|(t, _)| *t != tile) {
                    bundle = Some((tile, read_bundle(&fetch, tile, size)));
                }
                bundle.as_ref().map(|(_, b)| match b {
                    Ok(entries) => entries
                        .get((index % TILE_WIDTH) as usize)
                        .map(Vec::as_slice)
                        .ok_or_else(|| format!("entry {index} is missing from its bundle")),
                    Err(e) => Err(e.clone()),
                })
            } else {
                staged.get(&index).map(|e| Ok(e.as_slice()))
            };
            match entry {
                None => faults.report(
                    "event",
                    format!(
                        "{what} claims log index {index}, but the log has {size} entries \
                         and {} staged",
                        staged.len()
                    ),
                ),
                Some(Err(e)) => faults.report(
                    "event",
                    format!("{what}: cannot read log entry {index}: {e}"),
                ),
                Some(Ok(bytes)) if bytes != ev.entry.as_bytes() => {
                    faults.report("event", format!("{what} differs from log entry {index}"))
                }
                Some(Ok(_)) => {}
            }
            checked += 1;
        }
        if checked.is_multiple_of(1 << 16) || page.len() < PAGE as usize {
            progress(&format!("events: {checked} checked"));
        }
        if page.len() < PAGE as usize {
            break;
        }
    }
    for seq in store.logged_events_without_index(PAGE).await? {
        faults.report(
            "event",
            format!("event {seq} is marked logged but has no log index"),
        );
    }

    // 3. The packages.
    progress("checking the packages against their objects");
    let packages = objects.join(layout::PACKAGES);
    let mut after = String::new();
    let mut checked_packages = 0u64;
    loop {
        let page = store.package_objects_after(&after, PAGE).await?;
        for p in &page {
            after.clone_from(&p.case_id);
            if p.state == "expired" {
                continue;
            }
            checked_packages += 1;
            let what = format!(
                "package of case {} (generation {}, {})",
                p.case_id, p.generation, p.state
            );
            if !writ_objects::valid_stored_path(&p.object) || p.object.contains('/') {
                faults.report(
                    "package",
                    format!("{what} names an invalid object `{}`", p.object),
                );
                continue;
            }
            let path = packages.join(&p.object);
            match hash_file(&path) {
                Ok(None) => faults.report(
                    "package",
                    format!("{what}: object `{}` is missing", path.display()),
                ),
                Err(e) => faults.report(
                    "package",
                    format!("{what}: cannot read `{}`: {e}", path.display()),
                ),
                Ok(Some((len, sha))) => {
                    if i64::try_from(len).ok() != Some(p.size) {
                        faults.report(
                            "package",
                            format!(
                                "{what}: object `{}` has {len} bytes, the row says {}",
                                path.display(),
                                p.size
                            ),
                        );
                    } else if sha != p.sha256 {
                        faults.report(
                            "package",
                            format!(
                                "{what}: object `{}` has SHA-256 {sha}, the row says {}",
                                path.display(),
                                p.sha256
                            ),
                        );
                    }
                }
            }
        }
        if page.len() < PAGE as usize {
            break;
        }
    }

    let total = faults.total();
    if total == 0 {
        eprintln!(
            "consistent: log of {size} entries ({} staged), {checked} events, \
             {checked_packages} packages",
            staged.len()
        );
        Ok(ExitCode::SUCCESS)
    } else {
        let by_class: Vec<String> = faults
            .counts
            .iter()
            .map(|(c, n)| format!("{n} {c}"))
            .collect();
        eprintln!(
            "NOT consistent: {total} faults ({}); checked a log of {size} entries, {checked} \
             events, {checked_packages} packages",
            by_class.join(", ")
        );
        Ok(ExitCode::from(1))
    }
}

/// An entry bundle's entries, or why it cannot be read.
type Bundle = Result<Vec<Vec<u8>>, String>;

/// The entries of the bundle holding tile `tile` of a log of `size`.
fn read_bundle(fetch: &DirFetch, tile: u64, size: u64) -> Bundle {
    let id = tiles::bundle_at(tile, size).ok_or_else(|| format!("no bundle {tile}"))?;
    let path = id.path();
    let data = fetch
        .fetch(&path)?
        .ok_or_else(|| format!("`{path}` is missing"))?;
    let entries = tiles::split_bundle(&data).map_err(|e| format!("`{path}`: {e}"))?;
    Ok(entries.into_iter().map(<[u8]>::to_vec).collect())
}

/// The length and SHA-256 (lowercase hex) of a file; `None` if it does not
/// exist.
fn hash_file(path: &Path) -> std::io::Result<Option<(u64, String)>> {
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut len = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        len += n as u64;
    }
    Ok(Some((len, hex::encode(hasher.finalize()))))
}

/// Whether the trusted store's staged batches hold every entry from `from`
/// up to `to`, each equal to the published log's.
async fn staged_reproduce(
    trusted: &dyn TrustedStore,
    fetch: &DirFetch,
    from: u64,
    to: u64,
) -> anyhow::Result<bool> {
    let mut staged: BTreeMap<u64, Vec<u8>> = BTreeMap::new();
    for batch in trusted.staged(from).await? {
        for (i, e) in tiles::split_bundle(&batch.entries)?.into_iter().enumerate() {
            staged.insert(batch.first + i as u64, e.to_vec());
        }
    }
    let mut bundle: Option<(u64, Bundle)> = None;
    for index in from..to {
        let Some(mine) = staged.get(&index) else {
            return Ok(false);
        };
        let tile = index / TILE_WIDTH;
        if bundle.as_ref().is_none_or(|(t, _)| *t != tile) {
            bundle = Some((tile, read_bundle(fetch, tile, to)));
        }
        let published = bundle
            .as_ref()
            .and_then(|(_, b)| b.as_ref().ok())
            .and_then(|entries| entries.get((index % TILE_WIDTH) as usize));
        if published != Some(mine) {
            return Ok(false);
        }
    }
    Ok(true)
}
