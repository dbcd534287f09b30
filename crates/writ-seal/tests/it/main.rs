//! writ-seal tests: round trips through the crate and Debian's `age` CLI,
//! manifest checks, tampering and path safety.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod age_vectors;

use std::fs;
use std::io::Read;
use std::path::Path;
use std::process::Command;

use serde_json::json;
use writ_model::{Category, Timestamp};
use writ_seal::{
    FileEntry, Identity, PackageHeader, PackageWriter, SealError, Spool, file_path, open,
    seal_spools, verify,
};

fn header() -> PackageHeader {
    PackageHeader {
        case: "c-7f3a9e0b2d4c4e1a".into(),
        order_sha256: "ab".repeat(32),
        created_at: Timestamp::parse("2026-11-28T12:00:00Z").unwrap(),
    }
}

/// Seals two files with a few records each into `dir/case.age`.
fn sample(dir: &Path, identity: &Identity) -> writ_seal::Sealed {
    let mut spools = Vec::new();
    for (i, (account, category, n)) in [
        ("alice", Category::Subscriber, 1u64),
        ("alice", Category::Content, 500),
    ]
    .into_iter()
    .enumerate()
    {
        let mut spool = Spool::create(&dir.join(format!("{i}.spool"))).unwrap();
        for r in 0..n {
            spool
                .record(&json!({"n": r, "text": "line\nbreak é", "account": account}))
                .unwrap();
        }
        spools.push(spool.finish(file_path(account, category).unwrap()).unwrap());
    }
    seal_spools(
        &dir.join("case.age"),
        &identity.to_public(),
        header(),
        &spools,
    )
    .unwrap()
}

fn sha256_file(path: &Path) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    let mut f = fs::File::open(path).unwrap();
    let mut buf = vec![0; 65536];
    loop {
        let n = f.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    writ_seal::hex(&h.finalize())
}

#[test]
fn round_trip_through_the_crate() {
    let dir = tempfile::tempdir().unwrap();
    let identity = Identity::generate();
    let sealed = sample(dir.path(), &identity);
    assert_eq!(sealed.sha256, sha256_file(&sealed.path));
    assert_eq!(sealed.size, fs::metadata(&sealed.path).unwrap().len());
    assert_eq!(sealed.manifest.files.len(), 2);
    assert_eq!(sealed.manifest.files[1].records, 500);

    let manifest = open(&sealed.path, &identity, &dir.path().join("out")).unwrap();
    assert_eq!(manifest, sealed.manifest);
    let content = fs::read_to_string(dir.path().join("out/alice/content.ndjson")).unwrap();
    assert_eq!(content.lines().count(), 500);
    let first: serde_json::Value = serde_json::from_str(content.lines().next().unwrap()).unwrap();
    assert_eq!(first["text"], "line\nbreak é");
    let listed: Vec<String> = fs::read_dir(dir.path().join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(listed, ["alice", "manifest.json"]);
    // No temporary file is left beside the package.
    let leftovers: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn the_wrong_identity_cannot_open_it() {
    let dir = tempfile::tempdir().unwrap();
    let sealed = sample(dir.path(), &Identity::generate());
    let err = verify(&sealed.path, &Identity::generate()).unwrap_err();
    assert!(matches!(err, SealError::Decrypt(_)), "{err}");
}

#[test]
fn an_empty_package_holds_only_the_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let identity = Identity::generate();
    let dest = dir.path().join("empty.age");
    let sealed = PackageWriter::create(&dest, &identity.to_public(), header())
        .unwrap()
        .finish()
        .unwrap();
    assert!(sealed.manifest.files.is_empty());
    assert_eq!(verify(&dest, &identity).unwrap().case, "c-7f3a9e0b2d4c4e1a");
}

#[test]
fn a_dropped_writer_leaves_nothing_visible() {
    let dir = tempfile::tempdir().unwrap();
    let identity = Identity::generate();
    let dest = dir.path().join("case.age");
    {
        let mut writer = PackageWriter::create(&dest, &identity.to_public(), header()).unwrap();
        let entry = FileEntry {
            path: "alice/content.ndjson".into(),
            sha256: "00".repeat(32),
            records: 1,
        };
        writer.append(entry, 3, &b"{}\n"[..]).unwrap();
        // Interrupted here: never finished.
    }
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn a_short_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let identity = Identity::generate();
    let mut writer =
        PackageWriter::create(&dir.path().join("p.age"), &identity.to_public(), header()).unwrap();
    let entry = FileEntry {
        path: "alice/content.ndjson".into(),
        sha256: "00".repeat(32),
        records: 1,
    };
    let err = writer.append(entry, 10, &b"{}\n"[..]).unwrap_err();
    assert!(matches!(err, SealError::Mismatch(_)), "{err}");
}

#[test]
fn a_lying_manifest_is_caught_when_opening() {
    let dir = tempfile::tempdir().unwrap();
    let identity = Identity::generate();
    let dest = dir.path().join("p.age");
    let mut writer = PackageWriter::create(&dest, &identity.to_public(), header()).unwrap();
    let entry = FileEntry {
        path: "alice/content.ndjson".into(),
        sha256: writ_seal::hash::sha256_hex(b"{}\n"),
        records: 2,
    };
    writer.append(entry, 3, &b"{}\n"[..]).unwrap();
    writer.finish().unwrap();
    let err = verify(&dest, &identity).unwrap_err();
    assert!(err.to_string().contains("records"), "{err}");
    // Nothing is unpacked when the check fails.
    assert!(open(&dest, &identity, &dir.path().join("out")).is_err());
    assert!(!dir.path().join("out").exists());
}

#[test]
fn account_ids_must_be_one_safe_path_component() {
    for bad in ["", ".", "..", "a/b", "..\\x", "a\nb"] {
        assert!(file_path(bad, Category::Content).is_err(), "{bad:?}");
    }
    assert_eq!(
        file_path("alice@example.com", Category::Traffic).unwrap(),
        "alice@example.com/traffic.ndjson"
    );
}

#[test]
fn records_with_newlines_are_refused_as_raw_lines() {
    let dir = tempfile::tempdir().unwrap();
    let mut spool = Spool::create(&dir.path().join("s")).unwrap();
    assert!(spool.line(b"{\"a\":\n1}").is_err());
    spool.line(b"{\"a\":1}").unwrap();
    assert_eq!(spool.records(), 1);
}

/// Debian's `age` CLI is the independent check that packages are standard
/// age files. Under `WRIT_CI=1` the CLI is required (`.ci/collect-deps.sh`
/// installs it); elsewhere a test that needs it is skipped when it is
/// missing (`None`).
fn age_cli(test: &str) -> Option<()> {
    let ci = std::env::var_os("WRIT_CI").is_some();
    let present = Command::new("age").arg("--version").output().is_ok();
    if !present {
        assert!(!ci, "WRIT_CI is set but the `age` CLI is not installed");
        eprintln!("SKIPPED {test}: the `age` CLI is not installed");
        return None;
    }
    Some(())
}

#[test]
fn the_age_cli_opens_the_package_and_the_manifest_matches() {
    let Some(()) = age_cli("the_age_cli_opens_the_package_and_the_manifest_matches") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let identity = Identity::generate();
    let sealed = sample(dir.path(), &identity);
    let key = dir.path().join("identity.txt");
    {
        use age::secrecy::ExposeSecret;
        fs::write(&key, format!("{}\n", identity.to_string().expose_secret())).unwrap();
    }
    let tar_path = dir.path().join("plain.tar");
    let status = Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(&key)
        .arg("-o")
        .arg(&tar_path)
        .arg(&sealed.path)
        .status()
        .unwrap();
    assert!(status.success());
    let out = dir.path().join("unpacked");
    fs::create_dir(&out).unwrap();
    let status = Command::new("tar")
        .arg("-xf")
        .arg(&tar_path)
        .arg("-C")
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success());
    let manifest: writ_seal::Manifest =
        serde_json::from_slice(&fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest, sealed.manifest);
    for file in &manifest.files {
        let bytes = fs::read(out.join(&file.path)).unwrap();
        assert_eq!(
            writ_seal::hash::sha256_hex(&bytes),
            file.sha256,
            "{}",
            file.path
        );
        assert_eq!(
            bytes.iter().filter(|&&b| b == b'\n').count() as u64,
            file.records
        );
    }
}

