//! Reading a log's entries from its public objects (entry bundles, through
//! writ-tlog's [`Fetch`]) into a [`Tally`], and recomputing the root of the
//! prefix a report covers.

use writ_tlog::Hash;
use writ_tlog::hash::{leaf_hashes, root_of};
use writ_tlog::tiles::{self, TILE_WIDTH};
use writ_tlog::verify::Fetch;

use crate::figures::{Batch, Reader};
use crate::{ReportError, Tally};

/// What reading a prefix established.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Prefix {
    /// Entries read.
    pub size: u64,
    /// The RFC 6962 root of those entries.
    pub root: Hash,
}

/// One entry bundle of the prefix: the root of its entries' subtree and
/// its entries as read.
struct Bundle {
    root: Hash,
    batch: Batch,
}

/// Reads, checks, hashes and parses bundle `n` of a tree of `tree_size`
/// leaves, up to entry `count` of the log. `leaves` is room for the leaf
/// hashes.
fn read_bundle(
    fetch: &dyn Fetch,
    reader: &mut Reader<'_>,
    leaves: &mut Vec<Hash>,
    n: u64,
    tree_size: u64,
    count: u64,
) -> Result<Bundle, ReportError> {
    let id = tiles::bundle_at(n, tree_size)
        .ok_or_else(|| ReportError::Log(format!("entry bundle {n} is missing")))?;
    let path = id.path();
    let bytes = fetch
        .fetch(&path)
        .map_err(|e| ReportError::Log(format!("cannot read `{path}`: {e}")))?
        .ok_or_else(|| ReportError::Log(format!("`{path}` is missing")))?;
    let entries = tiles::split_bundle(&bytes)
        .map_err(|e| ReportError::Log(format!("`{path}` is malformed: {e}")))?;
    if entries.len() != usize::from(id.width) {
        return Err(ReportError::Log(format!(
            "`{path}` holds {} entries, expected {}",
            entries.len(),
            id.width
        )));
    }
    let first = n * TILE_WIDTH;
    let take = usize::try_from(count.saturating_sub(first))
        .unwrap_or(usize::MAX)
        .min(entries.len());
    let entries = &entries[..take];
    leaf_hashes(entries, leaves);
    let mut batch = Batch::with_capacity(take);
    for (i, entry) in entries.iter().enumerate() {
        reader.read(first + i as u64, entry, &mut batch)?;
    }
    Ok(Bundle {
        root: root_of(leaves),
        batch,
    })
}

/// Reads the first `count` entries of a log whose published tree has
/// `tree_size` leaves into `tally`, and returns the root of those entries.
/// `progress` is called with the entries read so far.
///
/// Worker threads read, hash and parse the bundles (runs of [`RUN`] in a
/// row), and compute the root of each; this thread counts them in log
/// order, and computes the root of the bundles' roots.
pub fn read_prefix(
    fetch: &dyn Fetch,
    tree_size: u64,
    count: u64,
    tally: &mut Tally,
    progress: &mut dyn FnMut(u64),
) -> Result<Prefix, ReportError> {
    if count > tree_size {
        return Err(ReportError::Log(format!(
            "the report covers {count} entries, the log has only {tree_size}"
        )));
    }
    let bundles = count.div_ceil(TILE_WIDTH);
    // Twice as many readers as cores, so that reads from disk overlap.
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .saturating_mul(2)
        .clamp(2, 8) as u64;
    let runs = bundles.div_ceil(RUN);
    let parser = tally.parser();
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        // A run of bundles as read, up to the first that could not be.
        type Item = (u64, Vec<Result<Bundle, ReportError>>);
        let (tx, rx) = std::sync::mpsc::sync_channel::<Item>(2 * workers as usize);
        let stop = &stop;
        let parser = &parser;
        for w in 0..workers {
            let tx = tx.clone();
            scope.spawn(move || {
                let mut reader = Reader::new(parser);
                let mut leaves = Vec::with_capacity(TILE_WIDTH as usize);
                let mut run = w;
                while run < runs && !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let mut read = Vec::with_capacity(RUN as usize);
                    let mut failed = false;
                    for n in run * RUN..((run + 1) * RUN).min(bundles) {
                        let bundle =
                            read_bundle(fetch, &mut reader, &mut leaves, n, tree_size, count);
                        failed = bundle.is_err();
                        read.push(bundle);
                        if failed {
                            break;
                        }
                    }
                    if tx.send((run, read)).is_err() || failed {
                        return;
                    }
                    run += workers;
                }
            });
        }
        drop(tx);
        let result = (|| {
            // Each worker's group numbers, as the tally numbers them.
            let mut groups = vec![Vec::new(); workers as usize];
            let mut roots = Vec::with_capacity(usize::try_from(bundles).unwrap_or(0));
            let mut waiting = std::collections::BTreeMap::new();
            let mut next = 0u64;
            while next < runs {
                let read = match waiting.remove(&next) {
                    Some(r) => r,
                    None => {
                        let (run, r) = rx.recv().map_err(|_| {
                            ReportError::Log(format!("entry bundle {} was not read", next * RUN))
                        })?;
                        waiting.insert(run, r);
                        continue;
                    }
                };
                let worker = groups.get_mut((next % workers) as usize).ok_or_else(|| {
                    ReportError::Log(format!("entry bundle {} was not read", next * RUN))
                })?;
                let mut n = next * RUN;
                for bundle in read {
                    let bundle: Bundle = bundle?;
                    tally.apply_batch(bundle.batch, worker)?;
                    roots.push(bundle.root);
                    progress(tally_size(n, count));
                    n += 1;
                }
                if n != ((next + 1) * RUN).min(bundles) {
                    return Err(ReportError::Log(format!("entry bundle {n} was not read")));
                }
                next += 1;
            }
            Ok(Prefix {
                size: count,
                // The bundles' roots are those of consecutive subtrees, every
                // one but the last of a full bundle's width (a power of two).
                root: root_of(&roots),
            })
        })();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        // Unblock workers waiting to send.
        drop(rx);
        result
    })
}

