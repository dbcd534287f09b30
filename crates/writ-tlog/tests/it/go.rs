//! Interoperability: Go's reference implementation (golang.org/x/mod/sumdb)
//! verifies a log that Writ wrote. Runs when `WRIT_CI=1` or `go` is on the
//! path; `.ci/tlog-deps.sh` installs the Debian packages it needs.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use serde_json::json;
use writ_tlog::Log;
use writ_tlog::storage::LocalDir;

use crate::common::{entry, fast_config, stores};

fn go_available() -> bool {
    Command::new("go")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn build_verifier(out: &Path) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools/tlog-verify");
    let bin = out.join("tlog-verify");
    let mut cmd = Command::new("go");
    // Go needs a build cache; give it one where the environment has no home.
    if ["GOCACHE", "XDG_CACHE_HOME", "HOME"]
        .iter()
        .all(|v| std::env::var_os(v).is_none())
    {
        cmd.env("GOCACHE", std::env::temp_dir().join("writ-tlog-go-cache"));
    }
    let status = cmd
        .args(["build", "-o"])
        .arg(&bin)
        .arg(".")
        .current_dir(&src)
        .env("GOPATH", "/usr/share/gocode")
        .env("GO111MODULE", "off")
        .env("GOFLAGS", "")
        .status()
        .expect("run go build");
    assert!(status.success(), "go build of tools/tlog-verify failed");
    bin
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn go_reference_verifies_writ_log() {
    let ci = std::env::var("WRIT_CI").is_ok_and(|v| v == "1");
    if !go_available() {
        assert!(!ci, "WRIT_CI=1 but `go` is missing: run .ci/tlog-deps.sh");
        eprintln!("SKIPPED go_reference_verifies_writ_log: `go` not found (set WRIT_CI=1 in CI)");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let bin = build_verifier(tmp.path());
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let objects = Arc::new(LocalDir::new(writ_tlog::objects_dir(&data)).without_fsync());
    let trusted = stores(&data).await.1;
    let log = Log::open(fast_config(), objects, trusted).await.unwrap();

    // Several checkpoints, up to a tree with three tile levels.
    let mut checkpoints = Vec::new();
    let mut i = 0u64;
    for target in [1u64, 2, 255, 256, 257, 1000, 65_536, 66_001] {
        let batch: Vec<Vec<u8>> = (i..target).map(entry).collect();
        i = target;
        log.append_batch(batch).await.unwrap();
        checkpoints.push(log.publish_now().await.unwrap().checkpoint);
    }
    let size = i;
    let mut inclusion = Vec::new();
    for cp in &checkpoints {
        for index in [0, cp.size / 2, cp.size - 1] {
            let proof = log.inclusion_proof(index, cp.size).await.unwrap();
            inclusion.push(json!({
                "index": index, "size": cp.size,
                "leaf_hash": writ_tlog::hash::leaf_hash(&entry(index)).to_base64(),
                "root": cp.root.to_base64(),
                "proof": proof.iter().map(|h| h.to_base64()).collect::<Vec<_>>(),
            }));
        }
    }
    let mut consistency = Vec::new();
    for old in &checkpoints {
        for new in checkpoints.iter().filter(|n| n.size >= old.size) {
            let proof = log.consistency_proof(old.size, new.size).await.unwrap();
            consistency.push(json!({
                "old": old.size, "new": new.size,
                "old_root": old.root.to_base64(), "new_root": new.root.to_base64(),
                "proof": proof.iter().map(|h| h.to_base64()).collect::<Vec<_>>(),
            }));
        }
    }
    let proofs = tmp.path().join("proofs.json");
    std::fs::write(
        &proofs,
        json!({"inclusion": inclusion, "consistency": consistency}).to_string(),
    )
    .unwrap();
    let vkey = log.vkey().to_string();
    drop(log);

    let dir = writ_tlog::objects_dir(&data);
    let run = || {
        Command::new(&bin)
            .arg("-dir")
            .arg(&dir)
            .arg("-vkey")
            .arg(&vkey)
            .arg("-proofs")
            .arg(&proofs)
            .output()
            .unwrap()
    };
    let out = run();
    assert!(
        out.status.success(),
        "Go verifier failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(&format!("size {size}")), "{stdout}");

    // Tampered tiles and bundles fail.
    for path in [
        "tile/0/000",
        "tile/1/000",
        "tile/entries/100",
        "tile/0/257.p/209",
    ] {
        let file = dir.join(path);
        let original = std::fs::read(&file).unwrap();
        let mut bad = original.clone();
        bad[17] ^= 0x40;
        std::fs::write(&file, &bad).unwrap();
        let out = run();
        assert!(
            !out.status.success(),
            "Go verifier accepted tampered {path}"
        );
        std::fs::write(&file, &original).unwrap();
    }
    // A proof Writ did not make fails.
    let mut doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&proofs).unwrap()).unwrap();
    doc["inclusion"][18]["index"] = json!(1);
    std::fs::write(&proofs, doc.to_string()).unwrap();
    assert!(!run().status.success());
}
