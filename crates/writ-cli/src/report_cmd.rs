//! `writ report`: transparency reports computed from the log's public
//! fields, signed with the log key; `writ report verify` recomputes one from
//! the public log (`docs/http.md`, `docs/formats.md` "Transparency report").

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand, ValueEnum};
use writ_report::render::{self, Form};
use writ_report::{Period, Report, ReportError};
use writ_tlog::trusted::{SqliteStore, TrustedStore as _};
use writ_tlog::verify::{DirFetch, Fetch};
use writ_tlog::{Checkpoint, NoteSigner, NoteVerifier};

use crate::input::BadInput;
use crate::log_cmd::UrlFetch;

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct ReportArgs {
    #[command(subcommand)]
    pub command: Option<ReportCommand>,
    /// A data folder: compute the report from its log and sign it with its key.
    #[arg(long, required_unless_present = "url", conflicts_with = "url")]
    pub data: Option<PathBuf>,
    /// A server's log prefix (`http://HOST/log`): fetch its signed report.
    #[arg(long)]
    pub url: Option<String>,
    /// The half-year, for example `2026-H2` (default: the current one).
    #[arg(long)]
    pub period: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub format: Format,
    /// Write here instead of standard output (the CSV form also writes the
    /// JSON form to `FILE.json`).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The log key file, when the server keeps it outside the case store.
    #[arg(long)]
    pub log_key: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum ReportCommand {
    /// Check a report (JSON, CSV with its `.json`, or HTML) against the
    /// public log: signature, checkpoint, and every figure recomputed.
    Verify(VerifyArgs),
}

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// The report file.
    pub report: PathBuf,
    /// The log's URL prefix, for example `http://127.0.0.1:8080/log`.
    #[arg(long, required_unless_present = "dir", conflicts_with = "dir")]
    pub url: Option<String>,
    /// A local copy of the prefix (`DIR/checkpoint`, `DIR/tile/...`).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// The log's verifier key text (`origin+hash+base64`).
    #[arg(long)]
    pub vkey: String,
    #[command(flatten)]
    pub witnesses: crate::log_cmd::WitnessArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Csv,
    Json,
    Html,
}

pub fn run(args: ReportArgs) -> anyhow::Result<ExitCode> {
    if let Some(ReportCommand::Verify(v)) = args.command {
        return verify(v);
    }
    // The current half-year when no period is given, as the server does.
    let period = match args.period.as_deref() {
        Some(p) => Period::parse(p).map_err(|e| BadInput(format!("--period: {e}")))?,
        None => Period::of(&writ_model::Timestamp::now().to_string())
            .map_err(|e| BadInput(format!("the current period: {e}")))?,
    };
    let report = match (&args.data, &args.url) {
        (Some(data), None) => {
            let key = args.log_key.as_deref().map(read_log_key).transpose()?;
            local_report(data, period, key.as_ref())?
        }
        (None, Some(url)) => fetch_report(url, period)?,
        _ => return Err(BadInput("give exactly one of --data and --url".into()).into()),
    };
    write(&report, args.format, args.out.as_deref())?;
    Ok(ExitCode::SUCCESS)
}

fn read_log_key(path: &Path) -> anyhow::Result<writ_tlog::LogKey> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| BadInput(format!("--log-key {}: {e}", path.display())))?;
    writ_tlog::LogKey::parse(&text).ok_or_else(|| {
        BadInput(format!(
            "--log-key {}: not a log key file (`writ-log-key-v1 <base64>`)",
            path.display()
        ))
        .into()
    })
}

/// The log key and latest signed checkpoint of a data folder.
pub(crate) fn local_log(
    data: &Path,
    key: Option<&writ_tlog::LogKey>,
) -> anyhow::Result<(NoteSigner, Checkpoint)> {
    let db = writ_tlog::database_path(data);
    if !db.exists() {
        return Err(BadInput(format!(
            "no log in `{}`: `{}` is missing",
            data.display(),
            db.display()
        ))
        .into());
    }
    crate::client::runtime()?.block_on(async {
        let store = SqliteStore::open(&db).await?;
        let identity = store
            .identity()
            .await?
            .with_context(|| format!("no log key in `{}`", db.display()))?;
        if key.is_some() {
            // A key file must be the log's own.
            writ_tlog::identity(&store, None, key).await?;
        }
        let signer = NoteSigner::new(&identity.origin, &identity.seed)?;
        let stored = store
            .checkpoint()
            .await?
            .with_context(|| format!("no checkpoint in `{}`", db.display()))?;
        let checkpoint = signer.verifier().open_checkpoint(&stored.note)?;
        anyhow::Ok((signer, checkpoint))
    })
}