#[test]
fn long_account_ids_use_gnu_long_names_and_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let identity = Identity::generate();
    let account = format!("{}@example.com", "a".repeat(140));
    let mut spool = Spool::create(&dir.path().join("s")).unwrap();
    for n in 0..3 {
        spool.record(&json!({ "n": n })).unwrap();
    }
    let spooled = spool
        .finish(file_path(&account, Category::Subscriber).unwrap())
        .unwrap();
    let sealed = seal_spools(
        &dir.path().join("p.age"),
        &identity.to_public(),
        header(),
        &[spooled],
    )
    .unwrap();
    let out = dir.path().join("out");
    let manifest = open(&sealed.path, &identity, &out).unwrap();
    assert_eq!(manifest.files[0].records, 3);
    let text = fs::read_to_string(out.join(&account).join("subscriber.ndjson")).unwrap();
    assert_eq!(text.lines().count(), 3);
}

/// Writes in pieces of every size around the block boundaries: the hash and
/// the count are those of the bytes, and the inner writer gets them all, in
/// order.
#[test]
fn the_parallel_hashing_writer_hashes_and_writes_every_byte_in_order() {
    use std::io::Write;
    let data: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 + i / 251) as u8).collect();
    for piece in [1, 1000, 4096, 262_143, 262_144, 262_145, 1_000_000] {
        let mut w = writ_seal::ParallelHashingWriter::new(Vec::new()).unwrap();
        for chunk in data.chunks(piece) {
            w.write_all(chunk).unwrap();
        }
        w.flush().unwrap();
        let (inner, sha256, bytes) = w.finish().unwrap();
        assert_eq!(bytes, data.len() as u64, "{piece}");
        assert_eq!(sha256, writ_seal::hash::sha256_hex(&data), "{piece}");
        assert!(inner == data, "{piece}");
    }
}

/// A writer that fails once it has taken `room` bytes.
struct Full {
    room: usize,
}

impl std::io::Write for Full {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.room == 0 {
            return Err(std::io::Error::from_raw_os_error(28)); // ENOSPC
        }
        let n = buf.len().min(self.room);
        self.room -= n;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A failed write on the writing thread is reported with its own error,
/// by a later write or by `finish`, never lost.
#[test]
fn the_parallel_hashing_writer_reports_the_inner_writers_error() {
    use std::io::Write;
    for (room, total) in [(0, 4096), (100, 1 << 20), (300_000, 8 << 20)] {
        let mut w = writ_seal::ParallelHashingWriter::new(Full { room }).unwrap();
        let mut error = None;
        for _ in 0..total / 1024 {
            if let Err(e) = w.write_all(&[7u8; 1024]) {
                error = Some(e);
                break;
            }
        }
        let error = match error {
            Some(e) => e,
            None => w.finish().err().expect("the error is reported"),
        };
        assert_eq!(error.raw_os_error(), Some(28), "{room}: {error}");
    }
}
