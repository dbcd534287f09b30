//! `writ backup` and `writ restore`: an online, consistent copy of a
//! single-machine data folder (SQLite and a local objects folder) in one tar
//! file, and its restoration into a new folder.
//!
//! The snapshot is consistent because everything that must agree is taken
//! from one point in time:
//!
//! 1. `VACUUM INTO` copies the whole database (cases, events, the log's
//!    trusted store and its staged entries) in one read transaction, while
//!    the server keeps writing;
//! 2. the log is copied *as of the snapshot's checkpoint*: its checkpoint
//!    note comes from the snapshot, and only the tiles of that tree
//!    (`tiles_of_tree`) are copied. The sequencer writes a tree's tiles before
//!    it stores the checkpoint that covers them, so they all exist; tiles the
//!    live log wrote later are left out, so that the restored log can grow
//!    its own way without meeting them;
//! 3. the package objects (each written once, before the row that names it)
//!    and the rest of the data folder (demo keys and files) are copied as
//!    they are, except collections in progress (`objects/work`).
//!
//! The tar file ends with `manifest.json`: every file's path, size and
//! SHA-256, and the log checkpoint. `writ restore` refuses a non-empty
//! target and checks every file against the manifest; on any mismatch it
//! removes what it wrote.
//!
//! PostgreSQL deployments use `pg_dump` and the bucket's own copies
//! (docs/reliability.md, "Backup and restore").

use std::collections::BTreeMap;
use std::io::{Read, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::str::FromStr as _;
use writ_objects::layout;

use anyhow::{Context as _, bail};
use clap::Args;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use sqlx::ConnectOptions as _;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};

use crate::input::BadInput;

/// The manifest's name in the archive; it comes last.
const MANIFEST: &str = "manifest.json";
const FORMAT: &str = "writ-backup/1";

#[derive(Args, Debug)]
pub struct BackupArgs {
    /// The data folder of a single-machine deployment (SQLite, local objects).
    #[arg(long, env = "WRIT_DATA", default_value = "./writ-data")]
    pub data: PathBuf,
    /// The tar file to write (replaced only once complete).
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Args, Debug)]
pub struct RestoreArgs {
    /// A tar file written by `writ backup`.
    #[arg(long)]
    pub from: PathBuf,
    /// The new data folder: must not exist or be empty.
    #[arg(long)]
    pub data: PathBuf,
}

#[derive(Serialize, Deserialize, Debug)]
struct Manifest {
    format: String,
    created_at: String,
    /// The log's size and signed checkpoint as of the snapshot.
    log_size: u64,
    checkpoint: Option<String>,
    files: Vec<FileEntry>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
struct FileEntry {
    path: String,
    size: u64,
    sha256: String,
}

pub fn backup(args: BackupArgs) -> anyhow::Result<ExitCode> {
    let data = &args.data;
    let db = writ_tlog::database_path(data);
    if !db.is_file() {
        return Err(BadInput(format!(
            "no SQLite case store at `{}` (on PostgreSQL use pg_dump and the bucket: \
             docs/reliability.md)",
            db.display()
        ))
        .into());
    }
    let out_dir = match args.out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    let scratch = tempfile::Builder::new()
        .prefix(".writ-backup-")
        .tempdir_in(&out_dir)
        .with_context(|| format!("cannot write in `{}`", out_dir.display()))?;
    let snapshot = scratch.path().join(layout::DATABASE);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let (log_size, checkpoint) = runtime.block_on(snapshot_database(&db, &snapshot))?;
    eprintln!("backup: database snapshot taken (log size {log_size}); copying the objects");

    let partial = scratch.path().join("backup.tar");
    let file = std::fs::File::create(&partial)
        .with_context(|| format!("cannot create `{}`", partial.display()))?;
    let mut tar = tar::Builder::new(std::io::BufWriter::new(file));
    let mut files = Vec::new();
    add_file(&mut tar, &mut files, layout::DATABASE, &snapshot)?;

    // The log as of the snapshot's checkpoint.
    let log_dir = writ_tlog::objects_dir(data);
    let log_rel = format!("{}/{}", layout::OBJECTS, layout::LOG);
    let work_rel = format!("{}/{}", layout::OBJECTS, layout::WORK);
    if let Some(note) = &checkpoint {
        add_bytes(
            &mut tar,
            &mut files,
            &format!("{log_rel}/{}", writ_tlog::CHECKPOINT_PATH),
            note.as_bytes(),
        )?;
        for id in writ_tlog::tiles::tiles_of_tree(log_size) {
            let rel = id.path();
            add_file(
                &mut tar,
                &mut files,
                &format!("{log_rel}/{rel}"),
                &log_dir.join(&rel),
            )?;
        }
    }
    // Everything else but the database, the live log and work in progress:
    // temporary files (a package being sealed, a letter being written) are
    // renamed or removed by the running server at any moment.
    let skip = |rel: &str| {
        rel == layout::DATABASE
            || rel.starts_with(&format!("{}-", layout::DATABASE))
            || rel == log_rel
            || rel == work_rel
            || rel.starts_with(".writ-backup-")
            || is_temporary(rel)
    };
    for rel in walk(data, "", &skip)? {
        let source = data.join(&rel);
        let file = match std::fs::File::open(&source) {
            Ok(file) => file,
            // Listed a moment ago, removed since by the running server.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                return Err(e).with_context(|| format!("cannot read `{}`", source.display()));
            }
        };
        add_open_file(&mut tar, &mut files, &rel, &source, file)?;
    }