/// Computes and signs a data folder's report at its latest checkpoint.
pub(crate) fn local_report(
    data: &Path,
    period: Period,
    key: Option<&writ_tlog::LogKey>,
) -> anyhow::Result<Report> {
    let (signer, checkpoint) = local_log(data, key)?;
    let fetch = DirFetch(writ_tlog::objects_dir(data));
    let bar = progress_bar(checkpoint.size);
    let report = writ_report::compute(&fetch, &checkpoint, checkpoint.size, period, &mut |n| {
        if n % (1 << 16) < 256 || n == checkpoint.size {
            bar.set_position(n);
        }
    });
    bar.finish_and_clear();
    Ok(report?.sign(&signer)?)
}

fn progress_bar(len: u64) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(len);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} entries ({per_sec}, {eta})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar
}

/// The server's signed report: `GET /transparency.json?period=P` beside the
/// log's prefix.
fn fetch_report(url: &str, period: Period) -> anyhow::Result<Report> {
    let base = url.trim_end_matches('/');
    let base = base.strip_suffix("/log").unwrap_or(base);
    let target = format!("{base}/transparency.json?period={period}");
    let body = ureq::Agent::new_with_defaults()
        .get(&target)
        .call()
        .with_context(|| format!("GET {target}"))?
        .body_mut()
        .with_config()
        .limit(256 * 1024 * 1024)
        .read_to_string()
        .with_context(|| format!("GET {target}"))?;
    render::from_json(&body).with_context(|| format!("GET {target}"))
}

fn write(report: &Report, format: Format, out: Option<&Path>) -> anyhow::Result<()> {
    let text = match format {
        Format::Json => report.to_json()?,
        Format::Csv => render::to_csv(report)?,
        Format::Html => render::to_html(report)?,
    };
    match out {
        None => print!("{text}"),
        Some(path) => {
            std::fs::write(path, &text)
                .with_context(|| format!("cannot write `{}`", path.display()))?;
            if format == Format::Csv {
                let json = json_beside(path);
                std::fs::write(&json, report.to_json()?)
                    .with_context(|| format!("cannot write `{}`", json.display()))?;
            }
        }
    }
    Ok(())
}

/// `FILE.json` beside a CSV file.
fn json_beside(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".json");
    PathBuf::from(name)
}

/// Reads a report in any of its forms; a CSV must be the rendering of the
/// JSON beside it.
fn read_report(path: &Path) -> anyhow::Result<Result<Report, ReportError>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| BadInput(format!("{}: cannot read: {e}", path.display())))?;
    Ok(match Form::detect(&text) {
        Form::Json => render::from_json(&text),
        Form::Html => render::from_html(&text),
        Form::Csv => {
            let json = json_beside(path);
            let json_text = std::fs::read_to_string(&json).map_err(|e| {
                BadInput(format!(
                    "{}: a CSV report is checked with its JSON form `{}`: {e}",
                    path.display(),
                    json.display()
                ))
            })?;
            render::from_json(&json_text).and_then(|r| render::check_csv(&text, &r).map(|()| r))
        }
    })
}

fn verify(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let vkey = NoteVerifier::parse(&args.vkey).map_err(|e| BadInput(format!("--vkey: {e}")))?;
    let fetch: Box<dyn Fetch> = match (args.url, args.dir) {
        (Some(url), None) => Box::new(UrlFetch {
            prefix: url.trim_end_matches('/').to_owned(),
            agent: ureq::Agent::new_with_defaults(),
        }),
        (None, Some(dir)) => {
            if !dir.is_dir() {
                bail!(BadInput(format!(
                    "--dir `{}` is not a folder",
                    dir.display()
                )));
            }
            Box::new(DirFetch(dir))
        }
        _ => bail!(BadInput("give exactly one of --url and --dir".into())),
    };
    let fetch = crate::log_cmd::witnessed(fetch, &vkey, args.witnesses.policy()?);
    let report = match read_report(&args.report)? {
        Ok(r) => r,
        Err(e) => {
            eprintln!("rejected: {}: {e}", args.report.display());
            return Ok(ExitCode::from(1));
        }
    };
    let bar = progress_bar(0);
    let result = writ_report::verify(&report, fetch.as_ref(), &vkey, &mut |stage, done, total| {
        if done % (1 << 16) < 256 || done == total {
            bar.set_message(stage.to_owned());
            bar.set_length(total);
            bar.set_position(done);
        }
    });
    bar.finish_and_clear();
    match result {
        Ok(accepted) => {
            println!(
                "accepted: report {} covers {} entries of {} (log size {}), every figure recomputed",
                report.period, accepted.size, accepted.log.origin, accepted.log.size
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("rejected: {e}");
            Ok(ExitCode::from(1))
        }
    }
}