/// Bundles a reader thread reads in a row and hands over at once.
const RUN: u64 = 8;

/// Entries read once bundle `n` is counted.
fn tally_size(n: u64, count: u64) -> u64 {
    ((n + 1) * TILE_WIDTH).min(count)
}

/// Computes the (unsigned) report of `period` over the log up to
/// `checkpoint`, whose tree must be the one `fetch` serves or a prefix of it
/// of `tree_size` leaves.
pub fn compute(
    fetch: &dyn Fetch,
    checkpoint: &writ_tlog::Checkpoint,
    tree_size: u64,
    period: crate::Period,
    progress: &mut dyn FnMut(u64),
) -> Result<crate::Report, ReportError> {
    let mut tally = Tally::new(period);
    let prefix = read_prefix(fetch, tree_size, checkpoint.size, &mut tally, progress)?;
    if prefix.root != checkpoint.root {
        return Err(ReportError::Log(
            "the entries do not hash to the checkpoint's root".into(),
        ));
    }
    Ok(crate::Report::new(
        &period.to_string(),
        crate::CheckpointRef {
            origin: checkpoint.origin.clone(),
            size: checkpoint.size,
            root: checkpoint.root.to_base64(),
        },
        tally.finish(),
    ))
}

/// What an accepted report was checked against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Accepted {
    /// The log's checkpoint, verified in full.
    pub log: writ_tlog::Checkpoint,
    /// Entries the report covers.
    pub size: u64,
}

/// Verifies a report against the public log: the report's signature by the
/// log key; the log itself (its checkpoint's signature, every bundle and
/// tile, the root: writ-tlog's auditor); that the report's checkpoint is the
/// log's or one of its prefixes (the root recomputed from the first `size`
/// entries); and every figure recomputed from those entries.
pub fn verify(
    report: &crate::Report,
    fetch: &dyn Fetch,
    vkey: &writ_tlog::NoteVerifier,
    progress: &mut dyn FnMut(&str, u64, u64),
) -> Result<Accepted, ReportError> {
    report.verify_signature(vkey)?;
    let period = crate::Period::parse(&report.period)?;
    let verified = writ_tlog::verify::verify_log(fetch, vkey, None, &mut |done, total| {
        progress("log", done, total)
    })
    .map_err(|e| ReportError::Log(e.to_string()))?;
    let log = verified.checkpoint;
    let size = report.checkpoint.size;
    if size > log.size {
        return Err(ReportError::Log(format!(
            "the report covers {size} entries but the log's checkpoint has only {}",
            log.size
        )));
    }
    let root = Hash::from_base64(&report.checkpoint.root)
        .map_err(|_| ReportError::Malformed("checkpoint root is not base64 of 32 bytes".into()))?;
    let mut tally = Tally::new(period);
    let prefix = read_prefix(fetch, log.size, size, &mut tally, &mut |done| {
        progress("report", done, size)
    })?;
    if prefix.root != root {
        return Err(ReportError::Log(format!(
            "the report's checkpoint (size {size}) is not a prefix of the log: the root of its first {size} entries differs"
        )));
    }
    report.check_figures(&tally.finish())?;
    Ok(Accepted { log, size })
}

#[cfg(test)]
mod tests {
    use writ_tlog::builder::TreeBuilder;
    use writ_tlog::hash::leaf_hash;

    use super::*;

    #[test]
    fn the_roots_of_bundles_fold_to_the_root_of_the_tree() {
        let sizes = [
            0u64,
            1,
            2,
            3,
            255,
            256,
            257,
            511,
            512,
            513,
            768,
            1000,
            1024,
            1025,
            256 * 7 + 5,
        ];
        for size in sizes {
            let leaves: Vec<Hash> = (0..size).map(|i| leaf_hash(&i.to_be_bytes())).collect();
            let mut builder = TreeBuilder::new();
            builder.push_leaf_hashes(&leaves, &mut |_, _| {});
            let roots: Vec<Hash> = leaves.chunks(TILE_WIDTH as usize).map(root_of).collect();
            assert_eq!(root_of(&roots), builder.root(), "size {size}");
        }
    }
}
