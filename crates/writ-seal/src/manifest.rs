//! The manifest and the paths inside a package (`docs/formats.md`, "Package").

use serde::{Deserialize, Serialize};
use writ_model::{Category, Timestamp};

use crate::SealError;

/// The manifest's path at the root of the tar.
pub const MANIFEST_PATH: &str = "manifest.json";

/// What a package says about itself, before its files are known.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageHeader {
    /// The case's public id.
    pub case: String,
    /// SHA-256 (lowercase hex) of the order as received.
    pub order_sha256: String,
    pub created_at: Timestamp,
}

/// One NDJSON file of a package.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    pub path: String,
    /// SHA-256 of the file's bytes, lowercase hex.
    pub sha256: String,
    /// Number of records (lines).
    pub records: u64,
}

/// `manifest.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub case: String,
    pub order_sha256: String,
    pub created_at: Timestamp,
    pub files: Vec<FileEntry>,
}

impl Manifest {
    pub fn new(header: PackageHeader, files: Vec<FileEntry>) -> Self {
        Self {
            case: header.case,
            order_sha256: header.order_sha256,
            created_at: header.created_at,
            files,
        }
    }

    /// The manifest as written into the package: pretty JSON with a final
    /// newline, so that an officer can read it as it is.
    pub fn to_bytes(&self) -> Result<Vec<u8>, SealError> {
        let mut out = serde_json::to_vec_pretty(self)?;
        out.push(b'\n');
        Ok(out)
    }

    /// Compares the files found in a package with this manifest: the same
    /// paths, hashes and record counts, none missing and none extra.
    pub fn check(&self, found: &[FileEntry]) -> Result<(), SealError> {
        let mut want: Vec<&FileEntry> = self.files.iter().collect();
        let mut got: Vec<&FileEntry> = found.iter().collect();
        want.sort_by(|a, b| a.path.cmp(&b.path));
        got.sort_by(|a, b| a.path.cmp(&b.path));
        for w in &want {
            match got.iter().find(|g| g.path == w.path) {
                None => return Err(SealError::Mismatch(format!("`{}` is missing", w.path))),
                Some(g) if g.sha256 != w.sha256 => {
                    return Err(SealError::Mismatch(format!(
                        "`{}` has SHA-256 {} where the manifest says {}",
                        w.path, g.sha256, w.sha256
                    )));
                }
                Some(g) if g.records != w.records => {
                    return Err(SealError::Mismatch(format!(
                        "`{}` has {} records where the manifest says {}",
                        w.path, g.records, w.records
                    )));
                }
                Some(_) => {}
            }
        }
        if let Some(extra) = got.iter().find(|g| !want.iter().any(|w| w.path == g.path)) {
            return Err(SealError::Mismatch(format!(
                "`{}` is not in the manifest",
                extra.path
            )));
        }
        Ok(())
    }
}

/// The path of a pair's file, `<account>/<category>.ndjson`.
///
/// The account id becomes a directory name, so it must be one safe path
/// component: no separator, no `.` or `..`, no control character. An account
/// id that is not refuses to be sealed rather than be rewritten, so that the
/// path always names the account exactly.
pub fn file_path(account: &str, category: Category) -> Result<String, SealError> {
    if !is_safe_component(account) {
        return Err(SealError::BadPath(account.to_owned()));
    }
    Ok(format!("{account}/{}.ndjson", category.as_str()))
}

fn is_safe_component(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 255
        && s != "."
        && s != ".."
        && !s.chars().any(|c| c == '/' || c == '\\' || c.is_control())
}

/// A path read from a package is either the manifest or `<component>/<file>`
/// with safe components; anything else (absolute, `..`, deeper) is refused
/// before it can touch the file system.
pub(crate) fn check_entry_path(path: &str) -> Result<(), SealError> {
    if path == MANIFEST_PATH {
        return Ok(());
    }
    let mut parts = path.split('/');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(a), Some(f), None) if is_safe_component(a) && is_safe_component(f) => Ok(()),
        _ => Err(SealError::BadPath(path.to_owned())),
    }
}
