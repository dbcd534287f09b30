//! Signing and verifying reports against a log written to a folder, laid
//! out as c2sp.org/tlog-tiles and read through writ-tlog's `DirFetch`.

use std::path::Path;

use writ_report::{Period, Report, ReportError, compute, verify};
use writ_tlog::builder::TreeBuilder;
use writ_tlog::verify::DirFetch;
use writ_tlog::{Checkpoint, NoteSigner};

use crate::{restricted, small_log};

const SEED: [u8; 32] = [7; 32];

fn signer() -> NoteSigner {
    NoteSigner::new("writ.example/log", &SEED).unwrap()
}

/// Writes the tiles, bundles and signed checkpoint of `entries`.
fn write_log(dir: &Path, entries: &[Vec<u8>]) -> Checkpoint {
    let mut builder = TreeBuilder::new();
    let mut put = |id: writ_tlog::tiles::TileId, data: Vec<u8>| {
        let path = dir.join(id.path());
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, data).unwrap();
    };
    builder
        .push(entries.iter().map(Vec::as_slice), &mut put)
        .unwrap();
    for (id, data) in builder.partials(0) {
        put(id, data);
    }
    let cp = Checkpoint::new("writ.example/log", builder.size(), builder.root());
    std::fs::write(
        dir.join("checkpoint"),
        signer().sign(&cp.to_text()).unwrap(),
    )
    .unwrap();
    cp
}

fn log_entries() -> Vec<Vec<u8>> {
    let mut log = small_log();
    log.extend(restricted("letter", "2026-H2", 500));
    log
}

fn signed_report(dir: &Path, entries: &[Vec<u8>]) -> Report {
    let cp = write_log(dir, entries);
    compute(
        &DirFetch(dir.to_path_buf()),
        &cp,
        cp.size,
        Period::parse("2026-H2").unwrap(),
        &mut |_| {},
    )
    .unwrap()
    .sign(&signer())
    .unwrap()
}

fn check(report: &Report, dir: &Path) -> Result<writ_report::Accepted, ReportError> {
    verify(
        report,
        &DirFetch(dir.to_path_buf()),
        &signer().verifier(),
        &mut |_, _, _| {},
    )
}

#[test]
fn a_report_verifies_now_and_after_the_log_grows() {
    let dir = tempfile::tempdir().unwrap();
    let entries = log_entries();
    let report = signed_report(dir.path(), &entries);
    assert_eq!(report.checkpoint.size, 535);
    assert_eq!(report.figures.totals.requests, 9);
    let accepted = check(&report, dir.path()).unwrap();
    assert_eq!(accepted.size, 535);

    // The log grows: the old report covers a prefix and still verifies.
    let mut more = entries.clone();
    more.extend(restricted("selector", "2026-H2", 500));
    write_log(dir.path(), &more);
    let accepted = check(&report, dir.path()).unwrap();
    assert_eq!((accepted.size, accepted.log.size), (535, 1035));
}

#[test]
fn a_tampered_figure_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let report = signed_report(dir.path(), &log_entries());

    // Changed without re-signing: the signature fails.
    let mut forged = report.clone();
    forged.figures.totals.outcomes.rejected -= 1;
    assert!(matches!(
        check(&forged, dir.path()),
        Err(ReportError::BadSignature)
    ));

    // Changed and re-signed with the log key (an operator who lies): the
    // recomputation names the figure.
    let lie = forged.sign(&signer()).unwrap();
    let err = check(&lie, dir.path()).unwrap_err();
    assert!(
        err.to_string()
            .contains("figure `figures.totals.outcomes.rejected` is 3 in the report but 4"),
        "{err}"
    );
}

#[test]
fn a_report_signed_by_another_key_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let report = signed_report(dir.path(), &log_entries());
    let other = NoteSigner::new("writ.example/log", &[9; 32]).unwrap();
    let resigned = report.sign(&other).unwrap();
    assert!(matches!(
        check(&resigned, dir.path()),
        Err(ReportError::BadSignature)
    ));
}

#[test]
fn a_tampered_log_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let report = signed_report(dir.path(), &log_entries());
    // Flip one byte of the first entry bundle: a received entry becomes
    // another one, and the tiles no longer match.
    let bundle = dir.path().join("tile/entries/000");
    let mut bytes = std::fs::read(&bundle).unwrap();
    let at = bytes.windows(8).position(|w| w == b"subpoena").unwrap();
    bytes[at] = b'S';
    std::fs::write(&bundle, bytes).unwrap();
    let err = check(&report, dir.path()).unwrap_err();
    assert!(matches!(err, ReportError::Log(_)), "{err}");
}

#[test]
fn a_report_of_another_log_is_not_a_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let report = signed_report(dir.path(), &log_entries());
    // The same figures over a different history: a log rewritten with the
    // same entries in another order, signed with the same key.
    let other = tempfile::tempdir().unwrap();
    let mut entries = log_entries();
    entries.swap(0, 1);
    write_log(other.path(), &entries);
    let err = check(&report, other.path()).unwrap_err();
    assert!(err.to_string().contains("not a prefix"), "{err}");
}