    let manifest = Manifest {
        format: FORMAT.into(),
        created_at: writ_model::Timestamp::now().to_string(),
        log_size,
        checkpoint,
        files,
    };
    let text = serde_json::to_vec_pretty(&manifest)?;
    append(&mut tar, MANIFEST, &text)?;
    let mut writer = tar.into_inner().context("cannot finish the tar file")?;
    writer.flush()?;
    let file = writer
        .into_inner()
        .map_err(|e| anyhow::anyhow!("cannot write the tar file: {}", e.error()))?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&partial, &args.out)
        .with_context(|| format!("cannot write `{}`", args.out.display()))?;
    let bytes: u64 = manifest.files.iter().map(|f| f.size).sum();
    eprintln!(
        "backup: {} files, {bytes} bytes, log size {}, written to `{}`",
        manifest.files.len(),
        manifest.log_size,
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Copies the database with `VACUUM INTO` (one read transaction, so the
/// copy is consistent while the server writes) and reads the log
/// checkpoint from the copy.
async fn snapshot_database(db: &Path, snapshot: &Path) -> anyhow::Result<(u64, Option<String>)> {
    let url = format!("sqlite://{}", db.display());
    let mut live = SqliteConnectOptions::from_str(&url)?
        .create_if_missing(false)
        .busy_timeout(std::time::Duration::from_secs(30))
        .connect()
        .await
        .with_context(|| format!("cannot open `{}`", db.display()))?;
    let target = snapshot
        .to_str()
        .context("the backup's folder is not UTF-8")?;
    sqlx::query("VACUUM INTO $1")
        .bind(target)
        .execute(&mut live)
        .await
        .context("VACUUM INTO")?;
    sqlx::Connection::close(live).await?;
    // The copy in rollback-journal mode: one file, nothing beside it.
    let mut copy = SqliteConnectOptions::new()
        .filename(snapshot)
        .journal_mode(SqliteJournalMode::Delete)
        .connect()
        .await?;
    let has_log: Option<(String,)> = sqlx::query_as(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'tlog_checkpoint'",
    )
    .fetch_optional(&mut copy)
    .await?;
    let row: Option<(i64, String)> = if has_log.is_some() {
        sqlx::query_as("SELECT size, note FROM tlog_checkpoint WHERE id = 1")
            .fetch_optional(&mut copy)
            .await?
    } else {
        None
    };
    sqlx::Connection::close(copy).await?;
    Ok(match row {
        Some((size, note)) => (u64::try_from(size)?, Some(note)),
        None => (0, None),
    })
}

/// Whether a file is one the server writes under a temporary name before
/// renaming it into place (`.<name>.tmp`, `.writ-seal-<random>.partial`).
/// The object store's are `<name>.tmp-<16 hex digits>`.
fn is_temporary(rel: &str) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    let hidden = name.starts_with('.') && (name.ends_with(".tmp") || name.ends_with(".partial"));
    let object = name
        .rsplit_once(".tmp-")
        .is_some_and(|(_, tail)| tail.len() == 16 && tail.bytes().all(|b| b.is_ascii_hexdigit()));
    hidden || object
}

/// Relative paths of the files under `root/rel`, sorted, minus `skip`.
fn walk(root: &Path, rel: &str, skip: &dyn Fn(&str) -> bool) -> anyhow::Result<Vec<String>> {
    let dir = root.join(rel);
    let mut out = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .with_context(|| format!("cannot read `{}`", dir.display()))?
        .collect::<Result<_, _>>()?;
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for e in entries {
        let name = e.file_name();
        let name = name
            .to_str()
            .with_context(|| format!("`{}`: name is not UTF-8", e.path().display()))?;
        let child = if rel.is_empty() {
            name.to_owned()
        } else {
            format!("{rel}/{name}")
        };
        if skip(&child) {
            continue;
        }
        let kind = e.file_type()?;
        if kind.is_dir() {
            out.extend(walk(root, &child, skip)?);
        } else if kind.is_file() {
            out.push(child);
        }
    }
    Ok(out)
}

type Tar = tar::Builder<std::io::BufWriter<std::fs::File>>;

fn header(size: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_size(size);
    h.set_mode(0o600);
    h.set_entry_type(tar::EntryType::Regular);
    h.set_mtime(0);
    h
}

fn append(tar: &mut Tar, path: &str, bytes: &[u8]) -> anyhow::Result<()> {
    let mut h = header(bytes.len() as u64);
    tar.append_data(&mut h, path, bytes)
        .with_context(|| format!("cannot add `{path}`"))
}

fn add_bytes(
    tar: &mut Tar,
    files: &mut Vec<FileEntry>,
    path: &str,
    bytes: &[u8],
) -> anyhow::Result<()> {
    append(tar, path, bytes)?;
    files.push(FileEntry {
        path: path.to_owned(),
        size: bytes.len() as u64,
        sha256: hex::encode(Sha256::digest(bytes)),
    });
    Ok(())
}

/// A reader that hashes what passes through it.
struct Hashing<R> {
    inner: R,
    hasher: Sha256,
    len: u64,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }
}

