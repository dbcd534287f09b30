//! `writ bench seal`: seal generated demo accounts and compare throughput
//! with the `age` CLI on the same bytes, in the same run.
//!
//! Each size runs in a child process (`writ bench seal-child`, hidden), so
//! that the peak RSS it reports (`VmHWM`) is the sealing's alone. The child
//! generates the demo account (`bulk-<bytes>`), spools every category
//! through scope enforcement, then seals the spools. The parent decrypts the
//! package to its plaintext tar and times `age -r RECIPIENT -o OUT IN` on
//! that tar: the same bytes. Two ratios are reported: sealing alone (spool
//! files to age file, what `age` itself does from a file) and the whole
//! collection (generation included).

use std::fs;
use std::io::{BufReader, BufWriter};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args;
use serde::{Deserialize, Serialize};
use writ_connect::Scope;
use writ_connect::demo::{DemoData, bulk_account, parse_size};
use writ_model::{Category, Timestamp};
use writ_seal::{Identity, PackageHeader, PackageWriter, Recipient, Spool, file_path};

use crate::input::BadInput;

/// Each side is timed this many times and its best run kept.
const RUNS: usize = 3;

#[derive(Args, Debug)]
pub struct SealArgs {
    /// Account size to seal (`200MB`, `1GiB`, `5GiB`); repeat for several.
    #[arg(long = "size", required = true)]
    sizes: Vec<String>,
    /// Folder for the temporary files (default: the system's temporary folder).
    #[arg(long)]
    work: Option<PathBuf>,
    /// Print the results as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
pub struct ChildArgs {
    #[arg(long)]
    account: String,
    #[arg(long)]
    recipient: String,
    #[arg(long)]
    work: PathBuf,
}

/// What the child measured.
#[derive(Serialize, Deserialize)]
struct ChildReport {
    spool_seconds: f64,
    /// `writ_connect::collect` end to end (spooling and sealing overlapped,
    /// the package synced and renamed), best of [`RUNS`].
    collect_seconds: f64,
    /// Sealing up to the last byte written, before the final fsync.
    encrypt_seconds: f64,
    /// Sealing including the manifest, fsync and rename.
    seal_seconds: f64,
    spooled_bytes: u64,
    package_bytes: u64,
    package_sha256: String,
    peak_rss_kib: u64,
}

#[derive(Serialize)]
struct SizeReport {
    size: String,
    plaintext_bytes: u64,
    package_bytes: u64,
    /// Spool files to a synced, renamed package.
    seal_mb_s: f64,
    /// The same up to the last byte written (no fsync), like `age`.
    seal_unsynced_mb_s: f64,
    /// `writ_connect::collect`: generation, scope checks and spooling
    /// included, overlapped with sealing.
    collect_and_seal_mb_s: f64,
    age_cli_mb_s: f64,
    /// `age -r` followed by an fsync of its output.
    age_cli_synced_mb_s: f64,
    /// Synced against synced.
    ratio_seal: f64,
    /// Unsynced against unsynced.
    ratio_seal_unsynced: f64,
    /// Collect + seal against seal alone (synced).
    ratio_collect_and_seal: f64,
    peak_rss_mib: f64,
}

pub fn run(args: SealArgs) -> Result<ExitCode> {
    let mut reports = Vec::new();
    for size in &args.sizes {
        let bytes = parse_size(size).ok_or_else(|| {
            BadInput(format!(
                "invalid size `{size}`: expected for example 200MB or 1GiB"
            ))
        })?;
        let base = args.work.clone().unwrap_or_else(std::env::temp_dir);
        let work = tempfile::Builder::new()
            .prefix("writ-bench-seal-")
            .tempdir_in(&base)
            .with_context(|| format!("cannot create a folder in `{}`", base.display()))?;
        eprintln!("sealing a {size} demo account...");
        reports.push(one(size, bytes, work.path())?);
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
    } else {
        for r in &reports {
            println!(
                "size {} ({:.1} MB of plaintext, package {:.1} MB)",
                r.size,
                r.plaintext_bytes as f64 / 1e6,
                r.package_bytes as f64 / 1e6
            );
            println!(
                "  writ seal, synced:     {:>7.0} MB/s   age -r + fsync: {:>7.0} MB/s   ratio {:.2}",
                r.seal_mb_s, r.age_cli_synced_mb_s, r.ratio_seal
            );
            println!(
                "  writ seal, no fsync:   {:>7.0} MB/s   age -r:         {:>7.0} MB/s   ratio {:.2}",
                r.seal_unsynced_mb_s, r.age_cli_mb_s, r.ratio_seal_unsynced
            );
            println!(
                "  collect + seal:        {:>7.0} MB/s   (generation, scope, spooling included; ratio to seal {:.2})",
                r.collect_and_seal_mb_s, r.ratio_collect_and_seal
            );
            println!("  peak RSS:              {:>7.1} MiB", r.peak_rss_mib);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn one(size: &str, bytes: u64, work: &Path) -> Result<SizeReport> {
    let identity = Identity::generate();
    let recipient = identity.to_public().to_string();
    let exe = std::env::current_exe().context("cannot find the `writ` executable")?;
    let output = Command::new(exe)
        .args([
            "bench",
            "seal-child",
            "--account",
            &bulk_account(bytes),
            "--recipient",
            &recipient,
        ])
        .arg("--work")
        .arg(work)
        .output()
        .context("cannot run the sealing child process")?;
    if !output.status.success() {
        bail!(
            "the sealing child process failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let child: ChildReport =
        serde_json::from_slice(&output.stdout).context("cannot read the child's report")?;

    // The same bytes for `age`: the package's plaintext tar.
    let package = work.join("package.age");
    let plain = work.join("plain.tar");
    {
        let input = BufReader::new(fs::File::open(&package)?);
        let mut reader = age::Decryptor::new_buffered(input)?
            .decrypt(std::iter::once(&identity as &dyn age::Identity))?;
        let mut out = BufWriter::with_capacity(1 << 20, fs::File::create(&plain)?);
        std::io::copy(&mut reader, &mut out)?;
        out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    }
    fs::remove_file(&package)?;
    let plaintext_bytes = fs::metadata(&plain)?.len();
    let cli_out = work.join("cli.age");
    let mut age_seconds = f64::MAX;
    let mut age_synced_seconds = f64::MAX;
    for _ in 0..RUNS {
        let started = Instant::now();
        let status = Command::new("age")
            .arg("-r")
            .arg(&recipient)
            .arg("-o")
            .arg(&cli_out)
            .arg(&plain)
            .status()
            .context("cannot run `age` (install it: apt-get install -y age)")?;
        age_seconds = age_seconds.min(started.elapsed().as_secs_f64());
        if !status.success() {
            bail!("`age -r` failed");
        }
        // Writ syncs a package before it is visible; the same for `age`'s
        // output gives the like-for-like figure.
        fs::File::open(&cli_out)?.sync_all()?;
        age_synced_seconds = age_synced_seconds.min(started.elapsed().as_secs_f64());
        fs::remove_file(&cli_out)?;
    }
    let mb = plaintext_bytes as f64 / 1e6;
    let seal = mb / child.seal_seconds;
    let encrypt = mb / child.encrypt_seconds;
    let whole = mb / child.collect_seconds;
    let age_cli = mb / age_seconds;
    let age_synced = mb / age_synced_seconds;
    Ok(SizeReport {
        size: size.to_owned(),
        plaintext_bytes,
        package_bytes: child.package_bytes,
        seal_mb_s: seal,
        seal_unsynced_mb_s: encrypt,
        collect_and_seal_mb_s: whole,
        age_cli_mb_s: age_cli,
        age_cli_synced_mb_s: age_synced,
        ratio_seal: seal / age_synced,
        ratio_seal_unsynced: encrypt / age_cli,
        ratio_collect_and_seal: whole / seal,
        peak_rss_mib: child.peak_rss_kib as f64 / 1024.0,
    })
}

/// The child: collect every category of the account, seal, report.
pub fn child(args: ChildArgs) -> Result<ExitCode> {
    let recipient: Recipient = args
        .recipient
        .parse()
        .map_err(|e| BadInput(format!("invalid recipient: {e}")))?;
    let scope = Scope::new(
        Category::ALL.iter().map(|c| (args.account.clone(), *c)),
        None,
    );
    let started = Instant::now();
    let mut spools = Vec::new();
    for (i, (account, category)) in scope.pairs().enumerate() {
        let mut spool = Spool::create(&args.work.join(format!("{i}.ndjson")))?;
        for record in scope.records(&DemoData, account, category)? {
            spool.line(record?.data.as_str().as_bytes())?;
        }
        spools.push(spool.finish(file_path(account, category)?)?);
    }
    let spool_seconds = started.elapsed().as_secs_f64();
    // Sealing is measured best of `RUNS`, like `age` in the parent: the
    // machine may be shared, and the best run is the least disturbed.
    let mut encrypt_seconds = f64::MAX;
    let mut seal_seconds = f64::MAX;
    let mut last = None;
    for _ in 0..RUNS {
        let started = Instant::now();
        let header = PackageHeader {
            case: "c-bench".into(),
            order_sha256: "0".repeat(64),
            created_at: Timestamp::now(),
        };
        let mut writer = PackageWriter::create(&args.work.join("package.age"), &recipient, header)?;
        for spooled in &spools {
            writer.append_spooled(spooled)?;
        }
        encrypt_seconds = encrypt_seconds.min(started.elapsed().as_secs_f64());
        last = Some(writer.finish()?);
        seal_seconds = seal_seconds.min(started.elapsed().as_secs_f64());
    }
    let sealed = last.context("no sealing run")?;
    for s in &spools {
        fs::remove_file(&s.spool)?;
    }
    // The whole collection as delivery runs it: generation, scope checks,
    // spooling, and sealing overlapped with them.
    let mut collect_seconds = f64::MAX;
    for _ in 0..RUNS {
        let job = writ_connect::Job {
            header: PackageHeader {
                case: "c-bench".into(),
                order_sha256: "0".repeat(64),
                created_at: Timestamp::now(),
            },
            scope: scope.clone(),
            recipient: recipient.clone(),
            work_dir: args.work.join("collect"),
            dest: args.work.join("collected.age"),
        };
        let started = Instant::now();
        writ_connect::collect(&job, &DemoData)?;
        collect_seconds = collect_seconds.min(started.elapsed().as_secs_f64());
        fs::remove_file(&job.dest)?;
    }
    let report = ChildReport {
        spool_seconds,
        collect_seconds,
        encrypt_seconds,
        seal_seconds,
        spooled_bytes: spools.iter().map(|s| s.size).sum(),
        package_bytes: sealed.size,
        package_sha256: sealed.sha256,
        peak_rss_kib: peak_rss_kib()?,
    };
    println!("{}", serde_json::to_string(&report)?);
    Ok(ExitCode::SUCCESS)
}

/// The peak resident set size of this process (`VmHWM`), in KiB.
pub(crate) fn peak_rss_kib() -> Result<u64> {
    let status =
        fs::read_to_string("/proc/self/status").context("cannot read /proc/self/status")?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no VmHWM in /proc/self/status")
}
