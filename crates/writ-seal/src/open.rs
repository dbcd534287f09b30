//! Opening a package: decrypt, unpack, check every file against the manifest.

use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use age::x25519::Identity;
use sha2::{Digest, Sha256};

use crate::SealError;
use crate::hash::hex;
use crate::manifest::{FileEntry, MANIFEST_PATH, Manifest, check_entry_path};

/// A manifest larger than this is refused rather than read into memory.
const MAX_MANIFEST: u64 = 64 * 1024 * 1024;

/// Decrypts the package at `package` with `identity`, checks every file's
/// SHA-256 and record count against the manifest, and unpacks it into
/// `dest`. The files are unpacked into a hidden folder beside `dest` and
/// renamed into place only once everything matched, so `dest` never holds a
/// package that failed its check. An existing `dest` is replaced.
pub fn open(package: &Path, identity: &Identity, dest: &Path) -> Result<Manifest, SealError> {
    let file = File::open(package).map_err(SealError::io("cannot open package", package))?;
    let parent = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    fs::create_dir_all(parent).map_err(SealError::io("cannot create folder", parent))?;
    let staging = tempfile::Builder::new()
        .prefix(".writ-open-")
        .tempdir_in(parent)
        .map_err(SealError::io("cannot create a folder in", parent))?;
    let root = staging.path().to_owned();
    let manifest = read(BufReader::new(file), identity, |path| {
        let target = root.join(path);
        if let Some(dir) = target.parent() {
            fs::create_dir_all(dir).map_err(SealError::io("cannot create folder", dir))?;
        }
        let out = File::create(&target).map_err(SealError::io("cannot create file", &target))?;
        Ok(Box::new(BufWriter::new(out)) as Box<dyn Write>)
    })?;
    if dest.exists() {
        fs::remove_dir_all(dest).map_err(SealError::io("cannot replace folder", dest))?;
    }
    let kept: PathBuf = staging.keep();
    fs::rename(&kept, dest).map_err(SealError::io("cannot move the unpacked package to", dest))?;
    Ok(manifest)
}

/// Decrypts and checks a package without unpacking it.
pub fn verify(package: &Path, identity: &Identity) -> Result<Manifest, SealError> {
    let file = File::open(package).map_err(SealError::io("cannot open package", package))?;
    verify_reader(BufReader::new(file), identity)
}

/// Decrypts and checks a package read from any reader.
pub fn verify_reader(input: impl Read, identity: &Identity) -> Result<Manifest, SealError> {
    read(input, identity, |_| {
        Ok(Box::new(io::sink()) as Box<dyn Write>)
    })
}

fn read(
    input: impl Read,
    identity: &Identity,
    mut sink: impl FnMut(&str) -> Result<Box<dyn Write>, SealError>,
) -> Result<Manifest, SealError> {
    let decryptor = age::Decryptor::new(input)?;
    let plain = decryptor.decrypt(std::iter::once(identity as &dyn age::Identity))?;
    let mut archive = tar::Archive::new(plain);
    let mut manifest: Option<Manifest> = None;
    let mut found: Vec<FileEntry> = Vec::new();
    let entries = archive
        .entries()
        .map_err(SealError::stream("cannot read the package's tar"))?;
    let mut buf = vec![0u8; 256 * 1024];
    for entry in entries {
        let mut entry = entry.map_err(SealError::stream("cannot read the package's tar"))?;
        let path = entry
            .path()
            .map_err(SealError::stream("cannot read an entry's path"))?
            .to_str()
            .map(str::to_owned)
            .ok_or_else(|| SealError::BadPath("a path that is not UTF-8".into()))?;
        check_entry_path(&path)?;
        if entry.header().entry_type() != tar::EntryType::Regular {
            return Err(SealError::BadPath(path));
        }
        if path == MANIFEST_PATH {
            if manifest.is_some() {
                return Err(SealError::Mismatch("two manifests".into()));
            }
            let mut bytes = Vec::new();
            (&mut entry)
                .take(MAX_MANIFEST)
                .read_to_end(&mut bytes)
                .map_err(SealError::stream("cannot read the manifest"))?;
            manifest = Some(serde_json::from_slice(&bytes)?);
            let mut out = sink(&path)?;
            out.write_all(&bytes)
                .and_then(|()| out.flush())
                .map_err(SealError::stream("cannot write the manifest"))?;
            continue;
        }
        if found.iter().any(|f| f.path == path) {
            return Err(SealError::Mismatch(format!("`{path}` appears twice")));
        }
        let mut out = sink(&path)?;
        let mut hasher = Sha256::new();
        let mut records = 0u64;
        loop {
            let n = entry
                .read(&mut buf)
                .map_err(SealError::stream("cannot read a package file"))?;
            let Some(chunk) = buf.get(..n) else { break };
            if n == 0 {
                break;
            }
            hasher.update(chunk);
            records += chunk.iter().filter(|&&b| b == b'\n').count() as u64;
            out.write_all(chunk)
                .map_err(SealError::stream("cannot write an unpacked file"))?;
        }
        out.flush()
            .map_err(SealError::stream("cannot write an unpacked file"))?;
        found.push(FileEntry {
            path,
            sha256: hex(&hasher.finalize()),
            records,
        });
    }
    let manifest = manifest.ok_or_else(|| SealError::Mismatch("no manifest".into()))?;
    manifest.check(&found)?;
    Ok(manifest)
}