fn add_file(
    tar: &mut Tar,
    files: &mut Vec<FileEntry>,
    path: &str,
    source: &Path,
) -> anyhow::Result<()> {
    let file = std::fs::File::open(source)
        .with_context(|| format!("cannot read `{}`", source.display()))?;
    add_open_file(tar, files, path, source, file)
}

/// [`add_file`], of a file already open.
fn add_open_file(
    tar: &mut Tar,
    files: &mut Vec<FileEntry>,
    path: &str,
    source: &Path,
    file: std::fs::File,
) -> anyhow::Result<()> {
    let size = file.metadata()?.len();
    let mut reader = Hashing {
        inner: file.take(size),
        hasher: Sha256::new(),
        len: 0,
    };
    let mut h = header(size);
    tar.append_data(&mut h, path, &mut reader)
        .with_context(|| format!("cannot add `{}`", source.display()))?;
    if reader.len != size {
        bail!("`{}` shrank while being copied", source.display());
    }
    files.push(FileEntry {
        path: path.to_owned(),
        size,
        sha256: hex::encode(reader.hasher.finalize()),
    });
    Ok(())
}

pub fn restore(args: RestoreArgs) -> anyhow::Result<ExitCode> {
    let target = &args.data;
    if target.exists() {
        let mut entries = std::fs::read_dir(target)
            .map_err(|e| BadInput(format!("--data `{}`: {e}", target.display())))?;
        if entries.next().is_some() {
            return Err(BadInput(format!(
                "--data `{}` is not empty: restore only into a new folder",
                target.display()
            ))
            .into());
        }
    }
    let file = std::fs::File::open(&args.from)
        .map_err(|e| BadInput(format!("--from `{}`: {e}", args.from.display())))?;
    std::fs::create_dir_all(target)
        .with_context(|| format!("cannot create `{}`", target.display()))?;
    match unpack(file, target) {
        Ok(manifest) => {
            eprintln!(
                "restored {} files (log size {}, backup of {}) into `{}`; every file \
                 matches the manifest",
                manifest.files.len(),
                manifest.log_size,
                manifest.created_at,
                target.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            // Nothing half-restored is left to be mistaken for a data folder.
            if let Ok(entries) = std::fs::read_dir(target) {
                for e in entries.flatten() {
                    let p = e.path();
                    let _ = if p.is_dir() {
                        std::fs::remove_dir_all(&p)
                    } else {
                        std::fs::remove_file(&p)
                    };
                }
            }
            eprintln!(
                "error: `{}`: {}",
                args.from.display(),
                crate::input::message(&e)
            );
            eprintln!("nothing was restored");
            Ok(ExitCode::from(1))
        }
    }
}

/// Unpacks the archive into `target`, hashing every file, and checks the
/// result against the manifest.
fn unpack(file: std::fs::File, target: &Path) -> anyhow::Result<Manifest> {
    let mut archive = tar::Archive::new(std::io::BufReader::new(file));
    let mut seen: BTreeMap<String, (u64, String)> = BTreeMap::new();
    let mut manifest: Option<Manifest> = None;
    for entry in archive.entries().context("not a tar file")? {
        let mut entry = entry.context("the tar file is damaged")?;
        let path = entry.path()?.to_str().map(str::to_owned);
        let Some(path) = path else {
            bail!("an entry's name is not UTF-8");
        };
        if manifest.is_some() {
            bail!("`{path}` follows the manifest");
        }
        if path == MANIFEST {
            let mut text = Vec::new();
            entry.read_to_end(&mut text)?;
            let m: Manifest =
                serde_json::from_slice(&text).context("the manifest is not valid JSON")?;
            if m.format != FORMAT {
                bail!("unknown backup format `{}` (expected {FORMAT})", m.format);
            }
            manifest = Some(m);
            continue;
        }
        if !writ_objects::valid_stored_path(&path) {
            bail!("refusing the entry `{path}`: not a plain relative path");
        }
        if entry.header().entry_type() != tar::EntryType::Regular {
            bail!("refusing the entry `{path}`: not a regular file");
        }
        let dest = target.join(&path);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut out = std::fs::File::create(&dest)
            .with_context(|| format!("cannot create `{}`", dest.display()))?;
        let mut hasher = Sha256::new();
        let mut len = 0u64;
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = entry.read(&mut buf)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            out.write_all(&buf[..n])?;
            len += n as u64;
        }
        out.sync_all()?;
        if seen
            .insert(path.clone(), (len, hex::encode(hasher.finalize())))
            .is_some()
        {
            bail!("`{path}` appears twice");
        }
    }
    let manifest = manifest.context("the manifest is missing: an incomplete backup")?;
    let listed: BTreeMap<String, (u64, String)> = manifest
        .files
        .iter()
        .map(|f| (f.path.clone(), (f.size, f.sha256.clone())))
        .collect();
    for (path, (size, sha)) in &listed {
        match seen.get(path) {
            None => bail!("`{path}` is in the manifest but not in the archive"),
            Some((s, h)) if s != size || h != sha => {
                bail!("`{path}` does not match the manifest (size {s}, SHA-256 {h})")
            }
            Some(_) => {}
        }
    }
    if let Some(extra) = seen.keys().find(|p| !listed.contains_key(*p)) {
        bail!("`{extra}` is in the archive but not in the manifest");
    }
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::is_temporary;

    #[test]
    fn temporary_names_are_those_the_server_renames() {
        for name in [
            "demo/outbox/.n-1-acct.eml.tmp",
            "objects/packages/.writ-seal-x5JNYQ.partial",
            "objects/packages/c-0123456789abcdef.age.tmp-0123456789abcdef",
        ] {
            assert!(is_temporary(name), "{name}");
        }
        for name in [
            "demo/outbox/n-1-acct.eml",
            "objects/packages/c-0123456789abcdef.age",
            "notes.tmp",
            "objects/packages/c-1.age.tmp-xyz",
            "demo/agencies/us-fbi-wfo/age-identity.txt",
        ] {
            assert!(!is_temporary(name), "{name}");
        }
    }
}
